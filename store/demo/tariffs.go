package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/domain/setup"
	"github.com/voltflow/voltflow/domain/tariff"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/tariffs"
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

// addTariffs stores TOU-DEMO in the project, as POST .../tariffs, and, if
// o.PlatformMeter names one of its meters (imported platform-side), prices
// that meter by it, as PUT /meters/{meterNo}/tariff, and books its opening
// balance.
func addTariffs(ctx context.Context, db *store.DB, projectID string, o Options) error {
	if p := setup.CheckTariffCode(TOUTariffCode); p != nil {
		return fmt.Errorf("tariff %s: %w", TOUTariffCode, p)
	}
	var tou tariff.Tariff
	if err := json.Unmarshal([]byte(demoTOU), &tou); err != nil {
		return fmt.Errorf("tariff %s: %w", TOUTariffCode, err)
	}
	if err := tou.Validate(); err != nil {
		return fmt.Errorf("tariff %s: %w", TOUTariffCode, err)
	}
	if _, err := tariffs.Create(ctx, db, projectID, TOUTariffCode, "Time of use (尖峰平谷)", tou); err != nil {
		return err
	}
	if o.PlatformMeter == "" {
		return nil
	}
	if err := tariffs.Assign(ctx, db, projectID, o.PlatformMeter, TOUTariffCode); err != nil {
		return fmt.Errorf("platform-side meter %s: %w", o.PlatformMeter, err)
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
	if err := store.InTx(ctx, db, func(tx pgx.Tx) error { return o.BookTx(ctx, tx, projectID, e) }); err != nil {
		return fmt.Errorf("opening balance of platform-side meter %s: %w", o.PlatformMeter, err)
	}
	return nil
}
