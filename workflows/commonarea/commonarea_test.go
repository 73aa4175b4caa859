package commonarea

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	commonareaacts "github.com/voltflow/voltflow/activities/commonarea"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/workflows/names"
)

func TestWorkflow(t *testing.T) {
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		notBefore  time.Time
		refuse     bool
		wantStatus string
	}{
		{name: "period over: allocates at once", notBefore: start.Add(-time.Hour), wantStatus: StatusDone},
		{name: "period still open: waits for its end", notBefore: start.Add(36 * time.Hour), wantStatus: StatusDone},
		{name: "refused: fails without retrying", notBefore: start, refuse: true, wantStatus: StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			e := s.NewTestWorkflowEnvironment()
			e.SetStartTime(start)
			e.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: Kind})
			e.RegisterActivity(&commonareaacts.Activities{})
			if err := e.SetTypedSearchAttributesOnStart(names.Attributes("demo", Kind, "2026-11", StatusWaiting)); err != nil {
				t.Fatal(err)
			}
			var status string
			e.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(a mock.Arguments) {
				status, _ = a.Get(0).(temporal.SearchAttributes).GetKeyword(names.Status)
			})
			calls := 0
			var calledAt time.Time
			e.OnActivity("AllocateCommonArea", mock.Anything, mock.Anything).Return(
				func(ctx context.Context, in commonareaacts.AllocateInput) (commonareaacts.AllocateResult, error) {
					calls++
					calledAt = e.Now()
					if in.ProjectID != "p1" || in.Period != "2026-11" {
						t.Errorf("activity input %+v", in)
					}
					if tt.refuse {
						return commonareaacts.AllocateResult{}, temporal.NewNonRetryableApplicationError("no reading",
							commonareaacts.ErrRefused, nil)
					}
					return commonareaacts.AllocateResult{Meters: 1, Booked: 3, Amount: money.MustParse("414.82")}, nil
				})
			e.ExecuteWorkflow(Kind, Input{ProjectID: "p1", ProjectCode: "demo", Period: "2026-11", NotBefore: tt.notBefore})
			if !e.IsWorkflowCompleted() {
				t.Fatal("not completed")
			}
			err := e.GetWorkflowError()
			var res commonareaacts.AllocateResult
			if tt.refuse {
				var app *temporal.ApplicationError
				if !errors.As(err, &app) || app.Type() != commonareaacts.ErrRefused {
					t.Fatalf("error %v, want %s", err, commonareaacts.ErrRefused)
				}
			} else if err != nil || e.GetWorkflowResult(&res) != nil || res.Booked != 3 || res.Amount.String() != "414.82" {
				t.Fatalf("result %+v, %v", res, err)
			}
			if calls != 1 {
				t.Fatalf("activity ran %d times, want once", calls)
			}
			if calledAt.Before(tt.notBefore) {
				t.Fatalf("allocated at %s, before %s", calledAt, tt.notBefore)
			}
			if status != tt.wantStatus {
				t.Fatalf("status %q, want %q", status, tt.wantStatus)
			}
		})
	}
	if WorkflowID("demo", "2026-11") != "common-area/demo/2026-11" {
		t.Fatal(WorkflowID("demo", "2026-11"))
	}
}
