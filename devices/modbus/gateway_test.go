package modbus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/internal/eventually"
)

var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))

// setup serves meters on a real socket and returns a client for them.
func setup(t *testing.T, cfg simulator.Config) (*simulator.Fleet, *modbus.Gateway) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Meters == 0 {
		cfg.Meters = 4
	}
	cfg.Start = start
	f, err := simulator.NewFleet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop() })
	return f, client(t, f.Gateway(0).URL(), time.Second)
}

func client(t *testing.T, url string, timeout time.Duration) *modbus.Gateway {
	t.Helper()
	p, err := profile.Load(profile.RefPrepaidV1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := modbus.New(modbus.Config{URL: url, Profile: p, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

var standard = simulator.MeterConfig{Remaining: 10_000, UnitPrice: 6000, Alarm1: 2000, Alarm2: 500, Load: 1000}

func TestReadMeterMatchesSimulator(t *testing.T) {
	f, g := setup(t, simulator.Config{Meter: standard})
	f.Advance(7 * time.Hour) // 12:00–19:00: flat, then peak
	m := f.Gateway(0).Meter(3)
	if err := m.Recharge(1, 1234); err != nil {
		t.Fatal(err)
	}

	got, err := g.ReadMeter(t.Context(), 3)
	if err != nil {
		t.Fatal(err)
	}
	s := m.State()
	want := modbus.Snapshot{
		Unit:   3,
		Energy: s.Energy, EnergySharp: s.TOU[simulator.Sharp], EnergyPeak: s.TOU[simulator.Peak],
		EnergyFlat: s.TOU[simulator.Flat], EnergyValley: s.TOU[simulator.Valley],
		Voltage: s.Voltage, Current: s.Current, Power: s.Power, PowerFactor: s.PowerFactor,
		Remaining: s.Remaining, PurchaseCount: s.PurchaseCount, CumulativePurchased: s.CumulativePurchased,
		Relay: s.Relay, Mode: s.Mode, Alarm1: s.Alarm1, Alarm2: s.Alarm2, UnitPrice: s.UnitPrice, Status: s.Status,
	}
	if len(got.Values) != 18 || got.Values[profile.Remaining] != s.Remaining {
		t.Errorf("Values = %v", got.Values)
	}
	got.Values = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadMeter\n got %+v\nwant %+v", got, want)
	}
	// 7 kWh at 0.6 yuan: 4.20 yuan used; 6 h flat + 1 h peak.
	if got.Energy != 700 || got.EnergyFlat != 600 || got.EnergyPeak != 100 || got.Remaining != 10_000-420+1234 {
		t.Errorf("unexpected readings %+v", got)
	}
}

func TestRecharge(t *testing.T) {
	tests := []struct {
		name      string
		counter   uint16
		amount    uint32
		wantErr   error
		wantCount uint16
		wantMoney int64
	}{
		{"next counter credits", 3, 5000, nil, 3, 15_000},
		{"replay of the last counter", 2, 5000, modbus.ErrRefused, 2, 10_000},
		{"counter skipping ahead", 4, 5000, modbus.ErrRefused, 2, 10_000},
		{"counter zero", 0, 5000, modbus.ErrRefused, 2, 10_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, g := setup(t, simulator.Config{Meter: simulator.MeterConfig{UnitPrice: 6000}})
			// Bring unit 1 to counter 2, 100.00 yuan.
			for i, a := range []uint32{4000, 6000} {
				if err := g.Recharge(t.Context(), 1, uint16(i+1), a); err != nil {
					t.Fatal(err)
				}
			}
			err := g.Recharge(t.Context(), 1, tt.counter, tt.amount)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil && errors.Is(err, modbus.ErrUnreachable) {
				t.Errorf("a refusal also reads as unreachable: %v", err)
			}
			var ex *modbus.ExceptionError
			if tt.wantErr != nil && (!errors.As(err, &ex) || ex.Code != modbus.ExDeviceFailure || ex.Unit != 1) {
				t.Errorf("refusal is not exception 04 from unit 1: %v", err)
			}
			s, err := g.ReadMeter(t.Context(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if s.PurchaseCount != tt.wantCount || s.Remaining != tt.wantMoney {
				t.Errorf("counter %d remaining %d, want %d %d", s.PurchaseCount, s.Remaining, tt.wantCount, tt.wantMoney)
			}
			if other := f.Gateway(0).Meter(2).State(); other.PurchaseCount != 0 {
				t.Errorf("unit 2 touched: %+v", other)
			}
		})
	}
}

func TestRefund(t *testing.T) {
	tests := []struct {
		name      string
		counter   uint16
		amount    uint32
		wantErr   error
		wantMoney int64
	}{
		{"part", 2, 3000, nil, 7000},
		{"all", 2, 10_000, nil, 0},
		{"more than remains", 2, 10_001, modbus.ErrRefused, 10_000},
		{"stale counter", 1, 100, modbus.ErrRefused, 10_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, g := setup(t, simulator.Config{Meter: simulator.MeterConfig{UnitPrice: 6000}})
			if err := g.Recharge(t.Context(), 1, 1, 10_000); err != nil {
				t.Fatal(err)
			}
			err := g.Refund(t.Context(), 1, tt.counter, tt.amount)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			s, _ := g.ReadMeter(t.Context(), 1)
			if s.Remaining != tt.wantMoney {
				t.Errorf("remaining %d, want %d", s.Remaining, tt.wantMoney)
			}
		})
	}
}

func TestSwitchModeAndClear(t *testing.T) {
	ctx := t.Context()
	_, g := setup(t, simulator.Config{Meter: standard})
	read := func() modbus.Snapshot {
		t.Helper()
		s, err := g.ReadMeter(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	steps := []struct {
		name      string
		do        func() error
		wantErr   error
		wantRelay uint16
		wantMode  uint16
	}{
		{"switch off", func() error { return g.SwitchOff(ctx, 2) }, nil, profile.RelayOpen, profile.ModePrepaid},
		{"switch on", func() error { return g.SwitchOn(ctx, 2) }, nil, profile.RelayClosed, profile.ModePrepaid},
		{"protect", func() error { return g.SetMode(ctx, 2, profile.ModeProtect) }, nil, profile.RelayClosed, profile.ModeProtect},
		{"switch off refused in protect", func() error { return g.SwitchOff(ctx, 2) }, modbus.ErrRefused, profile.RelayClosed, profile.ModeProtect},
		{"forced off", func() error { return g.SetMode(ctx, 2, profile.ModeForcedOff) }, nil, profile.RelayOpen, profile.ModeForcedOff},
		{"prepaid", func() error { return g.SetMode(ctx, 2, profile.ModePrepaid) }, nil, profile.RelayClosed, profile.ModePrepaid},
		{"clear trips", func() error { return g.ClearRemaining(ctx, 2) }, nil, profile.RelayOpen, profile.ModePrepaid},
	}
	for _, st := range steps {
		if err := st.do(); !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
			t.Fatalf("%s: err = %v, want %v", st.name, err, st.wantErr)
		}
		if s := read(); s.Relay != st.wantRelay || s.Mode != st.wantMode {
			t.Errorf("%s: relay %d mode %d, want %d %d", st.name, s.Relay, s.Mode, st.wantRelay, st.wantMode)
		}
	}
	s := read()
	if s.Remaining != 0 || s.Status&profile.StatusArrearsTrip == 0 {
		t.Errorf("after clear: remaining %d status %05b", s.Remaining, s.Status)
	}

	// Meter-side validation that is not a refusal: an exception, but neither
	// ErrRefused nor ErrUnreachable.
	err := g.SetMode(ctx, 2, 9)
	var ex *modbus.ExceptionError
	if !errors.As(err, &ex) || ex.Code != modbus.ExIllegalDataValue || errors.Is(err, modbus.ErrRefused) || errors.Is(err, modbus.ErrUnreachable) {
		t.Errorf("mode 9: %v", err)
	}
}

func TestConsumptionTripsUnlessProtected(t *testing.T) {
	for _, mode := range []uint16{profile.ModePrepaid, profile.ModeProtect} {
		f, g := setup(t, simulator.Config{Meter: simulator.MeterConfig{Remaining: 300, UnitPrice: 6000, Load: 1000}})
		if err := g.SetMode(t.Context(), 1, mode); err != nil {
			t.Fatal(err)
		}
		f.Advance(10 * time.Hour) // 3.00 yuan lasts 5 kWh = 5 h
		s, err := g.ReadMeter(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		tripped := s.Relay == profile.RelayOpen && s.Status&profile.StatusArrearsTrip != 0
		switch mode {
		case profile.ModePrepaid:
			if !tripped || s.Remaining != 0 || s.Energy != 500 || s.Power != 0 {
				t.Errorf("prepaid: %+v", s)
			}
			// Money back closes the relay again.
			if err := g.Recharge(t.Context(), 1, s.PurchaseCount+1, 1000); err != nil {
				t.Fatal(err)
			}
			if s, _ := g.ReadMeter(t.Context(), 1); s.Relay != profile.RelayClosed || s.Power != 1000 {
				t.Errorf("after recharge: %+v", s)
			}
		case profile.ModeProtect:
			if tripped || s.Remaining != 300-600 || s.Energy != 1000 {
				t.Errorf("protect: %+v", s)
			}
		}
	}
}

func TestOutageIsATransportError(t *testing.T) {
	f, g := setup(t, simulator.Config{Meter: standard})
	ctx := t.Context()
	if _, err := g.ReadMeter(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct {
		name string
		do   func() error
	}{
		{"read", func() error { _, err := g.ReadMeter(ctx, 1); return err }},
		{"recharge", func() error { return g.Recharge(ctx, 1, 1, 100) }},
		{"switch off", func() error { return g.SwitchOff(ctx, 1) }},
	} {
		err := call.do()
		if !errors.Is(err, modbus.ErrUnreachable) || errors.Is(err, modbus.ErrRefused) {
			t.Errorf("%s during outage: %v, want ErrUnreachable", call.name, err)
		}
	}
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := g.ReadMeter(ctx, 1)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if s.PurchaseCount != 0 {
		t.Errorf("a write during the outage reached the meter: %+v", s)
	}
	if err := g.Recharge(ctx, 1, 1, 100); err != nil {
		t.Errorf("recharge after restart: %v", err)
	}
}

func TestReadSurvivesAConnectionDroppedWhileIdle(t *testing.T) {
	f, g := setup(t, simulator.Config{Meter: standard})
	if _, err := g.ReadMeter(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	// A restart between polls closes our idle connection under us.
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := f.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := g.ReadMeter(t.Context(), 1); err != nil {
		t.Errorf("read on a dropped idle connection: %v", err)
	}
}

func TestConcurrentUnitsOverOneConnection(t *testing.T) {
	const units = 8
	f, g := setup(t, simulator.Config{Meters: units, Meter: simulator.MeterConfig{UnitPrice: 6000}})
	for u := uint8(1); u <= units; u++ {
		// Unit u holds u yuan after u recharges, so answers cannot be confused.
		m := f.Gateway(0).Meter(u)
		for c := uint16(1); c <= uint16(u); c++ {
			if err := m.Recharge(c, 100); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			u := uint8(i%units + 1)
			s, err := g.ReadMeter(t.Context(), u)
			switch {
			case err != nil:
				errs <- err
			case s.Unit != u || s.Remaining != int64(u)*100 || s.PurchaseCount != uint16(u):
				errs <- fmt.Errorf("unit %d answered %+v", u, s)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestUnknownUnitAndBadUnit(t *testing.T) {
	_, g := setup(t, simulator.Config{Meters: 2})
	_, err := g.ReadMeter(t.Context(), 9)
	var ex *modbus.ExceptionError
	if !errors.Is(err, modbus.ErrUnreachable) || !errors.As(err, &ex) || ex.Code != modbus.ExGatewayTarget {
		t.Errorf("unit 9: %v, want gateway-target exception read as unreachable", err)
	}
	if _, err := g.ReadMeter(t.Context(), 1); err != nil {
		t.Errorf("connection unusable after an exception: %v", err)
	}
	for _, u := range []uint8{0, 248} {
		if _, err := g.ReadMeter(t.Context(), u); !errors.Is(err, modbus.ErrBadUnit) {
			t.Errorf("unit %d: %v", u, err)
		}
	}
}

func TestTimeoutAndQueueing(t *testing.T) {
	// Each request holds the simulated bus for 150 ms.
	f, _ := setup(t, simulator.Config{Meters: 2, Latency: 150 * time.Millisecond})

	slow := client(t, f.Gateway(0).URL(), 50*time.Millisecond)
	begin := time.Now()
	_, err := slow.ReadMeter(t.Context(), 1)
	if !errors.Is(err, modbus.ErrUnreachable) {
		t.Errorf("timed-out read: %v, want ErrUnreachable", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("timeout took %v", d)
	}

	// While one read holds the connection, a caller whose deadline passes in
	// the queue gives up without touching the wire.
	wire := newRelay(t, f.Gateway(0).Addr())
	g := client(t, "tcp://"+wire.addr, 2*time.Second)
	busy := make(chan error, 1)
	go func() { _, err := g.ReadMeter(t.Context(), 1); busy <- err }()
	eventually.True(t, 5*time.Second, "the first read on the wire", func() (bool, string) {
		n := wire.forwarded.Load()
		return n > 0, fmt.Sprint(n, " bytes forwarded")
	})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.ReadMeter(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued read: %v, want DeadlineExceeded", err)
	}
	if err := <-busy; err != nil {
		t.Errorf("read holding the connection: %v", err)
	}
}

// relay passes TCP connections through to target, counting the bytes it
// forwarded toward it: how a test sees that a request went on the wire.
type relay struct {
	addr      string
	forwarded atomic.Int64
}

func newRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{addr: ln.Addr().String()}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			go func() {
				defer out.Close()
				buf := make([]byte, 512)
				for {
					n, err := in.Read(buf)
					if n > 0 {
						if _, err := out.Write(buf[:n]); err != nil {
							return
						}
						r.forwarded.Add(int64(n))
					}
					if err != nil {
						return
					}
				}
			}()
			go func() {
				defer in.Close()
				_, _ = io.Copy(in, out)
			}()
		}
	}()
	return r
}

func TestClose(t *testing.T) {
	_, g := setup(t, simulator.Config{Meters: 1})
	if _, err := g.ReadMeter(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := g.ReadMeter(t.Context(), 1); !errors.Is(err, modbus.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestNewValidatesURL(t *testing.T) {
	p, _ := profile.Load(profile.RefPrepaidV1)
	for url, ok := range map[string]bool{
		"tcp://127.0.0.1:502":        true,
		"rtuovertcp://10.0.0.7:4001": true,
		"127.0.0.1:502":              true,
		"udp://127.0.0.1:502":        false,
		"rtu:///dev/ttyUSB0":         false,
		// A gateway's own pipelining window.
		"tcp://127.0.0.1:502?max_in_flight=1":        true,
		"127.0.0.1:502?max_in_flight=256":            true,
		"rtuovertcp://10.0.0.7:4001?max_in_flight=1": true,
		"tcp://127.0.0.1:502?max_in_flight=0":        false,
		"tcp://127.0.0.1:502?max_in_flight=257":      false,
		"tcp://127.0.0.1:502?max_in_flight=two":      false,
		"tcp://127.0.0.1:502?max_in_flight=1&x=1":    false,
		"tcp://127.0.0.1:502?maxInFlight=1":          false,
		"rtuovertcp://10.0.0.7:4001?max_in_flight=2": false,
	} {
		g, err := modbus.New(modbus.Config{URL: url, Profile: p})
		if (err == nil) != ok {
			t.Errorf("New(%q): %v", url, err)
		}
		if g != nil {
			_ = g.Close()
		}
	}
	if _, err := modbus.New(modbus.Config{URL: "tcp://x:1"}); err == nil {
		t.Error("New without profile succeeded")
	}
}

// ReadMeters pipelines a window of meters at a time; each meter's answer
// lands on that meter, and a meter that does not answer fails alone.
func TestReadMetersPipelined(t *testing.T) {
	const units = 7
	f, _ := setup(t, simulator.Config{Meters: units, Meter: simulator.MeterConfig{UnitPrice: 6000}})
	for u := uint8(1); u <= units; u++ {
		m := f.Gateway(0).Meter(u)
		for c := uint16(1); c <= uint16(u); c++ { // unit u holds u yuan
			if err := m.Recharge(c, 100); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.Gateway(0).Meter(3).SetDead(true)
	p, _ := profile.Load(profile.RefPrepaidV1)
	for _, inFlight := range []int{1, 4, 64} { // one request at a time, two meters a turn, all at once
		g, err := modbus.New(modbus.Config{URL: f.Gateway(0).URL(), Profile: p, Timeout: time.Second, MaxInFlight: inFlight})
		if err != nil {
			t.Fatal(err)
		}
		res := g.ReadMeters(t.Context(), []uint8{1, 2, 3, 4, 9, 0, 5, 6, 7})
		_ = g.Close()
		for i, u := range []uint8{1, 2, 3, 4, 9, 0, 5, 6, 7} {
			r := res[i]
			var ex *modbus.ExceptionError
			switch {
			case u == 0:
				if !errors.Is(r.Err, modbus.ErrBadUnit) {
					t.Errorf("in flight %d, unit 0: %v", inFlight, r.Err)
				}
			case u == 3 || u == 9: // dead, absent: the gateway answers 0B for them
				if !errors.As(r.Err, &ex) || ex.Code != modbus.ExGatewayTarget {
					t.Errorf("in flight %d, unit %d: %v, want exception 0B", inFlight, u, r.Err)
				}
			case r.Err != nil:
				t.Errorf("in flight %d, unit %d: %v", inFlight, u, r.Err)
			case r.Unit != u || r.Remaining != int64(u)*100 || r.PurchaseCount != uint16(u) || r.Values != nil:
				t.Errorf("in flight %d, unit %d answered %+v", inFlight, u, r.Snapshot)
			}
		}
	}
}

// A gateway that drops requests arriving while it answers is found out by
// the first pipelined read (one answer, then silence; the request alone is
// answered): the client falls back to one request at a time and still
// reads every meter. Its URL's max_in_flight=1 does so from the start.
func TestMaxInFlightFromURL(t *testing.T) {
	const units = 6
	f, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Meters: units, Start: start,
		Meter: standard, Latency: 5 * time.Millisecond, NoPipelining: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop() })
	all := []uint8{1, 2, 3, 4, 5, 6}
	failed := func(g *modbus.Gateway) (n int) {
		for _, r := range g.ReadMeters(t.Context(), all) {
			if r.Err != nil {
				n++
			}
		}
		return n
	}
	pipelined := client(t, f.Gateway(0).URL(), 200*time.Millisecond)
	if no, _ := pipelined.PipeliningUnsupported(); no {
		t.Fatal("unsupported before any request")
	}
	if n := failed(pipelined); n != 0 {
		t.Fatalf("%d of %d meters failed on the default window: no fallback", n, units)
	}
	if no, at := pipelined.PipeliningUnsupported(); !no || at.IsZero() {
		t.Fatalf("pipelining unsupported %v at %v after the fallback", no, at)
	}
	one := client(t, f.Gateway(0).URL()+"?max_in_flight=1", 200*time.Millisecond)
	if one.URL() != f.Gateway(0).URL() {
		t.Errorf("URL() = %q, want it without options", one.URL())
	}
	if n := failed(one); n != 0 {
		t.Fatalf("%d of %d meters failed with max_in_flight=1", n, units)
	}
	if no, _ := one.PipeliningUnsupported(); no {
		t.Error("a client that never pipelined says pipelining is unsupported")
	}
}
