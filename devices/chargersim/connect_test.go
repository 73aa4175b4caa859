package chargersim

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestConnectEndsWithContext: a central system that drops the connection
// during the boot (it is shutting down) must not keep Connect waiting once
// its context ends — ocpp-go reconnects forever and holds the request.
func TestConnectEndsWithContext(t *testing.T) {
	tests := []struct {
		name string
		drop bool // close the connection after the BootNotification, or stay silent
	}{
		{"connection dropped mid-boot", true},
		{"boot never answered", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotBoot := make(chan struct{}, 1)
			up := websocket.Upgrader{Subprotocols: []string{"ocpp1.6"}}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, err := up.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer func() { _ = conn.Close() }()
				if _, msg, err := conn.ReadMessage(); err == nil && strings.Contains(string(msg), "BootNotification") {
					gotBoot <- struct{}{}
				}
				if !tt.drop {
					_, _, _ = conn.ReadMessage() // until the client goes
				}
			}))
			defer srv.Close()

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				c, err := Connect(ctx, Config{URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ocpp", Connectors: 1}, "CP1")
				if c != nil {
					c.Close()
				}
				done <- err
			}()
			select {
			case <-gotBoot:
			case err := <-done:
				t.Fatalf("Connect returned before its boot reached the central system: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("no BootNotification within 10 s")
			}
			time.Sleep(200 * time.Millisecond) // the drop reaches the client
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Connect = %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Connect still waiting 5 s after its context ended")
			}
		})
	}
}
