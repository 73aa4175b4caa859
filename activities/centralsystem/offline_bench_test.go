package centralsystem_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/activities/centralsystem"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store/charger"
)

// BenchmarkMassDisconnect: 1,000 charge points of 12 idle connectors each
// drop at once and are marked offline (every connector status 0 with its
// regulator push, the charge point, its Offline fault) by `presence`
// Disconnected calls at a time, as devices/ocpp runs them (default 4).
// Connector statuses are recorded straight into the outbox (a process
// without Temporal) or with group commit (the platform's recorder).
// Reports ms for all of them and µs per charge point.
func BenchmarkMassDisconnect(b *testing.B) {
	const chargePoints = 1000
	ctx := context.Background()
	e := setupDB(b)
	stations, err := registry.AddStations(ctx, e.db, chargePoints/2, 2, registry.DemoConnectorsPerEquipment)
	if err != nil {
		b.Fatal(err)
	}
	rows, err := e.db.Query(ctx, `select equipment_id from charging_equipment where station_id = any($1) order by 1`, stations)
	if err != nil {
		b.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) != chargePoints {
		b.Fatalf("%d charge points, %v", len(ids), err)
	}
	for _, id := range ids {
		if err := charger.Enroll(ctx, e.db, id, e.projectID, charger.DemoPassword); err != nil {
			b.Fatal(err)
		}
	}
	batcher := &push.Batcher{DB: e.db, Regulator: push.DefaultRegulator}
	recorders := map[string]*centralsystem.Service{
		"outbox": {DB: e.db},
		// As the platform records with Temporal (push.Starter.ChangeStatus and
		// ChangeStatuses),
		// less the pump's start.
		"groupcommit": {DB: e.db, Status: func(ctx context.Context, info registry.ConnectorStatusInfo, at time.Time) error {
			_, err := batcher.RecordAll(ctx, []push.StatusChange{{Info: info, At: at}})
			return err
		}, Statuses: func(ctx context.Context, changes []push.StatusChange) error {
			_, err := batcher.RecordAll(ctx, changes)
			return err
		}},
	}
	for _, bc := range []struct {
		recorder string
		presence int
	}{{"outbox", 4}, {"outbox", 16}, {"groupcommit", 4}, {"groupcommit", 16}} {
		svc := recorders[bc.recorder]
		presence := bc.presence
		b.Run(fmt.Sprintf("%s/presence=%d", bc.recorder, presence), func(b *testing.B) {
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				// Back online and idle, as before an outage.
				for _, q := range []string{`insert into connector_status (connector_id, status, changed_at)
					select connector_id, 1, now() from charging_connectors where equipment_id = any($1)
					on conflict (connector_id) do update set status=1`,
					`update charger_faults set recovered_at=now() where recovered_at is null and equipment_id = any($1)`,
					`update ocpp_charge_points set online=true where equipment_id = any($1)`} {
					if _, err := e.db.Exec(ctx, q, ids); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				work := make(chan string)
				var wg sync.WaitGroup
				for range presence {
					wg.Go(func() {
						for id := range work {
							svc.Disconnected(ctx, id)
						}
					})
				}
				for _, id := range ids {
					work <- id
				}
				close(work)
				wg.Wait()
				took += time.Since(start)
				b.StopTimer()
				var online, notOffline int
				if err := e.db.QueryRow(ctx, `select (select count(*) from ocpp_charge_points where online and equipment_id = any($1)),
					(select count(*) from connector_status join charging_connectors using (connector_id)
						where status <> 0 and equipment_id = any($1))`, ids).Scan(&online, &notOffline); err != nil ||
					online != 0 || notOffline != 0 {
					b.Fatalf("after the drop: %d online, %d connectors not offline, %v", online, notOffline, err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/drop")
			b.ReportMetric(float64(took.Microseconds())/float64(b.N)/chargePoints, "µs/chargepoint")
		})
	}
}
