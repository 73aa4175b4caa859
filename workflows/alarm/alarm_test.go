package alarm

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/crypto/bcrypt"

	alarmacts "github.com/voltflow/voltflow/activities/alarm"
	smsacts "github.com/voltflow/voltflow/activities/sms"
	"github.com/voltflow/voltflow/activities/sms/smsfake"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
	"github.com/voltflow/voltflow/workflows/names"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

const (
	tenant  = "13800000001" // the demo customer of M0001
	manager = "13900000000"
)

var cst = time.FixedZone("CST", 8*3600)

type fixture struct {
	db      *store.DB
	project string
	meterID string
	env     *testsuite.TestWorkflowEnvironment
}

// setup loads a small demo (alarm amount 20.00) with an area manager for
// the project, and a workflow environment whose clock starts at start and
// whose activities are the real ones on that database.
func setup(t *testing.T, start time.Time, providers ...smsacts.Provider) *fixture {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = []int{1}, 2, bcrypt.MinCost
	o.Operators = o.Operators[:1]
	l, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, project: l.ProjectID}
	if err := db.QueryRow(ctx, `select id from meters where meter_no='M0001'`).Scan(&f.meterID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `insert into alarm_recipients(project_id, phone, name, role) values($1,$2,'Area manager','manager')
		on conflict do nothing`, f.project, manager); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	f.env = s.NewTestWorkflowEnvironment()
	f.env.SetStartTime(start)
	f.env.RegisterWorkflowWithOptions(LowBalance, workflow.RegisterOptions{Name: KindLowBalanceWorkflow})
	f.env.RegisterActivity(&alarmacts.Activities{DB: db})
	f.env.RegisterActivity(&smsacts.Activities{DB: db, Providers: providers, PerProvider: 3})
	if err := f.env.SetTypedSearchAttributesOnStart(names.Attributes("demo", Kind, "M0001", "open")); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) reading(after time.Duration, remaining string) {
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(SignalReading, Reading{Remaining: money.MustParse(remaining)})
	}, after)
}

func (f *fixture) recharge(after time.Duration, remaining string) {
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(SignalRecharge, Recharge{Remaining: money.MustParse(remaining)})
	}, after)
}

func (f *fixture) run(t *testing.T) Result {
	f.env.ExecuteWorkflow(KindLowBalanceWorkflow, Input{ProjectID: f.project, MeterID: f.meterID, MeterNo: "M0001"})
	if !f.env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := f.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var r Result
	if err := f.env.GetWorkflowResult(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

type sent struct{ stage, text, status string }

// messages lists the SMS each recipient got, in order.
func (f *fixture) messages(t *testing.T) map[string][]sent {
	rows, err := f.db.Query(context.Background(), `select recipient, stage, text, status from sms_messages order by created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]sent{}
	for rows.Next() {
		var r string
		var s sent
		if err := rows.Scan(&r, &s.stage, &s.text, &s.status); err != nil {
			t.Fatal(err)
		}
		out[r] = append(out[r], s)
	}
	return out
}

func stages(ms []sent) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.stage
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// alarmRecord is the alarm row: status, resolution and its stage history.
func (f *fixture) alarmRecord(t *testing.T) (status, resolution string, history []alarmacts.Stage) {
	var raw []byte
	if err := f.db.QueryRow(context.Background(), `select status, resolution, stages from alarms`).Scan(&status, &resolution, &raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &history); err != nil {
		t.Fatal(err)
	}
	return
}

// The meter runs down on an accelerated clock, 2.00 yuan every half hour
// from 21.00: each recipient gets exactly the three staged SMS in order,
// then the arrears notice, and nothing low-balance after the recharge.
func TestStagedEscalationForTwoRecipients(t *testing.T) {
	f := setup(t, time.Date(2026, 3, 2, 9, 0, 0, 0, cst))
	for k := 1; k <= 12; k++ {
		// 19.00, 17.00, ..., 9.00 (≤ 10), ..., 3.00 (≤ 4), 1.00, -1.00 (arrears), -3.00
		f.reading(time.Duration(k)*30*time.Minute, money.FromCents(int64(2100-200*k)).String())
	}
	f.recharge(13*30*time.Minute, "97.00")
	res := f.run(t)

	msgs := f.messages(t)
	want := []string{"low_1", "low_2", "low_3", "arrears"}
	if got := stages(msgs[manager]); !equal(got, want) {
		t.Fatalf("manager got %v, want %v", got, want)
	}
	if got := stages(msgs[tenant]); !equal(got, append(want, "recharge_received")) {
		t.Fatalf("tenant got %v, want %v then recharge_received", got, want)
	}
	if len(msgs) != 2 {
		t.Fatalf("SMS went to %d numbers, want 2: %v", len(msgs), msgs)
	}
	if m := msgs[tenant][0]; m.text != "Meter M0001: balance 19.00 yuan is at or below 20.00 yuan. Please recharge to avoid a cut-off." || m.status != "sent" {
		t.Fatalf("first SMS %+v", m)
	}
	if m := msgs[tenant][2]; m.text != "Meter M0001: balance 3.00 yuan is at or below 4.00 yuan. Please recharge to avoid a cut-off." {
		t.Fatalf("third SMS %+v", m)
	}
	if res.Resolution != Recharged {
		t.Fatalf("resolution %s", res.Resolution)
	}
	status, resolution, history := f.alarmRecord(t)
	if status != "closed" || resolution != Recharged || len(history) != 5 || history[0].Stage != "low_1" || history[3].Stage != "arrears" {
		t.Fatalf("alarm record %s %s %+v", status, resolution, history)
	}
}

// Daily mode: one SMS a day to each recipient until the recharge.
func TestDailyModeOneADayUntilPaid(t *testing.T) {
	f := setup(t, time.Date(2026, 3, 2, 9, 0, 0, 0, cst))
	if _, err := f.db.Exec(context.Background(), `insert into alarm_policies(project_id, mode) values($1,'daily')`, f.project); err != nil {
		t.Fatal(err)
	}
	f.reading(time.Hour, "15.00")                 // 10:00 day 1: daily_1
	f.reading(30*time.Hour, "12.00")              // a reading in between sends nothing
	f.recharge(24*3*time.Hour-time.Hour, "60.00") // 09:00 day 4, before the fourth
	f.run(t)
	msgs := f.messages(t)
	want := []string{"daily_1", "daily_2", "daily_3"}
	if got := stages(msgs[manager]); !equal(got, want) {
		t.Fatalf("manager got %v, want %v", got, want)
	}
	if got := stages(msgs[tenant]); !equal(got, append(want, "recharge_received")) {
		t.Fatalf("tenant got %v", got)
	}
	_, _, history := f.alarmRecord(t)
	if len(history) != 4 || !history[1].At.Equal(history[0].At.Add(24*time.Hour)) || !history[2].At.Equal(history[0].At.Add(48*time.Hour)) {
		t.Fatalf("history %+v, want one a day", history)
	}
}

// Quiet hours hold a low-balance SMS until 08:00 (a deeper stage reached
// meanwhile replaces it), while the arrears notice goes at once.
func TestQuietHours(t *testing.T) {
	f := setup(t, time.Date(2026, 3, 2, 22, 0, 0, 0, cst))
	f.reading(30*time.Minute, "15.00") // 22:30: low_1 waits
	f.reading(9*time.Hour, "9.00")     // 07:00: low_2 replaces it
	f.reading(10*time.Hour, "8.00")    // 08:00 passed: nothing new
	f.reading(25*time.Hour, "-1.00")   // 23:00 next day: arrears at once
	f.recharge(26*time.Hour, "50.00")
	f.run(t)
	_, _, history := f.alarmRecord(t)
	at := map[string]alarmacts.Stage{}
	for _, h := range history {
		at[h.Stage] = h
	}
	if h := at["low_1"]; h.Outcome != "skipped" {
		t.Fatalf("low_1 %+v, want skipped", h)
	}
	if h := at["low_2"]; h.Outcome != "sent" || !h.At.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, cst)) {
		t.Fatalf("low_2 %+v, want sent at 08:00", h)
	}
	if h := at["arrears"]; h.Outcome != "sent" || !h.At.Equal(time.Date(2026, 3, 3, 23, 0, 0, 0, cst)) {
		t.Fatalf("arrears %+v, want sent at 23:00 regardless of quiet hours", h)
	}
	if got := stages(f.messages(t)[manager]); !equal(got, []string{"low_2", "arrears"}) {
		t.Fatalf("manager got %v", got)
	}
}

// A throttled provider is retried by Temporal and every try is recorded.
func TestThrottledProviderRetriedByTemporal(t *testing.T) {
	fake := smsfake.NewAliyun(t, "key", "secret")
	fake.Throttle(1)
	f := setup(t, time.Date(2026, 3, 2, 9, 0, 0, 0, cst),
		&smsacts.Aliyun{Endpoint: fake.URL, AccessKeyID: "key", AccessKeySecret: "secret", SignName: "Voltflow"})
	f.reading(time.Minute, "19.00")
	f.recharge(time.Hour, "50.00")
	f.run(t)
	var failed, ok int
	if err := f.db.QueryRow(context.Background(), `select count(*) filter (where not ok), count(*) filter (where ok) from sms_attempts`).
		Scan(&failed, &ok); err != nil {
		t.Fatal(err)
	}
	// low_1 to two numbers and recharge_received to the tenant; one throttled try.
	if failed != 1 || ok != 3 || len(fake.Accepted()) != 3 || fake.SignatureFailures() != 0 {
		t.Fatalf("attempts failed %d ok %d, provider accepted %d, signature failures %d", failed, ok, len(fake.Accepted()), fake.SignatureFailures())
	}
	var provider, msgID string
	if err := f.db.QueryRow(context.Background(), `select provider, provider_message_id from sms_messages where stage='low_1' and recipient=$1`, tenant).
		Scan(&provider, &msgID); err != nil || provider != "aliyun" || msgID == "" {
		t.Fatalf("low_1 to tenant: provider %q id %q err %v", provider, msgID, err)
	}
}

// A reading back above the alarm amount resolves the alarm without a recharge.
func TestRecoveredWithoutRecharge(t *testing.T) {
	f := setup(t, time.Date(2026, 3, 2, 9, 0, 0, 0, cst))
	f.reading(time.Minute, "19.00")
	f.reading(time.Hour, "25.00")
	res := f.run(t)
	if res.Resolution != Recovered {
		t.Fatalf("resolution %s", res.Resolution)
	}
	if got := stages(f.messages(t)[tenant]); !equal(got, []string{"low_1"}) {
		t.Fatalf("tenant got %v", got)
	}
}
