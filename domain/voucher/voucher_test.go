package voucher

import (
	"errors"
	"testing"
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestApplicationValidate(t *testing.T) {
	ok := Application{Name: "Opening week", FaceValue: money.MustParse("20.00"), Quantity: 10, ExpiresAt: now.Add(time.Hour)}
	cases := []struct {
		name string
		edit func(*Application)
		want error
	}{
		{"valid", func(*Application) {}, nil},
		{"no name", func(a *Application) { a.Name = "  " }, ErrName},
		{"zero value", func(a *Application) { a.FaceValue = money.Zero }, ErrFaceValue},
		{"too large", func(a *Application) { a.FaceValue = money.MustParse("10000.01") }, ErrFaceValue},
		{"no quantity", func(a *Application) { a.Quantity = 0 }, ErrQuantity},
		{"too many", func(a *Application) { a.Quantity = MaxQuantity + 1 }, ErrQuantity},
		{"expired", func(a *Application) { a.ExpiresAt = now }, ErrExpiry},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := ok
			c.edit(&a)
			if err := a.Validate(now); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestCheckIssuance(t *testing.T) {
	cases := []struct {
		status     BatchStatus
		quantity   int
		recipients int
		want       error
	}{
		{Approved, 3, 3, nil},
		{Approved, 3, 4, ErrTooMany},
		{Approved, 3, 0, ErrNoRecipients},
		{PendingApproval, 3, 1, ErrNotIssuable},
		{Issuing, 3, 1, ErrNotIssuable},
		{Issued, 3, 1, ErrNotIssuable},
	}
	for _, c := range cases {
		if err := CheckIssuance(c.status, c.quantity, c.recipients); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s %d/%d: got %v, want %v", c.status, c.recipients, c.quantity, err, c.want)
		}
	}
}

func TestCheckRedeem(t *testing.T) {
	held := Held{Status: Active, ExpiresAt: now.Add(time.Hour), Unused: money.MustParse("30.00")}
	cases := []struct {
		name             string
		h                Held
		at               time.Time
		amount, saleLeft string
		want             error
		after            Status
	}{
		{"part", held, now, "10.00", "100.00", nil, Active},
		{"all", held, now, "30.00", "100.00", nil, Used},
		{"above value", held, now, "30.01", "100.00", ErrExceedsValue, ""},
		{"above sale", held, now, "20.00", "19.99", ErrExceedsSale, ""},
		{"expired", held, now.Add(time.Hour), "1.00", "100.00", ErrNotRedeemable, ""},
		{"voided", Held{Status: Voided, ExpiresAt: held.ExpiresAt, Unused: held.Unused}, now, "1.00", "100.00", ErrNotRedeemable, ""},
		{"zero", held, now, "0.00", "100.00", ErrNotRedeemable, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := money.MustParse(c.amount)
			err := c.h.CheckRedeem(c.at, a, money.MustParse(c.saleLeft))
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if c.want == nil && c.h.After(a) != c.after {
				t.Fatalf("after %s: %s, want %s", a, c.h.After(a), c.after)
			}
		})
	}
}

func TestCheckVoidAndNumber(t *testing.T) {
	if err := CheckVoid(Active); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Status{Used, Voided, Expired} {
		if err := CheckVoid(s); !errors.Is(err, ErrNotVoidable) {
			t.Errorf("%s: %v", s, err)
		}
	}
	if got := Number("1b2c3d4e-0000-0000-0000-000000000000", 7); got != "VC1B2C3D4E0007" {
		t.Fatalf("number %s", got)
	}
}
