package money

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"100", "100.00", nil},
		{"100.5", "100.50", nil},
		{"0.01", "0.01", nil},
		{"-5", "-5.00", nil},
		{"1.234", "", ErrPrecision},
		{"abc", "", ErrSyntax},
		{"1e3", "", ErrSyntax},
		{" 1", "", ErrSyntax},
		{"", "", ErrSyntax},
		{"1.", "", ErrSyntax},
		{"1.230", "1.23", nil},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Parse(%q) err = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestRoundHalfAwayFromZero(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0.005", "0.01"}, {"0.004", "0.00"}, {"-0.005", "-0.01"}, {"2.675", "2.68"}, {"1.0049", "1.00"},
	}
	for _, tt := range tests {
		if got := Round(decimal.RequireFromString(tt.in)).String(); got != tt.want {
			t.Errorf("Round(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestPriceCost(t *testing.T) {
	p, err := ParsePrice("1.2000")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Cost(decimal.RequireFromString("0.125")).String(); got != "0.15" {
		t.Fatalf("1.2 × 0.125 = %s, want 0.15", got)
	}
	if _, err := ParsePrice("1.23456"); !errors.Is(err, ErrPrecision) {
		t.Fatalf("5-place price accepted: %v", err)
	}
	if p.Units() != 12000 {
		t.Fatalf("units = %d", p.Units())
	}
}

func TestJSON(t *testing.T) {
	var v struct{ A Amount }
	if err := json.Unmarshal([]byte(`{"A":"12.3"}`), &v); err != nil || v.A.String() != "12.30" {
		t.Fatalf("unmarshal string: %v %v", v.A, err)
	}
	if err := json.Unmarshal([]byte(`{"A":7}`), &v); err != nil || v.A.String() != "7.00" {
		t.Fatalf("unmarshal number: %v %v", v.A, err)
	}
	if err := json.Unmarshal([]byte(`{"A":"1.234"}`), &v); !errors.Is(err, ErrPrecision) {
		t.Fatalf("unmarshal 3 places: %v", err)
	}
	b, _ := json.Marshal(struct{ A Amount }{MustParse("5")})
	if string(b) != `{"A":"5.00"}` {
		t.Fatalf("marshal = %s", b)
	}
	if FromCents(-1234).String() != "-12.34" || MustParse("12.34").Cents() != 1234 {
		t.Fatal("cents conversion")
	}
}
