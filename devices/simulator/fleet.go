package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voltflow/voltflow/devices/profile"
)

// Config describes a fleet: Gateways gateways on consecutive ports from
// Addr, each with Meters meters in the same initial state.
type Config struct {
	// Addr is the first gateway's listen address, e.g. "127.0.0.1:15020";
	// gateway i listens on port+i. With port 0 every gateway gets a free
	// port of its own.
	Addr     string
	Gateways int // default 1
	Meters   int // per gateway, unit ids 1..Meters; default 32, at most 247
	// Profile names the register map; default profile.RefPrepaidBlocksV1
	// (ref-prepaid-v1 and its optional setting blocks).
	Profile string
	// MeterProfiles gives the meters at these unit ids, on every gateway,
	// a register map of their own (e.g. profile.RefThreePhaseV1).
	MeterProfiles map[uint8]string
	// Protocol is what Run's gateways speak: ProtocolModbusTCP (default),
	// ProtocolModbusRTUTCP or ProtocolDLT645 (see Fleet.Servers).
	Protocol string
	// Meter is every meter's initial state.
	Meter MeterConfig

	// Start is the simulated clock's first reading; default the wall clock.
	// Its location decides which hour (and TOU period) it is.
	Start time.Time
	// Speed is simulated time per real time in Run: 60 makes a real
	// second a simulated minute. Default 1.
	Speed float64
	// Tick is Run's real interval between consumption steps; default 1 s.
	Tick time.Duration
	// Latency is how long each request holds a gateway's bus, as an
	// RS-485 round trip would; default 0.
	Latency time.Duration
	// NoPipelining makes the Modbus TCP gateways behave like the many
	// serial servers that forward one request and drop whatever arrived
	// while the bus was busy: a client must keep one request in flight.
	NoPipelining bool

	Logger *slog.Logger // nil discards

	// StatePath, when set, makes Run restore the meters from this file and
	// save them there every few seconds and on stop (see Save).
	StatePath string
}

// Fleet is a set of simulated gateways sharing one simulated clock.
type Fleet struct {
	cfg      Config
	gateways []*Gateway

	mu  sync.Mutex // serializes Advance so meters see one timeline
	now time.Time
}

// NewFleet builds the gateways and meters; nothing listens until Start.
func NewFleet(cfg Config) (*Fleet, error) {
	if cfg.Gateways == 0 {
		cfg.Gateways = 1
	}
	if cfg.Meters == 0 {
		cfg.Meters = 32
	}
	if cfg.Profile == "" {
		cfg.Profile = profile.RefPrepaidBlocksV1
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now()
	}
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	if cfg.Tick == 0 {
		cfg.Tick = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Gateways < 0 || cfg.Meters < 0 || cfg.Meters > 247 || cfg.Speed < 0 || cfg.Tick < 0 {
		return nil, fmt.Errorf("simulator: %d gateways × %d meters, speed %v, tick %v: out of range",
			cfg.Gateways, cfg.Meters, cfg.Speed, cfg.Tick)
	}
	prof, err := profile.Load(cfg.Profile)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	own := map[uint8]*profile.Profile{}
	for unit, name := range cfg.MeterProfiles {
		if own[unit], err = profile.Load(name); err != nil {
			return nil, fmt.Errorf("simulator: unit %d: %w", unit, err)
		}
	}
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("simulator: address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port+cfg.Gateways-1 > 65535 {
		return nil, fmt.Errorf("simulator: address %q: bad port for %d gateways", cfg.Addr, cfg.Gateways)
	}

	f := &Fleet{cfg: cfg, now: cfg.Start}
	for i := range cfg.Gateways {
		p := 0
		if port != 0 {
			p = port + i
		}
		meters := make([]*Meter, cfg.Meters)
		for u := range meters {
			meters[u] = NewMeter(cfg.Meter)
			if p := own[uint8(u+1)]; p != nil {
				meters[u].SetProfile(p)
			}
		}
		g := NewGateway(net.JoinHostPort(host, strconv.Itoa(p)), prof, meters)
		g.latency = cfg.Latency
		g.noPipelining = cfg.NoPipelining
		g.setLogger(cfg.Logger)
		f.gateways = append(f.gateways, g)
	}
	return f, nil
}

// Gateways returns the gateways in port order.
func (f *Fleet) Gateways() []*Gateway { return append([]*Gateway(nil), f.gateways...) }

// Gateway returns gateway i (0-based).
func (f *Fleet) Gateway(i int) *Gateway { return f.gateways[i] }

// Start starts every gateway; see Gateway.Start. If one fails, those
// already started are stopped again.
func (f *Fleet) Start(ctx context.Context) error {
	for i, g := range f.gateways {
		if err := g.Start(ctx); err != nil {
			for _, started := range f.gateways[:i] {
				_ = started.Stop()
			}
			return err
		}
	}
	return nil
}

// Stop stops every gateway.
func (f *Fleet) Stop() error {
	var errs []error
	for _, g := range f.gateways {
		errs = append(errs, g.Stop())
	}
	return errors.Join(errs...)
}

// Now is the simulated clock.
func (f *Fleet) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the simulated clock by d and lets every meter consume over
// that span. Tests call it directly to run time as fast as they like.
func (f *Fleet) Advance(d time.Duration) {
	if d <= 0 {
		return // the clock only runs forward
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.gateways {
		for _, m := range g.meters {
			m.Advance(f.now, d)
		}
	}
	f.now = f.now.Add(d)
}

// Run starts a fleet and advances its clock by Tick×Speed every real Tick
// until ctx is done, then stops it. It is the body of `voltflow sim meters`.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Protocol != "" && cfg.Protocol != ProtocolModbusTCP {
		return runProtocol(ctx, cfg)
	}
	f, err := NewFleet(cfg)
	if err != nil {
		return err
	}
	if cfg.StatePath != "" {
		if err := f.Restore(cfg.StatePath); err != nil {
			return err
		}
		defer func() {
			if err := f.Save(cfg.StatePath); err != nil {
				f.cfg.Logger.Error("save simulator state", "error", err)
			}
		}()
	}
	if err := f.Start(ctx); err != nil {
		return err
	}
	for _, g := range f.gateways {
		f.cfg.Logger.Info("simulated gateway listening", "url", g.URL(), "meters", g.Meters())
	}
	step := time.Duration(float64(f.cfg.Tick) * f.cfg.Speed)
	t := time.NewTicker(f.cfg.Tick)
	defer t.Stop()
	for ticks := 1; ; ticks++ {
		select {
		case <-ctx.Done():
			return f.Stop()
		case <-t.C:
			f.Advance(step)
			if cfg.StatePath != "" && ticks%10 == 0 {
				_ = f.Save(cfg.StatePath) // a kill loses at most a few seconds of consumption
			}
		}
	}
}

// ParseMeterProfiles reads "3=ref-3phase-v1,7=ref-3phase-v1" (unit id =
// profile name) into Config.MeterProfiles; "" is none.
func ParseMeterProfiles(s string) (map[uint8]string, error) {
	out := map[uint8]string{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		unit, name, ok := strings.Cut(part, "=")
		u, err := strconv.Atoi(unit)
		if !ok || err != nil || u < 1 || u > 247 {
			return nil, fmt.Errorf("%q: want unit=profile with unit 1..247", part)
		}
		if _, err := profile.Load(name); err != nil {
			return nil, err
		}
		out[uint8(u)] = name
	}
	return out, nil
}
