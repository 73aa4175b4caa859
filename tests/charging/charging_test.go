// Package charging drives charging orders end to end: a simulated OCPP
// charge point on a real socket, the central system and its transaction
// hook, the charging/<orderId> workflow on the Temporal server and the
// worker process, PostgreSQL and the HTTP API.
package charging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/xuri/excelize/v2"

	"github.com/voltflow/voltflow/devices/chargersim"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "charging", harness.Options{Gateways: 1, MetersPerGW: 1, OCPP: true}, &stack)
}

var (
	cpOnce sync.Once
	cp     *chargersim.ChargePoint
	cpErr  error
)

// chargePoint is the demo charger …0001, connected once for the package.
func chargePoint(t *testing.T) *chargersim.ChargePoint {
	cpOnce.Do(func() {
		cp, cpErr = chargersim.Connect(context.Background(), chargersim.Config{URL: stack.OCPP.URL(),
			Password: charger.DemoPassword}, registry.DemoEquipmentIDs[0])
	})
	if cpErr != nil {
		t.Fatal(cpErr)
	}
	return cp
}

var cst = time.FixedZone("CST", 8*3600)

func at(hhmm string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-20 "+hhmm, cst)
	return t
}

type order struct {
	ID, Status, Source, EnergyKwh, Amount, Discount, ServiceFee, EnergyFee string
	CardNo                                                                 *string
	StopReason, FailureReason                                              *string
	Abnormal                                                               []string
	Periods                                                                []struct{ Period, Kwh, EnergyFee, ServiceFee string }
}

func orderOf(t *testing.T, c *harness.Client, cardNo string) (order, bool) {
	var out struct{ Items []order }
	param := "cardNo="
	if len(cardNo) == 17 {
		param = "vin="
	}
	if code := c.Do(t, http.MethodGet, "/api/v1/charging-orders?"+param+cardNo, nil, &out); code != http.StatusOK {
		t.Fatalf("GET charging-orders: %d", code)
	}
	if len(out.Items) == 0 {
		return order{}, false
	}
	return out.Items[0], true
}

func waitOrder(t *testing.T, c *harness.Client, cardNo, status string) order {
	var o order
	eventually.True(t, 60*time.Second, "order of "+cardNo+" "+status, func() (bool, string) {
		var ok bool
		o, ok = orderOf(t, c, cardNo)
		return ok && o.Status == status, fmt.Sprintf("%+v", o)
	})
	return o
}

func newCard(t *testing.T, cardNo, opening string) {
	if err := charger.IssueCard(context.Background(), stack.DB, charger.NewCard{ProjectID: stack.ProjectID,
		CardNo: cardNo, Holder: "Test " + cardNo, Opening: money.MustParse(opening)}); err != nil {
		t.Fatal(err)
	}
}

func balance(t *testing.T, c *harness.Client, cardNo string) string {
	var card struct{ Balance string }
	if code := c.Do(t, http.MethodGet, "/api/v1/cards/"+cardNo, nil, &card); code != http.StatusOK {
		t.Fatalf("GET card: %d", code)
	}
	return card.Balance
}

// TestSessionAcrossTOUBoundary charges 10:50–11:20 over the demo strategy's
// 平→峰 change at 11:00, for a customer in a group with 20 % off the service fee.
func TestSessionAcrossTOUBoundary(t *testing.T) {
	stack.CheckLedger(t)
	c := stack.Login(t, "admin", "admin")
	var customerID string
	if err := stack.DB.QueryRow(context.Background(), `select customer_id::text from cards where card_no=$1`,
		charger.DemoCard).Scan(&customerID); err != nil {
		t.Fatal(err)
	}
	var g struct{ ID string }
	if code := c.Do(t, http.MethodPost, "/api/v1/customer-groups", map[string]any{"name": "fleet", "kind": "enterprise",
		"customerIds": []string{customerID}}, &g); code != http.StatusCreated {
		t.Fatalf("POST customer-groups: %d", code)
	}
	if code := c.Do(t, http.MethodPost, "/api/v1/charging-discounts", map[string]any{"name": "fleet 20% service",
		"kind": "service_percent", "percent": "20", "groupIds": []string{g.ID},
		"stationIds": []string{registry.DemoStationID}}, nil); code != http.StatusCreated {
		t.Fatalf("POST charging-discounts: %d", code)
	}
	// Bad input changes nothing and says why.
	if code := c.Do(t, http.MethodPost, "/api/v1/charging-discounts", map[string]any{"name": "x", "kind": "half",
		"percent": "20"}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad discount: %d", code)
	}
	if got := balance(t, c, charger.DemoCard); got != "200.00" {
		t.Fatalf("opening balance %s", got)
	}

	s, err := chargePoint(t).StartSessionAt(1, charger.DemoCard, at("10:50"))
	if err != nil || s.Authorization != types.AuthorizationStatusAccepted {
		t.Fatalf("start: %v %v", s, err)
	}
	waitOrder(t, c, charger.DemoCard, "charging")
	if err := s.ChargeAt(10000, 60000, at("11:00")); err != nil {
		t.Fatal(err)
	}
	if err := s.ChargeAt(20000, 60000, at("11:20")); err != nil {
		t.Fatal(err)
	}
	if err := s.StopAt(core.ReasonLocal, at("11:20")); err != nil {
		t.Fatal(err)
	}
	o := waitOrder(t, c, charger.DemoCard, "completed")
	// By hand: 平 10 kWh × (0.70 + 0.50) = 7.00 + 5.00; 峰 20 kWh × (1.00 + 0.60) = 20.00 + 12.00.
	// Energy 27.00, service 17.00, 20 % off the service fee 3.40: 40.60.
	if o.EnergyKwh != "30.000" || o.EnergyFee != "27.00" || o.ServiceFee != "17.00" || o.Discount != "3.40" || o.Amount != "40.60" {
		t.Fatalf("order %+v", o)
	}
	want := map[string]string{"flat": "10.000", "peak": "20.000"}
	if len(o.Periods) != 2 {
		t.Fatalf("periods %+v", o.Periods)
	}
	for _, p := range o.Periods {
		if want[p.Period] != p.Kwh {
			t.Fatalf("periods %+v", o.Periods)
		}
	}
	if len(o.Abnormal) != 0 || o.StopReason == nil || *o.StopReason != "Local" {
		t.Fatalf("order %+v", o)
	}
	if got := balance(t, c, charger.DemoCard); got != "159.40" {
		t.Fatalf("balance after %s", got)
	}

	// 充电记录尖峰平谷信息 of the station over the session's hour.
	var stats struct {
		Items []struct {
			Period, EnergyFee, ServiceFee string
			Kwh                           json.Number
			Orders                        int
		}
	}
	path := "/api/v1/charging-orders/tou-stats?stationId=" + registry.DemoStationID + "&from=" +
		url.QueryEscape(at("10:30").Format(time.RFC3339)) + "&to=" + url.QueryEscape(at("11:30").Format(time.RFC3339))
	if code := c.Do(t, http.MethodGet, path, nil, &stats); code != http.StatusOK {
		t.Fatalf("tou-stats: %d", code)
	}
	got := fmt.Sprintf("%+v", stats.Items)
	if got != "[{Period:peak EnergyFee:20.00 ServiceFee:12.00 Kwh:20 Orders:1} {Period:flat EnergyFee:7.00 ServiceFee:5.00 Kwh:10 Orders:1}]" {
		t.Fatalf("tou stats %s", got)
	}
}

// TestBalanceExhaustedStops charges a card with 10.00 at 平 (1.20/kWh):
// at 12.00 of cost the order sends RemoteStop and settles the full cost.
func TestBalanceExhaustedStops(t *testing.T) {
	stack.CheckLedger(t)
	c := stack.Login(t, "admin", "admin")
	const card = "T0000010"
	newCard(t, card, "10.00")
	cp := chargePoint(t)
	s, err := cp.StartSessionAt(2, card, at("09:00"))
	if err != nil || s.Authorization != types.AuthorizationStatusAccepted {
		t.Fatalf("start: %v %v", s, err)
	}
	waitOrder(t, c, card, "charging")
	if err := s.ChargeAt(5000, 60000, at("09:05")); err != nil { // 6.00
		t.Fatal(err)
	}
	if err := s.ChargeAt(5000, 60000, at("09:10")); err != nil { // 12.00 ≥ 10.00
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := cp.WaitCommand(ctx, core.RemoteStopTransactionFeatureName); err != nil {
		t.Fatalf("no RemoteStop: %v", err)
	}
	o := waitOrder(t, c, card, "completed")
	if o.Amount != "12.00" || o.StopReason == nil || *o.StopReason != "balance_exhausted" || !slices.Contains(o.Abnormal, "overdrawn") {
		t.Fatalf("order %+v", o)
	}
	if got := balance(t, c, card); got != "-2.00" {
		t.Fatalf("balance after %s", got)
	}
}

// TestFrozenCardRefused freezes a card from the API: Authorize answers
// Blocked, and a start anyway makes a failed order with its reason.
func TestFrozenCardRefused(t *testing.T) {
	stack.CheckLedger(t)
	c := stack.Login(t, "admin", "admin")
	const card = "T0000020"
	newCard(t, card, "50.00")
	if code := c.Do(t, http.MethodPost, "/api/v1/cards/"+card+"/freeze", map[string]string{"reason": "lost"}, nil); code != http.StatusOK {
		t.Fatalf("freeze: %d", code)
	}
	cp := chargePoint(t)
	if st, err := cp.Authorize(card); err != nil || st != types.AuthorizationStatusBlocked {
		t.Fatalf("authorize frozen: %v %v", st, err)
	}
	s, err := cp.StartSessionAt(3, card, at("12:00"))
	if err != nil || s.Authorization != types.AuthorizationStatusBlocked {
		t.Fatalf("start frozen: %v %v", s, err)
	}
	o := waitOrder(t, c, card, "failed")
	if o.FailureReason == nil || *o.FailureReason != "id_tag_refused" {
		t.Fatalf("order %+v", o)
	}
	if got := balance(t, c, card); got != "50.00" {
		t.Fatalf("balance after %s", got)
	}

	// The export of failed orders carries the reason.
	code, body, ctype := c.DoRaw(t, http.MethodGet, "/api/v1/charging-orders/export?status=failed", nil)
	if code != http.StatusOK || !strings.HasPrefix(ctype, "application/vnd.openxmlformats") {
		t.Fatalf("export: %d %s", code, ctype)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("orders")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows[1:] {
		found = found || (slices.Contains(r, card) && slices.Contains(r, "id_tag_refused"))
		if !slices.Contains(r, "failed") {
			t.Fatalf("export row %v", r)
		}
	}
	if !found {
		t.Fatalf("export rows %v", rows)
	}
}

// TestAppStartAndUserStop starts from the app (RemoteStartTransaction to the
// charger), charges 1 kWh and stops from the API (RemoteStopTransaction).
func TestAppStartAndUserStop(t *testing.T) {
	stack.CheckLedger(t)
	c := stack.Login(t, "admin", "admin")
	const card = "T0000030"
	newCard(t, card, "100.00")
	cp := chargePoint(t)
	connector := registry.DemoEquipmentIDs[0] + "004"
	if code := c.Do(t, http.MethodPost, "/api/v1/charging-orders", map[string]string{"cardNo": "NOPE", "connectorId": connector}, nil); code != http.StatusConflict {
		t.Fatalf("unknown card: %d", code)
	}
	var started struct{ ID, Status, WorkflowID string }
	if code := c.Do(t, http.MethodPost, "/api/v1/charging-orders", map[string]string{"cardNo": card, "connectorId": connector}, &started); code != http.StatusAccepted {
		t.Fatalf("app start: %d", code)
	}
	if started.Status != "starting" {
		t.Fatalf("started %+v", started)
	}
	o := waitOrder(t, c, card, "charging")
	if o.ID != started.ID || o.Source != "app" {
		t.Fatalf("order %+v, started %+v", o, started)
	}
	// The station's live view shows the running order on the connector.
	var live struct {
		Connectors []struct {
			ConnectorID string
			Online      bool
			OrderID     *string
		}
	}
	if code := c.Do(t, http.MethodGet, "/api/v1/charging-stations/"+registry.DemoStationID+"/live", nil, &live); code != http.StatusOK {
		t.Fatalf("live: %d", code)
	}
	seen := false
	for _, k := range live.Connectors {
		if k.ConnectorID == connector {
			seen = k.Online && k.OrderID != nil && *k.OrderID == o.ID
		}
	}
	if !seen {
		t.Fatalf("live %+v", live)
	}
	s := cp.Session(4)
	if s == nil {
		t.Fatal("no session on connector 4")
	}
	if err := s.Charge(1000, 30000); err != nil {
		t.Fatal(err)
	}
	if code := c.Do(t, http.MethodPost, "/api/v1/charging-orders/"+o.ID+"/stop", nil, nil); code != http.StatusAccepted {
		t.Fatalf("stop: %d", code)
	}
	o = waitOrder(t, c, card, "completed")
	if o.StopReason == nil || *o.StopReason != "user" || o.EnergyKwh != "1.000" || o.Amount == "0.00" {
		t.Fatalf("order %+v", o)
	}
	paid := money.MustParse(o.Amount)
	if got := balance(t, c, card); got != money.MustParse("100.00").Sub(paid).String() {
		t.Fatalf("balance %s after paying %s", got, paid)
	}
	if code := c.Do(t, http.MethodPost, "/api/v1/charging-orders/"+o.ID+"/stop", nil, nil); code != http.StatusConflict {
		t.Fatalf("stop of a completed order: %d", code)
	}
}

// TestCardDeskAndVIN activates a card, names its holder, voids it and reads
// its history; then a vehicle's VIN starts a session on its owner's account.
func TestCardDeskAndVIN(t *testing.T) {
	stack.CheckLedger(t)
	c := stack.Login(t, "admin", "admin")
	const card = "T0000040"
	body := map[string]string{"cardNo": card, "holder": "Fleet Car 40"}
	if code := c.Do(t, http.MethodPost, "/api/v1/cards", body, nil); code != http.StatusCreated {
		t.Fatalf("activate: %d", code)
	}
	if code := c.Do(t, http.MethodPost, "/api/v1/cards", body, nil); code != http.StatusConflict {
		t.Fatalf("activate again: %d", code)
	}
	if code := c.Do(t, http.MethodPut, "/api/v1/cards/"+card+"/holder", map[string]string{"holder": "Li Lei"}, nil); code != http.StatusOK {
		t.Fatalf("holder: %d", code)
	}
	if code := c.Do(t, http.MethodPut, "/api/v1/cards/"+card+"/holder", map[string]string{"holder": ""}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("empty holder: %d", code)
	}
	if code := c.Do(t, http.MethodPost, "/api/v1/cards/"+card+"/void", map[string]string{"reason": "damaged"}, nil); code != http.StatusOK {
		t.Fatalf("void: %d", code)
	}
	if code := c.Do(t, http.MethodPost, "/api/v1/cards/"+card+"/unfreeze", nil, nil); code != http.StatusConflict {
		t.Fatalf("unfreeze void: %d", code)
	}
	var hist struct{ Items []struct{ To, Reason string } }
	if code := c.Do(t, http.MethodGet, "/api/v1/cards/"+card+"/history", nil, &hist); code != http.StatusOK {
		t.Fatalf("history: %d", code)
	}
	if got := fmt.Sprint(hist.Items); got != "[{active issued} {active holder: Li Lei} {void damaged}]" {
		t.Fatalf("history %s", got)
	}

	const owner, vin = "T0000041", "LVVDB11B0ND000001"
	newCard(t, owner, "30.00")
	if code := c.Do(t, http.MethodPost, "/api/v1/vehicles", map[string]string{"vin": "SHORT", "cardNo": owner}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad vin: %d", code)
	}
	if code := c.Do(t, http.MethodPost, "/api/v1/vehicles", map[string]string{"vin": vin, "cardNo": owner, "plate": "粤B12345"}, nil); code != http.StatusCreated {
		t.Fatalf("vehicle: %d", code)
	}
	s, err := chargePoint(t).StartSessionAt(5, vin, at("03:00"))
	if err != nil || s.Authorization != types.AuthorizationStatusAccepted {
		t.Fatalf("start by VIN: %v %v", s, err)
	}
	if err := s.ChargeAt(2000, 20000, at("03:06")); err != nil {
		t.Fatal(err)
	}
	if err := s.StopAt(core.ReasonEVDisconnected, at("03:06")); err != nil {
		t.Fatal(err)
	}
	// 谷 2 kWh × (0.30 + 0.40) = 1.40.
	o := waitOrder(t, c, vin, "completed")
	if o.Source != "vin" || o.Amount != "1.40" {
		t.Fatalf("order %+v", o)
	}
	if got := balance(t, c, owner); got != "28.60" {
		t.Fatalf("owner balance %s", got)
	}
}
