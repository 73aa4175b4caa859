package safety

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"

	safetydom "github.com/voltflow/voltflow/domain/safety"
	"github.com/voltflow/voltflow/store"
	safetystore "github.com/voltflow/voltflow/store/safety"
	"github.com/voltflow/voltflow/workflows/names"
)

// Observer hears the sweep's readings (activities/sweep's safety hook) and
// signals a trip to the safety workflow of each meter over its limits,
// starting the workflow on the meter's first trip.
type Observer struct {
	Client client.Client
	DB     *store.DB
	Log    *slog.Logger
	// Speed is how much faster than real time the meters' world runs
	// (VOLTFLOW_SAFETY_SPEED; a demo or test); 0 is real time.
	Speed float64
}

// ObserveSafety checks readings against their meters' limits.
func (o *Observer) ObserveSafety(ctx context.Context, obs []safetystore.Observed) error {
	cands, err := safetystore.Candidates(ctx, o.DB, obs)
	if err != nil {
		return fmt.Errorf("safety hook: %w", err)
	}
	var errs []error
	for _, c := range cands {
		reason, trip := safetydom.Check(c.Limits, c.Reading)
		if !trip {
			continue
		}
		_, err := o.Client.SignalWithStartWorkflow(ctx, WorkflowID(c.MeterNo), SignalTrip,
			Trip{Reason: reason, PowerW: c.Reading.PowerW, At: c.Reading.At},
			client.StartWorkflowOptions{TaskQueue: names.MainQueue,
				TypedSearchAttributes: names.Attributes(c.ProjectCode, Kind, c.MeterNo, string(safetydom.Normal))},
			Kind, Input{ProjectID: c.ProjectID, MeterID: c.MeterID, MeterNo: c.MeterNo, Speed: o.Speed})
		if err != nil {
			errs = append(errs, fmt.Errorf("safety hook: trip %s: %w", c.MeterNo, err))
		}
	}
	return errors.Join(errs...)
}
