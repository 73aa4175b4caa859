// Package electrical tests the electrical parameters (电参量, issue 20 §8)
// end to end over real TCP: a simulated three-phase meter (profile
// ref-3phase-v1) among single-phase ones, read by the scheduled sweep of
// the worker process, its parameters stored per reading in
// reading_parameters and reported by GET /api/v1/reports/electrical-parameters
// as JSON and xlsx.
package electrical

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	// The worker process reads it at start: sweeps every 2 s.
	if err := os.Setenv("VOLTFLOW_SWEEP_INTERVAL", "2s"); err != nil {
		panic(err)
	}
	harness.Main(m, "electrical", harness.Options{Gateways: 1, MetersPerGW: 4, UpdateTimeout: 3 * time.Second}, &stack)
}

func count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := stack.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestThreePhaseParametersStoredPerReadingAndReported: M0002 (unit 2) is a
// three-phase meter with CT 50 drawing 10 kW at 220.0 V, PF 1.000 since
// the fleet's clock t0. By hand (devices/profile/ref-3phase-v1.md): phases
// 40/35/25 % → Pa 4.000, Pb 3.500, Pc 2.500 kW at Ua 220.0, Ub 221.0,
// Uc 219.0 V; I = P/(U·PF) in the meter's 0.01 A → 18.18, 15.83, 11.41 A;
// Q 0 at PF 1; maximum demand 10.000 kW at t0.
func TestThreePhaseParametersStoredPerReadingAndReported(t *testing.T) {
	ctx := context.Background()
	three, err := profile.Load(profile.RefThreePhaseV1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stack.DB.Exec(ctx, `update meters set profile = $1 where meter_no = 'M0002'`, three.Name); err != nil {
		t.Fatal(err)
	}
	m := stack.Fleet.Gateway(0).Meter(2)
	m.SetProfile(three)
	m.SetRatios(50, 1)
	m.SetLoad(10000)
	t0 := stack.Fleet.Now()
	stack.Fleet.Advance(15 * time.Minute)
	since := time.Now()

	eventually.True(t, 60*time.Second, "a sweep storing M0002's parameters", func() (bool, string) {
		n := count(t, `select count(*) from reading_parameters x join meters m on m.id = x.meter_id
			where m.meter_no = 'M0002' and x.read_at > $1`, since)
		return n > 0, fmt.Sprintf("%d rows", n)
	})
	// Stored beside the reading of the same sweep; none for the single-phase meters,
	// whose readings keep coming.
	if n := count(t, `select count(*) from reading_parameters x join meters m on m.id = x.meter_id
		where m.meter_no = 'M0002' and not exists (select 1 from readings r where r.meter_id = x.meter_id and r.read_at = x.read_at)`); n != 0 {
		t.Fatalf("%d parameter rows without their reading", n)
	}
	if n := count(t, `select count(*) from reading_parameters x join meters m on m.id = x.meter_id where m.meter_no <> 'M0002'`); n != 0 {
		t.Fatalf("%d parameter rows of single-phase meters", n)
	}
	if n := count(t, `select count(*) from readings r join meters m on m.id = r.meter_id
		where m.meter_no in ('M0001','M0003','M0004') and r.read_at > $1`, since); n < 3 {
		t.Fatalf("%d readings of the single-phase meters since the change", n)
	}

	admin := stack.Login(t, "admin", "admin")
	q := url.Values{"meterNo": {"M0002"}, "from": {since.Add(-time.Second).Format(time.RFC3339)},
		"to": {time.Now().Add(time.Minute).Format(time.RFC3339)}}
	var page struct {
		Items []struct {
			MeterNo                                                                 string
			ReadAt                                                                  time.Time
			Ua, Ub, Uc, Ia, Ib, Ic, Pa, Pb, Pc, P, Qa, Qb, Qc, Q, PFa, PFb, PFc, PF *string
			CT, PT                                                                  *int
			MaxDemand                                                               *string
			MaxDemandAt                                                             *time.Time
		}
		MaxDemand []struct {
			MeterNo, KW string
			At          *time.Time
		}
	}
	code, b, _ := admin.DoRaw(t, http.MethodGet, "/api/v1/reports/electrical-parameters?"+q.Encode(), nil)
	if code != http.StatusOK {
		t.Fatalf("report: %d %s", code, b)
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) == 0 {
		t.Fatalf("no rows: %s", b)
	}
	r := page.Items[0]
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	got := fmt.Sprintf("%s %s %s | %s %s %s | %s %s %s %s | %s %s %s %s | %s %s %s %s | %s", str(r.Ua), str(r.Ub), str(r.Uc),
		str(r.Ia), str(r.Ib), str(r.Ic), str(r.Pa), str(r.Pb), str(r.Pc), str(r.P), str(r.Qa), str(r.Qb), str(r.Qc), str(r.Q),
		str(r.PFa), str(r.PFb), str(r.PFc), str(r.PF), str(r.MaxDemand))
	want := "220.0 221.0 219.0 | 18.180 15.830 11.410 | 4.000 3.500 2.500 10.000 | 0.000 0.000 0.000 0.000 | " +
		"1.000 1.000 1.000 1.000 | 10.000"
	if got != want {
		t.Errorf("parameters\n got %s\nwant %s", got, want)
	}
	if r.MeterNo != "M0002" || r.CT == nil || *r.CT != 50 || r.PT == nil || *r.PT != 1 {
		t.Errorf("meter %s, CT %v, PT %v", r.MeterNo, r.CT, r.PT)
	}
	if r.MaxDemandAt == nil || !r.MaxDemandAt.Equal(t0.Truncate(time.Second)) {
		t.Errorf("max demand at %v, want %v", r.MaxDemandAt, t0.Truncate(time.Second))
	}
	if len(page.MaxDemand) != 1 || page.MaxDemand[0].MeterNo != "M0002" || page.MaxDemand[0].KW != "10.000" ||
		page.MaxDemand[0].At == nil || !page.MaxDemand[0].At.Equal(t0.Truncate(time.Second)) {
		t.Errorf("max demand summary %s", b)
	}

	// The workbook: the same reading's cells.
	q.Set("format", "xlsx")
	code, b, ctype := admin.DoRaw(t, http.MethodGet, "/api/v1/reports/electrical-parameters?"+q.Encode(), nil)
	if code != http.StatusOK || ctype != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("xlsx: %d %s", code, ctype)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows(x.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || rows[1][0] != "M0002" || rows[1][2] != "220" || rows[1][5] != "18.18" || rows[1][11] != "10" ||
		rows[1][20] != "50" || rows[1][22] != "10" {
		t.Fatalf("xlsx rows %v", rows[:min(len(rows), 2)])
	}
	// A period is required.
	if code, _, _ := admin.DoRaw(t, http.MethodGet, "/api/v1/reports/electrical-parameters?meterNo=M0002", nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("without a period: %d, want 422", code)
	}
}
