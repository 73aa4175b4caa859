package recharge_test

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"

	rechargedom "github.com/voltflow/voltflow/domain/recharge"
)

func TestEnergyJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"10", `"10.00"`},
		{"3.25", `"3.25"`},
		{"0.5", `"0.50"`},
	} {
		b, err := json.Marshal(rechargedom.Energy{Decimal: decimal.RequireFromString(c.in)})
		if err != nil || string(b) != c.want {
			t.Errorf("%s: %s %v, want %s", c.in, b, err, c.want)
		}
		var back rechargedom.Energy
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(decimal.RequireFromString(c.in)) {
			t.Errorf("%s: read back %v %v", c.in, back, err)
		}
	}
}
