package platformbilling_test

import (
	"context"
	"testing"

	commonareastore "github.com/voltflow/voltflow/store/commonarea"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// TestMergedSubMetersPayFromTheMaster: M0002 and M0003 are merged sub
// meters of M0001 (合并账户); only M0001's wallet has money (2.00). No TOU
// registers, 12:00–13:00 is flat (0.6057). 12:30: each sub meter uses
// 1.00 kWh → 0.6057 → 0.61 (carry −0.0043), both paid by M0001: 2.00 −
// 1.22 = 0.78; the sub meters' own wallets stay 0.00 and they keep power.
// 13:00: M0002 uses 2.00 kWh → 1.2114 − 0.0043 = 1.2071 → 1.21, M0001's
// wallet −0.43: the master's arrears switch off both sub meters (M0003
// though it used nothing), and the master itself at its next reading.
func TestMergedSubMetersPayFromTheMaster(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := commonareastore.SetSubMeters(ctx, f.db, f.projectID, "M0001", []string{"M0002", "M0003"}, true); err != nil {
		t.Fatal(err)
	}
	f.recharge(t, "M0001", "r1", "2.00")
	flat := func(meter, energy string) reading {
		return reading{meter: meter, energy: energy, sharp: "0", peak: "0", flat: "0", valley: "0"}
	}
	res := f.bill(t, cst(12, 0), flat("M0001", "10.00"), flat("M0002", "20.00"), flat("M0003", "30.00"))
	if len(res.SwitchOff) != 0 {
		t.Fatalf("baseline switched %v off: the sub meters' empty wallets must not count", switches(res.SwitchOff))
	}
	res = f.bill(t, cst(12, 30), flat("M0001", "10.00"), flat("M0002", "21.00"), flat("M0003", "31.00"))
	if res.Charged != 2 || res.Amount.String() != "1.22" || len(res.SwitchOff) != 0 {
		t.Fatalf("12:30: %+v, want 2 charges of 0.61 and no switch-off", res)
	}
	for meter, want := range map[string]string{"M0001": "0.78", "M0002": "0.00", "M0003": "0.00"} {
		if w := f.wallet(t, meter); w != want {
			t.Fatalf("12:30: %s wallet %s, want %s", meter, w, want)
		}
	}
	res = f.bill(t, cst(13, 0), flat("M0001", "10.00"), flat("M0002", "23.00"), flat("M0003", "31.00"))
	if got := switches(res.SwitchOff); len(got) != 2 || got[0] != "M0002 switch_off" || got[1] != "M0003 switch_off" ||
		res.SwitchOff[0].Balance.String() != "-0.43" {
		t.Fatalf("13:00 switch-offs %v (%+v), want M0002 and M0003 at the master's -0.43", got, res.SwitchOff)
	}
	if w := f.wallet(t, "M0001"); w != "-0.43" {
		t.Fatalf("13:00: M0001 wallet %s, want -0.43", w)
	}
	res = f.bill(t, cst(13, 30), flat("M0001", "10.00"), flat("M0002", "23.00"), flat("M0003", "31.00"))
	if got := switches(res.SwitchOff); len(got) != 1 || got[0] != "M0001 switch_off" {
		t.Fatalf("13:30 switch-offs %v, want the master's own", got)
	}
	if err := ledgerstore.CheckInvariant(ctx, f.db); err != nil {
		t.Fatal(err)
	}
}
