package centralsystem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/devices/ykc"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
)

// YKCConfig configures the YKC (云快充) server of a process.
type YKCConfig struct {
	Addr              string // contracts.md: 127.0.0.1:8767
	HeartbeatInterval time.Duration
	Grace             time.Duration
	Log               *slog.Logger
	// BMS records the regulator's BMS samples merged from the BMS frames
	// (nil: push.RecordBMS, the outbox only); BMSEvery is the least time
	// between two of one connector (0: DefaultBMSEvery).
	BMS      BMSRecorder
	BMSEvery time.Duration
}

// StartYKC runs the YKC server behind svc, the same adapter the OCPP central
// system answers from (so YKC and OCPP chargers share charging orders,
// statuses and faults), with msgs as its device message log. BMS frames go
// to ykc_bms_records (store/charger.RecordBMS) and, merged per connector,
// to the regulator exchange (cfg.BMS: query_bms_info, the supplements and
// notification_bmsInfo). stop closes the server and
// flushes the BMS writer; call it before closing msgs.
func StartYKC(ctx context.Context, db *store.DB, svc *Service, msgs *MessageLog, cfg YKCConfig) (*ykc.Server, func(), error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	bms := newBMSWriter(ctx, db, cfg.Log, newRegulatorBMS(db, cfg.BMS, cfg.BMSEvery))
	srv, err := ykc.Listen(ctx, ykc.Options{
		Addr: cfg.Addr, Handler: svc, Frames: msgs, Log: cfg.Log,
		HeartbeatInterval: cfg.HeartbeatInterval, Grace: cfg.Grace,
		Registered: func(ctx context.Context, id string) bool {
			ok, err := charger.Registered(ctx, db, id)
			if err != nil {
				cfg.Log.Error("ykc: login lookup", "charger", id, "error", err)
			}
			return ok
		},
		Billing: func(ctx context.Context, id string) (ykc.BillingModel, error) {
			return YKCBillingModel(ctx, db, id, time.Now())
		},
		BMS: bms.add,
	})
	if err != nil {
		bms.close()
		return nil, nil, err
	}
	return srv, func() { _ = srv.Close(); bms.close() }, nil
}

// ErrNoPricing: the charger's station has no pricing strategy in force.
var ErrNoPricing = errors.New("no pricing strategy in force")

// YKCBillingModel is the billing model of the charger's station: its pricing
// strategy's version in force at `at`.
func YKCBillingModel(ctx context.Context, db *store.DB, id string, at time.Time) (ykc.BillingModel, error) {
	st, ok, err := charger.StationStrategy(ctx, db, id)
	if err != nil {
		return ykc.BillingModel{}, err
	}
	if !ok {
		return ykc.BillingModel{}, fmt.Errorf("%s: %w", id, ErrNoPricing)
	}
	v, err := st.VersionAt(at)
	if err != nil {
		return ykc.BillingModel{}, err
	}
	return ykc.ModelFromVersion(st.Code, v)
}

// BMSRecord converts a YKC BMS frame body to a stored record.
func BMSRecord(id string, at time.Time, b ykc.Body) (charger.BMSRecord, bool) {
	tenth := func(v uint16) *decimal.Decimal { d := decimal.New(int64(v), -1); return &d }
	amps := func(v uint16) *decimal.Decimal { d := decimal.New(int64(v)-ykc.CurrentOffset, -1); return &d }
	intp := func(v int) *int { return &v }
	body, _ := ykc.Encode(b)
	r := charger.BMSRecord{EquipmentID: id, At: at, FrameType: int(b.FrameType()), Body: body}
	gun := func(g string) int { n, _ := strconv.Atoi(g); return n }
	switch m := b.(type) {
	case *ykc.Handshake:
		r.ConnectorNo, r.TradeNo = gun(m.Gun), m.Trade
		r.BatteryType = intp(int(m.BatteryType))
		r.RatedCapacity, r.RatedVoltage = tenth(m.RatedCapacity), tenth(m.RatedVoltage)
		vin := ykc.ASCII(m.VIN[:])
		r.VIN = &vin
	case *ykc.BMSDemand:
		r.ConnectorNo, r.TradeNo = gun(m.Gun), m.Trade
		r.SOC = intp(int(m.SOC))
		r.DemandVoltage, r.DemandCurrent = tenth(m.DemandVoltage), amps(m.DemandCurrent)
		r.MeasuredVoltage, r.MeasuredCurrent = tenth(m.MeasuredVoltage), amps(m.MeasuredCurrent)
		cell := decimal.New(int64(m.MaxCell&0x0FFF), -2)
		r.MaxCellVoltage = &cell
		r.RemainingMinutes = intp(int(m.RemainingMinutes))
	case *ykc.BMSStatus:
		r.ConnectorNo, r.TradeNo = gun(m.Gun), m.Trade
		r.MaxTemp, r.MinTemp = intp(int(m.MaxTemp)-50), intp(int(m.MinTemp)-50)
	default:
		return r, false
	}
	return r, true
}

// bmsWriter batches BMS records off the connection goroutines.
type bmsWriter struct {
	db   *store.DB
	log  *slog.Logger
	ch   chan bmsFrame
	reg  *regulatorBMS
	once sync.Once
	done chan struct{}
}

// bmsFrame is a BMS frame with its stored record.
type bmsFrame struct {
	rec charger.BMSRecord
	id  string
	at  time.Time
	b   ykc.Body
}

func newBMSWriter(ctx context.Context, db *store.DB, log *slog.Logger, reg *regulatorBMS) *bmsWriter {
	w := &bmsWriter{db: db, log: log, reg: reg, ch: make(chan bmsFrame, 4096), done: make(chan struct{})}
	go w.run(context.WithoutCancel(ctx))
	return w
}

func (w *bmsWriter) add(id string, at time.Time, b ykc.Body) {
	r, ok := BMSRecord(id, at, b)
	if !ok {
		return
	}
	select {
	case w.ch <- bmsFrame{rec: r, id: id, at: at, b: b}:
	default:
		w.log.Warn("ykc: BMS writer behind, record dropped", "charger", id)
	}
}

func (w *bmsWriter) close() {
	w.once.Do(func() { close(w.ch) })
	<-w.done
}

func (w *bmsWriter) run(ctx context.Context) {
	defer close(w.done)
	var batch []charger.BMSRecord
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	flush := func() {
		if len(batch) > 0 {
			if err := charger.RecordBMS(ctx, w.db, batch); err != nil {
				w.log.Error("ykc: BMS records lost", "records", len(batch), "error", err)
			}
			batch = batch[:0]
		}
		// After the store, so the regulator's sample never runs ahead of
		// ykc_bms_records.
		w.reg.flush(ctx, time.Now(), w.log.Warn)
	}
	for {
		select {
		case f, ok := <-w.ch:
			if !ok {
				flush()
				return
			}
			batch = append(batch, f.rec)
			w.reg.add(f.id, f.at, f.b)
			if len(batch) >= 500 {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}
