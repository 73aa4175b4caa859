// Package demo loads the contract's demo data (contracts.md) into an empty
// database: organisation demo-group, project demo, the three operators, four
// gateways with 32 meters each. Tests use it as their fixture too.
package demo

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/store"
	"golang.org/x/crypto/bcrypt"
)

// Options shape the demo; the zero value is not useful, use Defaults.
type Options struct {
	Project        string // project code
	Organisation   string
	GatewayHost    string
	GatewayPorts   []int // one gateway per port
	MetersPerGW    int
	MeterPrefix    string // M → M0001
	FirstMeter     int    // number of the first meter
	Operators      []Operator
	Price          string // yuan/kWh
	Alarm1, Alarm2 string
	BcryptCost     int
	// PlatformMeter, if set, names a meter made platform-side prepaid
	// (主站费控) with the TOU tariff TOU-DEMO. Empty in Defaults: the
	// contract's demo meters are all meter-side (contracts.md).
	PlatformMeter string
	// PlatformOpening is the platform-side meter's opening wallet balance,
	// booked in the ledger as a sale (cash in, owed to the meter), so the
	// meter is billed by each sweep and not cut off at the first one (an
	// empty wallet is at the cut-off line). "" with PlatformMeter: 50.00,
	// the money every other demo meter starts with.
	PlatformOpening string
	// BookTx books the opening balance (store/ledger.BookTx; passed in
	// because store/ledger's tests load the demo).
	BookTx func(ctx context.Context, tx pgx.Tx, projectID string, e ledgerdom.Entry) error
}

// Operator is a login with roles in the demo project.
type Operator struct {
	Username, Password string
	Roles              []string
	// PlatformAdmin may create organisations, projects and operators (the
	// demo's admin is one: dev only, contracts.md "Setting up").
	PlatformAdmin bool
}

// Defaults is the contract's demo.
func Defaults() Options {
	return Options{
		Project: "demo", Organisation: "demo-group",
		GatewayHost: "127.0.0.1", GatewayPorts: []int{15020, 15021, 15022, 15023}, MetersPerGW: 32,
		MeterPrefix: "M", FirstMeter: 1, Price: "1.2000", Alarm1: "20.00", Alarm2: "10.00",
		BcryptCost: bcrypt.DefaultCost,
		Operators: []Operator{
			{"admin", "admin", []string{"admin", "cashier", "approver", "maintenance", "viewer"}, true},
			{"cashier", "cashier", []string{"cashier"}, false},
			{"approver", "approver", []string{"approver"}, false},
		},
	}
}

// Loaded is what Load created.
type Loaded struct {
	ProjectID string
	Created   bool
}

// Load creates the demo unless its project already exists (a second `make
// run` keeps all state).
func Load(ctx context.Context, db *store.DB, o Options) (Loaded, error) {
	var out Loaded
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `select id from projects where code=$1`, o.Project).Scan(&out.ProjectID)
		if err == nil {
			return nil
		}
		if err != pgx.ErrNoRows {
			return err
		}
		out.Created = true
		orgID := uuid.NewString()
		if err := tx.QueryRow(ctx, `insert into organisations(id, code, name) values($1,$2,$2)
			on conflict (code) do update set name=excluded.name returning id`, orgID, o.Organisation).Scan(&orgID); err != nil {
			return fmt.Errorf("organisation: %w", err)
		}
		out.ProjectID = uuid.NewString()
		if _, err := tx.Exec(ctx, `insert into projects(id, organisation_id, code, name) values($1,$2,$3,$4)`,
			out.ProjectID, orgID, o.Project, o.Project+" (shopping mall)"); err != nil {
			return fmt.Errorf("project: %w", err)
		}
		for _, op := range o.Operators {
			if err := addOperator(ctx, tx, orgID, out.ProjectID, op, o.BcryptCost); err != nil {
				return err
			}
		}
		// The area manager (片区经理) gets every meter's alarms with the tenant (seed 002).
		if _, err := tx.Exec(ctx, `insert into alarm_recipients(project_id, phone, name, role)
			values($1,'13900000000','Area manager','manager')`, out.ProjectID); err != nil {
			return fmt.Errorf("alarm recipient: %w", err)
		}
		building := uuid.NewString()
		if _, err := tx.Exec(ctx, `insert into sites(id, project_id, level, name) values($1,$2,1,'Building A')`, building, out.ProjectID); err != nil {
			return err
		}
		n := o.FirstMeter
		for g, port := range o.GatewayPorts {
			gwID := uuid.NewString()
			if _, err := tx.Exec(ctx, `insert into gateways(id, project_id, code, protocol, address) values($1,$2,$3,'modbus-tcp',$4)`,
				gwID, out.ProjectID, fmt.Sprintf("GW-%02d", g+1), fmt.Sprintf("%s:%d", o.GatewayHost, port)); err != nil {
				return fmt.Errorf("gateway: %w", err)
			}
			for u := 1; u <= o.MetersPerGW; u++ {
				meterNo := fmt.Sprintf("%s%04d", o.MeterPrefix, n)
				unitID, customerID, accountID := uuid.NewString(), uuid.NewString(), uuid.NewString()
				if _, err := tx.Exec(ctx, `insert into units(id, project_id, site_id, name) values($1,$2,$3,$4)`,
					unitID, out.ProjectID, building, "Shop "+meterNo); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `insert into customers(id, project_id, name, phone) values($1,$2,$3,$4)`,
					customerID, out.ProjectID, "Tenant "+meterNo, fmt.Sprintf("1380000%04d", n)); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `insert into prepaid_accounts(id, project_id, customer_id, account_no) values($1,$2,$3,$4)`,
					accountID, out.ProjectID, customerID, "A"+meterNo); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile,
					unit_id, account_id, price, alarm1, alarm2) values($1,$2,$3,$4,$5,'ref-prepaid-v1',$6,$7,$8,$9,$10)`,
					uuid.NewString(), out.ProjectID, meterNo, gwID, u, unitID, accountID, o.Price, o.Alarm1, o.Alarm2); err != nil {
					return fmt.Errorf("meter %s: %w", meterNo, err)
				}
				n++
			}
		}
		return addTariffs(ctx, tx, out.ProjectID, o)
	})
	return out, err
}

func addOperator(ctx context.Context, tx pgx.Tx, orgID, projectID string, op Operator, cost int) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(op.Password), cost)
	if err != nil {
		return err
	}
	id := uuid.NewString()
	if err := tx.QueryRow(ctx, `insert into operators(id, organisation_id, username, display_name, password_hash, platform_admin)
		values($1,$2,$3,$3,$4,$5) on conflict (username) do update set username=excluded.username returning id`,
		id, orgID, op.Username, string(hash), op.PlatformAdmin).Scan(&id); err != nil {
		return fmt.Errorf("operator %s: %w", op.Username, err)
	}
	for _, r := range op.Roles {
		if _, err := tx.Exec(ctx, `insert into operator_roles(operator_id, project_id, role) values($1,$2,$3)
			on conflict do nothing`, id, projectID, r); err != nil {
			return fmt.Errorf("role %s/%s: %w", op.Username, r, err)
		}
	}
	return nil
}
