package recharge

import (
	"errors"
	"testing"

	"github.com/voltflow/voltflow/domain/money"
)

func TestKWhAmount(t *testing.T) {
	for _, tc := range []struct {
		kwh, price string
		ct, pt     int64
		want       string
		err        error
	}{
		{"3.25", "1.2000", 5, 2, "39.00", nil}, // 3.25 × 10 × 1.2
		{"10.00", "0.8000", 1, 1, "8.00", nil}, // no transformers
		{"1.00", "0.5000", 0, 0, "0.50", nil},  // 0 ratios mean 1
		{"0.01", "0.4567", 1, 1, "0.00", ErrAmountNotPositive},
		{"0.03", "0.5000", 1, 1, "0.02", nil}, // 0.015 rounds half away from zero
		{"2.00", "0.0000", 1, 1, "0.00", ErrPriceUnset},
		{"12.34", "1.0850", 40, 1, "535.56", nil}, // 12.34 × 40 × 1.085 = 535.556
	} {
		kwh, err := ParseKWh(tc.kwh)
		if err != nil {
			t.Fatalf("ParseKWh(%s): %v", tc.kwh, err)
		}
		price, err := money.ParsePrice(tc.price)
		if err != nil {
			t.Fatal(err)
		}
		got, err := KWhAmount(kwh, price, tc.ct, tc.pt)
		if !errors.Is(err, tc.err) || (err == nil && got.String() != tc.want) {
			t.Errorf("%s kWh × %d × %d × %s = %s, %v; want %s, %v", tc.kwh, tc.ct, tc.pt, tc.price, got, err, tc.want, tc.err)
		}
	}
}

func TestParseKWh(t *testing.T) {
	for in, ok := range map[string]bool{"1": true, "1.5": true, "1.25": true, "1.234": false, "0": false, "-1": false, "abc": false, "": false} {
		if _, err := ParseKWh(in); (err == nil) != ok {
			t.Errorf("ParseKWh(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestCheckReason(t *testing.T) {
	if CheckReason(Adjustment, "") == nil || CheckReason(Sale, "") != nil || CheckReason(Adjustment, "补偿") != nil {
		t.Fatal("an adjustment needs a reason, a sale does not")
	}
}
