package fee_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	feeacts "github.com/voltflow/voltflow/activities/fee"
	smsacts "github.com/voltflow/voltflow/activities/sms"
	"github.com/voltflow/voltflow/domain/money"
	feestore "github.com/voltflow/voltflow/store/fee"
	smsstore "github.com/voltflow/voltflow/store/sms"
	feewf "github.com/voltflow/voltflow/workflows/fee"
)

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
	env.OnActivity(acts.DueFees, mock.Anything, feestore.DueInput{ProjectID: "p1", Day: day}).
		Return(feestore.DueResult{Fees: due}, nil)

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
	env.OnActivity(acts.DueFees, mock.Anything, feestore.DueInput{ProjectID: "p1", Day: time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)}).
		Return(feestore.DueResult{}, nil)
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
