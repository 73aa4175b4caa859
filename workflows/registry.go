// Package workflows registers every workflow and activity with a worker: the
// one place that says what runs where.
package workflows

import (
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	alarmacts "github.com/voltflow/voltflow/activities/alarm"
	billingacts "github.com/voltflow/voltflow/activities/billing"
	chargeorderacts "github.com/voltflow/voltflow/activities/chargeorder"
	"github.com/voltflow/voltflow/activities/chargercmd"
	"github.com/voltflow/voltflow/activities/charging"
	closingacts "github.com/voltflow/voltflow/activities/closing"
	creditacts "github.com/voltflow/voltflow/activities/credit"
	dispatchacts "github.com/voltflow/voltflow/activities/dispatch"
	"github.com/voltflow/voltflow/activities/inbox"
	invoiceacts "github.com/voltflow/voltflow/activities/invoice"
	"github.com/voltflow/voltflow/activities/mail"
	metercmdacts "github.com/voltflow/voltflow/activities/metercmd"
	"github.com/voltflow/voltflow/activities/meters"
	rechargeacts "github.com/voltflow/voltflow/activities/recharge"
	refundacts "github.com/voltflow/voltflow/activities/refund"
	smsacts "github.com/voltflow/voltflow/activities/sms"
	sweepacts "github.com/voltflow/voltflow/activities/sweep"
	voucheracts "github.com/voltflow/voltflow/activities/voucher"
	workorderacts "github.com/voltflow/voltflow/activities/workorder"
	domainworkorder "github.com/voltflow/voltflow/domain/workorder"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/workflows/alarm"
	"github.com/voltflow/voltflow/workflows/chargeorder"
	"github.com/voltflow/voltflow/workflows/closing"
	"github.com/voltflow/voltflow/workflows/credit"
	"github.com/voltflow/voltflow/workflows/dispatch"
	"github.com/voltflow/voltflow/workflows/enterprisebill"
	"github.com/voltflow/voltflow/workflows/invoice"
	"github.com/voltflow/voltflow/workflows/metercmd"
	"github.com/voltflow/voltflow/workflows/recharge"
	"github.com/voltflow/voltflow/workflows/refund"
	"github.com/voltflow/voltflow/workflows/sweep"
	"github.com/voltflow/voltflow/workflows/voucher"
	"github.com/voltflow/voltflow/workflows/workorder"
)

// RegisterMain registers business workflows and their database activities
// (task queue voltflow-main).
func RegisterMain(w worker.Registry, db *store.DB) {
	w.RegisterWorkflowWithOptions(recharge.Workflow, workflow.RegisterOptions{Name: recharge.Kind})
	w.RegisterWorkflowWithOptions(sweep.Workflow, workflow.RegisterOptions{Name: sweep.Kind})
	w.RegisterWorkflowWithOptions(sweep.MeterRead, workflow.RegisterOptions{Name: sweep.KindMeterRead})
	w.RegisterActivity(&rechargeacts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(refund.Workflow, workflow.RegisterOptions{Name: refund.Kind})
	w.RegisterActivity(&refundacts.Activities{DB: db})
	w.RegisterActivity(&inbox.Activities{DB: db})
	w.RegisterWorkflowWithOptions(metercmd.CommandWorkflow, workflow.RegisterOptions{Name: metercmd.KindCommand})
	w.RegisterWorkflowWithOptions(metercmd.BatchWorkflow, workflow.RegisterOptions{Name: metercmd.KindBatch})
	w.RegisterActivity(&metercmdacts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(workorder.Workflow, workflow.RegisterOptions{Name: workorder.KindWorkflow})
	w.RegisterActivity(&workorderacts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(chargeorder.Workflow, workflow.RegisterOptions{Name: chargeorder.Kind})
	w.RegisterWorkflowWithOptions(chargeorder.AppStart, workflow.RegisterOptions{Name: chargeorder.KindAppStart})
	w.RegisterActivity(&chargeorderacts.Activities{DB: db})
	RegisterFinance(w, db)
	RegisterDispatch(w, db)
}

// RegisterFinance registers vouchers, invoices and account closing (issue 7,
// F5/F6/M4) on the main queue.
func RegisterFinance(w worker.Registry, db *store.DB) {
	w.RegisterWorkflowWithOptions(voucher.BatchWorkflow, workflow.RegisterOptions{Name: voucher.KindBatch})
	w.RegisterWorkflowWithOptions(voucher.VoidWorkflow, workflow.RegisterOptions{Name: voucher.KindVoid})
	w.RegisterActivity(&voucheracts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(invoice.Workflow, workflow.RegisterOptions{Name: invoice.Kind})
	w.RegisterActivity(&invoiceacts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(closing.Workflow, workflow.RegisterOptions{Name: closing.Kind})
	w.RegisterActivity(&closingacts.Activities{DB: db})
}

// RegisterDispatch registers the charging dispatch plans (manual, timed,
// smart) and their database activities (task queue voltflow-main).
func RegisterDispatch(w worker.Registry, db *store.DB) {
	w.RegisterWorkflowWithOptions(dispatch.CommandWorkflow, workflow.RegisterOptions{Name: dispatch.KindCommand})
	w.RegisterWorkflowWithOptions(dispatch.TimedWorkflow, workflow.RegisterOptions{Name: dispatch.KindTimed})
	w.RegisterWorkflowWithOptions(dispatch.SmartWorkflow, workflow.RegisterOptions{Name: dispatch.KindSmart})
	w.RegisterActivity(&dispatchacts.Activities{DB: db})
}

// RegisterDevices registers device I/O activities (task queue voltflow-devices).
func RegisterDevices(w worker.Registry, db *store.DB, gateways *meters.Gateways) {
	RegisterDevicesWithAlarms(w, db, gateways, nil)
}

// RegisterDevicesWithAlarms is RegisterDevices with the alarm hook told of
// every reading the meter activities take (nil: no alarms).
func RegisterDevicesWithAlarms(w worker.Registry, db *store.DB, gateways *meters.Gateways, alarms *alarm.Observer) {
	RegisterDevicesWithHooks(w, db, gateways, DeviceHooks{Alarms: alarms})
}

// DeviceHooks are told of what the device activities record; nil fields
// are off.
type DeviceHooks struct {
	Alarms *alarm.Observer
	// Billing prices the sweep's readings of platform-side meters (主站费控).
	Billing *billingacts.Activities
}

// RegisterDevicesWithHooks is RegisterDevices with hooks.
func RegisterDevicesWithHooks(w worker.Registry, db *store.DB, gateways *meters.Gateways, h DeviceHooks) {
	ma := &meters.Activities{DB: db, Gateways: gateways}
	sa := &sweepacts.Activities{DB: db, Gateways: gateways}
	if h.Alarms != nil {
		ma.Alarms, sa.Alarms = h.Alarms, h.Alarms
	}
	if h.Billing != nil {
		sa.Billing = h.Billing
		w.RegisterActivity(h.Billing)
	}
	w.RegisterActivity(ma)
	w.RegisterActivity(sa)
	w.RegisterActivity(&metercmdacts.Devices{DB: db, Gateways: gateways})
}

// RegisterAlarms registers the alarm workflows and the SMS and alarm-record
// activities (task queue voltflow-main).
func RegisterAlarms(w worker.Registry, db *store.DB, texts *smsacts.Activities) {
	w.RegisterWorkflowWithOptions(alarm.LowBalance, workflow.RegisterOptions{Name: alarm.KindLowBalanceWorkflow})
	w.RegisterActivity(&alarmacts.Activities{DB: db})
	w.RegisterActivity(texts)
}

// RegisterAlarmConditions registers the condition alarms (static meter,
// over-limit, trips, lost contact) and their scheduled scan, whose activity
// needs the Temporal client (task queue voltflow-main).
func RegisterAlarmConditions(w worker.Registry, scanner *alarm.Scanner) {
	w.RegisterWorkflowWithOptions(alarm.Condition, workflow.RegisterOptions{Name: alarm.KindConditionWorkflow})
	w.RegisterWorkflowWithOptions(alarm.Scan, workflow.RegisterOptions{Name: alarm.KindScanWorkflow})
	w.RegisterActivity(scanner)
}

// RegisterInterconnect registers the regulator exchange (task queue
// voltflow-interconnect): the regulator-pump/<regulator> workflow, the
// legacy regulator-push/<station> type (now a workflow that ends at once:
// the pump's start terminates old runs) and their activities.
func RegisterInterconnect(w worker.Registry, acts *push.Activities) {
	w.RegisterWorkflowWithOptions(push.Retired, workflow.RegisterOptions{Name: push.Kind})
	w.RegisterWorkflowWithOptions(push.PumpWorkflow, workflow.RegisterOptions{Name: push.KindPump})
	w.RegisterActivity(acts)
}

// RegisterChargers registers the activities that command chargers (task
// queue voltflow-chargers, polled only by the process holding the OCPP
// connections).
func RegisterChargers(w worker.Registry, db *store.DB, cs chargercmd.Commander) {
	w.RegisterActivity(&chargercmd.Activities{DB: db, CS: cs})
}

// ChargerHooks are what the central system tells of transactions and
// faults: each consumer (charging orders, work orders, the regulator's
// alarm pushes) adds its hook here, so every process wires the same ones.
func ChargerHooks(tc client.Client, log *slog.Logger) charging.Hooks {
	var h charging.Hooks
	_, _ = tc, log
	h.Transaction = append(h.Transaction, chargeorder.Hook(tc, log))
	h.Transaction = append(h.Transaction, dispatch.Hook(tc, log))
	if wo, err := workOrderHook(tc, log); err != nil {
		log.Error("work orders off", "error", err)
	} else {
		h.Fault = append(h.Fault, wo.Fault)
		h.Transaction = append(h.Transaction, wo.Transaction)
	}
	return h
}

// workOrderHook opens work orders from charger faults and failed sessions
// (configured by VOLTFLOW_WORKORDER_*).
func workOrderHook(tc client.Client, log *slog.Logger) (*workorder.Hook, error) {
	cfg, err := domainworkorder.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	return workorder.NewHook(tc, log, cfg), nil
}

// RegisterCredit registers the enterprise chains (enterprise-recharge,
// credit-limit), the billing/<enterpriseId> cycles and their activities
// (task queue voltflow-main); mailer sends bills (nil: the local outbox).
func RegisterCredit(w worker.Registry, db *store.DB, mailer mail.Provider) {
	w.RegisterWorkflowWithOptions(credit.RechargeWorkflow, workflow.RegisterOptions{Name: credit.KindRecharge})
	w.RegisterWorkflowWithOptions(credit.LimitWorkflow, workflow.RegisterOptions{Name: credit.KindLimit})
	w.RegisterWorkflowWithOptions(enterprisebill.Workflow, workflow.RegisterOptions{Name: enterprisebill.Kind})
	w.RegisterActivity(&creditacts.Activities{DB: db, Mail: &mail.Activities{DB: db, Provider: mailer}})
}
