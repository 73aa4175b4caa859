package harness

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Serve starts `voltflow serve` (API, worker, regulator exchange in one
// process) on the stack's database and Temporal, with the production
// environment when Options.Production and env on top; the caller stops it
// with StopServe. A start the readiness check refuses exits at once: Wait
// on the command tells, and its log goes to log as well (nil: stderr only).
func (s *Stack) Serve(log io.Writer, env ...string) (*exec.Cmd, error) {
	cmd := exec.Command(filepath.Join(s.binDir, "voltflow"), "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+s.DBURL, "TEMPORAL_ADDRESS="+s.TemporalAddr, "VOLTFLOW_LOG_LEVEL=warn")
	cmd.Env = append(append(cmd.Env, s.env...), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if log != nil {
		cmd.Stderr = io.MultiWriter(os.Stderr, log)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start serve: %w", err)
	}
	return cmd, nil
}

// StopServe stops a process Serve started, gracefully within 15 s.
func StopServe(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	waitOrKill(cmd, 15*time.Second)
}
