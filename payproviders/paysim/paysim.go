// Package paysim is a local fake of WeChat Pay API v3 for `make run` and the
// tests (`voltflow sim pay`): it takes Native and JSAPI orders, answers
// queries, lets a simulated customer pay, sends the signed and encrypted
// payment callback, and serves a daily trade bill. Its signature code is
// its own, written from the specification independently of
// payproviders/wechatpay, so that a mistake in one is not mirrored in the
// other and the tests compare two readings of the spec.
package paysim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config of the fake.
type Config struct {
	Addr     string // listen address
	MchID    string
	AppID    string
	APIv3Key string // 32 characters
	// MerchantKey verifies the merchant's request signatures (nil: requests
	// are not checked, for manual poking only).
	MerchantKey *rsa.PublicKey
	// PlatformKey signs answers and callbacks (nil: one is generated).
	PlatformKey    *rsa.PrivateKey
	PlatformSerial string
	// PlatformKeyOut, when set, receives the platform public key (PEM) once
	// the fake listens, for the merchant to verify with.
	PlatformKeyOut string
	// AlipayAppID, AlipayKey (nil: generated) and AlipayKeyOut play Alipay:
	// the app the merchant is, the key Alipay signs with, and where its
	// public key is written.
	AlipayAppID  string
	AlipayKey    *rsa.PrivateKey
	AlipayKeyOut string
	Log          *slog.Logger
}

type order struct {
	OutTradeNo    string    `json:"outTradeNo"`
	Provider      string    `json:"provider"` // wechat or alipay
	TransactionID string    `json:"transactionId"`
	TradeType     string    `json:"tradeType"`
	State         string    `json:"state"`
	Total         int64     `json:"total"`
	NotifyURL     string    `json:"notifyUrl"`
	Description   string    `json:"description"`
	CreatedAt     time.Time `json:"createdAt"`
	PaidAt        time.Time `json:"paidAt"`
	// lastNotify is the callback as sent, so a replay is byte-identical.
	lastNotify []byte
	lastHeader http.Header
	lastForm   url.Values // Alipay's
}

// Sim is a running fake.
type Sim struct {
	cfg    Config
	log    *slog.Logger
	mu     sync.Mutex
	orders map[string]*order
	// billExtra are rows planted into the bill that no order backs, and
	// billAmount overrides an order's amount in the bill: the mismatches a
	// reconciliation test plants.
	billExtra  []order
	billAmount map[string]int64
	base       string
	http       *http.Client
}

// Run serves until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	s, ln, err := Listen(cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	s.log.Info("payment simulator listening", "url", s.base)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Listen opens the fake's socket and writes its platform key.
func Listen(cfg Config) (*Sim, net.Listener, error) {
	if len(cfg.APIv3Key) != 32 {
		return nil, nil, fmt.Errorf("paysim: APIv3 key must be 32 characters, got %d", len(cfg.APIv3Key))
	}
	if cfg.PlatformKey == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, nil, err
		}
		cfg.PlatformKey = k
	}
	if cfg.AlipayKey == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, nil, err
		}
		cfg.AlipayKey = k
	}
	if cfg.AlipayAppID == "" {
		cfg.AlipayAppID = "2021000000000001"
	}
	if cfg.PlatformSerial == "" {
		cfg.PlatformSerial = "SIM-PLATFORM-1"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, err
	}
	s := &Sim{cfg: cfg, log: cfg.Log, orders: map[string]*order{}, billAmount: map[string]int64{},
		base: "http://" + ln.Addr().String(), http: &http.Client{Timeout: 10 * time.Second}}
	for _, out := range []struct {
		path string
		key  *rsa.PrivateKey
	}{{cfg.PlatformKeyOut, cfg.PlatformKey}, {cfg.AlipayKeyOut, cfg.AlipayKey}} {
		if out.path == "" {
			continue
		}
		if err := writePublic(out.path, out.key); err != nil {
			_ = ln.Close()
			return nil, nil, err
		}
	}
	return s, ln, nil
}

// writePublic writes key's public half as PEM, whole or not at all.
func writePublic(path string, key *rsa.PrivateKey) error {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// URL is where the fake listens.
func (s *Sim) URL() string { return s.base }

// Handler routes the fake's API and its control endpoints (/sim/...).
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/pay/transactions/native", s.merchant(s.place("NATIVE")))
	mux.HandleFunc("POST /v3/pay/transactions/jsapi", s.merchant(s.place("JSAPI")))
	mux.HandleFunc("GET /v3/pay/transactions/out-trade-no/{no}", s.merchant(s.query))
	mux.HandleFunc("GET /v3/bill/tradebill", s.merchant(s.billApply))
	mux.HandleFunc("GET /v3/billdownload/file", s.merchant(s.billFile))
	mux.HandleFunc("POST /gateway.do", s.gateway)
	mux.HandleFunc("POST /sim/orders/{no}/pay", s.pay)
	mux.HandleFunc("POST /sim/orders/{no}/notify", s.renotify)
	mux.HandleFunc("GET /sim/orders", s.list)
	mux.HandleFunc("POST /sim/bill/extra", s.plantExtra)
	mux.HandleFunc("POST /sim/bill/amount", s.plantAmount)
	return mux
}

var authRe = regexp.MustCompile(`(\w+)="([^"]*)"`)

// merchant checks the Authorization header of a merchant request: the
// scheme, the mchid and the RSA-SHA256 signature over
// method\nurl\ntimestamp\nnonce\nbody\n with the merchant's public key.
func (s *Sim) merchant(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			s.fail(w, http.StatusBadRequest, "PARAM_ERROR", err.Error())
			return
		}
		if s.cfg.MerchantKey != nil {
			if reason := s.checkMerchant(r, body); reason != "" {
				s.log.Warn("refused merchant request", "path", r.URL.Path, "reason", reason)
				s.fail(w, http.StatusUnauthorized, "SIGN_ERROR", reason)
				return
			}
		}
		next(w, r, body)
	}
}

func (s *Sim) checkMerchant(r *http.Request, body []byte) string {
	scheme, params, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || scheme != "WECHATPAY2-SHA256-RSA2048" {
		return "authorization scheme"
	}
	p := map[string]string{}
	for _, m := range authRe.FindAllStringSubmatch(params, -1) {
		p[m[1]] = m[2]
	}
	if p["mchid"] != s.cfg.MchID {
		return "mchid"
	}
	ts, err := strconv.ParseInt(p["timestamp"], 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return "timestamp"
	}
	signed := strings.Join([]string{r.Method, r.URL.RequestURI(), p["timestamp"], p["nonce_str"], string(body)}, "\n") + "\n"
	digest := sha256.New()
	digest.Write([]byte(signed))
	sig, err := base64.StdEncoding.DecodeString(p["signature"])
	if err != nil || rsa.VerifyPKCS1v15(s.cfg.MerchantKey, crypto.SHA256, digest.Sum(nil), sig) != nil {
		return "signature"
	}
	return ""
}

func (s *Sim) fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

// signHeaders are the platform's signature headers over body.
func (s *Sim) signHeaders(body []byte) (http.Header, error) {
	nb := make([]byte, 16)
	if _, err := rand.Read(nb); err != nil {
		return nil, err
	}
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), hex.EncodeToString(nb)
	digest := sha256.New()
	digest.Write([]byte(ts + "\n" + nonce + "\n"))
	digest.Write(body)
	digest.Write([]byte("\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.cfg.PlatformKey, crypto.SHA256, digest.Sum(nil))
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	h.Set("Wechatpay-Serial", s.cfg.PlatformSerial)
	h.Set("Content-Type", "application/json")
	return h, nil
}

func (s *Sim) answer(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "SYSTEM_ERROR", err.Error())
		return
	}
	h, err := s.signHeaders(body)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "SYSTEM_ERROR", err.Error())
		return
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	_, _ = w.Write(body)
}

func (s *Sim) place(tradeType string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var in struct {
			AppID       string `json:"appid"`
			MchID       string `json:"mchid"`
			Description string `json:"description"`
			OutTradeNo  string `json:"out_trade_no"`
			NotifyURL   string `json:"notify_url"`
			Amount      struct {
				Total int64 `json:"total"`
			} `json:"amount"`
			Payer *struct {
				OpenID string `json:"openid"`
			} `json:"payer"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.OutTradeNo == "" || in.Amount.Total <= 0 || in.NotifyURL == "" {
			s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "out_trade_no, amount.total and notify_url are required")
			return
		}
		if in.AppID != s.cfg.AppID || in.MchID != s.cfg.MchID {
			s.fail(w, http.StatusBadRequest, "APPID_MCHID_NOT_MATCH", "appid and mchid do not match")
			return
		}
		if tradeType == "JSAPI" && (in.Payer == nil || in.Payer.OpenID == "") {
			s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "payer.openid is required")
			return
		}
		s.mu.Lock()
		o, ok := s.orders[in.OutTradeNo]
		if !ok {
			o = &order{OutTradeNo: in.OutTradeNo, Provider: "wechat", TradeType: tradeType, State: "NOTPAY", Total: in.Amount.Total,
				NotifyURL: in.NotifyURL, Description: in.Description, CreatedAt: time.Now()}
			s.orders[in.OutTradeNo] = o
		}
		same := o.Total == in.Amount.Total && o.TradeType == tradeType
		s.mu.Unlock()
		if !same {
			s.fail(w, http.StatusBadRequest, "OUT_TRADE_NO_USED", "out_trade_no used with other parameters")
			return
		}
		if tradeType == "JSAPI" {
			s.answer(w, map[string]string{"prepay_id": "wx" + in.OutTradeNo})
			return
		}
		s.answer(w, map[string]string{"code_url": "weixin://wxpay/bizpayurl?pr=" + in.OutTradeNo})
	}
}

func (s *Sim) transaction(o *order) map[string]any {
	t := map[string]any{"appid": s.cfg.AppID, "mchid": s.cfg.MchID, "out_trade_no": o.OutTradeNo, "trade_type": o.TradeType,
		"trade_state": o.State, "trade_state_desc": o.State,
		"amount": map[string]any{"total": o.Total, "currency": "CNY"}}
	if o.State == "SUCCESS" {
		t["transaction_id"] = o.TransactionID
		t["success_time"] = o.PaidAt.In(cst).Format(time.RFC3339)
		t["amount"] = map[string]any{"total": o.Total, "payer_total": o.Total, "currency": "CNY", "payer_currency": "CNY"}
		t["payer"] = map[string]string{"openid": "sim-openid"}
	}
	return t
}

func (s *Sim) query(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.mu.Lock()
	o, ok := s.orders[r.PathValue("no")]
	var t map[string]any
	if ok {
		t = s.transaction(o)
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, http.StatusNotFound, "ORDER_NOT_EXIST", "order does not exist")
		return
	}
	s.answer(w, t)
}

// pay is the customer paying: ?notify=false leaves the callback unsent (a
// late callback; the merchant must query), otherwise it is sent now and
// its answer reported.
func (s *Sim) pay(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	s.mu.Lock()
	o, ok := s.orders[no]
	if ok && o.State == "NOTPAY" {
		o.State, o.PaidAt = "SUCCESS", time.Now()
		o.TransactionID = "4200" + strings.ReplaceAll(o.PaidAt.Format("20060102150405.000000"), ".", "")
		if o.Provider == "alipay" {
			o.TransactionID = "2026" + strings.ReplaceAll(o.PaidAt.Format("20060102150405.000000"), ".", "")
		}
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "no such order", http.StatusNotFound)
		return
	}
	if r.URL.Query().Get("notify") == "false" {
		writeJSON(w, map[string]any{"transactionId": o.TransactionID, "notified": false})
		return
	}
	status, err := s.notify(r.Context(), no, false)
	s.report(w, o.TransactionID, status, err)
}

// renotify sends the order's last callback again, byte for byte (a replay,
// as WeChat Pay repeats callbacks it thinks were not received), or a fresh
// one with ?fresh=true.
func (s *Sim) renotify(w http.ResponseWriter, r *http.Request) {
	status, err := s.notify(r.Context(), r.PathValue("no"), r.URL.Query().Get("fresh") != "true")
	s.report(w, "", status, err)
}

func (s *Sim) report(w http.ResponseWriter, txn string, status int, err error) {
	out := map[string]any{"transactionId": txn, "notified": err == nil, "status": status}
	if err != nil {
		out["error"] = err.Error()
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// notify posts the order's TRANSACTION.SUCCESS callback to its notify_url.
func (s *Sim) notify(ctx context.Context, no string, replay bool) (int, error) {
	s.mu.Lock()
	o, ok := s.orders[no]
	if !ok || o.State != "SUCCESS" {
		s.mu.Unlock()
		return 0, fmt.Errorf("order %s is not paid", no)
	}
	if o.Provider == "alipay" {
		s.mu.Unlock()
		return s.alipayNotify(ctx, o, replay)
	}
	body, header := o.lastNotify, o.lastHeader
	t := s.transaction(o)
	url := o.NotifyURL
	s.mu.Unlock()
	if !replay || body == nil {
		var err error
		if body, err = s.callbackBody(t); err != nil {
			return 0, err
		}
		if header, err = s.signHeaders(body); err != nil {
			return 0, err
		}
		s.mu.Lock()
		o.lastNotify, o.lastHeader = body, header
		s.mu.Unlock()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	s.log.Info("sent payment callback", "order", no, "status", resp.StatusCode, "replay", replay)
	return resp.StatusCode, nil
}

// callbackBody seals the transaction with AES-256-GCM under the APIv3 key
// (a fresh 12-character nonce, associated data "transaction").
func (s *Sim) callbackBody(t map[string]any) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	nb := make([]byte, 12)
	if _, err := rand.Read(nb); err != nil {
		return nil, err
	}
	for i := range nb {
		nb[i] = alphabet[int(nb[i])%len(alphabet)]
	}
	block, err := aes.NewCipher([]byte(s.cfg.APIv3Key))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block) // standard 12-byte nonce
	if err != nil {
		return nil, err
	}
	sealed := aead.Seal(nil, nb, plain, []byte("transaction"))
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": hex.EncodeToString(id), "create_time": time.Now().In(cst).Format(time.RFC3339),
		"resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
		"resource": map[string]string{"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
			"ciphertext": base64.StdEncoding.EncodeToString(sealed), "associated_data": "transaction", "nonce": string(nb)},
	})
}

func (s *Sim) list(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make([]order, 0, len(s.orders))
	for _, o := range s.orders {
		out = append(out, *o)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	writeJSON(w, map[string]any{"items": out})
}

// plantExtra adds a paid row to the bill that no merchant order backs.
func (s *Sim) plantExtra(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OutTradeNo string `json:"outTradeNo"`
		Total      int64  `json:"total"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.OutTradeNo == "" || in.Total <= 0 {
		http.Error(w, "want {outTradeNo, total}", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.billExtra = append(s.billExtra, order{OutTradeNo: in.OutTradeNo, Total: in.Total, State: "SUCCESS", TradeType: "NATIVE",
		TransactionID: "4200EXTRA" + in.OutTradeNo, PaidAt: time.Now()})
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// plantAmount makes the bill show another amount for a paid order.
func (s *Sim) plantAmount(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OutTradeNo string `json:"outTradeNo"`
		Total      int64  `json:"total"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.OutTradeNo == "" {
		http.Error(w, "want {outTradeNo, total}", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.billAmount[in.OutTradeNo] = in.Total
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// bill is the day's trade bill in the provider's format: a header line,
// one line per successful transaction with every field prefixed by a
// backtick, then a summary header and line.
func (s *Sim) bill(day string) []byte {
	s.mu.Lock()
	rows := []order{}
	for _, o := range s.orders {
		if o.State == "SUCCESS" && o.Provider != "alipay" {
			c := *o
			if v, ok := s.billAmount[o.OutTradeNo]; ok {
				c.Total = v
			}
			rows = append(rows, c)
		}
	}
	rows = append(rows, s.billExtra...)
	s.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool { return rows[i].OutTradeNo < rows[j].OutTradeNo })
	var b strings.Builder
	b.WriteString("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n")
	var total int64
	n := 0
	for _, o := range rows {
		if o.PaidAt.In(cst).Format(time.DateOnly) != day {
			continue
		}
		n++
		total += o.Total
		yuan := fmt.Sprintf("%d.%02d", o.Total/100, o.Total%100)
		fields := []string{o.PaidAt.In(cst).Format(time.DateTime), s.cfg.AppID, s.cfg.MchID, "0", "", o.TransactionID, o.OutTradeNo,
			"sim-openid", o.TradeType, "SUCCESS", "OTHERS", "CNY", yuan, "0.00", "0", "0", "0.00", "0.00", "", "", o.Description, "", "0.00000", "0.60%", yuan, "0.00", ""}
		for i, f := range fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("`" + f)
		}
		b.WriteString("\r\n")
	}
	b.WriteString("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n")
	fmt.Fprintf(&b, "`%d,`%d.%02d,`0.00,`0.00,`0.00000,`%d.%02d,`0.00\r\n", n, total/100, total%100, total/100, total%100)
	return []byte(b.String())
}

// cst is China Standard Time: the provider's bill days are Beijing days.
var cst = time.FixedZone("CST", 8*3600)

func (s *Sim) billApply(w http.ResponseWriter, r *http.Request, _ []byte) {
	day := r.URL.Query().Get("bill_date")
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "bill_date must be YYYY-MM-DD")
		return
	}
	sum := sha256.Sum256(s.bill(day))
	s.answer(w, map[string]string{"download_url": s.base + "/v3/billdownload/file?bill_date=" + day,
		"hash_type": "SHA256", "hash_value": hex.EncodeToString(sum[:])})
}

func (s *Sim) billFile(w http.ResponseWriter, r *http.Request, _ []byte) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	_, _ = w.Write(s.bill(r.URL.Query().Get("bill_date")))
}
