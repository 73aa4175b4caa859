package dlt645

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// FuzzReadFrame feeds arbitrary streams to the frame reader: it never
// panics, and every frame it returns is one Decode accepts and Encode
// reproduces.
func FuzzReadFrame(f *testing.F) {
	f.Add(mustHex(f, "FE FE "+publishedRead+" "+publishedRead))
	f.Add(mustHex(f, "00 11 "+publishedRead))
	f.Add(mustHex(f, "68 01 00 00 00 00 00 68 11 FF 33"))
	f.Add(bytes.Repeat([]byte{0xFE}, 80))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for range 64 {
			fr, err := ReadFrame(r)
			if err != nil {
				if errors.Is(err, ErrBadChecksum) || errors.Is(err, ErrBadEnd) {
					continue // the reader stays aligned after a whole bad frame
				}
				return
			}
			raw, err := Encode(fr)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := Decode(raw); err != nil || back.Address != fr.Address || back.Control != fr.Control || !bytes.Equal(back.Data, fr.Data) {
				t.Fatalf("frame %+v does not round trip: %v", fr, err)
			}
		}
	})
}

// FuzzClientResponse: whatever a gateway sends back, the client returns a
// value or an error without panicking or hanging past its timeout, and an
// answer it accepts came from the meter it asked.
func FuzzClientResponse(f *testing.F) {
	addr := Address{1, 0, 0, 0, 0, 0}
	it, _ := Lookup(DIForwardActiveEnergyTotal)
	good, _ := ReadResponse(addr, it, 12345)
	wire, _ := EncodeWithPreamble(good)
	f.Add(wire)
	other, _ := Encode(Frame{Address: Address{2}, Control: CtrlRead.Response(), Data: []byte{0, 0, 1, 0, 0x45, 0x23, 0x01, 0}})
	f.Add(append(other, wire...))
	bad, _ := Encode(ErrorResponse(addr, CtrlRead, CodeNoData))
	f.Add(bad)
	f.Add([]byte{0x68, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		server, client := net.Pipe()
		defer server.Close()
		go func() {
			req := make([]byte, 64)
			_, _ = server.Read(req)
			_, _ = server.Write(b)
			_ = server.Close()
		}()
		c := NewClient(ClientConfig{Addr: "fuzz", Timeout: 200 * time.Millisecond,
			Dial: func(context.Context, string, string) (net.Conn, error) { return client, nil }})
		defer func() { _ = c.Close() }()
		start := time.Now()
		v, err := c.Read(context.Background(), addr, DIForwardActiveEnergyTotal)
		if time.Since(start) > 2*time.Second {
			t.Fatalf("read took %v", time.Since(start))
		}
		if err == nil && (v < 0 || v > 99_999_999) {
			t.Fatalf("accepted value %d outside the item's range", v)
		}
	})
}
