package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// cpuProfile records a CPU profile of this command when VOLTFLOW_CPUPROFILE
// names a directory: <dir>/<command>-<pid>.pprof, complete once the command
// returns. It is how a sweep's worker and simulator are profiled under
// `make bench-sweep` (their processes inherit the bench's environment).
func cpuProfile(log *slog.Logger) (stop func()) {
	dir := os.Getenv("VOLTFLOW_CPUPROFILE")
	if dir == "" || len(os.Args) < 2 {
		return func() {}
	}
	name := filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", filepath.Base(os.Args[1]), os.Getpid()))
	f, err := os.Create(name)
	if err != nil {
		log.Warn("cpu profile", "error", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Warn("cpu profile", "error", err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
