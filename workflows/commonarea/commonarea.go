// Package commonarea allocates a project's common-area (公摊) meters for a
// billing month as a Temporal workflow, common-area/<project>/<YYYY-MM>:
// it waits until the month's closing readings can be there (NotBefore),
// then allocates and books every common-area meter's shares once
// (activities/commonarea; the ledger key is per unit and period, so a
// second run of the same period books nothing new).
package commonarea

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	commonareastore "github.com/voltflow/voltflow/store/commonarea"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
)

// Kind is the workflow type.
const Kind = "common-area"

// Status values (search attribute VoltflowStatus).
const (
	StatusWaiting = "waiting"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// errRefused is activities/commonarea.ErrRefused (not imported: layers).
const errRefused = "common_area_refused"

// WorkflowID is the allocation of one project's period.
func WorkflowID(projectCode, period string) string { return Kind + "/" + projectCode + "/" + period }

// Input starts an allocation. New fields must have a safe zero value.
type Input struct {
	ProjectID   string `json:"projectId"`
	ProjectCode string `json:"projectCode"`
	Period      string `json:"period"` // YYYY-MM
	// NotBefore is when the period's closing readings are expected (its
	// end plus the sweep's lag): the workflow sleeps until then.
	NotBefore time.Time `json:"notBefore"`
}

// Workflow runs the allocation.
func Workflow(ctx workflow.Context, in Input) (commonareastore.AllocateResult, error) {
	var out commonareastore.AllocateResult
	if wait := in.NotBefore.Sub(workflow.Now(ctx)); wait > 0 {
		if err := workflow.Sleep(ctx, wait); err != nil {
			return out, err
		}
	}
	err := allocateCommonArea(options.DB(ctx, errRefused),
		commonareastore.AllocateInput{ProjectID: in.ProjectID, Period: in.Period}).Get(ctx, &out)
	status := StatusDone
	if err != nil {
		status = StatusFailed
	}
	if uerr := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(status)); uerr != nil {
		return out, fmt.Errorf("status %s: %w", status, uerr)
	}
	return out, err
}
