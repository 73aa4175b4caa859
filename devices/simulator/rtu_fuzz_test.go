package simulator

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeRTURequest: no input panics, and whatever decodes re-encodes to
// the same bytes (the decoder accepts exactly the frames the encoder makes).
func FuzzDecodeRTURequest(f *testing.F) {
	f.Add(EncodeRTURequest(RTURequest{Unit: 1, Function: fnReadHolding, Addr: 0x0100, Quantity: 16}))
	f.Add(EncodeRTURequest(RTURequest{Unit: 2, Function: fnWriteSingle, Addr: 0x0106, Regs: []uint16{1}}))
	f.Add(EncodeRTURequest(RTURequest{Unit: 3, Function: fnWriteMultiple, Addr: 0x0200, Regs: []uint16{1, 0, 500}}))
	f.Add([]byte{1, 0x2B, 0x0E, 0x01, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRTURequest(b)
		if err != nil {
			return
		}
		if got := EncodeRTURequest(req); !bytes.Equal(got, b) {
			t.Fatalf("decoded % X as %+v, re-encoded as % X", b, req, got)
		}
		// Every valid request has an answer that is a well-formed frame.
		for _, code := range []uint8{0, 4} {
			regs := make([]uint16, req.Quantity)
			if req.Function != fnReadHolding {
				regs = nil
			}
			resp := EncodeRTUResponse(req, regs, code)
			if crc := CRC16(resp[:len(resp)-2]); resp[len(resp)-2] != byte(crc) || resp[len(resp)-1] != byte(crc>>8) {
				t.Fatalf("response % X: bad CRC", resp)
			}
		}
	})
}

// FuzzReadRTURequest: the stream reader never panics, never returns more
// bytes than it was given, and a frame it returns has the length its
// function implies.
func FuzzReadRTURequest(f *testing.F) {
	f.Add(EncodeRTURequest(RTURequest{Unit: 1, Function: fnReadHolding, Addr: 0, Quantity: 2}))
	f.Add(EncodeRTURequest(RTURequest{Unit: 3, Function: fnWriteMultiple, Addr: 0x0200, Regs: []uint16{1, 0, 500}}))
	f.Add([]byte{1, 0x10, 0, 0, 0, 1, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for {
			frame, err := ReadRTURequest(r)
			if err != nil {
				if errors.Is(err, ErrRTUFunction) && len(frame) != 2 {
					t.Fatalf("unknown function returned %d bytes", len(frame))
				}
				if !errors.Is(err, ErrRTUFunction) {
					return
				}
				continue
			}
			if len(frame) > len(b) || len(frame) != rtuRequestLen(frame[1], frame) {
				t.Fatalf("frame % X of wrong length", frame)
			}
			_, _ = DecodeRTURequest(frame)
		}
	})
}
