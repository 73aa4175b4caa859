// Package network tests the charging network set-up end to end (issue 19,
// C1 and charger onboarding): through HTTP only, an admin builds a station
// with a 12-connector split charger and registers its charge point; a
// third-party OCPP 1.6J client (lorenzodonini/ocpp-go, not Voltflow's
// charger simulator) connects with the generated password; pausing a
// connector refuses starts from the API and from the charger; the
// regulator simulator hears notification_stationInfo for every change.
package network

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ws"
	"go.temporal.io/sdk/worker"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/regclient"
	"github.com/voltflow/voltflow/interconnect/regsim"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/tests/harness"
	"github.com/voltflow/voltflow/workflows"
	"github.com/voltflow/voltflow/workflows/names"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "network", harness.Options{Gateways: 1, MetersPerGW: 1, OCPP: true}, &stack)
}

// regulator runs the regulator simulator and the pump pushing to it (an
// in-process interconnect worker, as tests/regulator does).
func regulator(t *testing.T) *regsim.Sim {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ks := &keys.Store{DB: stack.DB, Key: mk}
	if err := ks.EnsureDev(ctx, push.DefaultRegulator); err != nil {
		t.Fatal(err)
	}
	sim, err := regsim.Start(regsim.Config{Addr: "127.0.0.1:0", Secrets: keys.DevSecrets(), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	client := &regclient.Client{BaseURL: sim.URL(), Secrets: func(ctx context.Context) (envelope.Secrets, error) {
		return ks.Current(ctx, push.DefaultRegulator)
	}}
	w := worker.New(stack.Temporal, names.InterconnectQueue, worker.Options{})
	workflows.RegisterInterconnect(w, &push.Activities{DB: stack.DB, Client: client, Regulator: push.DefaultRegulator})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	starter := &push.Starter{Temporal: stack.Temporal, Project: "demo",
		Input: push.Input{Cadence: 5 * time.Second, RetryMaxInterval: time.Second}}
	if err := starter.StartPump(ctx); err != nil {
		t.Fatal(err)
	}
	return sim
}

// stationInfos are the notification_stationInfo messages the simulator
// received for station, in arrival order.
func stationInfos(t *testing.T, sim *regsim.Sim, station string) []push.StationInfoPayload {
	t.Helper()
	var out []push.StationInfoPayload
	for _, r := range sim.Received(push.NotificationStationInfo) {
		var p push.StationInfoPayload
		if err := json.Unmarshal(r.Data, &p); err != nil {
			t.Fatal(err)
		}
		if p.StationInfo.StationID == station {
			out = append(out, p)
		}
	}
	return out
}

// chargePoint is what the third-party client answers the central system.
type chargePoint struct{}

func (chargePoint) OnChangeAvailability(*core.ChangeAvailabilityRequest) (*core.ChangeAvailabilityConfirmation, error) {
	return core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusAccepted), nil
}
func (chargePoint) OnChangeConfiguration(*core.ChangeConfigurationRequest) (*core.ChangeConfigurationConfirmation, error) {
	return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusAccepted), nil
}
func (chargePoint) OnClearCache(*core.ClearCacheRequest) (*core.ClearCacheConfirmation, error) {
	return core.NewClearCacheConfirmation(core.ClearCacheStatusAccepted), nil
}
func (chargePoint) OnDataTransfer(*core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	return core.NewDataTransferConfirmation(core.DataTransferStatusRejected), nil
}
func (chargePoint) OnGetConfiguration(*core.GetConfigurationRequest) (*core.GetConfigurationConfirmation, error) {
	return core.NewGetConfigurationConfirmation(nil), nil
}
func (chargePoint) OnRemoteStartTransaction(*core.RemoteStartTransactionRequest) (*core.RemoteStartTransactionConfirmation, error) {
	return core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted), nil
}
func (chargePoint) OnRemoteStopTransaction(*core.RemoteStopTransactionRequest) (*core.RemoteStopTransactionConfirmation, error) {
	return core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusAccepted), nil
}
func (chargePoint) OnReset(*core.ResetRequest) (*core.ResetConfirmation, error) {
	return core.NewResetConfirmation(core.ResetStatusAccepted), nil
}
func (chargePoint) OnUnlockConnector(*core.UnlockConnectorRequest) (*core.UnlockConnectorConfirmation, error) {
	return core.NewUnlockConnectorConfirmation(core.UnlockStatusUnlocked), nil
}

// connect dials the central system as id with password using ocpp-go's
// charge point; the handshake's refusal is the error.
func connect(t *testing.T, id, password string) (ocpp16.ChargePoint, error) {
	t.Helper()
	client := ws.NewClient()
	client.SetBasicAuth(id, password)
	cp := ocpp16.NewChargePoint(id, nil, client)
	cp.SetCoreHandler(chargePoint{})
	if err := cp.Start(strings.TrimSuffix(stack.OCPP.URL(), "/")); err != nil {
		return nil, err
	}
	t.Cleanup(cp.Stop)
	return cp, nil
}

type problem struct {
	Code  string `json:"code"`
	Field string `json:"field"`
}

type connectorView struct {
	ConnectorID string `json:"connectorId"`
	Paused      bool   `json:"paused"`
	QRCode      string `json:"qrCode"`
	StationID   string `json:"stationId"`
}

func TestSetUpAStationAndOnboardItsCharger(t *testing.T) {
	sim := regulator(t)
	admin := stack.Login(t, "admin", "admin")
	const station = "44030000000000000777"
	const equipment = "4403000000000000000777"

	// 1. The station, then its 12-connector split charger.
	var st struct {
		StationID  string `json:"stationId"`
		OperatorID string `json:"operatorId"`
		Paused     bool   `json:"paused"`
	}
	if code := admin.Do(t, "POST", "/api/v1/projects/demo/charging-stations", map[string]any{
		"stationId": station, "stationName": "Network Test Station", "areaCode": "440305",
		"address": "Keyuan Road 1, Nanshan, Shenzhen", "serviceTel": "400-000-0001", "stationType": 1,
		"stationStatus": 50, "parkNums": 12, "stationLng": 113.947, "stationLat": 22.540, "construction": 9,
		"busineHours": "00:00-24:00", "parkFee": "2 h free", "pictures": []string{"https://example.com/s.jpg"},
	}, &st); code != 201 || st.StationID != station || st.OperatorID != "123456789" {
		t.Fatalf("create station: %d %+v", code, st)
	}
	var conns []map[string]any
	for k := 1; k <= 12; k++ {
		conns = append(conns, map[string]any{"connectorId": fmt.Sprintf("%s%03d", equipment, k), "connectorType": 4,
			"voltageUpperLimits": 1000, "voltageLowerLimits": 200, "current": 250, "power": 40})
	}
	var eq struct {
		EquipmentID    string          `json:"equipmentId"`
		ConnectorInfos []connectorView `json:"connectorInfos"`
	}
	if code := admin.Do(t, "POST", "/api/v1/charging-stations/"+station+"/equipment", map[string]any{
		"equipmentId": equipment, "equipmentType": 1, "power": 480, "equipmentModel": "SPLIT-480",
		"manufacturerName": "Third Party Power", "connectorInfos": conns,
	}, &eq); code != 201 || len(eq.ConnectorInfos) != 12 {
		t.Fatalf("create equipment: %d %+v", code, eq)
	}
	if want := "hlht://" + equipment + "001.123456789/"; eq.ConnectorInfos[0].QRCode != want {
		t.Fatalf("qr code %q, want %q", eq.ConnectorInfos[0].QRCode, want)
	}
	eventually.True(t, 30*time.Second, "station info with the charger reaches the regulator", func() (bool, string) {
		got := stationInfos(t, sim, station)
		for _, p := range got {
			if len(p.StationInfo.EquipmentInfos) == 1 && len(p.StationInfo.EquipmentInfos[0].ConnectorInfos) == 12 {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d station infos", len(got))
	})

	// Its concentrator (集控器), the charger at CAN address 1; a charger is
	// behind one concentrator only.
	var jk struct {
		Code     string `json:"code"`
		Chargers []struct {
			EquipmentID string `json:"equipmentId"`
			CANAddress  int    `json:"canAddress"`
		} `json:"chargers"`
	}
	slot := []map[string]any{{"equipmentId": equipment, "canAddress": 1}}
	if code := admin.Do(t, "POST", "/api/v1/charging-stations/"+station+"/concentrators", map[string]any{
		"code": "JK-01", "name": "Cabinet A", "chargers": slot}, &jk); code != 201 || len(jk.Chargers) != 1 || jk.Chargers[0].CANAddress != 1 {
		t.Fatalf("concentrator: %d %+v", code, jk)
	}
	var pb problem
	if code := admin.Do(t, "POST", "/api/v1/charging-stations/"+station+"/concentrators", map[string]any{
		"code": "JK-02", "chargers": slot}, &pb); code != 422 || pb.Field != "chargers[0].equipmentId" {
		t.Fatalf("second concentrator with the same charger: %d %+v", code, pb)
	}

	// 2. Its charge point: a password shown once.
	var secret struct {
		ChargePointID string `json:"chargePointId"`
		Password      string `json:"password"`
	}
	if code := admin.Do(t, "POST", "/api/v1/projects/demo/charge-points", map[string]any{
		"chargePointId": equipment, "equipmentId": equipment, "protocol": "ocpp1.6j",
	}, &secret); code != 201 || secret.Password == "" || secret.Password == charger.DemoPassword {
		t.Fatalf("register: %d %+v", code, secret)
	}
	if code := admin.Do(t, "POST", "/api/v1/projects/demo/charge-points", map[string]any{"chargePointId": equipment}, &pb); code != 409 || pb.Code != "charge_point_exists" {
		t.Fatalf("register again: %d %+v", code, pb)
	}

	// 3. Unknown ids and wrong passwords are refused at the handshake.
	if _, err := connect(t, "4403000000000000009999", secret.Password); err == nil {
		t.Fatal("an unknown charge point connected")
	}
	if _, err := connect(t, equipment, secret.Password+"x"); err == nil {
		t.Fatal("a wrong password connected")
	}
	cp, err := connect(t, equipment, secret.Password)
	if err != nil {
		t.Fatalf("connect with the generated password: %v", err)
	}
	boot, err := cp.BootNotification("SPLIT-480", "Third Party Power")
	if err != nil || boot.Status != core.RegistrationStatusAccepted {
		t.Fatalf("boot: %+v %v", boot, err)
	}
	for k := 1; k <= 12; k++ {
		if _, err := cp.StatusNotification(k, core.NoError, core.ChargePointStatusAvailable); err != nil {
			t.Fatal(err)
		}
	}

	// 4. Pause connector 003: the regulator hears of it, starts are refused.
	paused := equipment + "003"
	before := len(stationInfos(t, sim, station))
	var cv connectorView
	if code := admin.Do(t, "POST", "/api/v1/charging-connectors/"+paused+"/pause", nil, &cv); code != 200 || !cv.Paused || cv.StationID != station {
		t.Fatalf("pause: %d %+v", code, cv)
	}
	eventually.True(t, 30*time.Second, "station info after the pause", func() (bool, string) {
		n := len(stationInfos(t, sim, station))
		return n > before, fmt.Sprintf("%d station infos, %d before", n, before)
	})
	if code := admin.Do(t, "POST", "/api/v1/charging-orders", map[string]any{"cardNo": charger.DemoCard, "connectorId": paused}, &pb); code != 409 || pb.Code != "connector_paused" {
		t.Fatalf("app start on a paused connector: %d %+v", code, pb)
	}
	if code := admin.Do(t, "POST", "/api/v1/dispatch/commands", map[string]any{"command": "start", "connectorId": paused, "idTag": charger.DemoCard}, &pb); code != 409 || pb.Code != "connector_paused" {
		t.Fatalf("dispatch start on a paused connector: %d %+v", code, pb)
	}
	// OCPP 1.6 Authorize names no connector: the card is fine. The
	// StartTransaction on the paused connector is what is refused.
	auth, err := cp.Authorize(charger.DemoCard)
	if err != nil || auth.IdTagInfo.Status != types.AuthorizationStatusAccepted {
		t.Fatalf("authorize: %+v %v", auth, err)
	}
	start, err := cp.StartTransaction(3, charger.DemoCard, 0, types.NewDateTime(time.Now()))
	if err != nil || start.IdTagInfo.Status != types.AuthorizationStatusBlocked {
		t.Fatalf("start on a paused connector: %+v %v", start, err)
	}

	// 5. Start it again and change the station: each change is pushed.
	before = len(stationInfos(t, sim, station))
	if code := admin.Do(t, "POST", "/api/v1/charging-connectors/"+paused+"/start", nil, &cv); code != 200 || cv.Paused {
		t.Fatalf("start: %d %+v", code, cv)
	}
	if code := admin.Do(t, "PATCH", "/api/v1/charging-stations/"+station, map[string]any{"parkNums": 10, "stationName": "Network Test Station B"}, &st); code != 200 {
		t.Fatalf("patch station: %d", code)
	}
	eventually.True(t, 30*time.Second, "station info after the restart and the change", func() (bool, string) {
		got := stationInfos(t, sim, station)
		last := got[len(got)-1].StationInfo
		return len(got) >= before+2 && last.StationName == "Network Test Station B" && last.ParkNums == 10,
			fmt.Sprintf("%d station infos, %d before, last %q", len(got), before, last.StationName)
	})

	// Only the project's admins change the network or its chargers.
	cashier := stack.Login(t, "cashier", "cashier")
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/v1/charging-connectors/" + paused + "/pause"},
		{"POST", "/api/v1/projects/demo/charge-points/" + equipment + "/password"},
	} {
		if code := cashier.Do(t, c.method, c.path, nil, &pb); code != 403 || pb.Code != "forbidden" {
			t.Fatalf("cashier %s %s: %d %+v", c.method, c.path, code, pb)
		}
	}

	// 6. Rotating the password: the old one stops working.
	old := secret.Password
	if code := admin.Do(t, "POST", "/api/v1/projects/demo/charge-points/"+equipment+"/password", nil, &secret); code != 200 || secret.Password == old {
		t.Fatalf("rotate: %d", code)
	}
	if _, err := connect(t, equipment, old); err == nil {
		t.Fatal("the old password still connects")
	}
}
