// Package store opens Voltflow's PostgreSQL database, applies its migrations
// and gives the one way to run a transaction.
package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the pool every package shares.
type DB = pgxpool.Pool

// Open connects and pings.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return pool, nil
}

// InTx runs fn in a transaction, committing when it returns nil.
func InTx(ctx context.Context, db *DB, fn func(pgx.Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports a duplicate key error (SQLSTATE 23505).
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// IsCheckViolation reports a check constraint refusing a row (SQLSTATE 23514).
func IsCheckViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514"
}

// Migrate applies every migration not yet applied, in file-name order, each in
// its own transaction, under an advisory lock so concurrent starts are safe.
// It refuses to start when a migration already applied has changed since: the
// database would not have the schema the file now describes.
func Migrate(ctx context.Context, db *DB, log *slog.Logger) error {
	files, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return migrate(ctx, db, log, files)
}

// migration is one file of the migrations directory.
type migration struct {
	name     string // file name, e.g. 0003_readings.sql
	sql      string
	checksum string // hex sha256 of the file's content
}

func readMigrations(files fs.FS) ([]migration, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]migration, 0, len(names))
	for _, name := range names {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		out = append(out, migration{name: name, sql: string(b), checksum: hex.EncodeToString(sum[:])})
	}
	return out, nil
}

func migrate(ctx context.Context, db *DB, log *slog.Logger, files fs.FS) error {
	all, err := readMigrations(files)
	if err != nil {
		return err
	}
	conn, err := db.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire: %w", err)
	}
	defer conn.Release()
	const lockID = 0x766f6c74 // "volt"
	if _, err := conn.Exec(ctx, `select pg_advisory_lock($1)`, lockID); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `select pg_advisory_unlock($1)`, lockID) }()
	// The checksum column came later than the table: a database from before
	// it gets the column here, and its rows the checksums of today's files
	// (the best record there is of what was applied).
	if _, err := conn.Exec(ctx, `create table if not exists schema_migrations (
		name text primary key, applied_at timestamptz not null default now(), checksum text);
		alter table schema_migrations add column if not exists checksum text`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range all {
		if _, err := conn.Exec(ctx, `update schema_migrations set checksum=$2 where name=$1 and checksum is null`,
			m.name, m.checksum); err != nil {
			return fmt.Errorf("record checksum of %s: %w", m.name, err)
		}
	}
	applied := map[string]string{}
	rows, err := conn.Query(ctx, `select name, checksum from schema_migrations where checksum is not null`)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for rows.Next() {
		var name, sum string
		if err := rows.Scan(&name, &sum); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[name] = sum
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	// Check every applied file before applying anything new.
	for _, m := range all {
		if sum, ok := applied[m.name]; ok && sum != m.checksum {
			return fmt.Errorf("migration %s changed after it was applied (sha256 applied %s, file now %s): "+
				"restore its applied content and put the change in a new migration", m.name, sum, m.checksum)
		}
	}
	for _, m := range all {
		if _, ok := applied[m.name]; ok {
			continue
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("apply %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `insert into schema_migrations(name, checksum) values($1, $2)`, m.name, m.checksum); err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("record %s: %w", m.name, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit %s: %w", m.name, err)
		}
		log.Info("migration applied", "name", m.name)
	}
	return nil
}
