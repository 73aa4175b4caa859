package sweep_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/activities/sweep"
	"github.com/voltflow/voltflow/store/demo"
)

// BenchmarkWrite100k is the database side of a 100,000-meter sweep alone:
// 50 writes of 2,000 readings, 8 at a time (the sweep's batches in
// parallel). The first iteration inserts every meter's state, the later
// ones update it (a steady-state sweep).
func BenchmarkWrite100k(b *testing.B) {
	ctx := context.Background()
	db := pg.NewDB(b)
	d := demo.Defaults()
	d.BcryptCost, d.MetersPerGW, d.GatewayPorts = 4, 1, []int{1}
	loaded, err := demo.Load(ctx, db, d)
	if err != nil {
		b.Fatal(err)
	}
	const n, per = 100_000, 2_000
	parallel := 8
	if p, err := strconv.Atoi(os.Getenv("SWEEP_BENCH_PARALLEL")); err == nil && p > 0 {
		parallel = p
	}
	ids := make([]uuid.UUID, n)
	var gw uuid.UUID
	if err := db.QueryRow(ctx, `select id from gateways where project_id=$1 limit 1`, loaded.ProjectID).Scan(&gw); err != nil {
		b.Fatal(err)
	}
	pid := uuid.MustParse(loaded.ProjectID)
	if _, err := db.CopyFrom(ctx, pgx.Identifier{"meters"}, []string{"id", "project_id", "meter_no", "gateway_id", "unit_address", "profile", "price"},
		pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			ids[i] = uuid.New()
			return []any{ids[i], pid, fmt.Sprintf("W%06d", i), gw, int32(1000 + i), "ref-prepaid-v1", "1.2"}, nil
		})); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(ctx, `analyze meters`); err != nil {
		b.Fatal(err)
	}
	acts := &sweep.Activities{DB: db}
	// A slot of its own for every run: the benchmark function runs again
	// for each b.N, on the same database.
	at := time.Now().UTC().Truncate(time.Second)
	if _, err := db.Exec(ctx, `select readings_partition($1), readings_partition($1 + interval '1 month')`, at); err != nil {
		b.Fatal(err)
	}
	var dataDir string
	if err := db.QueryRow(ctx, `show data_directory`).Scan(&dataDir); err != nil {
		b.Fatal(err)
	}
	var readingsT, stateT atomic.Int64
	write := func(ctx context.Context, at time.Time, b *sweep.Batch) error {
		r, s, err := sweep.WritePhases(ctx, acts, at, b)
		readingsT.Add(int64(r))
		stateT.Add(int64(s))
		return err
	}
	if os.Getenv("SWEEP_BENCH_STAGED") == "1" {
		write = acts.WriteStaged
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		cpu0, self0 := pgCPU(b, dataDir), selfCPU()
		readingsT.Store(0)
		stateT.Store(0)
		slot := at.Add(time.Duration(it) * time.Second)
		work := make(chan *sweep.Batch)
		var wg sync.WaitGroup
		errs := make(chan error, parallel)
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for bt := range work {
					if err := write(ctx, slot, bt); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		start := time.Now()
		for i := 0; i < n; i += per {
			work <- sweep.NewBatch(ids[i:i+per], slot, int64(it*100))
		}
		close(work)
		wg.Wait()
		select {
		case err := <-errs:
			b.Fatal(err)
		default:
		}
		b.Logf("iteration %d: %v, PostgreSQL CPU %v, this process's CPU %v; summed over writes: readings COPY %v, state upsert %v",
			it, time.Since(start).Round(time.Millisecond), pgCPU(b, dataDir)-cpu0, (selfCPU() - self0).Round(10*time.Millisecond),
			time.Duration(readingsT.Load()).Round(time.Millisecond), time.Duration(stateT.Load()).Round(time.Millisecond))
	}
}

// pgCPU is the CPU time the server's processes have used so far (user +
// system), from /proc: wall time on a shared machine says little.
func pgCPU(b *testing.B, dataDir string) time.Duration {
	pidFile, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		b.Skipf("postmaster.pid: %v", err)
	}
	master := strings.SplitN(string(pidFile), "\n", 2)[0]
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+2:]))
		pid := strings.TrimSuffix(strings.TrimPrefix(p, "/proc/"), "/stat")
		if len(f) < 13 || (f[1] != master && pid != master) {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ = 100
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
