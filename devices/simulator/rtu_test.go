package simulator

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/devices/profile"
)

func startRTU(t *testing.T, n int, mc MeterConfig) *RTUGateway {
	t.Helper()
	prof, err := profile.Load(profile.RefPrepaidV1)
	if err != nil {
		t.Fatal(err)
	}
	meters := make([]*Meter, n)
	for i := range meters {
		meters[i] = NewMeter(mc)
	}
	g := NewRTUGateway("127.0.0.1:0", prof, meters)
	if err := g.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Stop() })
	return g
}

// The CRC of a textbook frame: read 1 register at 0 of unit 1 is
// 01 03 00 00 00 01 84 0A.
func TestCRC16KnownFrame(t *testing.T) {
	got := EncodeRTURequest(RTURequest{Unit: 1, Function: fnReadHolding, Addr: 0, Quantity: 1})
	want := []byte{0x01, 0x03, 0x00, 0x00, 0x00, 0x01, 0x84, 0x0A}
	if !bytes.Equal(got, want) {
		t.Fatalf("frame % X, want % X", got, want)
	}
	if _, err := DecodeRTURequest(append(want[:6:6], 0x84, 0x0B)); !errors.Is(err, ErrRTUCRC) {
		t.Fatalf("bad CRC decoded: %v", err)
	}
}

// The platform's Modbus client, over rtuovertcp://, reads, recharges and
// switches a simulated meter: the framing is the library's RTU framing.
func TestRTUGatewayWithModbusClient(t *testing.T) {
	ctx := context.Background()
	g := startRTU(t, 3, MeterConfig{Remaining: 5000, UnitPrice: 12000, Alarm1: 2000, Alarm2: 1000, Load: 1000})
	c, err := modbus.New(modbus.Config{URL: g.URL(), Profile: g.g.prof, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()

	s, err := c.ReadMeter(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if s.Remaining != 5000 || s.UnitPrice != 12000 || s.Voltage != 2200 || s.Power != 1000 || s.Relay != profile.RelayClosed {
		t.Fatalf("snapshot %+v", s)
	}
	if err := c.Recharge(ctx, 2, 1, 1234); err != nil {
		t.Fatal(err)
	}
	if err := c.Recharge(ctx, 2, 1, 1234); !errors.Is(err, modbus.ErrRefused) {
		t.Fatalf("replayed recharge: %v, want ErrRefused (exception 04)", err)
	}
	if st := g.Meter(2).State(); st.Remaining != 6234 || st.PurchaseCount != 1 {
		t.Fatalf("after recharge: remaining %d, count %d", st.Remaining, st.PurchaseCount)
	}
	if err := c.SwitchOff(ctx, 3); err != nil { // function 16 on the control register
		t.Fatal(err)
	}
	if g.Meter(3).State().Relay != profile.RelayOpen {
		t.Fatal("switch off did not open the relay")
	}
	if err := c.SetMode(ctx, 3, profile.ModeProtect); err != nil { // function 06
		t.Fatal(err)
	}
	if st := g.Meter(3).State(); st.Mode != profile.ModeProtect || st.Relay != profile.RelayClosed {
		t.Fatalf("after protect: %+v", st)
	}

	// A dead meter is silence on a transparent converter: the client times
	// out, and the next meter on the same gateway still answers.
	g.Meter(1).SetDead(true)
	if _, err := c.ReadMeter(ctx, 1); !errors.Is(err, modbus.ErrUnreachable) {
		t.Fatalf("dead meter: %v, want ErrUnreachable", err)
	}
	if _, err := c.ReadMeter(ctx, 2); err != nil {
		t.Fatalf("live meter after a dead one: %v", err)
	}

	// An outage and a recovery on the same port.
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadMeter(ctx, 2); !errors.Is(err, modbus.ErrUnreachable) {
		t.Fatalf("stopped gateway: %v", err)
	}
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadMeter(ctx, 2); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

// Exceptions and the frames nobody should answer, seen on the raw socket.
func TestRTUGatewayExceptionsOnTheWire(t *testing.T) {
	g := startRTU(t, 2, MeterConfig{Remaining: 100})
	conn, err := net.Dial("tcp", g.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	ask := func(frame []byte, wantLen int) []byte {
		t.Helper()
		if _, err := conn.Write(frame); err != nil {
			t.Fatal(err)
		}
		if wantLen == 0 {
			return nil
		}
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, wantLen)
		n, err := io.ReadFull(br, buf)
		if err != nil {
			t.Fatalf("% X: read %d of %d bytes: %v", frame, n, wantLen, err)
		}
		if crc := CRC16(buf[:wantLen-2]); buf[wantLen-2] != byte(crc) || buf[wantLen-1] != byte(crc>>8) {
			t.Fatalf("response % X: bad CRC", buf)
		}
		return buf
	}
	// Unmapped register: exception 02.
	if r := ask(EncodeRTURequest(RTURequest{Unit: 1, Function: fnReadHolding, Addr: 0x0500, Quantity: 2}), 5); r[1] != 0x83 || r[2] != 0x02 {
		t.Errorf("unmapped read: % X, want 01 83 02", r)
	}
	// Refused recharge (counter not current+1): exception 04.
	if r := ask(EncodeRTURequest(RTURequest{Unit: 2, Function: fnWriteMultiple, Addr: 0x0200, Regs: []uint16{5, 0, 100}}), 5); r[1] != 0x90 || r[2] != 0x04 {
		t.Errorf("refused recharge: % X, want 02 90 04", r)
	}
	// Unknown function: exception 01.
	if r := ask(appendCRC([]byte{1, 0x2B, 0x0E, 0x01, 0x00}), 5); r[1] != 0xAB || r[2] != 0x01 {
		t.Errorf("unknown function: % X, want 01 AB 01", r)
	}
	// Bad CRC and an absent unit: silence, then a good frame is answered.
	bad := EncodeRTURequest(RTURequest{Unit: 1, Function: fnReadHolding, Addr: 0x0100, Quantity: 2})
	bad[7] ^= 0xFF
	ask(bad, 0)
	time.Sleep(50 * time.Millisecond) // let the converter resynchronise
	ask(EncodeRTURequest(RTURequest{Unit: 9, Function: fnReadHolding, Addr: 0x0100, Quantity: 2}), 0)
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _ := br.Read(make([]byte, 16)); n != 0 {
		t.Errorf("%d bytes answered to a garbled frame or an absent unit", n)
	}
	r := ask(EncodeRTURequest(RTURequest{Unit: 1, Function: fnReadHolding, Addr: 0x0100, Quantity: 2}), 9)
	if r[1] != 0x03 || r[2] != 4 || r[5] != 0 || r[6] != 100 {
		t.Errorf("remaining read: % X, want 100 (0x64)", r)
	}
}
