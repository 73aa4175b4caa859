package ocpp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"

	"github.com/voltflow/voltflow/devices/chargersim"
	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/domain/chargefault"
	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/interconnect/serve"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/internal/eventually"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
	"github.com/voltflow/voltflow/store/charger"
	sweepstore "github.com/voltflow/voltflow/store/sweep"
)

// regulator is the regulator exchange served over real HTTP next to the
// central system, called with the standard's envelope.
type regulator struct {
	srv   *httptest.Server
	codec *envelope.Codec
	seq   *envelope.SeqGenerator
	token string
}

func newRegulator(t *testing.T, s *stack) *regulator {
	t.Helper()
	ctx := context.Background()
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ks := &keys.Store{DB: s.db, Key: mk}
	if err := ks.EnsureDev(ctx, push.DefaultRegulator); err != nil {
		t.Fatal(err)
	}
	r := &regulator{srv: httptest.NewServer(serve.New(serve.Config{DB: s.db, Keys: ks, TokenTTL: time.Hour,
		Log: slog.New(slog.DiscardHandler)})), seq: envelope.NewSeqGenerator(clock.Clock{})}
	t.Cleanup(r.srv.Close)
	if r.codec, err = envelope.NewCodec(keys.DevSecrets()); err != nil {
		t.Fatal(err)
	}
	var tok serve.TokenAnswer
	r.call(t, serve.QueryToken, serve.TokenQuery{OperatorID: "123456789", OperatorSecret: "1234567890abcdef"}, &tok)
	r.token = tok.AccessToken
	return r
}

// call seals payload, posts it and opens a Ret 0 answer into out.
func (r *regulator) call(t *testing.T, name string, payload, out any) {
	t.Helper()
	st, err := r.seq.Next()
	if err != nil {
		t.Fatal(err)
	}
	req, err := r.codec.SealRequest(payload, st)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(req)
	hr, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/shevcs/v1/"+name, bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json;charset=utf-8")
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	ans, err := r.codec.OpenResponse(raw, out)
	if err != nil || ans.Ret != envelope.RetOK {
		t.Fatalf("%s: Ret %v: %v (%s)", name, ans.Ret, err, raw)
	}
}

// TestRegulatorEventsFromCharger: a simulated OCPP charger's session, a
// cabinet protection tripping (vendor code) and its recovery, and a
// connector paused and started from the API become the station's
// notification_eventInfo pushes in the outbox, and query_event_info over
// the envelope answers them with their appendix B codes.
func TestRegulatorEventsFromCharger(t *testing.T) {
	s := start(t, 60*time.Second, 30*time.Second)
	reg := newRegulator(t, s)
	ctx := context.Background()
	c, err := chargersim.Connect(ctx, chargersim.Config{URL: s.cs.URL(), Password: charger.DemoPassword}, cp1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.StartSession(1, charger.DemoCard)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Charge(1500, 7000); err != nil {
		t.Fatal(err)
	}
	if err := sess.Stop(core.ReasonLocal); err != nil {
		t.Fatal(err)
	}
	if err := c.VendorFault(2, core.OtherError, chargefault.VendorWaterImmersion); err != nil {
		t.Fatal(err)
	}
	if err := c.Status(2, core.ChargePointStatusAvailable); err != nil {
		t.Fatal(err)
	}
	admin := s.login(t, "admin")
	conn := cp1 + "003"
	for _, action := range []string{"pause", "start"} {
		if code := admin.do(t, http.MethodPost, "/api/v1/charging-connectors/"+conn+"/"+action, nil, nil); code != 200 {
			t.Fatalf("%s %s: %d", action, conn, code)
		}
	}
	want := []struct {
		code int
		note string
	}{
		{1003, "充电开始 " + cp1 + "001"},
		{1003, "充电结束 " + cp1 + "001"},
		{7002, "故障 4 绝缘监测故障 " + cp1 + "002"},
		{7002, "故障恢复 4 绝缘监测故障 " + cp1 + "002"},
		{7002, "暂停运营 " + conn},
		{1003, "恢复运营 " + conn},
	}
	var ans serve.EventAnswer
	eventually.True(t, 10*time.Second, "events answered", func() (bool, string) {
		ans = serve.EventAnswer{}
		reg.call(t, serve.QueryEventInfo, serve.EventQuery{StationID: registry.DemoStationID}, &ans)
		return len(ans.EventInfos) >= len(want), strings.Repeat("x", len(ans.EventInfos))
	})
	if len(ans.EventInfos) != len(want) {
		t.Fatalf("events %+v", ans.EventInfos)
	}
	for i, w := range want {
		e := ans.EventInfos[i]
		if e.EventCode != w.code || e.EventType != w.code/1000 || e.NoteString != w.note || e.StationName == "" ||
			e.OperatorID != "123456789" {
			t.Errorf("event %d = %+v; want code %d note %q", i, e, w.code, w.note)
		}
	}
	var pushed int
	if err := s.db.QueryRow(ctx, `select count(*) from regulator_pushes where interface=$1 and station_id=$2`,
		push.NotificationEventInfo, registry.DemoStationID).Scan(&pushed); err != nil || pushed != len(want) {
		t.Fatalf("event pushes in the outbox: %d (%v), want %d", pushed, err, len(want))
	}
}

// TestRegulatorChargeStatsFromOrders: OCPP sessions settled as charging
// orders (the store calls the charging-order workflow makes) roll up into
// the connector's day; query_station_charge_stats answers the
// hand-computed sums per connector, equipment and station, a second
// Settle adds nothing, and the discharge statistics answer zeros in the
// same shape.
func TestRegulatorChargeStatsFromOrders(t *testing.T) {
	s := start(t, 60*time.Second, 30*time.Second)
	reg := newRegulator(t, s)
	ctx := context.Background()
	c, err := chargersim.Connect(ctx, chargersim.Config{URL: s.cs.URL(), Password: charger.DemoPassword}, cp1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// connector 1: 1.5 kWh, 2: 0.8 kWh, 3: 2.2 kWh; the equipment and station 4.5 kWh.
	for _, run := range []struct{ connector, wh int }{{1, 1500}, {2, 800}, {3, 2200}} {
		sess, err := c.StartSession(run.connector, charger.DemoCard)
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.Charge(run.wh, 7000); err != nil {
			t.Fatal(err)
		}
		if err := sess.Stop(core.ReasonLocal); err != nil {
			t.Fatal(err)
		}
		id := chargeorderstore.TxOrderID(cp1, sess.TransactionID)
		opened, err := chargeorderstore.Open(ctx, s.db, chargeorderstore.Transaction{OrderID: id, WorkflowID: "charging/" + id,
			ChargePointID: cp1, TransactionID: sess.TransactionID})
		if err != nil {
			t.Fatal(err)
		}
		in := chargeorderstore.SettleInput{OrderID: id, Opened: opened, At: time.Now()}
		for range 2 { // the activity may run twice
			st, err := chargeorderstore.Settle(ctx, s.db, in)
			if err != nil || st.Status != "completed" {
				t.Fatalf("settle %s: %+v %v", id, st, err)
			}
		}
	}
	var ans serve.ChargeStatsAnswer
	reg.call(t, serve.QueryChargeStats, serve.StatsQuery{StationID: registry.DemoStationID}, &ans)
	st := ans.StationStats
	today := time.Now().In(registry.ChinaTime).Format(registry.DateLayout)
	if st.StationID != registry.DemoStationID || st.StartTime != today || st.EndTime != today || st.StationChargeElectricity != 4.5 {
		t.Fatalf("station stats %+v", st)
	}
	got := map[string]registry.Fixed1{}
	for _, e := range st.EquipmentChargeStatsInfos {
		got[e.EquipmentID] = e.EquipmentChargeElectricity
		for _, cs := range e.ConnectorChargeStatsInfos {
			got[cs.ConnectorID] = cs.ConnectorChargeElectricity
		}
	}
	if got[cp1] != 4.5 || got[cp1+"001"] != 1.5 || got[cp1+"002"] != 0.8 || got[cp1+"003"] != 2.2 || got[cp1+"004"] != 0 {
		t.Fatalf("stats %v", got)
	}
	var dis serve.DischargeStatsAnswer
	reg.call(t, serve.QueryDischargeStats, serve.StatsQuery{StationID: registry.DemoStationID}, &dis)
	if dis.StationStats.StationDischargeElectricity != 0 ||
		len(dis.StationStats.EquipmentDischargeStatsInfos) != len(st.EquipmentChargeStatsInfos) ||
		len(dis.StationStats.EquipmentDischargeStatsInfos[0].ConnectorDischargeStatsInfos) !=
			len(st.EquipmentChargeStatsInfos[0].ConnectorChargeStatsInfos) {
		t.Fatalf("discharge stats %+v", dis.StationStats)
	}
}

// TestRegulatorDistributionAndVideo: distribution equipment linked through
// the API to a meter answers query_disequipmentstatus_info from what the
// metering sweep stored for it (reading and three-phase electrical
// parameters, written by the sweep's store); a camera entry set through the
// API answers query_video_info.
func TestRegulatorDistributionAndVideo(t *testing.T) {
	s := start(t, 60*time.Second, 30*time.Second)
	reg := newRegulator(t, s)
	ctx := context.Background()
	admin := s.login(t, "admin")
	var meterNo, meterID string
	if err := s.db.QueryRow(ctx, `select meter_no, id::text from meters where project_id=$1 order by meter_no limit 1`,
		s.project).Scan(&meterNo, &meterID); err != nil {
		t.Fatal(err)
	}
	const dis = "DE0000000001"
	link := map[string]any{"meterNo": meterNo, "manufacturerId": "123456789", "equipmentModel": "SCB13-1250",
		"ratedInVoltage": 10, "ratedOutVoltage": 400, "ratedPower": 1250, "feedNum": 4}
	path := "/api/v1/charging-stations/" + registry.DemoStationID + "/distribution-equipment/" + dis
	if code := admin.do(t, http.MethodPut, path, link, nil); code != 200 {
		t.Fatalf("link: %d", code)
	}
	bad := map[string]any{"meterNo": "no-such-meter", "manufacturerId": "123456789", "equipmentModel": "X",
		"ratedInVoltage": 10, "ratedOutVoltage": 400, "ratedPower": 1250, "feedNum": 4}
	if code := admin.do(t, http.MethodPut, path, bad, nil); code != 422 {
		t.Fatalf("link to an unknown meter: %d", code)
	}
	// Not read yet: nothing to answer.
	var ans serve.DisEquipmentAnswer
	reg.call(t, serve.QueryDisEquipment, serve.DisEquipmentQuery{StationID: registry.DemoStationID}, &ans)
	if len(ans.DisEquipmentStatusInfos) != 0 {
		t.Fatalf("before a reading: %+v", ans)
	}
	at := time.Now().Truncate(time.Minute)
	if err := sweepstore.EnsurePartitions(ctx, s.db, at); err != nil {
		t.Fatal(err)
	}
	p := &modbus.Params{}
	for i, v := range map[int]int64{modbus.ParamUa: 2301, modbus.ParamUb: 2302, modbus.ParamUc: 2291,
		modbus.ParamIa: 10500, modbus.ParamIb: 10000, modbus.ParamIc: 9500, modbus.ParamP: 7200, modbus.ParamQ: 960,
		modbus.ParamPF: 991} {
		p.V[i], p.Has = v, p.Has|1<<i
	}
	row := sweepstore.Row{Meter: uuid.MustParse(meterID), TakenAt: at,
		S: modbus.Snapshot{Energy: 123456, Voltage: 2301, Current: 1050, Power: 7200, Params: p}}
	if _, err := sweepstore.Write(ctx, s.db, slog.New(slog.DiscardHandler), at, at, &sweepstore.Batch{Rows: []sweepstore.Row{row}}); err != nil {
		t.Fatal(err)
	}
	ans = serve.DisEquipmentAnswer{}
	reg.call(t, serve.QueryDisEquipment, serve.DisEquipmentQuery{StationID: registry.DemoStationID, DisequipmentID: dis}, &ans)
	if len(ans.DisEquipmentStatusInfos) != 1 {
		t.Fatalf("distribution status %+v", ans)
	}
	got := ans.DisEquipmentStatusInfos[0]
	want := registry.DisEquipmentStatusInfo{StationID: registry.DemoStationID, OperatorID: "123456789", DisequipmentID: dis,
		FoPEnergy: 1234.56, AVoltage: 230.1, BVoltage: 230.2, CVoltage: 229.1, ACurrent: 10.5, BCurrent: 10, CCurrent: 9.5,
		CurPPower: 7.2, CurQPower: 0.96, Factor: 0.991, CurSPower: 7.264, FeedState: "1111"}
	if got != want {
		t.Fatalf("distribution status\n got %+v\nwant %+v", got, want)
	}

	video := map[string]any{"videoLink": "rtsp://cam.example/station1/ch1", "videoType": 1, "videoUser": "regulator",
		"videoAuthCode": "s3cret"}
	var created registry.Video
	if code := admin.do(t, http.MethodPost, "/api/v1/charging-stations/"+registry.DemoStationID+"/videos", video, &created); code != 201 ||
		!created.HasAuthCode {
		t.Fatalf("add video: %d %+v", code, created)
	}
	var va serve.VideoAnswer
	reg.call(t, serve.QueryVideoInfo, serve.VideoQuery{StationID: registry.DemoStationID}, &va)
	if len(va.VideoInfos) != 1 || va.VideoInfos[0].VideoLink != video["videoLink"] || va.VideoInfos[0].VideoType != 1 ||
		va.VideoInfos[0].VideoUser != "regulator" || va.VideoInfos[0].VideoAuthCode != "s3cret" || va.VideoInfos[0].StationName == "" {
		t.Fatalf("videos %+v", va)
	}
	if code := admin.do(t, http.MethodDelete, "/api/v1/charging-stations/"+registry.DemoStationID+"/videos/"+
		strconv.FormatInt(created.ID, 10), nil, nil); code != 204 {
		t.Fatalf("delete video: %d", code)
	}
	va = serve.VideoAnswer{}
	reg.call(t, serve.QueryVideoInfo, serve.VideoQuery{StationID: registry.DemoStationID}, &va)
	if len(va.VideoInfos) != 0 {
		t.Fatalf("after delete %+v", va)
	}
}

// TestDemoMonitoring: the demo's regulator data — one camera entry
// however often it loads, and DE0000000001 read through the project's
// three-phase meter once there is one.
func TestDemoMonitoring(t *testing.T) {
	s := start(t, 60*time.Second, 30*time.Second)
	ctx := context.Background()
	for range 2 {
		if err := registry.LoadDemoMonitoring(ctx, s.db, s.project); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := registry.StationVideos(ctx, s.db, registry.DemoStationID)
	if err != nil || len(vs) != 1 {
		t.Fatalf("videos %+v %v", vs, err)
	}
	if ok, err := registry.DisEquipmentOf(ctx, s.db, registry.DemoStationID, registry.DemoDisEquipmentID); err != nil || ok {
		t.Fatalf("linked without a three-phase meter: %v %v", ok, err)
	}
	// A three-phase meter in the project (what the demo gateways would carry).
	if _, err := s.db.Exec(ctx, `update meters set profile='ref-3phase-v1' where meter_no=(select min(meter_no) from meters
		where project_id=$1)`, s.project); err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemoMonitoring(ctx, s.db, s.project); err != nil {
		t.Fatal(err)
	}
	if ok, err := registry.DisEquipmentOf(ctx, s.db, registry.DemoStationID, registry.DemoDisEquipmentID); err != nil || !ok {
		t.Fatalf("not linked: %v %v", ok, err)
	}
}

// TestRegulatorFreshnessSetting: the per-regulator freshness window is set
// and read through the API, and bad values are refused.
func TestRegulatorFreshnessSetting(t *testing.T) {
	s := start(t, 60*time.Second, 30*time.Second)
	admin := s.login(t, "admin")
	var got struct{ Regulator, Freshness, DefaultFreshness string }
	if code := admin.do(t, http.MethodPut, "/api/v1/regulators/"+push.DefaultRegulator+"/settings",
		map[string]string{"freshness": "15m"}, &got); code != 200 || got.Freshness != "15m0s" || got.DefaultFreshness != "5m0s" {
		t.Fatalf("put: %d %+v", code, got)
	}
	for _, bad := range []string{"1.5s", "48h", "soon"} {
		if code := admin.do(t, http.MethodPut, "/api/v1/regulators/"+push.DefaultRegulator+"/settings",
			map[string]string{"freshness": bad}, nil); code != 422 {
			t.Errorf("%s: %d", bad, code)
		}
	}
	if code := admin.do(t, http.MethodPut, "/api/v1/regulators/"+push.DefaultRegulator+"/settings",
		map[string]string{"freshness": ""}, &got); code != 200 || got.Freshness != "" {
		t.Fatalf("reset: %d %+v", code, got)
	}
}
