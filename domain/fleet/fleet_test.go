package fleet

import (
	"errors"
	"strings"
	"testing"
)

func TestRouteValidate(t *testing.T) {
	tests := []struct {
		name  string
		r     Route
		field string
		err   error
	}{
		{"ok", Route{Code: "B-101", Name: "101路"}, "", nil},
		{"empty code", Route{Code: "", Name: "x"}, "code", ErrCode},
		{"code with space", Route{Code: "B 1", Name: "x"}, "code", ErrCode},
		{"long code", Route{Code: strings.Repeat("a", 33), Name: "x"}, "code", ErrCode},
		{"blank name", Route{Code: "B1", Name: "  "}, "name", ErrName},
		{"long name", Route{Code: "B1", Name: strings.Repeat("路", 101)}, "name", ErrName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			field, err := tt.r.Validate()
			if field != tt.field || !errors.Is(err, tt.err) {
				t.Fatalf("Validate = %q %v, want %q %v", field, err, tt.field, tt.err)
			}
		})
	}
}

func TestPeriodRank(t *testing.T) {
	for _, tt := range []struct {
		p    string
		want int
	}{{"sharp", 0}, {"peak", 1}, {"flat", 2}, {"valley", 3}, {"other", 4}} {
		if got := PeriodRank(tt.p); got != tt.want {
			t.Fatalf("PeriodRank(%q) = %d, want %d", tt.p, got, tt.want)
		}
	}
}
