// Package sms sends text messages (短信) through one interface: the local
// outbox (the default, for make run and tests), Aliyun SMS (Dysms SendSms)
// and Tencent Cloud SMS (SendSms, API 3.0). Every message is a row in
// sms_messages, keyed so that a retried or replayed send never sends twice.
package sms

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Request is one message to one phone number, as a provider needs it.
type Request struct {
	Phone string
	// TemplateCode is the provider's id of the approved template (both
	// providers send only templates, never free text).
	TemplateCode string
	// Params in the template's order: Tencent takes them as a list, Aliyun as
	// a JSON object by name.
	Params []Param
	// Text is the message as the recipient reads it (the outbox stores it).
	Text string
	// Ref is our id for the message, passed to the provider (Aliyun OutId,
	// Tencent SessionContext) so its records can be matched with ours.
	Ref string
}

// Param is one named template parameter.
type Param struct{ Name, Value string }

// Receipt is the provider's answer to an accepted message.
type Receipt struct {
	MessageID string // Aliyun BizId, Tencent SerialNo, outbox row id
}

// Provider sends one message. Implementations return *Error for answers the
// provider gave, so the caller can tell a retry from a fallback.
type Provider interface {
	Name() string
	Send(ctx context.Context, r Request) (Receipt, error)
}

// Finder is a provider that can say whether it already accepted a message:
// by our Ref (Aliyun OutId, Tencent SessionContext) to r.Phone, sent at or
// after since. SendSMS asks it before resending a message whose earlier
// call may have reached the provider unrecorded (a killed worker).
type Finder interface {
	Find(ctx context.Context, r Request, since time.Time) (Receipt, bool, error)
}

// Failure classes of a provider's answer.
type Failure int

const (
	// Transient failures (network, 5xx) are retried on the same provider.
	Transient Failure = iota
	// Throttled failures (rate limits) are retried later, then fall back.
	Throttled
	// Rejected failures (bad template, bad number, bad signature) will not
	// succeed on retry with this provider: fall back at once.
	Rejected
)

func (f Failure) String() string {
	switch f {
	case Throttled:
		return "throttled"
	case Rejected:
		return "rejected"
	default:
		return "transient"
	}
}

// Error is a provider's refusal.
type Error struct {
	Provider string
	Class    Failure
	Code     string // the provider's own code, e.g. isv.BUSINESS_LIMIT_CONTROL
	Message  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (%s): %s", e.Provider, e.Code, e.Class, e.Message)
}

// classOf is the failure class of err; anything not an *Error is transient.
func classOf(err error) (Failure, string) {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Class, pe.Code
	}
	return Transient, ""
}

// Template is one message as configuration: the local text, the order of its
// parameters, and its code at each provider.
type Template struct {
	Text   string            `json:"text"`   // "{name}" placeholders
	Params []string          `json:"params"` // names in the providers' order
	Codes  map[string]string `json:"codes"`  // provider name → template code / id
}

// Templates by name (low_balance, arrears, daily_low_balance, recharge_received).
type Templates map[string]Template

// DefaultTemplates are the demo's texts; production sets the providers'
// approved template codes through configuration.
func DefaultTemplates() Templates {
	p := []string{"meterNo", "remaining", "threshold"}
	codes := func(a, t string) map[string]string { return map[string]string{"aliyun": a, "tencent": t} }
	return Templates{
		"low_balance": {Text: "Meter {meterNo}: balance {remaining} yuan is at or below {threshold} yuan. Please recharge to avoid a cut-off.",
			Params: p, Codes: codes("SMS_LOW_BALANCE", "1000001")},
		"daily_low_balance": {Text: "Meter {meterNo}: balance {remaining} yuan is low (alarm at {threshold} yuan). Please recharge.",
			Params: p, Codes: codes("SMS_DAILY_LOW", "1000002")},
		"arrears": {Text: "Meter {meterNo}: balance {remaining} yuan is used up; power is cut off until you recharge.",
			Params: []string{"meterNo", "remaining"}, Codes: codes("SMS_ARREARS", "1000003")},
		"recharge_received": {Text: "Meter {meterNo}: recharge received, balance now {remaining} yuan.",
			Params: []string{"meterNo", "remaining"}, Codes: codes("SMS_RECHARGE", "1000004")},
		"meter_alarm": {Text: "{subject}: {alarm} alarm. {detail}",
			Params: []string{"subject", "alarm", "detail"}, Codes: codes("SMS_METER_ALARM", "1000005")},
		"work_order_unacknowledged": {Text: "Work order {workOrderId} not acknowledged: {title}.",
			Params: []string{"workOrderId", "title"}, Codes: codes("SMS_WORK_ORDER_UNACK", "1000006")},
		"work_order_unresolved": {Text: "Work order {workOrderId} not resolved in time: {title}.",
			Params: []string{"workOrderId", "title"}, Codes: codes("SMS_WORK_ORDER_UNRESOLVED", "1000007")},
		"fee_arrears": {Text: "Meter {meterNo}: the {fee} fee of {amount} yuan left the account {arrears} yuan in arrears. Please recharge.",
			Params: []string{"meterNo", "fee", "amount", "arrears"}, Codes: codes("SMS_FEE_ARREARS", "1000008")},
		"login_code": {Text: "您的登录验证码为 {code}，5 分钟内有效。请勿告诉他人。",
			Params: []string{"code"}, Codes: codes("SMS_LOGIN_CODE", "1000009")},
	}
}

// render fills a template; a parameter the template names but values lack is
// an error (a provider would reject the message anyway).
func (t Template) render(values map[string]string) (string, []Param, error) {
	params := make([]Param, 0, len(t.Params))
	var missing []string
	text := t.Text
	for _, n := range t.Params {
		v, ok := values[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		params = append(params, Param{Name: n, Value: v})
		text = strings.ReplaceAll(text, "{"+n+"}", v)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return "", nil, fmt.Errorf("template parameters missing: %s", strings.Join(missing, ", "))
	}
	return text, params, nil
}
