// Package workflows registers every workflow and activity with a worker: the
// one place that says what runs where.
package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/activities/inbox"
	"github.com/voltflow/voltflow/activities/meters"
	rechargeacts "github.com/voltflow/voltflow/activities/recharge"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/workflows/recharge"
)

// RegisterMain registers business workflows and their database activities
// (task queue voltflow-main).
func RegisterMain(w worker.Registry, db *store.DB) {
	w.RegisterWorkflowWithOptions(recharge.Workflow, workflow.RegisterOptions{Name: recharge.Kind})
	w.RegisterActivity(&rechargeacts.Activities{DB: db})
	w.RegisterActivity(&inbox.Activities{DB: db})
}

// RegisterDevices registers device I/O activities (task queue voltflow-devices).
func RegisterDevices(w worker.Registry, db *store.DB, gateways *meters.Gateways) {
	w.RegisterActivity(&meters.Activities{DB: db, Gateways: gateways})
}
