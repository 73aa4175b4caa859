package chargeorder

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/voltflow/voltflow/activities/centralsystem"
	chargeorderacts "github.com/voltflow/voltflow/activities/chargeorder"
	chargercmdacts "github.com/voltflow/voltflow/activities/chargercmd"
	"github.com/voltflow/voltflow/domain/chargeprice"
	"github.com/voltflow/voltflow/domain/money"
)

// TestWorkflow follows the order's decisions: when it sends RemoteStop and
// how it asks Settle to flag the order.
func TestWorkflow(t *testing.T) {
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)) // 平: 1.20/kWh
	v := chargeprice.DemoVersion()
	tests := []struct {
		name     string
		balance  string
		events   []TxSignal // sent one minute apart
		userStop bool
		stops    int // RemoteStop sent
		reason   string
		noStop   bool
	}{
		{name: "charger stops", balance: "100.00",
			events: []TxSignal{{Kind: centralsystem.TxMeter, MeterWh: 5000, At: start.Add(5 * time.Minute)},
				{Kind: centralsystem.TxStopped, MeterWh: 6000, Reason: "Local", At: start.Add(6 * time.Minute)}},
			reason: "Local"},
		{name: "balance exhausted sends one stop", balance: "10.00",
			events: []TxSignal{{Kind: centralsystem.TxMeter, MeterWh: 9000, At: start.Add(5 * time.Minute)},
				{Kind: centralsystem.TxMeter, MeterWh: 10000, At: start.Add(6 * time.Minute)},
				{Kind: centralsystem.TxStopped, MeterWh: 10000, Reason: "Remote", At: start.Add(7 * time.Minute)}},
			stops: 1, reason: BalanceExhausted},
		{name: "user stop", balance: "100.00", userStop: true,
			events: []TxSignal{{Kind: centralsystem.TxStopped, MeterWh: 1000, Reason: "Remote", At: start.Add(7 * time.Minute)}},
			stops:  1, reason: StopByUser},
		{name: "no stop within the timeout", balance: "100.00",
			events: []TxSignal{{Kind: centralsystem.TxMeter, MeterWh: 1000, At: start.Add(5 * time.Minute)}},
			noStop: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			var a *chargeorderacts.Activities
			env.RegisterActivity(a)
			env.RegisterActivityWithOptions(func(chargercmdacts.Stop) (chargercmdacts.Result, error) { return chargercmdacts.Result{}, nil },
				activity.RegisterOptions{Name: "Stop"})
			env.OnActivity(a.OpenChargingOrder, mock.Anything, mock.Anything).Return(chargeorderacts.Opened{OrderID: "o1", ProjectID: "p",
				StationID: "st", Balance: money.MustParse(tc.balance), Version: &v, Start: chargeprice.Sample{At: start}}, nil)
			stops := 0
			env.OnActivity("Stop", mock.Anything).Return(func(chargercmdacts.Stop) (chargercmdacts.Result, error) {
				stops++
				return chargercmdacts.Result{Status: "Accepted"}, nil
			})
			var settled chargeorderacts.SettleInput
			env.OnActivity(a.SettleChargingOrder, mock.Anything, mock.Anything).Return(func(_ context.Context, in chargeorderacts.SettleInput) (chargeorderacts.Settled, error) {
				settled = in
				return chargeorderacts.Settled{Status: "completed"}, nil
			})
			if tc.userStop {
				env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalStop, StopRequest{By: "op"}) }, 30*time.Second)
			}
			for i, ev := range tc.events {
				env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalTx, ev) }, time.Duration(i+1)*time.Minute)
			}
			env.ExecuteWorkflow(Workflow, Input{OrderID: "o1", ChargePointID: "cp", Connector: 1, TransactionID: 7,
				NoStopTimeout: time.Hour})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			if stops != tc.stops || settled.StopReason != tc.reason || settled.NoStop != tc.noStop || settled.OrderID != "o1" {
				t.Fatalf("stops %d, settle %+v", stops, settled)
			}
		})
	}
}
