package demo

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
)

// TOUTariffCode is the demo project's time-of-use tariff (尖峰平谷).
const TOUTariffCode = "TOU-DEMO"

// demoTOU is TOU-DEMO's spec (domain/tariff.Tariff as JSON), China
// Standard Time: valley 23:00–08:00, flat 08:00–10:00 and 21:00–23:00, peak
// 10:00–18:00, sharp 18:00–21:00.
const demoTOU = `{"kind":"tou","prices":{"sharp":"1.5000","peak":"1.2000","flat":"0.8000","valley":"0.4000"},
	"schedule":[{"startMinute":0,"period":"valley"},{"startMinute":480,"period":"flat"},{"startMinute":600,"period":"peak"},
	{"startMinute":1080,"period":"sharp"},{"startMinute":1260,"period":"flat"},{"startMinute":1380,"period":"valley"}],
	"utcOffsetMinutes":480}`

// addTariffs stores TOU-DEMO in the project and, if o.PlatformMeter names
// one of its meters, makes that meter platform-side (主站费控) priced by it.
func addTariffs(ctx context.Context, tx pgx.Tx, projectID string, o Options) error {
	id := uuid.NewString()
	if _, err := tx.Exec(ctx, `insert into tariffs(id, project_id, code, name, spec) values($1,$2,$3,$4,$5)`,
		id, projectID, TOUTariffCode, "Time of use (尖峰平谷)", demoTOU); err != nil {
		return fmt.Errorf("tariff %s: %w", TOUTariffCode, err)
	}
	if o.PlatformMeter == "" {
		return nil
	}
	tag, err := tx.Exec(ctx, `with m as (update meters set prepaid_mode='platform' where project_id=$1 and meter_no=$2 returning id)
		insert into meter_tariffs(meter_id, tariff_id) select id, $3 from m`, projectID, o.PlatformMeter, id)
	if err != nil {
		return fmt.Errorf("platform-side meter %s: %w", o.PlatformMeter, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("platform-side meter %s: no such meter in the demo", o.PlatformMeter)
	}
	opening := o.PlatformOpening
	if opening == "" {
		opening = "50.00"
	}
	amount, err := money.Parse(opening)
	if err != nil || amount.IsNegative() {
		return fmt.Errorf("opening balance %q of platform-side meter %s: want a non-negative amount (%v)", opening, o.PlatformMeter, err)
	}
	if amount.IsZero() {
		return nil
	}
	e := ledgerdom.Transfer("demo/opening/"+o.PlatformMeter, "recharge", "demo opening balance of platform-side meter "+o.PlatformMeter,
		ledgerdom.Posting{Account: ledgerdom.MeterWallet(o.PlatformMeter), Kind: ledgerdom.Liability},
		ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}, amount)
	if o.BookTx == nil {
		return fmt.Errorf("opening balance of platform-side meter %s: Options.BookTx not set", o.PlatformMeter)
	}
	if err := o.BookTx(ctx, tx, projectID, e); err != nil {
		return fmt.Errorf("opening balance of platform-side meter %s: %w", o.PlatformMeter, err)
	}
	return nil
}
