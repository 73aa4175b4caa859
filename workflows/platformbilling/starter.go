// Package platformbilling connects platform-side billing (activities/platformbilling) to
// Temporal: the switch-off and switch-on commands billing decides run as
// ordinary meter-command/<id> workflows, the same path an operator's
// command takes (logged, retried for the dispatch window, re-dispatchable).
package platformbilling

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	platformbillingstore "github.com/voltflow/voltflow/store/platformbilling"
	metercmdwf "github.com/voltflow/voltflow/workflows/metercmd"
	"github.com/voltflow/voltflow/workflows/names"
)

// Starter starts billing's switch commands (activities/platformbilling.Switcher).
type Starter struct {
	Client client.Client
	// DispatchWindow is passed to the commands (0: the workflow's default).
	DispatchWindow time.Duration
}

// StartSwitch starts the command's workflow; one started before (a
// retried billing pass) is left as it is.
func (s *Starter) StartSwitch(ctx context.Context, sw platformbillingstore.Switch) error {
	if sw.WorkflowID != metercmdwf.CommandWorkflowID(sw.CommandID) {
		return fmt.Errorf("switch %s: workflow id %s is not the command's", sw.CommandID, sw.WorkflowID)
	}
	err := names.StartOnce(ctx, s.Client, sw.WorkflowID, metercmdwf.KindCommand,
		names.Attributes(sw.ProjectCode, metercmdwf.KindCommand, sw.MeterNo, string(metercmddom.Pending)),
		metercmdwf.CommandInput{CommandID: sw.CommandID, ProjectID: sw.ProjectID,
			MeterID: sw.MeterID, MeterNo: sw.MeterNo, Command: sw.Command, DispatchWindow: s.DispatchWindow})
	if err != nil {
		return fmt.Errorf("start %s: %w", sw.WorkflowID, err)
	}
	return nil
}

// ActivityStarter is a Starter on the Temporal client of the worker running
// the calling activity (activity.GetClient), for activities registered
// where no client is at hand (RegisterMain): the property fees' arrears
// cut-off and the fee hold's switch-on after a meter-side recharge.
type ActivityStarter struct{}

// StartSwitch starts the command's workflow as Starter does.
func (ActivityStarter) StartSwitch(ctx context.Context, sw platformbillingstore.Switch) error {
	return (&Starter{Client: activity.GetClient(ctx)}).StartSwitch(ctx, sw)
}
