package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// Tencent sends through Tencent Cloud SMS SendSms (API 3.0, version
// 2021-01-11), signed TC3-HMAC-SHA256 by Tencent's official Go SDK (its
// common client; the sms product package is not on the module proxy, so the
// request is the SDK's generic CommonRequest).
type Tencent struct {
	Endpoint  string // e.g. https://sms.tencentcloudapi.com (tests: the fake's URL)
	SecretID  string
	SecretKey string
	SdkAppID  string // SmsSdkAppId, the SMS application
	SignName  string
	Region    string // default ap-guangzhou
	Transport http.RoundTripper
}

// Name is the provider's name in configuration and records.
func (t *Tencent) Name() string { return "tencent" }

func (t *Tencent) client() (*common.Client, error) {
	u, err := url.Parse(t.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("tencent endpoint %q: want scheme://host[:port]", t.Endpoint)
	}
	cp := profile.NewClientProfile()
	cp.HttpProfile.Endpoint = u.Host
	cp.HttpProfile.Scheme = strings.ToUpper(u.Scheme)
	cp.HttpProfile.ReqMethod = http.MethodPost
	cp.HttpProfile.ReqTimeout = 10
	cp.SignMethod = "TC3-HMAC-SHA256"
	region := t.Region
	if region == "" {
		region = "ap-guangzhou"
	}
	c := common.NewCommonClient(common.NewCredential(t.SecretID, t.SecretKey), region, cp)
	if t.Transport != nil {
		c.WithHttpTransport(t.Transport)
	}
	return c, nil
}

// Send calls SendSms for one number. Tencent answers per number inside a
// successful response, so both the call's error and the number's Code count.
func (t *Tencent) Send(ctx context.Context, r Request) (Receipt, error) {
	c, err := t.client()
	if err != nil {
		return Receipt{}, &Error{Provider: t.Name(), Class: Rejected, Code: "Config", Message: err.Error()}
	}
	phone := r.Phone
	if !strings.HasPrefix(phone, "+") {
		phone = "+86" + phone // E.164; bare numbers are mainland China
	}
	params := make([]string, len(r.Params))
	for i, p := range r.Params {
		params[i] = p.Value
	}
	req := tchttp.NewCommonRequest("sms", "2021-01-11", "SendSms")
	req.SetContext(ctx)
	if err := req.SetActionParameters(map[string]any{
		"PhoneNumberSet": []string{phone}, "SmsSdkAppId": t.SdkAppID, "SignName": t.SignName,
		"TemplateId": r.TemplateCode, "TemplateParamSet": params, "SessionContext": r.Ref,
	}); err != nil {
		return Receipt{}, err
	}
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		var se *tcerr.TencentCloudSDKError
		if errors.As(err, &se) {
			return Receipt{}, &Error{Provider: t.Name(), Class: tencentClass(se.Code), Code: se.Code, Message: se.Message}
		}
		return Receipt{}, fmt.Errorf("tencent SendSms: %w", err)
	}
	var out struct {
		Response struct {
			SendStatusSet []struct{ SerialNo, PhoneNumber, Code, Message string }
			RequestId     string
		}
	}
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		return Receipt{}, fmt.Errorf("tencent SendSms: answer: %w", err)
	}
	if len(out.Response.SendStatusSet) != 1 {
		return Receipt{}, &Error{Provider: t.Name(), Class: Transient, Code: "NoStatus",
			Message: fmt.Sprintf("%d statuses for one number (request %s)", len(out.Response.SendStatusSet), out.Response.RequestId)}
	}
	s := out.Response.SendStatusSet[0]
	if s.Code != "Ok" {
		return Receipt{}, &Error{Provider: t.Name(), Class: tencentClass(s.Code), Code: s.Code, Message: s.Message}
	}
	return Receipt{MessageID: s.SerialNo}, nil
}

// tencentClass sorts API 3.0 codes: LimitExceeded / RequestLimitExceeded
// are rate limits, InternalError and the SDK's own network errors are
// transient, everything else is the request's fault.
func tencentClass(code string) Failure {
	switch {
	case strings.HasPrefix(code, "LimitExceeded"), strings.HasPrefix(code, "RequestLimitExceeded"):
		return Throttled
	case strings.HasPrefix(code, "InternalError"), strings.HasPrefix(code, "ClientError.NetworkError"),
		code == "ClientError.HttpStatusCodeError", code == "ClientError.IOError":
		return Transient
	default:
		return Rejected
	}
}

// Find asks PullSmsSendStatusByPhoneNumber (2021-01-11) whether the
// provider has a message to r.Phone with SessionContext r.Ref since the
// given time. Tencent lists a message there once its status report is in,
// so a message accepted seconds ago may not show yet.
func (t *Tencent) Find(ctx context.Context, r Request, since time.Time) (Receipt, bool, error) {
	c, err := t.client()
	if err != nil {
		return Receipt{}, false, &Error{Provider: t.Name(), Class: Rejected, Code: "Config", Message: err.Error()}
	}
	phone := r.Phone
	if !strings.HasPrefix(phone, "+") {
		phone = "+86" + phone
	}
	req := tchttp.NewCommonRequest("sms", "2021-01-11", "PullSmsSendStatusByPhoneNumber")
	req.SetContext(ctx)
	// Offset is fixed at 0 by the API; 100 is its largest page.
	if err := req.SetActionParameters(map[string]any{
		"BeginTime": uint64(since.Add(-time.Minute).Unix()), "Offset": 0, "Limit": 100,
		"PhoneNumber": phone, "SmsSdkAppId": t.SdkAppID,
	}); err != nil {
		return Receipt{}, false, err
	}
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		var se *tcerr.TencentCloudSDKError
		if errors.As(err, &se) {
			return Receipt{}, false, &Error{Provider: t.Name(), Class: tencentClass(se.Code), Code: se.Code, Message: se.Message}
		}
		return Receipt{}, false, fmt.Errorf("tencent PullSmsSendStatusByPhoneNumber: %w", err)
	}
	var out struct {
		Response struct {
			PullSmsSendStatusSet []struct{ SerialNo, PhoneNumber, SessionContext, ReportStatus string }
		}
	}
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		return Receipt{}, false, fmt.Errorf("tencent PullSmsSendStatusByPhoneNumber: answer: %w", err)
	}
	for _, s := range out.Response.PullSmsSendStatusSet {
		if r.Ref != "" && s.SessionContext == r.Ref {
			return Receipt{MessageID: s.SerialNo}, true, nil
		}
	}
	return Receipt{}, false, nil
}
