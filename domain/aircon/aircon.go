// Package aircon holds the rules of central air-conditioning billing
// (中央空调计费, M14): each indoor unit (室内机) of a shared system pays a
// share of the plant's energy cost of a billing period, weighed by what
// the system's controller counted for it over the period.
//
// Rules (stated so the allocation can be checked by hand):
//   - An indoor unit's inputs are its controller counters at the period's
//     start and end; the delta is end − start, and a counter that went
//     back (a controller reset or replaced) counts 0 for the period rather
//     than a negative use.
//   - By runtime × capacity (运行时间×额定容量), the weight is the run-time
//     delta in minutes × the rated capacity in kW read at the period's end
//     (kW·min): a larger unit running as long draws more of the plant.
//   - By valve-open time (阀门开启时间), the weight is the valve-open delta
//     in minutes: the time the unit actually took chilled water.
//   - The plant's cost is shared in proportion to the weights and rounded
//     to the cent with the common-area rule (domain/commonarea.Allocate):
//     the remainder goes to the largest share, so the shares sum exactly.
package aircon

import (
	"fmt"

	"github.com/shopspring/decimal"

	commonareadom "github.com/voltflow/voltflow/domain/commonarea"
	"github.com/voltflow/voltflow/domain/money"
)

// Method is an allocation rule.
type Method string

// The allocation rules.
const (
	ByRuntimeCapacity Method = "runtime_capacity" // run-time minutes × rated kW
	ByValveTime       Method = "valve_time"       // valve-open minutes
)

// Valid reports whether m is a known rule.
func (m Method) Valid() bool { return m == ByRuntimeCapacity || m == ByValveTime }

// Counters are an indoor unit's controller registers at one bound.
type Counters struct {
	RuntimeMin   int64           `json:"runtimeMin"`
	ValveOpenMin int64           `json:"valveOpenMin"`
	CapacityKW   decimal.Decimal `json:"capacityKw"`
	Running      bool            `json:"running"`
}

// Inputs are an indoor unit's counters at the period's bounds.
type Inputs struct {
	IndoorUnitID string
	Start, End   Counters
}

// delta is end − start, 0 when the counter went back.
func delta(start, end int64) int64 {
	if end < start {
		return 0
	}
	return end - start
}

// RuntimeDelta is the minutes run in the period.
func (in Inputs) RuntimeDelta() int64 { return delta(in.Start.RuntimeMin, in.End.RuntimeMin) }

// ValveDelta is the minutes the valve was open in the period.
func (in Inputs) ValveDelta() int64 { return delta(in.Start.ValveOpenMin, in.End.ValveOpenMin) }

// Weight is the indoor unit's weight under method m.
func (in Inputs) Weight(m Method) (decimal.Decimal, error) {
	switch m {
	case ByRuntimeCapacity:
		if in.End.CapacityKW.IsNegative() {
			return decimal.Zero, fmt.Errorf("indoor unit %s: capacity %s is negative", in.IndoorUnitID, in.End.CapacityKW)
		}
		return decimal.NewFromInt(in.RuntimeDelta()).Mul(in.End.CapacityKW), nil
	case ByValveTime:
		return decimal.NewFromInt(in.ValveDelta()), nil
	}
	return decimal.Zero, fmt.Errorf("allocation rule %q, want runtime_capacity or valve_time", m)
}

// Share is an indoor unit's part of the plant's cost.
type Share struct {
	IndoorUnitID string
	Weight       decimal.Decimal
	Amount       money.Amount
}

// Allocate shares total among the indoor units by method m.
func Allocate(total money.Amount, m Method, units []Inputs) ([]Share, error) {
	parts := make([]commonareadom.Part, len(units))
	for i, u := range units {
		w, err := u.Weight(m)
		if err != nil {
			return nil, err
		}
		parts[i] = commonareadom.Part{UnitID: u.IndoorUnitID, Weight: w}
	}
	shares, err := commonareadom.Allocate(total, parts)
	if err != nil {
		return nil, err
	}
	out := make([]Share, len(shares))
	for i, s := range shares {
		out[i] = Share{IndoorUnitID: s.UnitID, Weight: s.Weight, Amount: s.Amount}
	}
	return out, nil
}
