package api_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/voltflow/voltflow/api"
	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	alarmstore "github.com/voltflow/voltflow/store/alarm"
)

// TestOverdraftThroughTheAPI sets a platform-side meter's emergency
// overdraft per meter, per account and as the project default: the one in
// force falls back meter → account → project; other projects' meters are
// 404, a viewer 403, a meter-side meter 409, a negative amount 422; each
// write is audited.
func TestOverdraftThroughTheAPI(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := t.Context()
	var meterNo, accountID, sideNo, otherNo string
	if err := db.QueryRow(ctx, `select m.meter_no, m.account_id::text from meters m join projects p on p.id=m.project_id
		where p.code='demo' and m.account_id is not null order by m.meter_no limit 1`).Scan(&meterNo, &accountID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `update meters set prepaid_mode='platform' where meter_no=$1`, meterNo); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `select m.meter_no from meters m join projects p on p.id=m.project_id
		where p.code='demo' and m.prepaid_mode <> 'platform' order by m.meter_no limit 1`).Scan(&sideNo); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `select m.meter_no from meters m join projects p on p.id=m.project_id
		where p.code='other' limit 1`).Scan(&otherNo); err != nil {
		t.Fatal(err)
	}
	inForce := func(t *testing.T, b []byte) string {
		t.Helper()
		var v struct{ InForce string }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v.InForce
	}
	settings := func(t *testing.T, overdraft string) {
		t.Helper()
		if code, b := send(t, srv, admin, "PUT", "/api/v1/projects/demo/settings",
			`{"autoApproveUpTo":"500.00","alarm1":"0.00","alarm2":"0.00","overdraft":`+overdraft+`}`); code != 200 {
			t.Fatalf("settings: %d %s", code, b)
		}
	}
	meterPath := "/api/v1/meters/" + meterNo + "/overdraft"
	accountPath := "/api/v1/projects/demo/accounts/" + accountID + "/overdraft"

	settings(t, `"3.00"`)
	steps := []struct {
		name, account, meter string // bodies; account "" leaves the account as it is
		want                 string // the meter's allowance in force afterwards
	}{
		{"project default", "", `{"amount":null}`, "3.00"},
		{"account wins over project", `{"amount":"8.00"}`, `{"amount":null}`, "8.00"},
		{"meter wins over account", "", `{"amount":"5.00"}`, "5.00"},
		{"meter cleared: account again", "", `{"amount":null}`, "8.00"},
		{"account cleared: project again", `{"amount":null}`, `{"amount":null}`, "3.00"},
		{"meter zero: none even with a default", "", `{"amount":"0.00"}`, "0.00"},
	}
	for _, s := range steps {
		if s.account != "" {
			if code, b := send(t, srv, admin, "PUT", accountPath, s.account); code != 200 {
				t.Fatalf("%s: account %d %s", s.name, code, b)
			}
		}
		code, b := send(t, srv, admin, "PUT", meterPath, s.meter)
		if code != 200 || inForce(t, b) != s.want {
			t.Fatalf("%s: %d %s, want in force %s", s.name, code, b, s.want)
		}
	}

	for _, c := range []struct {
		name, token, path, body string
		status                  int
		code                    string
	}{
		{"another project's meter", admin, "/api/v1/meters/" + otherNo + "/overdraft", `{"amount":"1.00"}`, 404, api.CodeNotFound},
		{"a meter of a project the caller cannot see", other, meterPath, `{"amount":"1.00"}`, 404, api.CodeNotFound},
		{"a meter-side meter", admin, "/api/v1/meters/" + sideNo + "/overdraft", `{"amount":"1.00"}`, 409, api.CodeMeterNotPlatform},
		{"negative meter allowance", admin, meterPath, `{"amount":"-1.00"}`, 422, api.CodeInvalidAmount},
		{"negative account allowance", admin, accountPath, `{"amount":"-1.00"}`, 422, api.CodeInvalidAmount},
		{"unknown account", admin, "/api/v1/projects/demo/accounts/00000000-0000-0000-0000-000000000000/overdraft", `{"amount":"1.00"}`, 404, api.CodeNotFound},
		{"an account of a project the caller cannot see", other, accountPath, `{"amount":"1.00"}`, 404, api.CodeNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, b := send(t, srv, c.token, "PUT", c.path, c.body)
			if code != c.status || problemCode(b) != c.code {
				t.Fatalf("%d %s, want %d %s", code, b, c.status, c.code)
			}
		})
	}
	// The refusals changed nothing: the meter keeps its 0.00.
	var own *string
	if err := db.QueryRow(ctx, `select overdraft::text from meters where meter_no=$1`, meterNo).Scan(&own); err != nil || own == nil || *own != "0.00" {
		t.Fatalf("meter's own allowance %v (%v), want 0.00", own, err)
	}
	var audited int
	if err := db.QueryRow(ctx, `select count(*) from audit_log where action in ('meter.overdraft','account.overdraft')
		and status=200 and subject <> ''`).Scan(&audited); err != nil || audited < len(steps)+2 {
		t.Fatalf("%d audited overdraft writes (%v), want at least %d", audited, err, len(steps)+2)
	}
}

// TestAlarmSettings: the settings answer the new fields back, refuse bad
// ones with 422 and change nothing then; site recipients are set and read
// per site of the caller's project.
func TestAlarmSettings(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	good := `{"autoApproveUpTo":"500.00","alarm1":"0.00","alarm2":"0.00","overdraft":"2.50","alarmScanInterval":"90s",
		"quietHours":{"from":"22:30","to":"07:00"}}`
	if code, b := send(t, srv, admin, "PUT", "/api/v1/projects/demo/settings", good); code != 200 {
		t.Fatalf("settings: %d %s", code, b)
	}
	read := func(t *testing.T) map[string]any {
		t.Helper()
		code, b := send(t, srv, admin, "GET", "/api/v1/projects/demo/settings", "")
		var st map[string]any
		if code != 200 || json.Unmarshal(b, &st) != nil {
			t.Fatalf("GET settings: %d %s", code, b)
		}
		return st
	}
	check := func(t *testing.T, st map[string]any) {
		t.Helper()
		q, _ := st["quietHours"].(map[string]any)
		if st["overdraft"] != "2.50" || st["alarmScanInterval"] != "1m30s" || q["from"] != "22:30" || q["to"] != "07:00" {
			t.Fatalf("settings %v", st)
		}
	}
	check(t, read(t))
	for _, c := range []struct{ name, body, code string }{
		{"negative overdraft", `"overdraft":"-1.00"`, api.CodeInvalidAmount},
		{"scan interval not a duration", `"alarmScanInterval":"often"`, api.CodeInvalidField},
		{"scan interval too long", `"alarmScanInterval":"25h"`, api.CodeInvalidField},
		{"quiet hours out of range", `"quietHours":{"from":"24:00","to":"07:00"}`, api.CodeInvalidField},
		{"quiet hours not HH:MM", `"quietHours":{"from":"7pm","to":"07:00"}`, api.CodeInvalidField},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := `{"autoApproveUpTo":"1.00","alarm1":"0.00","alarm2":"0.00",` + c.body + `}`
			if code, b := send(t, srv, admin, "PUT", "/api/v1/projects/demo/settings", body); code != 422 || problemCode(b) != c.code {
				t.Fatalf("%d %s, want 422 %s", code, b, c.code)
			}
			st := read(t)
			check(t, st)
			if st["autoApproveUpTo"] != "500.00" {
				t.Fatalf("a refused PUT changed autoApproveUpTo: %v", st)
			}
		})
	}
	// The alarm path reads what the API set: quiet hours now, site
	// recipients below.
	var projectID, meterID string
	if err := db.QueryRow(t.Context(), `select m.project_id::text, m.id::text from meters m join units u on u.id=m.unit_id
		join projects p on p.id=m.project_id join sites s on s.id=u.site_id
		where p.code='demo' and (s.id=$1 or s.parent_id=$1) order by m.meter_no limit 1`,
		demoSite(t, db)).Scan(&projectID, &meterID); err != nil {
		t.Fatal(err)
	}
	policy := func(t *testing.T) alarmstore.Policy {
		t.Helper()
		p, err := alarmstore.LoadConditionPolicy(t.Context(), db, projectID, meterID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if h := policy(t).Quiet.Hours(); h != (alarmdom.QuietHours{From: "22:30", To: "07:00"}) {
		t.Fatalf("the alarms' quiet hours %+v, want the setting 22:30–07:00", h)
	}
	// Without quietHours a PUT leaves them as they are.
	if code, b := send(t, srv, admin, "PUT", "/api/v1/projects/demo/settings", `{"autoApproveUpTo":"500.00","alarm1":"0.00","alarm2":"0.00"}`); code != 200 {
		t.Fatalf("settings: %d %s", code, b)
	}
	if q, _ := read(t)["quietHours"].(map[string]any); q["from"] != "22:30" {
		t.Fatalf("quiet hours after a PUT without them: %v", q)
	}

	site := demoSite(t, db)
	path := "/api/v1/projects/demo/sites/" + site + "/alarm-recipients"
	if code, b := send(t, srv, admin, "PUT", path, `{"phones":["13700000002","13700000001","13700000002"]}`); code != 200 ||
		!strings.Contains(string(b), `["13700000001","13700000002"]`) {
		t.Fatalf("PUT recipients: %d %s", code, b)
	}
	if code, b := send(t, srv, admin, "GET", path, ""); code != 200 || !strings.Contains(string(b), `["13700000001","13700000002"]`) {
		t.Fatalf("GET recipients: %d %s", code, b)
	}
	var got []string
	for _, r := range policy(t).Recipients {
		got = append(got, r.Phone)
	}
	if !slices.Contains(got, "13700000001") || !slices.Contains(got, "13700000002") {
		t.Fatalf("a meter under the site alarms %v, want the site's recipients among them", got)
	}
	for _, c := range []struct {
		name, token, path, body string
		status                  int
		code                    string
	}{
		{"not a phone", admin, path, `{"phones":["call me"]}`, 422, api.CodeInvalidField},
		{"no list", admin, path, `{"phones":null}`, 422, api.CodeInvalidField},
		{"unknown site", admin, "/api/v1/projects/demo/sites/00000000-0000-0000-0000-000000000000/alarm-recipients", `{"phones":[]}`, 404, api.CodeNotFound},
		{"another project's site", admin, "/api/v1/projects/other/sites/" + site + "/alarm-recipients", `{"phones":[]}`, 404, api.CodeNotFound},
		{"a project the caller cannot see", other, path, `{"phones":[]}`, 404, api.CodeNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, b := send(t, srv, c.token, "PUT", c.path, c.body)
			if code != c.status || problemCode(b) != c.code {
				t.Fatalf("%d %s, want %d %s", code, b, c.status, c.code)
			}
		})
	}
	if code, b := send(t, srv, admin, "GET", path, ""); code != 200 || !strings.Contains(string(b), `["13700000001","13700000002"]`) {
		t.Fatalf("recipients after refusals: %d %s", code, b)
	}
}
