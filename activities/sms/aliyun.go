package sms

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/voltflow/voltflow/internal/clock"
)

// Aliyun sends through Aliyun SMS (Dysms) SendSms, RPC style, version
// 2017-05-25, signed with HMAC-SHA1 (signature version 1.0).
//
// This is a small client of our own: the official Go SDK
// (github.com/alibabacloud-go/dysmsapi-20170525) is not served by the module
// proxy this project builds from.
type Aliyun struct {
	Endpoint        string // e.g. https://dysmsapi.aliyuncs.com (tests: the fake's URL)
	AccessKeyID     string
	AccessKeySecret string
	SignName        string // the approved signature (签名)
	RegionID        string // default cn-hangzhou
	HTTP            *http.Client
	Clock           clock.Clock
}

// Name is the provider's name in configuration and records.
func (a *Aliyun) Name() string { return "aliyun" }

// Send calls SendSms for one number.
func (a *Aliyun) Send(ctx context.Context, r Request) (Receipt, error) {
	tp := map[string]string{}
	for _, p := range r.Params {
		tp[p.Name] = p.Value
	}
	tpJSON, err := json.Marshal(tp)
	if err != nil {
		return Receipt{}, err
	}
	body, status, err := a.call(ctx, map[string]string{"Action": "SendSms",
		"PhoneNumbers": r.Phone, "SignName": a.SignName, "TemplateCode": r.TemplateCode,
		"TemplateParam": string(tpJSON), "OutId": r.Ref,
	})
	if err != nil {
		return Receipt{}, err
	}
	var out struct{ Code, Message, BizId, RequestId string }
	if err := json.Unmarshal(body, &out); err != nil || out.Code == "" {
		return Receipt{}, &Error{Provider: a.Name(), Class: Transient, Code: fmt.Sprintf("HTTP%d", status),
			Message: strings.TrimSpace(string(body))}
	}
	if out.Code != "OK" {
		return Receipt{}, &Error{Provider: a.Name(), Class: aliyunClass(out.Code, status), Code: out.Code, Message: out.Message}
	}
	return Receipt{MessageID: out.BizId}, nil
}

// Find asks QuerySendDetails whether the provider already has the message
// with OutId r.Ref to r.Phone, sent on the day of since or later (Beijing
// dates; the API answers per day, 50 records a page). Its records carry no
// BizId, so a found message's id is "OutId:" + Ref.
func (a *Aliyun) Find(ctx context.Context, r Request, since time.Time) (Receipt, bool, error) {
	now := a.Clock.Now
	for day := since.In(chinaTime); !day.After(now().In(chinaTime).Add(24 * time.Hour)); day = day.AddDate(0, 0, 1) {
		for page := 1; ; page++ {
			body, status, err := a.call(ctx, map[string]string{"Action": "QuerySendDetails",
				"PhoneNumber": r.Phone, "SendDate": day.Format("20060102"), "PageSize": "50", "CurrentPage": fmt.Sprint(page)})
			if err != nil {
				return Receipt{}, false, err
			}
			var out struct {
				Code, Message     string
				TotalCount        int
				SmsSendDetailDTOs struct {
					SmsSendDetailDTO []struct {
						PhoneNum, OutId, TemplateCode string
						SendStatus                    int
					}
				}
			}
			if err := json.Unmarshal(body, &out); err != nil || out.Code == "" {
				return Receipt{}, false, &Error{Provider: a.Name(), Class: Transient, Code: fmt.Sprintf("HTTP%d", status), Message: strings.TrimSpace(string(body))}
			}
			if out.Code != "OK" {
				return Receipt{}, false, &Error{Provider: a.Name(), Class: aliyunClass(out.Code, status), Code: out.Code, Message: out.Message}
			}
			dtos := out.SmsSendDetailDTOs.SmsSendDetailDTO
			for _, d := range dtos {
				if d.OutId == r.Ref && r.Ref != "" {
					return Receipt{MessageID: "OutId:" + r.Ref}, true, nil
				}
			}
			if len(dtos) < 50 || page*50 >= out.TotalCount {
				break
			}
		}
		if day.Format("20060102") == now().In(chinaTime).Format("20060102") {
			break
		}
	}
	return Receipt{}, false, nil
}

// call signs params (plus the common ones) and posts them; it returns the
// answer's body and HTTP status.
func (a *Aliyun) call(ctx context.Context, params map[string]string) ([]byte, int, error) {
	action := params["Action"]
	now := a.Clock.Now
	region := a.RegionID
	if region == "" {
		region = "cn-hangzhou"
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, 0, err
	}
	for k, v := range map[string]string{
		"AccessKeyId": a.AccessKeyID, "Format": "JSON", "RegionId": region,
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": hex.EncodeToString(nonce), "SignatureVersion": "1.0",
		"Timestamp": now().UTC().Format("2006-01-02T15:04:05Z"), "Version": "2017-05-25",
	} {
		params[k] = v
	}
	params["Signature"] = aliyunSignature(http.MethodPost, params, a.AccessKeySecret)
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(a.Endpoint, "/")+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := a.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("aliyun %s: %w", action, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("aliyun %s: read answer: %w", action, err)
	}
	return body, resp.StatusCode, nil
}

// aliyunClass sorts Dysms error codes: rate limits (流控) are retried, the
// caller's mistakes fall back, server errors are retried.
func aliyunClass(code string, status int) Failure {
	switch {
	case code == "isv.BUSINESS_LIMIT_CONTROL", code == "isv.DAY_LIMIT_CONTROL", strings.HasPrefix(code, "Throttling"):
		return Throttled
	case status >= 500, code == "isp.SYSTEM_ERROR", code == "ServiceUnavailable":
		return Transient
	default:
		return Rejected
	}
}

// aliyunSignature is the RPC signature: HMAC-SHA1 with key secret+"&" over
// METHOD&%2F&percent(sorted, percent-encoded query), base64.
func aliyunSignature(method string, params map[string]string, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = aliyunEncode(k) + "=" + aliyunEncode(params[k])
	}
	toSign := method + "&" + aliyunEncode("/") + "&" + aliyunEncode(strings.Join(parts, "&"))
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// aliyunEncode is RFC 3986 percent-encoding as Aliyun specifies it.
func aliyunEncode(s string) string {
	e := url.QueryEscape(s)
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(e)
}
