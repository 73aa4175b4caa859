// Package platformbilling is platform-side prepaid (主站费控) in PostgreSQL: the
// meter only measures; every reading interval of a meter with
// meters.prepaid_mode = 'platform' is priced by its tariff (domain/tariff)
// and booked in the ledger (meter wallet → consumption income), and a meter
// whose wallet plus overdraft allowance is at or below zero is switched off
// through the meter-command path — and on again once it is back above zero.
package platformbilling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/domain/tariff"
	"github.com/voltflow/voltflow/internal/activitylog"
	"github.com/voltflow/voltflow/store"
	feestore "github.com/voltflow/voltflow/store/fee"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
	platformbillingstore "github.com/voltflow/voltflow/store/platformbilling"
)

// ConsumptionIncome is the income account consumption is booked to (售电收入).
const ConsumptionIncome = ledgerdom.ConsumptionIncome

// EntryKind of the consumption entries.
const EntryKind = "consumption"

// modeProtect is the meter's protect mode (保电): never switched off.
const modeProtect = 1

// Switcher starts the meter-command workflow of a switch billing decided
// (workflows/platformbilling.Starter). Starting one twice must be harmless.
type Switcher interface {
	StartSwitch(ctx context.Context, s Switch) error
}

// Activities prices readings. It runs where the readings are written (the
// devices queue, called by the sweep after each write).
type Activities struct {
	DB *store.DB
	// Switch starts the switch commands; nil records them only (tests).
	Switch Switcher
	Log    *slog.Logger
}

// log is Log (discarding when nil) with the running activity's ids.
func (a *Activities) log(ctx context.Context) *slog.Logger {
	if a.Log != nil {
		return activitylog.Logger(ctx, a.Log)
	}
	return slog.New(slog.DiscardHandler)
}

// Switch is a switch-off or switch-on billing decided (store/platformbilling).
type Switch = platformbillingstore.Switch

// BillInput names the readings just written: the sweep slot and the meters.
// Meters that are not platform-side are ignored.
type BillInput struct {
	At       time.Time `json:"at"`
	MeterIDs []string  `json:"meterIds"`
}

// BillResult tells what was billed and decided.
type BillResult struct {
	Meters    int          `json:"meters"` // platform-side meters with a reading at At
	Charged   int          `json:"charged"`
	Amount    money.Amount `json:"amount"`
	SwitchOff []Switch     `json:"switchOff,omitempty"`
	SwitchOn  []Switch     `json:"switchOn,omitempty"`
}

// BillSweep is the sweep's hook (activities/sweep.BillingHook).
func (a *Activities) BillSweep(ctx context.Context, at time.Time, meterIDs []string) error {
	_, err := a.BillReadings(ctx, BillInput{At: at, MeterIDs: meterIDs})
	return err
}

// BillReadings prices the readings at in.At of the platform-side meters
// among in.MeterIDs, each meter in its own transaction (charge, ledger
// entry, billing state and any switch command commit together), then starts
// the switch commands. Running it again for the same readings books nothing
// twice: the ledger key and meter_charges are per meter and reading.
func (a *Activities) BillReadings(ctx context.Context, in BillInput) (BillResult, error) {
	var out BillResult
	rs, err := a.readings(ctx, in)
	if err != nil {
		return out, err
	}
	out.Meters = len(rs)
	var errs []error
	for _, r := range rs {
		var res meterResult
		err := store.InTx(ctx, a.DB, func(tx pgx.Tx) error {
			var err error
			res, err = bill(ctx, tx, r, a.log(ctx))
			return err
		})
		if err != nil {
			// One meter's bad data must not hold up the others' billing.
			errs = append(errs, fmt.Errorf("bill meter %s at %s: %w", r.meterNo, r.readAt.Format(time.RFC3339), err))
			continue
		}
		if res.charged {
			out.Charged++
			out.Amount = out.Amount.Add(res.amount)
		}
		if res.sw != nil {
			if res.sw.Command == string(metercmddom.SwitchOff) {
				out.SwitchOff = append(out.SwitchOff, *res.sw)
			} else {
				out.SwitchOn = append(out.SwitchOn, *res.sw)
			}
		}
	}
	if a.Switch != nil {
		for _, s := range append(append([]Switch(nil), out.SwitchOff...), out.SwitchOn...) {
			if err := a.Switch.StartSwitch(ctx, s); err != nil {
				errs = append(errs, fmt.Errorf("start %s of meter %s: %w", s.Command, s.MeterNo, err))
			}
		}
	}
	return out, errors.Join(errs...)
}

// reading is a stored reading of a platform-side meter with what pricing needs.
type reading struct {
	meterID, meterNo, projectID, projectCode string
	readAt, takenAt                          time.Time
	energy                                   decimal.Decimal
	tou                                      [4]decimal.Decimal
	mode                                     int
	ratio                                    int64
	tariff                                   tariff.Tariff
}

func (a *Activities) readings(ctx context.Context, in BillInput) ([]reading, error) {
	if len(in.MeterIDs) == 0 {
		return nil, nil
	}
	// Most meters of a sweep are meter-side: pick the platform-side ones
	// first through the small partial index (meters_platform), so a sweep
	// of meter-side meters costs one index probe per write, not a join.
	var platform []string
	if err := a.DB.QueryRow(ctx, `select coalesce(array_agg(id::text), '{}') from meters
		where prepaid_mode = 'platform' and id = any($1::text[]::uuid[])`, in.MeterIDs).Scan(&platform); err != nil {
		return nil, fmt.Errorf("platform-side meters: %w", err)
	}
	if len(platform) == 0 {
		return nil, nil
	}
	in.MeterIDs = platform
	rows, err := a.DB.Query(ctx, `select m.id::text, m.meter_no, m.project_id::text, p.code, r.read_at, r.taken_at,
			r.energy_kwh, r.sharp_kwh, r.peak_kwh, r.flat_kwh, r.valley_kwh, r.mode, m.ct_ratio::bigint * m.pt_ratio,
			t.spec, m.price::text
		from readings r join meters m on m.id = r.meter_id join projects p on p.id = m.project_id
		left join meter_tariffs mt on mt.meter_id = m.id left join tariffs t on t.id = mt.tariff_id
		where r.read_at = $1 and r.meter_id = any($2::text[]::uuid[]) and m.prepaid_mode = 'platform'
		order by m.meter_no`, in.At.UTC(), in.MeterIDs)
	if err != nil {
		return nil, fmt.Errorf("platform-side readings at %s: %w", in.At.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var out []reading
	for rows.Next() {
		var r reading
		var spec []byte
		var price string
		if err := rows.Scan(&r.meterID, &r.meterNo, &r.projectID, &r.projectCode, &r.readAt, &r.takenAt, &r.energy,
			&r.tou[0], &r.tou[1], &r.tou[2], &r.tou[3], &r.mode, &r.ratio, &spec, &price); err != nil {
			return nil, err
		}
		if spec != nil {
			if err := json.Unmarshal(spec, &r.tariff); err != nil {
				return nil, fmt.Errorf("tariff of meter %s: %w", r.meterNo, err)
			}
		} else {
			p, err := money.ParsePrice(price)
			if err != nil {
				return nil, fmt.Errorf("price of meter %s: %w", r.meterNo, err)
			}
			r.tariff = tariff.Tariff{Kind: tariff.Single, Price: p}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// state is a meter's row in meter_billing.
type state struct {
	lastReadAt, lastTakenAt time.Time
	lastEnergy              decimal.Decimal
	lastTOU                 [4]decimal.Decimal
	carry                   decimal.Decimal
	month                   string
	monthKWh                decimal.Decimal
	cutOff                  bool
	seq                     int
}

type meterResult struct {
	charged bool
	amount  money.Amount
	sw      *Switch
}

// bill prices one reading against the meter's last billed one, books it,
// moves the state on and decides a switch.
func bill(ctx context.Context, tx pgx.Tx, r reading, log *slog.Logger) (meterResult, error) {
	var out meterResult
	var s state
	err := tx.QueryRow(ctx, `select last_read_at, last_taken_at, last_energy_kwh, last_sharp_kwh, last_peak_kwh,
			last_flat_kwh, last_valley_kwh, carry, month, month_kwh, cut_off, switch_seq
		from meter_billing where meter_id = $1 for update`, r.meterID).Scan(&s.lastReadAt, &s.lastTakenAt,
		&s.lastEnergy, &s.lastTOU[0], &s.lastTOU[1], &s.lastTOU[2], &s.lastTOU[3], &s.carry, &s.month, &s.monthKWh,
		&s.cutOff, &s.seq)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// The first reading is the baseline: billing starts from it.
		s = state{carry: decimal.Zero, monthKWh: decimal.Zero, month: r.tariff.Month(r.takenAt)}
		if _, err := tx.Exec(ctx, `insert into meter_billing(meter_id, last_read_at, last_taken_at, last_energy_kwh,
				last_sharp_kwh, last_peak_kwh, last_flat_kwh, last_valley_kwh, month)
			values($1,$2,$3,$4,$5,$6,$7,$8,$9)`, r.meterID, r.readAt, r.takenAt, r.energy,
			r.tou[0], r.tou[1], r.tou[2], r.tou[3], s.month); err != nil {
			return out, fmt.Errorf("billing baseline: %w", err)
		}
		return decide(ctx, tx, r, s, out)
	case err != nil:
		return out, fmt.Errorf("billing state: %w", err)
	}
	if !r.readAt.After(s.lastReadAt) {
		return out, nil // billed before, or older than what was billed
	}
	delta := r.energy.Sub(s.lastEnergy)
	in := tariff.Interval{From: s.lastTakenAt, To: r.takenAt, Energy: delta, Ratio: r.ratio}
	// TOU registers are used when the meter counts them; a meter without
	// them (all zero) has its interval split by time.
	if hasTOU(r.tou) {
		in.ByPeriod = map[tariff.Period]decimal.Decimal{}
		for i, p := range tariff.Periods() {
			in.ByPeriod[p] = r.tou[i].Sub(s.lastTOU[i])
		}
	}
	month := r.tariff.Month(r.takenAt)
	if month != s.month {
		s.month, s.monthKWh = month, decimal.Zero
	}
	in.MonthKWh = s.monthKWh
	priced, err := tariff.PriceInterval(r.tariff, in)
	if errors.Is(err, tariff.ErrNegative) {
		// A replaced or reset meter: start again from this reading, bill nothing.
		log.Warn("platform billing: energy went backwards, new baseline", "meter", r.meterNo, "error", err)
		priced = tariff.Priced{KWh: decimal.Zero, Exact: decimal.Zero}
	} else if err != nil {
		return out, err
	}
	charge := tariff.Settle(s.carry, priced.Exact)
	key := EntryKey(r.meterNo, r.readAt)
	lines, err := json.Marshal(priced.Lines)
	if err != nil {
		return out, err
	}
	tag, err := tx.Exec(ctx, `insert into meter_charges(meter_id, read_at, from_at, to_at, energy_kwh, exact, amount,
			carry, lines, entry_key) values($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) on conflict do nothing`,
		r.meterID, r.readAt, s.lastTakenAt, r.takenAt, priced.KWh, priced.Exact, charge.Amount, charge.Carry, lines, key)
	if err != nil {
		return out, fmt.Errorf("record charge: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return out, nil // the state lock makes this unreachable; never book twice
	}
	if charge.Amount.IsPositive() {
		// A merged sub meter's consumption is paid from its master's wallet.
		_, payerNo, err := platformbillingstore.Payer(ctx, tx, r.meterID, r.meterNo)
		if err != nil {
			return out, err
		}
		memo := fmt.Sprintf("consumption of meter %s, %s kWh", r.meterNo, priced.KWh)
		if payerNo != r.meterNo {
			memo += ", paid by master meter " + payerNo
		}
		e := ledgerdom.Transfer(key, EntryKind, memo,
			ledgerdom.Posting{Account: ConsumptionIncome, Kind: ledgerdom.Income},
			ledgerdom.Posting{Account: ledgerdom.MeterWallet(payerNo), Kind: ledgerdom.Liability}, charge.Amount)
		if _, err := ledgerstore.BookTx(ctx, tx, r.projectID, e); err != nil {
			return out, err
		}
		out.charged, out.amount = true, charge.Amount
	}
	s.carry, s.monthKWh = charge.Carry, s.monthKWh.Add(priced.KWh)
	if _, err := tx.Exec(ctx, `update meter_billing set last_read_at=$2, last_taken_at=$3, last_energy_kwh=$4,
			last_sharp_kwh=$5, last_peak_kwh=$6, last_flat_kwh=$7, last_valley_kwh=$8, carry=$9, month=$10, month_kwh=$11
		where meter_id=$1`, r.meterID, r.readAt, r.takenAt, r.energy, r.tou[0], r.tou[1], r.tou[2], r.tou[3],
		s.carry, s.month, s.monthKWh); err != nil {
		return out, fmt.Errorf("billing state: %w", err)
	}
	return decide(ctx, tx, r, s, out)
}

func hasTOU(tou [4]decimal.Decimal) bool {
	for _, v := range tou {
		if !v.IsZero() {
			return true
		}
	}
	return false
}

// EntryKey is the ledger key of a meter's charge for the reading at readAt.
func EntryKey(meterNo string, readAt time.Time) string {
	return "consumption/" + meterNo + "/" + readAt.UTC().Format(time.RFC3339)
}

// decide switches the meter off when its wallet plus overdraft allowance
// is at or below zero (unless it is in protect mode), and on again when it
// is back above zero after billing switched it off — not when an operator
// cut it off since (LastCutOff). The command row is
// written here, in the charge's transaction, with an idempotency key per
// meter and switch decision, so the decision is never lost nor doubled.
func decide(ctx context.Context, tx pgx.Tx, r reading, s state, out meterResult) (meterResult, error) {
	// A merged sub meter follows its master's wallet and allowance: the
	// master's arrears switch it off at its next reading.
	payerID, payerNo, err := platformbillingstore.Payer(ctx, tx, r.meterID, r.meterNo)
	if err != nil {
		return out, err
	}
	balance, err := walletTx(ctx, tx, r.projectID, payerNo)
	if err != nil {
		return out, err
	}
	// Read at each decision, so a changed allowance counts from the next reading.
	overdraft, err := platformbillingstore.Overdraft(ctx, tx, payerID)
	if err != nil {
		return out, err
	}
	available := balance.Add(overdraft)
	var cmd metercmddom.Command
	switch {
	case !available.IsPositive() && !s.cutOff && r.mode != modeProtect:
		cmd = metercmddom.SwitchOff
	case available.IsPositive() && s.cutOff:
		cmd = metercmddom.SwitchOn
	default:
		return out, nil
	}
	// A meter an operator cut off stays as the operator left it: billing
	// neither switches it on after a recharge nor adds its own switch-off.
	if reason, err := LastCutOff(ctx, tx, r.meterID); err != nil || reason == CutOffManual {
		return out, err
	}
	// A meter under a property-fee hold is switched on by the fee release
	// (store/fee cutoff.go), not here: billing's own hold just ends.
	if cmd == metercmddom.SwitchOn {
		held, err := feestore.HeldTx(ctx, tx, r.meterID)
		if err != nil || held {
			if err == nil {
				_, err = tx.Exec(ctx, `update meter_billing set cut_off=false where meter_id=$1`, r.meterID)
			}
			return out, err
		}
	}
	s.seq++
	id := uuid.NewString()
	key := fmt.Sprintf("billing/%s/%d/%s", r.meterNo, s.seq, cmd)
	wf := "meter-command/" + id
	tag, err := tx.Exec(ctx, `insert into meter_commands(id, project_id, meter_id, meter_no, command, args, status,
			workflow_id, idempotency_key, created_by) values($1,$2,$3,$4,$5,$6,'pending',$7,$8,null)
		on conflict (project_id, idempotency_key) where idempotency_key is not null do nothing`,
		id, r.projectID, r.meterID, r.meterNo, string(cmd), []byte(metercmdstore.ArgsOf(cmd)), wf, key)
	if err != nil {
		return out, fmt.Errorf("record %s: %w", cmd, err)
	}
	if tag.RowsAffected() == 0 {
		return out, fmt.Errorf("switch command %s exists already: billing state out of step", key)
	}
	if _, err := tx.Exec(ctx, `update meter_billing set cut_off=$2, switch_seq=$3 where meter_id=$1`,
		r.meterID, cmd == metercmddom.SwitchOff, s.seq); err != nil {
		return out, fmt.Errorf("billing switch state: %w", err)
	}
	out.sw = &Switch{CommandID: id, WorkflowID: wf, ProjectID: r.projectID, ProjectCode: r.projectCode,
		MeterID: r.meterID, MeterNo: r.meterNo, Command: string(cmd), Balance: balance}
	return out, nil
}

// walletTx is the meter wallet as a person reads it (positive: money left).
func walletTx(ctx context.Context, tx pgx.Tx, projectID, meterNo string) (money.Amount, error) {
	var raw money.Amount
	err := tx.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2`,
		projectID, ledgerdom.MeterWallet(meterNo)).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return money.Zero, nil
	}
	if err != nil {
		return money.Zero, fmt.Errorf("wallet of meter %s: %w", meterNo, err)
	}
	return ledgerdom.Display(ledgerdom.Liability, raw), nil
}
