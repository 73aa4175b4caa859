// Package allowance stores the monthly allowance (月补电量) settings and
// grants each meter's allowance of a month once: the allowance_grants row
// and the allowance recharge it creates commit together, keyed by meter and
// month, so the Schedule's run, a rerun and a run resumed after a crash
// grant nothing twice. The recharge (kind allowance) then goes the way of a
// sale: booked from the allowance account, written into a meter-side meter
// through its purchase counter, credited to a platform-side meter's wallet.
package allowance

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	allowancedom "github.com/voltflow/voltflow/domain/allowance"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/store"
)

// ErrNotFound is no setting.
var ErrNotFound = errors.New("no allowance set")

// Put sets the project's allowance (meterID "") or a meter's own.
func Put(ctx context.Context, db *store.DB, projectID, meterID string, s allowancedom.Setting, by string) error {
	conflict := `(project_id) where meter_id is null`
	if meterID != "" {
		conflict = `(meter_id) where meter_id is not null`
	}
	_, err := db.Exec(ctx, `insert into allowance_settings(project_id, meter_id, basis, quantity, updated_by)
		values($1, nullif($2,'')::uuid, $3, $4, $5)
		on conflict `+conflict+` do update set basis=excluded.basis, quantity=excluded.quantity,
			updated_by=excluded.updated_by, updated_at=now()`, projectID, meterID, string(s.Basis), s.Quantity, by)
	if err != nil {
		return fmt.Errorf("put allowance: %w", err)
	}
	return nil
}

// Get reads the project's setting (meterID "") or a meter's own.
func Get(ctx context.Context, db *store.DB, projectID, meterID string) (allowancedom.Setting, error) {
	var s allowancedom.Setting
	var basis string
	err := db.QueryRow(ctx, `select basis, quantity from allowance_settings
		where project_id=$1 and meter_id is not distinct from nullif($2,'')::uuid`, projectID, meterID).Scan(&basis, &s.Quantity)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("get allowance: %w", err)
	}
	s.Basis = allowancedom.Basis(basis)
	return s, nil
}

// Effective is the setting in force for a meter and where it comes from
// ("meter" or "project").
func Effective(ctx context.Context, db *store.DB, projectID, meterID string) (allowancedom.Setting, string, error) {
	s, err := Get(ctx, db, projectID, meterID)
	if err == nil {
		return s, "meter", nil
	}
	if !errors.Is(err, ErrNotFound) {
		return s, "", err
	}
	s, err = Get(ctx, db, projectID, "")
	return s, "project", err
}

// eligible selects the meters of a project that get an allowance: an
// electricity meter on an open account whose setting in force (its own, else
// the project's) is above zero.
const eligible = `select m.id, m.meter_no, coalesce(own.basis, p.basis) basis, coalesce(own.quantity, p.quantity) quantity,
		coalesce(own.updated_by, p.updated_by) updated_by
	from meters m join prepaid_accounts a on a.id=m.account_id and a.status='open'
	left join allowance_settings own on own.meter_id=m.id
	left join allowance_settings p on p.project_id=m.project_id and p.meter_id is null
	where m.project_id=$1 and m.kind='electricity' and m.status='active' and coalesce(own.quantity, p.quantity, 0) > 0`

// DueInput asks for a page of the meters owed a month's allowance: those
// after meter id After (keyset; "" is the start), at most Limit of them.
type DueInput struct {
	ProjectID string `json:"projectId"`
	Period    string `json:"period"` // YYYY-MM
	After     string `json:"after,omitempty"`
	// Limit bounds the page (zero: DefaultPage) so that a project of
	// 100,000 meters never puts them all in one activity result (Temporal
	// refuses payloads above 2 MB).
	Limit int `json:"limit,omitempty"`
}

// DefaultPage is the page size of a zero DueInput.Limit.
const DefaultPage = 500

// DueResult is a page of meter ids, by meter id; the workflow grants them
// in batches and asks for the page after the last.
type DueResult struct {
	MeterIDs []string `json:"meterIds"`
}

// ListDue is a page of the eligible meters without a grant of the month
// yet, by meter id.
func ListDue(ctx context.Context, db *store.DB, in DueInput) (DueResult, error) {
	limit := in.Limit
	if limit <= 0 {
		limit = DefaultPage
	}
	rows, err := db.Query(ctx, `select e.id::text from (`+eligible+`) e
		where not exists (select 1 from allowance_grants g where g.meter_id=e.id and g.period=$2)
			and e.id > coalesce(nullif($3::text, '')::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
		order by e.id limit $4`, in.ProjectID, in.Period, in.After, limit)
	if err != nil {
		return DueResult{}, fmt.Errorf("due allowances: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return DueResult{}, fmt.Errorf("due allowances: %w", err)
	}
	return DueResult{MeterIDs: ids}, nil
}

// GrantInput grants one meter its allowance of a month.
type GrantInput struct {
	ProjectID string `json:"projectId"`
	MeterID   string `json:"meterId"`
	Period    string `json:"period"`
}

// Granted is a meter's grant of the month: made now (Created) or found.
// The workflow starts the recharge's workflow unless its status is final.
type Granted struct {
	MeterID    string             `json:"meterId"`
	MeterNo    string             `json:"meterNo"`
	RechargeID string             `json:"rechargeId"`
	WorkflowID string             `json:"workflowId"`
	Amount     money.Amount       `json:"amount"`
	Platform   bool               `json:"platform"`
	Status     rechargedom.Status `json:"status"`
	Created    bool               `json:"created"`
	// Skipped says why nothing was granted (no longer eligible, no price).
	Skipped string `json:"skipped,omitempty"`
}

// RechargeWorkflowID is the recharge workflow's ID (workflows/recharge's
// rule, kept here so the store does not import workflows).
func RechargeWorkflowID(rechargeID string) string { return "recharge/" + rechargeID }

// Grant claims the meter's grant of the month and creates its allowance
// recharge, in one transaction; a grant made before is returned as it is.
func Grant(ctx context.Context, db *store.DB, in GrantInput) (Granted, error) {
	out := Granted{MeterID: in.MeterID}
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		// Two runs of a month (a rerun while the first still works) take
		// turns per meter; the second finds the first's grant.
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtext('allowance:' || $1 || ':' || $2))`, in.MeterID, in.Period); err != nil {
			return fmt.Errorf("lock allowance of %s: %w", in.MeterID, err)
		}
		var status string
		err := tx.QueryRow(ctx, `select m.meter_no, g.recharge_id::text, r.workflow_id, g.amount, m.prepaid_mode='platform', r.status
			from allowance_grants g join meters m on m.id=g.meter_id join recharges r on r.id=g.recharge_id
			where g.meter_id=$1 and g.period=$2`, in.MeterID, in.Period).
			Scan(&out.MeterNo, &out.RechargeID, &out.WorkflowID, &out.Amount, &out.Platform, &status)
		if err == nil {
			out.Status = rechargedom.Status(status)
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("allowance grant of %s: %w", in.MeterID, err)
		}
		var basis, price, by string
		var quantity decimal.Decimal
		var ct, pt int64
		err = tx.QueryRow(ctx, `select e.meter_no, e.basis, e.quantity, e.updated_by::text, m.price::text, m.ct_ratio, m.pt_ratio,
				m.prepaid_mode='platform'
			from (`+eligible+`) e join meters m on m.id=e.id where e.id=$2`, in.ProjectID, in.MeterID).
			Scan(&out.MeterNo, &basis, &quantity, &by, &price, &ct, &pt, &out.Platform)
		if errors.Is(err, pgx.ErrNoRows) {
			out.Skipped = "no longer eligible (account closed or allowance removed)"
			return nil
		}
		if err != nil {
			return fmt.Errorf("allowance of %s: %w", in.MeterID, err)
		}
		setting := allowancedom.Setting{Basis: allowancedom.Basis(basis), Quantity: quantity}
		p, err := money.ParsePrice(price)
		if err != nil {
			return fmt.Errorf("price of %s: %w", out.MeterNo, err)
		}
		amount, err := setting.Amount(p, ct, pt)
		if err != nil {
			out.Skipped = err.Error()
			return nil
		}
		out.Amount, out.Status, out.Created = amount, rechargedom.Approved, true
		out.RechargeID = uuid.NewString()
		out.WorkflowID = RechargeWorkflowID(out.RechargeID)
		var kwh *decimal.Decimal
		var priceArg *string
		var ratio *int
		if setting.Basis == allowancedom.KWh {
			r := int(max(ct, 1) * max(pt, 1))
			kwh, priceArg, ratio = &quantity, &price, &r
		}
		if _, err := tx.Exec(ctx, `insert into recharges(id, project_id, meter_id, meter_no, transaction_no, amount, status,
				needs_approval, workflow_id, created_by, kind, reason, kwh, price, ratio)
			values($1,$2,$3,$4,$5,$6,'approved',false,$7,$8,'allowance',$9,$10,$11::numeric,$12)`,
			out.RechargeID, in.ProjectID, in.MeterID, out.MeterNo, allowancedom.TransactionNo(out.MeterNo, in.Period), amount,
			out.WorkflowID, by, "monthly allowance "+in.Period, kwh, priceArg, ratio); err != nil {
			return fmt.Errorf("allowance recharge of %s: %w", out.MeterNo, err)
		}
		if _, err := tx.Exec(ctx, `insert into allowance_grants(meter_id, period, project_id, recharge_id, basis, quantity, amount)
			values($1,$2,$3,$4,$5,$6,$7)`, in.MeterID, in.Period, in.ProjectID, out.RechargeID, basis, quantity, amount); err != nil {
			return fmt.Errorf("allowance grant of %s: %w", out.MeterNo, err)
		}
		return nil
	})
	return out, err
}

// BatchInput grants several meters their allowance of a month.
type BatchInput struct {
	ProjectID string   `json:"projectId"`
	Period    string   `json:"period"`
	MeterIDs  []string `json:"meterIds"`
}

// BatchResult is each meter's grant.
type BatchResult struct {
	Granted []Granted `json:"granted"`
}

// Project is what a project's allowance Schedule needs.
type Project struct {
	ID, Code string
}

// ListProjects is every project with an allowance setting: each gets a
// monthly Schedule.
func ListProjects(ctx context.Context, db *store.DB) ([]Project, error) {
	rows, err := db.Query(ctx, `select p.id::text, p.code from projects p
		where exists (select 1 from allowance_settings s where s.project_id=p.id) order by p.code`)
	if err != nil {
		return nil, fmt.Errorf("allowance projects: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Project])
}

// Line is one grant as the API lists it.
type Line struct {
	MeterNo    string             `json:"meterNo"`
	Period     string             `json:"period"`
	Basis      string             `json:"basis"`
	Quantity   decimal.Decimal    `json:"-"`
	Amount     money.Amount       `json:"amount"`
	RechargeID string             `json:"rechargeId"`
	Status     rechargedom.Status `json:"status"`
}

// List is a project's grants of a month, by meter number.
func List(ctx context.Context, db *store.DB, projectID, period string) ([]Line, error) {
	rows, err := db.Query(ctx, `select m.meter_no, g.period, g.basis, g.quantity, g.amount, g.recharge_id::text, r.status
		from allowance_grants g join meters m on m.id=g.meter_id join recharges r on r.id=g.recharge_id
		where g.project_id=$1 and g.period=$2 order by m.meter_no`, projectID, period)
	if err != nil {
		return nil, fmt.Errorf("allowance grants: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Line])
}

// AmountOf is what the setting credits the meter at its price and ratios
// today.
func AmountOf(ctx context.Context, db *store.DB, meterID string, s allowancedom.Setting) (money.Amount, error) {
	var price string
	var ct, pt int64
	if err := db.QueryRow(ctx, `select price::text, ct_ratio, pt_ratio from meters where id=$1`, meterID).Scan(&price, &ct, &pt); err != nil {
		return money.Zero, fmt.Errorf("price of meter %s: %w", meterID, err)
	}
	p, err := money.ParsePrice(price)
	if err != nil {
		return money.Zero, err
	}
	return s.Amount(p, ct, pt)
}
