package ocpp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/voltflow/voltflow/internal/eventually"
)

// memHandler answers every charge point at once and counts presence.
type memHandler struct {
	connected, disconnected atomic.Int64
}

func (h *memHandler) Authenticate(_ context.Context, _, password string) bool {
	return password == "pw"
}
func (h *memHandler) Connected(context.Context, string)    { h.connected.Add(1) }
func (h *memHandler) Disconnected(context.Context, string) { h.disconnected.Add(1) }
func (h *memHandler) BootNotification(context.Context, string, *core.BootNotificationRequest) (*core.BootNotificationConfirmation, error) {
	return core.NewBootNotificationConfirmation(types.NewDateTime(time.Now()), 0, core.RegistrationStatusAccepted), nil
}
func (h *memHandler) Heartbeat(context.Context, string, *core.HeartbeatRequest) (*core.HeartbeatConfirmation, error) {
	return core.NewHeartbeatConfirmation(types.NewDateTime(time.Now())), nil
}
func (h *memHandler) StatusNotification(context.Context, string, *core.StatusNotificationRequest) (*core.StatusNotificationConfirmation, error) {
	return core.NewStatusNotificationConfirmation(), nil
}
func (h *memHandler) Authorize(context.Context, string, *core.AuthorizeRequest) (*core.AuthorizeConfirmation, error) {
	return core.NewAuthorizationConfirmation(types.NewIdTagInfo(types.AuthorizationStatusAccepted)), nil
}
func (h *memHandler) StartTransaction(context.Context, string, *core.StartTransactionRequest) (*core.StartTransactionConfirmation, error) {
	return core.NewStartTransactionConfirmation(types.NewIdTagInfo(types.AuthorizationStatusAccepted), 1), nil
}
func (h *memHandler) MeterValues(context.Context, string, *core.MeterValuesRequest) (*core.MeterValuesConfirmation, error) {
	return core.NewMeterValuesConfirmation(), nil
}
func (h *memHandler) StopTransaction(context.Context, string, *core.StopTransactionRequest) (*core.StopTransactionConfirmation, error) {
	return core.NewStopTransactionConfirmation(), nil
}
func (h *memHandler) DataTransfer(context.Context, string, *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	return core.NewDataTransferConfirmation(core.DataTransferStatusAccepted), nil
}

// rawCP is a bare OCPP-J charge point: frames written and read by hand,
// cheap enough for hundreds in one test.
type rawCP struct {
	id  string
	ws  *websocket.Conn
	seq int
}

func dialCP(ctx context.Context, url, id string) (*rawCP, error) {
	hdr := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":pw"))}}
	d := websocket.Dialer{Subprotocols: []string{types.V16Subprotocol}, HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(ctx, url+id, hdr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", id, err)
	}
	_ = resp.Body.Close()
	return &rawCP{id: id, ws: ws}, nil
}

// call sends a CALL and reads frames until its CALLRESULT.
func (c *rawCP) call(action, payload string) error {
	c.seq++
	uid := fmt.Sprintf("%s-%d", c.id, c.seq)
	if err := c.ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `[2,%q,%q,%s]`, uid, action, payload)); err != nil {
		return err
	}
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		var parts []json.RawMessage
		var typ int
		var got string
		if json.Unmarshal(msg, &parts) != nil || len(parts) < 3 || json.Unmarshal(parts[0], &typ) != nil ||
			json.Unmarshal(parts[1], &got) != nil {
			return fmt.Errorf("bad frame %s", msg)
		}
		if typ == MessageResult && got == uid {
			return nil
		}
		if typ == MessageError && got == uid {
			return fmt.Errorf("CALLERROR %s", msg)
		}
	}
}

// answer reads one CALL from the central system and answers it.
func (c *rawCP) answer(payload string) error {
	_, msg, err := c.ws.ReadMessage()
	if err != nil {
		return err
	}
	var parts []json.RawMessage
	var uid string
	if json.Unmarshal(msg, &parts) != nil || len(parts) < 4 || json.Unmarshal(parts[1], &uid) != nil {
		return fmt.Errorf("not a CALL: %s", msg)
	}
	return c.ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `[3,%q,%s]`, uid, payload))
}

// within fails the test if f has not returned after d: a hang detector for
// the deadlock below, not a measure of speed.
func within(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(d):
		t.Fatalf("%s: hung for %s (dispatcher deadlock?)", what, d)
	}
}

// Hundreds of chargers dropping at once (a site losing its uplink, or the
// load benchmark ending) while others keep talking: with ocpp-go's own
// dispatcher the central system wedged for good — survivors unanswered,
// new connections stuck, Close never returning.
func TestMassDisconnect(t *testing.T) {
	const drop, keep, later = 400, 8, 20
	h := &memHandler{}
	s, err := Listen(context.Background(), Options{Addr: "127.0.0.1:0", Handler: h, CallTimeout: time.Hour,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			go func() { _ = s.Close() }()
		}
	}()
	ctx := context.Background()
	hang := 60 * time.Second

	var droppers, keepers []*rawCP
	within(t, hang, "connect", func() error {
		for i := range drop + keep {
			c, err := dialCP(ctx, s.URL(), fmt.Sprintf("CP%05d", i))
			if err != nil {
				return err
			}
			if i < drop {
				droppers = append(droppers, c)
			} else {
				keepers = append(keepers, c)
			}
		}
		return nil
	})
	eventually.True(t, hang, "every charger connected", func() (bool, string) {
		n := h.connected.Load()
		return n == drop+keep, fmt.Sprint(n, " connected")
	})

	// The keepers heartbeat throughout: each incoming frame takes the
	// pending-request state's lock, which is what met the disconnects.
	stop := make(chan struct{})
	var answered atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, keep)
	for _, c := range keepers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := c.call("Heartbeat", "{}"); err != nil {
					errs <- fmt.Errorf("keeper %s: %w", c.id, err)
					return
				}
				answered.Add(1)
			}
		}()
	}
	// All at once: the sockets die without a close frame.
	start := make(chan struct{})
	var dwg sync.WaitGroup
	for _, c := range droppers {
		dwg.Add(1)
		go func() {
			defer dwg.Done()
			<-start
			_ = c.ws.NetConn().Close()
		}()
	}
	close(start)
	dwg.Wait()
	eventually.True(t, hang, "disconnects handled", func() (bool, string) {
		gone, open := h.disconnected.Load(), s.Connections()
		return gone == drop && open == keep, fmt.Sprint(gone, " disconnected, ", open, " open")
	})
	after := answered.Load()
	eventually.True(t, hang, "keepers answered after the drop", func() (bool, string) {
		n := answered.Load() - after
		return n >= keep, fmt.Sprint(n, " answered")
	})
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}

	// New connections are served, and so are our commands to them.
	var fresh []*rawCP
	within(t, hang, "new connections boot", func() error {
		for i := range later {
			c, err := dialCP(ctx, s.URL(), fmt.Sprintf("NEW%05d", i))
			if err != nil {
				return err
			}
			fresh = append(fresh, c)
			if err := c.call("BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`); err != nil {
				return err
			}
		}
		return nil
	})
	within(t, hang, "command round trip", func() error {
		go func() { _ = fresh[0].answer(`{"configurationKey":[]}`) }()
		_, err := s.GetConfiguration(ctx, fresh[0].id, nil)
		return err
	})
	// A charger that drops with our request unanswered fails that request
	// now, not after CallTimeout (an hour here), and its next connection
	// gets a queue of its own.
	within(t, hang, "command to a charger that drops", func() error {
		victim := fresh[1]
		go func() {
			_, _, _ = victim.ws.ReadMessage() // the CALL arrives, is never answered
			_ = victim.ws.NetConn().Close()
		}()
		_, err := s.GetConfiguration(ctx, victim.id, nil)
		if err == nil {
			return errors.New("GetConfiguration to a dropped charger succeeded")
		}
		return nil
	})
	eventually.True(t, hang, "the dropped charger gone", func() (bool, string) {
		return !s.Connected(fresh[1].id), "still connected"
	})
	var c *rawCP
	within(t, hang, "reconnect", func() (err error) {
		c, err = dialCP(ctx, s.URL(), fresh[1].id)
		return err
	})
	// The upgrade is answered before the connection is registered.
	eventually.True(t, hang, "the reconnected charger registered", func() (bool, string) {
		return s.Connected(c.id), "not registered"
	})
	within(t, hang, "command after reconnect", func() error {
		go func() { _ = c.answer(`{"status":"Accepted"}`) }()
		st, err := s.ChangeConfiguration(ctx, c.id, "HeartbeatInterval", "60")
		if err == nil && st != core.ConfigurationStatusAccepted {
			err = fmt.Errorf("ChangeConfiguration: %s", st)
		}
		return err
	})
	within(t, hang, "Close", s.Close)
	closed = true
}

// orderHandler records presence calls and holds Disconnected until gate
// closes: a disconnect still being written to the database.
type orderHandler struct {
	memHandler
	gate          chan struct{}
	authenticated atomic.Int64
	mu            sync.Mutex
	events        []string
}

func (h *orderHandler) Authenticate(ctx context.Context, id, password string) bool {
	h.authenticated.Add(1)
	return h.memHandler.Authenticate(ctx, id, password)
}

func (h *orderHandler) Connected(ctx context.Context, id string) {
	h.mu.Lock()
	h.events = append(h.events, "connected")
	h.mu.Unlock()
}

func (h *orderHandler) Disconnected(ctx context.Context, id string) {
	<-h.gate
	h.mu.Lock()
	h.events = append(h.events, "disconnected")
	h.mu.Unlock()
}

// A charger that reconnects while its last disconnect is still being
// handled is marked connected after it, not before (it was left shown
// offline while connected).
func TestReconnectAfterDisconnectHandled(t *testing.T) {
	h := &orderHandler{gate: make(chan struct{})}
	s, err := Listen(context.Background(), Options{Addr: "127.0.0.1:0", Handler: h,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx := context.Background()
	c, err := dialCP(ctx, s.URL(), "CP1")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.call("Heartbeat", "{}"); err != nil {
		t.Fatal(err)
	}
	_ = c.ws.NetConn().Close()
	eventually.True(t, time.Minute, "old connection gone", func() (bool, string) { return !s.Connected("CP1"), "still connected" })
	redial := make(chan error, 1)
	go func() {
		c2, err := dialCP(ctx, s.URL(), "CP1")
		if err == nil {
			err = c2.call("Heartbeat", "{}")
		}
		redial <- err
	}()
	// The new connection has reached the server (it waits there for the old
	// one's Disconnected); the order holds either way.
	eventually.True(t, time.Minute, "the new connection reaches the server", func() (bool, string) {
		n := h.authenticated.Load()
		return n == 2, fmt.Sprint(n, " connections authenticated")
	})
	close(h.gate)
	within(t, time.Minute, "reconnect", func() error { return <-redial })
	h.mu.Lock()
	defer h.mu.Unlock()
	if want := []string{"connected", "disconnected", "connected"}; !slices.Equal(h.events, want) {
		t.Fatalf("presence calls %v, want %v", h.events, want)
	}
}
