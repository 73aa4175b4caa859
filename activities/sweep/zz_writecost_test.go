package sweep

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/storetest"
)

func TestZZWriteCost(t *testing.T) {
	if os.Getenv("WRITECOST") == "" {
		t.Skip()
	}
	srv, err := storetest.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	db := srv.NewDB(t)
	ctx := context.Background()
	pid, gid := uuid.New(), uuid.New()
	_, err = db.Exec(ctx, `insert into organisations values(gen_random_uuid(),'o','o')`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(ctx, `insert into projects(id, organisation_id, code, name) select $1, id, 'b','b' from organisations`, pid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `insert into gateways values($1,$2,'g','modbus-tcp','x')`, gid, pid); err != nil {
		t.Fatal(err)
	}
	ids := make([]uuid.UUID, 100000)
	if _, err := db.CopyFrom(ctx, pgx.Identifier{"meters"}, []string{"id", "project_id", "meter_no", "gateway_id", "unit_address", "profile", "price"},
		pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) {
			ids[i] = uuid.New()
			return []any{ids[i], pid, fmt.Sprint(i), gid, int32(i), "p", "1.2"}, nil
		})); err != nil {
		t.Fatal(err)
	}
	a := &Activities{DB: db}
	for round := range 2 {
		at := time.Date(2026, 11, 23, 10, round, 0, 0, time.UTC)
		_ = ensurePartitions(ctx, db, at)
		start := time.Now()
		for off := 0; off < len(ids); off += 2000 {
			b := &batch{}
			for _, id := range ids[off : off+2000] {
				b.rows = append(b.rows, row{meter: id, takenAt: time.Now(), s: modbus.Snapshot{Energy: 12345, Remaining: 5000, Voltage: 2200}})
			}
			if err := a.write(ctx, at, b); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("round %d: 100k rows written in %v", round, time.Since(start))
	}
	_ = store.IsUniqueViolation
}
