package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/api"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// reportsAPI serves the API (no Temporal: reports need none) over the demo
// project and a second tenant's project, and logs in as each.
func reportsAPI(t testing.TB) (srv *httptest.Server, db *store.DB, admin, other string) {
	t.Helper()
	ctx := context.Background()
	db = pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost, o.Operators = []int{1}, 4, bcrypt.MinCost, o.Operators[:1]
	if _, err := demo.Load(ctx, db, o); err != nil {
		t.Fatal(err)
	}
	o.Project, o.Organisation, o.MeterPrefix = "other", "other-group", "N"
	o.Operators = []demo.Operator{{Username: "other", Password: "other", Roles: []string{"viewer"}}}
	if _, err := demo.Load(ctx, db, o); err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(api.New(api.Config{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)
	login := func(user string) string {
		resp, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json",
			strings.NewReader(`{"username":"`+user+`","password":"`+user+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Token string }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
			t.Fatalf("login %s: %d %v", user, resp.StatusCode, err)
		}
		return out.Token
	}
	return srv, db, login("admin"), login("other")
}

func get(t *testing.T, srv *httptest.Server, token, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestReportsHTTP(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := context.Background()
	for i, e := range []string{"10.00", "12.50", "15.00", "15.75"} {
		readAt := time.Date(2026, 5, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)).Add(time.Duration(i) * 12 * time.Hour)
		if _, err := db.Exec(ctx, `select readings_partition($1)`, readAt); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh, flat_kwh,
			valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
			select id, $1, $1, $2, 0, 0, 0, 0, 220, 1, 0.2, 50, 1, 0, 0, 0 from meters where meter_no='M0001'`, readAt, e); err != nil {
			t.Fatal(err)
		}
	}

	// JSON pages: May 1st used 5.00 kWh (two intervals); May 2nd 0.75, as
	// its 12:00 reading is the last and opens no interval.
	const q = "/api/v1/reports/consumption?from=2026-05-01&to=2026-05-03&granularity=day&limit=1"
	resp, body := get(t, srv, admin, q)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var page struct {
		Items []struct {
			Bucket    time.Time
			Key       string
			EnergyKwh string
		}
		NextCursor string
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Key != "M0001" || page.Items[0].EnergyKwh != "5.00" || page.NextCursor == "" {
		t.Fatalf("first page %s", body)
	}
	_, body = get(t, srv, admin, q+"&cursor="+page.NextCursor)
	page.Items = nil
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].EnergyKwh != "0.75" || page.Items[0].Bucket.In(time.FixedZone("CST", 8*3600)).Day() != 2 {
		t.Fatalf("second page %s", body)
	}

	// The same report as a workbook.
	resp, body = get(t, srv, admin, "/api/v1/reports/consumption?from=2026-05-01&to=2026-05-03&format=xlsx")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") !=
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="consumption-`) {
		t.Fatalf("xlsx answer %d %v", resp.StatusCode, resp.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("consumption")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][0] != "2026-05-01 00:00:00" || rows[1][1] != "M0001" || rows[1][2] != "5" || rows[2][2] != "0.75" {
		t.Fatalf("workbook rows %v", rows)
	}

	// The status board is scoped to the caller's projects and counts statuses.
	var board struct {
		Items  []struct{ MeterNo, Status, Colour string }
		Counts map[string]int
	}
	_, body = get(t, srv, other, "/api/v1/reports/status-board")
	if err := json.Unmarshal(body, &board); err != nil {
		t.Fatal(err)
	}
	if len(board.Items) != 4 || board.Items[0].MeterNo != "N0001" || board.Items[0].Status != "unknown" ||
		board.Counts["unknown"] != 4 || board.Counts["normal"] != 0 {
		t.Fatalf("other's board %s", body)
	}
	_, body = get(t, srv, other, "/api/v1/reports/statement?from=2026-05-01&to=2026-05-03&meterNo=M0001")
	if !bytes.Contains(body, []byte(`"items":[]`)) {
		t.Fatalf("other sees M0001's statement: %s", body)
	}

	// Bad parameters: stable codes and the field.
	for _, c := range []struct {
		path   string
		status int
		code   string
		field  string
	}{
		{"/api/v1/reports/consumption?from=yesterday&to=2026-05-03", 400, "malformed_request", "from"},
		{"/api/v1/reports/consumption?from=2026-05-03&to=2026-05-01", 422, "invalid_field", "from"},
		{"/api/v1/reports/consumption?to=2026-05-01", 422, "invalid_field", "from"},
		{"/api/v1/reports/consumption?from=2026-05-01&to=2026-05-03&granularity=week", 422, "invalid_field", "granularity"},
		{"/api/v1/reports/consumption?from=2026-05-01&to=2026-05-03&groupBy=room", 422, "invalid_field", "groupBy"},
		{"/api/v1/reports/status-board?status=purple", 422, "invalid_field", "status"},
		{"/api/v1/reports/status-board?site=abc", 400, "malformed_request", "site"},
		{"/api/v1/reports/status-board?format=pdf", 422, "invalid_field", "format"},
		{"/api/v1/reports/status-board?limit=0", 422, "invalid_field", "limit"},
		{"/api/v1/reports/status-board?limit=x", 400, "malformed_request", "limit"},
		{"/api/v1/reports/consumption?from=2026-05-01&to=2026-05-03&cursor=bm9wZQ", 400, "malformed_request", "cursor"},
		{"/api/v1/reports/lost-contact?kind=router", 422, "invalid_field", "kind"},
		{"/api/v1/reports/command-log?status=maybe", 422, "invalid_field", "status"},
		{"/api/v1/reports/profit", 404, "not_found", ""},
	} {
		resp, body := get(t, srv, admin, c.path)
		var p api.Problem
		_ = json.Unmarshal(body, &p)
		if resp.StatusCode != c.status || p.Code != c.code || p.Field != c.field ||
			resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s = %d %s", c.path, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, srv, "", "/api/v1/reports/status-board"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	for _, name := range []string{"lost-contact", "command-log", "statement?from=2026-05-01&to=2026-05-03"} {
		if resp, body := get(t, srv, admin, "/api/v1/reports/"+name+strings.Replace("?format=xlsx", "?", sep(name), 1)); resp.StatusCode != 200 {
			t.Errorf("%s xlsx: %d %s", name, resp.StatusCode, body)
		}
	}
}

func sep(name string) string {
	if strings.Contains(name, "?") {
		return "&"
	}
	return "?"
}
