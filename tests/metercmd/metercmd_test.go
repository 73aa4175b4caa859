package metercmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
)

type accepted struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	WorkflowID   string `json:"workflowId"`
	Total        int    `json:"total"`
	RedispatchOf string `json:"redispatchOf"`
}

type command struct {
	ID       string `json:"id"`
	MeterNo  string `json:"meterNo"`
	Command  string `json:"command"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Failure  string `json:"failure"`
	Request  struct {
		Register string   `json:"register"`
		Words    []string `json:"words"`
		Unit     int      `json:"unit"`
	} `json:"request"`
	Response *struct {
		Relay int `json:"relay"`
		Mode  int `json:"mode"`
	} `json:"response"`
}

type batch struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	Total          int    `json:"total"`
	Done           int    `json:"done"`
	Failed         int    `json:"failed"`
	Pending        int    `json:"pending"`
	RedispatchOf   string `json:"redispatchOf"`
	RedispatchedBy string `json:"redispatchedBy"`
	Items          []struct {
		CommandID string `json:"commandId"`
		MeterNo   string `json:"meterNo"`
		Status    string `json:"status"`
		Attempts  int    `json:"attempts"`
		Failure   string `json:"failure"`
	} `json:"items"`
}

type problem struct {
	Code   string `json:"code"`
	Status int    `json:"status"`
}

// meter returns the simulated meter behind a demo meter number.
func meter(t *testing.T, meterNo string) *simulator.Meter {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(meterNo, "M%d", &n); err != nil {
		t.Fatal(err)
	}
	return stack.Fleet.Gateway((n - 1) / 32).Meter(uint8((n-1)%32 + 1))
}

func meterNo(n int) string { return fmt.Sprintf("M%04d", n) }

func waitRelay(t *testing.T, meterNo string, want uint16, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	eventually.True(t, within, meterNo+" relay", func() (bool, string) {
		s := meter(t, meterNo).State()
		return s.Relay == want, fmt.Sprintf("relay %d", s.Relay)
	})
	return time.Since(start)
}

func apiRelay(t *testing.T, c *harness.Client, meterNo, want string) {
	t.Helper()
	eventually.True(t, 30*time.Second, "GET meter "+meterNo+" relay "+want, func() (bool, string) {
		var m struct {
			Relay *string `json:"relay"`
		}
		if code := c.Do(t, "GET", "/api/v1/meters/"+meterNo, nil, &m); code != http.StatusOK || m.Relay == nil {
			return false, fmt.Sprintf("status %d", code)
		}
		return *m.Relay == want, *m.Relay
	})
}

// boardStatus waits until the status board (状态监控) shows the meter cut
// off (断电, black) or, with cut false, anything else.
func boardStatus(t *testing.T, c *harness.Client, meterNo string, cut bool) {
	t.Helper()
	eventually.True(t, 30*time.Second, fmt.Sprintf("board shows %s cut off: %v", meterNo, cut), func() (bool, string) {
		var board struct {
			Items []struct {
				MeterNo string `json:"meterNo"`
				Status  string `json:"status"`
				Colour  string `json:"colour"`
			} `json:"items"`
		}
		if code := c.Do(t, "GET", "/api/v1/reports/status-board?status=cut_off&limit=500", nil, &board); code != http.StatusOK {
			return false, fmt.Sprintf("status %d", code)
		}
		for _, row := range board.Items {
			if row.MeterNo == meterNo {
				return cut && row.Status == "cut_off" && row.Colour == "black", row.Status + " " + row.Colour
			}
		}
		return !cut, "not among the cut-off meters"
	})
}

func sendCommand(t *testing.T, c *harness.Client, meterNo, cmd string) accepted {
	t.Helper()
	var a accepted
	if code := c.Do(t, "POST", "/api/v1/meters/"+meterNo+"/commands", map[string]string{"command": cmd}, &a); code != http.StatusAccepted {
		t.Fatalf("%s %s: status %d", cmd, meterNo, code)
	}
	return a
}

func waitCommand(t *testing.T, c *harness.Client, id, want string) command {
	t.Helper()
	var cmd command
	eventually.True(t, 30*time.Second, "command "+id+" "+want, func() (bool, string) {
		cmd = command{}
		c.Do(t, "GET", "/api/v1/meter-commands/"+id, nil, &cmd)
		return cmd.Status == want, cmd.Status + " " + cmd.Failure
	})
	return cmd
}

func TestSwitchOffAndOnFromTheAPI(t *testing.T) {
	admin := stack.Login(t, "admin", "admin")
	const m = "M0007"
	if s := meter(t, m).State(); s.Relay != profile.RelayClosed {
		t.Fatalf("%s starts with relay %d", m, s.Relay)
	}

	off := sendCommand(t, admin, m, "switch_off")
	if off.Status != "pending" || off.WorkflowID != "meter-command/"+off.ID {
		t.Fatalf("accepted %+v; want pending with workflow meter-command/<id>", off)
	}
	took := waitRelay(t, m, profile.RelayOpen, 30*time.Second)
	t.Logf("switch_off: simulator relay open %v after the API answered", took.Round(time.Millisecond))
	apiRelay(t, admin, m, "open")
	boardStatus(t, admin, m, true)
	done := waitCommand(t, admin, off.ID, "done")
	if done.Attempts != 1 || done.Request.Register != "0x0057" || !slices.Equal(done.Request.Words, []string{"0001", "0001"}) ||
		done.Request.Unit != 7 || done.Response == nil || done.Response.Relay != 1 || done.MeterNo != m {
		t.Fatalf("logged command %+v; want one attempt writing 0001 0001 to 0x0057 on unit 7, relay read back open", done)
	}

	on := sendCommand(t, admin, m, "switch_on")
	waitRelay(t, m, profile.RelayClosed, 30*time.Second)
	apiRelay(t, admin, m, "closed")
	boardStatus(t, admin, m, false)
	if c := waitCommand(t, admin, on.ID, "done"); c.Response == nil || c.Response.Relay != 0 || !slices.Equal(c.Request.Words, []string{"0001", "0000"}) {
		t.Fatalf("switch_on logged %+v", c)
	}
}

func TestProtectRefusesSwitchOffUntilReleased(t *testing.T) {
	admin := stack.Login(t, "admin", "admin")
	const m = "M0008"
	waitCommand(t, admin, sendCommand(t, admin, m, "protect").ID, "done")
	if s := meter(t, m).State(); s.Mode != profile.ModeProtect {
		t.Fatalf("mode %d after protect", s.Mode)
	}
	// The meter refuses a switch-off in protect mode: failed at once, not
	// retried for the window.
	refused := waitCommand(t, admin, sendCommand(t, admin, m, "switch_off").ID, "failed")
	if refused.Attempts != 1 || refused.Failure == "" {
		t.Fatalf("refused command %+v; want one attempt and a failure", refused)
	}
	waitCommand(t, admin, sendCommand(t, admin, m, "release").ID, "done")
	if s := meter(t, m).State(); s.Mode != profile.ModePrepaid || s.Relay != profile.RelayClosed {
		t.Fatalf("after release %+v", s)
	}
	// Re-dispatch the refused switch-off now that the meter is released.
	var a accepted
	if code := admin.Do(t, "POST", "/api/v1/meter-commands/"+refused.ID+"/redispatch", nil, &a); code != http.StatusAccepted || a.Status != "dispatching" {
		t.Fatalf("redispatch: %d %+v", code, a)
	}
	waitCommand(t, admin, refused.ID, "done")
	waitRelay(t, m, profile.RelayOpen, 30*time.Second)
	waitCommand(t, admin, sendCommand(t, admin, m, "switch_on").ID, "done")
}

// post sends a request with extra headers.
func post(t *testing.T, c *harness.Client, path, body string, headers map[string]string, out any) int {
	t.Helper()
	code, raw, _ := c.DoHeaders(t, "POST", path, body, headers)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("decode %q: %v", raw, err)
		}
	}
	return code
}

func TestCommandRequestRules(t *testing.T) {
	admin := stack.Login(t, "admin", "admin")
	// The cashier switches meters from the sale terminal (拉闸/合闸); the
	// approver does not.
	approver := stack.Login(t, "approver", "approver")
	ctx := context.Background()

	// Rows count from here: an earlier run (go test -count=2) left its own.
	var since time.Time
	if err := stack.DB.QueryRow(ctx, `select now()`).Scan(&since); err != nil {
		t.Fatal(err)
	}
	// A meter of a project the operators hold no role in (made once).
	var otherMade bool
	if err := stack.DB.QueryRow(ctx, `select exists(select 1 from meters where meter_no='X0001')`).Scan(&otherMade); err != nil {
		t.Fatal(err)
	}
	otherProject, gw, otherMeter := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`insert into projects(id, organisation_id, code, name) select $1, organisation_id, 'other', 'Other'
			from projects where id=$2`, []any{otherProject, stack.ProjectID}},
		{`insert into gateways(id, project_id, code, protocol, address) values($1,$2,'GW-X','modbus-tcp','127.0.0.1:1')`, []any{gw, otherProject}},
		{`insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price)
			values($1,$2,'X0001',$3,1,'ref-prepaid-v1',1.2)`, []any{otherMeter, otherProject, gw}},
	} {
		if otherMade {
			break
		}
		if _, err := stack.DB.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name       string
		c          *harness.Client
		path, body string
		status     int
		code       string
	}{
		{"unknown command", admin, "/api/v1/meters/M0009/commands", `{"command":"reboot"}`, 422, "unknown_command"},
		{"missing command", admin, "/api/v1/meters/M0009/commands", `{}`, 422, "unknown_command"},
		{"unknown field", admin, "/api/v1/meters/M0009/commands", `{"command":"switch_off","x":1}`, 400, "malformed_request"},
		{"approver may not", approver, "/api/v1/meters/M0009/commands", `{"command":"switch_off"}`, 403, "forbidden"},
		{"other project's meter", admin, "/api/v1/meters/X0001/commands", `{"command":"switch_off"}`, 404, "not_found"},
		{"unknown meter", admin, "/api/v1/meters/M9999/commands", `{"command":"switch_off"}`, 404, "not_found"},
		{"batch with other project's meter", admin, "/api/v1/meter-batches", `{"command":"switch_off","meterNos":["M0009","X0001"]}`, 404, "not_found"},
		{"batch twice the same meter", admin, "/api/v1/meter-batches", `{"command":"switch_off","meterNos":["M0009","M0009"]}`, 422, "invalid_field"},
		{"empty batch", admin, "/api/v1/meter-batches", `{"command":"switch_off","meterNos":[]}`, 422, "invalid_field"},
		{"batch unknown command", admin, "/api/v1/meter-batches", `{"command":"explode","meterNos":["M0009"]}`, 422, "unknown_command"},
		{"approver batch", approver, "/api/v1/meter-batches", `{"command":"switch_off","meterNos":["M0009"]}`, 403, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p problem
			if code := post(t, tt.c, tt.path, tt.body, nil, &p); code != tt.status || p.Code != tt.code {
				t.Fatalf("%d %+v, want %d %s", code, p, tt.status, tt.code)
			}
		})
	}
	var n int
	if err := stack.DB.QueryRow(ctx, `select count(*) from meter_commands where meter_no in ('M0009','X0001') and created_at >= $1`, since).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d commands recorded by refused requests (%v)", n, err)
	}
	if s := meter(t, "M0009").State(); s.Relay != profile.RelayClosed {
		t.Fatal("a refused request reached the meter")
	}
	if code := admin.Do(t, "GET", "/api/v1/meter-commands/"+uuid.NewString(), nil, nil); code != http.StatusNotFound {
		t.Fatalf("unknown command id: %d", code)
	}

	// The same Idempotency-Key sends the command once.
	key := map[string]string{"Idempotency-Key": "mc-" + uuid.NewString()}
	var a1, a2 accepted
	var p problem
	if code := post(t, admin, "/api/v1/meters/M0009/commands", `{"command":"protect"}`, key, &a1); code != 202 {
		t.Fatalf("first: %d", code)
	}
	if code := post(t, admin, "/api/v1/meters/M0009/commands", `{"command":"protect"}`, key, &a2); code != 202 || a2.ID != a1.ID {
		t.Fatalf("replay: %d %+v, want %s", code, a2, a1.ID)
	}
	if code := post(t, admin, "/api/v1/meters/M0009/commands", `{"command":"forced_off"}`, key, &p); code != 409 || p.Code != "idempotency_key_reused" {
		t.Fatalf("key reused for another command: %d %+v", code, p)
	}
	waitCommand(t, admin, a1.ID, "done")
	waitCommand(t, admin, sendCommand(t, admin, "M0009", "release").ID, "done")
	if err := stack.DB.QueryRow(ctx, `select count(*) from meter_commands where meter_no='M0009' and created_at >= $1`, since).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d commands for M0009, want 2 (protect once, release)", n)
	}
	var audits int
	if err := stack.DB.QueryRow(ctx, `select count(*) from audit_log where action='meter.command' and subject='M0009'`).Scan(&audits); err != nil || audits < 4 {
		t.Fatalf("%d audit records for M0009 commands (%v)", audits, err)
	}
}

func getBatch(t *testing.T, c *harness.Client, id, query string) batch {
	t.Helper()
	var b batch
	if code := c.Do(t, "GET", "/api/v1/meter-batches/"+id+query, nil, &b); code != http.StatusOK {
		t.Fatalf("GET batch %s: %d", id, code)
	}
	return b
}

func waitBatch(t *testing.T, c *harness.Client, id string, within time.Duration) batch {
	t.Helper()
	var b batch
	eventually.True(t, within, "batch "+id+" ends", func() (bool, string) {
		b = getBatch(t, c, id, "")
		return b.Status != "running", fmt.Sprintf("%s done %d failed %d", b.Status, b.Done, b.Failed)
	})
	return b
}

func TestBatchSwitchOffWithDeadMetersThenRedispatch(t *testing.T) {
	admin := stack.Login(t, "admin", "admin")
	dead := []string{"M0003", "M0040", "M0077", "M0100", "M0128"}
	for _, m := range dead {
		meter(t, m).SetDead(true)
	}
	t.Cleanup(func() {
		for _, m := range dead {
			meter(t, m).SetDead(false)
		}
		// Power back on for the tests that run after (go test -count=2): they
		// start from a closed relay.
		for n := 1; n <= 128; n++ {
			meter(t, meterNo(n)).SwitchOn()
		}
	})
	var all []string
	for n := 1; n <= 128; n++ {
		all = append(all, meterNo(n))
	}
	body, _ := json.Marshal(map[string]any{"command": "switch_off", "meterNos": all})
	start := time.Now()
	var a accepted
	if code := admin.Do(t, "POST", "/api/v1/meter-batches", string(body), &a); code != http.StatusAccepted {
		t.Fatalf("create batch: %d", code)
	}
	if a.Total != 128 || a.Status != "running" || a.WorkflowID != "meter-batch/"+a.ID {
		t.Fatalf("accepted %+v", a)
	}
	eventually.True(t, 60*time.Second, "123 live meters done", func() (bool, string) {
		b := getBatch(t, admin, a.ID, "?limit=1")
		return b.Done >= 123, fmt.Sprintf("done %d failed %d", b.Done, b.Failed)
	})
	t.Logf("123 live meters recorded done after %v", time.Since(start).Round(time.Millisecond))
	b := waitBatch(t, admin, a.ID, 60*time.Second)
	t.Logf("batch of 128 (5 dead, window %v) ended in %v", dispatchWindow, time.Since(start).Round(time.Millisecond))
	if b.Status != "completed_with_failures" || b.Total != 128 || b.Done != 123 || b.Failed != 5 || b.Pending != 0 || len(b.Items) != 128 {
		t.Fatalf("batch %s: total %d done %d failed %d pending %d items %d; want 123 done, 5 failed",
			b.Status, b.Total, b.Done, b.Failed, b.Pending, len(b.Items))
	}
	var failed []string
	for _, it := range b.Items {
		if it.Status == "failed" {
			failed = append(failed, it.MeterNo)
			if it.Failure == "" || it.Attempts < 2 {
				t.Errorf("failed item %+v; want a failure text and retries", it)
			}
		}
	}
	if !slices.Equal(failed, dead) {
		t.Fatalf("failed meters %v, want %v", failed, dead)
	}
	if f := getBatch(t, admin, a.ID, "?status=failed"); len(f.Items) != 5 {
		t.Fatalf("?status=failed lists %d", len(f.Items))
	}
	if p := getBatch(t, admin, a.ID, "?limit=100"); len(p.Items) != 100 {
		t.Fatalf("?limit=100 lists %d", len(p.Items))
	}
	for n := 1; n <= 128; n++ {
		want := uint16(profile.RelayOpen)
		if slices.Contains(dead, meterNo(n)) {
			want = profile.RelayClosed
		}
		if s := meter(t, meterNo(n)).State(); s.Relay != want {
			t.Fatalf("%s relay %d, want %d", meterNo(n), s.Relay, want)
		}
	}
	apiRelay(t, admin, "M0001", "open")

	// The meters come back; re-dispatch sends the command to the five only.
	for _, m := range dead {
		meter(t, m).SetDead(false)
	}
	var r1, r2 accepted
	if code := admin.Do(t, "POST", "/api/v1/meter-batches/"+a.ID+"/redispatch", nil, &r1); code != http.StatusAccepted {
		t.Fatalf("redispatch: %d", code)
	}
	if r1.Total != 5 || r1.RedispatchOf != a.ID || r1.ID == a.ID {
		t.Fatalf("redispatch batch %+v", r1)
	}
	if code := admin.Do(t, "POST", "/api/v1/meter-batches/"+a.ID+"/redispatch", nil, &r2); code != http.StatusAccepted || r2.ID != r1.ID {
		t.Fatalf("second redispatch: %d %+v; want the same batch %s", code, r2, r1.ID)
	}
	rb := waitBatch(t, admin, r1.ID, 30*time.Second)
	if rb.Status != "completed" || rb.Done != 5 || rb.Failed != 0 || len(rb.Items) != 5 {
		t.Fatalf("redispatch batch %+v", rb)
	}
	for _, m := range dead {
		if s := meter(t, m).State(); s.Relay != profile.RelayOpen {
			t.Fatalf("%s relay %d after redispatch", m, s.Relay)
		}
	}
	if orig := getBatch(t, admin, a.ID, "?limit=1"); orig.RedispatchedBy != r1.ID {
		t.Fatalf("original batch redispatchedBy %q, want %s", orig.RedispatchedBy, r1.ID)
	}
	var p problem
	if code := admin.Do(t, "POST", "/api/v1/meter-batches/"+r1.ID+"/redispatch", nil, &p); code != http.StatusConflict || p.Code != "not_redispatchable" {
		t.Fatalf("redispatch of a batch without failures: %d %+v", code, p)
	}
}
