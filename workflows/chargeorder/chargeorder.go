// Package chargeorder is the charging order workflow charging/<orderId>
// (C7): it follows one OCPP transaction from start to a priced, paid order.
//
// The central system's transaction hook signals it (SignalWithStart, so a
// missed start event is harmless); it keeps the live cost from the meter
// samples with the pricing in force at start, sends RemoteStop when the
// cost reaches the customer's balance or the user asks, and settles from
// the stored samples (the database is the truth) when the charger stops —
// or, flagged no_stop, when nothing is heard within NoStopTimeout.
package chargeorder

import (
	"context"
	"errors"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/chargeprice"
	"github.com/voltflow/voltflow/domain/charging"
	"github.com/voltflow/voltflow/domain/money"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
	chargercmdstore "github.com/voltflow/voltflow/store/chargercmd"
	"github.com/voltflow/voltflow/workflows/names"
)

// Names shared with the API and the hook.
const (
	Kind       = "charging"
	SignalTx   = "tx"
	SignalStop = "stop"
	QueryLive  = "live"
)

// Stop reasons the workflow gives.
const (
	StopByUser       = "user"
	BalanceExhausted = "balance_exhausted"
)

// WorkflowID is the workflow of one order.
func WorkflowID(orderID string) string { return "charging/" + orderID }

// Input starts an order. New fields must have a safe zero value.
type Input struct {
	OrderID       string `json:"orderId"`
	ChargePointID string `json:"chargePointId"`
	Connector     int    `json:"connector"`
	TransactionID int    `json:"transactionId"`
	// NoStopTimeout ends an order heard nothing of for this long as
	// abnormal (no_stop); default 6 h.
	NoStopTimeout time.Duration `json:"noStopTimeout"`
}

// TxSignal is a transaction event.
type TxSignal struct {
	Kind    charging.TxKind `json:"kind"`
	MeterWh int64           `json:"meterWh"`
	Reason  string          `json:"reason,omitempty"`
	At      time.Time       `json:"at"`
}

// StopRequest asks the order to stop (from the API).
type StopRequest struct {
	By string `json:"by"`
}

// Live is the order as it runs (query live).
type Live struct {
	Status        string       `json:"status"`
	KWh           string       `json:"kwh"`
	Cost          money.Amount `json:"cost"`
	Balance       money.Amount `json:"balance"`
	StopRequested string       `json:"stopRequested,omitempty"`
}

// Workflow runs one order.
func Workflow(ctx workflow.Context, in Input) (chargeorderstore.Settled, error) {
	if in.NoStopTimeout <= 0 {
		in.NoStopTimeout = 6 * time.Hour
	}
	live := Live{Status: "charging"}
	if err := workflow.SetQueryHandler(ctx, QueryLive, func() (Live, error) { return live, nil }); err != nil {
		return chargeorderstore.Settled{}, err
	}
	txCh := workflow.GetSignalChannel(ctx, SignalTx)
	stopCh := workflow.GetSignalChannel(ctx, SignalStop)
	db := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: names.MainQueue, StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})

	var opened chargeorderstore.Opened
	if err := openChargingOrder(db, chargeorderstore.Transaction{OrderID: in.OrderID, WorkflowID: WorkflowID(in.OrderID),
		ChargePointID: in.ChargePointID, TransactionID: in.TransactionID}).Get(ctx, &opened); err != nil {
		return chargeorderstore.Settled{}, err
	}
	status := "charging"
	if opened.Refused != "" {
		status = "failed"
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Project.ValueSet(opened.ProjectID),
		names.Status.ValueSet(status)); err != nil {
		return chargeorderstore.Settled{}, err
	}
	if opened.Refused != "" {
		live.Status = "failed"
		return chargeorderstore.Settled{Status: "failed"}, nil
	}
	live.Balance = opened.Balance

	samples := []chargeprice.Sample{opened.Start}
	stopReason, stopSent, noStop := "", false, false
	sendStop := func(reason string) {
		if stopSent {
			return
		}
		stopSent, live.StopRequested = true, reason
		cmd := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			TaskQueue: names.ChargersQueue, StartToCloseTimeout: 30 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 5},
		})
		var res chargercmdstore.Result
		err := remoteStop(cmd, chargercmdstore.Stop{ChargePointID: in.ChargePointID, Connector: in.Connector,
			TransactionID: in.TransactionID, Origin: WorkflowID(in.OrderID)}).Get(ctx, &res)
		if err != nil || !res.Accepted() {
			// The charger did not take it: a later event may try again.
			workflow.GetLogger(ctx).Warn("charging: remote stop not accepted", "order", in.OrderID, "status", res.Status, "error", err)
			stopSent = false
		}
	}
	for done := false; !done; {
		tctx, cancel := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(tctx, in.NoStopTimeout)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(txCh, func(ch workflow.ReceiveChannel, _ bool) {
			var ev TxSignal
			ch.Receive(ctx, &ev)
			switch ev.Kind {
			case charging.TxMeter:
				samples = append(samples, chargeprice.Sample{At: ev.At, Wh: ev.MeterWh})
			case charging.TxStopped:
				samples = append(samples, chargeprice.Sample{At: ev.At, Wh: ev.MeterWh})
				if stopReason == "" {
					stopReason = ev.Reason
				}
				done = true
			}
		})
		sel.AddReceive(stopCh, func(ch workflow.ReceiveChannel, _ bool) {
			var req StopRequest
			ch.Receive(ctx, &req)
			if stopReason == "" {
				stopReason = StopByUser
			}
			sendStop(StopByUser)
		})
		sel.AddFuture(timer, func(workflow.Future) { noStop, done = true, true })
		sel.Select(ctx)
		cancel()
		if done || opened.Version == nil {
			continue
		}
		p, err := chargeprice.Price(*opened.Version, chargeprice.Session{StationID: opened.StationID,
			EquipmentID: in.ChargePointID, Groups: opened.Groups, Samples: samples, Discounts: opened.Discounts,
			Package: opened.Package})
		if err != nil {
			continue
		}
		live.KWh, live.Cost = p.KWh, p.Total
		if !p.Total.Sub(opened.Balance).IsNegative() {
			if stopReason == "" {
				stopReason = BalanceExhausted
			}
			sendStop(BalanceExhausted)
		}
	}
	var out chargeorderstore.Settled
	// An app start adopted by this transaction is settled under its own id.
	err := settleChargingOrder(db, chargeorderstore.SettleInput{OrderID: opened.OrderID, StopReason: stopReason,
		NoStop: noStop, Opened: opened, At: workflow.Now(ctx)}).Get(ctx, &out)
	if err != nil {
		return out, err
	}
	live.Status, live.Cost, live.KWh = out.Status, out.Amount, out.KWh
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(out.Status)); err != nil {
		return out, err
	}
	return out, nil
}

// KindAppStart is the workflow of an app start: charging-start/<orderId>.
const KindAppStart = "charging-start"

// AppStartID is the workflow of an app start.
func AppStartID(orderID string) string { return KindAppStart + "/" + orderID }

// AppStartInput starts charging from the app.
type AppStartInput struct {
	OrderID       string `json:"orderId"`
	ChargePointID string `json:"chargePointId"`
	Connector     int    `json:"connector"`
	IdTag         string `json:"idTag"`
	// StartTimeout fails the order if the charger has not started by then
	// (default 2 min).
	StartTimeout time.Duration `json:"startTimeout"`
}

// AppStart sends RemoteStartTransaction; the charger's StartTransaction
// then adopts the order (status charging) and its transaction workflow
// follows it. A refusal, an offline charger or silence fails the order.
func AppStart(ctx workflow.Context, in AppStartInput) (string, error) {
	if in.StartTimeout <= 0 {
		in.StartTimeout = 2 * time.Minute
	}
	db := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: names.MainQueue, StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	cmd := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: names.ChargersQueue, StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3,
			NonRetryableErrorTypes: []string{chargercmdstore.ErrOffline}},
	})
	var res chargercmdstore.Result
	err := remoteStart(cmd, chargercmdstore.Start{ChargePointID: in.ChargePointID, Connector: in.Connector,
		IdTag: in.IdTag, Origin: AppStartID(in.OrderID)}).Get(ctx, &res)
	reason := ""
	var appErr *temporal.ApplicationError
	switch {
	case errors.As(err, &appErr) && appErr.Type() == chargercmdstore.ErrOffline:
		reason = "charger_offline"
	case err != nil:
		reason = "remote_start_failed"
	case !res.Accepted():
		reason = "remote_start_rejected"
	default:
		if err := workflow.Sleep(ctx, in.StartTimeout); err != nil {
			return "", err
		}
		reason = "charger_did_not_start" // a no-op if StartTransaction adopted the order
	}
	if err := failAppStart(db, chargeorderstore.FailStartInput{OrderID: in.OrderID, Reason: reason}).Get(ctx, nil); err != nil {
		return "", err
	}
	return res.Status, nil
}

// Hook is the central system's transaction hook: every event of a
// transaction is signalled to its order workflow, started if need be.
func Hook(tc client.Client, log *slog.Logger) func(context.Context, charging.TxEvent) {
	return func(ctx context.Context, ev charging.TxEvent) {
		if tc == nil || ev.TransactionID == 0 {
			return
		}
		orderID := chargeorderstore.TxOrderID(ev.ChargePointID, ev.TransactionID)
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := tc.SignalWithStartWorkflow(ctx, WorkflowID(orderID), SignalTx,
			TxSignal{Kind: ev.Kind, MeterWh: ev.MeterWh, Reason: ev.Reason, At: ev.At},
			client.StartWorkflowOptions{ID: WorkflowID(orderID), TaskQueue: names.MainQueue,
				// A late event of a finished order must not start it again.
				WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
				TypedSearchAttributes: names.Attributes("", Kind, orderID, "charging")},
			Kind, Input{OrderID: orderID, ChargePointID: ev.ChargePointID, Connector: ev.Connector, TransactionID: ev.TransactionID})
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if err != nil && !errors.As(err, &started) {
			log.Warn("charging: order signal", "order", orderID, "kind", ev.Kind, "error", err)
		}
	}
}
