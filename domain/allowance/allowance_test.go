package allowance

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
)

func TestAmount(t *testing.T) {
	price, err := money.ParsePrice("1.2000")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		s      Setting
		ct, pt int64
		want   string
	}{
		{"money", Setting{Money, decimal.RequireFromString("20.5")}, 1, 1, "20.50"},
		{"kwh", Setting{KWh, decimal.RequireFromString("10")}, 1, 1, "12.00"},
		// 3.33 kWh × 5 × 2 × 1.2 = 39.96
		{"kwh with ratios", Setting{KWh, decimal.RequireFromString("3.33")}, 5, 2, "39.96"},
		// 0.01 × 1.2 = 0.012 → 0.01
		{"rounded", Setting{KWh, decimal.RequireFromString("0.01")}, 1, 1, "0.01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.s.Amount(price, c.ct, c.pt)
			if err != nil || got.String() != c.want {
				t.Fatalf("got %s, %v; want %s", got, err, c.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		s    Setting
		want error
	}{
		{Setting{KWh, decimal.RequireFromString("10.00")}, nil},
		{Setting{Money, decimal.Zero}, nil},
		{Setting{"yuan", decimal.NewFromInt(1)}, ErrBasis},
		{Setting{KWh, decimal.RequireFromString("-1")}, ErrQuantity},
		{Setting{KWh, decimal.RequireFromString("1.005")}, ErrQuantity},
	} {
		if err := c.s.Validate(); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.s, err, c.want)
		}
	}
}

func TestPeriod(t *testing.T) {
	// 30 Nov 16:30 UTC is 1 Dec 00:30 in China.
	if p := Period(time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC)); p != "2026-12" {
		t.Fatalf("period %s", p)
	}
	if _, err := ParsePeriod("2026-13"); err == nil {
		t.Fatal("2026-13 accepted")
	}
}
