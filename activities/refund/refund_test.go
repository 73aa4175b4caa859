package refund

import (
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"

	refunddom "github.com/voltflow/voltflow/domain/refund"
	refundstore "github.com/voltflow/voltflow/store/refund"
)

func TestRefusal(t *testing.T) {
	short := &refundstore.BalanceError{Msg: "wallet meter:M0001 holds 30.00, less than the refund of 40.00"}
	other := errors.New("connection reset")
	tests := []struct {
		name         string
		err          error
		nonRetryable bool
	}{
		{"none", nil, false},
		{"a failure stays retryable", other, false},
		{"the wallet no longer covers it", short, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := refusal(tt.err)
			var app *temporal.ApplicationError
			if isApp := errors.As(got, &app); isApp != tt.nonRetryable {
				t.Fatalf("refusal(%v) = %v; application error %v, want %v", tt.err, got, isApp, tt.nonRetryable)
			}
			if !tt.nonRetryable {
				if got != tt.err {
					t.Fatalf("refusal(%v) = %v; want it unchanged", tt.err, got)
				}
				return
			}
			if app.Type() != ErrTypeExceedsBalance || !app.NonRetryable() || app.Message() != tt.err.Error() ||
				!errors.Is(got, refunddom.ErrExceedsBalance) {
				t.Fatalf("refusal = %v (type %s, non-retryable %v); want %s, non-retryable, message %q, wrapping ErrExceedsBalance",
					app, app.Type(), app.NonRetryable(), ErrTypeExceedsBalance, tt.err)
			}
		})
	}
}
