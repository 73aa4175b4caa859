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
	"syscall"
	"time"

	"github.com/voltflow/voltflow/internal/child"
)

// BinDir is where Debian puts the PostgreSQL 15 server binaries.
const BinDir = "/usr/lib/postgresql/15/bin"

// Cluster is a running local cluster.
type Cluster struct {
	Dir  string // data directory
	Port int
	User string // superuser role, trust auth on loopback

	postmaster *child.Process // Start's server, a child of this process; nil: pg_ctl's
}

// URL of a database in the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", c.User, c.Port, db)
}

// Start initialises dir if empty and starts postgres on 127.0.0.1:port as a
// child of this process, which the kernel shuts down (immediate mode, as
// after a crash: the data is safe) if this process dies without Stop.
//
// The caller must own dir: a server still running on it is taken for one
// an earlier run left behind and is stopped first.
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
	opts := []string{
		"-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=300", "-c", "shared_buffers=256MB",
	}
	if !durable {
		opts = append(opts, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	// More server settings for one run, e.g. "-c shared_preload_libraries=pg_stat_statements"
	// (make bench-sweep's statement breakdown).
	if extra := os.Getenv("VOLTFLOW_PG_OPTS"); extra != "" {
		opts = append(opts, strings.Fields(extra)...)
	}
	logFile := filepath.Join(dir, "postgres.log")
	if !durable {
		if c.running(ctx) {
			return c, c.waitReady(ctx)
		}
		if out, err := c.run(ctx, "pg_ctl", "-D", dir, "-o", strings.Join(opts, " "), "-l", logFile, "-w", "-t", "60", "start"); err != nil {
			return nil, fmt.Errorf("pg_ctl start (log %s): %w: %s", logFile, err, out)
		}
		return c, c.waitReady(ctx)
	}
	if c.running(ctx) {
		if err := c.stopStale(ctx); err != nil {
			return nil, err
		}
	}
	if err := c.startPostmaster(ctx, opts, logFile); err != nil {
		return nil, err
	}
	return c, nil
}

// startPostmaster runs postgres itself (no pg_ctl, which detaches it) and
// waits until postmaster.pid says it accepts connections.
func (c *Cluster) startPostmaster(ctx context.Context, opts []string, logFile string) error {
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = log.Close() }() // the child has its own descriptor
	if err := chownFileToPostgres(logFile); err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(BinDir, "postgres"), append([]string{"-D", c.Dir}, opts...)...)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: a Ctrl-C to ours must not shut it down before
	// the processes that use it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Geteuid() == 0 {
		// Not runuser: the parent-death signal must reach postgres itself.
		uid, gid, err := postgresIDs()
		if err != nil {
			return err
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}
	}
	p, err := child.Start(cmd, syscall.SIGQUIT)
	if err != nil {
		return fmt.Errorf("start postgres on %s: %w", c.Dir, err)
	}
	c.postmaster = p
	deadline := time.Now().Add(60 * time.Second)
	for !c.accepting(p.Pid()) {
		select {
		case <-p.Done():
			return fmt.Errorf("postgres on %s exited while starting (%v; port %d in use? see %s)", c.Dir, p.Err(), c.Port, logFile)
		case <-ctx.Done():
			_ = p.Stop(syscall.SIGQUIT, 5*time.Second)
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = p.Stop(syscall.SIGQUIT, 5*time.Second)
			return fmt.Errorf("postgres on %s not ready within 60 s; see %s", c.Dir, logFile)
		}
	}
	return nil
}

// accepting reads what pg_ctl -w reads: postmaster.pid names pid and its
// status line says ready.
func (c *Cluster) accepting(pid int) bool {
	b, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return len(lines) > 7 && strings.TrimSpace(lines[0]) == strconv.Itoa(pid) && strings.TrimSpace(lines[7]) == "ready"
}

// stopStale stops a server an earlier run left on c.Dir: fast, then
// immediate if it does not stop within 30 s.
func (c *Cluster) stopStale(ctx context.Context) error {
	if _, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "-t", "30", "stop"); err == nil {
		return nil
	}
	if out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-m", "immediate", "-w", "-t", "30", "stop"); err != nil {
		return fmt.Errorf("stop the PostgreSQL server an earlier run left on %s: %w: %s", c.Dir, err, out)
	}
	return nil
}

// Stop shuts the cluster down (fast mode: sessions are ended, data is
// safe); Start's server gets 30 s, then immediate mode, then SIGKILL.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.postmaster != nil {
		if err := c.postmaster.Stop(syscall.SIGINT, 30*time.Second); err == nil {
			return nil
		}
		return fmt.Errorf("postgres on %s: fast shutdown took over 30 s, killed", c.Dir)
	}
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

func postgresIDs() (uid, gid uint32, err error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return 0, 0, fmt.Errorf("user postgres (install postgresql): %w", err)
	}
	id, _ := strconv.Atoi(u.Uid)
	g, _ := strconv.Atoi(u.Gid)
	return uint32(id), uint32(g), nil
}

func chownFileToPostgres(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid, err := postgresIDs()
	if err != nil {
		return err
	}
	return os.Chown(path, int(uid), int(gid))
}

func chownToPostgres(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid, err := postgresIDs()
	if err != nil {
		return err
	}
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
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
