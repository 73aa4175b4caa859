package chargeorder_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/voltflow/voltflow/domain/chargeprice"
	"github.com/voltflow/voltflow/interconnect/registry"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// TestDemoMembersDiscount: the demo card's customer is in "Demo members",
// whose discount takes 10 % off the service fee of a session at the demo
// station; loading the demo again adds nothing.
func TestDemoMembersDiscount(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.GatewayPorts, o.BcryptCost = 1, []int{15020}, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := charger.LoadDemo(ctx, db, p.ProjectID); err != nil {
			t.Fatal(err)
		}
	}
	var customerID string
	if err := db.QueryRow(ctx, `select customer_id::text from cards where card_no=$1`, charger.DemoCard).Scan(&customerID); err != nil {
		t.Fatal(err)
	}
	groups, err := chargeorderstore.ListGroups(ctx, db, []string{p.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	var groupID string
	for _, g := range groups {
		if g.Name == chargeorderstore.DemoGroup && slices.Equal(g.Customers, []string{customerID}) {
			groupID = g.ID
		}
	}
	if len(groups) != 1 || groupID == "" {
		t.Fatalf("groups %+v, want one %q with the demo card's customer %s", groups, chargeorderstore.DemoGroup, customerID)
	}
	rows, err := db.Query(ctx, `select spec from charging_discounts where project_id=$1`, p.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	var discounts []chargeprice.Discount
	for rows.Next() {
		var spec []byte
		var d chargeprice.Discount
		if err := rows.Scan(&spec); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(spec, &d); err != nil {
			t.Fatal(err)
		}
		discounts = append(discounts, d)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(discounts) != 1 {
		t.Fatalf("discounts %+v, want one", discounts)
	}
	// 10 kWh at 平 (08:00–11:00): 7.00 energy + 5.00 service, 10 % off the service: 0.50.
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	session := chargeprice.Session{StationID: registry.DemoStationID, EquipmentID: registry.DemoEquipmentIDs[0],
		Samples:   []chargeprice.Sample{{At: at, Wh: 0}, {At: at.Add(30 * time.Minute), Wh: 10000}},
		Discounts: discounts}
	for _, tc := range []struct {
		groups []string
		want   string
	}{{[]string{groupID}, "11.50"}, {nil, "12.00"}} {
		session.Groups = tc.groups
		priced, err := chargeprice.Price(chargeprice.DemoVersion(), session)
		if err != nil {
			t.Fatal(err)
		}
		if priced.Total.String() != tc.want {
			t.Errorf("groups %v: total %s (discount %s), want %s", tc.groups, priced.Total, priced.DiscountAmount, tc.want)
		}
	}
}
