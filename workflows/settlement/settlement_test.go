package settlement_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	settlementacts "github.com/voltflow/voltflow/activities/settlement"
	settlementdom "github.com/voltflow/voltflow/domain/settlement"
	settlementstore "github.com/voltflow/voltflow/store/settlement"
	settlementwf "github.com/voltflow/voltflow/workflows/settlement"
)

// A run under the month's own ID settles it directly.
func TestMonthRunSettles(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: settlementwf.WorkflowID("demo", "2026-11")})
	var acts *settlementacts.Activities
	env.OnActivity(acts.SettleMonth, mock.Anything, settlementstore.SettleInput{ProjectID: "p1", Month: "2026-11"}).
		Return(settlementstore.Settlement{Month: "2026-11", Accounts: 3, Created: true}, nil).Once()
	env.ExecuteWorkflow(settlementwf.Workflow, settlementwf.Input{ProjectID: "p1", ProjectCode: "demo", Month: "2026-11"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res settlementwf.Result
	if err := env.GetWorkflowResult(&res); err != nil || !res.Created || res.Accounts != 3 {
		t.Fatalf("result %+v, %v", res, err)
	}
}

// A Schedule's run (no month, an ID of its own) asks which month is due
// and settles it as a child under the month's ID.
func TestScheduledRunSettlesTheDueMonthAsAChild(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "month-settlement/demo-2026-12-01T00:05:00+08:00"})
	start := time.Date(2026, 12, 1, 0, 5, 0, 0, settlementdom.China)
	env.SetStartTime(start)
	var acts *settlementacts.Activities
	env.OnActivity(acts.SettlementDue, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in settlementstore.DueInput) (settlementstore.DueResult, error) {
			return settlementstore.DueResult{Month: settlementdom.Last.Due(in.At).String()}, nil
		})
	var childID string
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in settlementwf.Input) (settlementwf.Result, error) {
		childID = workflow.GetInfo(ctx).WorkflowExecution.ID
		return settlementwf.Result{Month: in.Month, Created: true}, nil
	}, workflow.RegisterOptions{Name: settlementwf.Kind})
	env.ExecuteWorkflow(settlementwf.Workflow, settlementwf.Input{ProjectID: "p1", ProjectCode: "demo"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res settlementwf.Result
	if err := env.GetWorkflowResult(&res); err != nil || res.Month != "2026-11" || childID != "month-settlement/demo/2026-11" {
		t.Fatalf("result %+v (%v), child %q", res, err, childID)
	}
}

// The calendars fire the day after each close; day 28 skips February's
// missing 29th for 1 March.
func TestCalendars(t *testing.T) {
	for _, c := range []struct {
		day  settlementdom.Day
		want []int
	}{{"last", []int{1}}, {"1", []int{2}}, {"15", []int{16}}, {"27", []int{28}}, {"28", []int{29, 1}}} {
		cal := settlementwf.Calendars(c.day)
		if len(cal) != len(c.want) {
			t.Fatalf("day %s: %+v", c.day, cal)
		}
		for i, w := range c.want {
			if cal[i].DayOfMonth[0].Start != w || cal[i].Hour[0].Start != 0 || cal[i].Minute[0].Start != 5 {
				t.Errorf("day %s calendar %d: %+v", c.day, i, cal[i])
			}
		}
	}
	if m := settlementwf.Calendars("28")[1].Month; len(m) != 1 || m[0].Start != 3 {
		t.Errorf("day 28's second calendar months %+v, want March", m)
	}
}
