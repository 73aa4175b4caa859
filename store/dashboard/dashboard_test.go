package dashboard_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/dashboard"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/report"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

func exec(t *testing.T, db *store.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// fixture is a small demo (2 gateways × 8 meters, M0001–M0016) with one
// meter in each board status; the rest were never read.
func fixture(t *testing.T) (*store.DB, string) {
	t.Helper()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = []int{1, 2}, 8, bcrypt.MinCost
	l, err := demo.Load(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	state := func(meterNo string, relay, mode, flags int) {
		exec(t, db, `insert into meter_state(meter_id, remaining, purchase_count, cumulative_purchased, energy_kwh, relay, mode, status_flags, read_at)
			select id, 50, 0, 0, 0, $2, $3, $4, now() from meters where meter_no=$1`, meterNo, relay, mode, flags)
	}
	state("M0001", 0, 0, 0) // normal
	state("M0002", 1, 0, 0) // cut off: relay open
	state("M0003", 0, 0, 8) // fault: overload trip
	state("M0004", 0, 0, 1) // alarming: alarm 1 flag
	state("M0005", 0, 0, 0) // lost contact, below
	exec(t, db, `insert into device_events(project_id, kind, subject, subject_no, raised_at) select project_id, 'meter_lost_contact', id, meter_no, now()
		from meters where meter_no='M0005'`)
	exec(t, db, `update meters set account_id=null where meter_no='M0006'`) // not opened
	return db, l.ProjectID
}

func board(t *testing.T, db *store.DB, f dashboard.BoardFilter) dashboard.Board {
	t.Helper()
	if f.Limit == 0 {
		f.Limit = 100
	}
	b, err := dashboard.LoadBoard(context.Background(), db, f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBoard(t *testing.T) {
	db, pid := fixture(t)
	ctx := context.Background()
	all := board(t, db, dashboard.BoardFilter{ProjectID: pid})
	want := map[string]int{"normal": 1, "cut_off": 1, "fault": 1, "alarming": 1, "lost_contact": 1, "not_opened": 1, "unknown": 10}
	if !maps.Equal(all.Counts, want) || all.Total != 16 || len(all.Items) != 16 {
		t.Fatalf("counts %v total %d items %d, want %v, 16, 16", all.Counts, all.Total, len(all.Items), want)
	}
	// The board and the status-board report never disagree.
	rep, err := report.StatusCounts(ctx, db, report.StatusFilter{Projects: []string{pid}})
	if err != nil {
		t.Fatal(err)
	}
	for st, n := range rep {
		if all.Counts[string(st)] != n {
			t.Errorf("status %s: board %d, report %d", st, all.Counts[string(st)], n)
		}
	}
	byNo := map[string]dashboard.Tile{}
	for _, tile := range all.Items {
		byNo[tile.MeterNo] = tile
	}
	for no, st := range map[string]string{"M0001": "normal", "M0002": "cut_off", "M0003": "fault", "M0004": "alarming",
		"M0005": "lost_contact", "M0006": "not_opened", "M0007": "unknown"} {
		if byNo[no].Status != st {
			t.Errorf("%s: status %q, want %q", no, byNo[no].Status, st)
		}
	}
	if tile := byNo["M0009"]; tile.Unit != "Shop M0009" || tile.Tenant != "Tenant M0009" {
		t.Errorf("M0009 tile %+v, want its unit and tenant", tile)
	}
	var building, other string
	if err := db.QueryRow(ctx, `select site_id::text from units where project_id=$1 limit 1`, pid).Scan(&building); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `insert into sites(id, project_id, level, name) values(gen_random_uuid(), $1, 1, 'Other')
		returning id::text`, pid).Scan(&other); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		f         dashboard.BoardFilter
		wantTotal int
		wantFirst string
	}{
		{"status", dashboard.BoardFilter{Status: "cut_off"}, 1, "M0002"},
		{"meter number", dashboard.BoardFilter{Query: "M001"}, 7, "M0010"},
		{"tenant name, any case", dashboard.BoardFilter{Query: "tenant m0012"}, 1, "M0012"},
		{"a % is literal", dashboard.BoardFilter{Query: "%"}, 0, ""},
		{"an _ is literal", dashboard.BoardFilter{Query: "M_0"}, 0, ""},
		{"a trailing backslash is literal", dashboard.BoardFilter{Query: `M\`}, 0, ""},
		{"site subtree", dashboard.BoardFilter{SiteID: building}, 16, "M0001"},
		{"a site without meters", dashboard.BoardFilter{SiteID: other}, 0, ""},
		{"scoped to no site", dashboard.BoardFilter{Sites: []string{}}, 0, ""},
		{"scoped to the building", dashboard.BoardFilter{Sites: []string{building}}, 16, "M0001"},
		{"second page", dashboard.BoardFilter{Offset: 10, Limit: 5}, 16, "M0011"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.ProjectID = pid
			b := board(t, db, tt.f)
			if b.Total != tt.wantTotal {
				t.Errorf("total %d, want %d", b.Total, tt.wantTotal)
			}
			first := ""
			if len(b.Items) > 0 {
				first = b.Items[0].MeterNo
			}
			if first != tt.wantFirst {
				t.Errorf("first %q, want %q", first, tt.wantFirst)
			}
		})
	}
}

func TestSummaryAndInbox(t *testing.T) {
	db, pid := fixture(t)
	ctx := context.Background()
	now := time.Now()
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	// M0001 uses 1.5 kWh in today's first hour and 2 kWh in yesterday's last.
	for _, r := range []struct {
		at     time.Time
		energy string
	}{{dayStart.Add(-90 * time.Minute), "10"}, {dayStart.Add(-30 * time.Minute), "12"}, {dayStart.Add(30 * time.Minute), "13.5"}} {
		exec(t, db, `select readings_partition($1)`, r.at)
		exec(t, db, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh, flat_kwh, valley_kwh,
			voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
			select id, $1, $1, $2, 0, 0, 0, 0, 220, 1, 0.2, 40, 1, 0, 0, 0 from meters where meter_no='M0001'`, r.at, r.energy)
	}
	// A completed sale today and one waiting for approval, with its task.
	exec(t, db, `insert into recharges(id, project_id, meter_id, meter_no, transaction_no, amount, status, needs_approval, workflow_id,
		created_by, completed_at) select gen_random_uuid(), $1, m.id, m.meter_no, 'T1', 100, 'completed', false, 'recharge/x', o.id, now()
		from meters m, operators o where m.meter_no='M0001' and o.username='cashier'`, pid)
	var rechargeID string
	if err := db.QueryRow(ctx, `insert into recharges(id, project_id, meter_id, meter_no, transaction_no, amount, status, needs_approval,
		workflow_id, created_by) select gen_random_uuid(), $1, m.id, m.meter_no, 'T2', 600, 'pending_approval', true, 'recharge/y', o.id
		from meters m, operators o where m.meter_no='M0009' and o.username='cashier' returning id::text`, pid).Scan(&rechargeID); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `insert into tasks(id, project_id, kind, subject, role, workflow_id, status, details)
		values(gen_random_uuid(), $1, 'approval', 'Recharge 600.00 to meter M0009', 'approver', 'recharge/y', 'pending',
		jsonb_build_object('rechargeId', $2::text, 'meterNo', 'M0009', 'amount', '600.00'))`, pid, rechargeID)

	s, err := dashboard.LoadSummary(ctx, db, pid, nil, dayStart)
	if err != nil {
		t.Fatal(err)
	}
	if s.SalesToday.Count != 1 || s.SalesToday.Amount != "100.00" {
		t.Errorf("sales today %+v, want 1 of 100.00", s.SalesToday)
	}
	if s.PendingTasks != 1 || s.LostMeters != 1 || s.Meters["cut_off"] != 1 {
		t.Errorf("pending %d, lost %d, cut off %d; want 1, 1, 1", s.PendingTasks, s.LostMeters, s.Meters["cut_off"])
	}
	if s.Today[0] != "1.50" || s.Yesterday[23] != "2.00" || s.Yesterday[22] != "0.00" {
		t.Errorf("today[0] %s yesterday[22..23] %s %s, want 1.50, 0.00, 2.00", s.Today[0], s.Yesterday[22], s.Yesterday[23])
	}

	items, err := dashboard.Inbox(ctx, db, pid, "pending", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Applicant != "cashier" || items[0].Customer != "Tenant M0009" || items[0].Unit != "Shop M0009" ||
		items[0].Details["amount"] != "600.00" {
		t.Fatalf("inbox %+v, want the sale with applicant, customer and unit", items)
	}
	if other, err := dashboard.Inbox(ctx, db, pid, "approved", 10); err != nil || len(other) != 0 {
		t.Fatalf("approved inbox %v %v, want empty", other, err)
	}
}
