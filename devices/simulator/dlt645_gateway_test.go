package simulator

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/dlt645"
	"github.com/voltflow/voltflow/devices/profile"
)

func startDLT(t *testing.T, n int, mc MeterConfig) *DLTGateway {
	t.Helper()
	meters := make([]*Meter, n)
	for i := range meters {
		meters[i] = NewMeter(mc)
	}
	g, err := NewDLTGateway("127.0.0.1:0", 0, DefaultDLTAuth, meters)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Stop() })
	return g
}

// The published frame of meters.md, sent as bytes, gets meter 000000000001's
// total energy back.
func TestDLTGatewayAnswersThePublishedFrame(t *testing.T) {
	g := startDLT(t, 2, MeterConfig{Remaining: 5000, UnitPrice: 12000, Load: 2000})
	g.Meter(1).Advance(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), 3*time.Hour) // 6 kWh
	conn, err := net.Dial("tcp", g.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte{0x68, 0x01, 0, 0, 0, 0, 0, 0x68, 0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0xB3, 0x16}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	f, err := dlt645.ReadFrame(bufio.NewReader(conn))
	if err != nil {
		t.Fatal(err)
	}
	it, _ := dlt645.Lookup(dlt645.DIForwardActiveEnergyTotal)
	v, err := dlt645.ParseReadResponse(f, it)
	if err != nil {
		t.Fatal(err)
	}
	if f.Address != g.MeterAddress(1) || v != 600 {
		t.Fatalf("answer from %s: %d (0.01 kWh), want 000000000001 and 600", f.Address, v)
	}
}

// The client reads every identifier of meters.md and runs every remote
// control command; wrong credentials, an unknown meter and a dead one give
// the errors a caller decides on.
func TestDLTClientAgainstGateway(t *testing.T) {
	ctx := context.Background()
	g := startDLT(t, 3, MeterConfig{Remaining: 4321, UnitPrice: 12000, Load: 1100})
	if err := g.Meter(2).Recharge(1, 100); err != nil {
		t.Fatal(err)
	}
	c := dlt645.NewClient(dlt645.ClientConfig{Addr: g.Addr(), Timeout: 300 * time.Millisecond})
	defer func() { _ = c.Close() }()

	r, err := c.ReadMeter(ctx, g.MeterAddress(2))
	if err != nil {
		t.Fatal(err)
	}
	st := g.Meter(2).State()
	want := dlt645.MeterReading{Address: g.MeterAddress(2), Energy: st.Energy, Voltage: 2200,
		Current: st.Current * 10, Power: 11000, Remaining: 4421, PurchaseCount: 1,
		RunStatus3: 0b10 << 8, HasRunStatus: true} // a money-type prepaid meter, relay closed
	if r != want {
		t.Fatalf("reading %+v, want %+v", r, want)
	}

	rc := func(cmd dlt645.ControlCommand) dlt645.RemoteControl {
		return dlt645.RemoteControl{Password: DefaultDLTAuth.Password, Operator: DefaultDLTAuth.Operator, Command: cmd}
	}
	addr := g.MeterAddress(3)
	m := g.Meter(3)
	steps := []struct {
		cmd               dlt645.ControlCommand
		wantRelay, wantMd uint16
	}{
		{dlt645.CmdSwitchOff, profile.RelayOpen, profile.ModePrepaid},
		{dlt645.CmdSwitchOnDirect, profile.RelayClosed, profile.ModePrepaid},
		{dlt645.CmdSwitchOff, profile.RelayOpen, profile.ModePrepaid},
		{dlt645.CmdSwitchOnAllowed, profile.RelayClosed, profile.ModePrepaid},
		{dlt645.CmdProtect, profile.RelayClosed, profile.ModeProtect},
		{dlt645.CmdProtectReleased, profile.RelayClosed, profile.ModePrepaid},
	}
	for _, s := range steps {
		if err := c.RemoteControl(ctx, addr, rc(s.cmd)); err != nil {
			t.Fatalf("command %s: %v", s.cmd, err)
		}
		if got := m.State(); got.Relay != s.wantRelay || got.Mode != s.wantMd {
			t.Fatalf("after %s: relay %d mode %d, want %d %d", s.cmd, got.Relay, got.Mode, s.wantRelay, s.wantMd)
		}
		// Run status word 3 tells the relay over the wire (bit 4), and a
		// switch-off command in force (bit 6).
		r, err := c.ReadMeter(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		open := r.RunStatus3&dlt645.Status3RelayOpen != 0
		commanded := r.RunStatus3&dlt645.Status3RelayCommandOpen != 0
		if open != (s.wantRelay == profile.RelayOpen) || commanded != (s.cmd == dlt645.CmdSwitchOff) {
			t.Fatalf("after %s: run status word 3 %#04x", s.cmd, r.RunStatus3)
		}
	}
	// Protect mode refuses a switch off: an abnormal answer, relay stays closed.
	if err := c.RemoteControl(ctx, addr, rc(dlt645.CmdProtect)); err != nil {
		t.Fatal(err)
	}
	var me *dlt645.MeterError
	if err := c.RemoteControl(ctx, addr, rc(dlt645.CmdSwitchOff)); !errors.As(err, &me) || m.State().Relay != profile.RelayClosed {
		t.Fatalf("switch off in protect mode: %v, relay %d", err, m.State().Relay)
	}

	bad := rc(dlt645.CmdSwitchOff)
	bad.Password.Code = 0x654321
	if err := c.RemoteControl(ctx, g.MeterAddress(1), bad); !errors.Is(err, dlt645.CodeUnauthorized) {
		t.Fatalf("wrong password: %v, want CodeUnauthorized", err)
	}
	bad = rc(dlt645.CmdSwitchOff)
	bad.Operator = 99
	if err := c.RemoteControl(ctx, g.MeterAddress(1), bad); !errors.Is(err, dlt645.CodeUnauthorized) {
		t.Fatalf("wrong operator: %v, want CodeUnauthorized", err)
	}
	expired := rc(dlt645.CmdSwitchOff)
	expired.ValidUntil = time.Now().Add(-time.Minute)
	if err := c.RemoteControl(ctx, g.MeterAddress(1), expired); !errors.As(err, &me) {
		t.Fatalf("expired command: %v, want a meter error", err)
	}
	if g.Meter(1).State().Relay != profile.RelayClosed {
		t.Fatal("a refused command switched meter 1 off")
	}

	// Silence: an address nobody has, a dead meter. The next request works.
	nobody, _ := dlt645.ParseAddress("000000000099")
	if _, err := c.Read(ctx, nobody, dlt645.DIVoltageA); !errors.Is(err, dlt645.ErrUnreachable) {
		t.Fatalf("unknown meter: %v", err)
	}
	g.Meter(1).SetDead(true)
	if _, err := c.ReadMeter(ctx, g.MeterAddress(1)); !errors.Is(err, dlt645.ErrUnreachable) {
		t.Fatalf("dead meter: %v", err)
	}
	if _, err := c.Read(ctx, g.MeterAddress(2), dlt645.DIPurchaseCount); err != nil {
		t.Fatalf("live meter after silence: %v", err)
	}
	// An identifier the meter does not serve: abnormal answer, "no data".
	if _, err := c.Do(ctx, dlt645.ReadRequest(addr, 0x04000101)); err != nil {
		t.Fatal(err)
	} else if f, _ := c.Do(ctx, dlt645.ReadRequest(addr, 0x04000101)); !f.Control.IsAbnormal() || len(f.Data) != 1 || dlt645.ErrorCode(f.Data[0]) != dlt645.CodeNoData {
		t.Fatalf("unserved identifier: %+v", f)
	}

	// Concurrent callers share the one connection, one request at a time.
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := c.ReadMeter(ctx, g.MeterAddress(2))
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// A Fleet's meters behind DL/T 645 servers: the sim command's path.
func TestFleetServersDLT645(t *testing.T) {
	f, err := NewFleet(Config{Addr: "127.0.0.1:0", Gateways: 2, Meters: 2, Meter: MeterConfig{Remaining: 777}})
	if err != nil {
		t.Fatal(err)
	}
	servers, err := f.Servers(ProtocolDLT645)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.Stop() }()
	}
	d := servers[1].(*DLTGateway)
	c := dlt645.NewClient(dlt645.ClientConfig{Addr: d.Addr(), Timeout: 300 * time.Millisecond})
	defer func() { _ = c.Close() }()
	addr, _ := dlt645.ParseAddress("000000001002") // gateway 1, unit 2
	v, err := c.Read(context.Background(), addr, dlt645.DIRemainingMoney)
	if err != nil || v != 777 {
		t.Fatalf("remaining of %s: %d, %v", addr, v, err)
	}
	if _, err := f.Servers("zigbee"); err == nil {
		t.Fatal("unknown protocol accepted")
	}
}
