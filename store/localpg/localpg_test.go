package localpg

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/child"
)

// postmasterPid is the first line of postmaster.pid.
func postmasterPid(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestStartStopsStaleServer: a server left running on the directory (here
// one pg_ctl detached, as an earlier voltflow dev did) is stopped and
// replaced by a child of this process, which Stop ends.
func TestStartStopsStaleServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs initdb and two servers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "pg")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	stale, err := StartThrowaway(ctx, dir, port)
	if err != nil {
		t.Fatal(err)
	}
	stalePid := postmasterPid(t, dir)
	staleStart, err := child.StartTime(stalePid)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Start(ctx, dir, port)
	if err != nil {
		_ = stale.Stop(ctx)
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); child.Running(stalePid, staleStart); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("the stale postmaster %d still runs", stalePid)
			break
		}
	}
	pid := postmasterPid(t, dir)
	if c.postmaster == nil || pid != c.postmaster.Pid() {
		t.Fatalf("postmaster.pid names %d, not Start's child", pid)
	}
	if err := c.CreateDB(ctx, "x"); err != nil {
		t.Errorf("the new server does not answer: %v", err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.postmaster.Done():
	default:
		t.Error("Stop returned with the postmaster running")
	}
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid left after Stop (%v)", err)
	}
}
