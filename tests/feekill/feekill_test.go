// Package feekill kills the worker in the middle of a property-fee run and
// checks what the run promises: once a new worker takes over, every unit's
// fee of the month is booked exactly once (one ledger entry per key, one
// fee_charges row), the wallets moved by exactly the fee, arrears are
// recorded and their SMS sent once, and the ledger invariant holds.
package feekill

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/activities/sms/smsfake"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
	feewf "github.com/voltflow/voltflow/workflows/fee"
	"github.com/voltflow/voltflow/workflows/names"
)

var (
	stack *harness.Stack
	fake  *smsfake.Server
)

const keyID, keySecret = "LTAIfeekill", "fee-kill-secret"

// units is enough that booking them (one transaction each, 25 per
// activity) takes seconds: time to kill the worker in the middle.
const (
	units = 3000
	poor  = 5 // the first units' wallets are empty: their fee leaves arrears
)

func TestMain(m *testing.M) {
	fake = smsfake.StartAliyun(keyID, keySecret)
	for k, v := range map[string]string{
		// Keep the Schedule's sweeps out of the way.
		"VOLTFLOW_SWEEP_INTERVAL":        "24h",
		"VOLTFLOW_SMS_PROVIDERS":         "aliyun",
		"VOLTFLOW_SMS_ALIYUN_ENDPOINT":   fake.URL,
		"VOLTFLOW_SMS_ALIYUN_KEY_ID":     keyID,
		"VOLTFLOW_SMS_ALIYUN_KEY_SECRET": keySecret,
		"VOLTFLOW_SMS_ALIYUN_SIGN_NAME":  "Voltflow",
	} {
		_ = os.Setenv(k, v)
	}
	harness.Main(m, "feekill", harness.Options{Gateways: 1, MetersPerGW: 1}, &stack)
}

func count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := stack.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := stack.DB.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestKillWorkerMidFeeRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack.CheckLedger(t)
	admin := stack.Login(t, "admin", "admin")

	// A tower of units, each with a meter on an open account; all but the
	// first few wallets hold 1000.00 (one seeding entry).
	var site string
	if err := stack.DB.QueryRow(ctx, `insert into sites(id, project_id, level, name) values(gen_random_uuid(), $1, 1, 'Fee tower')
		returning id::text`, stack.ProjectID).Scan(&site); err != nil {
		t.Fatal(err)
	}
	exec(t, `insert into customers(id, project_id, name, phone) select gen_random_uuid(), $1, 'Fee tenant ' || i, '1370000' || lpad(i::text, 4, '0')
		from generate_series(1, $2::int) i`, stack.ProjectID, units)
	exec(t, `insert into units(id, project_id, site_id, name, area) select gen_random_uuid(), $1, $2, 'F' || lpad(i::text, 5, '0'), 50
		from generate_series(1, $3::int) i`, stack.ProjectID, site, units)
	exec(t, `insert into prepaid_accounts(id, project_id, customer_id, account_no)
		select gen_random_uuid(), $1, c.id, 'FA' || substr(c.name, 12) from customers c where c.project_id=$1 and c.name like 'Fee tenant %'`,
		stack.ProjectID)
	exec(t, `insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price, account_id, unit_id)
		select gen_random_uuid(), $1, 'FM' || lpad(substr(a.account_no, 3), 5, '0'),
			(select id from gateways where project_id=$1 limit 1), 1000 + substr(a.account_no, 3)::int, 'ref-prepaid-v1', 1.2, a.id, u.id
		from prepaid_accounts a join units u on u.project_id=$1 and u.name = 'F' || lpad(substr(a.account_no, 3), 5, '0')
		where a.project_id=$1 and a.account_no like 'FA%'`, stack.ProjectID)
	if n := count(t, `select count(*) from meters where meter_no like 'FM%'`); n != units {
		t.Fatalf("%d fee meters, want %d", n, units)
	}
	seedWallets(ctx, t)

	// 2.00/m² × 50 m² = 100.00 a month, due on the 31st: 30 April.
	var sch struct {
		ID string `json:"id"`
	}
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/fee-schedules", map[string]any{"siteId": site,
		"kind": "management", "basis": "per_m2", "amount": "2.00", "dayOfMonth": 31}, &sch); code != http.StatusCreated {
		t.Fatalf("create fee schedule: %d", code)
	}
	if code := admin.Do(t, http.MethodPut, "/api/v1/projects/demo/fee-rules", map[string]any{"feeArrearsCutOff": true}, nil); code != http.StatusOK {
		t.Fatalf("fee rules: %d", code)
	}

	day := time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)
	run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: feewf.WorkflowID("demo", day), TaskQueue: names.MainQueue,
		TypedSearchAttributes: names.Attributes("demo", feewf.Kind, "demo", "started"),
	}, feewf.Kind, feewf.Input{ProjectID: stack.ProjectID, ProjectCode: "demo", Day: day})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	// Kill once some batches are booked and one is part-way (not a
	// multiple of the batch size): its retry must skip what it committed.
	eventually.True(t, time.Minute, "some fees booked, a batch part-way", func() (bool, string) {
		n := count(t, `select count(*) from fee_charges where schedule_id=$1`, sch.ID)
		return n >= 200 && n%feewf.BatchSize != 0, fmt.Sprintf("%d booked", n)
	})
	stack.KillWorker()
	before := count(t, `select count(*) from fee_charges where schedule_id=$1`, sch.ID)
	t.Logf("killed the worker %v into the run with %d of %d fees booked", time.Since(started).Round(time.Millisecond), before, units)
	if before >= units {
		t.Fatalf("%d of %d booked at the kill: not mid-run", before, units)
	}

	if err := stack.StartWorker("main,devices"); err != nil {
		t.Fatal(err)
	}
	var res feewf.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("fee run after the kill: %v", err)
	}
	t.Logf("run finished %v after start: %+v", time.Since(started).Round(time.Millisecond), res)

	// Exactly once: one ledger entry per unit's key, one charge row each.
	key := "fee:" + sch.ID + ":%:2026-04"
	if n := count(t, `select count(*) from journal_entries where key like $1`, key); n != units {
		t.Errorf("%d fee ledger entries, want %d", n, units)
	}
	if n := count(t, `select count(*) from (select key from journal_entries where key like $1 group by key having count(*) > 1) d`, key); n != 0 {
		t.Errorf("%d keys booked twice", n)
	}
	if n := count(t, `select count(*) from fee_charges where schedule_id=$1 and period='2026-04'`, sch.ID); n != units {
		t.Errorf("%d fee charges, want %d", n, units)
	}
	// Each wallet moved by exactly one fee.
	if n := count(t, `select count(*) from ledger_accounts a where a.code like 'meter-wallet:FM%'
		and a.balance <> case when substr(a.code, 16)::int <= $1 then 100.00 else -900.00 end`, poor); n != 0 {
		t.Errorf("%d wallets not moved by exactly one fee", n)
	}
	if res.Done != units || res.Arrears != poor {
		t.Errorf("result %+v: want done %d, arrears %d", res, units, poor)
	}
	if n := count(t, `select count(*) from fee_charges where schedule_id=$1 and arrears = 100.00 and cut_off`, sch.ID); n != poor {
		t.Errorf("%d charges in arrears and cut off, want %d", n, poor)
	}
	eventually.True(t, time.Minute, "arrears SMS sent once each", func() (bool, string) {
		n := count(t, `select count(*) from sms_messages where stage=$1 and status='sent'`, feewf.SMSStage)
		return n == poor, fmt.Sprintf("%d sent", n)
	})
	if n := count(t, `select count(*) from sms_messages where stage=$1`, feewf.SMSStage); n != poor {
		t.Errorf("%d arrears SMS rows, want %d", n, poor)
	}

	var list struct {
		Items []struct {
			Management string `json:"management"`
			Arrears    string `json:"arrears"`
		} `json:"items"`
	}
	if code := admin.Do(t, http.MethodGet, "/api/v1/projects/demo/fees?month=2026-04", nil, &list); code != http.StatusOK {
		t.Fatalf("fee list: %d", code)
	}
	arrears := 0
	for _, l := range list.Items {
		if l.Management != "100.00" {
			t.Fatalf("fee list line %+v", l)
		}
		if l.Arrears != "0.00" {
			arrears++
		}
	}
	if len(list.Items) != units || arrears != poor {
		t.Errorf("fee list: %d lines, %d in arrears", len(list.Items), arrears)
	}
	code, body, ct := admin.DoRaw(t, http.MethodGet, "/api/v1/projects/demo/fees?month=2026-04&format=xlsx", nil)
	if code != http.StatusOK || len(body) == 0 || ct == "" {
		t.Errorf("fee list xlsx: %d, %d bytes, %s", code, len(body), ct)
	}
}

// seedWallets puts 1000.00 in every fee meter's wallet but the first
// poor ones, as one balanced entry (cash in, wallets credited).
func seedWallets(ctx context.Context, t *testing.T) {
	t.Helper()
	var entry string
	if err := stack.DB.QueryRow(ctx, `insert into journal_entries(id, project_id, key, kind, memo)
		values(gen_random_uuid(), $1, 'feekill:seed', 'seed', 'fee kill test wallets') returning id::text`, stack.ProjectID).Scan(&entry); err != nil {
		t.Fatal(err)
	}
	exec(t, `insert into ledger_accounts(id, project_id, code, kind) select gen_random_uuid(), $1, 'meter-wallet:' || meter_no, 'liability'
		from meters where meter_no like 'FM%' on conflict (project_id, code) do nothing`, stack.ProjectID)
	exec(t, `insert into ledger_accounts(id, project_id, code, kind) values(gen_random_uuid(), $1, 'cash', 'asset')
		on conflict (project_id, code) do nothing`, stack.ProjectID)
	// One statement: the ledger's trigger checks the entry balances after it.
	exec(t, `insert into postings(entry_id, account_id, amount)
		select $2::uuid, a.id, -1000.00 from ledger_accounts a
			where a.project_id=$1 and a.code like 'meter-wallet:FM%' and substr(a.code, 16)::int > $3
		union all
		select $2::uuid, a.id, 1000.00 * ($4::int - $3::int) from ledger_accounts a where a.project_id=$1 and a.code='cash'`,
		stack.ProjectID, entry, poor, units)
	exec(t, `update ledger_accounts a set balance = balance + p.amount from postings p where p.entry_id=$1 and p.account_id=a.id`, entry)
}

// TestFixedRentOfOneUnit: a unit's own fixed rent on the 15th; its empty
// wallet leaves arrears and one SMS. (A short run: the recorded replay
// history of property-fees.)
func TestFixedRentOfOneUnit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack.CheckLedger(t)
	admin := stack.Login(t, "admin", "admin")
	var unit string
	if err := stack.DB.QueryRow(ctx, `insert into units(id, project_id, name) values(gen_random_uuid(), $1, 'Shop 1')
		returning id::text`, stack.ProjectID).Scan(&unit); err != nil {
		t.Fatal(err)
	}
	exec(t, `with c as (insert into customers(id, project_id, name, phone) values(gen_random_uuid(), $1, 'Shop tenant', '13600000001') returning id),
		a as (insert into prepaid_accounts(id, project_id, customer_id, account_no) select gen_random_uuid(), $1, c.id, 'SHOP1' from c returning id)
		insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price, account_id, unit_id)
		select gen_random_uuid(), $1, 'SHOPM1', (select id from gateways where project_id=$1 limit 1), 900, 'ref-prepaid-v1', 1.2, a.id, $2 from a`,
		stack.ProjectID, unit)
	var sch struct {
		ID string `json:"id"`
	}
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/fee-schedules", map[string]any{"unitId": unit,
		"kind": "rent", "basis": "fixed", "amount": "10.00", "dayOfMonth": 15}, &sch); code != http.StatusCreated {
		t.Fatalf("create fee schedule: %d", code)
	}
	day := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: feewf.WorkflowID("demo", day), TaskQueue: names.MainQueue,
		TypedSearchAttributes: names.Attributes("demo", feewf.Kind, "demo", "started"),
	}, feewf.Kind, feewf.Input{ProjectID: stack.ProjectID, ProjectCode: "demo", Day: day})
	if err != nil {
		t.Fatal(err)
	}
	var res feewf.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Due != 1 || res.Booked != 1 || res.Arrears != 1 {
		t.Fatalf("result %+v", res)
	}
	if n := count(t, `select count(*) from sms_messages where stage=$1 and recipient='13600000001' and status='sent'`, feewf.SMSStage); n != 1 {
		t.Fatalf("%d SMS to the shop", n)
	}
	if n := count(t, `select count(*) from journal_entries where key like 'fee:' || $1 || ':%'`, sch.ID); n != 1 {
		t.Fatalf("%d entries", n)
	}
}
