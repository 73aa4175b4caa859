package ykc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/interconnect/serve"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/internal/eventually"
)

// regulator is the regulator exchange served over real HTTP, called with
// the standard's envelope (as tests/ocpp does).
type regulator struct {
	srv   *httptest.Server
	codec *envelope.Codec
	seq   *envelope.SeqGenerator
	token string
}

func newRegulator(t *testing.T) *regulator {
	t.Helper()
	ctx := context.Background()
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ks := &keys.Store{DB: stack.DB, Key: mk}
	if err := ks.EnsureDev(ctx, push.DefaultRegulator); err != nil {
		t.Fatal(err)
	}
	r := &regulator{srv: httptest.NewServer(serve.New(serve.Config{DB: stack.DB, Keys: ks, TokenTTL: time.Hour,
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
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	ans, err := r.codec.OpenResponse(raw, out)
	if err != nil || ans.Ret != envelope.RetOK {
		t.Fatalf("%s: Ret %v: %v (%s)", name, ans.Ret, err, raw)
	}
}

// checkRegulatorBMS: the BMS frames the raw client sent (0x15, 0x23, 0x25
// in TestYKCSession) answer query_bms_info over the envelope as one table
// 20 sample, and a notification_bmsInfo push is in the outbox.
func checkRegulatorBMS(t *testing.T, conn string) {
	t.Helper()
	ctx := context.Background()
	reg := newRegulator(t)
	want := registry.BmsInfo{VINCode: "LSVAU2180N2183294", BMSVer: "V1.1.0", BMSCode: "CATL1", ConnectorID: conn,
		MaxChargeCurrent: 120, RatedCapacity: 57, TatalVoltage: 395, TotalCurrent: 119, Soc: 55,
		VoltageH: 3.95, VoltageHNumIndex: 18, TemptureH: 30, TemptureHNumIndex: 4, TemptureL: 22, TemptureLNumIndex: 10,
		CurrentCapacity: 0} // one demand frame: no SOC gained yet
	eventually.True(t, 30*time.Second, "query_bms_info answers the YKC BMS frames", func() (bool, string) {
		var got registry.ConnectorBms
		reg.call(t, serve.QueryBmsInfo, serve.BmsQuery{ConnectorID: conn}, &got)
		if got.Status != registry.StatusCharging || got.BmsInfo == nil {
			return false, "no sample yet"
		}
		b := *got.BmsInfo
		if b.FreshTime == "" || b.StartChargingTime == "" || b.ChargingSessionMin < 12*60 {
			return false, "times " + b.FreshTime + " " + b.StartChargingTime
		}
		b.FreshTime, b.StartChargingTime, b.ChargingSessionMin = "", "", 0
		raw, _ := json.Marshal(b)
		return b == want, string(raw)
	})
	var pushed int
	if err := stack.DB.QueryRow(ctx, `select count(*) from regulator_pushes where interface=$1 and connector_id=$2`,
		push.NotificationBmsInfo, conn).Scan(&pushed); err != nil || pushed == 0 {
		t.Fatalf("notification_bmsInfo pushes in the outbox: %d (%v)", pushed, err)
	}
}
