package bulk

import (
	"go.temporal.io/sdk/workflow"

	bulkstore "github.com/voltflow/voltflow/store/bulk"
	"github.com/voltflow/voltflow/workflows/options"
)

// The activities a batch runs (activities/bulk), executed by their
// registered names: the API imports this package to start batches and must
// not pull in the activities.

// listBulkRows' result is a []bulkstore.Item.
func listBulkRows(ctx workflow.Context, in bulkstore.PageInput) workflow.Future {
	return workflow.ExecuteActivity(options.DB(ctx), "ListBulkRows", in)
}

// prepareBulkRecharge's result is a bulkstore.Prepared.
func prepareBulkRecharge(ctx workflow.Context, in bulkstore.RowInput) workflow.Future {
	return workflow.ExecuteActivity(options.DB(ctx), "PrepareBulkRecharge", in)
}

// openBulkAccount's result is a bulkstore.Opened.
func openBulkAccount(ctx workflow.Context, in bulkstore.RowInput) workflow.Future {
	return workflow.ExecuteActivity(options.DB(ctx), "OpenBulkAccount", in)
}

func recordBulkOutcome(ctx workflow.Context, in bulkstore.RecordInput) workflow.Future {
	return workflow.ExecuteActivity(options.DB(ctx), "RecordBulkOutcome", in)
}

// finishBulk's result is the rows counted by state.
func finishBulk(ctx workflow.Context, in bulkstore.FinishInput) workflow.Future {
	return workflow.ExecuteActivity(options.DB(ctx), "FinishBulk", in)
}
