package enterprise

import (
	"errors"
	"testing"

	"github.com/voltflow/voltflow/domain/money"
)

func TestValidate(t *testing.T) {
	ok := Enterprise{Code: "ACME-1", Name: "Acme", Email: "billing@acme.example"}
	for _, c := range []struct {
		name  string
		e     func(Enterprise) Enterprise
		field string
		err   error
	}{
		{"ok", func(e Enterprise) Enterprise { return e }, "", nil},
		{"code with space", func(e Enterprise) Enterprise { e.Code = "AC ME"; return e }, "code", ErrCode},
		{"no name", func(e Enterprise) Enterprise { e.Name = " "; return e }, "name", ErrName},
		{"header injection", func(e Enterprise) Enterprise { e.Email = "a@b.example\r\nBcc: x@y.example"; return e }, "email", ErrEmail},
		{"display name", func(e Enterprise) Enterprise { e.Email = "Acme <a@b.example>"; return e }, "email", ErrEmail},
	} {
		field, err := c.e(ok).Validate()
		if field != c.field || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: %q %v, want %q %v", c.name, field, err, c.field, c.err)
		}
	}
	if f, err := (Staff{Name: "Li", Cards: []string{"C-1"}}).Validate(); f != "cards" || !errors.Is(err, ErrCardNo) {
		t.Errorf("card with dash: %q %v", f, err)
	}
}

func TestRecharge(t *testing.T) {
	r := RechargeRequest{EnterpriseID: "e1", Amount: money.MustParse("1000.00"), TransactionNo: "T-1"}
	if _, err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	big := r
	big.Amount = money.MustParse("100000.01")
	if f, err := big.Validate(); f != "amount" || !errors.Is(err, ErrAmountTooBig) {
		t.Fatalf("too big: %q %v", f, err)
	}
	other := r
	other.Amount = money.MustParse("1000.01")
	if !r.Same(r) || r.Same(other) {
		t.Fatal("Same")
	}
	if err := RechargeEntry("k", "ACME", r.Amount).Validate(); err != nil {
		t.Fatal(err)
	}
}
