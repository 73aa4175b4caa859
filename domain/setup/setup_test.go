package setup

import "testing"

func TestChecks(t *testing.T) {
	long := "a123456789012345678901234567890123456789012345678901234567890123" // 64
	cases := []struct {
		name  string
		got   *Problem
		field string // "" = accepted
	}{
		{"code", CheckCode("demo-group", "Demo"), ""},
		{"code of 64", CheckCode(long, "x"), ""},
		{"code of 65", CheckCode(long+"4", "x"), "code"},
		{"code starting with a dash", CheckCode("-x", "x"), "code"},
		{"code with a space", CheckCode("a b", "x"), "code"},
		{"no name", CheckCode("demo", ""), "name"},
		{"site", CheckSite("Building A", 1), ""},
		{"site level 4", CheckSite("Room", 4), ""},
		{"site level 0", CheckSite("x", 0), "level"},
		{"site level 5", CheckSite("x", 5), "level"},
		{"site without a name", CheckSite("", 1), "name"},
		{"customer", CheckCustomer("Tenant M0001", "13800000001", "person"), ""},
		{"customer without a phone", CheckCustomer("Acme", "", "company"), ""},
		{"customer with a bad phone", CheckCustomer("Acme", "12", "company"), "phone"},
		{"customer of no kind", CheckCustomer("Acme", "", ""), "kind"},
		{"customer without a name", CheckCustomer("", "", "person"), "name"},
		{"username", CheckUsername("cashier@mall.example"), ""},
		{"username with a space", CheckUsername("a b"), "username"},
		{"empty username", CheckUsername(""), "username"},
		{"role", CheckRole("approver"), ""},
		{"unknown role", CheckRole("owner"), "role"},
		{"tariff code", CheckTariffCode("TOU-DEMO"), ""},
		{"tariff code of 33", CheckTariffCode("a12345678901234567890123456789012"), "code"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			switch {
			case c.field == "" && c.got != nil:
				t.Fatalf("refused: %s %s", c.got.Field, c.got.Detail)
			case c.field != "" && (c.got == nil || c.got.Field != c.field):
				t.Fatalf("got %+v, want a problem of %s", c.got, c.field)
			}
		})
	}
}
