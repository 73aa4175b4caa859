package chargeorder

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// MonthlyPackage is a customer's monthly terminal package (终端包月): in its
// month (China Standard Time) the service fee of up to QuotaKWh is waived
// on the listed equipment (empty: every charger of the project). Orders
// count what they used against it when they settle.
type MonthlyPackage struct {
	ID           string          `json:"id"`
	ProjectID    string          `json:"projectId"`
	CustomerID   string          `json:"customerId"`
	Customer     string          `json:"customer"`
	Month        string          `json:"month"` // 2026-11
	EquipmentIDs []string        `json:"equipmentIds"`
	QuotaKWh     decimal.Decimal `json:"quotaKwh"`
	UsedKWh      decimal.Decimal `json:"usedKwh"`
	Fee          money.Amount    `json:"fee"` // booked from the card's wallet when bought
}

// PackageRequest grants a package to the customer of a card.
type PackageRequest struct {
	CardNo       string
	Month        string
	EquipmentIDs []string
	QuotaKWh     decimal.Decimal
	// Fee is the package's price (终端包月费): booked once, from the card's
	// wallet to package revenue, when the package is bought.
	Fee money.Amount
}

// PackageRevenueAccount is the income account of monthly package fees.
const PackageRevenueAccount = "charging-package-revenue"

// ErrInvalidPackage is a package that cannot be stored; the wrapped text
// names the field.
var ErrInvalidPackage = errors.New("invalid package")

// PackageField is the request field a package error is about.
type PackageField struct {
	Field string
	Msg   string
}

func (e PackageField) Error() string { return e.Field + " " + e.Msg }
func (e PackageField) Unwrap() error { return ErrInvalidPackage }

const packageColumns = `p.id::text, p.project_id::text, p.customer_id::text, c.name, p.month, p.equipment_ids, p.quota_kwh, p.used_kwh, p.fee`

func scanPackage(r pgx.Row) (MonthlyPackage, error) {
	var p MonthlyPackage
	err := r.Scan(&p.ID, &p.ProjectID, &p.CustomerID, &p.Customer, &p.Month, &p.EquipmentIDs, &p.QuotaKWh, &p.UsedKWh, &p.Fee)
	return p, err
}

// SavePackage grants (or changes) the month's package of the card's
// customer; what the month already used is kept.
func SavePackage(ctx context.Context, db *store.DB, projects []string, req PackageRequest) (MonthlyPackage, error) {
	if _, err := time.Parse("2006-01", req.Month); err != nil || len(req.Month) != 7 {
		return MonthlyPackage{}, PackageField{"month", "must be YYYY-MM"}
	}
	if req.QuotaKWh.IsNegative() || req.QuotaKWh.GreaterThan(decimal.NewFromInt(1_000_000)) || !req.QuotaKWh.Equal(req.QuotaKWh.Round(3)) {
		return MonthlyPackage{}, PackageField{"quotaKwh", "must be 0–1000000 kWh with at most 3 decimals"}
	}
	if req.Fee.IsNegative() || req.Fee.GreaterThan(money.MustParse("100000.00")) {
		return MonthlyPackage{}, PackageField{"fee", "must be 0–100000.00"}
	}
	var projectID, customerID string
	var accountNo *string
	err := db.QueryRow(ctx, `select c.project_id::text, c.customer_id::text, a.account_no from cards c
		left join prepaid_accounts a on a.id=c.account_id
		where c.card_no = $1 and c.project_id::text = any($2) and c.customer_id is not null`, req.CardNo, projects).
		Scan(&projectID, &customerID, &accountNo)
	if errors.Is(err, pgx.ErrNoRows) {
		return MonthlyPackage{}, fmt.Errorf("card %s: %w", req.CardNo, ErrNotFound)
	}
	if err != nil {
		return MonthlyPackage{}, fmt.Errorf("card %s: %w", req.CardNo, err)
	}
	equipment := append([]string{}, req.EquipmentIDs...)
	for _, id := range equipment {
		var ok bool
		if err := db.QueryRow(ctx, `select exists(select 1 from ocpp_charge_points where equipment_id = $1 and project_id = $2)`,
			id, projectID).Scan(&ok); err != nil {
			return MonthlyPackage{}, err
		}
		if !ok {
			return MonthlyPackage{}, PackageField{"equipmentIds", fmt.Sprintf("%q is not a charger of the card's project", id)}
		}
	}
	var id string
	err = store.InTx(ctx, db, func(tx pgx.Tx) error {
		var prev *money.Amount
		err := tx.QueryRow(ctx, `select fee from charging_packages where customer_id=$1 and month=$2 for update`, customerID, req.Month).Scan(&prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if prev != nil && !prev.Equal(req.Fee) {
			return PackageField{"fee", fmt.Sprintf("was booked (%s) when the package was bought and cannot change", prev)}
		}
		if err := tx.QueryRow(ctx, `insert into charging_packages (id, project_id, customer_id, month, equipment_ids, quota_kwh, fee)
			values ($1,$2,$3,$4,$5,$6,$7) on conflict (customer_id, month)
			do update set equipment_ids = excluded.equipment_ids, quota_kwh = excluded.quota_kwh returning id::text`,
			uuid.NewString(), projectID, customerID, req.Month, equipment, req.QuotaKWh, req.Fee).Scan(&id); err != nil {
			return fmt.Errorf("package of %s %s: %w", req.CardNo, req.Month, err)
		}
		if prev != nil || !req.Fee.IsPositive() {
			return nil // bought before (booked then), or free
		}
		if accountNo == nil {
			return PackageField{"fee", "the card has no prepaid account to pay it from"}
		}
		e := ledgerdom.Transfer("charging-package/"+id+"/fee", "charging-package", "monthly package "+req.Month+" of card "+req.CardNo,
			ledgerdom.Posting{Account: PackageRevenueAccount, Kind: ledgerdom.Income},
			ledgerdom.Posting{Account: ledgerdom.CustomerWallet(*accountNo), Kind: ledgerdom.Liability}, req.Fee)
		_, err = ledgerstore.BookTx(ctx, tx, projectID, e)
		return err
	})
	if err != nil {
		return MonthlyPackage{}, err
	}
	return scanPackage(db.QueryRow(ctx, `select `+packageColumns+` from charging_packages p
		join customers c on c.id = p.customer_id where p.id = $1`, id))
}

// ListPackages lists the projects' packages, newest month first, optionally
// of one card's customer and one month.
func ListPackages(ctx context.Context, db *store.DB, projects []string, cardNo, month string) ([]MonthlyPackage, error) {
	rows, err := db.Query(ctx, `select `+packageColumns+` from charging_packages p join customers c on c.id = p.customer_id
		where p.project_id::text = any($1) and ($2 = '' or p.month = $2)
		and ($3 = '' or p.customer_id = (select customer_id from cards where card_no = $3))
		order by p.month desc, c.name, p.id limit 500`, projects, month, cardNo)
	if err != nil {
		return nil, fmt.Errorf("packages: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MonthlyPackage, error) { return scanPackage(r) })
	if err != nil {
		return nil, fmt.Errorf("packages: %w", err)
	}
	return out, nil
}
