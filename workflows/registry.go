// Package workflows registers every workflow and activity with a worker: the
// one place that says what runs where.
package workflows

import (
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	airconacts "github.com/voltflow/voltflow/activities/aircon"
	alarmacts "github.com/voltflow/voltflow/activities/alarm"
	allowanceacts "github.com/voltflow/voltflow/activities/allowance"
	archiveacts "github.com/voltflow/voltflow/activities/archive"
	bulkacts "github.com/voltflow/voltflow/activities/bulk"
	"github.com/voltflow/voltflow/activities/centralsystem"
	chargeorderacts "github.com/voltflow/voltflow/activities/chargeorder"
	chargercmdacts "github.com/voltflow/voltflow/activities/chargercmd"
	closingacts "github.com/voltflow/voltflow/activities/closing"
	commonareaacts "github.com/voltflow/voltflow/activities/commonarea"
	creditacts "github.com/voltflow/voltflow/activities/credit"
	dispatchacts "github.com/voltflow/voltflow/activities/dispatch"
	feeacts "github.com/voltflow/voltflow/activities/fee"
	inboxacts "github.com/voltflow/voltflow/activities/inbox"
	invoiceacts "github.com/voltflow/voltflow/activities/invoice"
	mailacts "github.com/voltflow/voltflow/activities/mail"
	metercmdacts "github.com/voltflow/voltflow/activities/metercmd"
	meterpriceacts "github.com/voltflow/voltflow/activities/meterprice"
	metersacts "github.com/voltflow/voltflow/activities/meters"
	paymentacts "github.com/voltflow/voltflow/activities/payment"
	platformbillingacts "github.com/voltflow/voltflow/activities/platformbilling"
	rechargeacts "github.com/voltflow/voltflow/activities/recharge"
	refundacts "github.com/voltflow/voltflow/activities/refund"
	replacementacts "github.com/voltflow/voltflow/activities/replacement"
	safetyacts "github.com/voltflow/voltflow/activities/safety"
	settlementacts "github.com/voltflow/voltflow/activities/settlement"
	smsacts "github.com/voltflow/voltflow/activities/sms"
	sweepacts "github.com/voltflow/voltflow/activities/sweep"
	voucheracts "github.com/voltflow/voltflow/activities/voucher"
	walletacts "github.com/voltflow/voltflow/activities/wallet"
	workorderacts "github.com/voltflow/voltflow/activities/workorder"
	workorderdom "github.com/voltflow/voltflow/domain/workorder"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/payproviders/alipay"
	"github.com/voltflow/voltflow/payproviders/wechatpay"
	"github.com/voltflow/voltflow/store"
	airconwf "github.com/voltflow/voltflow/workflows/aircon"
	alarmwf "github.com/voltflow/voltflow/workflows/alarm"
	allowancewf "github.com/voltflow/voltflow/workflows/allowance"
	archivewf "github.com/voltflow/voltflow/workflows/archive"
	bulkwf "github.com/voltflow/voltflow/workflows/bulk"
	chargeorderwf "github.com/voltflow/voltflow/workflows/chargeorder"
	closingwf "github.com/voltflow/voltflow/workflows/closing"
	commonareawf "github.com/voltflow/voltflow/workflows/commonarea"
	creditwf "github.com/voltflow/voltflow/workflows/credit"
	dispatchwf "github.com/voltflow/voltflow/workflows/dispatch"
	"github.com/voltflow/voltflow/workflows/enterprisebill"
	feewf "github.com/voltflow/voltflow/workflows/fee"
	invoicewf "github.com/voltflow/voltflow/workflows/invoice"
	metercmdwf "github.com/voltflow/voltflow/workflows/metercmd"
	meterpricewf "github.com/voltflow/voltflow/workflows/meterprice"
	paymentwf "github.com/voltflow/voltflow/workflows/payment"
	platformbillingwf "github.com/voltflow/voltflow/workflows/platformbilling"
	rechargewf "github.com/voltflow/voltflow/workflows/recharge"
	refundwf "github.com/voltflow/voltflow/workflows/refund"
	replacementwf "github.com/voltflow/voltflow/workflows/replacement"
	safetywf "github.com/voltflow/voltflow/workflows/safety"
	settlementwf "github.com/voltflow/voltflow/workflows/settlement"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
	tenantwf "github.com/voltflow/voltflow/workflows/tenant"
	voucherwf "github.com/voltflow/voltflow/workflows/voucher"
	walletwf "github.com/voltflow/voltflow/workflows/wallet"
	workorderwf "github.com/voltflow/voltflow/workflows/workorder"
)

// RegisterMain registers business workflows and their database activities
// (task queue voltflow-main).
func RegisterMain(w worker.Registry, db *store.DB) {
	w.RegisterWorkflowWithOptions(rechargewf.Workflow, workflow.RegisterOptions{Name: rechargewf.Kind})
	w.RegisterWorkflowWithOptions(sweepwf.Workflow, workflow.RegisterOptions{Name: sweepwf.Kind})
	w.RegisterWorkflowWithOptions(sweepwf.MeterRead, workflow.RegisterOptions{Name: sweepwf.KindMeterRead})
	w.RegisterActivity(&rechargeacts.Activities{DB: db, Switch: platformbillingwf.ActivityStarter{}})
	w.RegisterWorkflowWithOptions(refundwf.Workflow, workflow.RegisterOptions{Name: refundwf.Kind})
	w.RegisterActivity(&refundacts.Activities{DB: db})
	w.RegisterActivity(&inboxacts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(metercmdwf.CommandWorkflow, workflow.RegisterOptions{Name: metercmdwf.KindCommand})
	w.RegisterWorkflowWithOptions(metercmdwf.BatchWorkflow, workflow.RegisterOptions{Name: metercmdwf.KindBatch})
	w.RegisterActivity(&metercmdacts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(workorderwf.Workflow, workflow.RegisterOptions{Name: workorderwf.KindWorkflow})
	w.RegisterActivity(&workorderacts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(chargeorderwf.Workflow, workflow.RegisterOptions{Name: chargeorderwf.Kind})
	w.RegisterWorkflowWithOptions(chargeorderwf.AppStart, workflow.RegisterOptions{Name: chargeorderwf.KindAppStart})
	w.RegisterActivity(&chargeorderacts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(bulkwf.Workflow, workflow.RegisterOptions{Name: bulkwf.Kind})
	w.RegisterActivity(&bulkacts.Activities{DB: db})
	RegisterFinance(w, db)
	RegisterDispatch(w, db)
	w.RegisterWorkflowWithOptions(replacementwf.Workflow, workflow.RegisterOptions{Name: replacementwf.Kind})
	w.RegisterActivity(&replacementacts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(safetywf.Workflow, workflow.RegisterOptions{Name: safetywf.Kind})
	w.RegisterActivity(&safetyacts.Activities{DB: db})
	// Property fees (M13); their arrears SMS is SendSMS (RegisterAlarms).
	w.RegisterWorkflowWithOptions(feewf.Workflow, workflow.RegisterOptions{Name: feewf.Kind})
	w.RegisterActivity(&feeacts.Activities{DB: db, Switch: platformbillingwf.ActivityStarter{}})
	w.RegisterWorkflowWithOptions(commonareawf.Workflow, workflow.RegisterOptions{Name: commonareawf.Kind})
	w.RegisterActivity(&commonareaacts.Activities{DB: db})
	// Central air-conditioning billing (M14); its controller read is a
	// device activity (RegisterDevicesWithHooks).
	w.RegisterWorkflowWithOptions(airconwf.Workflow, workflow.RegisterOptions{Name: airconwf.Kind})
	w.RegisterActivity(&airconacts.Activities{DB: db})
	// Month-end settlement (月底结算日).
	w.RegisterWorkflowWithOptions(settlementwf.Workflow, workflow.RegisterOptions{Name: settlementwf.Kind})
	w.RegisterActivity(&settlementacts.Activities{DB: db})
	// Monthly allowance (月补电量); its grants are recharges (above).
	w.RegisterWorkflowWithOptions(allowancewf.Workflow, workflow.RegisterOptions{Name: allowancewf.Kind})
	w.RegisterActivity(&allowanceacts.Activities{DB: db})
	// TOU prices for meter-side meters without the price block.
	w.RegisterWorkflowWithOptions(meterpricewf.Workflow, workflow.RegisterOptions{Name: meterpricewf.Kind})
	w.RegisterActivity(&meterpriceacts.Activities{DB: db})
}

// RegisterFinance registers vouchers, invoices and account closing (issue 7,
// F5/F6/M4) on the main queue.
func RegisterFinance(w worker.Registry, db *store.DB) {
	w.RegisterWorkflowWithOptions(voucherwf.BatchWorkflow, workflow.RegisterOptions{Name: voucherwf.KindBatch})
	w.RegisterWorkflowWithOptions(voucherwf.VoidWorkflow, workflow.RegisterOptions{Name: voucherwf.KindVoid})
	w.RegisterActivity(&voucheracts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(invoicewf.Workflow, workflow.RegisterOptions{Name: invoicewf.Kind})
	w.RegisterActivity(&invoiceacts.Activities{DB: db})
	w.RegisterWorkflowWithOptions(closingwf.Workflow, workflow.RegisterOptions{Name: closingwf.Kind})
	w.RegisterActivity(&closingacts.Activities{DB: db})
	// Card wallets (F2): one workflow, a type per kind.
	w.RegisterWorkflowWithOptions(walletwf.Workflow, workflow.RegisterOptions{Name: walletwf.KindRecharge})
	w.RegisterWorkflowWithOptions(walletwf.Workflow, workflow.RegisterOptions{Name: walletwf.KindRefund})
	w.RegisterActivity(&walletacts.Activities{DB: db})
}

// RegisterDispatch registers the charging dispatch plans (manual, timed,
// smart) and their database activities (task queue voltflow-main).
func RegisterDispatch(w worker.Registry, db *store.DB) {
	w.RegisterWorkflowWithOptions(dispatchwf.CommandWorkflow, workflow.RegisterOptions{Name: dispatchwf.KindCommand})
	w.RegisterWorkflowWithOptions(dispatchwf.TimedWorkflow, workflow.RegisterOptions{Name: dispatchwf.KindTimed})
	w.RegisterWorkflowWithOptions(dispatchwf.SmartWorkflow, workflow.RegisterOptions{Name: dispatchwf.KindSmart})
	w.RegisterActivity(&dispatchacts.Activities{DB: db})
}

// RegisterDevices registers device I/O activities (task queue voltflow-devices).
func RegisterDevices(w worker.Registry, db *store.DB, gateways *metersacts.Gateways) {
	RegisterDevicesWithAlarms(w, db, gateways, nil)
}

// RegisterDevicesWithAlarms is RegisterDevices with the alarm hook told of
// every reading the meter activities take (nil: no alarms).
func RegisterDevicesWithAlarms(w worker.Registry, db *store.DB, gateways *metersacts.Gateways, alarms *alarmwf.Observer) {
	RegisterDevicesWithHooks(w, db, gateways, DeviceHooks{Alarms: alarms})
}

// DeviceHooks are told of what the device activities record; nil fields
// are off.
type DeviceHooks struct {
	Alarms *alarmwf.Observer
	// Billing prices the sweep's readings of platform-side meters (主站费控).
	Billing *platformbillingacts.Activities
	// Safety trips meters over their safety limits (安全用电).
	Safety *safetywf.Observer
}

// RegisterDevicesWithHooks is RegisterDevices with hooks.
func RegisterDevicesWithHooks(w worker.Registry, db *store.DB, gateways *metersacts.Gateways, h DeviceHooks) {
	registerDevices(w, db, gateways, h, false)
}

// RegisterInteractiveDevices registers the device activities on the
// interactive devices queue (names.InteractiveDevicesQueue): the same
// activities, sharing the gateways' connections with the bulk queue's, whose
// meter writes go before the bulk requests queued on a gateway.
func RegisterInteractiveDevices(w worker.Registry, db *store.DB, gateways *metersacts.Gateways, h DeviceHooks) {
	registerDevices(w, db, gateways, h, true)
}

func registerDevices(w worker.Registry, db *store.DB, gateways *metersacts.Gateways, h DeviceHooks, interactive bool) {
	ma := &metersacts.Activities{DB: db, Gateways: gateways, Interactive: interactive}
	sa := &sweepacts.Activities{DB: db, Gateways: gateways, Interactive: interactive}
	if h.Alarms != nil {
		ma.Alarms, sa.Alarms = h.Alarms, h.Alarms
	}
	if h.Billing != nil {
		sa.Billing = h.Billing
		w.RegisterActivity(h.Billing)
	}
	if h.Safety != nil {
		sa.Safety = h.Safety
	}
	w.RegisterActivity(ma)
	w.RegisterActivity(sa)
	w.RegisterActivity(&safetyacts.Devices{DB: db, Gateways: gateways})
	w.RegisterActivity(&metercmdacts.Devices{DB: db, Gateways: gateways, Interactive: interactive})
	w.RegisterActivity(&airconacts.Devices{DB: db, Gateways: gateways})
}

// RegisterAlarms registers the alarm workflows and the SMS and alarm-record
// activities (task queue voltflow-main).
func RegisterAlarms(w worker.Registry, db *store.DB, texts *smsacts.Activities) {
	w.RegisterWorkflowWithOptions(alarmwf.LowBalance, workflow.RegisterOptions{Name: alarmwf.KindLowBalanceWorkflow})
	w.RegisterActivity(&alarmacts.Activities{DB: db})
	w.RegisterActivity(texts)
}

// RegisterAlarmConditions registers the condition alarms (static meter,
// over-limit, trips, lost contact) and their scheduled scan, whose activity
// needs the Temporal client (task queue voltflow-main).
func RegisterAlarmConditions(w worker.Registry, scanner *alarmwf.Scanner) {
	w.RegisterWorkflowWithOptions(alarmwf.Condition, workflow.RegisterOptions{Name: alarmwf.KindConditionWorkflow})
	w.RegisterWorkflowWithOptions(alarmwf.Scan, workflow.RegisterOptions{Name: alarmwf.KindScanWorkflow})
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
func RegisterChargers(w worker.Registry, db *store.DB, cs chargercmdacts.Commander) {
	w.RegisterActivity(&chargercmdacts.Activities{DB: db, CS: cs})
}

// ChargerHooks are what the central system tells of transactions and
// faults: each consumer (charging orders, work orders, the regulator's
// alarm pushes) adds its hook here, so every process wires the same ones.
func ChargerHooks(tc client.Client, log *slog.Logger) centralsystem.Hooks {
	var h centralsystem.Hooks
	_, _ = tc, log
	h.Transaction = append(h.Transaction, chargeorderwf.Hook(tc, log))
	h.Transaction = append(h.Transaction, dispatchwf.Hook(tc, log))
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
func workOrderHook(tc client.Client, log *slog.Logger) (*workorderwf.Hook, error) {
	cfg, err := workorderdom.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	return workorderwf.NewHook(tc, log, cfg), nil
}

// RegisterCredit registers the enterprise chains (enterprise-recharge,
// credit-limit), the billing/<enterpriseId> cycles and their activities
// (task queue voltflow-main); mailer sends bills (nil: the local outbox).
func RegisterCredit(w worker.Registry, db *store.DB, mailer mailacts.Provider) {
	w.RegisterWorkflowWithOptions(creditwf.RechargeWorkflow, workflow.RegisterOptions{Name: creditwf.KindRecharge})
	w.RegisterWorkflowWithOptions(creditwf.LimitWorkflow, workflow.RegisterOptions{Name: creditwf.KindLimit})
	w.RegisterWorkflowWithOptions(enterprisebill.Workflow, workflow.RegisterOptions{Name: enterprisebill.Kind})
	w.RegisterActivity(&creditacts.Activities{DB: db, Mail: &mailacts.Activities{DB: db, Provider: mailer}})
}

// RegisterPayments registers online payment orders (payment/<order>) and
// their activities (task queue voltflow-main); wechat and ali ask the
// providers about late callbacks (nil: not configured).
func RegisterPayments(w worker.Registry, db *store.DB, wechat *wechatpay.Client, ali *alipay.Client) {
	w.RegisterWorkflowWithOptions(paymentwf.Workflow, workflow.RegisterOptions{Name: paymentwf.Kind})
	w.RegisterWorkflowWithOptions(paymentwf.Reconcile, workflow.RegisterOptions{Name: paymentwf.KindReconciliation})
	w.RegisterActivity(&paymentacts.Activities{DB: db, WeChat: wechat, Alipay: ali})
	// Tenant self-service: the login code's SMS (SendSMS, RegisterAlarms).
	w.RegisterWorkflowWithOptions(tenantwf.LoginCode, workflow.RegisterOptions{Name: tenantwf.KindLoginCode})
}

// RegisterArchive registers the reading archive (S5): the archive and
// restore workflows and their activities, which keep the monthly files in
// dir (task queue voltflow-main).
func RegisterArchive(w worker.Registry, db *store.DB, dir string) {
	w.RegisterWorkflowWithOptions(archivewf.Workflow, workflow.RegisterOptions{Name: archivewf.Kind})
	w.RegisterWorkflowWithOptions(archivewf.RestoreWorkflow, workflow.RegisterOptions{Name: archivewf.KindRestore})
	w.RegisterActivity(&archiveacts.Activities{DB: db, Dir: dir})
}
