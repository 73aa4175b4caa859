package meterprice_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	meterpriceacts "github.com/voltflow/voltflow/activities/meterprice"
	"github.com/voltflow/voltflow/store/tariffs"
	metercmdwf "github.com/voltflow/voltflow/workflows/metercmd"
	meterpricewf "github.com/voltflow/voltflow/workflows/meterprice"
)

// TestWritesEachPeriodsPriceAtItsBoundary: peak until 10:00, sharp until
// 13:00, then the tariff is removed. The workflow writes 1.2000, sleeps to
// 10:00, writes 1.5000, sleeps to 13:00, and stops.
func TestWritesEachPeriodsPriceAtItsBoundary(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	start := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	env.SetStartTime(start)
	var acts *meterpriceacts.Activities
	steps := []tariffs.FollowStep{
		{Price: 12000, Next: start.Add(30 * time.Minute), CommandID: "c1", WorkflowID: "meter-command/c1"},
		{Price: 15000, Next: start.Add(210 * time.Minute), CommandID: "c2", WorkflowID: "meter-command/c2"},
		{Stop: "tariff removed"},
	}
	var calls []time.Time
	env.OnActivity(acts.FollowTariff, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in tariffs.FollowInput) (tariffs.FollowStep, error) {
			calls = append(calls, in.At)
			return steps[len(calls)-1], nil
		})
	var written []string
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in metercmdwf.CommandInput) (metercmdwf.CommandResult, error) {
		if in.Command != "set_unit_price" {
			t.Errorf("command %+v", in)
		}
		written = append(written, in.CommandID)
		return metercmdwf.CommandResult{}, nil
	}, workflow.RegisterOptions{Name: metercmdwf.KindCommand})

	env.ExecuteWorkflow(meterpricewf.Workflow, meterpricewf.Input{ProjectID: "p1", ProjectCode: "demo", MeterID: "m1", MeterNo: "M0004"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res meterpricewf.Result
	if err := env.GetWorkflowResult(&res); err != nil || res.Steps != 3 || res.Stopped != "tariff removed" {
		t.Fatalf("result %+v (%v)", res, err)
	}
	if len(written) != 2 || written[0] != "c1" || written[1] != "c2" {
		t.Fatalf("written %v", written)
	}
	// Each step a second after its boundary.
	if !calls[1].Equal(start.Add(30*time.Minute+time.Second)) || !calls[2].Equal(start.Add(210*time.Minute+time.Second)) {
		t.Fatalf("steps at %v", calls)
	}
}
