// Package storetest gives tests a real PostgreSQL: one throwaway cluster per
// test binary and a fresh, migrated database per test.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/localpg"
)

// Server is a PostgreSQL server tests may create databases on.
type Server struct {
	cluster  *localpg.Cluster
	dir      string
	template string // per process, so test binaries can share one server
	baseURL  func(db string) string
}

// Start starts a throwaway cluster, or uses VOLTFLOW_TEST_PG (a URL template
// with %s for the database name, e.g. postgres://postgres@127.0.0.1:5432/%s).
func Start(ctx context.Context) (*Server, error) {
	s := &Server{template: fmt.Sprintf("voltflow_template_%d", os.Getpid())}
	if tmpl := os.Getenv("VOLTFLOW_TEST_PG"); tmpl != "" {
		s.baseURL = func(db string) string { return fmt.Sprintf(tmpl, db) }
	} else {
		dir, err := os.MkdirTemp("", "voltflow-pg-")
		if err != nil {
			return nil, err
		}
		s.dir = dir
		var lastErr error
		for range 5 {
			port, err := FreePort()
			if err != nil {
				return nil, err
			}
			c, err := localpg.StartThrowaway(ctx, dir+"/data", port)
			if err == nil {
				s.cluster = c
				break
			}
			lastErr = err
		}
		if s.cluster == nil {
			return nil, fmt.Errorf("start test cluster: %w", lastErr)
		}
		s.baseURL = s.cluster.URL
	}
	if err := s.prepareTemplate(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Main is TestMain for packages that need PostgreSQL.
func Main(m *testing.M, out **Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s, err := Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		os.Exit(1)
	}
	*out = s
	code := m.Run()
	s.Stop()
	os.Exit(code)
}

// Stop ends the cluster and removes its files.
func (s *Server) Stop() {
	if c, err := pgx.Connect(context.Background(), s.URL("postgres")); err == nil {
		_, _ = c.Exec(context.Background(), `drop database if exists `+s.template+` with (force)`)
		_ = c.Close(context.Background())
	}
	if s.cluster != nil {
		_ = s.cluster.Stop(context.Background())
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// URL of a database on the server.
func (s *Server) URL(db string) string { return s.baseURL(db) }

// NewDatabase creates a fresh migrated database and returns its URL; it is
// dropped when the test ends.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = admin.Close(ctx) }()
	if _, err := admin.Exec(ctx, fmt.Sprintf(`create database %s template %s strategy file_copy`, name, s.template)); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			_, _ = c.Exec(ctx, fmt.Sprintf(`drop database if exists %s with (force)`, name))
			_ = c.Close(ctx)
		}
	})
	return s.URL(name)
}

// NewDB is NewDatabase opened as a pool, closed when the test ends.
func (s *Server) NewDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), s.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func (s *Server) prepareTemplate(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = admin.Close(ctx) }()
	_, _ = admin.Exec(ctx, `drop database if exists `+s.template+` with (force)`)
	if _, err := admin.Exec(ctx, `create database `+s.template); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	db, err := store.Open(ctx, s.URL(s.template))
	if err != nil {
		return err
	}
	defer db.Close()
	return store.Migrate(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// CreateDatabase creates an empty database (no migrations) and returns its name.
func (s *Server) CreateDatabase(ctx context.Context, name string) string {
	if c, err := pgx.Connect(ctx, s.URL("postgres")); err == nil {
		_, _ = c.Exec(ctx, fmt.Sprintf(`create database %s`, name))
		_ = c.Close(ctx)
	}
	return name
}

// HostPort is where the server listens.
func (s *Server) HostPort() (string, int) {
	cfg, err := pgx.ParseConfig(s.URL("postgres"))
	if err != nil {
		return "127.0.0.1", 0
	}
	return cfg.Host, int(cfg.Port)
}

// PortFree reports whether a loopback port can be bound now.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// FreePort finds a free TCP port below the ephemeral range (32768–60999).
func FreePort() (int, error) {
	for range 200 {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		port := 20000 + int(b[0])<<8%12000 + int(b[1])
		if port >= 32768 || port == 25432 { // 25432 is make run's PostgreSQL
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port below 32768")
}
