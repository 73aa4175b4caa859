package commonarea

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// The figures are worked by hand: the expected shares are the rounded
// exact shares plus the remainder on the largest one.
func TestAllocate(t *testing.T) {
	tests := []struct {
		name  string
		total string
		parts []Part
		want  []string
		err   error
	}{
		{
			// By area 50/30/20 m² of 600.00: 300.00, 180.00, 120.00.
			name: "area exact", total: "600.00",
			parts: []Part{{"a", d("50")}, {"b", d("30")}, {"c", d("20")}},
			want:  []string{"300.00", "180.00", "120.00"},
		},
		{
			// 100.00 / 3 = 33.333…: 33.33 each = 99.99; the cent left goes
			// to the largest (the first of equals).
			name: "ratio thirds", total: "100.00",
			parts: []Part{{"a", d("1")}, {"b", d("1")}, {"c", d("1")}},
			want:  []string{"33.34", "33.33", "33.33"},
		},
		{
			// By consumption 120/80/50 kWh of 123.45: exact 59.256, 39.504,
			// 24.69 → 59.26 + 39.50 + 24.69 = 123.45, nothing left.
			name: "consumption", total: "123.45",
			parts: []Part{{"a", d("120")}, {"b", d("80")}, {"c", d("50")}},
			want:  []string{"59.26", "39.50", "24.69"},
		},
		{
			// Area 85.5/64.5/50 of 200.00 over 200 m²: exact 85.50/64.50/50.00.
			name: "area fractional m2", total: "200.00",
			parts: []Part{{"a", d("85.5")}, {"b", d("64.5")}, {"c", d("50")}},
			want:  []string{"85.50", "64.50", "50.00"},
		},
		{
			// 10.00 by 1/1/1/1/1/1 (6 ways): 1.666… → 1.67 × 6 = 10.02; the
			// largest (first) takes −0.02 → 1.65.
			name: "remainder negative", total: "10.00",
			parts: []Part{{"a", d("1")}, {"b", d("1")}, {"c", d("1")}, {"d", d("1")}, {"e", d("1")}, {"f", d("1")}},
			want:  []string{"1.65", "1.67", "1.67", "1.67", "1.67", "1.67"},
		},
		{
			// Ratio 0.2/0.3/0.5 of 0.01: 0.00, 0.00, 0.01 (0.005 rounds up) → exact.
			name: "one cent", total: "0.01",
			parts: []Part{{"a", d("0.2")}, {"b", d("0.3")}, {"c", d("0.5")}},
			want:  []string{"0.00", "0.00", "0.01"},
		},
		{
			name: "zero weight unit gets nothing", total: "50.00",
			parts: []Part{{"a", d("0")}, {"b", d("2")}},
			want:  []string{"0.00", "50.00"},
		},
		{name: "no weight", total: "50.00", parts: []Part{{"a", d("0")}}, err: ErrNoWeight},
		{
			// A month without common-area use: nothing to share, even when no unit used anything.
			name: "nothing to share", total: "0.00",
			parts: []Part{{"a", d("0")}, {"b", d("0")}},
			want:  []string{"0.00", "0.00"},
		},
		{name: "no units", total: "50.00", err: ErrNoWeight},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Allocate(money.MustParse(tt.total), tt.parts)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sum := money.Zero
			for i, s := range got {
				if s.Amount.String() != tt.want[i] {
					t.Errorf("share %s = %s, want %s", s.UnitID, s.Amount, tt.want[i])
				}
				sum = sum.Add(s.Amount)
			}
			if sum.String() != money.MustParse(tt.total).String() {
				t.Errorf("shares sum to %s, want %s", sum, tt.total)
			}
		})
	}
	if _, err := Allocate(money.MustParse("-1.00"), []Part{{"a", d("1")}}); err == nil {
		t.Error("negative total accepted")
	}
	if _, err := Allocate(money.MustParse("1.00"), []Part{{"a", d("-1")}}); err == nil {
		t.Error("negative weight accepted")
	}
}

func TestPeriod(t *testing.T) {
	for _, s := range []string{"2026-13", "2026-1", "26-01", ""} {
		if _, err := ParsePeriod(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	p, err := ParsePeriod("2026-12")
	if err != nil {
		t.Fatal(err)
	}
	from, to := p.Bounds(time.UTC)
	if !from.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("bounds %s..%s", from, to)
	}
}
