package simulator

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Protocols a fleet can speak; `voltflow sim meters --protocol`.
const (
	ProtocolModbusTCP    = "modbus-tcp"     // Modbus TCP gateway (Gateway)
	ProtocolModbusRTUTCP = "modbus-rtu-tcp" // transparent RTU-over-TCP converter (RTUGateway)
	ProtocolDLT645       = "dlt645"         // DL/T 645-2007 over TCP (DLTGateway)
)

// Protocols lists the protocol names.
func Protocols() []string { return []string{ProtocolModbusTCP, ProtocolModbusRTUTCP, ProtocolDLT645} }

// Server is the lifecycle every gateway kind shares.
type Server interface {
	Start(ctx context.Context) error
	Stop() error
	URL() string
	Meters() int
}

// DLTBase is the address base of gateway i in a DL/T 645 fleet: its unit u
// is meter address i×1000+u (gateway 0's unit 1 is 000000000001).
func DLTBase(gateway int) uint64 { return uint64(gateway) * 1000 }

// Servers puts the fleet's meters behind gateways of the given protocol, on
// the fleet's addresses. For modbus-tcp they are the fleet's own gateways;
// for the others, new servers sharing the same meters, so Advance, Save and
// Restore work on them unchanged. The fleet's own gateways must then stay
// stopped (they would hold the same ports).
func (f *Fleet) Servers(protocol string) ([]Server, error) {
	var out []Server
	for i, g := range f.gateways {
		switch protocol {
		case ProtocolModbusTCP, "":
			out = append(out, g)
		case ProtocolModbusRTUTCP:
			r := NewRTUGateway(g.Addr(), g.prof, g.meters)
			r.SetLatency(f.cfg.Latency)
			out = append(out, r)
		case ProtocolDLT645:
			d, err := NewDLTGateway(g.Addr(), DLTBase(i), DefaultDLTAuth, g.meters)
			if err != nil {
				return nil, err
			}
			d.SetLatency(f.cfg.Latency)
			out = append(out, d)
		default:
			return nil, fmt.Errorf("simulator: protocol %q, want one of %v", protocol, Protocols())
		}
	}
	return out, nil
}

// runProtocol is Run for the other protocols: the same fleet, clock and
// state file, with the meters behind gateways of cfg.Protocol.
func runProtocol(ctx context.Context, cfg Config) error {
	f, err := NewFleet(cfg)
	if err != nil {
		return err
	}
	servers, err := f.Servers(cfg.Protocol)
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
	stopAll := func() error {
		var errs []error
		for _, s := range servers {
			errs = append(errs, s.Stop())
		}
		return errors.Join(errs...)
	}
	for _, s := range servers {
		if err := s.Start(ctx); err != nil {
			_ = stopAll()
			return err
		}
		f.cfg.Logger.Info("simulated gateway listening", "url", s.URL(), "meters", s.Meters())
	}
	step := time.Duration(float64(f.cfg.Tick) * f.cfg.Speed)
	t := time.NewTicker(f.cfg.Tick)
	defer t.Stop()
	for ticks := 1; ; ticks++ {
		select {
		case <-ctx.Done():
			return stopAll()
		case <-t.C:
			f.Advance(step)
			if cfg.StatePath != "" && ticks%10 == 0 {
				_ = f.Save(cfg.StatePath)
			}
		}
	}
}
