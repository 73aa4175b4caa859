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
	if len(args) > 0 && args[0] == "pay" {
		return runPaySim(ctx, log, args[1:])
	}
	if len(args) == 0 || args[0] != "meters" {
		return errors.New("usage: voltflow sim meters|regulator|pay [flags]")
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
	if err := fs.Parse(args); err != nil {
		return simulator.Config{}, err
	}
	if !slices.Contains(simulator.Protocols(), *protocol) {
		return simulator.Config{}, fmt.Errorf("--protocol %q: want one of %v", *protocol, simulator.Protocols())
	}
	return simulator.Config{
		Addr: *addr, Gateways: *gateways, Meters: *perGateway, Speed: *speed, Tick: time.Second, Latency: *latency, NoPipelining: *noPipelining, Protocol: *protocol,
		Meter: simulator.MeterConfig{Remaining: *remaining, UnitPrice: *price, Alarm1: 2000, Alarm2: 1000, Load: *load},
	}, nil
}
