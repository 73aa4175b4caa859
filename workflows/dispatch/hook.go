package dispatch

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/domain/charging"
	dispatchstore "github.com/voltflow/voltflow/store/dispatch"
)

// Hook tells the running smart plans that a vehicle plugged in or left
// (TxStarted, TxStopped) so they re-plan at once. It returns at once: the
// signals go out in the background, and a plan that misses one still sees
// the vehicle at its next re-plan (the database is the source of truth).
func Hook(tc client.Client, log *slog.Logger) func(context.Context, charging.TxEvent) {
	return func(_ context.Context, ev charging.TxEvent) {
		if tc == nil || (ev.Kind != charging.TxStarted && ev.Kind != charging.TxStopped) {
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Query: "VoltflowKind = '" + KindSmart + "' AND ExecutionStatus = 'Running'"})
			if err != nil {
				log.Warn("dispatch hook: list smart plans", "error", err)
				return
			}
			sig := VehicleEvent{Target: dispatchstore.Target{ChargePointID: ev.ChargePointID, Connector: ev.Connector}, Kind: string(ev.Kind)}
			for _, w := range resp.GetExecutions() {
				if err := tc.SignalWorkflow(ctx, w.GetExecution().GetWorkflowId(), "", SignalVehicle, sig); err != nil {
					log.Debug("dispatch hook: signal", "workflowId", w.GetExecution().GetWorkflowId(), "error", err)
				}
			}
		}()
	}
}
