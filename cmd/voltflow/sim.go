package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/voltflow/voltflow/devices/simulator"
)

func runSim(ctx context.Context, log *slog.Logger, args []string) error {
	if len(args) > 0 && args[0] == "regulator" {
		return runRegulatorSim(ctx, log, args[1:])
	}
	if len(args) > 0 && args[0] == "aircon" {
		return runAirconSim(ctx, log, args[1:])
	}
	if len(args) > 0 && args[0] == "pay" {
		return runPaySim(ctx, log, args[1:])
	}
	if len(args) == 0 || args[0] != "meters" {
		return errors.New("usage: voltflow sim meters|regulator|aircon|pay [flags]")
	}
	cfg, err := meterSimFlags(args[1:])
	if err != nil {
		return err
	}
	cfg.Logger = log.With("component", "meter-sim")
	return simulator.Run(ctx, cfg)
}

// meterSimFlags reads the simulator's flags; the defaults are the demo
// fleet of contracts.md.
func meterSimFlags(args []string) (simulator.Config, error) {
	fs := flag.NewFlagSet("sim meters", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:15020", "first gateway's address; gateway i listens on port+i")
	gateways := fs.Int("gateways", 4, "number of gateways")
	perGateway := fs.Int("per-gateway", 32, "meters per gateway (unit ids 1..N)")
	remaining := fs.Int64("remaining-cents", 5000, "initial remaining money per meter, 0.01 yuan")
	price := fs.Int64("price", 12000, "unit price, 0.0001 yuan/kWh")
	load := fs.Int64("load-watts", 8000, "load of every meter while its relay is closed")
	speed := fs.Float64("speed", 120, "simulated seconds per real second")
	latency := fs.Duration("latency", 0, "per-request bus latency")
	noPipelining := fs.Bool("no-pipelining", false, "Modbus TCP gateways drop requests that arrive while they answer (serial servers that need max_in_flight=1)")
	protocol := fs.String("protocol", simulator.ProtocolModbusTCP,
		"gateway protocol: modbus-tcp, modbus-rtu-tcp (RTU over TCP) or dlt645 (DL/T 645-2007 over TCP; gateway i's unit u is address i×1000+u)")
	prof := fs.String("profile", "", "register map of every meter (default ref-prepaid-v1; ref-3phase-v1 for three-phase meters)")
	meterProfiles := fs.String("meter-profile", "", "unit=profile[,unit=profile…]: meters with a register map of their own on every gateway, e.g. 3=ref-3phase-v1")
	ct := fs.Int64("ct", 1, "CT ratio three-phase meters show")
	pt := fs.Int64("pt", 1, "PT ratio three-phase meters show")
	if err := fs.Parse(args); err != nil {
		return simulator.Config{}, err
	}
	perMeter, err := simulator.ParseMeterProfiles(*meterProfiles)
	if err != nil {
		return simulator.Config{}, fmt.Errorf("--meter-profile: %w", err)
	}
	if !slices.Contains(simulator.Protocols(), *protocol) {
		return simulator.Config{}, fmt.Errorf("--protocol %q: want one of %v", *protocol, simulator.Protocols())
	}
	return simulator.Config{
		Profile: *prof, MeterProfiles: perMeter,
		Addr: *addr, Gateways: *gateways, Meters: *perGateway, Speed: *speed, Tick: time.Second, Latency: *latency, NoPipelining: *noPipelining, Protocol: *protocol,
		Meter: simulator.MeterConfig{Remaining: *remaining, UnitPrice: *price, Alarm1: 2000, Alarm2: 1000, Load: *load, CTRatio: *ct, PTRatio: *pt},
	}, nil
}

// runAirconSim runs a simulated central air-conditioning controller
// (profile ref-aircon-v1): indoor unit n is unit id n.
func runAirconSim(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("sim aircon", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:15030", "the controller's Modbus TCP address")
	units := fs.Int("units", 8, "indoor units (unit ids 1..N), every other one running")
	speed := fs.Float64("speed", 120, "simulated seconds per real second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log.Info("simulated AC controller", "addr", *addr, "indoorUnits", *units, "profile", "ref-aircon-v1")
	return simulator.RunAircon(ctx, *addr, simulator.DemoIndoorUnits(*units), *speed, time.Second)
}
