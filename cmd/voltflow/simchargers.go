package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/voltflow/voltflow/devices/chargersim"
	"github.com/voltflow/voltflow/devices/ykcsim"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
)

// runSimChargers is `voltflow sim chargers`: simulated OCPP 1.6J charge
// points. One charge point is the demo's …0001 (contracts.md leaves …0002
// to outside clients); more use the ids of registry.AddStations (two split
// chargers per load station), which --provision creates and allow-lists.
func runSimChargers(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("sim chargers", flag.ContinueOnError)
	url := fs.String("url", "ws://127.0.0.1:8887/ocpp", "OCPP central system prefix (the charge point id is appended)")
	password := fs.String("password", charger.DemoPassword, "basic-auth password of every charge point")
	count := fs.Int("count", 1, "number of charge points")
	ids := fs.String("ids", "", "comma-separated charge point ids (overrides --count)")
	connectors := fs.Int("connectors", registry.DemoConnectorsPerEquipment, "connectors per charge point")
	meterEvery := fs.Duration("meter-interval", 0, "send MeterValues this often (0: only in sessions)")
	provision := fs.Bool("provision", false, "add the load stations to the registry and allow-list them (needs DATABASE_URL)")
	protocol := fs.String("protocol", "ocpp", "ocpp, or ykc: YKC (云快充) chargers with a BMS, dialing --ykc-addr")
	ykcAddr := fs.String("ykc-addr", "127.0.0.1:8767", "YKC server (with --protocol ykc)")
	faultRate := fs.Float64("fault-rate", 0, "YKC: chance per real-time tick that a fault starts or ends")
	realtime := fs.Duration("realtime-interval", 15*time.Second, "YKC: real-time data (0x13) period")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *protocol == "ykc" {
		return runSimYKC(ctx, log, *ykcAddr, *count, *ids, *faultRate, *realtime)
	}
	if *protocol != "ocpp" {
		return fmt.Errorf("sim chargers: --protocol %q: want ocpp or ykc", *protocol)
	}
	list := chargerIDs(*count)
	if *ids != "" {
		list = strings.Split(*ids, ",")
	}
	if len(list) == 0 {
		return errors.New("sim chargers: no charge points (--count or --ids)")
	}
	if *provision {
		if err := provisionChargers(ctx, *count, *password); err != nil {
			return err
		}
	}
	log.Info("charger simulator", "chargePoints", len(list), "url", *url)
	return chargersim.Run(ctx, chargersim.Config{URL: *url, Password: *password, Connectors: *connectors,
		MeterInterval: *meterEvery, Log: log.With("component", "charger-sim")}, list)
}

// chargerIDs: the demo charger for one, else two per load station in the
// numbering of registry.AddStations.
func chargerIDs(n int) []string {
	if n == 1 {
		return []string{registry.DemoEquipmentIDs[0]}
	}
	ids := make([]string, 0, n)
	for i := range n {
		ids = append(ids, fmt.Sprintf("44%08d%012d", 1000+i/2, i%2+1))
	}
	return ids
}

func provisionChargers(ctx context.Context, n int, password string) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("--provision needs DATABASE_URL")
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := registry.LoadDemo(ctx, db); err != nil {
		return err
	}
	if _, err := registry.AddStations(ctx, db, (n+1)/2, 2, registry.DemoConnectorsPerEquipment); err != nil {
		return err
	}
	var project string
	if err := db.QueryRow(ctx, `select id from projects where code='demo'`).Scan(&project); err != nil {
		project = ""
	}
	for _, id := range chargerIDs(n) {
		if err := charger.Enroll(ctx, db, id, project, password); err != nil {
			return err
		}
	}
	return nil
}

// runSimYKC runs simulated YKC chargers: ids as given, else --count numbers
// 3201020000 0001… (14 digits; register them with protocol ykc).
func runSimYKC(ctx context.Context, log *slog.Logger, addr string, count int, ids string, faultRate float64, realtime time.Duration) error {
	var list []string
	if ids != "" {
		list = strings.Split(ids, ",")
	}
	for i := range count * boolInt(ids == "") {
		list = append(list, fmt.Sprintf("3201020%07d", i+1))
	}
	if len(list) == 0 {
		return errors.New("sim chargers: no chargers (--count or --ids)")
	}
	log.Info("YKC charger simulator", "chargers", len(list), "addr", addr)
	return ykcsim.Run(ctx, ykcsim.Config{Addr: addr, FaultRate: faultRate, RealTimeInterval: realtime,
		Log: log.With("component", "ykc-sim")}, list)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
