package child

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// As a parent that is killed: GO_CHILD_PARENT=1 makes the test binary start
// `sleep` through Start, print its pid and wait to be killed.
func TestMain(m *testing.M) {
	if os.Getenv("GO_CHILD_PARENT") == "1" {
		p, err := Start(exec.Command("sleep", "60"), syscall.SIGKILL)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(p.Pid())
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestDiesWithParent: SIGKILL the parent, the child gets its signal.
func TestDiesWithParent(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), "GO_CHILD_PARENT=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Fscan(out, &pid); err != nil {
		t.Fatalf("child pid: %v", err)
	}
	st, err := StartTime(pid)
	if err != nil {
		t.Fatalf("child %d not running: %v", pid, err)
	}
	_ = parent.Process.Kill()
	_ = parent.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for Running(pid, st) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d outlived its killed parent by 5 s", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStop(t *testing.T) {
	tests := []struct {
		name     string
		script   string // sh -c
		sig      syscall.Signal
		wantKill bool
	}{
		{"exits on the signal", "sleep 60", syscall.SIGTERM, false},
		{"ignores it: killed after grace", "trap '' TERM; while :; do sleep 0.1; done", syscall.SIGTERM, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(exec.Command("sh", "-c", tt.script), syscall.SIGKILL)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // the trap is set
			start := time.Now()
			err = p.Stop(tt.sig, 500*time.Millisecond)
			if (err != nil) != tt.wantKill {
				t.Errorf("Stop = %v, want a kill: %v", err, tt.wantKill)
			}
			select {
			case <-p.Done():
			default:
				t.Error("Stop returned before the child exited")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Stop took %v", d)
			}
		})
	}
}

func TestPIDFileStopStale(t *testing.T) {
	tests := []struct {
		name     string
		record   func(pid int, st uint64) string
		wantStop bool
	}{
		{"the recorded process", func(pid int, st uint64) string { return fmt.Sprintf("%d %d\n", pid, st) }, true},
		{"pid reused by another process", func(pid int, st uint64) string { return fmt.Sprintf("%d %d\n", pid, st+1) }, false},
		{"garbage", func(int, uint64) string { return "not a pid" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Detached from us, as a server left by a killed run is.
			cmd := exec.Command("sleep", "60")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			go func() { _ = cmd.Wait() }() // reap, so that a stopped process is gone, not a zombie
			pid := cmd.Process.Pid
			st, err := StartTime(pid)
			if err != nil {
				t.Fatal(err)
			}
			f := PIDFile(filepath.Join(t.TempDir(), "x.pid"))
			if err := os.WriteFile(string(f), []byte(tt.record(pid, st)), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := f.StopStale(context.Background(), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantStop != (got == pid) {
				t.Errorf("StopStale = %d, want stopped %v (pid %d)", got, tt.wantStop, pid)
			}
			if tt.wantStop == Running(pid, st) {
				t.Errorf("pid %d alive = %v after StopStale", pid, !tt.wantStop)
			}
			if _, err := os.Stat(string(f)); !os.IsNotExist(err) {
				t.Errorf("pid file still there (%v)", err)
			}
		})
	}
}

func TestStartTime(t *testing.T) {
	st, err := StartTime(os.Getpid())
	if err != nil || st == 0 {
		t.Fatalf("StartTime(self) = %d, %v", st, err)
	}
	b, _ := os.ReadFile("/proc/self/stat")
	if !strings.Contains(string(b), " "+strconv.FormatUint(st, 10)+" ") {
		t.Errorf("start time %d not in /proc/self/stat", st)
	}
}
