package main

import (
	"fmt"
	"log/slog"
	"time"

	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// setupSchemas creates both databases if missing and brings their schemas to
// the version embedded in the server module. Every step is idempotent, so this
// runs on every start and doubles as the upgrade path after a server bump.
//
// This is what `temporal-sql-tool create-database / setup-schema -v 0.0 /
// update-schema --schema-name ...` does, but through the tool's task API rather
// than sqltool.RunTool: RunTool calls os.Exit(1) on any failure (or, with
// --quiet, swallows the error and returns nil), so we could not report errors.
func setupSchemas(o *options, logger tlog.Logger) error {
	start := time.Now()
	dbs := []struct{ name, schemaName string }{
		{o.db, "postgresql/v12/temporal"},
		{o.visibilityDB, "postgresql/v12/visibility"},
	}
	for _, db := range dbs {
		if err := setupSchema(o, db.name, db.schemaName, logger); err != nil {
			return err
		}
	}
	slog.Info("schemas up to date", "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

func setupSchema(o *options, dbName, schemaName string, logger tlog.Logger) error {
	// An empty database name makes the plugin connect to its default
	// maintenance database ("postgres") to run CREATE DATABASE; an existing
	// database is not an error.
	if err := sqltool.DoCreateDatabase(o.sqlConfig(dbName), "", logger); err != nil {
		return fmt.Errorf("create database %q: %w", dbName, err)
	}

	conn, err := sqltool.NewConnection(o.sqlConfig(dbName), logger)
	if err != nil {
		return fmt.Errorf("connect to database %q: %w", dbName, err)
	}
	defer conn.Close()

	// Creates the version tables and records 0.0 only when no version is
	// recorded yet; a database at a later version is left alone.
	setup := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger)
	if err := setup.Run(); err != nil {
		return fmt.Errorf("setup schema versioning in %q: %w", dbName, err)
	}

	// Applies the embedded versioned migrations newer than the recorded version.
	update := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: dbName, SchemaName: schemaName}, logger)
	if err := update.Run(); err != nil {
		return fmt.Errorf("update schema %s in %q: %w", schemaName, dbName, err)
	}
	return nil
}
