package sweep_test

import (
	"context"
	"fmt"
	"log/slog"
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

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/demo"
	sweepstore "github.com/voltflow/voltflow/store/sweep"
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
	log := slog.New(slog.DiscardHandler) // as the activities log by default
	// A slot of its own for every run: the benchmark function runs again
	// for each b.N, on the same database.
	at := time.Now().UTC().Truncate(time.Second)
	if _, err := db.Exec(ctx, `select readings_partition($1), readings_partition($1 + interval '1 month')`, at); err != nil {
		b.Fatal(err)
	}
	// A month partition fills up: SWEEP_BENCH_PRIOR=N first stores N earlier
	// sweeps of every meter, 30 minutes apart, as sweeps would have (slot by
	// slot). An empty partition is the best case, the end of a month the worst.
	prior, _ := strconv.Atoi(os.Getenv("SWEEP_BENCH_PRIOR"))
	sweeps := b.N
	if prior > 0 {
		// All in one month partition: the sweeps measured come after the
		// earlier ones of the same month (up to 1,400 fit).
		month := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
		at = month.Add(time.Duration(prior+1) * 30 * time.Minute)
		if _, err := db.Exec(ctx, `select readings_partition($1)`, at); err != nil {
			b.Fatal(err)
		}
		// The first sweep after filling splits the pages the filling packed;
		// the second is what the rest of the month looks like.
		sweeps = max(sweeps, 2)
		t0 := time.Now()
		for k := prior; k >= 1; k-- {
			if _, err := db.Exec(ctx, `insert into readings (meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh,
					flat_kwh, valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
				select id, $2::timestamptz, $2::timestamptz, 1000 + $3 * 0.5, 0, 0, 0, 0, 220, 1.5, 0.33, 50, 1, 0, 0, 0
				from unnest($1::uuid[]) id`, ids, at.Add(-time.Duration(k)*30*time.Minute), prior-k); err != nil {
				b.Fatal(err)
			}
		}
		var size string
		if _, err := db.Exec(ctx, `vacuum analyze readings`); err != nil {
			b.Fatal(err)
		}
		if err := db.QueryRow(ctx, `select pg_size_pretty(sum(pg_relation_size(c.oid))) from pg_class c
			where c.relname like 'readings_%pkey'`).Scan(&size); err != nil {
			b.Fatal(err)
		}
		b.Logf("stored %d earlier sweeps (%d readings) in %v; the readings' key index is %s", prior, prior*n,
			time.Since(t0).Round(time.Second), size)
	}
	var dataDir string
	if err := db.QueryRow(ctx, `show data_directory`).Scan(&dataDir); err != nil {
		b.Fatal(err)
	}
	var readingsT, stateT atomic.Int64
	write := func(ctx context.Context, at time.Time, b *sweepstore.Batch) error {
		ph, err := sweepstore.Write(ctx, db, log, at, time.Now(), b)
		readingsT.Add(int64(ph.Readings))
		stateT.Add(int64(ph.State))
		return err
	}
	if os.Getenv("SWEEP_BENCH_STAGED") == "1" {
		write = func(ctx context.Context, at time.Time, b *sweepstore.Batch) error {
			var ph sweepstore.Phases
			return sweepstore.WriteTx(ctx, db, at, time.Now(), b, true, &ph)
		}
	}
	// SWEEP_BENCH_WAL_COMPRESSION="off lz4" measures one more sweep per
	// setting of wal_compression, in turn (server-wide, reset at the end).
	compressions := strings.Fields(os.Getenv("SWEEP_BENCH_WAL_COMPRESSION"))
	sweeps = max(sweeps, 1+len(compressions))
	setCompression := func(v string) {
		sql := `alter system reset wal_compression`
		if v != "" {
			sql = fmt.Sprintf(`alter system set wal_compression = '%s'`, v)
		}
		if _, err := db.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
		var asked time.Time
		if err := db.QueryRow(ctx, `select clock_timestamp()`).Scan(&asked); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Exec(ctx, `select pg_reload_conf()`); err != nil {
			b.Fatal(err)
		}
		// The postmaster passes the reload on to every backend at once; a
		// backend takes it at its next command, and pg_conf_load_time()
		// says when it did.
		eventually.True(b, 10*time.Second, "the configuration reloaded", func() (bool, string) {
			var loaded time.Time
			if err := db.QueryRow(ctx, `select pg_conf_load_time()`).Scan(&loaded); err != nil {
				b.Fatal(err)
			}
			return loaded.After(asked), "loaded " + loaded.String()
		})
	}
	if len(compressions) > 0 {
		defer setCompression("")
	}
	b.ResetTimer()
	for it := 0; it < sweeps; it++ {
		setting := ""
		if it >= 1 && it-1 < len(compressions) {
			setting = "wal_compression=" + compressions[it-1] + ": "
			setCompression(compressions[it-1])
		}
		// Sweeps are 30 minutes apart and checkpoints at most 5: every sweep
		// is the first write to its pages after a checkpoint (full-page images).
		if _, err := db.Exec(ctx, `checkpoint`); err != nil {
			b.Fatal(err)
		}
		var lsn0 string
		var fpi0 int64
		if err := db.QueryRow(ctx, `select pg_current_wal_insert_lsn()::text, (select wal_fpi from pg_stat_wal)`).Scan(&lsn0, &fpi0); err != nil {
			b.Fatal(err)
		}
		cpu0, self0 := pgCPU(b, dataDir), selfCPU()
		readingsT.Store(0)
		stateT.Store(0)
		slot := at.Add(time.Duration(it) * time.Second)
		work := make(chan *sweepstore.Batch)
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
			work <- sweepstore.NewBatch(ids[i:i+per], slot, int64(it*100))
		}
		close(work)
		wg.Wait()
		select {
		case err := <-errs:
			b.Fatal(err)
		default:
		}
		elapsed, cpu := time.Since(start).Round(time.Millisecond), pgCPU(b, dataDir)-cpu0
		var wal, fpi int64
		if err := db.QueryRow(ctx, `select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint,
			(select wal_fpi from pg_stat_wal) - $2`, lsn0, fpi0).Scan(&wal, &fpi); err != nil {
			b.Fatal(err)
		}
		b.Logf("iteration %d: %s%v, PostgreSQL CPU %v, WAL %d MB (%d full-page images), this process's CPU %v; summed over writes: readings COPY %v, state upsert %v",
			it, setting, elapsed, cpu, wal>>20, fpi, (selfCPU() - self0).Round(10*time.Millisecond),
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
