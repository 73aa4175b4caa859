package modbus

import "github.com/voltflow/voltflow/devices/profile"

// Indexes of Params.V: the electrical parameters (电参量) of a three-phase
// meter (profile ref-3phase-v1).
const (
	ParamUa          = iota // 0.1 V
	ParamUb                 // 0.1 V
	ParamUc                 // 0.1 V
	ParamIa                 // 0.001 A
	ParamIb                 // 0.001 A
	ParamIc                 // 0.001 A
	ParamPa                 // 0.001 kW
	ParamPb                 // 0.001 kW
	ParamPc                 // 0.001 kW
	ParamP                  // 0.001 kW, total
	ParamQa                 // 0.001 kvar
	ParamQb                 // 0.001 kvar
	ParamQc                 // 0.001 kvar
	ParamQ                  // 0.001 kvar, total
	ParamPFa                // 0.001
	ParamPFb                // 0.001
	ParamPFc                // 0.001
	ParamPF                 // 0.001, total
	ParamCT                 // ratio
	ParamPT                 // ratio
	ParamMaxDemand          // 0.001 kW
	ParamMaxDemandAt        // Unix seconds, 0 = none
	NParams
)

// paramQuantities names each parameter's quantity and the exponent Params
// keeps it in.
var paramQuantities = [NParams]struct {
	name string
	exp  int32
}{
	{profile.VoltageA, -1}, {profile.VoltageB, -1}, {profile.VoltageC, -1},
	{profile.CurrentA, -3}, {profile.CurrentB, -3}, {profile.CurrentC, -3},
	{profile.ActivePowerA, -3}, {profile.ActivePowerB, -3}, {profile.ActivePowerC, -3}, {profile.ActivePowerTotal, -3},
	{profile.ReactivePowerA, -3}, {profile.ReactivePowerB, -3}, {profile.ReactivePowerC, -3}, {profile.ReactivePowerTotal, -3},
	{profile.PowerFactorA, -3}, {profile.PowerFactorB, -3}, {profile.PowerFactorC, -3}, {profile.PowerFactorTotal, -3},
	{profile.CTRatio, 0}, {profile.PTRatio, 0}, {profile.MaxDemand, -3}, {profile.MaxDemandTime, 0},
}

// Params are a three-phase meter's electrical parameters in fixed units
// (see the Param indexes). Has bit i says V[i] was read: a profile may have
// only some of them.
type Params struct {
	V   [NParams]int64
	Has uint32
}

// Get is parameter i and whether the profile has it.
func (p *Params) Get(i int) (int64, bool) { return p.V[i], p.Has&(1<<i) != 0 }

// paramRead is where one parameter comes from in the profile's blocks.
type paramRead struct {
	block, off int
	q          profile.Quantity
	idx        int
}

// planParams locates the profile's electrical parameters in its blocks;
// none for a single-phase profile, whose snapshots keep Params nil.
func planParams(p *profile.Profile) []paramRead {
	var out []paramRead
	blocks := p.Blocks()
	for i, f := range paramQuantities {
		q, ok := p.Quantity(f.name)
		if !ok {
			continue
		}
		for k, b := range blocks {
			if q.Address >= profile.Word(b.Address) && int(q.Address)+q.Words <= int(b.Address)+int(b.Words) {
				out = append(out, paramRead{block: k, off: int(q.Address) - int(b.Address), q: q, idx: i})
				break
			}
		}
	}
	return out
}

// decodeParams fills a snapshot's Params from its block answers.
func (g *Gateway) decodeParams(answers []answer) *Params {
	p := &Params{}
	for _, f := range g.params {
		words := answers[f.block].regs[f.off : f.off+f.q.Words]
		p.V[f.idx] = rescale(g.prof.DecodeQuantity(f.q, words), f.q.Scale.Exp(), paramQuantities[f.idx].exp)
		p.Has |= 1 << f.idx
	}
	return p
}
