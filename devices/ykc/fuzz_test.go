package ykc

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// FuzzReader feeds arbitrary streams to the frame reader: it must never
// panic, and every frame it accepts must re-encode to the bytes it read.
func FuzzReader(f *testing.F) {
	seed, _ := Frame{Seq: 1, Type: TypeHeartbeat, Body: []byte{0x32, 1, 2, 0, 0, 0, 1, 1, 0}}.Marshal()
	f.Add(seed)
	f.Add(append([]byte{0x68, 0x04}, seed...))
	f.Add([]byte{0x68, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		for range 64 {
			fr, err := r.Read()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return
				}
				continue
			}
			out, err := fr.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(out)
			if err != nil || back.Seq != fr.Seq || back.Type != fr.Type || !bytes.Equal(back.Body, fr.Body) {
				t.Fatalf("re-encoded frame does not parse back: %v", err)
			}
		}
	})
}

// FuzzDecode drives every body decoder: the first byte picks the frame type,
// the rest is the body. A body that decodes must encode back to the same
// bytes and decode to the same value.
func FuzzDecode(f *testing.F) {
	for t := range 256 {
		if b := NewBody(byte(t)); b != nil {
			wire, _ := Encode(b)
			f.Add(append([]byte{byte(t)}, wire...))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		b, err := Decode(data[0], data[1:])
		if err != nil {
			return
		}
		wire, err := Encode(b)
		if err != nil {
			t.Fatalf("%T decoded but does not encode: %v", b, err)
		}
		if !bytes.Equal(wire, data[1:]) {
			t.Fatalf("%T: re-encoded %X, read %X", b, wire, data[1:])
		}
		again, err := Decode(data[0], wire)
		if err != nil || !reflect.DeepEqual(again, b) {
			t.Fatalf("%T: second decode %v", b, err)
		}
	})
}
