package names

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// CreateSchedule creates a Temporal Schedule unless one with its ID exists:
// every process that starts asks, and the first one wins; an existing
// Schedule is left as it is.
func CreateSchedule(ctx context.Context, tc client.Client, o client.ScheduleOptions) error {
	if _, err := tc.ScheduleClient().Create(ctx, o); err != nil && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", o.ID, err)
	}
	return nil
}
