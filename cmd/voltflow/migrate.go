package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/workflows/names"
)

// runMigrate applies database migrations and registers the search attributes.
func runMigrate(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	skipTemporal := fs.Bool("skip-temporal", false, "do not register search attributes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, db, err := openMigrated(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if *skipTemporal {
		return nil
	}
	tc, err := dialTemporal(ctx, log, cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	return registerSearchAttributes(ctx, tc, cfg.TemporalNamespace)
}

// registerSearchAttributes adds Voltflow's keyword attributes that are missing.
func registerSearchAttributes(ctx context.Context, tc client.Client, namespace string) error {
	have, err := tc.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, n := range names.SearchAttributeNames() {
		if _, ok := have.GetCustomAttributes()[n]; !ok {
			missing[n] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := tc.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing}); err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

func runDemo(ctx context.Context, log *slog.Logger, args []string) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	out, err := demo.Load(ctx, db, demo.Defaults())
	if err != nil {
		return err
	}
	log.Info("demo data", "project", out.ProjectID, "created", out.Created)
	return nil
}

// openMigrated opens DATABASE_URL and brings its schema up to date: what
// every command that works on the database without the platform running
// (migrate, admin create) does first.
func openMigrated(ctx context.Context, log *slog.Logger) (config, *pgxpool.Pool, error) {
	cfg, err := loadConfig()
	if err != nil {
		return cfg, nil, err
	}
	if cfg.DatabaseURL == "" {
		return cfg, nil, errors.New("DATABASE_URL is not set")
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return cfg, nil, err
	}
	if err := store.Migrate(ctx, db, log); err != nil {
		db.Close()
		return cfg, nil, err
	}
	return cfg, db, nil
}
