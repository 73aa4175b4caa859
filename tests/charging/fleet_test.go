package charging

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// TestBusRouteVehicleStats binds a vehicle to a bus route, lists and
// exports the route's vehicles and reads the vehicle's statistics after a
// VIN session of 2 kWh at 谷 (0.30 + 0.40 = 1.40).
func TestBusRouteVehicleStats(t *testing.T) {
	stack.CheckLedger(t)
	admin := stack.Login(t, "admin", "admin")
	cashier := stack.Login(t, "cashier", "cashier")
	const owner, vin = "T0000080", "LVVDB11B0ND000080"
	newCard(t, owner, "30.00")
	postOK(t, cashier, "/api/v1/vehicles", map[string]string{"vin": vin, "cardNo": owner, "plate": "粤B00080"}, http.StatusCreated, nil)
	var route struct{ ID, Code string }
	postOK(t, cashier, "/api/v1/bus-routes", map[string]string{"code": "B80", "name": "80路"}, http.StatusCreated, &route)
	if code, raw, _ := cashier.DoRaw(t, http.MethodPost, "/api/v1/bus-routes", map[string]string{"code": "B80", "name": "again"}); code != http.StatusConflict ||
		!strings.Contains(string(raw), "route_exists") {
		t.Fatalf("route twice: %d %s", code, raw)
	}
	var bound struct{ RouteCode *string }
	if code := cashier.Do(t, http.MethodPut, "/api/v1/vehicles/"+vin+"/route", map[string]string{"routeId": route.ID}, &bound); code != http.StatusOK ||
		bound.RouteCode == nil || *bound.RouteCode != "B80" {
		t.Fatalf("bind: %d %+v", code, bound)
	}
	var list struct{ Items []struct{ VIN, Plate string } }
	admin.Do(t, http.MethodGet, "/api/v1/vehicles?routeId="+route.ID, nil, &list)
	if len(list.Items) != 1 || list.Items[0].VIN != vin {
		t.Fatalf("route's vehicles %+v", list.Items)
	}
	if code, _, ctype := admin.DoRaw(t, http.MethodGet, "/api/v1/vehicles/export?routeId="+route.ID, nil); code != http.StatusOK ||
		!strings.HasPrefix(ctype, "application/vnd.openxmlformats") {
		t.Fatalf("export: %d %s", code, ctype)
	}

	s, err := chargePoint(t).StartSessionAt(11, vin, at("03:00"))
	if err != nil || s.Authorization != types.AuthorizationStatusAccepted {
		t.Fatalf("start by VIN: %v %v", s, err)
	}
	waitOrder(t, admin, vin, "charging")
	if err := s.ChargeAt(2000, 20000, at("03:06")); err != nil {
		t.Fatal(err)
	}
	if err := s.StopAt(core.ReasonEVDisconnected, at("03:06")); err != nil {
		t.Fatal(err)
	}
	waitOrder(t, admin, vin, "completed")
	var st struct {
		Orders  int
		Kwh     string
		Amount  string
		Periods []struct{ Period, Kwh, EnergyFee, ServiceFee string }
	}
	path := "/api/v1/vehicles/" + vin + "/stats?from=" + url.QueryEscape(at("00:00").Format(time.RFC3339)) +
		"&to=" + url.QueryEscape(at("23:59").Format(time.RFC3339))
	admin.Do(t, http.MethodGet, path, nil, &st)
	if got := fmt.Sprintf("%+v", st); got != "{Orders:1 Kwh:2 Amount:1.40 Periods:[{Period:valley Kwh:2 EnergyFee:0.60 ServiceFee:0.80}]}" {
		t.Fatalf("stats %s", got)
	}
}
