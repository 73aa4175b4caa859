package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/voltflow/voltflow/store"
)

// Delivery states of a sent message (sms_messages.delivery).
const (
	DeliveryUnknown   = "unknown"   // accepted by the provider, no receipt yet
	DeliveryDelivered = "delivered" // the handset received it
	DeliveryFailed    = "failed"    // the carrier gave up (number off, blocked, ...)
)

// DeliveryReceipt is a provider's status report of one message.
type DeliveryReceipt struct {
	Provider  string    `json:"provider"`
	MessageID string    `json:"messageId"` // Aliyun BizId, Tencent sid
	Delivered bool      `json:"delivered"`
	Code      string    `json:"code"` // the provider's status code, e.g. DELIVERED, DELIVRD, MK:0001
	At        time.Time `json:"at"`
}

// chinaTime is the zone of the providers' report times ("2006-01-02 15:04:05", Beijing time).
var chinaTime = time.FixedZone("CST", 8*3600)

// ParseAliyunReport reads Aliyun's SmsReport push: a JSON array of
// {"biz_id","success","err_code","report_time",...}.
func ParseAliyunReport(body []byte) ([]DeliveryReceipt, error) {
	var in []struct {
		BizID      string `json:"biz_id"`
		Success    bool   `json:"success"`
		ErrCode    string `json:"err_code"`
		ReportTime string `json:"report_time"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("aliyun SmsReport: %w", err)
	}
	out := make([]DeliveryReceipt, 0, len(in))
	for _, r := range in {
		at, _ := time.ParseInLocation(time.DateTime, r.ReportTime, chinaTime)
		out = append(out, DeliveryReceipt{Provider: "aliyun", MessageID: r.BizID, Delivered: r.Success, Code: r.ErrCode, At: at})
	}
	return out, nil
}

// ParseTencentReport reads Tencent Cloud SMS's status callback: a JSON
// array of {"sid","report_status":"SUCCESS"|"FAIL","errmsg","user_receive_time",...}.
func ParseTencentReport(body []byte) ([]DeliveryReceipt, error) {
	var in []struct {
		SID          string `json:"sid"`
		ReportStatus string `json:"report_status"`
		ErrMsg       string `json:"errmsg"`
		ReceiveTime  string `json:"user_receive_time"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("tencent status callback: %w", err)
	}
	out := make([]DeliveryReceipt, 0, len(in))
	for _, r := range in {
		at, _ := time.ParseInLocation(time.DateTime, r.ReceiveTime, chinaTime)
		out = append(out, DeliveryReceipt{Provider: "tencent", MessageID: r.SID, Delivered: r.ReportStatus == "SUCCESS", Code: r.ErrMsg, At: at})
	}
	return out, nil
}

// ApplyReceipts records receipts on their messages and returns how many
// matched a sent message. A receipt for an unknown id is ignored (another
// system's message on the same account); a repeated one changes nothing.
func ApplyReceipts(ctx context.Context, db *store.DB, rs []DeliveryReceipt) (int, error) {
	n := 0
	for _, r := range rs {
		state := DeliveryFailed
		if r.Delivered {
			state = DeliveryDelivered
		}
		var at any
		if !r.At.IsZero() {
			at = r.At
		}
		tag, err := db.Exec(ctx, `update sms_messages set delivery=$3, delivery_code=$4, delivered_at=coalesce($5, now())
			where provider=$1 and provider_message_id=$2 and status='sent' and delivery='unknown'`,
			r.Provider, r.MessageID, state, r.Code, at)
		if err != nil {
			return n, fmt.Errorf("apply receipt %s/%s: %w", r.Provider, r.MessageID, err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}
