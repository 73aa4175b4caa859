package harness

import (
	"path/filepath"

	smsacts "github.com/voltflow/voltflow/activities/sms"
)

// SMSInbox is the file the worker's SMS outbox delivers to
// (VOLTFLOW_SMS_OUTBOX_INBOX): the messages as their recipients read them,
// secret values (login codes) included, which GET /api/v1/sms masks.
func (s *Stack) SMSInbox() string { return filepath.Join(s.tmpDir, "sms-inbox.jsonl") }

// SMSDelivered is the messages delivered to phone, oldest first.
func (s *Stack) SMSDelivered(phone string) ([]smsacts.Delivered, error) {
	return smsacts.ReadInbox(s.SMSInbox(), phone)
}
