package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/voltflow/voltflow/devices/chargersim"
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
	if err := fs.Parse(args); err != nil {
		return err
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
