// Package commonarea runs a period's common-area (公摊) allocation through
// store/commonarea on the main queue; it is idempotent (a meter allocated
// for the period before books nothing again).
package commonarea

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/store"
	commonareastore "github.com/voltflow/voltflow/store/commonarea"
)

// ErrRefused is the application error type of an allocation that retrying
// cannot fix (no reading at a bound, no unit with a weight, a unit without
// a meter to pay): the workflow fails with it.
const ErrRefused = "common_area_refused"

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// The inputs live in store/commonarea, so workflows build them without
// importing this package.
type (
	AllocateInput  = commonareastore.AllocateInput
	AllocateResult = commonareastore.AllocateResult
)

// AllocateCommonArea allocates the project's common-area meters for the period.
func (a *Activities) AllocateCommonArea(ctx context.Context, in AllocateInput) (AllocateResult, error) {
	out, err := commonareastore.Allocate(ctx, a.DB, in)
	if errors.Is(err, commonareastore.ErrInvalid) || errors.Is(err, commonareastore.ErrNoReading) {
		return out, temporal.NewNonRetryableApplicationError(err.Error(), ErrRefused, err)
	}
	return out, err
}
