// Package fee stores property-fee schedules (M13) and books each due fee
// once: the fee_charges row and its ledger entry commit together, keyed by
// schedule, unit and month, so the schedule's run, a rerun and a run resumed
// after a crash book nothing twice. The API, the activities (activities/fee)
// and the fee list share these functions.
package fee

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	feedom "github.com/voltflow/voltflow/domain/fee"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// Errors the API maps to problems.
var (
	ErrTarget   = errors.New("unit or site not found in the project")
	ErrNotFound = errors.New("fee schedule not found in the project")
)

// Schedule is one fee schedule as the API shows it.
type Schedule struct {
	ID         string       `json:"id"`
	ProjectID  string       `json:"projectId"`
	UnitID     string       `json:"unitId,omitempty"`
	SiteID     string       `json:"siteId,omitempty"`
	Kind       feedom.Kind  `json:"kind"`
	Basis      feedom.Basis `json:"basis"`
	Amount     money.Amount `json:"amount"`
	DayOfMonth int          `json:"dayOfMonth"`
	CreatedAt  time.Time    `json:"createdAt"`
	// EndedAt is when the schedule was ended (null while it runs): from
	// then on no fee of it is due; what it booked stays on the fee list.
	EndedAt *time.Time `json:"endedAt"`
}

// CreateSchedule stores a validated schedule after checking its unit or
// site is the project's.
func CreateSchedule(ctx context.Context, db *store.DB, s Schedule, createdBy string) (Schedule, error) {
	var ok bool
	if s.UnitID != "" {
		if err := db.QueryRow(ctx, `select exists(select 1 from units where id::text=$1 and project_id=$2)`,
			s.UnitID, s.ProjectID).Scan(&ok); err != nil {
			return s, fmt.Errorf("fee schedule unit: %w", err)
		}
	} else {
		if err := db.QueryRow(ctx, `select exists(select 1 from sites where id::text=$1 and project_id=$2)`,
			s.SiteID, s.ProjectID).Scan(&ok); err != nil {
			return s, fmt.Errorf("fee schedule site: %w", err)
		}
	}
	if !ok {
		return s, ErrTarget
	}
	s.ID = uuid.NewString()
	err := db.QueryRow(ctx, `insert into fee_schedules(id, project_id, unit_id, site_id, kind, basis, amount, day_of_month, created_by)
		values($1,$2,nullif($3,'')::uuid,nullif($4,'')::uuid,$5,$6,$7,$8,nullif($9,'')::uuid) returning created_at`,
		s.ID, s.ProjectID, s.UnitID, s.SiteID, string(s.Kind), string(s.Basis), s.Amount, s.DayOfMonth, createdBy).Scan(&s.CreatedAt)
	if err != nil {
		return s, fmt.Errorf("create fee schedule: %w", err)
	}
	return s, nil
}

const scheduleColumns = `id::text, project_id::text, coalesce(unit_id::text, ''), coalesce(site_id::text, ''),
	kind, basis, amount, day_of_month, created_at, ended_at`

func scanSchedule(row pgx.Row) (Schedule, error) {
	var s Schedule
	err := row.Scan(&s.ID, &s.ProjectID, &s.UnitID, &s.SiteID, &s.Kind, &s.Basis, &s.Amount, &s.DayOfMonth, &s.CreatedAt, &s.EndedAt)
	return s, err
}

// ListSchedules is the project's fee schedules, running ones first, then
// by creation; ended ones only when withEnded.
func ListSchedules(ctx context.Context, db *store.DB, projectID string, withEnded bool) ([]Schedule, error) {
	rows, err := db.Query(ctx, `select `+scheduleColumns+` from fee_schedules
		where project_id=$1 and ($2 or ended_at is null) order by ended_at is not null, created_at, id`, projectID, withEnded)
	if err != nil {
		return nil, fmt.Errorf("fee schedules: %w", err)
	}
	defer rows.Close()
	out := []Schedule{}
	for rows.Next() {
		s, err := scanSchedule(rows)
		if err != nil {
			return nil, fmt.Errorf("fee schedules: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// EndSchedule ends a schedule of the project: no fee of it is due from now
// on. It is not deleted, as its booked charges (the fee list, the ledger
// keys) name it. Ending an ended schedule changes nothing and answers it
// as it is (a repeated DELETE is harmless); ErrNotFound for a schedule
// that is not the project's.
func EndSchedule(ctx context.Context, db *store.DB, projectID, id, endedBy string) (Schedule, error) {
	if uuid.Validate(id) != nil {
		return Schedule{}, ErrNotFound
	}
	s, err := scanSchedule(db.QueryRow(ctx, `with ended as (
			update fee_schedules set ended_at=coalesce(ended_at, now()), ended_by=coalesce(ended_by, nullif($3,'')::uuid)
			where id=$1::uuid and project_id=$2 returning *)
		select `+scheduleColumns+` from ended`, id, projectID, endedBy))
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("end fee schedule %s: %w", id, err)
	}
	return s, nil
}

// SetCutOffRule sets the project's feeArrearsCutOff rule.
func SetCutOffRule(ctx context.Context, db *store.DB, projectID string, cutOff bool) error {
	if _, err := db.Exec(ctx, `update projects set fee_arrears_cut_off=$2 where id=$1`, projectID, cutOff); err != nil {
		return fmt.Errorf("fee cut-off rule: %w", err)
	}
	return nil
}

// DueInput asks for the fees due in a project on a day.
type DueInput struct {
	ProjectID string    `json:"projectId"`
	Day       time.Time `json:"day"` // a calendar day (UTC midnight)
	// Limit > 0 lists a page of at most Limit fees after the cursor
	// (AfterUnit, AfterSchedule; empty is the start), keyset by unit then
	// schedule, so that a project of 100,000 units never lists them in
	// one result (Temporal's 2 MB payload limit). Zero lists every fee:
	// what runs started before paging (their DueInput has no Limit) ask.
	Limit         int    `json:"limit,omitempty"`
	AfterUnit     string `json:"afterUnit,omitempty"`
	AfterSchedule string `json:"afterSchedule,omitempty"`
}

// Due is one fee of one unit due on the day, not yet booked when listed.
type Due struct {
	ScheduleID string `json:"scheduleId"`
	UnitID     string `json:"unitId"`
}

// DueResult lists what is due; the workflow books it in batches.
type DueResult struct {
	Fees []Due `json:"fees"`
}

// ListDue is every (schedule, unit) due on the day and not booked for its
// month yet; a site's schedule covers every unit below the site.
func ListDue(ctx context.Context, db *store.DB, in DueInput) (DueResult, error) {
	day := in.Day.UTC()
	last := time.Date(day.Year(), day.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	afterSchedule := in.AfterSchedule
	if in.AfterUnit != "" && afterSchedule == "" {
		afterSchedule = "00000000-0000-0000-0000-000000000000"
	}
	// Due: the schedule's day, or the month's last day for a day past it
	// (feedom.DueDay, written in SQL to select only what is due).
	rows, err := db.Query(ctx, `with recursive tree(schedule_id, site_id) as (
			select s.id, s.site_id from fee_schedules s where s.project_id=$1 and s.site_id is not null
			union all
			select t.schedule_id, c.id from tree t join sites c on c.parent_id = t.site_id
		), targets(schedule_id, unit_id) as (
			select s.id, s.unit_id from fee_schedules s where s.project_id=$1 and s.unit_id is not null
			union
			select t.schedule_id, u.id from tree t join units u on u.site_id = t.site_id
		)
		select t.schedule_id::text, t.unit_id::text from targets t join fee_schedules s on s.id=t.schedule_id
		where least(s.day_of_month, $2) = $3 and s.ended_at is null
		  and not exists (select 1 from fee_charges c where c.schedule_id=t.schedule_id and c.unit_id=t.unit_id and c.period=$4)
		  and ($5::text = '' or (t.unit_id, t.schedule_id) > (nullif($5::text, '')::uuid, nullif($6::text, '')::uuid))
		order by t.unit_id, t.schedule_id
		limit case when $7::int > 0 then $7::int end`, in.ProjectID, last, day.Day(), feedom.Period(day),
		in.AfterUnit, afterSchedule, in.Limit)
	if err != nil {
		return DueResult{}, fmt.Errorf("due fees: %w", err)
	}
	fees, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Due])
	if err != nil {
		return DueResult{}, fmt.Errorf("due fees: %w", err)
	}
	return DueResult{Fees: fees}, nil
}

// BookInput books one due fee.
type BookInput struct {
	ProjectID  string    `json:"projectId"`
	ScheduleID string    `json:"scheduleId"`
	UnitID     string    `json:"unitId"`
	Day        time.Time `json:"day"`
}

// Booked is what booking a fee did. Created is false when it had been
// booked before (nothing written now) or could not be booked (Skipped).
type Booked struct {
	ScheduleID string       `json:"scheduleId"`
	UnitID     string       `json:"unitId"`
	Key        string       `json:"key"`
	Created    bool         `json:"created"`
	Kind       feedom.Kind  `json:"kind"`
	Amount     money.Amount `json:"amount"`
	Arrears    money.Amount `json:"arrears"`
	MeterID    string       `json:"meterId,omitempty"`
	MeterNo    string       `json:"meterNo,omitempty"`
	Phone      string       `json:"phone,omitempty"`
	CutOff     bool         `json:"cutOff"`
	// Skipped says why nothing could be booked (no account, no area).
	Skipped string `json:"skipped,omitempty"`
	// Switch is the fee hold's switch-off for the activity to start (see
	// cutoff.go); not part of the workflow's history.
	Switch *Switch `json:"-"`
}

// Book books one fee of one unit for the day's month, once. The paying
// wallet is the unit's electricity meter (lowest meter number first) with
// an open account: its relay is what a cut-off for arrears acts on, and a
// fixed order keeps a resumed run on the same wallet. The fee is booked in
// full even when the wallet cannot cover it (the wallet goes negative, like
// energy); what it lacked is recorded as arrears.
func Book(ctx context.Context, db *store.DB, in BookInput) (Booked, error) {
	period := feedom.Period(in.Day.UTC())
	out := Booked{ScheduleID: in.ScheduleID, UnitID: in.UnitID, Key: feedom.LedgerKey(in.ScheduleID, in.UnitID, period)}
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var s feedom.Schedule
		var area *decimal.Decimal
		var cutOffRule, ended bool
		err := tx.QueryRow(ctx, `select s.kind, s.basis, s.amount, s.day_of_month, u.area, p.fee_arrears_cut_off,
				s.ended_at is not null
			from fee_schedules s join units u on u.id=$3 and u.project_id=s.project_id join projects p on p.id=s.project_id
			where s.id=$2 and s.project_id=$1`, in.ProjectID, in.ScheduleID, in.UnitID).
			Scan(&s.Kind, &s.Basis, &s.Amount, &s.DayOfMonth, &area, &cutOffRule, &ended)
		if err != nil {
			return fmt.Errorf("fee %s: %w", out.Key, err)
		}
		out.Kind = s.Kind
		if ended {
			// Ended after the day's run listed it: nothing more is due. (A fee
			// booked before the end stays: the claim below finds it first.)
			var booked bool
			if err := tx.QueryRow(ctx, `select exists(select 1 from fee_charges where schedule_id=$1 and unit_id=$2 and period=$3)`,
				in.ScheduleID, in.UnitID, period).Scan(&booked); err != nil {
				return fmt.Errorf("fee %s: %w", out.Key, err)
			}
			if !booked {
				out.Skipped = "the fee schedule has ended"
				return nil
			}
		}
		out.Kind = s.Kind
		amount, err := s.Charge(area)
		if err != nil {
			out.Skipped = err.Error()
			return nil
		}
		out.Amount = amount
		var accountNo string
		err = tx.QueryRow(ctx, `select m.id::text, m.meter_no, a.account_no, coalesce(c.phone,'')
			from meters m join prepaid_accounts a on a.id=m.account_id and a.status='open'
			left join customers c on c.id=a.customer_id
			where m.unit_id=$1 order by (m.kind='electricity') desc, m.meter_no limit 1`, in.UnitID).
			Scan(&out.MeterID, &out.MeterNo, &accountNo, &out.Phone)
		if errors.Is(err, pgx.ErrNoRows) {
			out.Skipped = "the unit has no meter with an open account"
			return nil
		}
		if err != nil {
			return fmt.Errorf("fee %s wallet: %w", out.Key, err)
		}
		// The claim: a second run (or a retried activity whose first try
		// committed) waits here on the primary key and then finds the row.
		tag, err := tx.Exec(ctx, `insert into fee_charges(schedule_id, unit_id, period, project_id, kind, amount, meter_no,
			account_no, ledger_key, booked_on) values($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) on conflict do nothing`,
			in.ScheduleID, in.UnitID, period, in.ProjectID, string(s.Kind), amount, out.MeterNo, accountNo, out.Key, in.Day.UTC())
		if err != nil {
			return fmt.Errorf("fee %s: %w", out.Key, err)
		}
		if tag.RowsAffected() == 0 {
			if err := tx.QueryRow(ctx, `select amount, arrears, meter_no, cut_off from fee_charges
				where schedule_id=$1 and unit_id=$2 and period=$3`, in.ScheduleID, in.UnitID, period).
				Scan(&out.Amount, &out.Arrears, &out.MeterNo, &out.CutOff); err != nil {
				return err
			}
			if out.CutOff {
				// Booked by a try that died before starting its switch-off.
				out.Switch, err = pendingCommand(ctx, tx, in.ProjectID, out.MeterID, out.MeterNo, cutOffKey(out.Key),
					metercmddom.SwitchOff)
			}
			return err
		}
		wallet := ledgerdom.MeterWallet(out.MeterNo)
		// Lock the wallet's balance so two fees of one wallet see each other.
		var raw money.Amount
		err = tx.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2 for update`,
			in.ProjectID, wallet).Scan(&raw)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("fee %s balance: %w", out.Key, err)
		}
		out.Arrears = feedom.Arrears(ledgerdom.Display(ledgerdom.Liability, raw), amount)
		out.CutOff = cutOffRule && out.Arrears.IsPositive()
		if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, ledgerdom.Entry{
			Key: out.Key, Kind: "property_fee", Memo: fmt.Sprintf("%s fee %s unit %s", s.Kind, period, in.UnitID),
			Postings: []ledgerdom.Posting{
				{Account: wallet, Kind: ledgerdom.Liability, Amount: amount},
				{Account: feedom.IncomeAccount(s.Kind), Kind: ledgerdom.Income, Amount: amount.Neg()},
			}}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update fee_charges set arrears=$4, cut_off=$5 where schedule_id=$1 and unit_id=$2 and period=$3`,
			in.ScheduleID, in.UnitID, period, out.Arrears, out.CutOff); err != nil {
			return fmt.Errorf("fee %s arrears: %w", out.Key, err)
		}
		if out.CutOff {
			if out.Switch, err = cutOffTx(ctx, tx, in.ProjectID, out.MeterID, out.MeterNo, out.Key); err != nil {
				return err
			}
		}
		out.Created = true
		return nil
	})
	return out, err
}

// Line is one unit's fees of a month on the fee list.
type Line struct {
	UnitID    string       `json:"unitId"`
	UnitName  string       `json:"unitName"`
	AccountNo string       `json:"accountNo"`
	MeterNo   string       `json:"meterNo"`
	Rent      money.Amount `json:"rent"`
	Mgmt      money.Amount `json:"management"`
	Capacity  money.Amount `json:"capacity"`
	Total     money.Amount `json:"total"`
	Arrears   money.Amount `json:"arrears"`
	// CutOff: a meter of the unit is off for fee arrears now (an open fee
	// hold, cutoff.go), whatever month is listed.
	CutOff bool `json:"cutOff"`
}

// Headers and Cells make the list an xlsx sheet.
func (Line) Headers() []string {
	return []string{"单元 Unit", "账户 Account", "表号 Meter", "房租 Rent", "物业费 Management", "容量费 Capacity",
		"合计 Total", "欠费 Arrears", "欠费断电 Cut off"}
}

// Cells is the line's row in the sheet.
func (l Line) Cells() []any {
	return []any{l.UnitName, l.AccountNo, l.MeterNo, l.Rent.String(), l.Mgmt.String(), l.Capacity.String(),
		l.Total.String(), l.Arrears.String(), yes(l.CutOff)}
}

// yes is a flag as the printed list shows it: 是 or nothing.
func yes(b bool) string {
	if b {
		return "是 yes"
	}
	return ""
}

// List is the fee list of a month (YYYY-MM): per unit the fees deducted and
// the arrears they left.
func List(ctx context.Context, db *store.DB, projectID, month string) ([]Line, error) {
	return ListIn(ctx, db, projectID, month, nil)
}

// ListIn is List for a caller who sees only the units hung on sites (a
// site-scoped role, sites already expanded to their subtrees); nil sites:
// every unit of the project.
func ListIn(ctx context.Context, db *store.DB, projectID, month string, sites []string) ([]Line, error) {
	rows, err := db.Query(ctx, `select c.unit_id::text, u.name, min(c.account_no), min(c.meter_no),
			coalesce(sum(c.amount) filter (where c.kind='rent'),0),
			coalesce(sum(c.amount) filter (where c.kind='management'),0),
			coalesce(sum(c.amount) filter (where c.kind='capacity'),0),
			sum(c.amount), sum(c.arrears),
			exists(select 1 from fee_cut_offs h join meters m on m.id=h.meter_id
				where m.unit_id=c.unit_id and h.released_at is null)
		from fee_charges c join units u on u.id=c.unit_id
		where c.project_id=$1 and c.period=$2 and ($3::text[] is null or u.site_id::text = any($3::text[]))
		group by c.unit_id, u.name order by u.name, c.unit_id`, projectID, month, sites)
	if err != nil {
		return nil, fmt.Errorf("fee list: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Line])
	if err != nil {
		return nil, fmt.Errorf("fee list: %w", err)
	}
	return lines, nil
}

// Project is what a project's fee Schedule needs.
type Project struct {
	ID, Code string
}

// ListProjects is every project with a fee schedule: each gets a daily
// Schedule (a project gets its first when its first fee schedule is made).
func ListProjects(ctx context.Context, db *store.DB) ([]Project, error) {
	rows, err := db.Query(ctx, `select p.id::text, p.code from projects p
		where exists (select 1 from fee_schedules s where s.project_id=p.id) order by p.code`)
	if err != nil {
		return nil, fmt.Errorf("fee projects: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Project])
}

// BatchInput books several due fees of one day.
type BatchInput struct {
	ProjectID string    `json:"projectId"`
	Day       time.Time `json:"day"`
	Fees      []Due     `json:"fees"`
}

// BatchResult is what booking a batch did, fee by fee.
type BatchResult struct {
	Booked []Booked `json:"booked"`
}

// Cursor identifies a line for the sheet writer.
func (l Line) Cursor() string { return l.UnitID }
