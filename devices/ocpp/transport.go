package ocpp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// transport is our WebSocket layer under ocpp-go's OCPP-J endpoint (it
// implements ws.WsServer). We own it rather than use ocpp-go's ws.Server
// because we need what that one does not give: binding 127.0.0.1 or port 0,
// basic auth that sees the charge point id, every frame in both directions
// for the device message log, a read deadline of heartbeat interval + grace
// so a charger that dies without closing its socket is dropped in time, and
// a reconnect that replaces a half-open connection instead of being refused.
type transport struct {
	ln        net.Listener
	http      *http.Server
	prefix    string // "/ocpp/"
	idle      time.Duration
	writeWait time.Duration
	auth      func(ctx context.Context, id, password string) bool
	frames    FrameSink
	log       *slog.Logger
	upgrader  websocket.Upgrader

	mu    sync.RWMutex
	conns map[string]*conn
	// leaving are connections closed but whose disconnect is still being
	// handled: the same charger's next connection waits for it, or its
	// Connected could run before the old Disconnected and leave it
	// marked offline while connected.
	leaving map[string]*conn

	// Set by ocppj before Start.
	onMessage    func(ws.Channel, []byte) error
	checkClient  func(id string, r *http.Request) bool
	onConnect    func(ws.Channel)
	onDisconnect func(ws.Channel)
	basicAuth    func(user, pass string) bool
	errC         chan error
}

var _ ws.WsServer = (*transport)(nil)

// conn is one charge point's WebSocket; it is the ws.Channel ocppj sees.
type conn struct {
	id     string
	ws     *websocket.Conn
	remote net.Addr

	wmu sync.Mutex // gorilla allows one concurrent writer

	pmu sync.Mutex
	// Actions of CALLs awaiting their result, by unique id, so the log can
	// name the action on a CALLRESULT/CALLERROR (which does not carry it).
	inCalls, outCalls map[string]string

	closeOnce sync.Once
	done      chan struct{} // closed after the disconnect was handled
}

func (c *conn) ID() string                               { return c.id }
func (c *conn) RemoteAddr() net.Addr                     { return c.remote }
func (c *conn) TLSConnectionState() *tls.ConnectionState { return nil }

func (c *conn) close() { c.closeOnce.Do(func() { _ = c.ws.Close() }) }

func newTransport(ln net.Listener, prefix string, idle, writeWait time.Duration, auth func(context.Context, string, string) bool, frames FrameSink, log *slog.Logger) *transport {
	t := &transport{ln: ln, prefix: prefix, idle: idle, writeWait: writeWait, auth: auth, frames: frames, log: log,
		conns: map[string]*conn{}, leaving: map[string]*conn{}}
	// Write buffers come from a pool for the length of a write: ten
	// thousand chargers idle between heartbeats need none held each.
	t.upgrader = websocket.Upgrader{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024,
		WriteBufferPool: &sync.Pool{}}
	t.http = &http.Server{Handler: http.HandlerFunc(t.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	return t
}

// Start serves until Stop; ocppj calls it with its own port and path, which
// we ignore: the listener was bound before.
func (t *transport) Start(int, string) {
	if err := t.http.Serve(t.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.error(fmt.Errorf("ocpp: serve: %w", err))
	}
}

// Stop closes the listener and every connection.
func (t *transport) Stop() {
	_ = t.http.Close()
	t.mu.RLock()
	conns := make([]*conn, 0, len(t.conns))
	for _, c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.RUnlock()
	for _, c := range conns {
		c.close()
	}
}

func (t *transport) StopConnection(id string, ce websocket.CloseError) error {
	c := t.get(id)
	if c == nil {
		return fmt.Errorf("ocpp: %s: %w", id, ErrNotConnected)
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(ce.Code, ce.Text), time.Now().Add(t.writeWait))
	c.close()
	return nil
}

func (t *transport) Errors() <-chan error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.errC == nil {
		t.errC = make(chan error, 16)
	}
	return t.errC
}

func (t *transport) error(err error) {
	t.log.Debug("ocpp transport", "error", err)
	t.mu.RLock()
	ch := t.errC
	t.mu.RUnlock()
	if ch != nil {
		select {
		case ch <- err:
		default: // nobody reads: never block the connection on it
		}
	}
}

func (t *transport) SetMessageHandler(h func(ws.Channel, []byte) error) { t.onMessage = h }
func (t *transport) SetNewClientHandler(h func(ws.Channel))             { t.onConnect = h }
func (t *transport) SetDisconnectedClientHandler(h func(ws.Channel))    { t.onDisconnect = h }
func (t *transport) SetTimeoutConfig(c ws.ServerTimeoutConfig) {
	if c.WriteWait > 0 {
		t.writeWait = c.WriteWait
	}
}
func (t *transport) AddSupportedSubprotocol(p string) {
	for _, have := range t.upgrader.Subprotocols {
		if have == p {
			return
		}
	}
	t.upgrader.Subprotocols = append(t.upgrader.Subprotocols, p)
}
func (t *transport) SetBasicAuthHandler(h func(user, pass string) bool)       { t.basicAuth = h }
func (t *transport) SetCheckOriginHandler(h func(r *http.Request) bool)       { t.upgrader.CheckOrigin = h }
func (t *transport) SetCheckClientHandler(h func(string, *http.Request) bool) { t.checkClient = h }
func (t *transport) Addr() *net.TCPAddr {
	a, _ := t.ln.Addr().(*net.TCPAddr)
	return a
}

// Connections is part of ws.WsServer; ocpp-go's own *ws.WebSocket cannot be
// built outside its package, and nothing in ocppj calls this.
func (t *transport) Connections(string) *ws.WebSocket { return nil }

func (t *transport) get(id string) *conn {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.conns[id]
}

func (t *transport) connected() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.conns)
}

// Write sends one frame; ocppj calls it for responses and our requests.
func (t *transport) Write(id string, data []byte) error {
	c := t.get(id)
	if c == nil {
		return fmt.Errorf("ocpp: write to %s: %w", id, ErrNotConnected)
	}
	at := time.Now()
	c.wmu.Lock()
	_ = c.ws.SetWriteDeadline(at.Add(t.writeWait))
	err := c.ws.WriteMessage(websocket.TextMessage, data)
	c.wmu.Unlock()
	if err != nil {
		// A peer that cannot take a frame within writeWait is gone; closing
		// ends its read loop, which reports the disconnect.
		c.close()
		return fmt.Errorf("ocpp: write to %s: %w", id, err)
	}
	t.record(c, DirectionOut, data, at)
	return nil
}

func (t *transport) serveHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, t.prefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		http.Error(w, "not an OCPP endpoint: want "+t.prefix+"<chargePointId>", http.StatusNotFound)
		return
	}
	// OCPP security profile 1: HTTP basic auth, username = charge point id.
	user, pass, ok := r.BasicAuth()
	switch {
	case !ok || user != id:
		ok = false
	case t.auth != nil:
		ok = t.auth(r.Context(), id, pass)
	case t.basicAuth != nil:
		ok = t.basicAuth(user, pass)
	}
	if !ok {
		t.log.Warn("ocpp: charge point refused", "chargePoint", id, "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Basic realm="OCPP"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if t.checkClient != nil && !t.checkClient(id, r) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if !offers(r, types.V16Subprotocol) {
		http.Error(w, "want Sec-WebSocket-Protocol: "+types.V16Subprotocol, http.StatusBadRequest)
		return
	}
	wsc, err := t.upgrader.Upgrade(w, r, nil)
	if err != nil {
		t.error(fmt.Errorf("ocpp: upgrade %s: %w", id, err))
		return
	}
	wsc.SetReadLimit(1 << 20)
	c := &conn{id: id, ws: wsc, remote: wsc.RemoteAddr(), inCalls: map[string]string{}, outCalls: map[string]string{},
		done: make(chan struct{})}
	// A charger reconnecting while its old connection is half-open (killed
	// without a FIN) replaces it: the old one is the stale one.
	for range 3 {
		t.mu.Lock()
		old := t.conns[id]
		if old == nil {
			old = t.leaving[id]
		} else {
			t.log.Info("ocpp: replacing connection", "chargePoint", id)
		}
		if old == nil {
			t.conns[id] = c
			t.mu.Unlock()
			break
		}
		t.mu.Unlock()
		old.close()
		select {
		case <-old.done:
		case <-time.After(5 * time.Second):
		}
	}
	if t.get(id) != c {
		_ = wsc.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation,
			"another connection with this id"), time.Now().Add(t.writeWait))
		_ = wsc.Close()
		return
	}
	if t.onConnect != nil {
		t.onConnect(c)
	}
	go t.readLoop(c)
}

func offers(r *http.Request, proto string) bool {
	for _, p := range websocket.Subprotocols(r) {
		if p == proto {
			return true
		}
	}
	return false
}

func (t *transport) readLoop(c *conn) {
	defer t.cleanup(c)
	extend := func() { _ = c.ws.SetReadDeadline(time.Now().Add(t.idle)) }
	c.ws.SetPingHandler(func(data string) error {
		extend()
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(t.writeWait))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil
			}
			return err
		}
		return nil
	})
	for {
		extend()
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.log.Warn("ocpp: charge point silent beyond heartbeat interval + grace, dropping", "chargePoint", c.id, "after", t.idle)
			} else {
				t.log.Debug("ocpp: connection closed", "chargePoint", c.id, "error", err)
			}
			return
		}
		t.record(c, DirectionIn, msg, time.Now())
		if t.onMessage != nil {
			if err := t.onMessage(c, msg); err != nil {
				t.error(fmt.Errorf("ocpp: message from %s: %w", c.id, err))
			}
		}
	}
}

func (t *transport) cleanup(c *conn) {
	c.close()
	t.mu.Lock()
	if t.conns[c.id] == c {
		delete(t.conns, c.id)
		t.leaving[c.id] = c
	}
	t.mu.Unlock()
	if t.onDisconnect != nil {
		t.onDisconnect(c)
	}
	t.mu.Lock()
	if t.leaving[c.id] == c {
		delete(t.leaving, c.id)
	}
	t.mu.Unlock()
	close(c.done)
}

// record hands one frame to the message log, naming its action.
func (t *transport) record(c *conn, dir Direction, data []byte, at time.Time) {
	if t.frames == nil {
		return
	}
	f := parseFrame(data)
	f.ChargePointID, f.Direction, f.At = c.id, dir, at
	f.Data = append([]byte(nil), data...)
	c.pmu.Lock()
	// A CALL we receive is answered by a result we send, and vice versa.
	calls, answers := c.inCalls, c.outCalls
	if dir == DirectionOut {
		calls, answers = c.outCalls, c.inCalls
	}
	switch f.MessageType {
	case MessageCall:
		if len(calls) > 256 { // unanswered calls must not grow without bound
			clear(calls)
		}
		calls[f.UniqueID] = f.Action
	case MessageResult, MessageError:
		f.Action = answers[f.UniqueID]
		delete(answers, f.UniqueID)
	}
	c.pmu.Unlock()
	t.frames.Frame(f)
}
