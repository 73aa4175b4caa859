package dlt645

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// DefaultTimeout bounds one request when ClientConfig.Timeout is 0. A meter
// at 2400 baud answers a read in a few hundred milliseconds.
const DefaultTimeout = 2 * time.Second

// Client errors; match with errors.Is. A meter's abnormal response is a
// *MeterError instead (errors.Is(err, CodeUnauthorized) and the like).
var (
	// ErrUnreachable: no answer — the gateway cannot be dialled, the
	// connection broke or the meter stayed silent until the timeout. After a
	// control command the outcome is unknown.
	ErrUnreachable = errors.New("dlt645: meter unreachable")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("dlt645: client closed")
)

// ClientConfig describes one gateway connection.
type ClientConfig struct {
	Addr    string        // host:port of the TCP gateway
	Timeout time.Duration // one request on the wire; default DefaultTimeout
	// Dial opens the connection; default net.Dialer.DialContext.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client talks DL/T 645-2007 to the meters behind one TCP gateway (a
// transparent RS-485 converter or a concentrator port). It keeps one
// connection, (re)opened lazily, and sends one request at a time; each
// request carries the meter's address. It is safe for concurrent use.
type Client struct {
	cfg  ClientConfig
	turn chan struct{} // holds one token while a caller owns the connection
	done chan struct{}
	once sync.Once

	conn net.Conn // guarded by turn
	r    *bufio.Reader
}

// NewClient prepares a client; the first request connects.
func NewClient(cfg ClientConfig) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	return &Client{cfg: cfg, turn: make(chan struct{}, 1), done: make(chan struct{})}
}

// Addr is the gateway's address.
func (c *Client) Addr() string { return c.cfg.Addr }

// Close drops the connection; later requests fail with ErrClosed. It waits
// for a request in flight.
func (c *Client) Close() error {
	c.once.Do(func() { close(c.done) })
	c.turn <- struct{}{}
	defer func() { <-c.turn }()
	return c.disconnect()
}

func (c *Client) disconnect() error {
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn, c.r = nil, nil
	return err
}

// Do sends req and returns the meter's answer to it: a frame from req's
// address with the response bit of req's function. Frames that are not
// that answer (a late reply to an abandoned request) are skipped until the
// deadline. An abnormal answer is returned as a frame; the Parse functions
// turn it into a *MeterError.
func (c *Client) Do(ctx context.Context, req Frame) (Frame, error) {
	wire, err := EncodeWithPreamble(req)
	if err != nil {
		return Frame{}, err
	}
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return Frame{}, fmt.Errorf("dlt645 %s meter %s: waiting for the connection: %w", c.cfg.Addr, req.Address, ctx.Err())
	case <-c.done:
		return Frame{}, fmt.Errorf("dlt645 %s: %w", c.cfg.Addr, ErrClosed)
	}
	defer func() { <-c.turn }()
	select {
	case <-c.done:
		return Frame{}, fmt.Errorf("dlt645 %s: %w", c.cfg.Addr, ErrClosed)
	default:
	}
	deadline := time.Now().Add(c.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	fail := func(op string, err error) (Frame, error) {
		// The stream may hold a late answer now; start afresh next time.
		_ = c.disconnect()
		return Frame{}, fmt.Errorf("dlt645 %s meter %s: %s: %w: %w", c.cfg.Addr, req.Address, op, ErrUnreachable, err)
	}
	if c.conn == nil {
		dctx, cancel := context.WithDeadline(ctx, deadline)
		conn, err := c.cfg.Dial(dctx, "tcp", c.cfg.Addr)
		cancel()
		if err != nil {
			return fail("connect", err)
		}
		c.conn, c.r = conn, bufio.NewReader(conn)
	}
	// A cancelled ctx interrupts the wait by moving the deadline. The
	// connection is captured: fail may clear c.conn while this runs.
	conn := c.conn
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if err := c.conn.SetDeadline(deadline); err != nil {
		return fail("deadline", err)
	}
	if _, err := c.conn.Write(wire); err != nil {
		return fail("write", err)
	}
	for {
		f, err := ReadFrame(c.r)
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fail("read", err)
		}
		if f.Address == req.Address && f.Control.IsResponse() && f.Control.Function() == req.Control.Function() {
			return f, nil
		}
	}
}

// Read reads one data identifier of the meter.
func (c *Client) Read(ctx context.Context, meter Address, id DataID) (int64, error) {
	it, ok := Lookup(id)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrUnknownDataID, id)
	}
	resp, err := c.Do(ctx, ReadRequest(meter, id))
	if err != nil {
		return 0, err
	}
	v, err := ParseReadResponse(resp, it)
	if err != nil {
		return 0, fmt.Errorf("dlt645 %s meter %s: read %s: %w", c.cfg.Addr, meter, id, err)
	}
	return v, nil
}

// MeterReading is what ReadMeter returns, each value in its identifier's
// own unit (see items).
type MeterReading struct {
	Address       Address
	Energy        int64 // total forward active energy, 0.01 kWh
	Voltage       int64 // A phase, 0.1 V
	Current       int64 // A phase, 0.001 A
	Power         int64 // total active power, 0.0001 kW
	Remaining     int64 // remaining money, 0.01 yuan
	PurchaseCount int64 // 购电次数
	RunStatus3    int64 // 电表运行状态字3: Status3RelayOpen, Status3RelayCommandOpen, ...
	HasRunStatus  bool  // the meter answered run status word 3
}

// ReadMeter reads the identifiers of docs/meters.md one after the other
// (DL/T 645-2007 reads one identifier per request), holding nothing between
// them: another caller's request may come in between, which is harmless for
// readings. Run status word 3 comes last; a meter that answers it with "no
// data" (some models do not keep it) reads with HasRunStatus false.
func (c *Client) ReadMeter(ctx context.Context, meter Address) (MeterReading, error) {
	out := MeterReading{Address: meter}
	for _, f := range []struct {
		id  DataID
		dst *int64
	}{
		{DIForwardActiveEnergyTotal, &out.Energy},
		{DIVoltageA, &out.Voltage},
		{DICurrentA, &out.Current},
		{DIActivePowerTotal, &out.Power},
		{DIRemainingMoney, &out.Remaining},
		{DIPurchaseCount, &out.PurchaseCount},
	} {
		v, err := c.Read(ctx, meter, f.id)
		if err != nil {
			return out, err
		}
		*f.dst = v
	}
	v, err := c.Read(ctx, meter, DIRunStatus3)
	switch {
	case err == nil:
		out.RunStatus3, out.HasRunStatus = v, true
	case !errors.Is(err, CodeNoData):
		return out, err
	}
	return out, nil
}

// RemoteControl sends control code 0x1C (switch off, switch on, protect,
// release). A zero ValidUntil means five minutes from now.
func (c *Client) RemoteControl(ctx context.Context, meter Address, rc RemoteControl) error {
	if rc.ValidUntil.IsZero() {
		rc.ValidUntil = time.Now().Add(5 * time.Minute)
	}
	req, err := RemoteControlRequest(meter, rc)
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	if err := ParseRemoteControlResponse(resp); err != nil {
		return fmt.Errorf("dlt645 %s meter %s: remote control %s: %w", c.cfg.Addr, meter, rc.Command, err)
	}
	return nil
}
