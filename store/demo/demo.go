// Package demo loads the contract's demo data (contracts.md) into an empty
// database: organisation demo-group, project demo, the three operators, four
// gateways with 32 meters each. Tests use it as their fixture too.
//
// The demo is a client of the production path (issue 17): every row comes
// from the store functions the set-up API calls, after the same checks
// (domain/setup), and the meters come in as a meter import built in memory
// (store/meterimport.ApplySheet, as POST .../meters/import takes a sheet).
// So the demo is proof that the API can build a whole project. It holds no
// SQL of its own; demo_test.go checks that.
package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/devices/profile"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	meterimportdom "github.com/voltflow/voltflow/domain/meterimport"
	"github.com/voltflow/voltflow/domain/setup"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/customer"
	meterimportstore "github.com/voltflow/voltflow/store/meterimport"
	"github.com/voltflow/voltflow/store/operator"
	"github.com/voltflow/voltflow/store/organisation"
	"github.com/voltflow/voltflow/store/site"
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
// run` keeps all state). Each step is its own transaction, as each API
// request is: a load cut short leaves the project in place and a second
// Load then keeps it as it is; start again from an empty database.
func Load(ctx context.Context, db *store.DB, o Options) (Loaded, error) {
	var out Loaded
	id, err := operator.ProjectID(ctx, db, o.Project)
	if err == nil {
		out.ProjectID = id
		return out, nil
	}
	if !errors.Is(err, operator.ErrNotFound) {
		return out, err
	}
	out.Created = true
	if out.ProjectID, err = project(ctx, db, o); err != nil {
		return out, err
	}
	if err := operators(ctx, db, out.ProjectID, o); err != nil {
		return out, err
	}
	// The area manager (片区经理) gets every meter's alarms with the tenant (seed 002).
	if err := organisation.AddAlarmRecipient(ctx, db, out.ProjectID, "13900000000", "Area manager", "manager"); err != nil {
		return out, err
	}
	floors, err := sites(ctx, db, out.ProjectID, len(o.GatewayPorts))
	if err != nil {
		return out, err
	}
	meters, err := importMeters(ctx, db, out.ProjectID, o)
	if err != nil {
		return out, err
	}
	for _, m := range meters {
		if err := openAccount(ctx, db, out.ProjectID, floors[m.gateway], m.meterNo, m.n); err != nil {
			return out, err
		}
	}
	return out, addTariffs(ctx, db, out.ProjectID, o)
}

// project creates the organisation (kept if it exists: two demo projects
// may share one) and the project, as POST /organisations and /projects.
func project(ctx context.Context, db *store.DB, o Options) (string, error) {
	if p := setup.CheckCode(o.Organisation, o.Organisation); p != nil {
		return "", fmt.Errorf("organisation %q: %w", o.Organisation, p)
	}
	if _, err := organisation.Create(ctx, db, o.Organisation, o.Organisation); err != nil && !errors.Is(err, organisation.ErrExists) {
		return "", err
	}
	name := o.Project + " (shopping mall)"
	if p := setup.CheckCode(o.Project, name); p != nil {
		return "", fmt.Errorf("project %q: %w", o.Project, p)
	}
	// No creator: the operators below get their roles, the admin's included.
	p, err := organisation.CreateProject(ctx, db, o.Organisation, o.Project, name, "")
	if err != nil {
		return "", err
	}
	return p.ID, nil
}

// operators creates the demo's operators in the project's organisation
// (an operator that exists is kept: another demo project's) and grants
// their roles, as POST /operators and /operators/{username}/roles. The
// password policy is not applied: the contract's demo passwords are the
// defaults (admin / admin) that a production start refuses.
func operators(ctx context.Context, db *store.DB, projectID string, o Options) error {
	orgID, err := operator.OrganisationOfProject(ctx, db, projectID)
	if err != nil {
		return err
	}
	for _, op := range o.Operators {
		if p := setup.CheckUsername(op.Username); p != nil {
			return fmt.Errorf("operator %q: %w", op.Username, p)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(op.Password), o.BcryptCost)
		if err != nil {
			return err
		}
		id, err := operator.Create(ctx, db, operator.New{Username: op.Username, DisplayName: op.Username,
			PasswordHash: string(hash), OrganisationID: orgID, PlatformAdmin: op.PlatformAdmin})
		if errors.Is(err, operator.ErrExists) {
			var existing operator.Operator
			existing, err = operator.ByUsername(ctx, db, op.Username)
			id = existing.ID
		}
		if err != nil {
			return fmt.Errorf("operator %s: %w", op.Username, err)
		}
		for _, r := range op.Roles {
			if p := setup.CheckRole(r); p != nil {
				return fmt.Errorf("operator %s: %w", op.Username, p)
			}
			if err := operator.AddRole(ctx, db, id, operator.Grant{ProjectID: projectID, Role: r}); err != nil {
				return fmt.Errorf("operator %s: %w", op.Username, err)
			}
		}
	}
	return nil
}

// sites builds the mall's tree, as POST .../sites: Building A with one
// floor per gateway. It answers the floors' ids, in gateway order.
func sites(ctx context.Context, db *store.DB, projectID string, floors int) ([]string, error) {
	add := func(name string, level int, parent *string) (string, error) {
		if p := setup.CheckSite(name, level); p != nil {
			return "", fmt.Errorf("site %q: %w", name, p)
		}
		s, err := site.Create(ctx, db, projectID, name, level, parent)
		if err != nil {
			return "", fmt.Errorf("site %q: %w", name, err)
		}
		return s.ID, nil
	}
	building, err := add("Building A", 1, nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, floors)
	for i := range out {
		if out[i], err = add("Floor "+strconv.Itoa(i+1), 2, &building); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// demoMeter is one meter of the sheet.
type demoMeter struct {
	meterNo string
	gateway int // index into Options.GatewayPorts
	n       int // the meter's number
}

// importMeters sends the gateways and meters through the meter import, as
// a CSV sheet uploaded to POST .../meters/import would be: one row a meter.
func importMeters(ctx context.Context, db *store.DB, projectID string, o Options) ([]demoMeter, error) {
	heading := []string{meterimportdom.ColMeterNo, meterimportdom.ColGateway, meterimportdom.ColProtocol,
		meterimportdom.ColGatewayAddress, meterimportdom.ColUnitAddress, meterimportdom.ColProfile,
		meterimportdom.ColPrepaidMode, meterimportdom.ColPrice, meterimportdom.ColAlarm1, meterimportdom.ColAlarm2}
	var meters []demoMeter
	var rows [][]string
	n := o.FirstMeter
	for g, port := range o.GatewayPorts {
		gateway, address := fmt.Sprintf("GW-%02d", g+1), fmt.Sprintf("%s:%d", o.GatewayHost, port)
		for u := 1; u <= o.MetersPerGW; u++ {
			m := demoMeter{meterNo: fmt.Sprintf("%s%04d", o.MeterPrefix, n), gateway: g, n: n}
			mode := "meter"
			if m.meterNo == o.PlatformMeter {
				mode = "platform"
			}
			rows = append(rows, []string{m.meterNo, gateway, meterimportdom.ModbusTCP, address, strconv.Itoa(u),
				profile.RefPrepaidV1, mode, o.Price, o.Alarm1, o.Alarm2})
			meters = append(meters, m)
			n++
		}
	}
	if o.PlatformMeter != "" && !slices.ContainsFunc(meters, func(m demoMeter) bool { return m.meterNo == o.PlatformMeter }) {
		return nil, fmt.Errorf("platform-side meter %s: no such meter in the demo", o.PlatformMeter)
	}
	next := func() ([]string, bool, error) {
		if len(rows) == 0 {
			return nil, false, nil
		}
		row := rows[0]
		rows = rows[1:]
		return row, true, nil
	}
	profiles := profile.Names()
	res, problems, err := meterimportstore.ApplySheet(ctx, db, projectID, heading,
		func(name string) bool { return slices.Contains(profiles, name) }, next, false)
	if err != nil {
		return nil, err
	}
	if problems.Count > 0 {
		return nil, fmt.Errorf("meter import: %d problems, first %s", problems.Count, problems.List[0])
	}
	if res.MetersCreated != len(meters) {
		return nil, fmt.Errorf("meter import: %d meters created of %d", res.MetersCreated, len(meters))
	}
	return meters, nil
}

// openAccount gives a meter its shop, its tenant and the tenant's account
// (开户), as POST .../units, .../customers and .../accounts.
func openAccount(ctx context.Context, db *store.DB, projectID, floor, meterNo string, n int) error {
	unit := site.Unit{Code: "SHOP-" + meterNo, Name: "Shop " + meterNo, SiteID: floor}
	if p := setup.CheckCode(unit.Code, unit.Name); p != nil {
		return fmt.Errorf("unit %s: %w", unit.Code, p)
	}
	unit, err := site.CreateUnit(ctx, db, projectID, unit)
	if err != nil {
		return err
	}
	tenant := customer.Customer{Name: "Tenant " + meterNo, Phone: fmt.Sprintf("1380000%04d", n), Kind: "person"}
	if p := setup.CheckCustomer(tenant.Name, tenant.Phone, tenant.Kind); p != nil {
		return fmt.Errorf("customer %s: %w", tenant.Name, p)
	}
	if tenant, err = customer.Create(ctx, db, projectID, tenant); err != nil {
		return err
	}
	if _, err := customer.OpenAccount(ctx, db, projectID, customer.Account{CustomerID: tenant.ID, UnitID: unit.ID,
		Meters: []string{meterNo}}); err != nil {
		return fmt.Errorf("account of %s: %w", meterNo, err)
	}
	return nil
}
