// Package closing runs an account closing (销户, M4) of a prepaid meter as a
// Temporal workflow, account-closing/<id>: the refundable remainder goes back
// through the refund workflow (refund/<id>, a child: reviewed by an approver,
// booked, taken off the meter), then the rest is settled in the ledger and
// the account closed. A refused refund leaves the account open.
package closing

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	closingstore "github.com/voltflow/voltflow/store/closing"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
	refundwf "github.com/voltflow/voltflow/workflows/refund"
)

// Kind names the workflow type and its ID prefix.
const Kind = "account-closing"

// WorkflowID is the workflow of one closing.
func WorkflowID(closingID string) string { return Kind + "/" + closingID }

// Input starts a closing. Refund is zero-valued when nothing is refundable.
type Input struct {
	ClosingID   string         `json:"closingId"`
	ProjectID   string         `json:"projectId"`
	ProjectCode string         `json:"projectCode"`
	MeterID     string         `json:"meterId"`
	MeterNo     string         `json:"meterNo"`
	Refund      refundwf.Input `json:"refund"`
}

// Result is the end state.
type Result struct {
	Status  closingstore.Status  `json:"status"`
	Settled closingstore.Settled `json:"settled"`
}

// Workflow runs one closing.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	db := options.DB(ctx)
	if in.Refund.RefundID != "" {
		child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: refundwf.WorkflowID(in.Refund.RefundID), TaskQueue: names.MainQueue,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes: names.Attributes(in.ProjectCode, refundwf.Kind, in.MeterNo, string(rechargedom.PendingApproval)),
		})
		var res refundwf.Result
		if err := workflow.ExecuteChildWorkflow(child, refundwf.Kind, in.Refund).Get(ctx, &res); err != nil {
			return Result{}, err
		}
		if res.Status != rechargedom.Completed {
			err := rejectClosing(db, closingstore.RejectInput{ClosingID: in.ClosingID,
				Failure: "the refund of the remainder was " + string(res.Status)}).Get(ctx, nil)
			return Result{Status: closingstore.StatusRejected}, err
		}
	}
	var settled closingstore.Settled
	if err := settleClosing(db, closingstore.SettleInput{ClosingID: in.ClosingID,
		ProjectID: in.ProjectID, MeterID: in.MeterID, MeterNo: in.MeterNo}).Get(ctx, &settled); err != nil {
		return Result{}, err
	}
	return Result{Status: closingstore.StatusClosed, Settled: settled}, nil
}
