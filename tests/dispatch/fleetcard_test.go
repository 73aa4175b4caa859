package dispatch

import (
	"context"
	"testing"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store/charger"
)

// fleetCard is the buses' card: a fleet's prepaid account large enough for a
// night of charging, so the charging orders the sessions open (and stop when
// a balance runs out) never cut a bus short. The demo card's 200.00 would.
func fleetCard(t *testing.T) string {
	t.Helper()
	const no = "FLEET0001"
	if err := charger.IssueCard(context.Background(), stack.DB, charger.NewCard{ProjectID: stack.ProjectID,
		CardNo: no, Holder: "Bus fleet", Phone: "13900000099", Opening: money.MustParse("100000.00")}); err != nil {
		t.Fatal(err)
	}
	return no
}
