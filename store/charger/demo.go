package charger

import (
	"context"
	"fmt"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
)

// Demo values (contracts.md, "Charging").
const (
	DemoPassword = "demo-secret"
	DemoCard     = "D0000001"
)

// DemoOpening is the prepaid balance of the demo card.
var DemoOpening = money.MustParse("200.00")

// LoadDemo allow-lists the demo chargers (registry.LoadDemo must have run)
// with password demo-secret and issues card D0000001 with 200.00 to a demo
// customer of the project, in the group "Demo members" with 10 % off the
// service fee at the demo station. Safe on every start: what exists is kept (the
// chargers' passwords are reset to the demo one).
func LoadDemo(ctx context.Context, db *store.DB, projectID string) error {
	for _, id := range registry.DemoEquipmentIDs {
		if err := Enroll(ctx, db, id, projectID, DemoPassword); err != nil {
			return err
		}
	}
	if err := IssueCard(ctx, db, NewCard{ProjectID: projectID, CardNo: DemoCard, Holder: "Demo Driver",
		Phone: "13900000001", Opening: DemoOpening}); err != nil {
		return fmt.Errorf("demo card: %w", err)
	}
	if err := chargeorderstore.LoadDemo(ctx, db, projectID); err != nil {
		return fmt.Errorf("demo pricing: %w", err)
	}
	if err := chargeorderstore.LoadDemoMembers(ctx, db, projectID, DemoCard); err != nil {
		return fmt.Errorf("demo members: %w", err)
	}
	return nil
}
