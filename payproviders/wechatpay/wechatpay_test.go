package wechatpay_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/voltflow/voltflow/payproviders/paysim"
	"github.com/voltflow/voltflow/payproviders/wechatpay"
)

const apiv3 = "0123456789abcdef0123456789abcdef"

// The client and the fake read the specification independently: an order,
// a query, a callback and a bill must agree between them.
func TestClientAgainstFake(t *testing.T) {
	ctx := context.Background()
	merchant, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	platform, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sim, ln, err := paysim.Listen(paysim.Config{Addr: "127.0.0.1:0", MchID: "1900000001", AppID: "wxsim", APIv3Key: apiv3,
		MerchantKey: &merchant.PublicKey, PlatformKey: platform, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: sim.Handler()}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()

	var mu sync.Mutex
	var got []wechatpay.Transaction
	var client *wechatpay.Client
	notify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, tx, err := client.ParseNotification(r.Header, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, tx)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer notify.Close()
	client, err = wechatpay.New(wechatpay.Config{BaseURL: sim.URL(), MchID: "1900000001", AppID: "wxsim", SerialNo: "M1",
		PrivateKey: merchant, APIv3Key: []byte(apiv3), PlatformKey: &platform.PublicKey, NotifyURL: notify.URL})
	if err != nil {
		t.Fatal(err)
	}
	code, err := client.Native(ctx, wechatpay.Order{OutTradeNo: "T1", Description: "电费", Cents: 5000})
	if err != nil || !strings.Contains(code, "T1") {
		t.Fatalf("native: %q %v", code, err)
	}
	if _, err := client.JSAPI(ctx, wechatpay.Order{OutTradeNo: "T2", Description: "电费", Cents: 100, OpenID: "o1"}); err != nil {
		t.Fatalf("jsapi: %v", err)
	}
	q, err := client.Query(ctx, "T1")
	if err != nil || q.TradeState != wechatpay.StateNotPay {
		t.Fatalf("query before paying: %+v %v", q, err)
	}
	resp, err := http.Post(sim.URL()+"/sim/orders/T1/pay", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var paid struct {
		Status int `json:"status"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&paid)
	_ = resp.Body.Close()
	if paid.Status != http.StatusNoContent || len(got) != 1 || got[0].TradeState != wechatpay.StateSuccess || got[0].Amount.Total != 5000 {
		t.Fatalf("callback: status %d, got %+v", paid.Status, got)
	}
	q, err = client.Query(ctx, "T1")
	if err != nil || q.TradeState != wechatpay.StateSuccess || q.TransactionID != got[0].TransactionID {
		t.Fatalf("query after paying: %+v %v", q, err)
	}
	bill, err := client.TradeBill(ctx, strings.SplitN(q.SuccessTime, "T", 2)[0])
	if err != nil || !bytes.Contains(bill, []byte("`T1,")) {
		t.Fatalf("bill: %s %v", bill, err)
	}

	// A client signing with another key is refused by the fake.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	bad, _ := wechatpay.New(wechatpay.Config{BaseURL: sim.URL(), MchID: "1900000001", AppID: "wxsim", PrivateKey: other,
		APIv3Key: []byte(apiv3), PlatformKey: &platform.PublicKey, NotifyURL: notify.URL})
	var apiErr *wechatpay.APIError
	if _, err := bad.Query(ctx, "T1"); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("foreign merchant key: %v", err)
	}
	// A client expecting another platform key refuses the fake's answers.
	wrong, _ := wechatpay.New(wechatpay.Config{BaseURL: sim.URL(), MchID: "1900000001", AppID: "wxsim", PrivateKey: merchant,
		APIv3Key: []byte(apiv3), PlatformKey: &other.PublicKey, NotifyURL: notify.URL})
	if _, err := wrong.Query(ctx, "T1"); !errors.Is(err, wechatpay.ErrBadSignature) {
		t.Fatalf("foreign platform key: %v", err)
	}
}
