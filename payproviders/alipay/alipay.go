// Package alipay is a client of the Alipay open platform (支付宝开放平台,
// gateway.do, RSA2) for face-to-face QR payments, written to the provider's
// published specification (opendocs.alipay.com): the official Go SDK is not
// served by the module proxy here. Requests are signed with the app's RSA
// key (SHA256WithRSA over the sorted parameters); answers and asynchronous
// notifications are verified with Alipay's public key.
package alipay

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/voltflow/voltflow/payproviders/wechatpay"
)

// Trade statuses (trade_status).
const (
	WaitBuyerPay  = "WAIT_BUYER_PAY"
	TradeSuccess  = "TRADE_SUCCESS"
	TradeFinished = "TRADE_FINISHED"
	TradeClosed   = "TRADE_CLOSED"
)

// Config of an app.
type Config struct {
	GatewayURL string // https://openapi.alipay.com/gateway.do (or the local fake)
	AppID      string
	PrivateKey *rsa.PrivateKey // the app's key
	PublicKey  *rsa.PublicKey  // Alipay's public key
	NotifyURL  string
	HTTP       *http.Client
	Now        func() time.Time
}

// Client calls Alipay.
type Client struct{ cfg Config }

// New checks the configuration.
func New(cfg Config) (*Client, error) {
	if cfg.GatewayURL == "" || cfg.AppID == "" || cfg.PrivateKey == nil || cfg.PublicKey == nil {
		return nil, errors.New("alipay: gateway URL, app id, app private key and Alipay public key are required")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg}, nil
}

// FromEnv builds a client from VOLTFLOW_ALIPAY_* (nil, nil when
// VOLTFLOW_ALIPAY_URL is unset: Alipay is off).
func FromEnv(getenv func(string) string) (*Client, error) {
	gw := getenv("VOLTFLOW_ALIPAY_URL")
	if gw == "" {
		return nil, nil
	}
	priv, err := wechatpay.ReadPrivateKey(getenv("VOLTFLOW_ALIPAY_PRIVATE_KEY"))
	if err != nil {
		return nil, fmt.Errorf("VOLTFLOW_ALIPAY_PRIVATE_KEY: %w", err)
	}
	pub, err := wechatpay.ReadPublicKey(getenv("VOLTFLOW_ALIPAY_PUBLIC_KEY"))
	if err != nil {
		return nil, fmt.Errorf("VOLTFLOW_ALIPAY_PUBLIC_KEY: %w", err)
	}
	return New(Config{GatewayURL: gw, AppID: getenv("VOLTFLOW_ALIPAY_APPID"), PrivateKey: priv, PublicKey: pub,
		NotifyURL: getenv("VOLTFLOW_ALIPAY_NOTIFY_URL")})
}

// AppID is the app's id.
func (c *Client) AppID() string { return c.cfg.AppID }

// cst: Alipay's timestamps are Beijing time.
var cst = time.FixedZone("CST", 8*3600)

// Content is the signed string of a parameter set: every non-empty
// parameter but sign (and, for notifications, sign_type), sorted by name,
// as name=value joined by &.
func Content(params url.Values, skip ...string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k == "sign" || params.Get(k) == "" || contains(skip, k) {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + params.Get(k))
	}
	return b.String()
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (c *Client) sign(content string) (string, error) {
	h := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.cfg.PrivateKey, crypto.SHA256, h[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// ErrBadSignature: not signed by Alipay's key.
var ErrBadSignature = errors.New("signature does not verify with the Alipay public key")

func (c *Client) verify(content, sign string) error {
	raw, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		return ErrBadSignature
	}
	h := sha256.Sum256([]byte(content))
	if rsa.VerifyPKCS1v15(c.cfg.PublicKey, crypto.SHA256, h[:], raw) != nil {
		return ErrBadSignature
	}
	return nil
}

// APIError is an answer whose code is not 10000.
type APIError struct{ Code, Msg, SubCode, SubMsg string }

func (e *APIError) Error() string {
	return fmt.Sprintf("alipay: %s %s %s %s", e.Code, e.Msg, e.SubCode, e.SubMsg)
}

// call sends one method and verifies its answer: the signature covers the
// exact text of the <method>_response node.
func (c *Client) call(ctx context.Context, method string, biz any, out any) error {
	bizJSON, err := json.Marshal(biz)
	if err != nil {
		return err
	}
	p := url.Values{}
	p.Set("app_id", c.cfg.AppID)
	p.Set("method", method)
	p.Set("format", "JSON")
	p.Set("charset", "utf-8")
	p.Set("sign_type", "RSA2")
	p.Set("timestamp", c.cfg.Now().In(cst).Format(time.DateTime))
	p.Set("version", "1.0")
	if c.cfg.NotifyURL != "" && method == "alipay.trade.precreate" {
		p.Set("notify_url", c.cfg.NotifyURL)
	}
	p.Set("biz_content", string(bizJSON))
	sig, err := c.sign(Content(p))
	if err != nil {
		return err
	}
	p.Set("sign", sig)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.GatewayURL, strings.NewReader(p.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("alipay: %s: %w", method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("alipay: %s answer: %w", method, err)
	}
	node := env[strings.ReplaceAll(method, ".", "_")+"_response"]
	var sign string
	_ = json.Unmarshal(env["sign"], &sign)
	if node == nil {
		return fmt.Errorf("alipay: %s answered without its response node", method)
	}
	var common struct {
		Code    string `json:"code"`
		Msg     string `json:"msg"`
		SubCode string `json:"sub_code"`
		SubMsg  string `json:"sub_msg"`
	}
	_ = json.Unmarshal(node, &common)
	if sign == "" && common.Code != "10000" {
		// Gateway-level errors may come unsigned; they credit nothing.
		return &APIError{Code: common.Code, Msg: common.Msg, SubCode: common.SubCode, SubMsg: common.SubMsg}
	}
	if err := c.verify(string(node), sign); err != nil {
		return fmt.Errorf("alipay: %s answer: %w", method, err)
	}
	if common.Code != "10000" {
		return &APIError{Code: common.Code, Msg: common.Msg, SubCode: common.SubCode, SubMsg: common.SubMsg}
	}
	return json.Unmarshal(node, out)
}

// Precreate places a face-to-face order (当面付预下单) and returns the QR
// code's content.
func (c *Client) Precreate(ctx context.Context, outTradeNo, subject, totalAmount string) (string, error) {
	var out struct {
		QRCode string `json:"qr_code"`
	}
	err := c.call(ctx, "alipay.trade.precreate", map[string]string{"out_trade_no": outTradeNo, "total_amount": totalAmount, "subject": subject}, &out)
	if err == nil && out.QRCode == "" {
		err = errors.New("alipay: precreate answered without qr_code")
	}
	return out.QRCode, err
}

// Trade is an order as Alipay describes it.
type Trade struct {
	OutTradeNo  string `json:"out_trade_no"`
	TradeNo     string `json:"trade_no"`
	TradeStatus string `json:"trade_status"`
	TotalAmount string `json:"total_amount"`
	SendPayDate string `json:"send_pay_date"`
}

// Query asks for an order by the merchant's number.
func (c *Client) Query(ctx context.Context, outTradeNo string) (Trade, error) {
	var t Trade
	err := c.call(ctx, "alipay.trade.query", map[string]string{"out_trade_no": outTradeNo}, &t)
	return t, err
}

// Notification is an asynchronous payment notification (异步通知).
type Notification struct {
	AppID       string
	OutTradeNo  string
	TradeNo     string
	TradeStatus string
	TotalAmount string
	GmtPayment  time.Time
}

// ParseNotification verifies a notification's form (sign and sign_type
// excluded from the signed content) and reads it.
func (c *Client) ParseNotification(form url.Values) (Notification, error) {
	n := Notification{AppID: form.Get("app_id"), OutTradeNo: form.Get("out_trade_no"), TradeNo: form.Get("trade_no"),
		TradeStatus: form.Get("trade_status"), TotalAmount: form.Get("total_amount")}
	if form.Get("sign") == "" {
		return n, errors.New("unsigned notification")
	}
	if st := form.Get("sign_type"); st != "" && st != "RSA2" {
		return n, fmt.Errorf("sign_type %q, want RSA2", st)
	}
	if err := c.verify(Content(form, "sign_type"), form.Get("sign")); err != nil {
		return n, err
	}
	if t := form.Get("gmt_payment"); t != "" {
		n.GmtPayment, _ = time.ParseInLocation(time.DateTime, t, cst)
	}
	return n, nil
}
