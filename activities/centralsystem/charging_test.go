package centralsystem_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/voltflow/voltflow/activities/centralsystem"
	"github.com/voltflow/voltflow/devices/chargersim"
	"github.com/voltflow/voltflow/devices/ocpp"
	"github.com/voltflow/voltflow/domain/card"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

const (
	cp1 = "4403000000000000000001"
	cp2 = "4403000000000000000002"
)

// env is a migrated database with the charging demo and a central system on
// a free port, answering from it.
type env struct {
	db        *store.DB
	projectID string
	srv       *ocpp.Server
	log       *centralsystem.MessageLog
	interval  time.Duration
	grace     time.Duration
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := setupDB(t)
	var err error
	e.log = centralsystem.NewMessageLog(ctx, e.db, nil)
	e.srv, err = ocpp.Listen(ctx, ocpp.Options{Addr: "127.0.0.1:0", HeartbeatInterval: e.interval, Grace: e.grace,
		CallTimeout: 5 * time.Second, Handler: &centralsystem.Service{DB: e.db}, Frames: e.log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.srv.Close(); e.log.Close() })
	return e
}

// setupDB is the database of setup, without a central system.
func setupDB(t testing.TB) *env {
	t.Helper()
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
	if err := charger.LoadDemo(ctx, db, p.ProjectID); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, projectID: p.ProjectID, interval: time.Second, grace: time.Second}
}

func (e *env) connect(t *testing.T, id string) *chargersim.ChargePoint {
	t.Helper()
	c, err := chargersim.Connect(context.Background(), chargersim.Config{URL: e.srv.URL(), Password: charger.DemoPassword}, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func (e *env) online(t *testing.T, id string) bool {
	t.Helper()
	var on bool
	if err := e.db.QueryRow(context.Background(), `select online from ocpp_charge_points where equipment_id=$1`, id).Scan(&on); err != nil {
		t.Fatal(err)
	}
	return on
}

func (e *env) connectorStatus(t *testing.T, id string) int {
	t.Helper()
	var st int
	if err := e.db.QueryRow(context.Background(), `select status from connector_status where connector_id=$1`, id).Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

type txRow struct {
	status, idTag, auth string
	start, stop         int64
	last                *int64
	reason              *string
}

func (e *env) transaction(t *testing.T, id int) txRow {
	t.Helper()
	var r txRow
	var stop *int64
	if err := e.db.QueryRow(context.Background(), `select status, id_tag, auth_status, meter_start_wh, meter_stop_wh,
		meter_last_wh, stop_reason from ocpp_transactions where id=$1`, id).
		Scan(&r.status, &r.idTag, &r.auth, &r.start, &stop, &r.last, &r.reason); err != nil {
		t.Fatal(err)
	}
	if stop != nil {
		r.stop = *stop
	}
	return r
}

// A full session with our simulator: Boot, status, Authorize, Start,
// MeterValues, Stop — kept as a transaction, status history in the registry
// with its regulator pushes, and every frame in the message log.
func TestSessionWithSimulator(t *testing.T) {
	e := setup(t)
	c := e.connect(t, cp1)
	if c.HeartbeatInterval() != e.interval {
		t.Fatalf("boot gave interval %v, want %v", c.HeartbeatInterval(), e.interval)
	}
	eventually.True(t, 2*time.Second, "charger online", func() (bool, string) { return e.online(t, cp1), "offline" })
	if st, err := c.Authorize(charger.DemoCard); err != nil || st != types.AuthorizationStatusAccepted {
		t.Fatalf("authorize demo card = %s, %v", st, err)
	}
	if st, _ := c.Authorize("NOSUCHCARD"); st != types.AuthorizationStatusInvalid {
		t.Fatalf("authorize unknown card = %s, want Invalid", st)
	}
	s, err := c.StartSession(3, charger.DemoCard)
	if err != nil || s.Authorization != types.AuthorizationStatusAccepted || s.TransactionID <= 0 {
		t.Fatalf("start = %+v, %v", s, err)
	}
	conn := centralsystem.ConnectorID(cp1, 3)
	if got := e.connectorStatus(t, conn); got != registry.StatusCharging {
		t.Fatalf("connector status while charging = %d", got)
	}
	for range 3 {
		if err := s.Charge(4000, 120000); err != nil {
			t.Fatal(err)
		}
	}
	var kwh float64
	var soc int
	if err := e.db.QueryRow(context.Background(), `select charge_electricity::float8, soc from connector_status where connector_id=$1`,
		conn).Scan(&kwh, &soc); err != nil || kwh != 12 || soc != 32 {
		t.Fatalf("live figures = %v kWh, soc %d, %v; want 12 kWh, 32", kwh, soc, err)
	}
	if err := s.Stop(core.ReasonLocal); err != nil {
		t.Fatal(err)
	}
	tx := e.transaction(t, s.TransactionID)
	if tx.status != "stopped" || tx.stop-tx.start != 12000 || tx.idTag != charger.DemoCard || tx.reason == nil || *tx.reason != "Local" {
		t.Fatalf("transaction = %+v", tx)
	}
	var n int
	if err := e.db.QueryRow(context.Background(), `select count(*) from ocpp_meter_values where transaction_id=$1`, s.TransactionID).Scan(&n); err != nil || n != 3 {
		t.Fatalf("meter values = %d, %v", n, err)
	}
	// History: Available at boot, Preparing, Charging, Finishing, Available.
	rows, err := e.db.Query(context.Background(), `select (info->>'Status')::int from connector_status_history
		where connector_id=$1 order by id`, conn)
	if err != nil {
		t.Fatal(err)
	}
	var hist []int
	for rows.Next() {
		var v int
		_ = rows.Scan(&v)
		hist = append(hist, v)
	}
	rows.Close()
	want := []int{registry.StatusIdle, registry.StatusOccupied, registry.StatusCharging, registry.StatusChargeDone, registry.StatusIdle}
	if !slices.Equal(hist, want) {
		t.Fatalf("status history = %v, want %v", hist, want)
	}
	if err := e.db.QueryRow(context.Background(), `select count(*) from regulator_pushes where connector_id=$1`, conn).Scan(&n); err != nil || n != len(want) {
		t.Fatalf("regulator pushes = %d, %v; want %d", n, err, len(want))
	}
	// The message log: each CALL in, and its result out naming the action.
	wantActions := []string{"BootNotification", "StatusNotification", "Authorize", "StartTransaction", "MeterValues", "StopTransaction"}
	eventually.True(t, 3*time.Second, "frames logged", func() (bool, string) {
		msgs, err := charger.Messages(context.Background(), e.db, charger.MessageQuery{ChargePointID: cp1, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, m := range msgs {
			seen[fmt.Sprintf("%s/%d/%s", m.Direction, m.MessageType, m.Action)]++
		}
		for _, a := range wantActions {
			if seen["in/2/"+a] == 0 || seen["out/3/"+a] == 0 {
				return false, fmt.Sprint(seen)
			}
		}
		return seen["in/2/MeterValues"] == 3 && seen["out/3/MeterValues"] == 3, fmt.Sprint(seen)
	})
	// Time-bounded search: nothing logged before the test began.
	old, err := charger.Messages(context.Background(), e.db, charger.MessageQuery{ChargePointID: cp1,
		To: time.Now().Add(-time.Hour)})
	if err != nil || len(old) != 0 {
		t.Fatalf("frames older than an hour = %d, %v", len(old), err)
	}
}

// Only allow-listed charge points with the right password get in.
func TestBasicAuth(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	_, err := chargersim.Connect(ctx, chargersim.Config{URL: e.srv.URL(), Password: "wrong"}, cp1)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong password: %v, want a 401", err)
	}
	_, err = chargersim.Connect(ctx, chargersim.Config{URL: e.srv.URL(), Password: charger.DemoPassword}, "4403000000000000000099")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("charger not in the allow-list: %v, want a 401", err)
	}
	if e.srv.Connections() != 0 {
		t.Fatalf("connections = %d after refusals", e.srv.Connections())
	}
	if _, err := e.db.Exec(ctx, `update ocpp_charge_points set enabled=false where equipment_id=$1`, cp1); err != nil {
		t.Fatal(err)
	}
	if _, err := chargersim.Connect(ctx, chargersim.Config{URL: e.srv.URL(), Password: charger.DemoPassword}, cp1); err == nil {
		t.Fatal("a disabled charge point connected")
	}
}

// A frozen card is Blocked at the next Authorize and its StartTransaction is
// refused; unfreezing lets it charge again.
func TestFrozenCardBlocked(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	c := e.connect(t, cp1)
	if st, _ := c.Authorize(charger.DemoCard); st != types.AuthorizationStatusAccepted {
		t.Fatalf("before freezing: %s", st)
	}
	frozen, err := charger.SetCardStatus(ctx, e.db, charger.StatusChange{CardNo: charger.DemoCard, Projects: []string{e.projectID},
		To: card.Frozen, Reason: "reported lost"})
	if err != nil || frozen.Status != card.Frozen || frozen.Balance.String() != "200.00" {
		t.Fatalf("freeze = %+v, %v", frozen, err)
	}
	if st, _ := c.Authorize(charger.DemoCard); st != types.AuthorizationStatusBlocked {
		t.Fatalf("frozen card authorize = %s, want Blocked", st)
	}
	s, err := c.StartSession(1, charger.DemoCard)
	if err != nil || s.Authorization != types.AuthorizationStatusBlocked {
		t.Fatalf("frozen card start = %+v, %v", s, err)
	}
	if tx := e.transaction(t, s.TransactionID); tx.status != "refused" || tx.auth != "Blocked" {
		t.Fatalf("refused transaction = %+v", tx)
	}
	// Freezing twice is not an error; a card of another project is not found.
	if _, err := charger.SetCardStatus(ctx, e.db, charger.StatusChange{CardNo: charger.DemoCard, Projects: []string{e.projectID}, To: card.Frozen}); err != nil {
		t.Fatal(err)
	}
	if _, err := charger.SetCardStatus(ctx, e.db, charger.StatusChange{CardNo: charger.DemoCard,
		Projects: []string{"00000000-0000-0000-0000-000000000000"}, To: card.Active}); !errors.Is(err, charger.ErrCardNotFound) {
		t.Fatalf("other tenant: %v", err)
	}
	if _, err := charger.SetCardStatus(ctx, e.db, charger.StatusChange{CardNo: charger.DemoCard, Projects: []string{e.projectID}, To: card.Active}); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Authorize(charger.DemoCard); st != types.AuthorizationStatusAccepted {
		t.Fatalf("unfrozen card authorize = %s", st)
	}
	var events int
	if err := e.db.QueryRow(ctx, `select count(*) from card_events where card_no=$1`, charger.DemoCard).Scan(&events); err != nil || events != 3 {
		t.Fatalf("card events = %d, %v; want issued, frozen, active", events, err)
	}
	// The demo card's money is a customer wallet in a balanced ledger.
	if b, err := ledgerstore.Balance(ctx, e.db, e.projectID, ledgerdom.CustomerWallet("C-"+charger.DemoCard)); err != nil || b.String() != "200.00" {
		t.Fatalf("wallet = %s, %v", b, err)
	}
	if err := ledgerstore.CheckInvariant(ctx, e.db); err != nil {
		t.Fatal(err)
	}
}

// A charge point killed without closing its socket is shown offline within
// heartbeat interval + grace; while it heartbeats it stays online.
func TestSilentChargerOffline(t *testing.T) {
	e := setup(t)
	c := e.connect(t, cp1)
	limit := e.interval + e.grace
	eventually.True(t, 2*time.Second, "online", func() (bool, string) { return e.online(t, cp1), "offline" })
	time.Sleep(2 * limit) // longer than the limit: only heartbeats keep it
	if !e.online(t, cp1) || !e.srv.Connected(cp1) {
		t.Fatal("a heartbeating charger was dropped")
	}
	conn := centralsystem.ConnectorID(cp1, 1)
	if st := e.connectorStatus(t, conn); st != registry.StatusIdle {
		t.Fatalf("connector before = %d", st)
	}
	c.Hang()
	hungAt := time.Now()
	eventually.True(t, limit+2*time.Second, "offline", func() (bool, string) { return !e.online(t, cp1), "online" })
	took := time.Since(hungAt)
	// The last frame may have been up to one interval before the hang.
	if took > limit+time.Second {
		t.Fatalf("offline after %v, want within %v", took, limit)
	}
	t.Logf("silent charger offline after %v (interval %v + grace %v)", took.Round(10*time.Millisecond), e.interval, e.grace)
	eventually.True(t, time.Second, "connectors offline", func() (bool, string) {
		st := e.connectorStatus(t, conn)
		return st == registry.StatusOffline, fmt.Sprint("status ", st)
	})
}

// Commands from the central system reach the charge point and come back
// with its answer; a remote start runs a real transaction.
func TestCommands(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	c := e.connect(t, cp1)
	st, err := e.srv.RemoteStartTransaction(ctx, cp1, 2, charger.DemoCard, nil)
	if err != nil || st != types.RemoteStartStopStatusAccepted {
		t.Fatalf("remote start = %s, %v", st, err)
	}
	var s *chargersim.Session
	eventually.True(t, 3*time.Second, "remote session", func() (bool, string) { s = c.Session(2); return s != nil, "no session" })
	if st, err := e.srv.RemoteStopTransaction(ctx, cp1, s.TransactionID); err != nil || st != types.RemoteStartStopStatusAccepted {
		t.Fatalf("remote stop = %s, %v", st, err)
	}
	eventually.True(t, 3*time.Second, "remote stop", func() (bool, string) {
		st := e.transaction(t, s.TransactionID).status
		return st == "stopped", st
	})
	if st, _ := e.srv.RemoteStopTransaction(ctx, cp1, 999999); st != types.RemoteStartStopStatusRejected {
		t.Fatalf("remote stop of unknown transaction = %s", st)
	}
	if st, err := e.srv.ChangeAvailability(ctx, cp1, 4, core.AvailabilityTypeInoperative); err != nil || st != core.AvailabilityStatusAccepted {
		t.Fatalf("availability = %s, %v", st, err)
	}
	if st, err := e.srv.Reset(ctx, cp1, core.ResetTypeSoft); err != nil || st != core.ResetStatusAccepted {
		t.Fatalf("reset = %s, %v", st, err)
	}
	limit := types.NewChargingProfile(7, 0, types.ChargingProfilePurposeTxDefaultProfile, types.ChargingProfileKindAbsolute,
		types.NewChargingSchedule(types.ChargingRateUnitWatts, types.NewChargingSchedulePeriod(0, 60000)))
	if st, err := e.srv.SetChargingProfile(ctx, cp1, 5, limit); err != nil || st != smartcharging.ChargingProfileStatusAccepted {
		t.Fatalf("set profile = %s, %v", st, err)
	}
	id := 7
	if st, err := e.srv.ClearChargingProfile(ctx, cp1, ocpp.ClearProfile{ProfileID: &id}); err != nil || st != smartcharging.ClearChargingProfileStatusAccepted {
		t.Fatalf("clear profile = %s, %v", st, err)
	}
	if st, err := e.srv.TriggerMessage(ctx, cp1, core.HeartbeatFeatureName, 0); err != nil || st != remotetrigger.TriggerMessageStatusAccepted {
		t.Fatalf("trigger = %s, %v", st, err)
	}
	conf, err := e.srv.GetConfiguration(ctx, cp1, nil)
	if err != nil || len(conf.ConfigurationKey) == 0 || *conf.ConfigurationKey[0].Value != "1" {
		t.Fatalf("configuration = %+v, %v", conf, err)
	}
	cmd, err := c.WaitCommand(ctx, smartcharging.SetChargingProfileFeatureName)
	if err != nil {
		t.Fatal(err)
	}
	got := cmd.Req.(*smartcharging.SetChargingProfileRequest)
	if got.ConnectorId != 5 || got.ChargingProfile.ChargingSchedule.ChargingSchedulePeriod[0].Limit != 60000 {
		t.Fatalf("profile received = %+v", got)
	}
	if _, err := e.srv.Reset(ctx, cp2, core.ResetTypeSoft); !errors.Is(err, ocpp.ErrNotConnected) {
		t.Fatalf("command to a charger not connected: %v", err)
	}
}

// rawClient is a second, independent OCPP-J implementation: plain JSON
// frames over gorilla/websocket, no ocpp-go, as an outside charger speaks.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
	n  int
}

func dialRaw(t *testing.T, url, id, password string) (*rawClient, *http.Response, error) {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+password)))
	d := websocket.Dialer{Subprotocols: []string{"ocpp1.6"}, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(url+id, h)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { _ = ws.Close() })
	if ws.Subprotocol() != "ocpp1.6" {
		t.Fatalf("negotiated subprotocol %q", ws.Subprotocol())
	}
	return &rawClient{t: t, ws: ws}, resp, nil
}

// call sends a CALL and returns the CALLRESULT payload (or fails on CALLERROR).
func (r *rawClient) call(action string, payload any) map[string]any {
	r.t.Helper()
	r.n++
	uid := fmt.Sprintf("raw-%d", r.n)
	frame, _ := json.Marshal([]any{2, uid, action, payload})
	return r.send(frame, uid, 3)
}

func (r *rawClient) send(frame []byte, uid string, wantType int) map[string]any {
	r.t.Helper()
	if err := r.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		r.t.Fatal(err)
	}
	_ = r.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := r.ws.ReadMessage()
	if err != nil {
		r.t.Fatal(err)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil || len(parts) < 3 {
		r.t.Fatalf("answer %s: %v", data, err)
	}
	var typ int
	var gotID string
	_ = json.Unmarshal(parts[0], &typ)
	_ = json.Unmarshal(parts[1], &gotID)
	if typ != wantType || gotID != uid {
		r.t.Fatalf("answer to %s = %s, want type %d", uid, data, wantType)
	}
	out := map[string]any{}
	if typ == 4 {
		var code string
		_ = json.Unmarshal(parts[2], &code)
		out["errorCode"] = code
		return out
	}
	if err := json.Unmarshal(parts[2], &out); err != nil {
		r.t.Fatalf("payload %s: %v", parts[2], err)
	}
	return out
}

// Interoperability: a full session from an OCPP-J client that is not
// ocpp-go — Boot, Authorize, Start, MeterValues, Stop — on charger …0002,
// the one contracts.md leaves free for outside clients.
func TestInteropRawClient(t *testing.T) {
	e := setup(t)
	if _, resp, err := dialRaw(t, e.srv.URL(), cp2, "wrong"); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v", err)
	}
	r, _, err := dialRaw(t, e.srv.URL(), cp2, charger.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	boot := r.call("BootNotification", map[string]any{"chargePointVendor": "RawCo", "chargePointModel": "R1"})
	if boot["status"] != "Accepted" || boot["interval"] != float64(1) || boot["currentTime"] == nil {
		t.Fatalf("boot = %v", boot)
	}
	r.call("StatusNotification", map[string]any{"connectorId": 1, "errorCode": "NoError", "status": "Preparing"})
	auth := r.call("Authorize", map[string]any{"idTag": charger.DemoCard})
	if auth["idTagInfo"].(map[string]any)["status"] != "Accepted" {
		t.Fatalf("authorize = %v", auth)
	}
	now := time.Now().UTC()
	start := r.call("StartTransaction", map[string]any{"connectorId": 1, "idTag": charger.DemoCard, "meterStart": 5000,
		"timestamp": now.Format(time.RFC3339)})
	txID := int(start["transactionId"].(float64))
	if txID <= 0 || start["idTagInfo"].(map[string]any)["status"] != "Accepted" {
		t.Fatalf("start = %v", start)
	}
	r.call("StatusNotification", map[string]any{"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
	r.call("MeterValues", map[string]any{"connectorId": 1, "transactionId": txID, "meterValue": []any{map[string]any{
		"timestamp": now.Add(time.Minute).Format(time.RFC3339),
		"sampledValue": []any{
			map[string]any{"value": "7.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
			map[string]any{"value": "55", "measurand": "SoC", "unit": "Percent"},
		}}}})
	r.call("Heartbeat", map[string]any{})
	// A malformed request gets a CALLERROR, and the connection survives it.
	bad, _ := json.Marshal([]any{2, "raw-bad", "StartTransaction", map[string]any{"connectorId": 1}})
	if got := r.send(bad, "raw-bad", 4); got["errorCode"] == "" {
		t.Fatalf("malformed start answered %v", got)
	}
	stop := r.call("StopTransaction", map[string]any{"transactionId": txID, "meterStop": 9000, "idTag": charger.DemoCard,
		"timestamp": now.Add(2 * time.Minute).Format(time.RFC3339), "reason": "EVDisconnected"})
	if stop["idTagInfo"].(map[string]any)["status"] != "Accepted" {
		t.Fatalf("stop = %v", stop)
	}
	r.call("StatusNotification", map[string]any{"connectorId": 1, "errorCode": "NoError", "status": "Available"})
	tx := e.transaction(t, txID)
	if tx.status != "stopped" || tx.start != 5000 || tx.stop != 9000 || tx.last == nil || *tx.last != 9000 {
		t.Fatalf("transaction = %+v", tx)
	}
	var wh int64
	var soc int
	if err := e.db.QueryRow(context.Background(), `select energy_wh, soc from ocpp_meter_values where transaction_id=$1`, txID).
		Scan(&wh, &soc); err != nil || wh != 7500 || soc != 55 {
		t.Fatalf("kWh sample = %d Wh, soc %d, %v", wh, soc, err)
	}
	var vendor string
	if err := e.db.QueryRow(context.Background(), `select vendor from ocpp_charge_points where equipment_id=$1`, cp2).Scan(&vendor); err != nil || vendor != "RawCo" {
		t.Fatalf("vendor = %q, %v", vendor, err)
	}
	if got := e.connectorStatus(t, centralsystem.ConnectorID(cp2, 1)); got != registry.StatusIdle {
		t.Fatalf("connector after = %d", got)
	}
}
