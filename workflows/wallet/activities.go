package wallet

import (
	"go.temporal.io/sdk/workflow"

	walletstore "github.com/voltflow/voltflow/store/wallet"
)

// The wallet activities (activities/wallet), executed by their registered
// names: the API imports this package to start workflows and must not pull
// in the activities and what they depend on.

func setStatus(ctx workflow.Context, in walletstore.StatusInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SetWalletRequestStatus", in)
}

func book(ctx workflow.Context, in walletstore.BookInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "BookWalletRequest", in)
}
