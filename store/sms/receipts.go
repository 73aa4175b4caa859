package sms

import (
	"context"
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
