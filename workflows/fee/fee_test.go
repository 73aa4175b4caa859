package fee_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	feeacts "github.com/voltflow/voltflow/activities/fee"
	smsacts "github.com/voltflow/voltflow/activities/sms"
	"github.com/voltflow/voltflow/domain/money"
	feestore "github.com/voltflow/voltflow/store/fee"
	smsstore "github.com/voltflow/voltflow/store/sms"
	feewf "github.com/voltflow/voltflow/workflows/fee"
)

// pageOf is the store's keyset page (by unit, then schedule) of the sorted
// fees after the input's cursor; a Limit of zero is every fee after it.
func pageOf(fees []feestore.Due, in feestore.DueInput) feestore.DueResult {
	var out feestore.DueResult
	for _, d := range fees {
		if in.Limit > 0 && len(out.Fees) >= in.Limit {
			break
		}
		if in.AfterUnit == "" || d.UnitID > in.AfterUnit || d.UnitID == in.AfterUnit && d.ScheduleID > in.AfterSchedule {
			out.Fees = append(out.Fees, d)
		}
	}
	return out
}

// fakeDay is a project's fees due on a day and the bookings made, in
// memory: the store's keyset paging and once-per-fee booking without the
// database (tests/feekill runs the real one).
type fakeDay struct {
	mu     sync.Mutex
	fees   []feestore.Due // sorted by unit, schedule
	booked map[feestore.Due]int
	sms    map[string]int
	pages  int
}

func (f *fakeDay) due(_ context.Context, in feestore.DueInput) (feestore.DueResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages++
	var open []feestore.Due
	for _, d := range f.fees {
		if f.booked[d] == 0 {
			open = append(open, d)
		}
	}
	return pageOf(open, in), nil
}

func (f *fakeDay) book(_ context.Context, in feestore.BatchInput) (feestore.BatchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out feestore.BatchResult
	for _, d := range in.Fees {
		f.booked[d]++
		b := feestore.Booked{ScheduleID: d.ScheduleID, UnitID: d.UnitID, Key: "fee:" + d.ScheduleID + ":" + d.UnitID,
			Kind: "rent", Amount: money.MustParse("100.00"), MeterNo: "M" + d.UnitID, Phone: "138", Created: f.booked[d] == 1}
		if d.ScheduleID == "s2" { // the second schedule's fees leave arrears
			b.Arrears = money.MustParse("40.00")
		}
		out.Booked = append(out.Booked, b)
	}
	return out, nil
}

func (f *fakeDay) send(_ context.Context, in smsstore.SendInput) (smsacts.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sms[in.AlarmID]++
	return smsacts.SendResult{}, nil
}

// TestPagesAndContinuesAsNewBookingEachFeeOnce: 300 fees (150 units, two
// schedules each) in pages of 20, three pages a run: every fee is booked
// once and every fee in arrears gets one SMS over six runs, each continuing
// as new with its cursor and counts.
func TestPagesAndContinuesAsNewBookingEachFeeOnce(t *testing.T) {
	const units, page = 150, 20
	f := &fakeDay{booked: map[feestore.Due]int{}, sms: map[string]int{}}
	for i := range units {
		for _, s := range []string{"s1", "s2"} {
			f.fees = append(f.fees, feestore.Due{ScheduleID: s, UnitID: fmt.Sprintf("u%04d", i)})
		}
	}
	day := time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)
	in := feewf.Input{ProjectID: "p1", ProjectCode: "demo", Day: day, PageSize: page, PagesPerRun: 3}
	var s testsuite.WorkflowTestSuite
	runs := 0
	var res feewf.Result
	for {
		runs++
		if runs > 20 {
			t.Fatal("the day never finished")
		}
		env := s.NewTestWorkflowEnvironment()
		env.RegisterWorkflowWithOptions(feewf.Workflow, workflow.RegisterOptions{Name: feewf.Kind})
		env.RegisterActivityWithOptions(f.due, activity.RegisterOptions{Name: "DueFees"})
		env.RegisterActivityWithOptions(f.book, activity.RegisterOptions{Name: "BookFees"})
		env.RegisterActivityWithOptions(f.send, activity.RegisterOptions{Name: "SendSMS"})
		env.ExecuteWorkflow(feewf.Kind, in)
		if !env.IsWorkflowCompleted() {
			t.Fatal("run did not complete")
		}
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			var next feewf.Input
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
				t.Fatal(err)
			}
			if next.AfterUnit == "" || next.AfterSchedule == "" || next.Sofar == nil || !next.Day.Equal(day) {
				t.Fatalf("continued without its day, cursor or counts: %+v", next)
			}
			in = next
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		break
	}
	// 15 full pages and an empty 16th, 3 a run: 6 runs.
	if runs != 6 || f.pages != 16 {
		t.Errorf("runs %d, pages %d; want 6 and 16", runs, f.pages)
	}
	for _, d := range f.fees {
		if f.booked[d] != 1 {
			t.Fatalf("fee %+v booked %d times", d, f.booked[d])
		}
	}
	if len(f.sms) != units {
		t.Errorf("%d SMS keys, want %d", len(f.sms), units)
	}
	for k, n := range f.sms {
		if n != 1 {
			t.Errorf("SMS %s sent %d times", k, n)
		}
	}
	want := feewf.Result{Day: day, Due: 2 * units, Done: 2 * units, Booked: 2 * units, Arrears: units}
	if res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
}

// TestRunBooksEachFeeOnceAcrossARetriedBatch: the first batch's activity
// dies after booking part of it (a killed worker); its retry books only the
// rest, and every fee in arrears gets its SMS, also those booked before
// the crash.
func TestRunBooksEachFeeOnceAcrossARetriedBatch(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var acts *feeacts.Activities
	var texts *smsacts.Activities
	day := time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)

	const n = 60
	var due []feestore.Due
	short := map[string]bool{} // every third unit's wallet cannot pay
	for i := range n {
		due = append(due, feestore.Due{ScheduleID: "s1", UnitID: fmt.Sprintf("u%02d", i)})
		short[due[i].UnitID] = i%3 == 0
	}
	env.OnActivity(acts.DueFees, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in feestore.DueInput) (feestore.DueResult, error) {
			if in.ProjectID != "p1" || !in.Day.Equal(day) {
				t.Errorf("due %+v", in)
			}
			return pageOf(due, in), nil
		})

	var mu sync.Mutex
	booked := map[string]int{}
	crashed := false
	env.OnActivity(acts.BookFees, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in feestore.BatchInput) (feestore.BatchResult, error) {
			mu.Lock()
			defer mu.Unlock()
			var out feestore.BatchResult
			for i, d := range in.Fees {
				if !crashed && i == 10 {
					crashed = true
					return feestore.BatchResult{}, errors.New("worker killed")
				}
				b := feestore.Booked{ScheduleID: d.ScheduleID, UnitID: d.UnitID, Key: "fee:" + d.UnitID, Kind: "rent",
					Amount: money.MustParse("100.00"), MeterNo: "M" + d.UnitID, Phone: "138" + d.UnitID}
				if short[d.UnitID] {
					b.Arrears = money.MustParse("40.00")
				}
				if booked[d.UnitID] == 0 {
					b.Created = true
				}
				booked[d.UnitID]++
				out.Booked = append(out.Booked, b)
			}
			return out, nil
		})
	var sms []string
	env.OnActivity(texts.SendSMS, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in smsstore.SendInput) (smsacts.SendResult, error) {
			mu.Lock()
			defer mu.Unlock()
			if in.Template != feewf.SMSTemplate || in.Values["arrears"] != "40.00" {
				t.Errorf("sms %+v", in)
			}
			sms = append(sms, in.AlarmID)
			return smsacts.SendResult{}, nil
		})

	env.ExecuteWorkflow(feewf.Workflow, feewf.Input{ProjectID: "p1", ProjectCode: "demo", Day: day})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res feewf.Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	// The ten booked by the attempt that died are done, not booked again.
	if res.Due != n || res.Done != n || res.Booked != n-10 || res.Arrears != 20 || res.Skipped != 0 {
		t.Fatalf("result %+v", res)
	}
	if len(booked) != n {
		t.Fatalf("%d units booked, want %d", len(booked), n)
	}
	if len(sms) != 20 {
		t.Fatalf("%d SMS, want 20: %v", len(sms), sms)
	}
}

// TestScheduledRunBooksItsScheduledLocalDay: a Schedule's run (no Day)
// books the China-time day it was scheduled for, even when it starts late.
func TestScheduledRunBooksItsScheduledLocalDay(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	// Fired 00:10 China time on 30 April; the run starts a day late.
	scheduled := time.Date(2026, 4, 29, 16, 10, 0, 0, time.UTC)
	env.SetStartTime(scheduled.Add(24 * time.Hour))
	if err := env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(
		temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime").ValueSet(scheduled))); err != nil {
		t.Fatal(err)
	}
	var acts *feeacts.Activities
	env.OnActivity(acts.DueFees, mock.Anything, feestore.DueInput{ProjectID: "p1", Day: time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC),
		Limit: feewf.PageSize}).Return(feestore.DueResult{}, nil)
	env.ExecuteWorkflow(feewf.Workflow, feewf.Input{ProjectID: "p1", ProjectCode: "demo"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
}

func TestWorkflowIDNamesProjectAndDay(t *testing.T) {
	if got := feewf.WorkflowID("demo", time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)); got != "property-fees/demo/2026-02-28" {
		t.Fatal(got)
	}
}
