package invoice

import (
	"errors"
	"testing"
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

func TestValidate(t *testing.T) {
	ok := Application{Title: "深圳某某科技有限公司", TaxID: "91440300MA5XXXXX1X", RechargeIDs: []string{"a", "b"}}
	cases := []struct {
		name string
		edit func(*Application)
		want error
	}{
		{"valid", func(*Application) {}, nil},
		{"no title", func(a *Application) { a.Title = "" }, ErrTitle},
		{"bad tax id", func(a *Application) { a.TaxID = "123" }, ErrTaxID},
		{"lower case tax id", func(a *Application) { a.TaxID = "91440300ma5xxxxx1x" }, ErrTaxID},
		{"no lines", func(a *Application) { a.RechargeIDs = nil }, ErrNoLines},
		{"twice", func(a *Application) { a.RechargeIDs = []string{"a", "a"} }, ErrRepeated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := ok
			c.edit(&a)
			if err := a.Validate(); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestTotal(t *testing.T) {
	sum, err := Total([]Line{{"a", money.MustParse("100.10"), true}, {"b", money.MustParse("0.25"), true}})
	if err != nil || sum.String() != "100.35" {
		t.Fatalf("total %s %v", sum, err)
	}
	if _, err := Total([]Line{{"a", money.MustParse("1.00"), true}, {"b", money.MustParse("1.00"), false}}); !errors.Is(err, ErrNotPaid) {
		t.Fatalf("unpaid line: %v", err)
	}
}

func TestNumber(t *testing.T) {
	// 23:30 UTC is the next day in China.
	if got := Number(time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC), 42); got != "FP2026112400000042" {
		t.Fatalf("number %s", got)
	}
}
