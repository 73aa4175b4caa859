package sms

import (
	"encoding/json"
	"fmt"
	"time"

	smsstore "github.com/voltflow/voltflow/store/sms"
)

// Delivery states of a sent message (sms_messages.delivery).
const (
	DeliveryUnknown   = smsstore.DeliveryUnknown
	DeliveryDelivered = smsstore.DeliveryDelivered
	DeliveryFailed    = smsstore.DeliveryFailed
)

// DeliveryReceipt is a provider's status report of one message, as
// store/sms records it.
type DeliveryReceipt = smsstore.DeliveryReceipt

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
