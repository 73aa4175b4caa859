package voucher

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

type summaryRow struct {
	Account                                                             string
	Opening, Recharged, Consumed, Refunded, VoucherPaid, Other, Closing string
}

// TestFinanceReports: 账户信息汇总 balances per account to the cent; the
// detail, sales and invoice reports answer JSON and Excel.
func TestFinanceReports(t *testing.T) {
	stack.CheckLedger(t)
	a := login(t)
	m := stack.UnsoldMeter(t, "M0006", "M0010") // an empty wallet, whatever earlier runs sold
	rid := recharged(t, a.cashier, m, "123.45")
	day := time.Now().In(time.FixedZone("CST", 8*3600))
	from, to := day.AddDate(0, 0, -1).Format(time.DateOnly), day.AddDate(0, 0, 2).Format(time.DateOnly)
	period := "from=" + from + "&to=" + to

	var summary struct{ Items []summaryRow }
	mustCall(t, a.approver, "GET", "/api/v1/finance-reports/account-summary?limit=500&"+period, nil, http.StatusOK, &summary)
	found := false
	for _, r := range summary.Items {
		sum := add(t, add(t, add(t, add(t, add(t, r.Opening, r.Recharged), "-"+r.Consumed), "-"+r.Refunded), "-"+r.VoucherPaid), r.Other)
		if sum != add(t, r.Closing, "0") {
			t.Errorf("%s does not balance: %+v", r.Account, r)
		}
		if r.Account == wallet(m) {
			found = r.Recharged == "123.45" && r.Closing == "123.45"
		}
	}
	if !found {
		t.Fatalf("no summary row for %s: %+v", wallet(m), summary.Items)
	}

	var detail struct{ Items []struct{ ID, Amount string } }
	mustCall(t, a.cashier, "GET", "/api/v1/finance-reports/recharge-detail?meterNo="+m+"&"+period, nil, http.StatusOK, &detail)
	if len(detail.Items) != 1 || detail.Items[0].ID != rid || detail.Items[0].Amount != "123.45" {
		t.Fatalf("recharge detail %+v", detail.Items)
	}
	for _, g := range []string{"day", "month", "year"} {
		var sales struct {
			Items []struct{ Period, Recharged string }
		}
		mustCall(t, a.cashier, "GET", "/api/v1/finance-reports/sales?granularity="+g+"&"+period, nil, http.StatusOK, &sales)
		if len(sales.Items) == 0 || sales.Items[0].Recharged == "0.00" {
			t.Fatalf("%s sales %+v", g, sales.Items)
		}
	}
	for _, name := range []string{"account-summary", "recharge-detail", "refund-detail", "sales", "invoices"} {
		code, raw, ctype := a.cashier.DoRaw(t, "GET", fmt.Sprintf("/api/v1/finance-reports/%s?format=xlsx&%s", name, period), nil)
		if code != http.StatusOK || ctype != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || len(raw) < 100 {
			t.Fatalf("%s export: %d %s", name, code, raw)
		}
	}
	code, p := call(t, a.cashier, "GET", "/api/v1/finance-reports/sales?granularity=week&"+period, nil, nil)
	refused(t, "weekly sales", code, p, http.StatusUnprocessableEntity, "invalid_field")
	code, p = call(t, a.cashier, "GET", "/api/v1/finance-reports/account-summary", nil, nil)
	refused(t, "no period", code, p, http.StatusUnprocessableEntity, "invalid_field")
}
