// Package workflows registers every workflow and activity with a worker: the
// one place that says what runs where.
package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/activities/inbox"
	metercmdacts "github.com/voltflow/voltflow/activities/metercmd"
	"github.com/voltflow/voltflow/activities/meters"
	rechargeacts "github.com/voltflow/voltflow/activities/recharge"
	refundacts "github.com/voltflow/voltflow/activities/refund"
	sweepacts "github.com/voltflow/voltflow/activities/sweep"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/workflows/metercmd"
	"github.com/voltflow/voltflow/workflows/recharge"
	"github.com/voltflow/voltflow/workflows/refund"
	"github.com/voltflow/voltflow/workflows/sweep"
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
}

// RegisterDevices registers device I/O activities (task queue voltflow-devices).
func RegisterDevices(w worker.Registry, db *store.DB, gateways *meters.Gateways) {
	w.RegisterActivity(&meters.Activities{DB: db, Gateways: gateways})
	w.RegisterActivity(&sweepacts.Activities{DB: db, Gateways: gateways})
	w.RegisterActivity(&metercmdacts.Devices{DB: db, Gateways: gateways})
}

// RegisterInterconnect registers the regulator exchange (task queue
// voltflow-interconnect): the regulator-push/<station> workflow and its
// activities.
func RegisterInterconnect(w worker.Registry, acts *push.Activities) {
	w.RegisterWorkflowWithOptions(push.Workflow, workflow.RegisterOptions{Name: push.Kind})
	w.RegisterActivity(acts)
}
