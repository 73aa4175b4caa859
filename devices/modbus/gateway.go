// Package modbus talks to meters behind a Modbus TCP (or RTU-over-TCP)
// gateway. One Gateway is one connection; every request carries the unit id
// of the meter on the gateway's RS-485 bus, so requests are queued one at a
// time. Which registers to read and write comes from a profile.Profile.
package modbus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/voltflow/voltflow/devices/profile"
)

// DefaultTimeout bounds one request on the wire when Config.Timeout is 0. An
// RS-485 meter at 9600 baud answers in well under a second; a gateway that
// times out itself first answers with exception 0x0B.
const DefaultTimeout = 2 * time.Second

// Config describes one gateway connection.
type Config struct {
	// URL is tcp://host:port or rtuovertcp://host:port; host:port alone
	// means tcp. A Modbus TCP gateway that cannot take pipelined requests
	// says so in its URL: tcp://host:port?max_in_flight=1 (it overrides
	// MaxInFlight for that gateway).
	URL string
	// Profile describes every meter behind this gateway.
	Profile *profile.Profile
	// Timeout bounds one request once it is on the wire.
	Timeout time.Duration
	// Logger receives the Modbus library's warnings; nil discards them.
	Logger *slog.Logger
	// MaxInFlight is how many requests ReadMeters may have on a Modbus TCP
	// connection at once (0 means DefaultMaxInFlight, 1 one at a time). A
	// Modbus TCP gateway takes them from its socket one after the other;
	// pipelining saves the round trip between them, not bus time. RTU over
	// TCP has no transaction ids and is never pipelined.
	MaxInFlight int
}

// DefaultMaxInFlight is the pipelining window of a Modbus TCP gateway: a
// few meters' reads, well inside the request queues gateways keep per
// connection.
const DefaultMaxInFlight = 16

// Gateway is a lazily (re)connected client for one gateway. It is safe for
// concurrent use; requests are serialized.
type Gateway struct {
	url    string
	prof   *profile.Profile
	tr     transport
	window atomic.Int32    // requests in flight for ReadMeters; 1 once pipelining proved unsupported
	blocks []profile.Block // the profile's reads
	reads  []readField     // how a snapshot is decoded from them
	params []paramRead     // its electrical parameters, if it has any
	turn   lane            // held while a caller owns the connection
	open   bool            // client connected; guarded by turn
	done   chan struct{}   // closed by Close, to release callers still queued
	once   sync.Once
	// pipelined: a batch of several requests was answered in full, so a
	// later timeout mid-batch is a silent meter, not a gateway that drops.
	pipelined atomic.Bool
	// noPipelining is when the gateway was found to drop a second request
	// in flight (unix nanoseconds; 0 while it has not been).
	noPipelining atomic.Int64
}

// New prepares a gateway client. It does not connect: the first request
// does, and a request after a transport error reconnects.
func New(cfg Config) (*Gateway, error) {
	if cfg.Profile == nil {
		return nil, errors.New("modbus: config without profile")
	}
	url := cfg.URL
	if !strings.Contains(url, "://") {
		url = "tcp://" + url
	}
	if s, _, _ := strings.Cut(url, "://"); s != "tcp" && s != "rtuovertcp" {
		return nil, fmt.Errorf("modbus: %s: scheme %q, want tcp or rtuovertcp", url, s)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// The library logs to stdout unless given a logger.
	logger := log.New(io.Discard, "", 0)
	if cfg.Logger != nil {
		logger = slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)
	}
	url, window, err := gatewayWindow(url, cfg.MaxInFlight)
	if err != nil {
		return nil, err
	}
	var tr transport
	if s, hostPort, _ := strings.Cut(url, "://"); s == "tcp" {
		tr = &tcpTransport{addr: hostPort, timeout: timeout}
	} else {
		client, err := mb.NewClient(&mb.ClientConfiguration{URL: url, Timeout: timeout, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("modbus: %s: %w", url, err)
		}
		tr = libTransport{client}
	}
	g := &Gateway{
		url:    url,
		prof:   cfg.Profile,
		tr:     tr,
		blocks: cfg.Profile.Blocks(),
		reads:  planReads(cfg.Profile),
		params: planParams(cfg.Profile),
		done:   make(chan struct{}),
	}
	g.window.Store(int32(window))
	return g, nil
}

// PipeliningUnsupported reports whether this client found the gateway
// dropping the second request in flight (and since when): it then sends
// one request at a time.
func (g *Gateway) PipeliningUnsupported() (bool, time.Time) {
	at := g.noPipelining.Load()
	if at == 0 {
		return false, time.Time{}
	}
	return true, time.Unix(0, at).UTC()
}

// MaxInFlightLimit bounds a gateway's pipelining window: far more than a
// gateway's request queue, far less than the transaction id space.
const MaxInFlightLimit = 256

// gatewayWindow takes the URL's options off it and returns how many
// requests may be in flight: the URL's max_in_flight, else the client's
// default; always 1 for RTU over TCP, whose frames carry no transaction id.
func gatewayWindow(url string, clientDefault int) (string, int, error) {
	base, rawQuery, hasQuery := strings.Cut(url, "?")
	tcp := strings.HasPrefix(base, "tcp://")
	window := 1
	if tcp {
		window = clientDefault
		if window <= 0 {
			window = DefaultMaxInFlight
		}
	}
	if !hasQuery {
		return base, window, nil
	}
	q, err := neturl.ParseQuery(rawQuery)
	if err != nil {
		return "", 0, fmt.Errorf("modbus: %s: %w", url, err)
	}
	for k, v := range q {
		if k != "max_in_flight" || len(v) != 1 {
			return "", 0, fmt.Errorf("modbus: %s: unknown option %q (want max_in_flight=N)", url, k)
		}
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > MaxInFlightLimit || (!tcp && n != 1) {
			return "", 0, fmt.Errorf("modbus: %s: max_in_flight %q: want 1..%d for tcp, 1 for rtuovertcp", url, v[0], MaxInFlightLimit)
		}
		window = n
	}
	return base, window, nil
}

// URL is the gateway's address, with scheme.
func (g *Gateway) URL() string { return g.url }

// Profile is the meter profile requests are built from.
func (g *Gateway) Profile() *profile.Profile { return g.prof }

// Close drops the connection; later requests fail with ErrClosed. It waits
// for a request in flight to finish.
func (g *Gateway) Close() error {
	g.once.Do(func() { close(g.done) })
	_ = g.turn.acquire(context.Background(), true, nil) // nothing cancels it
	defer g.turn.release()
	return g.disconnect()
}

// conn is the connection while a caller holds the turn.
type conn struct {
	g      *Gateway
	unit   uint8
	reused bool // the connection was open before this caller took it
	broken bool // a transport error closed it during this turn
}

// acquire waits for the connection, connecting if needed; an Interactive
// ctx goes before bulk callers waiting. Waiting in the queue honours ctx; a
// request already on the wire does not (see call).
func (g *Gateway) acquire(ctx context.Context, unit uint8) (*conn, error) {
	if unit == 0 || unit > 247 {
		return nil, fmt.Errorf("modbus %s: unit %d: %w", g.url, unit, ErrBadUnit)
	}
	if err := g.turn.acquire(ctx, isInteractive(ctx), g.done); err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, fmt.Errorf("modbus %s: %w", g.url, ErrClosed)
		}
		return nil, fmt.Errorf("modbus %s unit %d: waiting for the connection: %w", g.url, unit, err)
	}
	// Both may have become ready while we waited for the turn.
	select {
	case <-g.done:
		g.turn.release()
		return nil, fmt.Errorf("modbus %s: %w", g.url, ErrClosed)
	default:
	}
	if err := ctx.Err(); err != nil {
		g.turn.release()
		return nil, fmt.Errorf("modbus %s unit %d: %w", g.url, unit, err)
	}
	c := &conn{g: g, unit: unit, reused: g.open}
	if err := c.connect(); err != nil {
		g.turn.release()
		return nil, err
	}
	return c, nil
}

// connect opens the connection if it is not open.
func (c *conn) connect() error {
	g := c.g
	if !g.open {
		if err := g.tr.open(); err != nil {
			return fmt.Errorf("modbus %s: connect: %w: %w", g.url, ErrUnreachable, err)
		}
		g.open = true
	}
	return nil
}

func (c *conn) release() { c.g.turn.release() }

// exchange runs requests and classifies a transport error. An exception
// is an answer (the connection is in step) and stays in answers. The
// library has no context support and its Close waits for the request in
// flight, so a request cannot be abandoned early: Config.Timeout is what
// bounds it.
func (c *conn) exchange(reqs []request, answers []answer) (int, error) {
	// At most window requests on the wire, whatever the caller batched: a
	// gateway that cannot take pipelined requests drops those that come
	// while it answers, even a meter's second block.
	n := 0
	var err error
	for n < len(reqs) && err == nil {
		sent := min(max(int(c.g.window.Load()), 1), len(reqs)-n)
		var got int
		got, err = c.g.tr.exchange(reqs[n:n+sent], answers[n:n+sent])
		n += got
		switch {
		case err == nil && sent > 1:
			c.g.pipelined.Store(true)
		case err != nil && sent > 1 && got > 0 && !errors.Is(err, errFrame) && !c.g.pipelined.Load():
			// The first answer came and a later one never did: either the
			// gateway drops what arrives while it answers, or that meter is
			// silent. Asked alone, a dropping gateway answers.
			err = c.probeAlone(reqs[n:n+1], answers[n:n+1])
			if err == nil {
				n++
			}
		}
	}
	if err == nil {
		return n, nil
	}
	// A timeout, reset or garbled frame may leave a late response in the
	// stream; start afresh next time.
	_ = c.g.disconnect()
	c.broken = true
	r := reqs[n]
	return n, fmt.Errorf("modbus %s unit %d: %s: %w: %w", c.g.url, r.unit, r.describe(), ErrUnreachable, err)
}

// probeAlone sends the request whose answer did not come in a pipelined
// batch again, alone, on a fresh connection. If it is answered, the
// gateway cannot pipeline: this client sends one request at a time from
// now on, and says so (PipeliningUnsupported).
func (c *conn) probeAlone(req []request, answer []answer) error {
	_ = c.g.disconnect()
	if err := c.connect(); err != nil {
		return err
	}
	got, err := c.g.tr.exchange(req, answer)
	if err != nil || got != 1 {
		return cmp.Or(err, errFrame)
	}
	c.g.window.Store(1)
	c.g.noPipelining.CompareAndSwap(0, time.Now().UnixNano())
	return nil
}

// call runs one request: an exception answer is its error.
func (c *conn) call(r request) (answer, error) {
	var a [1]answer
	if _, err := c.exchange([]request{r}, a[:]); err != nil {
		return answer{}, err
	}
	if a[0].err != nil {
		return answer{}, fmt.Errorf("modbus %s unit %d: %s: %w", c.g.url, r.unit, r.describe(), a[0].err)
	}
	return a[0], nil
}

func (g *Gateway) disconnect() error {
	if !g.open {
		return nil
	}
	g.open = false
	return g.tr.close()
}
