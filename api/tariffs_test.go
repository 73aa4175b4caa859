package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/voltflow/voltflow/api"
)

func send(t *testing.T, srv *httptest.Server, token, method, path, body string) (int, []byte) {
	t.Helper()
	code, _, b := request(t, srv, token, method, path, "application/json", []byte(body))
	return code, b
}

// request sends body as contentType and returns the status, the answer's
// Content-Type and its body.
func request(t *testing.T, srv *httptest.Server, token, method, path, contentType string, body []byte) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

const touTariff = `{"kind":"tou","prices":{"sharp":"1.5000","peak":"1.2000","flat":"0.8000","valley":"0.4000"},
	"schedule":[{"startMinute":0,"period":"valley"},{"startMinute":480,"period":"flat"},{"startMinute":600,"period":"peak"},
	{"startMinute":1080,"period":"sharp"},{"startMinute":1260,"period":"flat"},{"startMinute":1380,"period":"valley"}]}`

func TestTariffAPI(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := context.Background()
	count := func() int {
		var n int
		if err := db.QueryRow(ctx, `select count(*) from tariffs where code <> 'TOU-DEMO'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	code, body := send(t, srv, admin, "POST", "/api/v1/projects/demo/tariffs", `{"code":"TOU-1","name":"Shops TOU","tariff":`+touTariff+`}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}

	// Bad input: a problem with a stable code and field, and nothing stored.
	for _, c := range []struct {
		name, token, path, body string
		status                  int
		code, field             string
	}{
		{"code taken", admin, "/api/v1/projects/demo/tariffs", `{"code":"TOU-1","tariff":{"kind":"single","price":"1.0000"}}`,
			409, api.CodeTariffExists, "code"},
		{"schedule not from midnight", admin, "/api/v1/projects/demo/tariffs",
			`{"code":"BAD","tariff":{"kind":"tou","prices":{"flat":"1.0000"},"schedule":[{"startMinute":60,"period":"flat"}]}}`,
			422, api.CodeInvalidTariff, "tariff"},
		{"period without price", admin, "/api/v1/projects/demo/tariffs",
			`{"code":"BAD","tariff":{"kind":"tou","prices":{"flat":"1.0000"},"schedule":[{"startMinute":0,"period":"peak"}]}}`,
			422, api.CodeInvalidTariff, "tariff"},
		{"tiers not increasing", admin, "/api/v1/projects/demo/tariffs",
			`{"code":"BAD","tariff":{"kind":"tiered","steps":[{"upToKwh":"200","price":"0.5"},{"upToKwh":"100","price":"0.6"},{"price":"0.8"}]}}`,
			422, api.CodeInvalidTariff, "tariff"},
		{"unknown kind", admin, "/api/v1/projects/demo/tariffs", `{"code":"BAD","tariff":{"kind":"flat-ish"}}`,
			422, api.CodeInvalidTariff, "tariff"},
		{"no tariff", admin, "/api/v1/projects/demo/tariffs", `{"code":"BAD"}`, 422, api.CodeInvalidField, "tariff"},
		{"bad code", admin, "/api/v1/projects/demo/tariffs", `{"code":"a b","tariff":{"kind":"single","price":"1"}}`,
			422, api.CodeInvalidField, "code"},
		{"bad price", admin, "/api/v1/projects/demo/tariffs", `{"code":"BAD","tariff":{"kind":"single","price":"abc"}}`,
			400, api.CodeMalformed, ""},
		{"unknown field", admin, "/api/v1/projects/demo/tariffs", `{"code":"BAD","colour":"red","tariff":{"kind":"single","price":"1"}}`,
			400, api.CodeMalformed, ""},
		{"another tenant's project", other, "/api/v1/projects/demo/tariffs", `{"code":"X","tariff":{"kind":"single","price":"1"}}`,
			404, api.CodeNotFound, ""},
		{"viewer of the project", other, "/api/v1/projects/other/tariffs", `{"code":"X","tariff":{"kind":"single","price":"1"}}`,
			403, api.CodeForbidden, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := send(t, srv, c.token, "POST", c.path, c.body)
			var p api.Problem
			_ = json.Unmarshal(body, &p)
			if status != c.status || p.Code != c.code || p.Field != c.field {
				t.Fatalf("%d %s, want %d %s field %q", status, body, c.status, c.code, c.field)
			}
		})
	}
	if n := count(); n != 1 {
		t.Fatalf("%d tariffs stored, want only TOU-1", n)
	}

	// Assigning: only to a platform-side meter, only a tariff of its project
	// (a meter-side meter takes one only where its profile can: a water
	// meter's cannot; tests/meterprices downloads to those that can).
	if _, err := db.Exec(ctx, `update meters set profile='ref-water-valve-v1' where meter_no='M0001'`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, meter, body string
		status            int
		code              string
	}{
		{"meter-side meter", "M0001", `{"tariff":"TOU-1"}`, 409, api.CodeMeterNotPlatform},
		{"unknown tariff", "M0002", `{"tariff":"NOPE"}`, 422, api.CodeInvalidField},
		{"unknown meter", "M9999", `{"tariff":"TOU-1"}`, 404, api.CodeNotFound},
	} {
		if _, err := db.Exec(ctx, `update meters set prepaid_mode='platform' where meter_no='M0002'`); err != nil {
			t.Fatal(err)
		}
		status, body := send(t, srv, admin, "PUT", "/api/v1/meters/"+c.meter+"/tariff", c.body)
		var p api.Problem
		_ = json.Unmarshal(body, &p)
		if status != c.status || p.Code != c.code {
			t.Fatalf("%s: %d %s, want %d %s", c.name, status, body, c.status, c.code)
		}
	}
	if status, body := send(t, srv, admin, "PUT", "/api/v1/meters/M0002/tariff", `{"tariff":"TOU-1"}`); status != 200 {
		t.Fatalf("assign: %d %s", status, body)
	}
	var assigned string
	if err := db.QueryRow(ctx, `select t.code from meter_tariffs mt join tariffs t on t.id=mt.tariff_id
		join meters m on m.id=mt.meter_id where m.meter_no='M0002'`).Scan(&assigned); err != nil || assigned != "TOU-1" {
		t.Fatalf("M0002's tariff %q (%v), want TOU-1", assigned, err)
	}

	resp, body := get(t, srv, admin, "/api/v1/projects/demo/tariffs")
	var list struct{ Items []api.Tariff }
	if err := json.Unmarshal(body, &list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	// The demo's own TOU-DEMO is listed after it.
	if len(list.Items) != 2 || list.Items[0].Code != "TOU-1" || list.Items[0].Meters != 1 || list.Items[1].Code != "TOU-DEMO" ||
		len(list.Items[0].Tariff.Schedule) != 6 || list.Items[0].Tariff.Prices["sharp"].String() != "1.5000" {
		t.Fatalf("list %+v", list.Items)
	}
	if resp, _ := get(t, srv, other, "/api/v1/projects/demo/tariffs"); resp.StatusCode != 404 {
		t.Fatalf("another tenant lists demo's tariffs: %d", resp.StatusCode)
	}
}
