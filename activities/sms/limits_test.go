package sms_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	smsacts "github.com/voltflow/voltflow/activities/sms"
	"github.com/voltflow/voltflow/internal/clock"
	smsstore "github.com/voltflow/voltflow/store/sms"
)

// A number that got its hour's quota waits — with the retry delay until
// the oldest message of the hour ages out — while an urgent message to it
// (arrears cut-off) goes at once.
func TestPerNumberRateLimitDelaysButNeverDropsOrHoldsUrgent(t *testing.T) {
	db, project := fixture(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	a := &smsacts.Activities{DB: db, PerNumberPerHour: 2, Clock: clock.Func(func() time.Time { return now })}
	for i, stage := range []string{"low_1", "low_2"} {
		now = now.Add(time.Duration(i*10) * time.Minute) // 10:00, 10:10
		if _, err := a.SendSMS(ctx, input(project, stage)); err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
	}
	now = now.Add(5 * time.Minute) // 10:15: two in the last hour
	_, err := a.SendSMS(ctx, input(project, "low_3"))
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != smsacts.ErrTypeRateLimited || ae.NonRetryable() || ae.NextRetryDelay() != 45*time.Minute {
		t.Fatalf("third within the hour: %v", err)
	}
	var status string
	if err := db.QueryRow(ctx, `select status from sms_messages where stage='low_3'`).Scan(&status); err != nil || status != "pending" {
		t.Fatalf("held message %q %v, want pending", status, err)
	}
	urgent := input(project, "arrears")
	urgent.Urgent = true
	if r, err := a.SendSMS(ctx, urgent); err != nil || r.Status != smsacts.Sent {
		t.Fatalf("urgent: %+v %v", r, err)
	}
	// 11:00: the 10:00 message aged out, but the urgent one counts too: the
	// hour holds 10:10 and 10:15, so the next slot is 11:10.
	now = now.Add(45 * time.Minute)
	if _, err := a.SendSMS(ctx, input(project, "low_3")); !errors.As(err, &ae) || ae.NextRetryDelay() != 10*time.Minute {
		t.Fatalf("at 11:00: %v", err)
	}
	now = now.Add(10 * time.Minute)
	if r, err := a.SendSMS(ctx, input(project, "low_3")); err != nil || r.Status != smsacts.Sent {
		t.Fatalf("after the delay: %+v %v", r, err)
	}
}

// Receipts: the outbox delivers on send; Aliyun and Tencent reports are
// parsed and applied by the provider's message id, once.
func TestDeliveryReceipts(t *testing.T) {
	db, project := fixture(t)
	ctx := context.Background()
	out := &smsacts.Activities{DB: db}
	if _, err := out.SendSMS(ctx, input(project, "low_1")); err != nil {
		t.Fatal(err)
	}
	ali := &smsacts.Activities{DB: db, Providers: []smsacts.Provider{fakeProvider{"aliyun", "BIZ-1"}}}
	if _, err := ali.SendSMS(ctx, input(project, "low_2")); err != nil {
		t.Fatal(err)
	}
	tc := &smsacts.Activities{DB: db, Providers: []smsacts.Provider{fakeProvider{"tencent", "SID-1"}}}
	if _, err := tc.SendSMS(ctx, input(project, "low_3")); err != nil {
		t.Fatal(err)
	}
	aliRs, err := smsacts.ParseAliyunReport([]byte(`[{"phone_number":"13800000001","send_time":"2026-03-02 10:00:00",
		"report_time":"2026-03-02 10:00:05","success":true,"err_code":"DELIVERED","err_msg":"用户接收成功","biz_id":"BIZ-1","out_id":"x"},
		{"biz_id":"OTHER","success":true,"err_code":"DELIVERED","report_time":"2026-03-02 10:00:05"}]`))
	if err != nil {
		t.Fatal(err)
	}
	tcRs, err := smsacts.ParseTencentReport([]byte(`[{"user_receive_time":"2026-03-02 10:01:00","nationcode":"86","mobile":"13800000001",
		"report_status":"FAIL","errmsg":"MK:0001","description":"failed","sid":"SID-1"}]`))
	if err != nil {
		t.Fatal(err)
	}
	n, err := smsstore.ApplyReceipts(ctx, db, append(aliRs, tcRs...))
	if err != nil || n != 2 {
		t.Fatalf("applied %d %v, want 2 (one receipt is another system's)", n, err)
	}
	if n, err := smsstore.ApplyReceipts(ctx, db, aliRs); err != nil || n != 0 {
		t.Fatalf("again: %d %v", n, err)
	}
	want := map[string]string{"low_1": "delivered OUTBOX", "low_2": "delivered DELIVERED", "low_3": "failed MK:0001"}
	rows, err := db.Query(ctx, `select stage, delivery || ' ' || delivery_code, delivered_at is not null from sms_messages`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var stage, got string
		var at bool
		if err := rows.Scan(&stage, &got, &at); err != nil {
			t.Fatal(err)
		}
		if want[stage] != got || !at {
			t.Fatalf("%s: %q (time %v), want %q", stage, got, at, want[stage])
		}
	}
	if _, err := smsacts.ParseAliyunReport([]byte(`{"not":"an array"}`)); err == nil {
		t.Fatal("bad report parsed")
	}
}

// fakeProvider accepts everything with a fixed message id.
type fakeProvider struct{ name, id string }

func (p fakeProvider) Name() string { return p.name }
func (p fakeProvider) Send(context.Context, smsacts.Request) (smsacts.Receipt, error) {
	return smsacts.Receipt{MessageID: p.id}, nil
}
