package simulator

import (
	"context"
	"errors"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/internal/eventually"
)

func startFleet(t *testing.T, cfg Config) *Fleet {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	f, err := NewFleet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop() })
	return f
}

// rawClient talks to a gateway with the bare library, to see exactly what
// goes over the wire.
func rawClient(t *testing.T, url string) *mb.ModbusClient {
	t.Helper()
	c, err := mb.NewClient(&mb.ClientConfiguration{URL: url, Timeout: time.Second, Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestGatewayAnswersLikeTheProfile(t *testing.T) {
	f := startFleet(t, Config{Meters: 2, Meter: MeterConfig{Remaining: -200, UnitPrice: 6000, Mode: profile.ModeProtect}})
	c := rawClient(t, f.Gateway(0).URL())
	_ = c.SetUnitId(2)

	regs, err := c.ReadRegisters(0x0100, 3, mb.HOLDING_REGISTER)
	if err != nil {
		t.Fatal(err)
	}
	if regs[0] != 0xFFFF || regs[1] != 0xFF38 || regs[2] != 0 {
		t.Errorf("remaining/counter registers %04X", regs)
	}
	if err := c.WriteRegisters(0x0200, []uint16{1, 0, 1000}); err != nil {
		t.Fatalf("recharge: %v", err)
	}
	if s := f.Gateway(0).Meter(2).State(); s.Remaining != 800 || s.PurchaseCount != 1 {
		t.Errorf("after recharge %+v", s)
	}
	if s := f.Gateway(0).Meter(1).State(); s.Remaining != -200 {
		t.Errorf("unit 1 changed by a write to unit 2: %+v", s)
	}
}

func TestGatewayExceptions(t *testing.T) {
	f := startFleet(t, Config{Meters: 2, Meter: MeterConfig{Remaining: 1000}})
	c := rawClient(t, f.Gateway(0).URL())
	tests := []struct {
		name string
		unit uint8
		do   func() error
		want error
	}{
		{"unknown unit", 3, func() error { _, err := c.ReadRegisters(0, 2, mb.HOLDING_REGISTER); return err }, mb.ErrGWTargetFailedToRespond},
		{"unmapped read", 1, func() error { _, err := c.ReadRegisters(0x0300, 1, mb.HOLDING_REGISTER); return err }, mb.ErrIllegalDataAddress},
		{"read past an area", 1, func() error { _, err := c.ReadRegisters(0x0008, 12, mb.HOLDING_REGISTER); return err }, mb.ErrIllegalDataAddress},
		{"input registers", 1, func() error { _, err := c.ReadRegisters(0, 1, mb.INPUT_REGISTER); return err }, mb.ErrIllegalFunction},
		{"write without command", 1, func() error { return c.WriteRegister(0x0100, 1) }, mb.ErrIllegalDataAddress},
		{"bad control pattern", 1, func() error { return c.WriteRegisters(0x0057, []uint16{2, 2}) }, mb.ErrIllegalDataValue},
		{"bad clear magic", 1, func() error { return c.WriteRegister(0x0220, 0x1234) }, mb.ErrIllegalDataValue},
		{"bad mode", 1, func() error { return c.WriteRegister(0x0106, 7) }, mb.ErrIllegalDataValue},
		{"wrong counter", 1, func() error { return c.WriteRegisters(0x0200, []uint16{5, 0, 100}) }, mb.ErrServerDeviceFailure},
		{"refund too large", 1, func() error { return c.WriteRegisters(0x0210, []uint16{1, 0, 1001}) }, mb.ErrServerDeviceFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = c.SetUnitId(tt.unit)
			if err := tt.do(); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if s := f.Gateway(0).Meter(1).State(); s.Remaining != 1000 || s.PurchaseCount != 0 || s.Mode != 0 {
		t.Errorf("refused writes changed the meter: %+v", s)
	}
}

func TestGatewayStopClosesConnectionsAndRestartsOnSamePort(t *testing.T) {
	f := startFleet(t, Config{Meters: 1})
	g := f.Gateway(0)
	addr := g.Addr()
	c := rawClient(t, g.URL())
	if _, err := c.ReadRegisters(0, 1, mb.HOLDING_REGISTER); err != nil {
		t.Fatal(err)
	}

	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadRegisters(0, 1, mb.HOLDING_REGISTER); err == nil {
		t.Fatal("open connection still answered after Stop")
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = conn.Close()
		t.Fatal("listener still accepts after Stop")
	}

	if err := g.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if g.Addr() != addr {
		t.Errorf("restart moved %s to %s", addr, g.Addr())
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadRegisters(0, 1, mb.HOLDING_REGISTER); err != nil {
		t.Errorf("after restart: %v", err)
	}
}

func TestGatewayStopsWithItsContext(t *testing.T) {
	g := NewGateway("127.0.0.1:0", mustProfile(t), []*Meter{NewMeter(MeterConfig{})})
	ctx, cancel := context.WithCancel(t.Context())
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	eventually.True(t, 2*time.Second, "gateway stops listening after its context ended", func() (bool, string) {
		conn, err := net.DialTimeout("tcp", g.Addr(), time.Second)
		if err != nil {
			return true, ""
		}
		_ = conn.Close()
		return false, "a connection accepted"
	})
}

func TestFleetUsesConsecutivePorts(t *testing.T) {
	// Below the ephemeral range (32768-60999), where no outgoing connection
	// takes a port; another test may still hold one: try other bases.
	var f *Fleet
	var base int
	for attempt := 0; f == nil; attempt++ {
		base = 20000 + rand.IntN(12000)
		fl, err := NewFleet(Config{Addr: "127.0.0.1:" + strconv.Itoa(base), Gateways: 3, Meters: 4})
		if err == nil {
			err = fl.Start(t.Context())
		}
		switch {
		case err == nil:
			f = fl
			t.Cleanup(func() { _ = f.Stop() })
		case attempt == 20:
			t.Fatal(err)
		default:
			if fl != nil {
				_ = fl.Stop() // whatever of it started
			}
		}
	}
	for i, g := range f.Gateways() {
		if want := "127.0.0.1:" + strconv.Itoa(base+i); g.Addr() != want {
			t.Errorf("gateway %d at %s, want %s", i, g.Addr(), want)
		}
		if g.Meters() != 4 || g.Meter(4) == nil || g.Meter(5) != nil || g.Meter(0) != nil {
			t.Errorf("gateway %d: meters %d", i, g.Meters())
		}
	}
}

func TestFleetAdvanceRunsEveryMeter(t *testing.T) {
	f := startFleet(t, Config{Gateways: 2, Meters: 3, Start: at(12, 0),
		Meter: MeterConfig{Remaining: 10_000, UnitPrice: 6000, Load: 2000}})
	f.Advance(30 * time.Minute)
	if !f.Now().Equal(at(12, 30)) {
		t.Errorf("clock %v", f.Now())
	}
	for _, g := range f.Gateways() {
		for u := uint8(1); u <= 3; u++ {
			if s := g.Meter(u).State(); s.Energy != 100 || s.Remaining != 10_000-60 {
				t.Errorf("%s unit %d: energy %d remaining %d", g.Addr(), u, s.Energy, s.Remaining)
			}
		}
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	port := freePort(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Addr: "127.0.0.1:" + strconv.Itoa(port), Meters: 1,
			Meter: MeterConfig{Remaining: 10_000, UnitPrice: 6000, Load: 1000},
			Speed: 3600, Tick: 10 * time.Millisecond}) // a simulated hour per real second
	}()

	url := "tcp://127.0.0.1:" + strconv.Itoa(port)
	eventually.True(t, 5*time.Second, "consumption seen through the socket", func() (bool, string) {
		c, err := mb.NewClient(&mb.ClientConfiguration{URL: url, Logger: log.New(io.Discard, "", 0)})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Open(); err != nil {
			return false, err.Error()
		}
		defer func() { _ = c.Close() }()
		energy, err := c.ReadUint32(0x0000, mb.HOLDING_REGISTER)
		if err != nil {
			return false, err.Error()
		}
		return energy != 0, "energy 0"
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestNewFleetRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Addr: "nonsense"},
		{Addr: "127.0.0.1:65535", Gateways: 2},
		{Addr: "127.0.0.1:0", Meters: 248},
		{Addr: "127.0.0.1:0", Profile: "no-such-meter"},
	} {
		if _, err := NewFleet(cfg); err == nil {
			t.Errorf("NewFleet(%+v) succeeded", cfg)
		}
	}
}

func mustProfile(t *testing.T) *profile.Profile {
	t.Helper()
	p, err := profile.Load(profile.RefPrepaidV1)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// freePort finds a port with room for a few consecutive ones after it.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}
