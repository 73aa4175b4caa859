package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	feedom "github.com/voltflow/voltflow/domain/fee"
	"github.com/voltflow/voltflow/domain/money"
	feestore "github.com/voltflow/voltflow/store/fee"
)

// TestFeeSchedulesListAndEnd: the project's schedules are listed; DELETE
// ends one (kept, endedAt set, audited), which leaves the running list and
// shows with ended=true; a viewer may list but not end; another tenant gets
// 404.
func TestFeeSchedulesListAndEnd(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := t.Context()
	var project, unit string
	if err := db.QueryRow(ctx, `select p.id::text, m.unit_id::text from projects p join meters m on m.project_id=p.id
		where p.code='demo' and m.meter_no='M0001'`).Scan(&project, &unit); err != nil {
		t.Fatal(err)
	}
	// Created in the store: POST also starts the project's Temporal
	// Schedule, which this API-only test has no server for.
	var ids []string
	for _, amount := range []string{"3000.00", "120.00"} {
		s, err := feestore.CreateSchedule(ctx, db, feestore.Schedule{ProjectID: project, UnitID: unit, Kind: feedom.Rent,
			Basis: feedom.Fixed, Amount: money.MustParse(amount), DayOfMonth: 5}, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	type schedule struct {
		ID, UnitID, Kind, Amount string
		EndedAt                  *string
	}
	list := func(token, query string) []schedule {
		t.Helper()
		resp, body := get(t, srv, token, "/api/v1/projects/demo/fee-schedules"+query)
		var out struct{ Items []schedule }
		if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("list%s: %d %s", query, resp.StatusCode, body)
		}
		return out.Items
	}
	if got := list(admin, ""); len(got) != 2 || got[0].ID != ids[0] || got[0].Amount != "3000.00" || got[0].UnitID != unit ||
		got[0].EndedAt != nil || got[1].ID != ids[1] {
		t.Fatalf("schedules %+v", got)
	}

	alice := newViewer(t, srv, admin)
	if got := list(alice, ""); len(got) != 2 {
		t.Errorf("the viewer lists %d schedules", len(got))
	}
	if code, b := send(t, srv, alice, "DELETE", "/api/v1/projects/demo/fee-schedules/"+ids[0], ""); code != http.StatusForbidden {
		t.Errorf("viewer's end: %d %s", code, b)
	}
	if code, b := send(t, srv, other, "DELETE", "/api/v1/projects/demo/fee-schedules/"+ids[0], ""); code != http.StatusNotFound {
		t.Errorf("other tenant's end: %d %s", code, b)
	}
	if code, b := send(t, srv, admin, "DELETE", "/api/v1/projects/demo/fee-schedules/not-an-id", ""); code != http.StatusNotFound {
		t.Errorf("unknown schedule: %d %s", code, b)
	}

	body := must(t, srv, 200, admin, "DELETE", "/api/v1/projects/demo/fee-schedules/"+ids[0], "")
	var ended schedule
	if err := json.Unmarshal(body, &ended); err != nil || ended.ID != ids[0] || ended.EndedAt == nil {
		t.Fatalf("ended %s", body)
	}
	again := must(t, srv, 200, admin, "DELETE", "/api/v1/projects/demo/fee-schedules/"+ids[0], "")
	var twice schedule
	if err := json.Unmarshal(again, &twice); err != nil || twice.EndedAt == nil || *twice.EndedAt != *ended.EndedAt {
		t.Errorf("ended twice: %s, first %s", again, body)
	}
	if got := list(admin, ""); len(got) != 1 || got[0].ID != ids[1] {
		t.Errorf("running schedules after the end %+v", got)
	}
	if got := list(admin, "?ended=true"); len(got) != 2 || got[0].ID != ids[1] || got[1].ID != ids[0] || got[1].EndedAt == nil {
		t.Errorf("all schedules after the end %+v", got)
	}
	if resp, _ := get(t, srv, admin, "/api/v1/projects/demo/fee-schedules?ended=maybe"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("ended=maybe: %d", resp.StatusCode)
	}

	var audited map[int]int
	rows, err := db.Query(ctx, `select status, count(*) from audit_log where action='fee_schedule.end' and subject=$1 group by status`,
		"fee schedule "+ids[0])
	if err != nil {
		t.Fatal(err)
	}
	audited = map[int]int{}
	for rows.Next() {
		var status, n int
		if err := rows.Scan(&status, &n); err != nil {
			t.Fatal(err)
		}
		audited[status] = n
	}
	rows.Close()
	if audited[200] != 2 || audited[403] != 1 || audited[404] != 1 {
		t.Errorf("audit of fee_schedule.end by status: %v, want 200×2, 403×1, 404×1", audited)
	}
}
