package serve_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/interconnect/serve"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// fixture is a served handler over real HTTP on a fresh database with the
// charging demo and the dev credentials.
type fixture struct {
	db    *store.DB
	srv   *httptest.Server
	codec *envelope.Codec
	seq   *envelope.SeqGenerator
	freq  []int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: pg.NewDB(t), seq: envelope.NewSeqGenerator(clock.Clock{})}
	if err := registry.LoadDemo(ctx, f.db); err != nil {
		t.Fatal(err)
	}
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ks := &keys.Store{DB: f.db, Key: mk}
	if err := ks.EnsureDev(ctx, push.DefaultRegulator); err != nil {
		t.Fatal(err)
	}
	h := serve.New(serve.Config{DB: f.db, Keys: ks, TokenTTL: time.Hour, Log: slog.New(slog.DiscardHandler),
		OnFrequency: func(_ context.Context, _ string, s int) { f.freq = append(f.freq, s) }})
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	if f.codec, err = envelope.NewCodec(keys.DevSecrets()); err != nil {
		t.Fatal(err)
	}
	return f
}

// seal builds a request for payload.
func (f *fixture) seal(t *testing.T, payload any) envelope.Request {
	t.Helper()
	st, err := f.seq.Next()
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.codec.SealRequest(payload, st)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// post sends body to /shevcs/<version>/<name> and returns the raw answer.
func (f *fixture) post(t *testing.T, version, name, token string, body []byte) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/shevcs/"+version+"/"+name, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d", name, resp.StatusCode)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// call seals payload, posts it and opens the answer into out; it returns
// the Ret (verifying Sig and decrypting Data when Ret is 0).
func (f *fixture) call(t *testing.T, name, token string, payload, out any) envelope.Ret {
	t.Helper()
	body, err := json.Marshal(f.seal(t, payload))
	if err != nil {
		t.Fatal(err)
	}
	return f.open(t, f.post(t, "v1", name, token, body), out)
}

func (f *fixture) open(t *testing.T, raw []byte, out any) envelope.Ret {
	t.Helper()
	resp, err := f.codec.OpenResponse(raw, out)
	if err != nil && resp.Ret == envelope.RetOK {
		t.Fatalf("answer with Ret 0 does not open: %v (%s)", err, raw)
	}
	return resp.Ret
}

func (f *fixture) token(t *testing.T) string {
	t.Helper()
	var ans serve.TokenAnswer
	if ret := f.call(t, serve.QueryToken, "", serve.TokenQuery{OperatorID: "123456789", OperatorSecret: "1234567890abcdef"}, &ans); ret != 0 {
		t.Fatalf("query_token Ret %v", ret)
	}
	if ans.SuccStat != 0 || ans.AccessToken == "" {
		t.Fatalf("query_token = %+v", ans)
	}
	return ans.AccessToken
}

func TestQueryToken(t *testing.T) {
	f := newFixture(t)
	var ans serve.TokenAnswer
	if ret := f.call(t, serve.QueryToken, "", serve.TokenQuery{OperatorID: "123456789", OperatorSecret: "1234567890abcdef"}, &ans); ret != 0 {
		t.Fatalf("Ret %v", ret)
	}
	if ans.SuccStat != 0 || ans.FailReason != 0 || ans.OperatorID != "123456789" || len(ans.AccessToken) < 32 ||
		ans.TokenAvailableTime != 3600 {
		t.Fatalf("answer %+v", ans)
	}
	if ans.TokenAvailableTime > int(serve.MaxTokenTTL/time.Second) {
		t.Fatalf("token lives %d s, more than 7 days", ans.TokenAvailableTime)
	}
	// Stored hashed: the hash is there, the token itself nowhere.
	h := sha256.Sum256([]byte(ans.AccessToken))
	var n int
	if err := f.db.QueryRow(context.Background(), `select count(*) from regulator_tokens where token_hash=$1`, h[:]).Scan(&n); err != nil || n != 1 {
		t.Fatalf("hashed token rows = %d, %v", n, err)
	}
	if err := f.db.QueryRow(context.Background(), `select count(*) from regulator_tokens where position($1::bytea in token_hash) > 0`,
		[]byte(ans.AccessToken)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("raw token stored: %d, %v", n, err)
	}

	for _, tc := range []struct {
		name   string
		q      serve.TokenQuery
		reason int
	}{
		{"wrong secret", serve.TokenQuery{OperatorID: "123456789", OperatorSecret: "fedcba0987654321"}, serve.FailWrongSecret},
		{"other operator", serve.TokenQuery{OperatorID: "987654321", OperatorSecret: "1234567890abcdef"}, serve.FailUnknownOperator},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ans serve.TokenAnswer
			if ret := f.call(t, serve.QueryToken, "", tc.q, &ans); ret != 0 {
				t.Fatalf("Ret %v", ret)
			}
			if ans.SuccStat != 1 || ans.FailReason != tc.reason || ans.AccessToken != "" {
				t.Fatalf("answer %+v, want FailReason %d", ans, tc.reason)
			}
		})
	}
}

// TestRetCodes is the table of refusals: each bad request gets its Ret.
func TestRetCodes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	token := f.token(t)
	expired := "EXPIRED-TOKEN-0000"
	eh := sha256.Sum256([]byte(expired))
	if _, err := f.db.Exec(ctx, `insert into regulator_tokens (token_hash, operator_id, expires_at) values ($1,'123456789',$2)`,
		eh[:], time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	fifty1 := make([]string, 51)
	for i := range fifty1 {
		fifty1[i] = registry.DemoStationID
	}
	status := serve.StationsStatusQuery{StationIDs: []string{registry.DemoStationID}}
	otherSig, err := envelope.NewCodec(envelope.Secrets{OperatorID: "123456789", DataSecret: "1234567890abcdef",
		DataSecretIV: "1234567890abcdef", SigSecret: "fedcba0987654321"})
	if err != nil {
		t.Fatal(err)
	}
	without := func(field string) func(*testing.T, envelope.Request) []byte {
		return func(t *testing.T, r envelope.Request) []byte {
			var m map[string]any
			b, _ := json.Marshal(r)
			_ = json.Unmarshal(b, &m)
			delete(m, field)
			b, _ = json.Marshal(m)
			return b
		}
	}
	with := func(mut func(*envelope.Request)) func(*testing.T, envelope.Request) []byte {
		return func(t *testing.T, r envelope.Request) []byte {
			mut(&r)
			b, _ := json.Marshal(r)
			return b
		}
	}
	tests := []struct {
		name    string
		iface   string
		token   string
		payload any
		body    func(*testing.T, envelope.Request) []byte
		want    envelope.Ret
	}{
		{"good", serve.QueryStationsStatus, token, status, nil, envelope.RetOK},
		{"tampered Sig", serve.QueryStationsStatus, token, status, with(func(r *envelope.Request) {
			r.Sig = strings.Repeat("0", 32)
		}), envelope.RetSignature},
		{"tampered Data", serve.QueryStationsStatus, token, status, with(func(r *envelope.Request) {
			r.Data = f.codec.Encrypt([]byte(`{"StationIDs":["44030000000000000002"]}`))
		}), envelope.RetSignature},
		{"signed with another SigSecret", serve.QueryStationsStatus, token, status, with(func(r *envelope.Request) {
			r.Sig = otherSig.SignRequest(r.OperatorID, r.Data, r.TimeStamp, r.Seq)
		}), envelope.RetSignature},
		{"unknown OperatorID", serve.QueryStationsStatus, token, status, with(func(r *envelope.Request) {
			r.OperatorID = "987654321"
			r.Sig = f.codec.SignRequest(r.OperatorID, r.Data, r.TimeStamp, r.Seq)
		}), envelope.RetSignature},
		{"no token", serve.QueryStationsStatus, "", status, nil, envelope.RetToken},
		{"unknown token", serve.QueryStationsStatus, "NOT-A-TOKEN", status, nil, envelope.RetToken},
		{"expired token", serve.QueryStationsStatus, expired, status, nil, envelope.RetToken},
		{"missing OperatorID", serve.QueryStationsStatus, token, status, without("OperatorID"), envelope.RetEnvelope},
		{"missing Data", serve.QueryStationsStatus, token, status, without("Data"), envelope.RetEnvelope},
		{"missing TimeStamp", serve.QueryStationsStatus, token, status, without("TimeStamp"), envelope.RetEnvelope},
		{"missing Seq", serve.QueryStationsStatus, token, status, without("Seq"), envelope.RetEnvelope},
		{"missing Sig", serve.QueryStationsStatus, token, status, without("Sig"), envelope.RetEnvelope},
		{"not JSON", serve.QueryStationsStatus, token, status, func(*testing.T, envelope.Request) []byte { return []byte("{") }, envelope.RetEnvelope},
		{"stale TimeStamp", serve.QueryStationsStatus, token, status, with(func(r *envelope.Request) {
			r.TimeStamp = envelope.FormatTimeStamp(time.Now().Add(-time.Hour))
			r.Sig = f.codec.SignRequest(r.OperatorID, r.Data, r.TimeStamp, r.Seq)
		}), envelope.RetEnvelope},
		{"51 station ids", serve.QueryStationsStatus, token, serve.StationsStatusQuery{StationIDs: fifty1}, nil, envelope.RetBusinessInvalid},
		{"no station ids", serve.QueryStationsStatus, token, serve.StationsStatusQuery{}, nil, envelope.RetBusinessInvalid},
		{"unknown station", serve.QueryStationsStatus, token, serve.StationsStatusQuery{StationIDs: []string{"44039999999999999999"}}, nil, envelope.RetBusinessInvalid},
		{"StationIDs wrong type", serve.QueryStationsStatus, token, map[string]any{"StationIDs": "x"}, nil, envelope.RetBusinessInvalid},
		{"PageNo 0", serve.QueryStationsInfo, token, map[string]any{"PageNo": 0}, nil, envelope.RetBusinessInvalid},
		{"bad LastQueryTime", serve.QueryStationsInfo, token, map[string]any{"LastQueryTime": "yesterday"}, nil, envelope.RetBusinessInvalid},
		{"frequency 4 s", serve.QueryFrequency, token, map[string]any{"ParaFrequency": 4}, nil, envelope.RetBusinessInvalid},
		{"frequency 61 s", serve.QueryFrequency, token, map[string]any{"ParaFrequency": 61}, nil, envelope.RetBusinessInvalid},
		{"frequency missing", serve.QueryFrequency, token, map[string]any{}, nil, envelope.RetBusinessInvalid},
		{"collect unknown interface", serve.SupplementCollect, token, map[string]any{"OperatorID": "123456789",
			"MissingTime": "{2020-01-22 10:10:10}", "InterfaceName": "supplement_nothing"}, nil, envelope.RetBusinessInvalid},
		{"collect without MissingTime", serve.SupplementCollect, token, map[string]any{"OperatorID": "123456789",
			"InterfaceName": serve.SupplementStationStatus}, nil, envelope.RetBusinessInvalid},
		{"token needs no token", serve.QueryToken, "", serve.TokenQuery{OperatorID: "123456789", OperatorSecret: "x"}, nil, envelope.RetOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.seal(t, tc.payload)
			var body []byte
			if tc.body != nil {
				body = tc.body(t, r)
			} else {
				body, _ = json.Marshal(r)
			}
			raw := f.post(t, "v1", tc.iface, tc.token, body)
			var resp envelope.Response
			if err := json.Unmarshal(raw, &resp); err != nil {
				t.Fatalf("answer %s: %v", raw, err)
			}
			if resp.Ret != tc.want {
				t.Fatalf("Ret = %v (%s), want %v", resp.Ret, resp.Msg, tc.want)
			}
			// Refusals after the caller is known are signed too.
			if tc.want != envelope.RetOK && tc.name != "unknown OperatorID" && resp.Sig != "" &&
				resp.Sig != f.codec.SignResponse(resp.Ret, resp.Msg, resp.Data) {
				t.Fatalf("refusal Sig %s does not verify", resp.Sig)
			}
		})
	}

	t.Run("replay", func(t *testing.T) {
		body, _ := json.Marshal(f.seal(t, status))
		if ret := f.open(t, f.post(t, "v1", serve.QueryStationsStatus, token, body), nil); ret != envelope.RetOK {
			t.Fatalf("first Ret %v", ret)
		}
		if ret := f.open(t, f.post(t, "v1", serve.QueryStationsStatus, token, body), nil); ret != envelope.RetEnvelope {
			t.Fatalf("replayed Ret %v, want 4003", ret)
		}
	})
	t.Run("v1.0 path", func(t *testing.T) {
		body, _ := json.Marshal(f.seal(t, status))
		var ans serve.StationsStatusAnswer
		if ret := f.open(t, f.post(t, "v1.0", serve.QueryStationsStatus, token, body), &ans); ret != envelope.RetOK ||
			len(ans.StationStatusInfos) != 1 {
			t.Fatalf("Ret %v, %+v", ret, ans)
		}
	})
}

func TestQueryStationsInfo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := registry.AddStations(ctx, f.db, 4, 1, 2); err != nil {
		t.Fatal(err)
	}
	token := f.token(t)

	// Defaults: page 1 of 10.
	var all map[string]any
	if ret := f.call(t, serve.QueryStationsInfo, token, map[string]any{}, &all); ret != 0 {
		t.Fatalf("Ret %v", ret)
	}
	if all["ItemSize"] != 5.0 || all["PageCount"] != 1.0 || all["PageNo"] != 1.0 {
		t.Fatalf("page = %v %v %v", all["ItemSize"], all["PageCount"], all["PageNo"])
	}
	// Field names exactly as tables 2–7 spell them.
	demo := all["StationInfos"].([]any)[0].(map[string]any)
	for _, k := range []string{"StationID", "OperatorID", "EquipmentOwnerID", "StationName", "CountryCode", "AreaCode",
		"Address", "StationTel", "ServiceTel", "StationType", "StationStatus", "ParkNums", "StationLng", "StationLat",
		"Construction", "Pictures", "OpratorType", "EquipmentInfos"} {
		if _, ok := demo[k]; !ok {
			t.Errorf("StationInfo lacks %s", k)
		}
	}
	if demo["StationID"] != registry.DemoStationID {
		t.Fatalf("first station %v (ordered by id)", demo["StationID"])
	}
	eqs := demo["EquipmentInfos"].([]any)
	if len(eqs) != 2 {
		t.Fatalf("%d equipment", len(eqs))
	}
	eq := eqs[0].(map[string]any)
	for _, k := range []string{"EquipmentID", "ManufacturerID", "EquipmentModel", "EquipmentType", "ConnectorInfos",
		"EquipmentName", "Power", "EquipmentStatus", "EquipmentPower", "NewNationalStandard"} {
		if _, ok := eq[k]; !ok {
			t.Errorf("EquipmentInfo lacks %s", k)
		}
	}
	cons := eq["ConnectorInfos"].([]any)
	if len(cons) != 12 || cons[0].(map[string]any)["ConnectorID"] != "4403000000000000000001001" {
		t.Fatalf("connectors %d, first %v", len(cons), cons[0])
	}
	for _, k := range []string{"ConnectorID", "ConnectorName", "ConnectorType", "VoltageUpperLimits", "VoltageLowerLimits",
		"Current", "Power", "Voltage", "BMSPowerType"} {
		if _, ok := cons[0].(map[string]any)[k]; !ok {
			t.Errorf("ConnectorInfo lacks %s", k)
		}
	}

	// Paging: page 2 of size 2 holds the 2nd and 3rd load station; beyond the
	// last page the asked page number comes back with no stations.
	var p serve.StationsInfoAnswer
	if ret := f.call(t, serve.QueryStationsInfo, token, map[string]any{"PageNo": 2, "PageSize": 2}, &p); ret != 0 {
		t.Fatalf("Ret %v", ret)
	}
	if p.PageNo != 2 || p.PageCount != 3 || p.ItemSize != 5 || len(p.StationInfos) != 2 ||
		p.StationInfos[0].StationID != "44030000000000001001" {
		t.Fatalf("page 2 = %d/%d items %d, %d stations", p.PageNo, p.PageCount, p.ItemSize, len(p.StationInfos))
	}
	if ret := f.call(t, serve.QueryStationsInfo, token, map[string]any{"PageNo": 9, "PageSize": 2}, &p); ret != 0 ||
		p.PageNo != 9 || len(p.StationInfos) != 0 {
		t.Fatalf("page 9: Ret %v, %+v", ret, p)
	}

	// LastQueryTime: only stations changed since then.
	sinceAt := time.Now().Add(time.Second).Truncate(time.Second) // the layout has whole seconds
	since := sinceAt.In(time.FixedZone("CST", 8*3600)).Format(serve.DateTimeLayout)
	// The change below must be stamped after since.
	eventually.True(t, 5*time.Second, "the database clock past "+since, func() (bool, string) {
		var now time.Time
		if err := f.db.QueryRow(ctx, `select now()`).Scan(&now); err != nil {
			t.Fatal(err)
		}
		return now.After(sinceAt), now.String()
	})
	if _, err := f.db.Exec(ctx, `update charging_connectors set park_no='X1', updated_at=now() where connector_id='4403000000000000000002012'`); err != nil {
		t.Fatal(err)
	}
	if ret := f.call(t, serve.QueryStationsInfo, token, map[string]any{"LastQueryTime": since}, &p); ret != 0 {
		t.Fatalf("Ret %v", ret)
	}
	if p.ItemSize != 1 || p.StationInfos[0].StationID != registry.DemoStationID {
		t.Fatalf("changed since %s: %d stations", since, p.ItemSize)
	}
}

func TestQueryStationsStatusAndFrequency(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	token := f.token(t)
	at := time.Now().Truncate(time.Second)
	if _, err := push.RecordStatusChange(ctx, f.db, push.DefaultRegulator, registry.ConnectorStatusInfo{
		ConnectorID: "4403000000000000000002005", Status: registry.StatusCharging, CurrentA: 200, VoltageA: 750, SOC: 42,
		ChargeElectricity: 12.5}, at); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if ret := f.call(t, serve.QueryStationsStatus, token, serve.StationsStatusQuery{StationIDs: []string{registry.DemoStationID}}, &raw); ret != 0 {
		t.Fatalf("Ret %v", ret)
	}
	infos := raw["StationStatusInfos"].([]any)
	st := infos[0].(map[string]any)
	cs := st["ConnectorStatusInfos"].([]any)
	if st["StationID"] != registry.DemoStationID || len(cs) != 24 {
		t.Fatalf("status of %v: %d connectors", st["StationID"], len(cs))
	}
	got := cs[12+4].(map[string]any)
	if got["ConnectorID"] != "4403000000000000000002005" || got["Status"] != 3.0 || got["SOC"] != 42.0 ||
		got["ChargeElectricity"] != 12.5 || got["CurrentA"] != 200.0 {
		t.Fatalf("connector status %v", got)
	}
	for _, k := range []string{"CurrentB", "CurrentC", "VoltageA", "VoltageB", "VoltageC", "DischargeElectricity"} {
		if _, ok := got[k]; !ok {
			t.Errorf("ConnectorStatusInfo lacks %s", k)
		}
	}
	if cs[0].(map[string]any)["Status"] != 1.0 {
		t.Fatalf("idle connector %v", cs[0])
	}

	var ans serve.StatusAnswer
	if ret := f.call(t, serve.QueryFrequency, token, map[string]any{"ParaFrequency": 15}, &ans); ret != 0 || ans.Status != 0 {
		t.Fatalf("query_frequency Ret %v %+v", ret, ans)
	}
	var n int
	if err := f.db.QueryRow(ctx, `select push_frequency_s from regulator_settings where operator_id='123456789'`).Scan(&n); err != nil || n != 15 {
		t.Fatalf("stored frequency %d, %v", n, err)
	}
	if len(f.freq) != 1 || f.freq[0] != 15 {
		t.Fatalf("OnFrequency saw %v", f.freq)
	}
}

func TestSupplement(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	token := f.token(t)
	conn := "4403000000000000000001003"
	t0 := time.Date(2026, 11, 23, 10, 10, 10, 0, time.FixedZone("CST", 8*3600))
	for i, s := range []int{registry.StatusOccupied, registry.StatusCharging, registry.StatusChargeDone} {
		if _, err := push.RecordStatusChange(ctx, f.db, push.DefaultRegulator, registry.ConnectorStatusInfo{
			ConnectorID: conn, Status: s, ChargeElectricity: registry.KWh(i)}, t0.Add(time.Duration(i)*5*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// Asked out of order: the answer keeps the order and count asked.
	var ans serve.CollectAnswer
	ret := f.call(t, serve.SupplementCollect, token, map[string]any{"OperatorID": "123456789", "StationID": registry.DemoStationID,
		"ConnectorID": conn, "MissingTime": "{2026-11-23 10:10:20, 2026-11-23 10:10:10, 2026-11-23 10:10:17}",
		"InterfaceName": serve.SupplementStationStatus}, &ans)
	if ret != 0 {
		t.Fatalf("Ret %v", ret)
	}
	if len(ans.Object) != 3 || ans.InterfaceName != serve.SupplementStationStatus || ans.ConnectorID != conn {
		t.Fatalf("answer %+v", ans)
	}
	want := []int{registry.StatusChargeDone, registry.StatusOccupied, registry.StatusCharging}
	for i, o := range ans.Object {
		var c registry.ConnectorStatusInfo
		if err := json.Unmarshal(o, &c); err != nil {
			t.Fatal(err)
		}
		if c.ConnectorID != conn || c.Status != want[i] {
			t.Errorf("object %d = %+v, want status %d", i, c, want[i])
		}
	}
	// Before any report there is nothing to backfill.
	ret = f.call(t, serve.SupplementCollect, token, map[string]any{"OperatorID": "123456789", "StationID": registry.DemoStationID,
		"ConnectorID": conn, "MissingTime": []string{"2026-11-23 10:10:09"}, "InterfaceName": serve.SupplementStationStatus}, &ans)
	if ret != envelope.RetBusinessInvalid {
		t.Fatalf("before first report: Ret %v", ret)
	}

	var st serve.StationAnswer
	if ret := f.call(t, serve.SupplementStation, token, serve.StationQuery{OperatorID: "123456789", StationID: registry.DemoStationID}, &st); ret != 0 ||
		st.StationInfo.StationID != registry.DemoStationID || len(st.StationInfo.EquipmentInfos) != 2 {
		t.Fatalf("supplement_stationInfo Ret %v %+v", ret, st.StationInfo.StationID)
	}
	if ret := f.call(t, serve.SupplementStation, token, serve.StationQuery{OperatorID: "123456789", StationID: "nope"}, &st); ret != envelope.RetBusinessInvalid {
		t.Fatalf("unknown station Ret %v", ret)
	}
}
