package modbus

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// FuzzExchange: whatever bytes a gateway sends back to a pipelined exchange,
// the client never panics, never counts more answers than it asked for, and
// every answer it counts is registers of the requested size or an exception.
func FuzzExchange(f *testing.F) {
	reqs := []request{
		{unit: 1, fn: fnReadHolding, addr: 0x0000, words: 2},
		{unit: 1, fn: fnReadHolding, addr: 0x0100, words: 3},
		{unit: 2, fn: fnWriteSingle, addr: 0x0106, regs: []uint16{1}},
	}
	good := []byte{
		0, 1, 0, 0, 0, 7, 1, 3, 4, 0, 1, 0, 2,
		0, 2, 0, 0, 0, 9, 1, 3, 6, 0, 1, 0, 2, 0, 3,
		0, 3, 0, 0, 0, 6, 2, 6, 1, 6, 0, 1,
	}
	f.Add(good)
	f.Add([]byte{0, 1, 0, 0, 0, 3, 1, 0x83, 2})    // an exception
	f.Add([]byte{0, 9, 0, 0, 0, 3, 1, 0x83, 2})    // a stale transaction id
	f.Add([]byte{0, 1, 0, 0, 0xFF, 0xFF, 1, 3})    // a length beyond any frame
	f.Add([]byte{0, 1, 0, 0, 0, 7, 1, 3, 2, 0, 1}) // a short read
	f.Fuzz(func(t *testing.T, resp []byte) {
		client, gw := net.Pipe()
		defer client.Close()
		go func() {
			go func() { _, _ = io.Copy(io.Discard, gw) }()
			_, _ = gw.Write(resp)
			_ = gw.Close()
		}()
		tr := &tcpTransport{timeout: time.Second}
		tr.c = client
		tr.br = bufio.NewReaderSize(client, 4096)
		answers := make([]answer, len(reqs))
		got, _ := tr.exchange(reqs, answers)
		if got < 0 || got > len(reqs) {
			t.Fatalf("%d answers to %d requests", got, len(reqs))
		}
		for i := range got {
			a := answers[i]
			if a.err == nil && reqs[i].fn == fnReadHolding && len(a.regs) != int(reqs[i].words) {
				t.Fatalf("answer %d: %d registers, asked %d", i, len(a.regs), reqs[i].words)
			}
		}
	})
}
