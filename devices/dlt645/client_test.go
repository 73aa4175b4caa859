package dlt645

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// A silent gateway: the request ends at the client's timeout, or sooner
// when the caller's context is cancelled, and the caller can tell which.
func TestClientTimeoutAndCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn // open, never answered; closed with the listener's end
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	meter := Address{1}

	c := NewClient(ClientConfig{Addr: ln.Addr().String(), Timeout: 150 * time.Millisecond})
	defer func() { _ = c.Close() }()
	start := time.Now()
	if _, err := c.Read(context.Background(), meter, DIVoltageA); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("silent meter: %v, want ErrUnreachable", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("timed out after %v, want about 150ms", d)
	}

	slow := NewClient(ClientConfig{Addr: ln.Addr().String(), Timeout: 10 * time.Second})
	defer func() { _ = slow.Close() }()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	if _, err := slow.Read(ctx, meter, DIVoltageA); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("cancelled read: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(context.Background(), meter, DIVoltageA); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
	if _, err := c.Read(context.Background(), meter, 0x01020304); !errors.Is(err, ErrUnknownDataID) {
		t.Fatalf("unknown identifier: %v", err)
	}
}
