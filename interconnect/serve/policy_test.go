package serve_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/serve"
	"github.com/voltflow/voltflow/internal/clock"
)

// TestFreshnessPerRegulator: a request 10 minutes old is refused (4003)
// under the default ±5 min window and accepted once the regulator's window
// is set to 15 min; set back to the default, refused again.
func TestFreshnessPerRegulator(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := envelope.NewSeqGenerator(clock.Fixed(time.Now().Add(-10 * time.Minute)))
	send := func() envelope.Ret {
		st, err := old.Next()
		if err != nil {
			t.Fatal(err)
		}
		req, err := f.codec.SealRequest(serve.TokenQuery{OperatorID: "123456789", OperatorSecret: "1234567890abcdef"}, st)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(req)
		var ans serve.TokenAnswer
		return f.open(t, f.post(t, "v1", serve.QueryToken, "", body), &ans)
	}
	if ret := send(); ret != envelope.RetEnvelope {
		t.Fatalf("10 min old, default window: Ret %v", ret)
	}
	if err := serve.SetFreshness(ctx, f.db, push.DefaultRegulator, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	if ret := send(); ret != envelope.RetOK {
		t.Fatalf("10 min old, 15 min window: Ret %v", ret)
	}
	if err := serve.SetFreshness(ctx, f.db, push.DefaultRegulator, 0); err != nil {
		t.Fatal(err)
	}
	if ret := send(); ret != envelope.RetEnvelope {
		t.Fatalf("back to the default: Ret %v", ret)
	}
	if err := serve.SetFreshness(ctx, f.db, push.DefaultRegulator, 1500*time.Millisecond); !errors.Is(err, serve.ErrFreshness) {
		t.Fatalf("fractional window: %v", err)
	}
}
