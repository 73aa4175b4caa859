package push_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/internal/clock"
)

// outboxRow is what the claim oracle knows of a regulator_pushes row.
type outboxRow struct {
	id      int64
	station string  // coalesce(station_id, '')
	lane    *string // nil: a status or BMS row without a connector
	nextAt  *time.Time
}

// laneKey groups rows as DISTINCT ON (station, lane) does: nulls together.
type laneKey struct {
	station string
	lane    string
	null    bool
}

// wantClaim is the claim's contract, in Go: the lowest id of each lane
// among the pending rows, kept when due and not in flight, alarms first
// (a null lane before them, as "lane = 'alarm' desc" sorts nulls first),
// then oldest, at most limit.
func wantClaim(pending []outboxRow, inflight map[int64]bool, now time.Time, limit int) []int64 {
	heads := map[laneKey]outboxRow{}
	for _, r := range pending {
		k := laneKey{station: r.station, null: r.lane == nil}
		if r.lane != nil {
			k.lane = *r.lane
		}
		if h, ok := heads[k]; !ok || r.id < h.id {
			heads[k] = r
		}
	}
	rank := func(r outboxRow) int {
		switch {
		case r.lane == nil:
			return 0
		case *r.lane == push.LaneAlarm:
			return 1
		}
		return 2
	}
	var due []outboxRow
	for _, h := range heads {
		if (h.nextAt == nil || !h.nextAt.After(now)) && !inflight[h.id] {
			due = append(due, h)
		}
	}
	slices.SortFunc(due, func(a, b outboxRow) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return int(a.id - b.id)
	})
	ids := []int64{}
	for _, h := range due[:min(limit, len(due))] {
		ids = append(ids, h.id)
	}
	return ids
}

// TestClaimHeads drains a random outbox round by round and checks every
// claim against wantClaim: exactly one head per lane, no due lane skipped,
// alarms first, never a row behind its lane's head. Rows the claim must
// ignore (sent, periodic, another regulator's) are mixed in.
func TestClaimHeads(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	acts := &push.Activities{DB: db, Regulator: push.DefaultRegulator, Clock: clock.Func(func() time.Time { return now })}
	pump := &push.Pump{Acts: acts}
	rnd := rand.New(rand.NewPCG(1, 2))

	stations := []*string{nil}
	for i := range 4 {
		s := fmt.Sprintf("44030000000000000%03d", i)
		stations = append(stations, &s)
	}
	var pending []outboxRow
	for i := range 800 {
		st := stations[rnd.IntN(len(stations))]
		conn := fmt.Sprintf("C%d", rnd.IntN(4))
		var iface string
		connID := &conn
		var lane *string
		switch k := rnd.IntN(20); {
		case k < 9:
			iface, lane = push.NotificationStationStatus, &conn
		case k < 13:
			l := push.BmsLane(conn)
			iface, lane = push.NotificationBmsInfo, &l
		case k < 15:
			l := push.LaneAlarm
			iface, lane = push.NotificationAlarmInfo, &l
		case k < 17:
			l := push.LaneEvent
			iface, lane, connID = push.NotificationEventInfo, &l, nil
		case k < 19:
			l := push.LaneStationInfo
			iface, lane, connID = push.NotificationStationInfo, &l, nil
		default:
			// No writer does this; the lane is null, kept as before.
			iface, connID = []string{push.NotificationStationStatus, push.NotificationBmsInfo}[rnd.IntN(2)], nil
		}
		var nextAt *time.Time
		switch rnd.IntN(5) {
		case 0:
			at := now.Add(time.Duration(rnd.IntN(120)) * time.Minute)
			nextAt = &at
		case 1:
			at := now.Add(-time.Minute)
			nextAt = &at
		}
		regulator, status, key := push.DefaultRegulator, "pending", fmt.Sprintf("t/%d", i)
		live := true
		switch rnd.IntN(12) {
		case 0:
			status, live = "sent", false
		case 1:
			key, live = fmt.Sprintf("periodic/%d", i), false
		case 2:
			regulator, live = "elsewhere", false
		}
		var id int64
		if err := db.QueryRow(ctx, `insert into regulator_pushes (regulator, interface, station_id, connector_id,
			event_key, payload, due_at, status, next_at) values ($1,$2,$3,$4,$5,'{}',$6,$7,$8) returning id`,
			regulator, iface, st, connID, key, now, status, nextAt).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if live {
			r := outboxRow{id: id, lane: lane, nextAt: nextAt}
			if st != nil {
				r.station = *st
			}
			pending = append(pending, r)
		}
	}

	for round := 0; len(pending) > 0; round++ {
		if round > 500 {
			t.Fatalf("%d rows still pending after %d rounds", len(pending), round)
		}
		// Some due heads are in flight; the claim must skip their lanes.
		inflight := map[int64]bool{}
		for _, id := range wantClaim(pending, nil, now, 1000) {
			if rnd.IntN(4) == 0 {
				inflight[id] = true
			}
		}
		limit := []int{1, 3, 10, 1000}[rnd.IntN(4)]
		got, err := pump.Claim(ctx, inflight, limit)
		if err != nil {
			t.Fatal(err)
		}
		if want := wantClaim(pending, inflight, now, limit); !slices.Equal(got, want) {
			t.Fatalf("round %d, limit %d: claimed %v, want %v", round, limit, got, want)
		}
		// Send what was claimed, leaving the rest of each lane pending.
		if _, err := db.Exec(ctx, `update regulator_pushes set status = 'sent' where id = any($1)`, got); err != nil {
			t.Fatal(err)
		}
		pending = slices.DeleteFunc(pending, func(r outboxRow) bool { return slices.Contains(got, r.id) })
		now = now.Add(10 * time.Minute)
	}
}

// BenchmarkClaim times one claim of 64 rows while a backlog drains: 200,000
// pending rows over 2,000 lanes (100 stations of 12 connectors' statuses,
// 5 BMS lanes, alarms, events and station info). In "stale" the planner
// still believes what it saw before the outage: 200,000 rows, all sent.
func BenchmarkClaim(b *testing.B) {
	for _, stale := range []bool{false, true} {
		b.Run(map[bool]string{false: "fresh", true: "stale"}[stale], func(b *testing.B) {
			benchmarkClaim(b, stale)
		})
	}
}

func benchmarkClaim(b *testing.B, stale bool) {
	ctx := context.Background()
	db := pg.NewDB(b)
	const rows, lanes, perStation = 200_000, 2_000, 20
	fill := func(status string) {
		b.Helper()
		if _, err := db.Exec(ctx, `insert into regulator_pushes (regulator, interface, station_id, connector_id,
				event_key, payload, due_at, status)
			select $1,
				case when j < 12 then 'notification_stationStatus' when j < 17 then 'notification_bmsInfo'
					when j = 17 then 'notification_alarmInfo' when j = 18 then 'notification_eventInfo'
					else 'notification_stationInfo' end,
				st, case when j < 12 then st || lpad(j::text, 3, '0') when j < 17 then st || lpad((j - 12)::text, 3, '0')
					when j = 17 then st || '000' end,
				$5 || '/' || g, '{"ConnectorStatusInfo":{"Status":3}}', now() - interval '1 hour' + g * interval '10 ms', $5
			from generate_series(0, $2 - 1) g,
				lateral (select lpad(((g % $3) / $4)::text, 20, '4403') as st, (g % $3) % $4 as j) l`,
			push.DefaultRegulator, rows, lanes, perStation, status); err != nil {
			b.Fatal(err)
		}
	}
	if stale {
		if _, err := db.Exec(ctx, `alter table regulator_pushes set (autovacuum_enabled = false)`); err != nil {
			b.Fatal(err)
		}
		fill("sent")
		if _, err := db.Exec(ctx, `analyze regulator_pushes`); err != nil {
			b.Fatal(err)
		}
		fill("pending")
	} else {
		fill("pending")
		if _, err := db.Exec(ctx, `analyze regulator_pushes`); err != nil {
			b.Fatal(err)
		}
	}
	pump := &push.Pump{Acts: &push.Activities{DB: db, Regulator: push.DefaultRegulator}}
	for b.Loop() {
		ids, err := pump.Claim(ctx, nil, 64)
		if err != nil {
			b.Fatal(err)
		}
		if len(ids) != 64 {
			b.Fatalf("claimed %d rows, want 64", len(ids))
		}
	}
}
