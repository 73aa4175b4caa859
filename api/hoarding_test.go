package api_test

import (
	"fmt"
	"testing"

	"github.com/voltflow/voltflow/api"
	"github.com/voltflow/voltflow/domain/money"
)

// TestHoardingCapRefusesSale sells above the project's hoarding cap
// (囤积金额上限): the sale is refused with its code and leaves no recharge
// and no ledger entry, whether the meter's remaining money or a sale still
// on its way takes it over.
func TestHoardingCapRefusesSale(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	ctx := t.Context()
	var meterID, meterNo string
	var remaining money.Amount
	if err := db.QueryRow(ctx, `select m.id::text, m.meter_no, coalesce(s.remaining, 0) from meters m
		join projects p on p.id=m.project_id left join meter_state s on s.meter_id=m.id
		where p.code='demo' and m.prepaid_mode <> 'platform' order by m.meter_no limit 1`).Scan(&meterID, &meterNo, &remaining); err != nil {
		t.Fatal(err)
	}
	limit := remaining.Add(money.MustParse("50.00"))
	if code, b := send(t, srv, admin, "PUT", "/api/v1/projects/demo/settings",
		`{"autoApproveUpTo":"500.00","hoardingCap":"`+limit.String()+`","alarm1":"0","alarm2":"0"}`); code != 200 {
		t.Fatalf("settings: %d %s", code, b)
	}
	count := func(t *testing.T, sql string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		name, pending, amount string
	}{
		{"remaining plus the sale", "", "50.01"},
		{"a sale on its way counts", "40.00", "10.01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.pending != "" {
				if _, err := db.Exec(ctx, `insert into recharges(id, project_id, meter_id, meter_no, transaction_no, amount,
					status, needs_approval, workflow_id, created_by) select gen_random_uuid(), project_id, id, meter_no,
					'pending-1', $2, 'dispatching', false, 'recharge/pending-1', (select id from operators limit 1) from meters where id=$1`, meterID, c.pending); err != nil {
					t.Fatal(err)
				}
			}
			recharges, entries := count(t, `select count(*) from recharges`), count(t, `select count(*) from journal_entries`)
			code, b := send(t, srv, admin, "POST", "/api/v1/recharges",
				fmt.Sprintf(`{"meterNo":%q,"amount":%q,"transactionNo":"cap-1"}`, meterNo, c.amount))
			if code != 422 || problemCode(b) != api.CodeHoardingCapExceeded {
				t.Fatalf("sale above the cap: %d %s, want 422 %s", code, b, api.CodeHoardingCapExceeded)
			}
			if n := count(t, `select count(*) from recharges`); n != recharges {
				t.Errorf("recharges %d after a refused sale, want %d", n, recharges)
			}
			if n := count(t, `select count(*) from journal_entries`); n != entries {
				t.Errorf("ledger entries %d after a refused sale, want %d", n, entries)
			}
		})
	}
}
