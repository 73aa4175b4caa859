package meterimport

import (
	"context"

	meterimportdom "github.com/voltflow/voltflow/domain/meterimport"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/organisation"
)

// ApplySheet is a whole sheet's import, as the API takes it and the demo
// loader builds it in memory: the heading is read with the project's
// defaults for new meters (Defaults), then the rows are applied (Apply).
// A bad heading is the sheet's problems, and nothing is stored.
func ApplySheet(ctx context.Context, db *store.DB, projectID string, heading []string, knownProfile func(string) bool,
	next func() ([]string, bool, error), dryRun bool) (Result, Problems, error) {
	defaults, err := Defaults(ctx, db, projectID)
	if err != nil {
		return Result{}, Problems{}, err
	}
	cols, bad := meterimportdom.ReadHeadingWith(heading, knownProfile, defaults)
	if len(bad) > 0 {
		return Result{}, Problems{Count: len(bad), List: bad}, nil
	}
	return Apply(ctx, db, projectID, cols, next, dryRun)
}

// Defaults are the project's settings for new meters (S4): they fill a
// sheet's empty price and alarm cells.
func Defaults(ctx context.Context, db *store.DB, projectID string) (meterimportdom.Defaults, error) {
	st, err := organisation.ProjectSettings(ctx, db, projectID)
	if err != nil {
		return meterimportdom.Defaults{}, err
	}
	d := meterimportdom.Defaults{Alarm1: st.Alarm1.Decimal(), Alarm2: st.Alarm2.Decimal()}
	if st.DefaultPrice != nil {
		p := st.DefaultPrice.Decimal()
		d.Price = &p
	}
	return d, nil
}
