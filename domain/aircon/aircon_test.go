package aircon_test

import (
	"testing"

	"github.com/shopspring/decimal"

	aircondom "github.com/voltflow/voltflow/domain/aircon"
	"github.com/voltflow/voltflow/domain/money"
)

func counters(runtime, valve int64, kw string) aircondom.Counters {
	return aircondom.Counters{RuntimeMin: runtime, ValveOpenMin: valve, CapacityKW: decimal.RequireFromString(kw)}
}

func TestAllocate(t *testing.T) {
	three := []aircondom.Inputs{
		{IndoorUnitID: "a", Start: counters(100, 50, "5.60"), End: counters(700, 550, "5.60")},     // 600 min × 5.6 = 3360; valve 500
		{IndoorUnitID: "b", Start: counters(0, 0, "7.10"), End: counters(450, 480, "7.10")},        // 450 × 7.1 = 3195; valve 480
		{IndoorUnitID: "c", Start: counters(2000, 100, "2.80"), End: counters(3000, 1000, "2.80")}, // 1000 × 2.8 = 2800; valve 900
	}
	tests := []struct {
		name   string
		total  string
		method aircondom.Method
		units  []aircondom.Inputs
		want   []string
		err    bool
	}{
		// 296.28 × 3360/9355 = 106.4138 → 106.41, × 3195/9355 = 101.1881 →
		// 101.19, × 2800/9355 = 88.6781 → 88.68; sum 296.28, nothing left.
		{name: "runtime × capacity", total: "296.28", method: aircondom.ByRuntimeCapacity, units: three,
			want: []string{"106.41", "101.19", "88.68"}},
		// 296.28 × 500/1880 = 78.7979 → 78.80, × 480/1880 = 75.6460 → 75.65,
		// × 900/1880 = 141.8362 → 141.84; sum 296.29: the cent over comes
		// off the largest share, 141.83.
		{name: "valve-open time, remainder to the largest", total: "296.28", method: aircondom.ByValveTime, units: three,
			want: []string{"78.80", "75.65", "141.83"}},
		{name: "a reset counter counts nothing", total: "10.00", method: aircondom.ByValveTime, units: []aircondom.Inputs{
			{IndoorUnitID: "a", Start: counters(0, 900, "1"), End: counters(0, 10, "1")},
			{IndoorUnitID: "b", Start: counters(0, 0, "1"), End: counters(0, 10, "1")},
		}, want: []string{"0.00", "10.00"}},
		{name: "nothing ran, nothing to share", total: "0.00", method: aircondom.ByRuntimeCapacity, units: []aircondom.Inputs{
			{IndoorUnitID: "a", Start: counters(5, 5, "1"), End: counters(5, 5, "1")},
		}, want: []string{"0.00"}},
		{name: "energy used but nothing ran: refused", total: "1.00", method: aircondom.ByRuntimeCapacity,
			units: []aircondom.Inputs{{IndoorUnitID: "a"}}, err: true},
		{name: "unknown rule", total: "1.00", method: "area", units: three, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := aircondom.Allocate(money.MustParse(tt.total), tt.method, tt.units)
			if tt.err {
				if err == nil {
					t.Fatalf("allocated %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sum := money.Zero
			for i, s := range got {
				if s.Amount.String() != tt.want[i] {
					t.Errorf("share %d = %s, want %s", i, s.Amount, tt.want[i])
				}
				sum = sum.Add(s.Amount)
			}
			if sum.String() != money.MustParse(tt.total).String() {
				t.Errorf("shares sum to %s, want %s", sum, tt.total)
			}
		})
	}
}
