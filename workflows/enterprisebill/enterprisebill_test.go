package enterprisebill

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	creditacts "github.com/voltflow/voltflow/activities/credit"
	"github.com/voltflow/voltflow/domain/bill"
	"github.com/voltflow/voltflow/workflows/names"
)

type call struct {
	name string
	at   time.Duration // since start
}

func run(t *testing.T, in Input, status bill.Status) ([]call, Input) {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: Kind})
	e.RegisterActivity(&creditacts.Activities{})
	if err := e.SetTypedSearchAttributesOnStart(names.Attributes("demo", Kind, "ACME", "active")); err != nil {
		t.Fatal(err)
	}
	e.SetStartTime(t0)
	start := t0
	var calls []call
	e.OnActivity("CloseCycle", mock.Anything, mock.Anything).Return(func(_ context.Context, c creditacts.CloseInput) (creditacts.Bill, error) {
		calls = append(calls, call{"close", e.Now().Sub(start)})
		if !c.PeriodEnd.Equal(c.PeriodStart.Add(in.Cycle.Length)) || !c.DueAt.Equal(c.PeriodEnd.Add(in.Cycle.DueAfter)) ||
			!c.SuspendAt.Equal(c.DueAt.Add(in.Cycle.SuspendWait)) {
			t.Errorf("cycle times %+v", c)
		}
		return creditacts.Bill{ID: "b1", CycleNo: c.CycleNo, Status: status}, nil
	})
	e.OnActivity("EmailBill", mock.Anything, mock.Anything).Return(func(_ context.Context, b creditacts.BillInput) error {
		calls = append(calls, call{"email", e.Now().Sub(start)})
		return nil
	})
	e.OnActivity("Escalate", mock.Anything, mock.Anything).Return(func(_ context.Context, x creditacts.EscalateInput) (creditacts.Escalated, error) {
		calls = append(calls, call{"escalate", e.Now().Sub(start)})
		return creditacts.Escalated{}, nil
	})
	e.ExecuteWorkflow(Kind, in)
	var next *workflow.ContinueAsNewError
	if err := e.GetWorkflowError(); !errors.As(err, &next) {
		t.Fatalf("workflow ended with %v, want continue-as-new after the cycle", err)
	}
	var carried Input
	if err := converter.GetDefaultDataConverter().FromPayloads(next.Input, &carried); err != nil {
		t.Fatal(err)
	}
	return calls, carried
}

var t0 = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

var cycle = bill.Cycle{Length: 10 * time.Second, DueAfter: 3 * time.Second, SuspendWait: 4 * time.Second}

func TestCycleClosesBillAndCarriesDeadlines(t *testing.T) {
	calls, next := run(t, Input{EnterpriseID: "e1", Cycle: cycle, CycleNo: 1}, bill.Issued)
	if len(calls) != 2 || calls[0].name != "close" || calls[0].at != 10*time.Second || calls[1].name != "email" {
		t.Fatalf("calls %+v", calls)
	}
	if next.CycleNo != 2 || len(next.Deadlines) != 2 || !next.Deadlines[0].Equal(next.PeriodStart.Add(3*time.Second)) ||
		!next.Deadlines[1].Equal(next.PeriodStart.Add(7*time.Second)) {
		t.Fatalf("carried %+v", next)
	}
}

func TestSettledBillLeavesNoDeadlines(t *testing.T) {
	_, next := run(t, Input{EnterpriseID: "e1", Cycle: cycle, CycleNo: 3}, bill.WrittenOff)
	if next.CycleNo != 4 || len(next.Deadlines) != 0 {
		t.Fatalf("carried %+v", next)
	}
}

func TestEscalatesAtEachDeadlineWithinTheNextCycle(t *testing.T) {
	now := t0
	// The previous bill fell due 3 s into this cycle and suspends at 7 s.
	calls, next := run(t, Input{EnterpriseID: "e1", Cycle: cycle, CycleNo: 2, PeriodStart: now,
		Deadlines: []time.Time{now.Add(3 * time.Second), now.Add(7 * time.Second)}}, bill.WrittenOff)
	want := []call{{"escalate", 3 * time.Second}, {"escalate", 7 * time.Second}, {"close", 10 * time.Second}, {"email", 10 * time.Second}}
	if len(calls) != len(want) {
		t.Fatalf("calls %+v, want %+v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Fatalf("calls %+v, want %+v", calls, want)
		}
	}
	if len(next.Deadlines) != 0 {
		t.Fatalf("deadlines left %v", next.Deadlines)
	}
}
