// Package regsim simulates the Shenzhen regulator's side of DB4403/T
// 77-2020 for development and tests: it issues tokens (query_token), verifies
// every push (token, Sig, Data), records what it received, and can be put
// into an outage — answering Ret -1, HTTP 500, or refusing connections.
//
// Control it from Go (SetMode, Received) or over HTTP: POST /control
// {"mode":"ok|busy|error|refuse|drop|lose","for":"30s"} (a refusing simulator
// cannot be reached, so refuse needs "for"), GET /received?interface=.
//
// With a PlatformURL it acts as a regulator after an outage: once back to
// ok it reconciles with the platform (query_stations_info,
// query_alarm_info) and backfills what it lacks through supplement_collect
// (Backfill).
package regsim

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/regclient"
	"github.com/voltflow/voltflow/internal/clock"
)

// Mode is how the simulator answers pushes.
type Mode string

// Modes.
const (
	ModeOK     Mode = "ok"     // accept (Status 0)
	ModeBusy   Mode = "busy"   // Ret -1, HTTP 200
	ModeError  Mode = "error"  // Ret 500, HTTP 500
	ModeRefuse Mode = "refuse" // listener closed: connection refused
	ModeDrop   Mode = "drop"   // accept but answer Status 1 (drop, do not retry)
	// ModeLose answers Status 0 but keeps nothing: the regulator lost data
	// it acknowledged, which only a backfill (supplement_collect) repairs.
	ModeLose Mode = "lose"
)

// Received is one verified push.
type Received struct {
	Interface string          `json:"interface"`
	At        time.Time       `json:"at"`
	TimeStamp string          `json:"timeStamp"`
	Seq       string          `json:"seq"`
	Data      json.RawMessage `json:"data"`
	Status    int             `json:"status"` // what we answered
	// Backfilled marks data fetched through supplement_collect, not pushed.
	Backfilled bool `json:"backfilled,omitempty"`
}

// Config of a simulator.
type Config struct {
	Addr     string           // listen address, e.g. 127.0.0.1:9400 (":0" for tests)
	Secrets  envelope.Secrets // the operator's credentials the simulator knows
	TokenTTL time.Duration    // default 2 h
	Log      *slog.Logger
	Clock    clock.Clock
	// PlatformURL is the operator platform's /shevcs/v1 base. When set, the
	// simulator backfills after every outage it was put in (from entering a
	// non-ok mode until back to ok, with a second of margin each side).
	PlatformURL string
}

// Sim is a running simulator.
type Sim struct {
	cfg   Config
	codec *envelope.Codec
	log   *slog.Logger
	guard *envelope.ReplayGuard

	mu       sync.Mutex
	addr     string
	ln       net.Listener
	srv      *http.Server
	mode     Mode
	restore  *time.Timer // reverts the mode to ok
	tokens   map[string]time.Time
	received []Received
	rejected map[envelope.Ret]int
	closed   bool

	client    *regclient.Client
	downSince time.Time // when the current outage began; zero when ok
	backfills []BackfillReport
	bg        sync.WaitGroup
}

// BackfillReport is one automatic backfill after an outage.
type BackfillReport struct {
	From, To time.Time
	Result   BackfillResult
	Err      string
}

// Backfills lists the automatic backfills so far.
func (s *Sim) Backfills() []BackfillReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.backfills)
}

// record keeps one received (or backfilled) item.
func (s *Sim) record(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, r)
}

// Start listens on cfg.Addr and serves until Close.
func Start(cfg Config) (*Sim, error) {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 2 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	codec, err := envelope.NewCodec(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	s := &Sim{cfg: cfg, codec: codec, log: cfg.Log.With("component", "regulator-sim"), mode: ModeOK,
		guard:  envelope.NewReplayGuard(0, 0, cfg.Clock),
		tokens: map[string]time.Time{}, rejected: map[envelope.Ret]int{}}
	s.addr = cfg.Addr
	if err := s.listen(); err != nil {
		return nil, err
	}
	return s, nil
}

// listen (re)opens the listener on the address first bound. Caller must not hold mu.
func (s *Sim) listen() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("regsim: listen %s: %w", s.addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /shevcs/{ver}/{name}", s.handle)
	mux.HandleFunc("POST /control", s.control)
	mux.HandleFunc("GET /received", s.list)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.ln, s.srv, s.addr = ln, srv, ln.Addr().String()
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// Addr is where the simulator listens.
func (s *Sim) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the base the platform pushes to (VOLTFLOW_REGULATOR_URL).
func (s *Sim) URL() string { return "http://" + s.Addr() + "/shevcs/v1" }

// Close stops the simulator.
func (s *Sim) Close() error {
	s.mu.Lock()
	s.closed = true
	srv := s.srv
	s.srv, s.ln = nil, nil
	if s.restore != nil {
		s.restore.Stop()
	}
	s.mu.Unlock()
	if srv != nil {
		return srv.Close()
	}
	return nil
}

// SetMode switches how pushes are answered; d > 0 reverts to ok after d.
// ModeRefuse closes the listener (and open connections) until the mode
// changes back.
func (s *Sim) SetMode(m Mode, d time.Duration) error {
	switch m {
	case ModeOK, ModeBusy, ModeError, ModeRefuse, ModeDrop, ModeLose:
	default:
		return fmt.Errorf("regsim: unknown mode %q", m)
	}
	s.mu.Lock()
	prev := s.mode
	s.mode = m
	var gapFrom time.Time
	switch {
	case m != ModeOK && m != ModeDrop && s.downSince.IsZero():
		s.downSince = time.Now()
	case (m == ModeOK || m == ModeDrop) && !s.downSince.IsZero():
		gapFrom, s.downSince = s.downSince, time.Time{}
	}
	if !gapFrom.IsZero() && s.cfg.PlatformURL != "" && !s.closed {
		s.bg.Add(1)
		go s.autoBackfill(gapFrom.Add(-time.Second))
	}
	if s.restore != nil {
		s.restore.Stop()
		s.restore = nil
	}
	if d > 0 {
		s.restore = time.AfterFunc(d, func() { _ = s.SetMode(ModeOK, 0) })
	}
	var srv *http.Server
	if m == ModeRefuse && prev != ModeRefuse {
		srv, s.srv, s.ln = s.srv, nil, nil
	}
	reopen := prev == ModeRefuse && m != ModeRefuse && !s.closed
	s.mu.Unlock()
	s.log.Info("regulator simulator mode", "mode", m, "for", d)
	if srv != nil {
		_ = srv.Close()
	}
	if reopen {
		// The port was ours a moment ago; retry briefly if the kernel lags.
		var err error
		for range 50 {
			if err = s.listen(); err == nil {
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		return err
	}
	return nil
}

// Mode reports the current mode.
func (s *Sim) Mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// Received returns a copy of every verified push for iface ("" for all), in
// arrival order.
func (s *Sim) Received(iface string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, r := range s.received {
		if iface == "" || r.Interface == iface {
			out = append(out, r)
		}
	}
	return out
}

// ReceivedFrom returns a copy of the verified pushes of every interface
// from the i-th on, in arrival order, and the index to ask from next time:
// for callers that follow a long run without copying it all each time.
func (s *Sim) ReceivedFrom(i int) ([]Received, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i = min(max(i, 0), len(s.received))
	return append([]Received(nil), s.received[i:]...), len(s.received)
}

// Rejected counts requests refused with each Ret (bad token, Sig …).
func (s *Sim) Rejected(ret envelope.Ret) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected[ret]
}

func (s *Sim) write(w http.ResponseWriter, status int, resp envelope.Response) {
	if resp.Ret != envelope.RetOK {
		s.mu.Lock()
		s.rejected[resp.Ret]++
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *Sim) handle(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if v := r.PathValue("ver"); v != "v1" && v != "v1.0" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	mode := s.mode
	s.mu.Unlock()
	switch mode {
	case ModeBusy:
		s.write(w, http.StatusOK, s.codec.SealRawResponse(envelope.RetBusy, envelope.DefaultMsg(envelope.RetBusy), nil))
		return
	case ModeError:
		s.write(w, http.StatusInternalServerError, s.codec.SealRawResponse(envelope.RetSystem, envelope.DefaultMsg(envelope.RetSystem), nil))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		s.write(w, http.StatusOK, s.codec.SealRawResponse(envelope.RetEnvelope, "unreadable body", nil))
		return
	}
	req, err := envelope.DecodeRequest(body)
	if err == nil && req.OperatorID != s.codec.OperatorID() {
		err = &envelope.Error{Ret: envelope.RetSignature, Msg: "unknown OperatorID"}
	}
	var plain []byte
	if err == nil {
		plain, err = s.codec.VerifyRequest(req)
	}
	if err == nil && name != "query_token" {
		err = s.checkToken(r)
	}
	if err == nil {
		err = s.guard.Check(req)
	}
	if err != nil {
		s.log.Warn("regulator simulator refused a request", "interface", name, "error", err)
		s.write(w, http.StatusOK, s.codec.SealError(err))
		return
	}
	if name == "query_token" {
		s.issueToken(w, plain)
		return
	}
	if !strings.HasPrefix(name, "notification_") {
		s.write(w, http.StatusOK, s.codec.SealRawResponse(envelope.RetBusinessInvalid, "interface not simulated", nil))
		return
	}
	status := 0
	if mode == ModeDrop {
		status = 1
	}
	if mode != ModeLose {
		s.record(Received{Interface: name, At: time.Now(), TimeStamp: req.TimeStamp, Seq: req.Seq,
			Data: json.RawMessage(plain), Status: status})
	}
	resp, err := s.codec.SealResponse(envelope.RetOK, envelope.DefaultMsg(envelope.RetOK), map[string]int{"Status": status})
	if err != nil {
		s.write(w, http.StatusOK, s.codec.SealError(err))
		return
	}
	s.write(w, http.StatusOK, resp)
}

func (s *Sim) checkToken(r *http.Request) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, known := s.tokens[tok]
	if !ok || !known || !s.cfg.Clock.Now().Before(exp) {
		return &envelope.Error{Ret: envelope.RetToken, Msg: "token missing, unknown or expired"}
	}
	return nil
}

func (s *Sim) issueToken(w http.ResponseWriter, plain []byte) {
	var q struct{ OperatorID, OperatorSecret string }
	if err := json.Unmarshal(plain, &q); err != nil || q.OperatorID == "" {
		s.write(w, http.StatusOK, s.codec.SealRawResponse(envelope.RetBusinessInvalid, "OperatorID and OperatorSecret required", nil))
		return
	}
	ans := map[string]any{"OperatorID": q.OperatorID, "SuccStat": 1, "AccessToken": "", "TokenAvailableTime": 0, "FailReason": 0}
	switch {
	case q.OperatorID != s.cfg.Secrets.OperatorID:
		ans["FailReason"] = 1
	case subtle.ConstantTimeCompare([]byte(q.OperatorSecret), []byte(s.cfg.Secrets.OperatorSecret)) != 1:
		ans["FailReason"] = 2
	default:
		raw := make([]byte, 16)
		_, _ = rand.Read(raw)
		tok := hex.EncodeToString(raw)
		s.mu.Lock()
		s.tokens[tok] = s.cfg.Clock.Now().Add(s.cfg.TokenTTL)
		s.mu.Unlock()
		ans["SuccStat"], ans["AccessToken"], ans["TokenAvailableTime"] = 0, tok, int(s.cfg.TokenTTL/time.Second)
	}
	resp, err := s.codec.SealResponse(envelope.RetOK, envelope.DefaultMsg(envelope.RetOK), ans)
	if err != nil {
		s.write(w, http.StatusOK, s.codec.SealError(err))
		return
	}
	s.write(w, http.StatusOK, resp)
}

// ExpireTokens forgets every issued token, as a regulator restart would.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

func (s *Sim) control(w http.ResponseWriter, r *http.Request) {
	var c struct {
		Mode Mode   `json:"mode"`
		For  string `json:"for"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&c); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var d time.Duration
	if c.For != "" {
		var err error
		if d, err = time.ParseDuration(c.For); err != nil {
			http.Error(w, "for: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	switch c.Mode {
	case ModeOK, ModeBusy, ModeError, ModeRefuse, ModeDrop, ModeLose:
	default:
		http.Error(w, "unknown mode", http.StatusBadRequest)
		return
	}
	if c.Mode == ModeRefuse && d <= 0 {
		http.Error(w, "refuse needs a duration: the control endpoint is unreachable while refusing", http.StatusBadRequest)
		return
	}
	// Answer before a refuse closes this very listener.
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"mode": c.Mode, "for": d.String()})
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	go func() {
		if err := s.SetMode(c.Mode, d); err != nil {
			s.log.Error("regulator simulator mode", "error", err)
		}
	}()
}

// InvalidPush names a stored push whose Data is not valid JSON.
type InvalidPush struct {
	Index     int    `json:"index"`
	Interface string `json:"interface"`
	Seq       string `json:"seq"`
	Error     string `json:"error"`
}

// ListError is the answer of GET /received when the list cannot be
// encoded: the encoding error and the pushes that caused it, instead of
// an empty body.
type ListError struct {
	Error   string        `json:"error"`
	Invalid []InvalidPush `json:"invalid"`
}

func (s *Sim) list(w http.ResponseWriter, r *http.Request) {
	all := s.Received(r.URL.Query().Get("interface"))
	body, err := json.Marshal(all)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		le := ListError{Error: err.Error(), Invalid: []InvalidPush{}}
		for i, x := range all {
			if _, err := json.Marshal(x.Data); err != nil {
				le.Invalid = append(le.Invalid, InvalidPush{Index: i, Interface: x.Interface, Seq: x.Seq, Error: err.Error()})
			}
		}
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(le)
		return
	}
	_, _ = w.Write(append(body, '\n'))
}

// Run starts a simulator and blocks until ctx ends (voltflow sim regulator).
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(cfg)
	if err != nil {
		return err
	}
	s.log.Info("regulator simulator listening", "url", s.URL())
	<-ctx.Done()
	if err := s.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// autoBackfill waits a moment for the platform's retried pushes to land,
// then backfills [from, now] and keeps the report.
func (s *Sim) autoBackfill(from time.Time) {
	defer s.bg.Done()
	time.Sleep(2 * time.Second)
	to := time.Now().Add(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := s.Backfill(ctx, from, to)
	rep := BackfillReport{From: from, To: to, Result: res}
	if err != nil {
		rep.Err = err.Error()
		s.log.Warn("regulator simulator backfill failed", "error", err)
	}
	s.mu.Lock()
	s.backfills = append(s.backfills, rep)
	s.mu.Unlock()
}
