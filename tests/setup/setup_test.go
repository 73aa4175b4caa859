package setup

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/tests/harness"
)

// created is the part of a 201 answer the test needs.
type created struct {
	ID string `json:"id"`
}

// post sends body and fails the test unless the answer is want.
func post(t *testing.T, c *harness.Client, path string, body any, want int) created {
	t.Helper()
	var out created
	if code := c.Do(t, "POST", path, body, &out); code != want {
		t.Fatalf("POST %s: status %d, want %d", path, code, want)
	}
	return out
}

func demoUsernames() []string {
	var names []string
	for _, o := range demo.Defaults().Operators {
		names = append(names, o.Username)
	}
	return names
}

// TestSetUpFromNothing: the CLI creates the first administrator; through
// HTTP only it builds a project with two buildings, a unit in each, a
// customer, a cashier scoped to building A and a gateway on a Modbus server
// started here; the cashier opens an account on building A's meter and
// sells 100.00 to it, which the meter takes; building B's meter is 404 to
// that cashier. Run twice in one process (-count=2), every code is new.
func TestSetUpFromNothing(t *testing.T) {
	stack.CheckLedger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := fmt.Sprint(time.Now().UnixNano() % 1e9)
	admin, password := "root"+run, "Correct-Horse-"+run

	var demoOperators int
	if err := stack.DB.QueryRow(ctx, `select count(*) from operators where username = any($1)`, demoUsernames()).Scan(&demoOperators); err != nil {
		t.Fatal(err)
	}
	if demoOperators != 0 {
		t.Fatalf("%d demo operators in a production start", demoOperators)
	}
	if _, err := stack.CLI(ctx, password+"\n", "admin", "create", "--username", admin); err != nil {
		t.Fatal(err)
	}
	c := stack.Login(t, admin, password)

	org := "ORG" + run
	post(t, c, "/api/v1/organisations", map[string]string{"code": org, "name": "Harbour Property"}, http.StatusCreated)
	project := "P" + run
	post(t, c, "/api/v1/projects", map[string]string{"code": project, "name": "Harbour Towers", "organisation": org}, http.StatusCreated)
	p := "/api/v1/projects/" + project
	buildingA := post(t, c, p+"/sites", map[string]any{"name": "Building A", "level": 1}, http.StatusCreated)
	floorA := post(t, c, p+"/sites", map[string]any{"name": "Floor 3", "level": 2, "parentId": buildingA.ID}, http.StatusCreated)
	buildingB := post(t, c, p+"/sites", map[string]any{"name": "Building B", "level": 1}, http.StatusCreated)
	unitA := post(t, c, p+"/units", map[string]string{"code": "A-301", "name": "A 301", "siteId": floorA.ID}, http.StatusCreated)
	unitB := post(t, c, p+"/units", map[string]string{"code": "B-101", "name": "B 101", "siteId": buildingB.ID}, http.StatusCreated)
	tenant := post(t, c, p+"/customers", map[string]string{"name": "Li Wei", "phone": "13800138000", "kind": "person"}, http.StatusCreated)

	cashier, cashierPassword := "desk"+run, "Service-Desk-"+run
	post(t, c, "/api/v1/operators", map[string]string{"username": cashier, "password": cashierPassword}, http.StatusCreated)
	post(t, c, "/api/v1/operators/"+cashier+"/roles",
		map[string]any{"project": project, "role": "cashier", "siteIds": []string{buildingA.ID}}, http.StatusCreated)

	fleet, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Gateways: 1, Meters: 2,
		Meter: simulator.MeterConfig{Remaining: 5000, UnitPrice: 12000, Alarm1: 2000, Alarm2: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Stop() })
	meterA, meterB := "A"+run, "B"+run
	csv := "meter_no,gateway,gateway_address,protocol,unit_address,profile,price\n" +
		meterA + ",GW" + run + "," + fleet.Gateway(0).Addr() + ",modbus-tcp,1,ref-prepaid-v1,1.2\n" +
		meterB + ",GW" + run + ",,,2,ref-prepaid-v1,1.2\n"
	if code, body, _ := c.DoHeaders(t, "POST", p+"/meter-imports", csv, map[string]string{"Content-Type": "text/csv"}); code != http.StatusCreated {
		t.Fatalf("meter import: status %d: %s", code, body)
	}
	// Building B's meter goes to a tenant of building B, opened by the admin.
	post(t, c, p+"/accounts", map[string]any{"customerId": tenant.ID, "unitId": unitB.ID, "meters": []string{meterB}}, http.StatusCreated)

	desk := stack.Login(t, cashier, cashierPassword)
	// The cashier of building A opens no account on building B's unit or meter.
	post(t, desk, p+"/accounts", map[string]any{"customerId": tenant.ID, "unitId": unitB.ID, "meters": []string{meterA}},
		http.StatusUnprocessableEntity)
	post(t, desk, p+"/accounts", map[string]any{"customerId": tenant.ID, "unitId": unitA.ID, "meters": []string{meterB}},
		http.StatusUnprocessableEntity)
	post(t, desk, p+"/accounts", map[string]any{"customerId": tenant.ID, "unitId": unitA.ID, "meters": []string{meterA}}, http.StatusCreated)

	if code := desk.Do(t, "GET", "/api/v1/meters/"+meterA, nil, nil); code != http.StatusOK {
		t.Fatalf("cashier of building A reads its meter %s: status %d", meterA, code)
	}
	if code := desk.Do(t, "GET", "/api/v1/meters/"+meterB, nil, nil); code != http.StatusNotFound {
		t.Fatalf("cashier of building A reads building B's meter %s: status %d, want 404", meterB, code)
	}

	sim := fleet.Gateway(0).Meter(1)
	before := sim.State()
	var sale struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	body := fmt.Sprintf(`{"meterNo":%q,"amount":"100.00","transactionNo":"T%s"}`, meterA, run)
	if code := desk.Do(t, "POST", "/api/v1/recharges", body, &sale); code != http.StatusAccepted {
		t.Fatalf("sell 100.00 on %s: status %d", meterA, code)
	}
	eventually.True(t, 60*time.Second, "the sale completes", func() (bool, string) {
		desk.Do(t, "GET", "/api/v1/recharges/"+sale.ID, nil, &sale)
		return sale.Status == "completed", sale.Status
	})
	after := sim.State()
	if after.Remaining-before.Remaining != 10000 || after.PurchaseCount != before.PurchaseCount+1 {
		t.Fatalf("meter %s: remaining %d→%d, counter %d→%d; want +10000 cents and +1", meterA,
			before.Remaining, after.Remaining, before.PurchaseCount, after.PurchaseCount)
	}
	if other := fleet.Gateway(0).Meter(2).State(); other.PurchaseCount != 0 {
		t.Fatalf("building B's meter took %d purchases", other.PurchaseCount)
	}
	body = fmt.Sprintf(`{"meterNo":%q,"amount":"100.00","transactionNo":"U%s"}`, meterB, run)
	if code := desk.Do(t, "POST", "/api/v1/recharges", body, nil); code != http.StatusNotFound {
		t.Fatalf("cashier of building A sells on building B's meter: status %d, want 404", code)
	}
}
