package sms_test

import (
	"context"
	"errors"
	"testing"
	"time"

	smsacts "github.com/voltflow/voltflow/activities/sms"
	"github.com/voltflow/voltflow/activities/sms/smsfake"
)

// finder is a provider that can be asked for a message it accepted.
type finder interface {
	smsacts.Provider
	smsacts.Finder
}

// providerCase is one real adapter against its fake.
type providerCase struct {
	name string
	make func(t *testing.T) (finder, *smsfake.Server)
	// msgID is the id a found message is recorded with.
	msgID func(accepted smsfake.Received) string
}

var providerCases = []providerCase{
	{"aliyun", func(t *testing.T) (finder, *smsfake.Server) {
		f := smsfake.NewAliyun(t, aliKey, aliSecret)
		return aliyun(f.URL, aliSecret), f
	}, func(r smsfake.Received) string { return "OutId:" + r.Ref }}, // QuerySendDetails has no BizId
	{"tencent", func(t *testing.T) (finder, *smsfake.Server) {
		f := smsfake.NewTencent(t, tcID, tcKey)
		return tencent(f.URL, tcKey), f
	}, func(r smsfake.Received) string { return r.MessageID }},
}

func TestFindAsksTheProviderByRef(t *testing.T) {
	for _, pc := range providerCases {
		t.Run(pc.name, func(t *testing.T) {
			p, fake := pc.make(t)
			ctx := context.Background()
			since := time.Now()
			if _, err := p.Send(ctx, request()); err != nil {
				t.Fatal(err)
			}
			other := request()
			other.Ref = "ref-2"
			if _, err := p.Send(ctx, other); err != nil {
				t.Fatal(err)
			}
			rec, found, err := p.Find(ctx, request(), since)
			if err != nil || !found || rec.MessageID != pc.msgID(fake.Accepted()[0]) {
				t.Fatalf("find ref-1: %+v found %v err %v; accepted %+v", rec, found, err, fake.Accepted())
			}
			for name, r := range map[string]smsacts.Request{
				"unknown ref":  {Phone: "13800000001", Ref: "ref-3"},
				"other number": {Phone: "13800000009", Ref: "ref-1"},
			} {
				if rec, found, err := p.Find(ctx, r, since); err != nil || found {
					t.Fatalf("%s: %+v found %v err %v, want not found", name, rec, found, err)
				}
			}
			if fake.Queries() != 3 || len(fake.Accepted()) != 2 || fake.SignatureFailures() != 0 {
				t.Fatalf("fake: %d queries, %d accepted, %d signature failures", fake.Queries(), len(fake.Accepted()), fake.SignatureFailures())
			}
		})
	}
}

func TestFindWithAWrongKeyFailsTheSignatureCheck(t *testing.T) {
	for _, pc := range providerCases {
		t.Run(pc.name, func(t *testing.T) {
			_, fake := pc.make(t)
			var p smsacts.Finder = aliyun(fake.URL, "wrong")
			if pc.name == "tencent" {
				p = tencent(fake.URL, "wrong")
			}
			_, found, err := p.Find(context.Background(), request(), time.Now())
			var pe *smsacts.Error
			if found || !errors.As(err, &pe) || pe.Class != smsacts.Rejected || fake.SignatureFailures() != 1 {
				t.Fatalf("found %v err %v, %d signature failures", found, err, fake.SignatureFailures())
			}
		})
	}
}

// lossy passes a message to the real provider (or not) and then loses the
// answer, as a worker killed during the call does.
type lossy struct {
	finder
	deliver bool
}

func (l lossy) Send(ctx context.Context, r smsacts.Request) (smsacts.Receipt, error) {
	if l.deliver {
		if _, err := l.finder.Send(ctx, r); err != nil {
			return smsacts.Receipt{}, err
		}
	}
	return smsacts.Receipt{}, errors.New("connection reset by peer")
}

func TestRetryAfterALostAnswerAsksBeforeResending(t *testing.T) {
	for _, pc := range providerCases {
		for _, reached := range []bool{true, false} {
			name := pc.name + "/not-reached"
			if reached {
				name = pc.name + "/reached"
			}
			t.Run(name, func(t *testing.T) {
				db, project := fixture(t)
				p, fake := pc.make(t)
				ctx := context.Background()
				first := &smsacts.Activities{DB: db, Providers: []smsacts.Provider{lossy{p, reached}}}
				if _, err := first.SendSMS(ctx, input(project, "low_1")); err == nil {
					t.Fatal("lost answer: want a retryable error")
				}
				var inFlight string
				if err := db.QueryRow(ctx, `select in_flight_provider from sms_messages`).Scan(&inFlight); err != nil || inFlight != pc.name {
					t.Fatalf("in flight %q err %v, want %s", inFlight, err, pc.name)
				}
				retry := &smsacts.Activities{DB: db, Providers: []smsacts.Provider{p}}
				res, err := retry.SendSMS(ctx, input(project, "low_1"))
				if err != nil {
					t.Fatal(err)
				}
				acc := fake.Accepted()
				if len(acc) != 1 || fake.Queries() != 1 || res.Duplicate != reached || res.Status != smsacts.Sent {
					t.Fatalf("result %+v; provider accepted %d (want 1), queried %d (want 1)", res, len(acc), fake.Queries())
				}
				want := acc[0].MessageID
				if reached {
					want = pc.msgID(acc[0])
				}
				id, status, provider, msgID := messageID(t, db)
				if status != "sent" || provider != pc.name || msgID != want || res.ProviderMessageID != want || acc[0].Ref != id {
					t.Fatalf("row %s %s %s %s, want provider id %s and ref %s", id, status, provider, msgID, want, acc[0].Ref)
				}
				if err := db.QueryRow(ctx, `select in_flight_provider from sms_messages`).Scan(&inFlight); err != nil || inFlight != "" {
					t.Fatalf("in flight %q after sent", inFlight)
				}
				// Once recorded, a further retry asks nobody and sends nothing.
				if again, err := retry.SendSMS(ctx, input(project, "low_1")); err != nil || !again.Duplicate ||
					fake.Queries() != 1 || len(fake.Accepted()) != 1 {
					t.Fatalf("again %+v err %v; queries %d accepted %d", again, err, fake.Queries(), len(fake.Accepted()))
				}
			})
		}
	}
}
