package centralsystem

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/voltflow/voltflow/devices/ykc"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
)

// BMSRecorder records a connector's BMS sample for the regulator
// (push.Starter.BMS in a process with Temporal; push.RecordBMS, outbox
// only, otherwise).
type BMSRecorder func(ctx context.Context, connectorID string, b registry.BmsInfo, at time.Time) error

// DefaultBMSEvery is the least time between two regulator BMS samples of
// one connector: the periodic report repeats the newest sample at the
// regulator's own cadence, so recording every YKC frame would only fill
// the outbox.
const DefaultBMSEvery = 10 * time.Second

// bmsSample is a connector's BMS state merged from the YKC frames that
// each carry a part of table 20: 0x15 (handshake: VIN, battery), 0x23
// (demand: SOC, voltages, currents) and 0x25 (status: temperatures).
type bmsSample struct {
	info     registry.BmsInfo
	ratedKWh float64
	demand   bool // a 0x23 frame came: without SOC the sample is not worth a push
	firstSoc int  // the session's first SOC, for the energy charged
	dirty    bool
	at       time.Time
	last     time.Time // when it was last recorded
}

// regulatorBMS merges YKC BMS frames into table 20 samples and records
// them at most once per every per connector. Used from the BMS writer's
// goroutine only.
type regulatorBMS struct {
	record  BMSRecorder
	every   time.Duration
	samples map[string]*bmsSample
}

func newRegulatorBMS(db *store.DB, rec BMSRecorder, every time.Duration) *regulatorBMS {
	if rec == nil {
		rec = func(ctx context.Context, connectorID string, b registry.BmsInfo, at time.Time) error {
			_, err := push.RecordBMS(ctx, db, push.DefaultRegulator, connectorID, b, at)
			return err
		}
	}
	if every <= 0 {
		every = DefaultBMSEvery
	}
	return &regulatorBMS{record: rec, every: every, samples: map[string]*bmsSample{}}
}

// MergeBMS folds one YKC BMS frame into info (DB4403/T 77-2020 table 20),
// and returns the battery's rated energy in kWh when the frame carries it
// (0 otherwise). The limits of table 20 (MaxChargeCellVoltage, MaxTemp:
// 最高允许) come in the charge-parameter frame 0x17, which devices/ykc does
// not decode: they stay zero. MaxChargeCurrent is the BMS's demand current
// (0x23), the most it accepts at that moment.
func MergeBMS(info *registry.BmsInfo, at time.Time, b ykc.Body) (ratedKWh float64) {
	switch m := b.(type) {
	case *ykc.Handshake:
		info.VINCode = ykc.ASCII(m.VIN[:])
		v := m.BMSVersion
		info.BMSVer = fmt.Sprintf("V%d.%d.%d", v&0xFF, v>>8&0xFF, v>>16&0xFF)
		info.BMSCode = strings.TrimSpace(ykc.ASCII(m.Manufacturer[:]) + strconv.FormatUint(uint64(m.PackSerial), 10))
		// Ah (0.1) × V (0.1) → kWh.
		ratedKWh = float64(m.RatedCapacity) / 10 * float64(m.RatedVoltage) / 10 / 1000
		info.RatedCapacity = int(math.Round(ratedKWh))
	case *ykc.BMSDemand:
		amps := func(v uint16) registry.Float { return registry.Float(float64(int(v)-ykc.CurrentOffset) / 10) }
		info.Soc = int(m.SOC)
		info.MaxChargeCurrent = amps(m.DemandCurrent)
		info.TatalVoltage = registry.Float(float64(m.MeasuredVoltage) / 10)
		info.TotalCurrent = amps(m.MeasuredCurrent)
		info.VoltageH = registry.Float(float64(m.MaxCell&0x0FFF) / 100)
		info.StartChargingTime = registry.FormatTime(at.Add(-time.Duration(m.ChargedMinutes) * time.Minute))
	case *ykc.BMSStatus:
		info.VoltageHNumIndex = int(m.MaxCellNo) + 1
		info.TemptureH, info.TemptureHNumIndex = int(m.MaxTemp)-50, int(m.MaxTempPoint)+1
		info.TemptureL, info.TemptureLNumIndex = int(m.MinTemp)-50, int(m.MinTempPoint)+1
	}
	return ratedKWh
}

// add folds a frame into its connector's sample.
func (r *regulatorBMS) add(id string, at time.Time, b ykc.Body) {
	var g string
	switch m := b.(type) {
	case *ykc.Handshake:
		g = m.Gun
	case *ykc.BMSDemand:
		g = m.Gun
	case *ykc.BMSStatus:
		g = m.Gun
	default:
		return
	}
	n, err := strconv.Atoi(g)
	if err != nil {
		return
	}
	cid := ConnectorID(id, n)
	s := r.samples[cid]
	if s == nil {
		s = &bmsSample{}
		r.samples[cid] = s
	}
	if _, ok := b.(*ykc.Handshake); ok {
		// A new session: nothing of the previous battery carries over.
		*s = bmsSample{last: s.last}
	}
	if k := MergeBMS(&s.info, at, b); k > 0 {
		s.ratedKWh = k
	}
	if _, ok := b.(*ykc.BMSDemand); ok {
		if !s.demand {
			s.firstSoc = s.info.Soc
		}
		s.demand = true
	}
	// CurrentCapacity is the energy change on the battery side (充放电侧能量
	// 变化): the rated energy times the SOC gained since the session began.
	s.info.CurrentCapacity = registry.KWh3(s.ratedKWh * float64(s.info.Soc-s.firstSoc) / 100)
	s.dirty, s.at = true, at
}

// flush records the samples owed: changed, with a demand frame, and not
// recorded within every. A sample held back goes at a later flush.
func (r *regulatorBMS) flush(ctx context.Context, now time.Time, log func(string, ...any)) {
	for cid, s := range r.samples {
		if !s.dirty || !s.demand || now.Sub(s.last) < r.every {
			if now.Sub(s.at) > time.Hour {
				delete(r.samples, cid) // a session long over
			}
			continue
		}
		if err := r.record(ctx, cid, s.info, s.at); err != nil {
			log("ykc: regulator BMS sample not recorded", "connector", cid, "error", err)
			continue
		}
		s.dirty, s.last = false, now
	}
}
