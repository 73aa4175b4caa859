package voucher

import (
	"go.temporal.io/sdk/workflow"

	voucherstore "github.com/voltflow/voltflow/store/voucher"
)

// The voucher activities (activities/voucher), executed by their registered
// names: the API imports this package to start workflows and must not pull
// in the activities and what they depend on.

func recordIssuance(ctx workflow.Context, in voucherstore.IssuanceInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "RecordIssuance", in)
}

func setBatchStatus(ctx workflow.Context, in voucherstore.StatusInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SetBatchStatus", in)
}

// issueBatch's result is the number of vouchers issued.
func issueBatch(ctx workflow.Context, in voucherstore.IssueInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "IssueBatch", in)
}

// expireBatch's result is the number of vouchers expired.
func expireBatch(ctx workflow.Context, in voucherstore.ExpireInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ExpireBatch", in)
}

func rejectVoid(ctx workflow.Context, in voucherstore.VoidInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "RejectVoid", in)
}

// voidVoucher's result is the voucher's new status.
func voidVoucher(ctx workflow.Context, in voucherstore.VoidInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "VoidVoucher", in)
}
