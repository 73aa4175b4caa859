package allowance

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
)

// killMeters is enough that granting them (a transaction each, 25 per
// activity, a recharge workflow each) takes seconds: time to kill the
// worker in the middle.
const killMeters = 400

// TestKillWorkerMidAllowanceRun kills the worker while a month's run is
// granting and checks, once a new worker has taken over, that every meter
// got its 10 kWh × 1.2000 = 12.00 exactly once: one grant, one allowance
// recharge, one ledger entry each, every wallet +12.00, and the ledger
// invariant holds.
func TestKillWorkerMidAllowanceRun(t *testing.T) {
	stack.CheckLedger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admin := stack.Login(t, "admin", "admin")
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := stack.DB.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Platform-side meters (their allowance goes to the wallet in the
	// ledger: nothing to simulate), each on an open account of its own.
	exec(`insert into customers(id, project_id, name) select gen_random_uuid(), $1, 'Allowance tenant ' || lpad(i::text, 4, '0')
		from generate_series(1, $2::int) i`, stack.ProjectID, killMeters)
	exec(`insert into prepaid_accounts(id, project_id, customer_id, account_no)
		select gen_random_uuid(), $1, c.id, 'KA' || substr(c.name, 18) from customers c
		where c.project_id=$1 and c.name like 'Allowance tenant %'`, stack.ProjectID)
	exec(`insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price, account_id, prepaid_mode)
		select gen_random_uuid(), $1, 'KM' || substr(a.account_no, 3), (select id from gateways where project_id=$1 limit 1),
			1000 + substr(a.account_no, 3)::int, 'ref-prepaid-v1', 1.2, a.id, 'platform'
		from prepaid_accounts a where a.project_id=$1 and a.account_no like 'KA%'`, stack.ProjectID)
	if code := admin.Do(t, http.MethodPut, "/api/v1/projects/demo/allowance", setting{"kwh", "10.00"}, nil); code != http.StatusOK {
		t.Fatalf("project allowance: %d", code)
	}

	const month = "2027-01"
	var run struct {
		WorkflowID string `json:"workflowId"`
	}
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/allowance-runs", map[string]any{"month": month}, &run); code != http.StatusAccepted {
		t.Fatalf("start run: %d", code)
	}
	started := time.Now()
	grants := func() int {
		return count(t, `select count(*) from allowance_grants g join meters m on m.id=g.meter_id
			where g.period=$1 and m.meter_no like 'KM%'`, month)
	}
	eventually.True(t, time.Minute, "some allowances granted", func() (bool, string) {
		n := grants()
		return n >= 60, fmt.Sprintf("%d granted", n)
	})
	stack.KillWorker()
	before := grants()
	t.Logf("killed the worker %v into the run with %d of %d granted", time.Since(started).Round(time.Millisecond), before, killMeters)
	if before >= killMeters {
		t.Fatalf("%d of %d granted at the kill: not mid-run", before, killMeters)
	}
	if err := stack.StartWorker("main,devices"); err != nil {
		t.Fatal(err)
	}
	if err := stack.Temporal.GetWorkflow(ctx, run.WorkflowID, "").Get(ctx, nil); err != nil {
		t.Fatalf("run after the kill: %v", err)
	}
	eventually.True(t, 3*time.Minute, "every allowance credited", func() (bool, string) {
		n := count(t, `select count(*) from recharges where kind='allowance' and meter_no like 'KM%' and status='completed'`)
		return n == killMeters, fmt.Sprintf("%d of %d completed", n, killMeters)
	})
	t.Logf("all %d credited %v after the start", killMeters, time.Since(started).Round(time.Millisecond))

	if n := grants(); n != killMeters {
		t.Errorf("%d grants, want %d", n, killMeters)
	}
	if n := count(t, `select count(*) from recharges where kind='allowance' and meter_no like 'KM%'`); n != killMeters {
		t.Errorf("%d allowance recharges, want %d", n, killMeters)
	}
	if n := count(t, `select count(*) from journal_entries e join recharges r on e.key = 'recharge/' || r.id || '/sale'
		where r.kind='allowance' and r.meter_no like 'KM%'`); n != killMeters {
		t.Errorf("%d allowance ledger entries, want %d", n, killMeters)
	}
	// Each wallet moved by exactly one allowance: 12.00 (liability, raw -12.00).
	if n := count(t, `select count(*) from ledger_accounts a where a.project_id=$1 and a.code like 'meter-wallet:KM%'
		and a.balance = -12.00`, stack.ProjectID); n != killMeters {
		t.Errorf("%d wallets at 12.00, want %d", n, killMeters)
	}
}
