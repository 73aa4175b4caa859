// Package enterprisebill runs an enterprise's credit billing cycles as the
// long-running workflow billing/<enterpriseId> (账单): at the end of each
// cycle it closes the bill (opening balance, consumption lines, payments,
// closing balance), e-mails it, and escalates unpaid bills — a reminder
// when a bill falls due, credit suspension when its grace is over.
// Repayments come through the API (activities/credit.Repay), which writes
// bills off (核销) and reinstates credit; this workflow only keeps time.
//
// The ID billing/<enterpriseId> does not collide with platform-side meter
// billing (workflows/platformbilling), which runs no workflow of its own: its
// switch commands are meter-command/<id> workflows.
package enterprisebill

import (
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/bill"
	creditstore "github.com/voltflow/voltflow/store/credit"
	"github.com/voltflow/voltflow/workflows/options"
)

// Kind is the workflow type and the first part of its ID.
const Kind = "billing"

// WorkflowID is the billing workflow of one enterprise.
func WorkflowID(enterpriseID string) string { return Kind + "/" + enterpriseID }

// Input carries the state from one run to the next (continue-as-new after
// every closed cycle keeps the history short).
type Input struct {
	ProjectID      string     `json:"projectId"`
	ProjectCode    string     `json:"projectCode"`
	EnterpriseID   string     `json:"enterpriseId"`
	EnterpriseCode string     `json:"enterpriseCode"`
	Cycle          bill.Cycle `json:"cycle"`
	CycleNo        int        `json:"cycleNo"`     // the next cycle to close, from 1
	PeriodStart    time.Time  `json:"periodStart"` // zero: when the workflow starts
	// Deadlines are the due and suspension moments of unpaid bills still to check.
	Deadlines []time.Time `json:"deadlines"`
}

// Workflow closes one cycle after another, forever.
func Workflow(ctx workflow.Context, in Input) error {
	in.Cycle = in.Cycle.WithDefaults()
	if in.CycleNo < 1 {
		in.CycleNo = 1
	}
	if in.PeriodStart.IsZero() {
		in.PeriodStart = workflow.Now(ctx)
	}
	end := in.PeriodStart.Add(in.Cycle.Length)
	for {
		next := end
		for _, d := range in.Deadlines {
			if d.Before(next) {
				next = d
			}
		}
		if wait := next.Sub(workflow.Now(ctx)); wait > 0 {
			if err := workflow.Sleep(ctx, wait); err != nil {
				return err
			}
		}
		now := workflow.Now(ctx)
		closed := !now.Before(end)
		if closed {
			due := end.Add(in.Cycle.DueAfter)
			suspend := due.Add(in.Cycle.SuspendWait)
			var b creditstore.Bill
			if err := closeCycle(db(ctx), creditstore.CloseInput{
				ProjectID: in.ProjectID, EnterpriseID: in.EnterpriseID, CycleNo: in.CycleNo,
				PeriodStart: in.PeriodStart, PeriodEnd: end, DueAt: due, SuspendAt: suspend}).Get(ctx, &b); err != nil {
				return err
			}
			if err := emailBill(db(ctx), creditstore.BillInput{BillID: b.ID}).Get(ctx, nil); err != nil {
				return err
			}
			if b.Status != bill.WrittenOff {
				in.Deadlines = append(in.Deadlines, due, suspend)
			}
		}
		if slices.ContainsFunc(in.Deadlines, func(d time.Time) bool { return !d.After(now) }) {
			if err := escalate(db(ctx), creditstore.EscalateInput{
				EnterpriseID: in.EnterpriseID, At: now}).Get(ctx, nil); err != nil {
				return err
			}
			in.Deadlines = slices.DeleteFunc(in.Deadlines, func(d time.Time) bool { return !d.After(now) })
		}
		if closed {
			in.CycleNo++
			in.PeriodStart = end
			return workflow.NewContinueAsNewError(ctx, Kind, in)
		}
	}
}

func db(ctx workflow.Context) workflow.Context {
	return options.DB(ctx)
}
