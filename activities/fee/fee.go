// Package fee is the Temporal adapter of property fees (M13): it lists the
// fees due on a day and books them through store/fee, each once.
package fee

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/voltflow/voltflow/store"
	feestore "github.com/voltflow/voltflow/store/fee"
)

// Inputs and results live in store/fee, so workflows build them without
// importing this package.
type (
	DueInput    = feestore.DueInput
	DueResult   = feestore.DueResult
	BookInput   = feestore.BookInput
	Booked      = feestore.Booked
	BatchInput  = feestore.BatchInput
	BatchResult = feestore.BatchResult
)

// Switcher starts the meter-command workflow of a fee hold's switch-off
// (workflows/platformbilling, as billing's); starting one twice is harmless.
type Switcher interface {
	StartSwitch(ctx context.Context, s feestore.Switch) error
}

// Activities run on the main queue.
type Activities struct {
	DB *store.DB
	// Switch starts the switch-offs of fees in arrears on projects with the
	// cut-off rule (nil: recorded, not started — unit tests).
	Switch Switcher
	// PerFee is a pause before each fee: zero in production; the crash test
	// sets it so a run is still booking when its worker is killed.
	PerFee time.Duration
}

// DueFees lists the fees due on the day and not booked yet.
func (a *Activities) DueFees(ctx context.Context, in DueInput) (DueResult, error) {
	return feestore.ListDue(ctx, a.DB, in)
}

// BookFees books a batch of due fees, each in its own transaction and
// each once: a retry after a crash finds what the first try committed and
// books only the rest. It heartbeats per fee.
func (a *Activities) BookFees(ctx context.Context, in BatchInput) (BatchResult, error) {
	var out BatchResult
	for _, d := range in.Fees {
		if a.PerFee > 0 {
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(a.PerFee):
			}
		}
		b, err := feestore.Book(ctx, a.DB, feestore.BookInput{ProjectID: in.ProjectID, ScheduleID: d.ScheduleID,
			UnitID: d.UnitID, Day: in.Day})
		if err != nil {
			return out, err
		}
		// The fee and its switch-off committed together; a failed start
		// fails the batch, whose retry finds the command pending and starts it.
		if b.Switch != nil && a.Switch != nil {
			if err := a.Switch.StartSwitch(ctx, *b.Switch); err != nil {
				return out, fmt.Errorf("start fee cut-off of meter %s: %w", b.MeterNo, err)
			}
		}
		out.Booked = append(out.Booked, b)
		activity.RecordHeartbeat(ctx, len(out.Booked))
	}
	return out, nil
}
