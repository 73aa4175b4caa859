// Package localpg runs a PostgreSQL cluster owned by Voltflow on this machine:
// the embedded default of `voltflow dev` and the throwaway cluster of tests.
//
// initdb and postgres refuse to run as root, so when we are root every
// command runs as the `postgres` user on a directory that user owns.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// BinDir is where Debian puts the PostgreSQL 15 server binaries.
const BinDir = "/usr/lib/postgresql/15/bin"

// Cluster is a running local cluster.
type Cluster struct {
	Dir  string // data directory
	Port int
	User string // superuser role, trust auth on loopback
}

// URL of a database in the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", c.User, c.Port, db)
}

// Start initialises dir if empty and starts postgres on 127.0.0.1:port. A
// cluster already running on that directory is reused.
func Start(ctx context.Context, dir string, port int) (*Cluster, error) {
	return start(ctx, dir, port, true)
}

// StartThrowaway is Start without crash safety (fsync off), for test clusters
// whose data nobody needs after a crash.
func StartThrowaway(ctx context.Context, dir string, port int) (*Cluster, error) {
	return start(ctx, dir, port, false)
}

func start(ctx context.Context, dir string, port int, durable bool) (*Cluster, error) {
	if _, err := os.Stat(filepath.Join(BinDir, "initdb")); err != nil {
		return nil, fmt.Errorf("PostgreSQL 15 not found in %s (apt-get install postgresql): %w", BinDir, err)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Port: port, User: "postgres"}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := chownToPostgres(dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if out, err := c.run(ctx, "initdb", "-D", dir, "-U", c.User, "-A", "trust", "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"); err != nil {
			return nil, fmt.Errorf("initdb %s: %w: %s", dir, err, out)
		}
	}
	if c.running(ctx) {
		return c, c.waitReady(ctx)
	}
	opts := strings.Join([]string{
		"-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=300", "-c", "shared_buffers=256MB",
	}, " ")
	if !durable {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	// More server settings for one run, e.g. "-c shared_preload_libraries=pg_stat_statements"
	// (make bench-sweep's statement breakdown).
	if extra := os.Getenv("VOLTFLOW_PG_OPTS"); extra != "" {
		opts += " " + extra
	}
	logFile := filepath.Join(dir, "postgres.log")
	if out, err := c.run(ctx, "pg_ctl", "-D", dir, "-o", opts, "-l", logFile, "-w", "-t", "60", "start"); err != nil {
		return nil, fmt.Errorf("pg_ctl start (log %s): %w: %s", logFile, err, out)
	}
	return c, c.waitReady(ctx)
}

// Stop shuts the cluster down (fast mode: sessions are ended, data is safe).
func (c *Cluster) Stop(ctx context.Context) error {
	if out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

// CreateDB creates a database if it does not exist.
func (c *Cluster) CreateDB(ctx context.Context, name string) error {
	out, err := c.run(ctx, "psql", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", c.User, "-d", "postgres",
		"-v", "ON_ERROR_STOP=1", "-tAc", fmt.Sprintf("select 1 from pg_database where datname='%s'", name))
	if err != nil {
		return fmt.Errorf("check database %s: %w: %s", name, err, out)
	}
	if strings.TrimSpace(out) == "1" {
		return nil
	}
	if out, err := c.run(ctx, "psql", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", c.User, "-d", "postgres",
		"-v", "ON_ERROR_STOP=1", "-c", fmt.Sprintf(`create database "%s"`, name)); err != nil {
		return fmt.Errorf("create database %s: %w: %s", name, err, out)
	}
	return nil
}

func (c *Cluster) running(ctx context.Context) bool {
	_, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "status")
	return err == nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port), time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres on port %d not ready: %w", c.Port, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// run executes a PostgreSQL tool, as the postgres user when we are root.
func (c *Cluster) run(ctx context.Context, tool string, args ...string) (string, error) {
	bin := filepath.Join(BinDir, tool)
	if tool == "psql" {
		if p, err := exec.LookPath("psql"); err == nil {
			bin = p
		}
	}
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	cmd.Dir = "/"
	// pg_ctl start leaves postgres running; it must not hold our stdout open.
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func chownToPostgres(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("user postgres (install postgresql): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", dir, err)
	}
	// The postgres user must be able to reach dir through its parents.
	for p := filepath.Dir(dir); p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o011); err != nil {
				return fmt.Errorf("chmod %s: %w", p, err)
			}
		}
	}
	return nil
}
