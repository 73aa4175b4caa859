package sms_test

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"
	"golang.org/x/crypto/bcrypt"

	smsacts "github.com/voltflow/voltflow/activities/sms"
	"github.com/voltflow/voltflow/activities/sms/smsfake"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	smsstore "github.com/voltflow/voltflow/store/sms"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

const (
	aliKey, aliSecret = "LTAI-test", "ali-secret-1234"
	tcID, tcKey       = "AKID-test", "tc-secret-5678"
)

func aliyun(url, secret string) *smsacts.Aliyun {
	return &smsacts.Aliyun{Endpoint: url, AccessKeyID: aliKey, AccessKeySecret: secret, SignName: "Voltflow"}
}

func tencent(url, key string) *smsacts.Tencent {
	return &smsacts.Tencent{Endpoint: url, SecretID: tcID, SecretKey: key, SdkAppID: "1400000001", SignName: "Voltflow"}
}

func request() smsacts.Request {
	return smsacts.Request{Phone: "13800000001", TemplateCode: "SMS_LOW_BALANCE", Ref: "ref-1",
		Params: []smsacts.Param{{Name: "meterNo", Value: "M0001"}, {Name: "remaining", Value: "19.50"}, {Name: "threshold", Value: "20.00"}},
		Text:   "Meter M0001: balance 19.50"}
}

func TestAliyunSendPassesTheFakesSignatureCheck(t *testing.T) {
	fake := smsfake.NewAliyun(t, aliKey, aliSecret)
	rec, err := aliyun(fake.URL, aliSecret).Send(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	got := fake.Accepted()
	if len(got) != 1 || got[0].MessageID != rec.MessageID || rec.MessageID == "" {
		t.Fatalf("receipt %+v, fake accepted %+v", rec, got)
	}
	// Aliyun takes parameters as a JSON object; the fake lists them by name.
	if got[0].Phone != "13800000001" || got[0].TemplateCode != "SMS_LOW_BALANCE" || got[0].Ref != "ref-1" ||
		len(got[0].Params) != 3 || got[0].Params[0] != "M0001" || got[0].Params[1] != "19.50" {
		t.Fatalf("fake received %+v", got[0])
	}
	if n := fake.SignatureFailures(); n != 0 {
		t.Fatalf("%d signature failures", n)
	}
}

func TestAliyunWrongSecretFailsTheSignatureCheck(t *testing.T) {
	fake := smsfake.NewAliyun(t, aliKey, aliSecret)
	_, err := aliyun(fake.URL, "not-the-secret").Send(context.Background(), request())
	var pe *smsacts.Error
	if !errors.As(err, &pe) || pe.Code != "SignatureDoesNotMatch" || pe.Class != smsacts.Rejected {
		t.Fatalf("err %v, want SignatureDoesNotMatch rejected", err)
	}
	if fake.SignatureFailures() != 1 || len(fake.Accepted()) != 0 {
		t.Fatalf("fake: %d signature failures, accepted %v", fake.SignatureFailures(), fake.Accepted())
	}
}

func TestAliyunErrorsAreClassified(t *testing.T) {
	fake := smsfake.NewAliyun(t, aliKey, aliSecret)
	fake.Throttle(1)
	_, err := aliyun(fake.URL, aliSecret).Send(context.Background(), request())
	var pe *smsacts.Error
	if !errors.As(err, &pe) || pe.Code != "isv.BUSINESS_LIMIT_CONTROL" || pe.Class != smsacts.Throttled {
		t.Fatalf("throttled: err %v", err)
	}
	fake.RejectTemplate("SMS_LOW_BALANCE")
	_, err = aliyun(fake.URL, aliSecret).Send(context.Background(), request())
	if !errors.As(err, &pe) || pe.Code != "isv.SMS_TEMPLATE_ILLEGAL" || pe.Class != smsacts.Rejected {
		t.Fatalf("bad template: err %v", err)
	}
}

func TestTencentSendPassesTheFakesSignatureCheck(t *testing.T) {
	fake := smsfake.NewTencent(t, tcID, tcKey)
	r := request()
	r.TemplateCode = "1000001"
	rec, err := tencent(fake.URL, tcKey).Send(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	got := fake.Accepted()
	if len(got) != 1 || got[0].MessageID != rec.MessageID || rec.MessageID == "" {
		t.Fatalf("receipt %+v, fake accepted %+v", rec, got)
	}
	// Tencent takes E.164 numbers and parameters as an ordered list.
	if got[0].Phone != "+8613800000001" || got[0].TemplateCode != "1000001" || got[0].Ref != "ref-1" ||
		len(got[0].Params) != 3 || got[0].Params[0] != "M0001" || got[0].Params[2] != "20.00" {
		t.Fatalf("fake received %+v", got[0])
	}
	if n := fake.SignatureFailures(); n != 0 {
		t.Fatalf("%d signature failures", n)
	}
}

func TestTencentWrongKeyFailsTheSignatureCheck(t *testing.T) {
	fake := smsfake.NewTencent(t, tcID, tcKey)
	_, err := tencent(fake.URL, "not-the-key").Send(context.Background(), request())
	var pe *smsacts.Error
	if !errors.As(err, &pe) || pe.Code != "AuthFailure.SignatureFailure" || pe.Class != smsacts.Rejected {
		t.Fatalf("err %v, want AuthFailure.SignatureFailure rejected", err)
	}
	if fake.SignatureFailures() != 1 || len(fake.Accepted()) != 0 {
		t.Fatalf("fake: %d signature failures, accepted %v", fake.SignatureFailures(), fake.Accepted())
	}
}

func TestTencentErrorsAreClassified(t *testing.T) {
	fake := smsfake.NewTencent(t, tcID, tcKey)
	fake.Throttle(1)
	_, err := tencent(fake.URL, tcKey).Send(context.Background(), request())
	var pe *smsacts.Error
	if !errors.As(err, &pe) || pe.Code != "LimitExceeded.PhoneNumberThirtySecondLimit" || pe.Class != smsacts.Throttled {
		t.Fatalf("throttled: err %v", err)
	}
	fake.RejectTemplate("SMS_LOW_BALANCE")
	_, err = tencent(fake.URL, tcKey).Send(context.Background(), request())
	if !errors.As(err, &pe) || pe.Code != "FailedOperation.TemplateIncorrectOrUnapproved" || pe.Class != smsacts.Rejected {
		t.Fatalf("bad template: err %v", err)
	}
}

// fixture is a migrated database with a small demo project.
func fixture(t *testing.T) (*store.DB, string) {
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = []int{1}, 2, bcrypt.MinCost
	o.Operators = o.Operators[:1]
	l, err := demo.Load(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	return db, l.ProjectID
}

func input(project, stage string) smsacts.SendInput {
	return smsacts.SendInput{ProjectID: project, WorkflowID: "alarm/M0001/low_balance", AlarmID: "run-1", Stage: stage,
		Recipient: "13800000001", Kind: "low_balance", MeterNo: "M0001", Template: "low_balance",
		Values: map[string]string{"meterNo": "M0001", "remaining": "19.50", "threshold": "20.00"}}
}

type attempt struct {
	provider, code string
	ok             bool
}

func attempts(t *testing.T, db *store.DB, id string) []attempt {
	rows, err := db.Query(context.Background(), `select provider, code, ok from sms_attempts where message_id=$1 order by id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []attempt
	for rows.Next() {
		var a attempt
		if err := rows.Scan(&a.provider, &a.code, &a.ok); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func messageID(t *testing.T, db *store.DB) (id, status, provider, providerMsg string) {
	if err := db.QueryRow(context.Background(), `select id, status, provider, provider_message_id from sms_messages`).
		Scan(&id, &status, &provider, &providerMsg); err != nil {
		t.Fatal(err)
	}
	return
}

func TestThrottledProviderIsRetriedThenFallsBack(t *testing.T) {
	db, project := fixture(t)
	ali, tc := smsfake.NewAliyun(t, aliKey, aliSecret), smsfake.NewTencent(t, tcID, tcKey)
	ali.Throttle(10)
	a := &smsacts.Activities{DB: db, Providers: []smsacts.Provider{aliyun(ali.URL, aliSecret), tencent(tc.URL, tcKey)}, PerProvider: 2}
	ctx := context.Background()

	// First attempt: throttled, a retryable error for Temporal to retry.
	_, err := a.SendSMS(ctx, input(project, "low_1"))
	var appErr *temporal.ApplicationError
	if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
		t.Fatalf("first attempt: %v, want a retryable error", err)
	}
	// Second attempt: throttled again, which uses up aliyun's share; tencent takes it.
	res, err := a.SendSMS(ctx, input(project, "low_1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Provider != "tencent" || res.Status != smsacts.Sent || len(tc.Accepted()) != 1 || res.ProviderMessageID != tc.Accepted()[0].MessageID {
		t.Fatalf("result %+v, tencent accepted %v", res, tc.Accepted())
	}
	id, status, provider, providerMsg := messageID(t, db)
	if status != "sent" || provider != "tencent" || providerMsg != res.ProviderMessageID || id != res.ID {
		t.Fatalf("row: %s %s %s %s", id, status, provider, providerMsg)
	}
	want := []attempt{{"aliyun", "isv.BUSINESS_LIMIT_CONTROL", false}, {"aliyun", "isv.BUSINESS_LIMIT_CONTROL", false}, {"tencent", "", true}}
	if got := attempts(t, db, id); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("attempts %+v, want %+v", got, want)
	}
	// Ours and the provider's records match: the row id went as SessionContext.
	if tc.Accepted()[0].Ref != id {
		t.Fatalf("tencent got ref %q, want %s", tc.Accepted()[0].Ref, id)
	}
}

func TestBadTemplateFallsBackAtOnceAndSendingAgainIsANoOp(t *testing.T) {
	db, project := fixture(t)
	ali, tc := smsfake.NewAliyun(t, aliKey, aliSecret), smsfake.NewTencent(t, tcID, tcKey)
	ali.RejectTemplate("SMS_LOW_BALANCE")
	a := &smsacts.Activities{DB: db, Providers: []smsacts.Provider{aliyun(ali.URL, aliSecret), tencent(tc.URL, tcKey)}}
	ctx := context.Background()
	res, err := a.SendSMS(ctx, input(project, "low_1"))
	if err != nil || res.Provider != "tencent" {
		t.Fatalf("res %+v err %v, want sent by tencent in the same attempt", res, err)
	}
	again, err := a.SendSMS(ctx, input(project, "low_1"))
	if err != nil || !again.Duplicate || again.ID != res.ID {
		t.Fatalf("second send %+v err %v, want the same message as a duplicate", again, err)
	}
	if len(tc.Received()) != 1 || len(ali.Received()) != 1 {
		t.Fatalf("providers received aliyun %d tencent %d, want 1 and 1", len(ali.Received()), len(tc.Received()))
	}
}

func TestRejectedByEveryProviderIsFinal(t *testing.T) {
	db, project := fixture(t)
	ali := smsfake.NewAliyun(t, aliKey, aliSecret)
	ali.RejectTemplate("SMS_LOW_BALANCE")
	a := &smsacts.Activities{DB: db, Providers: []smsacts.Provider{aliyun(ali.URL, aliSecret)}}
	_, err := a.SendSMS(context.Background(), input(project, "low_1"))
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != smsacts.ErrTypeUndeliverable {
		t.Fatalf("err %v, want non-retryable %s", err, smsacts.ErrTypeUndeliverable)
	}
	if _, status, _, _ := messageID(t, db); status != "failed" {
		t.Fatalf("status %s, want failed", status)
	}
}

func TestOutboxIsTheDefault(t *testing.T) {
	db, project := fixture(t)
	a := &smsacts.Activities{DB: db}
	res, err := a.SendSMS(context.Background(), input(project, "low_1"))
	if err != nil || res.Provider != "outbox" || res.Status != smsacts.Sent {
		t.Fatalf("res %+v err %v", res, err)
	}
	msgs, err := smsstore.List(context.Background(), db, smsstore.Filter{Projects: []string{project}, Limit: 10})
	if err != nil || len(msgs) != 1 || msgs[0].Text != "Meter M0001: balance 19.50 yuan is at or below 20.00 yuan. Please recharge to avoid a cut-off." ||
		msgs[0].SentAt == nil || msgs[0].Stage != "low_1" {
		t.Fatalf("list %+v err %v", msgs, err)
	}
	other, err := smsstore.List(context.Background(), db, smsstore.Filter{Projects: []string{"00000000-0000-0000-0000-000000000000"}, Limit: 10})
	if err != nil || len(other) != 0 {
		t.Fatalf("another project sees %v (err %v)", other, err)
	}
}
