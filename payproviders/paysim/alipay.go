package paysim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The fake's Alipay side: gateway.do with alipay.trade.precreate and
// alipay.trade.query, RSA2 both ways, and the asynchronous notification as
// a signed form POST. Written from the specification apart from
// payproviders/alipay.

// alipaySigned is the string Alipay signs for a parameter set.
func alipaySigned(form url.Values, drop ...string) string {
	var parts []string
	for k, vs := range form {
		if k == "sign" || slices.Contains(drop, k) || len(vs) == 0 || vs[0] == "" {
			continue
		}
		parts = append(parts, k+"="+vs[0])
	}
	slices.Sort(parts) // keys are unique and "=" sorts below letters and "_"
	return strings.Join(parts, "&")
}

func (s *Sim) alipaySign(content []byte) (string, error) {
	d := sha256.New()
	d.Write(content)
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.cfg.AlipayKey, crypto.SHA256, d.Sum(nil))
	return base64.StdEncoding.EncodeToString(sig), err
}

func (s *Sim) alipayAnswer(w http.ResponseWriter, method string, node map[string]any) {
	raw, err := json.Marshal(node)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sig, err := s.alipaySign(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_, _ = fmt.Fprintf(w, `{"%s_response":%s,"sign":"%s"}`, strings.ReplaceAll(method, ".", "_"), raw, sig)
}

func (s *Sim) gateway(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f := r.PostForm
	method := f.Get("method")
	fail := func(sub, msg string) {
		s.alipayAnswer(w, method, map[string]any{"code": "40002", "msg": "Invalid Arguments", "sub_code": sub, "sub_msg": msg})
	}
	if f.Get("app_id") != s.cfg.AlipayAppID {
		fail("isv.invalid-app-id", "app_id")
		return
	}
	if s.cfg.MerchantKey != nil {
		sig, err := base64.StdEncoding.DecodeString(f.Get("sign"))
		d := sha256.Sum256([]byte(alipaySigned(f)))
		if err != nil || f.Get("sign_type") != "RSA2" || rsa.VerifyPKCS1v15(s.cfg.MerchantKey, crypto.SHA256, d[:], sig) != nil {
			s.log.Warn("refused Alipay request", "method", method)
			fail("isv.invalid-signature", "sign")
			return
		}
	}
	var biz struct {
		OutTradeNo  string `json:"out_trade_no"`
		TotalAmount string `json:"total_amount"`
		Subject     string `json:"subject"`
	}
	if err := json.Unmarshal([]byte(f.Get("biz_content")), &biz); err != nil || biz.OutTradeNo == "" {
		fail("isv.missing-out-trade-no", "biz_content.out_trade_no")
		return
	}
	switch method {
	case "alipay.trade.precreate":
		cents, err := yuanCents(biz.TotalAmount)
		if err != nil || cents <= 0 || f.Get("notify_url") == "" {
			fail("isv.invalid-total-amount", "total_amount and notify_url are required")
			return
		}
		s.mu.Lock()
		o, ok := s.orders[biz.OutTradeNo]
		if !ok {
			o = &order{OutTradeNo: biz.OutTradeNo, Provider: "alipay", TradeType: "FACE_TO_FACE", State: "NOTPAY", Total: cents,
				NotifyURL: f.Get("notify_url"), Description: biz.Subject, CreatedAt: time.Now()}
			s.orders[biz.OutTradeNo] = o
		}
		same := o.Total == cents && o.Provider == "alipay"
		s.mu.Unlock()
		if !same {
			fail("ACQ.TRADE_HAS_SUCCESS", "out_trade_no used with other parameters")
			return
		}
		s.alipayAnswer(w, method, map[string]any{"code": "10000", "msg": "Success", "out_trade_no": biz.OutTradeNo,
			"qr_code": "https://qr.alipay.com/sim" + biz.OutTradeNo})
	case "alipay.trade.query":
		s.mu.Lock()
		o, ok := s.orders[biz.OutTradeNo]
		var node map[string]any
		if ok {
			node = map[string]any{"code": "10000", "msg": "Success", "out_trade_no": o.OutTradeNo, "trade_status": alipayState(o.State),
				"total_amount": centsYuan(o.Total)}
			if o.State == "SUCCESS" {
				node["trade_no"] = o.TransactionID
				node["send_pay_date"] = o.PaidAt.In(cst).Format(time.DateTime)
			}
		}
		s.mu.Unlock()
		if !ok {
			s.alipayAnswer(w, method, map[string]any{"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"})
			return
		}
		s.alipayAnswer(w, method, node)
	default:
		fail("isv.invalid-method", method)
	}
}

func alipayState(s string) string {
	switch s {
	case "SUCCESS":
		return "TRADE_SUCCESS"
	case "CLOSED":
		return "TRADE_CLOSED"
	}
	return "WAIT_BUYER_PAY"
}

func yuanCents(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("amount %q", s)
	}
	frac = (frac + "00")[:2]
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, err
	}
	return w*100 + f, nil
}

func centsYuan(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// alipayNotify posts the order's notification (the last one again when
// replaying) and reports the status, 200 only when the merchant answered
// the text "success".
func (s *Sim) alipayNotify(ctx context.Context, o *order, replay bool) (int, error) {
	s.mu.Lock()
	form := o.lastForm
	if !replay || form == nil {
		nid := make([]byte, 12)
		if _, err := rand.Read(nid); err != nil {
			s.mu.Unlock()
			return 0, err
		}
		form = url.Values{}
		form.Set("notify_time", time.Now().In(cst).Format(time.DateTime))
		form.Set("notify_type", "trade_status_sync")
		form.Set("notify_id", hex.EncodeToString(nid))
		form.Set("app_id", s.cfg.AlipayAppID)
		form.Set("charset", "utf-8")
		form.Set("version", "1.0")
		form.Set("sign_type", "RSA2")
		form.Set("trade_no", o.TransactionID)
		form.Set("out_trade_no", o.OutTradeNo)
		form.Set("trade_status", "TRADE_SUCCESS")
		form.Set("total_amount", centsYuan(o.Total))
		form.Set("receipt_amount", centsYuan(o.Total))
		form.Set("gmt_payment", o.PaidAt.In(cst).Format(time.DateTime))
		form.Set("subject", o.Description)
		sig, err := s.alipaySign([]byte(alipaySigned(form, "sign_type")))
		if err != nil {
			s.mu.Unlock()
			return 0, err
		}
		form.Set("sign", sig)
		o.lastForm = form
	}
	target := o.NotifyURL
	s.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	s.log.Info("sent Alipay notification", "order", o.OutTradeNo, "status", resp.StatusCode, "answer", string(body), "replay", replay)
	if !bytes.Equal(bytes.TrimSpace(body), []byte("success")) {
		return resp.StatusCode, fmt.Errorf("merchant answered %d %q, not success", resp.StatusCode, body)
	}
	return resp.StatusCode, nil
}
