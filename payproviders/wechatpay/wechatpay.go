// Package wechatpay is a client of WeChat Pay API v3 (微信支付 APIv3) for a
// direct merchant, written to the provider's published specification
// (pay.weixin.qq.com/docs/merchant): the official Go SDK is not served by
// the module proxy here. It signs requests with the merchant's RSA key
// (SHA256-RSA2048, PKCS #1 v1.5), verifies answers and callbacks with the
// platform's public key, and decrypts callback resources (AEAD_AES_256_GCM
// with the APIv3 key). It knows nothing of meters or recharges.
package wechatpay

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
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Schema is the Authorization scheme of APIv3 requests.
const Schema = "WECHATPAY2-SHA256-RSA2048"

// Trade states of a transaction (trade_state).
const (
	StateSuccess = "SUCCESS"
	StateNotPay  = "NOTPAY"
	StateClosed  = "CLOSED"
)

// MaxClockSkew bounds how old a signed callback may be: a replay of a
// captured callback later than this is refused (the spec's 5 minutes).
const MaxClockSkew = 5 * time.Minute

// Config of a merchant.
type Config struct {
	BaseURL    string // https://api.mch.weixin.qq.com (or the local fake)
	MchID      string
	AppID      string
	SerialNo   string          // serial number of the merchant's API certificate
	PrivateKey *rsa.PrivateKey // the merchant's API key
	APIv3Key   []byte          // 32 bytes
	// PlatformKey verifies what WeChat Pay signs (the platform certificate's
	// or the "WeChat Pay public key"'s RSA key); PlatformSerial is its id
	// in Wechatpay-Serial ("" accepts any serial).
	PlatformKey    *rsa.PublicKey
	PlatformSerial string
	NotifyURL      string
	HTTP           *http.Client
	Now            func() time.Time
}

// Client calls WeChat Pay.
type Client struct{ cfg Config }

// New checks the configuration.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.BaseURL == "" || cfg.MchID == "" || cfg.AppID == "":
		return nil, errors.New("wechatpay: base URL, mchid and appid are required")
	case cfg.PrivateKey == nil || cfg.PlatformKey == nil:
		return nil, errors.New("wechatpay: merchant private key and platform public key are required")
	case len(cfg.APIv3Key) != 32:
		return nil, fmt.Errorf("wechatpay: APIv3 key must be 32 bytes, got %d", len(cfg.APIv3Key))
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Client{cfg: cfg}, nil
}

// FromEnv builds a client from VOLTFLOW_WECHATPAY_* (nil, nil when
// VOLTFLOW_WECHATPAY_URL is unset: online payment by WeChat is off).
func FromEnv(getenv func(string) string) (*Client, error) {
	base := getenv("VOLTFLOW_WECHATPAY_URL")
	if base == "" {
		return nil, nil
	}
	priv, err := ReadPrivateKey(getenv("VOLTFLOW_WECHATPAY_PRIVATE_KEY"))
	if err != nil {
		return nil, fmt.Errorf("VOLTFLOW_WECHATPAY_PRIVATE_KEY: %w", err)
	}
	pub, err := ReadPublicKey(getenv("VOLTFLOW_WECHATPAY_PLATFORM_KEY"))
	if err != nil {
		return nil, fmt.Errorf("VOLTFLOW_WECHATPAY_PLATFORM_KEY: %w", err)
	}
	return New(Config{BaseURL: base, MchID: getenv("VOLTFLOW_WECHATPAY_MCHID"), AppID: getenv("VOLTFLOW_WECHATPAY_APPID"),
		SerialNo: getenv("VOLTFLOW_WECHATPAY_SERIAL"), PrivateKey: priv, PlatformKey: pub,
		PlatformSerial: getenv("VOLTFLOW_WECHATPAY_PLATFORM_SERIAL"), APIv3Key: []byte(getenv("VOLTFLOW_WECHATPAY_APIV3_KEY")),
		NotifyURL: getenv("VOLTFLOW_WECHATPAY_NOTIFY_URL")})
}

// ReadPrivateKey reads a PEM file holding a PKCS #8 or PKCS #1 RSA key.
func ReadPrivateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA key", path)
	}
	return rk, nil
}

// ReadPublicKey reads a PEM file holding an RSA public key (PKIX) or a
// certificate carrying one.
func ReadPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	var k any
	if blk.Type == "CERTIFICATE" {
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		k = c.PublicKey
	} else if k, err = x509.ParsePKIXPublicKey(blk.Bytes); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA key", path)
	}
	return rk, nil
}

// MchID is the merchant's id.
func (c *Client) MchID() string { return c.cfg.MchID }

// AppID is the merchant's app id.
func (c *Client) AppID() string { return c.cfg.AppID }

// Order is what a payment asks the customer to pay.
type Order struct {
	OutTradeNo  string
	Description string
	Cents       int64
	OpenID      string // JSAPI only: the payer within the app
}

// Amount of a transaction, in fen.
type Amount struct {
	Total         int64  `json:"total"`
	PayerTotal    int64  `json:"payer_total,omitempty"`
	Currency      string `json:"currency,omitempty"`
	PayerCurrency string `json:"payer_currency,omitempty"`
}

// Transaction is a paid or unpaid order as WeChat Pay describes it (the
// query answer, and the decrypted resource of a TRANSACTION.SUCCESS callback).
type Transaction struct {
	AppID          string `json:"appid"`
	MchID          string `json:"mchid"`
	OutTradeNo     string `json:"out_trade_no"`
	TransactionID  string `json:"transaction_id"`
	TradeType      string `json:"trade_type"`
	TradeState     string `json:"trade_state"`
	TradeStateDesc string `json:"trade_state_desc"`
	SuccessTime    string `json:"success_time,omitempty"`
	Amount         Amount `json:"amount"`
}

type orderBody struct {
	AppID       string `json:"appid"`
	MchID       string `json:"mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	NotifyURL   string `json:"notify_url"`
	Amount      Amount `json:"amount"`
	Payer       *payer `json:"payer,omitempty"`
}

type payer struct {
	OpenID string `json:"openid"`
}

// Native places a Native order (the customer scans a QR code) and returns
// the code_url to show as the QR code.
func (c *Client) Native(ctx context.Context, o Order) (string, error) {
	var out struct {
		CodeURL string `json:"code_url"`
	}
	err := c.do(ctx, http.MethodPost, "/v3/pay/transactions/native", c.orderBody(o), &out)
	if err == nil && out.CodeURL == "" {
		err = errors.New("wechatpay: native order answered without code_url")
	}
	return out.CodeURL, err
}

// JSAPI places a JSAPI order (paid inside WeChat) and returns prepay_id.
func (c *Client) JSAPI(ctx context.Context, o Order) (string, error) {
	b := c.orderBody(o)
	b.Payer = &payer{OpenID: o.OpenID}
	var out struct {
		PrepayID string `json:"prepay_id"`
	}
	err := c.do(ctx, http.MethodPost, "/v3/pay/transactions/jsapi", b, &out)
	if err == nil && out.PrepayID == "" {
		err = errors.New("wechatpay: jsapi order answered without prepay_id")
	}
	return out.PrepayID, err
}

func (c *Client) orderBody(o Order) orderBody {
	return orderBody{AppID: c.cfg.AppID, MchID: c.cfg.MchID, Description: o.Description, OutTradeNo: o.OutTradeNo,
		NotifyURL: c.cfg.NotifyURL, Amount: Amount{Total: o.Cents, Currency: "CNY"}}
}

// Query asks for an order by the merchant's number (the active query of a
// payment whose callback is late).
func (c *Client) Query(ctx context.Context, outTradeNo string) (Transaction, error) {
	var t Transaction
	err := c.do(ctx, http.MethodGet, "/v3/pay/transactions/out-trade-no/"+url.PathEscape(outTradeNo)+"?mchid="+url.QueryEscape(c.cfg.MchID), nil, &t)
	return t, err
}

// Bill is the answer of the trade bill application: where to download it.
type Bill struct {
	DownloadURL string `json:"download_url"`
	HashType    string `json:"hash_type"`
	HashValue   string `json:"hash_value"`
}

// TradeBill downloads the day's trade bill (YYYY-MM-DD) and checks its hash.
func (c *Client) TradeBill(ctx context.Context, day string) ([]byte, error) {
	var b Bill
	if err := c.do(ctx, http.MethodGet, "/v3/bill/tradebill?bill_date="+url.QueryEscape(day)+"&bill_type=ALL", nil, &b); err != nil {
		return nil, err
	}
	u, err := url.Parse(b.DownloadURL)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: bill download url: %w", err)
	}
	// The download is signed like any request; its answer is not (the spec
	// checks the file by its hash instead).
	req, err := c.request(ctx, http.MethodGet, b.DownloadURL, u.RequestURI(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: download bill: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("wechatpay: download bill: HTTP %d", resp.StatusCode)
	}
	if strings.EqualFold(b.HashType, "SHA256") {
		sum := sha256.Sum256(body)
		if !strings.EqualFold(hex.EncodeToString(sum[:]), b.HashValue) {
			return nil, errors.New("wechatpay: bill hash does not match")
		}
	}
	return body, nil
}

// APIError is a non-2xx answer.
type APIError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechatpay: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// do signs and sends a request and verifies and decodes its answer.
func (c *Client) do(ctx context.Context, method, pathQuery string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := c.request(ctx, method, c.cfg.BaseURL+pathQuery, pathQuery, body)
	if err != nil {
		return err
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("wechatpay: %s %s: %w", method, pathQuery, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		e := &APIError{Status: resp.StatusCode}
		_ = json.Unmarshal(answer, e)
		return e
	}
	// An answer not signed by the platform is not WeChat Pay's.
	if err := c.Verify(resp.Header, answer); err != nil {
		return fmt.Errorf("wechatpay: answer to %s %s: %w", method, pathQuery, err)
	}
	if out != nil && len(answer) > 0 {
		if err := json.Unmarshal(answer, out); err != nil {
			return fmt.Errorf("wechatpay: decode answer to %s %s: %w", method, pathQuery, err)
		}
	}
	return nil
}

func (c *Client) request(ctx context.Context, method, fullURL, pathQuery string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, fullURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	auth, err := c.Authorization(method, pathQuery, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// Authorization is the header of a request: the merchant's signature over
// method, URL (path and query), timestamp, nonce and body, each followed
// by a newline.
func (c *Client) Authorization(method, pathQuery string, body []byte) (string, error) {
	ts := strconv.FormatInt(c.cfg.Now().Unix(), 10)
	nonce, err := nonceStr()
	if err != nil {
		return "", err
	}
	msg := method + "\n" + pathQuery + "\n" + ts + "\n" + nonce + "\n" + string(body) + "\n"
	h := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.cfg.PrivateKey, crypto.SHA256, h[:])
	if err != nil {
		return "", fmt.Errorf("wechatpay: sign: %w", err)
	}
	return fmt.Sprintf(`%s mchid="%s",nonce_str="%s",signature="%s",timestamp="%s",serial_no="%s"`,
		Schema, c.cfg.MchID, nonce, base64.StdEncoding.EncodeToString(sig), ts, c.cfg.SerialNo), nil
}

func nonceStr() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return strings.ToUpper(hex.EncodeToString(b)), nil
}

// Errors of verification: each names why a callback was refused.
var (
	ErrUnsigned     = errors.New("missing Wechatpay-Timestamp, -Nonce or -Signature")
	ErrStale        = errors.New("timestamp outside ±5 minutes")
	ErrSerial       = errors.New("unknown Wechatpay-Serial")
	ErrBadSignature = errors.New("signature does not verify with the platform key")
)

// Verify checks the platform's signature over an answer or a callback:
// Wechatpay-Timestamp, -Nonce and the body, each followed by a newline,
// RSA-SHA256 with the platform key, the timestamp within MaxClockSkew.
func (c *Client) Verify(h http.Header, body []byte) error {
	ts, nonce, sig := h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce"), h.Get("Wechatpay-Signature")
	if ts == "" || nonce == "" || sig == "" {
		return ErrUnsigned
	}
	if c.cfg.PlatformSerial != "" && h.Get("Wechatpay-Serial") != c.cfg.PlatformSerial {
		return ErrSerial
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrStale
	}
	if d := c.cfg.Now().Sub(time.Unix(sec, 0)); d > MaxClockSkew || d < -MaxClockSkew {
		return ErrStale
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return ErrBadSignature
	}
	sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
	if rsa.VerifyPKCS1v15(c.cfg.PlatformKey, crypto.SHA256, sum[:], raw) != nil {
		return ErrBadSignature
	}
	return nil
}

// Notification is a callback's body; Resource is encrypted.
type Notification struct {
	ID           string   `json:"id"`
	CreateTime   string   `json:"create_time"`
	EventType    string   `json:"event_type"`
	ResourceType string   `json:"resource_type"`
	Summary      string   `json:"summary"`
	Resource     Resource `json:"resource"`
}

// Resource is the encrypted part of a callback.
type Resource struct {
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	OriginalType   string `json:"original_type"`
	Nonce          string `json:"nonce"`
}

// EventSuccess is the event of a paid transaction.
const EventSuccess = "TRANSACTION.SUCCESS"

// ParseNotification verifies a payment callback (headers and raw body)
// and decrypts its transaction. Nothing unverified is decrypted.
func (c *Client) ParseNotification(h http.Header, body []byte) (Notification, Transaction, error) {
	var n Notification
	var t Transaction
	if err := c.Verify(h, body); err != nil {
		return n, t, err
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return n, t, fmt.Errorf("callback body: %w", err)
	}
	plain, err := c.Decrypt(n.Resource)
	if err != nil {
		return n, t, err
	}
	if err := json.Unmarshal(plain, &t); err != nil {
		return n, t, fmt.Errorf("callback resource: %w", err)
	}
	return n, t, nil
}

// Decrypt opens an AEAD_AES_256_GCM resource with the APIv3 key: the
// ciphertext is base64 of the sealed text and its 16-byte tag.
func (c *Client) Decrypt(r Resource) ([]byte, error) {
	if r.Algorithm != "AEAD_AES_256_GCM" {
		return nil, fmt.Errorf("resource algorithm %q, want AEAD_AES_256_GCM", r.Algorithm)
	}
	ct, err := base64.StdEncoding.DecodeString(r.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("resource ciphertext: %w", err)
	}
	block, err := aes.NewCipher(c.cfg.APIv3Key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(r.Nonce))
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, []byte(r.Nonce), ct, []byte(r.AssociatedData))
	if err != nil {
		return nil, fmt.Errorf("resource does not decrypt with the APIv3 key: %w", err)
	}
	return plain, nil
}

// BillRow is one transaction line of a trade bill.
type BillRow struct {
	TransactionID string
	OutTradeNo    string
	TradeState    string
	Cents         int64
}

// ParseTradeBill reads a trade bill (ALL): a header line, one line per
// transaction with every field prefixed by a backtick, then the summary
// header (总交易单数...) and line. Columns are found by their header names.
func ParseTradeBill(b []byte) ([]BillRow, error) {
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return nil, errors.New("wechatpay: empty bill")
	}
	col := map[string]int{}
	for i, h := range strings.Split(lines[0], ",") {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"微信订单号", "商户订单号", "交易状态", "应结订单金额"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("wechatpay: bill has no column %s", need)
		}
	}
	var out []BillRow
	for _, line := range lines[1:] {
		if line == "" || strings.HasPrefix(line, "总交易单数") {
			break
		}
		f := strings.Split(line, ",")
		for i := range f {
			f[i] = strings.TrimPrefix(strings.TrimSpace(f[i]), "`")
		}
		if len(f) < len(col) {
			return nil, fmt.Errorf("wechatpay: bill line %q has %d fields", line, len(f))
		}
		cents, err := yuanToCents(f[col["应结订单金额"]])
		if err != nil {
			return nil, fmt.Errorf("wechatpay: bill line %q: %w", line, err)
		}
		out = append(out, BillRow{TransactionID: f[col["微信订单号"]], OutTradeNo: f[col["商户订单号"]], TradeState: f[col["交易状态"]], Cents: cents})
	}
	return out, nil
}

func yuanToCents(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("amount %q", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q", s)
	}
	var c int64
	if frac != "" {
		if c, err = strconv.ParseInt((frac + "0")[:2], 10, 64); err != nil {
			return 0, fmt.Errorf("amount %q", s)
		}
	}
	return w*100 + c, nil
}
