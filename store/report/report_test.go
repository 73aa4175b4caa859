package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/report"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		panic(err)
	}
	return t
}

// fixture loads a small demo: 2 gateways × 8 meters (M0001–M0016).
func fixture(t *testing.T) (*store.DB, string) {
	t.Helper()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = []int{1, 2}, 8, bcrypt.MinCost
	o.Operators = o.Operators[:1]
	l, err := demo.Load(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	return db, l.ProjectID
}

func exec(t *testing.T, db *store.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// reading writes one reading, creating its month partition first.
func reading(t *testing.T, db *store.DB, meterNo string, readAt time.Time, energy, remaining string) {
	t.Helper()
	exec(t, db, `select readings_partition($1)`, readAt)
	exec(t, db, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh, flat_kwh, valley_kwh,
		voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
		select id, $2, $2, $3, 0, 0, 0, 0, 220, 1, 0.2, $4, 1, 0, 0, 0 from meters where meter_no=$1`,
		meterNo, readAt, energy, remaining)
}

func consumption(t *testing.T, db *store.DB, f report.ConsumptionFilter, p report.Page) []report.ConsumptionRow {
	t.Helper()
	var out []report.ConsumptionRow
	if err := report.Consumption(context.Background(), db, f, p, func(r report.ConsumptionRow) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

type want struct {
	bucket    string
	key       string
	energy    string
	intervals int
}

func check(t *testing.T, got []report.ConsumptionRow, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d rows %+v, want %d", len(got), got, len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if !g.Bucket.Equal(at(w.bucket)) || g.Key != w.key || g.EnergyKwh != w.energy || g.Intervals != w.intervals {
			t.Errorf("row %d = %s %s %s %d, want %+v", i, g.Bucket.In(cst).Format("2006-01-02 15:04"), g.Key,
				g.EnergyKwh, g.Intervals, w)
		}
	}
}

// Readings around a UTC month boundary (China 2026-04-01 00:00 is March 31
// 16:00 UTC; the 09:00 reading lies in the April partition). An interval's
// energy belongs to the day it starts in.
func TestConsumptionByDayAcrossMonthPartitions(t *testing.T) {
	db, project := fixture(t)
	reading(t, db, "M0001", at("2026-03-31 00:00"), "100.00", "50.00")
	reading(t, db, "M0001", at("2026-03-31 12:00"), "104.50", "45.00")
	reading(t, db, "M0001", at("2026-04-01 00:00"), "110.00", "40.00")
	reading(t, db, "M0001", at("2026-04-01 09:00"), "113.25", "80.00")
	reading(t, db, "M0001", at("2026-04-02 00:00"), "121.00", "70.00") // closes April 1st
	reading(t, db, "M0001", at("2026-04-02 06:00"), "121.50", "69.00") // after the period: not counted
	reading(t, db, "M0002", at("2026-03-30 23:00"), "50.00", "50.00")  // starts before the period
	reading(t, db, "M0002", at("2026-03-31 01:00"), "52.00", "50.00")
	reading(t, db, "M0002", at("2026-04-01 01:00"), "55.00", "50.00") // last reading: opens no interval
	reading(t, db, "M0003", at("2026-03-31 00:00"), "10.00", "50.00")
	reading(t, db, "M0003", at("2026-03-31 01:00"), "0.00", "50.00") // a replaced meter: counts as zero

	f := report.ConsumptionFilter{Projects: []string{project}, Period: report.Period{From: at("2026-03-31 00:00"),
		To: at("2026-04-02 00:00")}, Granularity: report.Day, GroupBy: report.ByMeter}
	check(t, consumption(t, db, f, report.Page{}), []want{
		{"2026-03-31 00:00", "M0001", "10.00", 2},
		{"2026-03-31 00:00", "M0002", "3.00", 1},
		{"2026-03-31 00:00", "M0003", "0.00", 1},
		{"2026-04-01 00:00", "M0001", "11.00", 2},
	})

	f.GroupBy = report.ByBuilding
	check(t, consumption(t, db, f, report.Page{}), []want{
		{"2026-03-31 00:00", "Building A", "13.00", 4},
		{"2026-04-01 00:00", "Building A", "11.00", 2},
	})

	f.GroupBy, f.Granularity, f.MeterNo = report.ByUnit, report.Month, "M0001"
	check(t, consumption(t, db, f, report.Page{}), []want{
		{"2026-03-01 00:00", "Shop M0001", "10.00", 2},
		{"2026-04-01 00:00", "Shop M0001", "11.00", 2},
	})

	f.GroupBy, f.Granularity = report.ByMeter, report.Hour
	check(t, consumption(t, db, f, report.Page{}), []want{
		{"2026-03-31 00:00", "M0001", "4.50", 1},
		{"2026-03-31 12:00", "M0001", "5.50", 1},
		{"2026-04-01 00:00", "M0001", "3.25", 1},
		{"2026-04-01 09:00", "M0001", "7.75", 1},
	})

	// Keyset pages of two walk the same rows.
	f.MeterNo, f.Granularity = "", report.Day
	first := consumption(t, db, f, report.Page{Limit: 2})
	second := consumption(t, db, f, report.Page{Limit: 2, After: first[1].Cursor()})
	check(t, append(first, second...), []want{
		{"2026-03-31 00:00", "M0001", "10.00", 2},
		{"2026-03-31 00:00", "M0002", "3.00", 1},
		{"2026-03-31 00:00", "M0003", "0.00", 1},
		{"2026-04-01 00:00", "M0001", "11.00", 2},
	})

	// Another tenant's projects see nothing.
	f.Projects = []string{uuid.NewString()}
	if rows := consumption(t, db, f, report.Page{}); len(rows) != 0 {
		t.Fatalf("foreign project sees %d rows", len(rows))
	}
}

// Consumption by floor (楼层): the demo's Building A has Floor 1 (M0001–
// M0008) and Floor 2 (M0009–M0016). M0003's unit moves to an area (level 3)
// under Floor 2, so it counts for Floor 2; M0004's unit moves to Floor 1 of
// Building B, a floor of the same name elsewhere; M0005's unit hangs on
// Building B itself (on no floor: key ""). A site-scoped caller of Building
// B sees only Building B's floors.
func TestConsumptionByFloor(t *testing.T) {
	db, project := fixture(t)
	bldB, floorB1, area := uuid.NewString(), uuid.NewString(), uuid.NewString()
	exec(t, db, `insert into sites(id, project_id, level, name) values($1,$2,1,'Building B')`, bldB, project)
	exec(t, db, `insert into sites(id, project_id, parent_id, level, name) values($1,$2,$3,2,'Floor 1')`, floorB1, project, bldB)
	exec(t, db, `insert into sites(id, project_id, parent_id, level, name)
		select $1, $2, id, 3, 'East wing' from sites where project_id=$2 and name='Floor 2'`, area, project)
	move := func(meterNo, site string) {
		exec(t, db, `update units set site_id=$1 where id=(select unit_id from meters where meter_no=$2)`, site, meterNo)
	}
	move("M0003", area)
	move("M0004", floorB1)
	move("M0005", bldB)
	day := func(meterNo, open, mid, close string) {
		reading(t, db, meterNo, at("2026-05-01 00:00"), open, "50.00")
		reading(t, db, meterNo, at("2026-05-01 12:00"), mid, "50.00")
		reading(t, db, meterNo, at("2026-05-02 00:00"), close, "50.00")
	}
	day("M0001", "100.00", "101.50", "103.00") // Floor 1: 3.00
	day("M0002", "20.00", "20.25", "21.00")    // Floor 1: 1.00
	day("M0009", "5.00", "6.00", "7.50")       // Floor 2: 2.50
	day("M0003", "40.00", "44.00", "44.40")    // Floor 2 via the East wing: 4.40
	day("M0004", "10.00", "10.10", "10.20")    // Building B / Floor 1: 0.20
	day("M0005", "1.00", "2.00", "3.00")       // Building B, no floor: 2.00

	f := report.ConsumptionFilter{Projects: []string{project}, Period: report.Period{From: at("2026-05-01 00:00"),
		To: at("2026-05-02 00:00")}, Granularity: report.Day, GroupBy: report.ByFloor}
	check(t, consumption(t, db, f, report.Page{}), []want{
		{"2026-05-01 00:00", "", "2.00", 2},
		{"2026-05-01 00:00", "Building A / Floor 1", "4.00", 4},
		{"2026-05-01 00:00", "Building A / Floor 2", "6.90", 4},
		{"2026-05-01 00:00", "Building B / Floor 1", "0.20", 2},
	})
	f.Granularity = report.Hour
	check(t, consumption(t, db, f, report.Page{Limit: 2, After: consumption(t, db, f, report.Page{Limit: 3})[2].Cursor()}), []want{
		{"2026-05-01 00:00", "Building B / Floor 1", "0.10", 1},
		{"2026-05-01 12:00", "", "1.00", 1},
	})

	// A building manager of Building B (scope: its subtree).
	f.Granularity, f.Scope = report.Day, store.Scope{Projects: []string{project}, Sites: []string{bldB, floorB1}}
	check(t, consumption(t, db, f, report.Page{}), []want{
		{"2026-05-01 00:00", "", "2.00", 2},
		{"2026-05-01 00:00", "Building B / Floor 1", "0.20", 2},
	})
}

func TestStatementOpeningClosingAndMoney(t *testing.T) {
	db, project := fixture(t)
	ctx := context.Background()
	reading(t, db, "M0001", at("2026-03-31 00:00"), "100.00", "50.00") // opening: last at or before from
	reading(t, db, "M0001", at("2026-03-31 12:00"), "104.50", "45.00")
	reading(t, db, "M0001", at("2026-04-01 09:00"), "113.25", "80.00") // closing: last at or before to
	reading(t, db, "M0001", at("2026-04-01 13:00"), "115.00", "78.00") // after the period
	reading(t, db, "M0002", at("2026-03-31 08:00"), "7.00", "12.00")   // starts mid-period

	var opID, meterID string
	if err := db.QueryRow(ctx, `select id from operators limit 1`).Scan(&opID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `select id from meters where meter_no='M0001'`).Scan(&meterID); err != nil {
		t.Fatal(err)
	}
	recharge := func(no, amount, status string, completed time.Time) string {
		id := uuid.NewString()
		exec(t, db, `insert into recharges(id, project_id, meter_id, meter_no, transaction_no, amount, status, needs_approval,
			workflow_id, created_by, completed_at) values($1,$2,$3,'M0001',$4,$5,$6,false,'wf',$7,$8)`,
			id, project, meterID, no, amount, status, opID, completed)
		return id
	}
	recharge("T1", "40.00", "completed", at("2026-04-01 08:00"))
	late := recharge("T2", "100.00", "completed", at("2026-04-02 08:00")) // after the period
	recharge("T3", "7.00", "dispatching", at("2026-04-01 08:00"))         // not taken by the meter
	refund := func(no, amount, kind string, reverses *string) {
		exec(t, db, `insert into refunds(id, project_id, meter_id, meter_no, transaction_no, amount, kind, reverses_recharge_id,
			status, workflow_id, created_by, completed_at) values($1,$2,$3,'M0001',$4,$5,$6,$7,'completed','wf',$8,$9)`,
			uuid.NewString(), project, meterID, no, amount, kind, reverses, opID, at("2026-03-31 20:00"))
	}
	refund("R1", "5.00", "refund", nil)
	refund("R2", "1.00", "reversal", &late)

	var rows []report.StatementRow
	err := report.Statement(ctx, db, report.StatementFilter{Projects: []string{project},
		Period: report.Period{From: at("2026-03-31 06:00"), To: at("2026-04-01 12:00")}}, report.Page{Limit: 3},
		func(r report.StatementRow) error { rows = append(rows, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want a page of 3", len(rows))
	}
	m1, m2, m3 := rows[0], rows[1], rows[2]
	str := func(p any) string {
		switch v := p.(type) {
		case *string:
			if v == nil {
				return "<nil>"
			}
			return *v
		case interface{ String() string }:
			return v.String()
		}
		return "?"
	}
	got := []string{m1.MeterNo, str(m1.OpeningEnergyKwh), str(m1.ClosingEnergyKwh), str(m1.UsedEnergyKwh),
		m1.OpeningRemaining.String(), m1.ClosingRemaining.String(), m1.Recharged.String(), m1.Refunded.String(),
		m1.Reversed.String(), m1.Spent.String()}
	wantM1 := []string{"M0001", "100.00", "113.25", "13.25", "50.00", "80.00", "40.00", "5.00", "1.00", "4.00"}
	for i := range wantM1 {
		if got[i] != wantM1[i] {
			t.Errorf("M0001 column %d = %s, want %s (row %v)", i, got[i], wantM1[i], got)
		}
	}
	if !m1.OpenedAt.Equal(at("2026-03-31 00:00")) || !m1.ClosedAt.Equal(at("2026-04-01 09:00")) {
		t.Errorf("M0001 opened %v closed %v", m1.OpenedAt, m1.ClosedAt)
	}
	// A meter first read inside the period opens at that reading.
	if m2.MeterNo != "M0002" || str(m2.OpeningEnergyKwh) != "7.00" || str(m2.UsedEnergyKwh) != "0.00" ||
		m2.Spent == nil || !m2.Spent.IsZero() {
		t.Errorf("M0002 = %+v", m2)
	}
	// A meter never read has no opening, closing or spent; its money still counts.
	if m3.MeterNo != "M0003" || m3.OpeningEnergyKwh != nil || m3.ClosingRemaining != nil || m3.Spent != nil {
		t.Errorf("M0003 = %+v", m3)
	}

	if err := report.Statement(ctx, db, report.StatementFilter{Projects: []string{project},
		Period: report.Period{From: at("2026-04-01 12:00"), To: at("2026-03-31 06:00")}}, report.Page{},
		func(report.StatementRow) error { return nil }); err == nil {
		t.Fatal("a reversed period was accepted")
	}
}

func TestStatusBoardColoursFiltersAndCounts(t *testing.T) {
	db, project := fixture(t)
	ctx := context.Background()
	state := func(meterNo string, relay, mode, flags int) {
		exec(t, db, `insert into meter_state(meter_id, remaining, purchase_count, cumulative_purchased, energy_kwh, relay,
			mode, status_flags, read_at) select id, 30.00, 1, 100.00, 12.34, $2, $3, $4, now() from meters where meter_no=$1`,
			meterNo, relay, mode, flags)
	}
	for _, no := range []string{"M0001", "M0005", "M0006", "M0007", "M0009", "M0010"} {
		state(no, 0, 0, 0)
	}
	state("M0002", 1, 0, 4) // tripped for arrears: cut off
	state("M0003", 1, 0, 8) // overload trip: fault, though the relay is open
	state("M0004", 0, 0, 1) // alarm 1 flag
	state("M0011", 0, 2, 0) // forced off, on the lost gateway: lost contact wins
	exec(t, db, `insert into alarms(id, project_id, meter_id, meter_no, kind, workflow_id, mode, alarm_amount, status, opened_at)
		select 'run-1', project_id, id, meter_no, 'low_balance', 'alarm/M0005/low_balance', 'staged', 20.00, 'open', now()
		from meters where meter_no='M0005'`)
	exec(t, db, `insert into device_events(project_id, kind, subject, subject_no, raised_at)
		select project_id, 'meter_lost_contact', id, meter_no, now() from meters where meter_no='M0006'`)
	exec(t, db, `insert into device_events(project_id, kind, subject, subject_no, raised_at, cleared_at)
		select project_id, 'meter_lost_contact', id, meter_no, now(), now() from meters where meter_no='M0001'`) // cleared
	exec(t, db, `insert into device_events(project_id, kind, subject, subject_no, raised_at)
		select project_id, 'gateway_lost_contact', id, code, now() from gateways where code='GW-02'`) // M0009–M0016
	exec(t, db, `update meters set account_id=null where meter_no='M0007'`)
	// M0001's unit moves to floor 2 of Building B.
	bldB, floor := uuid.NewString(), uuid.NewString()
	exec(t, db, `insert into sites(id, project_id, level, name) values($1,$2,1,'Building B')`, bldB, project)
	exec(t, db, `insert into sites(id, project_id, parent_id, level, name) values($1,$2,$3,2,'Floor 2')`, floor, project, bldB)
	exec(t, db, `update units set site_id=$1 where id=(select unit_id from meters where meter_no='M0001')`, floor)

	board := func(f report.StatusFilter, p report.Page) []report.StatusRow {
		var out []report.StatusRow
		if err := report.StatusBoard(ctx, db, f, p, func(r report.StatusRow) error { out = append(out, r); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := board(report.StatusFilter{Projects: []string{project}}, report.Page{})
	want := map[string]report.Status{
		"M0001": report.StatusNormal, "M0002": report.StatusCutOff, "M0003": report.StatusFault,
		"M0004": report.StatusAlarming, "M0005": report.StatusAlarming, "M0006": report.StatusLostContact,
		"M0007": report.StatusNotOpened, "M0008": report.StatusUnknown, "M0011": report.StatusLostContact,
		"M0016": report.StatusLostContact,
	}
	if len(all) != 16 {
		t.Fatalf("board has %d meters, want 16", len(all))
	}
	for _, r := range all {
		if w, ok := want[r.MeterNo]; ok && r.Status != w {
			t.Errorf("%s is %s, want %s", r.MeterNo, r.Status, w)
		}
	}
	if all[1].Colour != "black" || all[2].Colour != "red" || all[3].Colour != "yellow" || all[0].Colour != "white" {
		t.Errorf("colours: %s %s %s %s", all[0].Colour, all[1].Colour, all[2].Colour, all[3].Colour)
	}
	if all[4].OpenAlarms != "low_balance" {
		t.Errorf("M0005 open alarms %q", all[4].OpenAlarms)
	}

	cut := board(report.StatusFilter{Projects: []string{project}, Status: report.StatusCutOff}, report.Page{})
	if len(cut) != 1 || cut[0].MeterNo != "M0002" {
		t.Errorf("cut off filter = %+v", cut)
	}
	inB := board(report.StatusFilter{Projects: []string{project}, Site: bldB}, report.Page{})
	if len(inB) != 1 || inB[0].MeterNo != "M0001" {
		t.Errorf("Building B = %+v", inB)
	}
	page2 := board(report.StatusFilter{Projects: []string{project}}, report.Page{Limit: 5, After: "M0005"})
	if len(page2) != 5 || page2[0].MeterNo != "M0006" {
		t.Errorf("page after M0005 = %d rows from %v", len(page2), page2)
	}

	counts, err := report.StatusCounts(ctx, db, report.StatusFilter{Projects: []string{project}, Status: report.StatusFault})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[report.Status]int{report.StatusLostContact: 9, report.StatusNotOpened: 1, report.StatusUnknown: 1,
		report.StatusFault: 1, report.StatusCutOff: 1, report.StatusAlarming: 2, report.StatusNormal: 1}
	for s, n := range wantCounts {
		if counts[s] != n {
			t.Errorf("count %s = %d, want %d", s, counts[s], n)
		}
	}
}

func TestLostContactAndCommandLog(t *testing.T) {
	db, project := fixture(t)
	ctx := context.Background()
	exec(t, db, `insert into device_events(project_id, kind, subject, subject_no, detail, raised_at)
		select project_id, 'meter_lost_contact', id, meter_no, '3 failed reads', now() - interval '1 hour' from meters where meter_no='M0003'`)
	exec(t, db, `insert into device_events(project_id, kind, subject, subject_no, raised_at)
		select project_id, 'gateway_lost_contact', id, code, now() from gateways where code='GW-02'`)
	exec(t, db, `insert into device_events(project_id, kind, subject, subject_no, raised_at, cleared_at)
		select project_id, 'meter_lost_contact', id, meter_no, now() - interval '2 hours', now() from meters where meter_no='M0004'`)
	lost := func(f report.LostContactFilter) []report.LostContactRow {
		var out []report.LostContactRow
		f.Projects = []string{project}
		if err := report.LostContact(ctx, db, f, report.Page{}, func(r report.LostContactRow) error { out = append(out, r); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	open := lost(report.LostContactFilter{})
	if len(open) != 2 || open[0].Kind != "gateway" || open[0].SubjectNo != "GW-02" || open[1].SubjectNo != "M0003" ||
		open[1].Gateway != "GW-01" {
		t.Errorf("open events = %+v", open)
	}
	if all := lost(report.LostContactFilter{All: true, Kind: "meter"}); len(all) != 2 || all[1].ClearedAt == nil {
		t.Errorf("meter history = %+v", all)
	}

	var opID string
	if err := db.QueryRow(ctx, `select id from operators limit 1`).Scan(&opID); err != nil {
		t.Fatal(err)
	}
	for i, st := range []string{"done", "failed", "done"} {
		exec(t, db, `insert into meter_commands(id, project_id, meter_id, meter_no, command, status, workflow_id, request,
			response, failure, attempts, created_by, created_at) select $1, project_id, id, meter_no, 'switch_off', $2, 'wf',
			'{"register":87}', '{"relay":1}', case when $2='failed' then 'meter unreachable' else '' end, 1, $3,
			now() - make_interval(mins => $4) from meters where meter_no='M0007'`, uuid.NewString(), st, opID, i)
	}
	var cmds []report.CommandRow
	if err := report.CommandLog(ctx, db, report.CommandLogFilter{Projects: []string{project}, Status: "failed"}, report.Page{},
		func(r report.CommandRow) error { cmds = append(cmds, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 1 || cmds[0].Failure != "meter unreachable" || cmds[0].CreatedBy != "admin" || *cmds[0].Response != `{"relay": 1}` {
		t.Errorf("failed commands = %+v", cmds)
	}
	cmds = nil
	if err := report.CommandLog(ctx, db, report.CommandLogFilter{Projects: []string{project}}, report.Page{Limit: 2},
		func(r report.CommandRow) error { cmds = append(cmds, r); return nil }); err != nil {
		t.Fatal(err)
	}
	var rest []report.CommandRow
	if err := report.CommandLog(ctx, db, report.CommandLogFilter{Projects: []string{project}}, report.Page{Limit: 2, After: cmds[1].Cursor()},
		func(r report.CommandRow) error { rest = append(rest, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 2 || len(rest) != 1 || !rest[0].CreatedAt.Before(cmds[1].CreatedAt) {
		t.Errorf("pages %d + %d", len(cmds), len(rest))
	}
}
