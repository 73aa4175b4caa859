// Package alarmkill kills the worker process in the middle of a low-balance
// escalation — while both SMS of a stage are inside the provider call, and
// right after a reading reached the alarm, and after the provider accepted
// both SMS of a stage but before its answer arrived — and checks that after each
// restart every stage reached every recipient exactly once, in order, at
// our records (sms_messages, the alarm's stage history) and at the provider
// (a local fake Aliyun endpoint that checks each request's signature).
package alarmkill

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/activities/sms/smsfake"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
)

var (
	stack *harness.Stack
	fake  *smsfake.Server
)

const keyID, keySecret = "LTAIkilltest", "kill-test-secret"

func TestMain(m *testing.M) {
	// The worker process inherits these: it sends through the fake.
	fake = smsfake.StartAliyun(keyID, keySecret)
	for k, v := range map[string]string{
		"VOLTFLOW_SMS_PROVIDERS":         "aliyun",
		"VOLTFLOW_SMS_ALIYUN_ENDPOINT":   fake.URL,
		"VOLTFLOW_SMS_ALIYUN_KEY_ID":     keyID,
		"VOLTFLOW_SMS_ALIYUN_KEY_SECRET": keySecret,
		"VOLTFLOW_SMS_ALIYUN_SIGN_NAME":  "Voltflow",
	} {
		_ = os.Setenv(k, v)
	}
	harness.Main(m, "alarmkill", harness.Options{Gateways: 1, MetersPerGW: 2, DispatchWindow: 5 * time.Second, UpdateTimeout: 3 * time.Second}, &stack)
}

const meterNo, tenant, manager = "M0001", "13800000001", "13900000000"

type row struct{ id, recipient, stage, status, provider, msgID string }

func messages(t *testing.T) []row {
	rows, err := stack.DB.Query(context.Background(), `select id::text, recipient, stage, status, provider, provider_message_id
		from sms_messages where meter_no=$1 order by created_at, id`, meterNo)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.recipient, &r.stage, &r.status, &r.provider, &r.msgID); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// sentStages lists, per recipient, the stages sent, oldest first.
func sentStages(t *testing.T) map[string][]string {
	by := map[string][]string{}
	for _, r := range messages(t) {
		if r.status == "sent" {
			by[r.recipient] = append(by[r.recipient], r.stage)
		}
	}
	return by
}

func TestWorkerKilledDuringEscalation(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	if _, err := stack.DB.Exec(ctx, `insert into alarm_policies(project_id, quiet_start, quiet_end) values($1,0,0)`, stack.ProjectID); err != nil {
		t.Fatal(err)
	}
	c := stack.Login(t, "admin", "admin")
	meter := stack.Fleet.Gateway(0).Meter(1)
	meter.SetLoad(10000) // 12.00 yuan an hour

	read := func() {
		t.Helper()
		if code := c.Do(t, http.MethodPost, "/api/v1/meters/"+meterNo+"/read", map[string]any{}, nil); code/100 != 2 {
			t.Fatalf("read %s: %d", meterNo, code)
		}
	}
	runDown := func(target int64) {
		t.Helper()
		for i := 0; meter.State().Remaining > target; i++ {
			if i > 200 {
				t.Fatalf("meter stuck at %d cents", meter.State().Remaining)
			}
			stack.Fleet.Advance(5 * time.Minute)
		}
	}
	restart := func() {
		t.Helper()
		if err := stack.StartWorker("main,devices"); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	waitStage := func(stage string) {
		t.Helper()
		want = append(want, stage)
		eventually.True(t, 60*time.Second, "SMS "+stage, func() (bool, string) {
			got := sentStages(t)
			return strings.Join(got[tenant], ",") == strings.Join(want, ",") &&
				strings.Join(got[manager], ",") == strings.Join(want, ","), fmt.Sprint(got)
		})
	}
	// killInFlight kills the worker while both SMS of the stage wait inside
	// the provider call. accepted: the provider has taken both and only its
	// answers wait, so the retry must find them there and not resend;
	// otherwise neither was accepted and both must be sent on retry.
	killInFlight := func(stage string, target int64, accepted bool) {
		t.Helper()
		if accepted {
			fake.HoldAnswers()
		} else {
			fake.Hold()
		}
		dropped, queries := fake.Dropped(), fake.Queries()
		runDown(target)
		read()
		eventually.True(t, 30*time.Second, stage+" SMS at the provider", func() (bool, string) {
			return fake.Waiting() == 2, fmt.Sprint("waiting ", fake.Waiting())
		})
		stack.KillWorker()
		eventually.True(t, 30*time.Second, "provider sees the worker gone", func() (bool, string) {
			return fake.Dropped() == dropped+2, fmt.Sprint("dropped ", fake.Dropped())
		})
		fake.Release()
		if got := sentStages(t); len(got[tenant]) != len(want) || len(got[manager]) != len(want) {
			t.Fatalf("%s recorded as sent before the provider took it: %v", stage, got)
		}
		restart()
		waitStage(stage)
		// Both calls were recorded in flight: the retry asked the provider.
		if fake.Queries() < queries+2 {
			t.Fatalf("%s: the retry asked the provider %d times, want 2", stage, fake.Queries()-queries)
		}
	}

	runDown(1900)
	read()
	waitStage("low_1")

	killInFlight("low_2", 950, false)

	// Killed right after the reading reached the alarm: the signal is in
	// the history, the stage's workflow task or SMS may or may not have run.
	runDown(350)
	read()
	stack.KillWorker()
	restart()
	waitStage("low_3")

	killInFlight("arrears", 0, true)

	// Nothing more arrives late (a retried activity, a replayed stage).
	time.Sleep(2 * time.Second)
	final := []string{"low_1", "low_2", "low_3", "arrears"}
	got := sentStages(t)
	if strings.Join(got[tenant], ",") != strings.Join(final, ",") || strings.Join(got[manager], ",") != strings.Join(final, ",") || len(got) != 2 {
		t.Fatalf("SMS per recipient: %v, want %v each", got, final)
	}
	ids := map[string]bool{}
	for _, r := range messages(t) {
		if r.status != "sent" || r.provider != "aliyun" || r.msgID == "" || ids[r.msgID] {
			t.Fatalf("message %+v (provider ids so far %v)", r, ids)
		}
		ids[r.msgID] = true
	}

	// At the provider: one accepted message per stage and number, each with
	// the threshold it reports, and every signature good. Our id travels as
	// Aliyun's OutId (Ref): no message is accepted twice, whichever moment
	// the worker died at (before the provider took it, after it took it but
	// before we recorded it, or anywhere at the unsynchronised kill).
	wantAt := map[string][]string{}
	for _, p := range []string{tenant, manager} {
		wantAt[p] = []string{"SMS_LOW_BALANCE 20.00", "SMS_LOW_BALANCE 10.00", "SMS_LOW_BALANCE 4.00", "SMS_ARREARS"}
	}
	gotAt := map[string][]string{}
	seenRef := map[string]bool{}
	for _, r := range fake.Accepted() {
		s := r.TemplateCode
		if r.TemplateCode == "SMS_LOW_BALANCE" {
			s += " " + r.Params[len(r.Params)-1] // params by name: meterNo, remaining, threshold
		}
		if seenRef[r.Ref] {
			t.Fatalf("message %s (%s to %s) accepted twice by the provider", r.Ref, s, r.Phone)
		}
		seenRef[r.Ref] = true
		gotAt[r.Phone] = append(gotAt[r.Phone], s)
	}
	for _, r := range messages(t) {
		if !seenRef[r.id] {
			t.Fatalf("message %+v never reached the provider", r)
		}
	}
	if fmt.Sprint(gotAt) != fmt.Sprint(wantAt) {
		t.Fatalf("accepted by the provider:\n got %v\nwant %v", gotAt, wantAt)
	}
	if n := fake.SignatureFailures(); n != 0 {
		t.Fatalf("%d requests failed the signature check", n)
	}

	// The alarm's history: every stage once, sent, none skipped.
	var stages string
	if err := stack.DB.QueryRow(ctx, `select string_agg((e->>'stage') || ':' || (e->>'outcome'), ',' order by n)
		from alarms a, jsonb_array_elements(a.stages) with ordinality as x(e, n) where a.meter_no=$1`, meterNo).Scan(&stages); err != nil {
		t.Fatal(err)
	}
	if stages != "low_1:sent,low_2:sent,low_3:sent,arrears:sent" {
		t.Fatalf("alarm stages %s", stages)
	}
}
