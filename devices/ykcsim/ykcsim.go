// Package ykcsim simulates YKC (云快充) DC chargers over TCP with the
// devices/ykc codec: login, heartbeat, billing model check and download,
// real-time data, remote start and stop with a BMS that behaves (SOC rising,
// demand voltage and current tapering, cell temperatures climbing),
// transaction records, time sync, reboot and random faults. One goroutine
// and a few hundred bytes of state per charger, so one process holds
// thousands.
package ykcsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/voltflow/voltflow/devices/ykc"
)

// Config of a simulated fleet.
type Config struct {
	Addr              string        // YKC server, host:port
	HeartbeatInterval time.Duration // default 10 s (the specification's)
	RealTimeInterval  time.Duration // 0x13 while idle; default 15 s (every 5 s while charging)
	BMSInterval       time.Duration // 0x23/0x25 while charging; default 10 s
	PowerKW           float64       // per gun while charging; default 60
	FaultRate         float64       // chance per real-time tick of a fault starting (or ending); default 0
	Zone              *time.Location
	Log               *slog.Logger
	// Handled, when set, is told how long the server took to answer each
	// request the charger sent that expects an answer (benchmarks).
	Handled func(frameType byte, d time.Duration)
}

func (c *Config) defaults() {
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 10 * time.Second
	}
	if c.RealTimeInterval <= 0 {
		c.RealTimeInterval = 15 * time.Second
	}
	if c.BMSInterval <= 0 {
		c.BMSInterval = 10 * time.Second
	}
	if c.PowerKW <= 0 {
		c.PowerKW = 60
	}
	if c.Zone == nil {
		c.Zone = time.FixedZone("CST", 8*3600)
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Run keeps one simulated charger (one gun) per number connected until ctx
// ends, reconnecting after a drop or a reboot.
func Run(ctx context.Context, cfg Config, numbers []string) error {
	cfg.defaults()
	var wg sync.WaitGroup
	for i, no := range numbers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the logins over the first seconds.
			select {
			case <-time.After(time.Duration(i%1000) * 5 * time.Millisecond):
			case <-ctx.Done():
				return
			}
			ch := &Charger{cfg: cfg, no: no, soc: 20 + rand.IntN(40)}
			for ctx.Err() == nil {
				err := ch.Session(ctx)
				if ctx.Err() != nil {
					return
				}
				cfg.Log.Debug("ykc sim: reconnecting", "charger", no, "error", err)
				select {
				case <-time.After(time.Second + rand.N(2*time.Second)):
				case <-ctx.Done():
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// Charger is one simulated YKC charger with one gun.
type Charger struct {
	cfg Config
	no  string

	mu      sync.Mutex
	nc      net.Conn
	seq     uint16
	sent    map[uint16]sentAt // requests awaiting an answer
	trade   string            // session in progress
	started time.Time
	energy  float64 // kWh this session
	soc     int
	temp    float64 // highest cell temperature, °C
	fault   uint16
	plugged bool
	reboot  bool
}

type sentAt struct {
	typ byte
	at  time.Time
}

// Session connects, logs in and runs until the connection drops.
func (c *Charger) Session(ctx context.Context) error {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return err
	}
	defer func() { _ = nc.Close() }()
	c.mu.Lock()
	c.nc, c.seq, c.sent, c.reboot = nc, 0, map[uint16]sentAt{}, false
	c.plugged = true
	c.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { <-ctx.Done(); _ = nc.Close() }()

	sw := make([]byte, 8)
	copy(sw, "VFSIM1.0")
	if err := c.send(ykc.TypeLogin, &ykc.Login{Charger: c.no, Kind: 0, Guns: 1, ProtocolVersion: 0x10, Software: sw, Network: 1,
		SIM: "0", Carrier: 4}); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- c.readLoop(ctx) }()
	hb := time.NewTicker(c.cfg.HeartbeatInterval)
	defer hb.Stop()
	// Jitter so thousands of chargers do not tick together.
	rt := time.NewTicker(c.cfg.RealTimeInterval + rand.N(c.cfg.RealTimeInterval/10+1))
	defer rt.Stop()
	bms := time.NewTicker(c.cfg.BMSInterval)
	defer bms.Stop()
	for {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-hb.C:
			if err := c.send(ykc.TypeHeartbeat, &ykc.Heartbeat{Charger: c.no, Gun: "01", GunStatus: boolByte(c.faulted())}); err != nil {
				return err
			}
		case <-rt.C:
			c.tick(c.cfg.RealTimeInterval)
			if err := c.realTime(); err != nil {
				return err
			}
		case <-bms.C:
			if c.charging() {
				if err := c.sendBMS(); err != nil {
					return err
				}
			}
		}
	}
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func (c *Charger) faulted() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.fault != 0 }
func (c *Charger) charging() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trade != ""
}

// send writes a request with the charger's next sequence number.
func (c *Charger) send(typ byte, b ykc.Body) error {
	c.mu.Lock()
	seq := c.seq
	c.seq++
	c.sent[seq] = sentAt{typ: typ, at: time.Now()}
	if len(c.sent) > 64 { // unanswered ones (real-time data) are not kept forever
		for k := range c.sent {
			delete(c.sent, k)
			break
		}
	}
	nc := c.nc
	c.mu.Unlock()
	return write(nc, seq, b)
}

// answer writes a reply carrying the request's sequence number.
func (c *Charger) answer(seq uint16, b ykc.Body) error {
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	return write(nc, seq, b)
}

func write(nc net.Conn, seq uint16, b ykc.Body) error {
	f, err := ykc.NewFrame(seq, b)
	if err != nil {
		return err
	}
	out, err := f.Marshal()
	if err != nil {
		return err
	}
	_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err = nc.Write(out)
	return err
}

// tick advances the physics by d: energy, SOC and temperature while
// charging; faults come and go at FaultRate.
func (c *Charger) tick(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.FaultRate > 0 && rand.Float64() < c.cfg.FaultRate {
		if c.fault == 0 {
			faults := []uint16{ykc.FaultEmergencyStop, ykc.FaultOutletOverTemp, ykc.FaultACSurge, ykc.FaultDoorOpen, ykc.FaultMeterComm}
			c.fault = faults[rand.IntN(len(faults))]
		} else {
			c.fault = 0
		}
	}
	if c.trade == "" {
		if c.temp > 25 {
			c.temp -= d.Minutes() * 0.5
		}
		return
	}
	kw := c.powerKW()
	c.energy += kw * d.Hours()
	// A 60 kWh pack: 1 % per 0.6 kWh.
	c.soc = min(100, c.soc+int(kw*d.Hours()/0.6+0.5))
	c.temp = min(55, c.temp+d.Minutes()*0.3)
}

// powerKW tapers above 80 % SOC, as a BMS's current demand does.
func (c *Charger) powerKW() float64 {
	if c.soc >= 80 {
		return c.cfg.PowerKW * float64(100-c.soc) / 20
	}
	return c.cfg.PowerKW
}

func (c *Charger) realTime() error {
	c.mu.Lock()
	m := &ykc.RealTime{Trade: "0", Charger: c.no, Gun: "01", Status: ykc.GunIdle, Homed: 2, Plugged: boolByte(c.plugged),
		HardwareFail: c.fault}
	if c.trade != "" {
		v := 380.0 + float64(c.soc)*0.4
		a := c.powerKW() * 1000 / v
		m.Trade, m.Status = c.trade, ykc.GunCharging
		m.Voltage, m.Current = uint16(v*10), uint16(a*10)
		m.GunTemp, m.SOC, m.BatteryTemp = uint8(30+50), uint8(c.soc), uint8(c.temp+50)
		m.Minutes = uint16(time.Since(c.started).Minutes())
		m.Remaining = uint16((100 - c.soc) * 2)
		m.Energy, m.LossyEnergy = uint32(c.energy*1e4), uint32(c.energy*1e4)
	}
	if c.fault != 0 {
		m.Status = ykc.GunFault
	}
	c.mu.Unlock()
	return c.send(ykc.TypeRealTime, m)
}

func (c *Charger) sendBMS() error {
	c.mu.Lock()
	v := 380.0 + float64(c.soc)*0.4
	a := c.powerKW() * 1000 / v
	d := &ykc.BMSDemand{Trade: c.trade, Charger: c.no, Gun: "01",
		DemandVoltage: uint16((v + 10) * 10), DemandCurrent: uint16(a*10) + ykc.CurrentOffset, Mode: 2,
		MeasuredVoltage: uint16(v * 10), MeasuredCurrent: uint16(a*10) + ykc.CurrentOffset,
		MaxCell: 1<<12 | uint16(330+c.soc), SOC: uint8(c.soc), RemainingMinutes: uint16((100 - c.soc) * 2),
		OutputVoltage: uint16(v * 10), OutputCurrent: uint16(a*10) + ykc.CurrentOffset,
		ChargedMinutes: uint16(time.Since(c.started).Minutes())}
	s := &ykc.BMSStatus{Trade: c.trade, Charger: c.no, Gun: "01", MaxCellNo: 16, MaxTemp: uint8(c.temp + 50),
		MaxTempPoint: 2, MinTemp: uint8(c.temp + 50 - 4), MinTempPoint: 7, Flags: 1 << 12} // charging allowed
	c.mu.Unlock()
	if err := c.send(ykc.TypeBMSDemand, d); err != nil {
		return err
	}
	return c.send(ykc.TypeBMSStatus, s)
}

func (c *Charger) readLoop(ctx context.Context) error {
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	r := ykc.NewReader(nc)
	for ctx.Err() == nil {
		f, err := r.Read()
		if errors.Is(err, ykc.ErrCRC) {
			continue
		}
		if err != nil {
			return err
		}
		c.mu.Lock()
		if s, ok := c.sent[f.Seq]; ok && c.cfg.Handled != nil && isAnswerTo(f.Type, s.typ) {
			delete(c.sent, f.Seq)
			c.cfg.Handled(s.typ, time.Since(s.at))
		}
		c.mu.Unlock()
		b, err := ykc.Decode(f.Type, f.Body)
		if err != nil {
			continue
		}
		if err := c.handle(f.Seq, b); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func isAnswerTo(reply, req byte) bool {
	return reply == req+1 || (req == ykc.TypeTransaction && reply == ykc.TypeTransactionConfirm)
}

func (c *Charger) handle(seq uint16, b ykc.Body) error {
	switch m := b.(type) {
	case *ykc.LoginReply:
		if m.Result != 0 {
			return fmt.Errorf("ykc sim: login of %s refused", c.no)
		}
		return c.send(ykc.TypeBillingCheck, &ykc.BillingCheck{Charger: c.no, Model: "0000"})
	case *ykc.BillingCheckReply:
		if m.Result != 0 {
			return c.send(ykc.TypeBillingRequest, &ykc.BillingRequest{Charger: c.no})
		}
	case *ykc.BillingReply, *ykc.HeartbeatReply, *ykc.TransactionConfirm:
	case *ykc.BillingSet:
		return c.answer(seq, &ykc.BillingSetReply{Charger: c.no, Result: 1})
	case *ykc.TimeSync:
		return c.answer(seq, &ykc.TimeSyncReply{Charger: c.no, Now: m.Now})
	case *ykc.RemoteStart:
		return c.start(seq, m)
	case *ykc.RemoteStop:
		return c.stop(seq, m)
	case *ykc.Reboot:
		if err := c.answer(seq, &ykc.RebootReply{Charger: c.no, Result: 1}); err != nil {
			return err
		}
		return errors.New("ykc sim: rebooting")
	}
	return nil
}

func (c *Charger) start(seq uint16, m *ykc.RemoteStart) error {
	c.mu.Lock()
	reason := uint8(0)
	switch {
	case c.fault != 0:
		reason = 3
	case c.trade != "":
		reason = 2
	}
	if reason == 0 {
		c.trade, c.started, c.energy = m.Trade, time.Now(), 0
		if c.soc >= 95 {
			c.soc = 20 + rand.IntN(40)
		}
		c.temp = max(c.temp, 25)
	}
	c.mu.Unlock()
	if err := c.answer(seq, &ykc.RemoteStartReply{Trade: m.Trade, Charger: c.no, Gun: m.Gun, Result: boolByte(reason == 0), Reason: reason}); err != nil {
		return err
	}
	if reason != 0 {
		return nil
	}
	var vin [17]byte
	copy(vin[:], fmt.Sprintf("LVFSIM%011s", c.no[len(c.no)-min(11, len(c.no)):]))
	if err := c.send(ykc.TypeHandshake, &ykc.Handshake{Trade: m.Trade, Charger: c.no, Gun: m.Gun, BMSVersion: 0x000101,
		BatteryType: 3, RatedCapacity: 1500, RatedVoltage: 4000, Manufacturer: [4]byte{'V', 'F', 'B', 'T'}, MadeYear: 38,
		MadeMonth: 1, MadeDay: 1, ChargeCycles: 120, Ownership: 1, VIN: vin}); err != nil {
		return err
	}
	return c.realTime()
}

func (c *Charger) stop(seq uint16, m *ykc.RemoteStop) error {
	c.mu.Lock()
	trade, started, energy := c.trade, c.started, c.energy
	c.trade = ""
	c.mu.Unlock()
	if trade == "" {
		return c.answer(seq, &ykc.RemoteStopReply{Charger: c.no, Gun: m.Gun, Result: 0, Reason: 2})
	}
	if err := c.answer(seq, &ykc.RemoteStopReply{Charger: c.no, Gun: m.Gun, Result: 1}); err != nil {
		return err
	}
	now := time.Now().In(c.cfg.Zone)
	e := uint32(energy * 1e4)
	return c.send(ykc.TypeTransaction, &ykc.Transaction{Trade: trade, Charger: c.no, Gun: m.Gun,
		Start: ykc.NewCP56(started.In(c.cfg.Zone)), End: ykc.NewCP56(now), MeterEnd: uint64(e), Energy: e,
		LossyEnergy: e, StartedBy: 1, At: ykc.NewCP56(now), StopReason: 0x40})
}
