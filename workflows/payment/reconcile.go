package payment

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	paymentdom "github.com/voltflow/voltflow/domain/payment"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	paymentstore "github.com/voltflow/voltflow/store/payment"
	"github.com/voltflow/voltflow/workflows/options"
)

// Reconciliation names.
const (
	KindReconciliation = "payment-reconciliation"
	// TaskKindReconciliation is finance's task for one difference between
	// the provider's bill and our orders (one per order: a second run of the
	// same day opens no second task).
	TaskKindReconciliation = "payment_reconciliation"
)

// ReconciliationID is the workflow of one provider's day.
func ReconciliationID(provider, day string) string {
	return KindReconciliation + "/" + provider + "/" + day
}

// ReconcileInput starts a reconciliation; ProjectID receives the tasks of
// billed orders that are not ours at all (the merchant account's project).
type ReconcileInput struct {
	Provider  string `json:"provider"`
	Day       string `json:"day"`
	ProjectID string `json:"projectId"`
}

// ReconcileResult is what the run found.
type ReconcileResult struct {
	Mismatches []paymentdom.Mismatch `json:"mismatches"`
}

var mismatchText = map[string]string{
	paymentdom.PaidNotCredited: "paid but not credited",
	paymentdom.CreditedNotPaid: "credited but not paid",
	paymentdom.AmountDiffers:   "amount differs",
}

// Reconcile downloads the provider's bill of the day, matches every
// payment and opens a task for finance per mismatch.
func Reconcile(ctx workflow.Context, in ReconcileInput) (ReconcileResult, error) {
	db := options.DB(ctx, "ProviderNotConfigured", "BadBill")
	var found []paymentdom.Mismatch
	if err := reconcilePayments(db, paymentstore.ReconcileInput{Provider: in.Provider, Day: in.Day}).Get(ctx, &found); err != nil {
		return ReconcileResult{}, err
	}
	for _, m := range found {
		project := m.ProjectID
		if project == "" {
			project = in.ProjectID
		}
		task := inboxstore.NewTask{ProjectID: project, Kind: TaskKindReconciliation, Role: access.Approver,
			WorkflowID: WorkflowID(m.OrderNo),
			Subject: fmt.Sprintf("%s %s payment %s: %s (bill %s, ours %s)", in.Day, in.Provider, m.OrderNo, mismatchText[m.Kind],
				yuan(m.BillCents), yuan(m.OurCents)),
			Details: map[string]string{"kind": m.Kind, "orderNo": m.OrderNo, "provider": in.Provider, "day": in.Day,
				"billCents": fmt.Sprint(m.BillCents), "ourCents": fmt.Sprint(m.OurCents), "reconciliation": ReconciliationID(in.Provider, in.Day)}}
		if err := openTask(db, task).Get(ctx, nil); err != nil {
			return ReconcileResult{}, err
		}
	}
	return ReconcileResult{Mismatches: found}, nil
}

func yuan(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
