package demo_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/tariff"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// TestPlatformMeterWithTOUTariff: the demo's TOU tariff is valid and, with
// PlatformMeter set, prices that one meter, which is platform-side.
func TestPlatformMeterWithTOUTariff(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.BcryptCost, o.MetersPerGW, o.GatewayPorts, o.PlatformMeter = 4, 4, []int{1, 2}, "M0006"
	o.BookTx = func(ctx context.Context, tx pgx.Tx, projectID string, e ledgerdom.Entry) error {
		_, err := ledgerstore.BookTx(ctx, tx, projectID, e)
		return err
	}
	if _, err := demo.Load(ctx, db, o); err != nil {
		t.Fatal(err)
	}
	var spec []byte
	var meters, platform int
	var meterNo string
	if err := db.QueryRow(ctx, `select t.spec, (select count(*) from meter_tariffs mt where mt.tariff_id=t.id),
			(select count(*) from meters where prepaid_mode='platform'),
			(select m.meter_no from meter_tariffs mt join meters m on m.id=mt.meter_id where mt.tariff_id=t.id)
		from tariffs t where t.code=$1`, demo.TOUTariffCode).Scan(&spec, &meters, &platform, &meterNo); err != nil {
		t.Fatal(err)
	}
	var tt tariff.Tariff
	if err := json.Unmarshal(spec, &tt); err != nil {
		t.Fatal(err)
	}
	if err := tt.Validate(); err != nil || tt.Kind != tariff.TOU {
		t.Fatalf("TOU-DEMO %+v: %v", tt, err)
	}
	if meters != 1 || platform != 1 || meterNo != "M0006" {
		t.Fatalf("%d meters on TOU-DEMO (%s), %d platform-side; want M0006 alone", meters, meterNo, platform)
	}
	// Its opening balance (default 50.00) is in its wallet, taken as cash.
	for _, c := range []struct{ code, want string }{{"meter-wallet:M0006", "-50.00"}, {"cash", "50.00"}} {
		var bal string
		if err := db.QueryRow(ctx, `select a.balance::text from ledger_accounts a join projects p on p.id=a.project_id
			where p.code='demo' and a.code=$1`, c.code).Scan(&bal); err != nil || bal != c.want {
			t.Fatalf("account %s balance %s (%v), want %s", c.code, bal, err, c.want)
		}
	}
	// A meter number that is not in the demo is an error, not a silent no-op.
	o.Project, o.Organisation, o.MeterPrefix, o.PlatformMeter, o.Operators = "p2", "o2", "Q", "M0006", nil
	o.GatewayPorts = []int{3}
	if _, err := demo.Load(ctx, db, o); err == nil || !strings.Contains(err.Error(), "no such meter") {
		t.Fatalf("PlatformMeter naming no meter of the project: %v", err)
	}
	o.PlatformMeter = "Q0002"
	if _, err := demo.Load(ctx, db, o); err != nil {
		t.Fatal(err)
	}
}
