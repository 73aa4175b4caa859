// Package alarm drives a simulated meter down through its low-balance
// thresholds on the real platform (PostgreSQL, the Temporal server, the
// worker process, meter simulators on real sockets) and reads the SMS the
// alarm sent from GET /api/v1/sms (the outbox provider).
package alarm

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
	alarmwf "github.com/voltflow/voltflow/workflows/alarm"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "alarm", harness.Options{Gateways: 1, MetersPerGW: 4, DispatchWindow: 5 * time.Second, UpdateTimeout: 3 * time.Second}, &stack)
}

type smsItem struct {
	Recipient, Text, Kind, MeterNo, Stage, Status string
	SentAt                                        *time.Time
}

// smsFor lists the stages each recipient got for a meter, oldest first.
func smsFor(t *testing.T, c *harness.Client, meterNo string) map[string][]string {
	var out struct{ Items []smsItem }
	if code := c.Do(t, http.MethodGet, "/api/v1/sms?limit=100&meterNo="+meterNo, nil, &out); code != http.StatusOK {
		t.Fatalf("GET /sms: %d", code)
	}
	by := map[string][]string{}
	for i := len(out.Items) - 1; i >= 0; i-- {
		it := out.Items[i]
		if it.Status == "pending" {
			continue // claimed, the outbox has not taken it yet
		}
		if it.Status != "sent" || it.SentAt == nil || it.Kind != "low_balance" || it.MeterNo != meterNo {
			t.Fatalf("SMS %+v", it)
		}
		by[it.Recipient] = append(by[it.Recipient], it.Stage)
	}
	return by
}

func TestMeterRunsDownThroughStagesThenRecharge(t *testing.T) {
	ctx := context.Background()
	// No quiet hours, so the test does not depend on the time of day it runs.
	if _, err := stack.DB.Exec(ctx, `insert into alarm_policies(project_id, quiet_start, quiet_end) values($1,0,0)`, stack.ProjectID); err != nil {
		t.Fatal(err)
	}
	c := stack.Login(t, "admin", "admin")
	const meterNo, tenant, manager = "M0001", "13800000001", "13900000000"
	meter := stack.Fleet.Gateway(0).Meter(1)
	meter.SetLoad(10000) // 10 kW at 1.2000 yuan/kWh: 12.00 yuan an hour

	// Run the meter's clock in 5-minute steps (1.00 yuan each) until it
	// holds at most the target, then read it through the API.
	steps := []struct {
		target int64 // cents
		stage  string
	}{{1900, "low_1"}, {950, "low_2"}, {350, "low_3"}, {0, "arrears"}}
	var want []string
	for _, s := range steps {
		for i := 0; meter.State().Remaining > s.target; i++ {
			if i > 200 {
				t.Fatalf("meter stuck at %d cents", meter.State().Remaining)
			}
			stack.Fleet.Advance(5 * time.Minute)
		}
		if code := c.Do(t, http.MethodPost, "/api/v1/meters/"+meterNo+"/read", map[string]any{}, nil); code/100 != 2 {
			t.Fatalf("read %s: %d", meterNo, code)
		}
		want = append(want, s.stage)
		eventually.True(t, 30*time.Second, "SMS "+s.stage, func() (bool, string) {
			got := smsFor(t, c, meterNo)
			var remaining string
			_ = stack.DB.QueryRow(ctx, `select s.remaining::text from meter_state s join meters m on m.id = s.meter_id
				where m.meter_no = $1`, meterNo).Scan(&remaining)
			return strings.Join(got[tenant], ",") == strings.Join(want, ",") &&
				strings.Join(got[manager], ",") == strings.Join(want, ","), fmt.Sprint(got, " remaining ", remaining, " meter ", meter.State().Remaining, " at ", stack.Fleet.Now())
		})
	}

	var rc struct{ ID, Status string }
	if code := c.Do(t, http.MethodPost, "/api/v1/recharges", map[string]any{"meterNo": meterNo, "amount": "100.00",
		"transactionNo": "alarm-e2e-1"}, &rc); code != http.StatusAccepted {
		t.Fatalf("recharge: %d", code)
	}
	eventually.True(t, 30*time.Second, "alarm closed by the recharge", func() (bool, string) {
		var status, resolution string
		err := stack.DB.QueryRow(ctx, `select status, resolution from alarms where meter_no=$1`, meterNo).Scan(&status, &resolution)
		return err == nil && status == "closed" && resolution == "recharged", fmt.Sprint(status, resolution, err)
	})
	got := smsFor(t, c, meterNo)
	if strings.Join(got[manager], ",") != "low_1,low_2,low_3,arrears" ||
		strings.Join(got[tenant], ",") != "low_1,low_2,low_3,arrears,recharge_received" || len(got) != 2 {
		t.Fatalf("SMS after the recharge: %v", got)
	}
	// A reading after the recharge raises nothing.
	if code := c.Do(t, http.MethodPost, "/api/v1/meters/"+meterNo+"/read", map[string]any{}, nil); code/100 != 2 {
		t.Fatalf("read: %d", code)
	}
	time.Sleep(time.Second)
	if again := smsFor(t, c, meterNo); len(again[tenant]) != 5 || len(again[manager]) != 4 {
		t.Fatalf("SMS after a reading above the alarm amount: %v", again)
	}

	// The alarm record: closed, its stages in order, every SMS with the
	// provider's message id and, from the outbox, delivered.
	var page struct {
		Items []struct {
			Kind, MeterNo, Status, Resolution string
			ClosedAt                          *time.Time
			Stages                            []struct{ Stage, Outcome string }
			SMS                               []struct{ Recipient, Stage, Status, Provider, ProviderMessageID, Delivery string }
		}
	}
	if code := c.Do(t, http.MethodGet, "/api/v1/alarms?status=closed&kind=low_balance&meterNo="+meterNo, nil, &page); code != http.StatusOK {
		t.Fatalf("GET /alarms: %d", code)
	}
	if len(page.Items) != 1 {
		t.Fatalf("alarms: %+v", page.Items)
	}
	a := page.Items[0]
	var stages []string
	for _, s := range a.Stages {
		stages = append(stages, s.Stage+":"+s.Outcome)
	}
	if a.Resolution != "recharged" || a.ClosedAt == nil || strings.Join(stages, ",") != "low_1:sent,low_2:sent,low_3:sent,arrears:sent,recharge_received:sent" || len(a.SMS) != 9 {
		t.Fatalf("alarm %+v", a)
	}
	for _, m := range a.SMS {
		if m.Status != "sent" || m.Provider != "outbox" || m.ProviderMessageID == "" || m.Delivery != "delivered" {
			t.Fatalf("alarm SMS %+v", m)
		}
	}
	if code := c.Do(t, http.MethodGet, "/api/v1/alarms?status=open&meterNo="+meterNo, nil, &page); code != http.StatusOK || len(page.Items) != 0 {
		t.Fatalf("open alarms of %s: %d %+v", meterNo, code, page.Items)
	}
	if code, _, _ := c.DoRaw(t, http.MethodGet, "/api/v1/alarms?status=maybe", nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad status: %d", code)
	}
	code, body, ctype := c.DoRaw(t, http.MethodGet, "/api/v1/alarms?format=xlsx&meterNo="+meterNo, nil)
	if code != http.StatusOK || !strings.Contains(ctype, "spreadsheetml") {
		t.Fatalf("export: %d %s", code, ctype)
	}
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows("alarms")
	if err != nil || len(rows) != 2 || rows[1][1] != "low_balance" || rows[1][2] != meterNo || rows[1][9] != "9" || rows[1][10] != "9" {
		t.Fatalf("export rows %v %v", rows, err)
	}
}

// TestConditionAlarmThroughScan runs the scan as the Schedule does: a
// meter's overload-trip flag (written by hand, as a sweep would) opens
// alarm/<meterNo>/overload_trip, whose SMS goes at once to the area manager
// only; the flag gone, the next scan closes it.
func TestConditionAlarmThroughScan(t *testing.T) {
	ctx := context.Background()
	c := stack.Login(t, "admin", "admin")
	const meterNo, manager = "M0003", "13900000000"
	flags := func(v int) {
		if _, err := stack.DB.Exec(ctx, `insert into meter_state(meter_id, remaining, purchase_count, cumulative_purchased, energy_kwh,
			relay, mode, status_flags, read_at) select id, 30, 0, 0, 5, 0, 0, $2, now() from meters where meter_no=$1
			on conflict (meter_id) do update set status_flags=excluded.status_flags, read_at=excluded.read_at`, meterNo, v); err != nil {
			t.Fatal(err)
		}
	}
	scan := func() {
		run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: harness.MainQueue},
			alarmwf.KindScanWorkflow, alarmwf.ScanInput{ProjectID: stack.ProjectID, ProjectCode: "demo"})
		if err != nil {
			t.Fatal(err)
		}
		if err := run.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	type alarmItem struct{ Kind, MeterNo, Status, Resolution string }
	alarms := func() []alarmItem {
		var page struct{ Items []alarmItem }
		if code := c.Do(t, http.MethodGet, "/api/v1/alarms?kind=overload_trip&meterNo="+meterNo, nil, &page); code != http.StatusOK {
			t.Fatalf("GET /alarms: %d", code)
		}
		return page.Items
	}
	flags(1 << 3)
	scan()
	eventually.True(t, 30*time.Second, "overload alarm open and its SMS sent", func() (bool, string) {
		var out struct{ Items []smsItem }
		c.Do(t, http.MethodGet, "/api/v1/sms?meterNo="+meterNo, nil, &out)
		a := alarms()
		return len(a) == 1 && a[0].Status == "open" && len(out.Items) == 1 && out.Items[0].Recipient == manager &&
			out.Items[0].Kind == "overload_trip" && out.Items[0].Status == "sent", fmt.Sprint(a, out.Items)
	})
	var wfStatus string
	if err := stack.DB.QueryRow(ctx, `select workflow_id from alarms where meter_no=$1 and kind='overload_trip'`, meterNo).Scan(&wfStatus); err != nil ||
		wfStatus != "alarm/M0003/overload_trip" {
		t.Fatalf("workflow id %q %v", wfStatus, err)
	}
	scan() // still tripped: nothing new
	flags(0)
	scan()
	eventually.True(t, 30*time.Second, "overload alarm closed", func() (bool, string) {
		a := alarms()
		return len(a) == 1 && a[0].Status == "closed" && a[0].Resolution == "cleared", fmt.Sprint(a)
	})
}
