package bill

import (
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

func lines(amounts ...string) []Line {
	var out []Line
	for _, a := range amounts {
		out = append(out, Line{Ref: "r" + a, Amount: money.MustParse(a)})
	}
	return out
}

func TestCloseBalancesToTheCent(t *testing.T) {
	for _, c := range []struct {
		opening            string
		consumption, repay []string
		closing            string
	}{
		{"0", []string{"0.10", "0.20"}, nil, "0.30"}, // no binary-float drift
		{"100.01", []string{"33.33", "33.33", "33.34"}, []string{"50.00"}, "150.01"},
		{"20.00", nil, []string{"20.00"}, "0.00"},
	} {
		s := Close(money.MustParse(c.opening), lines(c.consumption...), lines(c.repay...))
		if s.Closing.String() != c.closing {
			t.Errorf("%+v: closing %s, want %s", c, s.Closing, c.closing)
		}
		if err := s.Check(money.MustParse(c.closing)); err != nil {
			t.Error(err)
		}
		if err := s.Check(money.MustParse(c.closing).Add(money.MustParse("0.01"))); err == nil {
			t.Errorf("%+v: a ledger one cent off passed the check", c)
		}
	}
}

func TestAllocateOldestFirst(t *testing.T) {
	m := money.MustParse
	bills := []Due{{"b1", m("100.00"), m("100.00")}, {"b2", m("50.00"), m("10.00")}, {"b3", m("70.00"), m("0")}}
	changed, left := Allocate(bills, m("60.00"))
	if len(changed) != 2 || changed[0].BillID != "b2" || changed[0].Paid.String() != "50.00" ||
		changed[1].BillID != "b3" || changed[1].Paid.String() != "20.00" || !left.IsZero() {
		t.Fatalf("changed %+v left %s", changed, left)
	}
	changed, left = Allocate(bills[2:], m("100.00"))
	if len(changed) != 1 || changed[0].Outstanding().String() != "0.00" || left.String() != "30.00" {
		t.Fatalf("changed %+v left %s", changed, left)
	}
	if changed, _ := Allocate(bills, money.Zero); len(changed) != 0 {
		t.Fatalf("nothing to allocate changed %+v", changed)
	}
}

func TestEscalation(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	due, suspend := t0.Add(time.Hour), t0.Add(2*time.Hour)
	owed, none := money.MustParse("1.00"), money.Zero
	for _, c := range []struct {
		name                string
		at                  time.Time
		owed                money.Amount
		reminded, suspended bool
		want                Step
	}{
		{"before due", t0, owed, false, false, Nothing},
		{"at due", due, owed, false, false, Remind},
		{"reminded, in grace", due.Add(time.Minute), owed, true, false, Nothing},
		{"grace over", suspend, owed, true, false, Suspend},
		{"grace over without reminder", suspend, owed, false, false, Suspend},
		{"already suspended", suspend.Add(time.Hour), owed, true, true, Nothing},
		{"paid", suspend, none, false, false, Nothing},
	} {
		if got := Escalation(c.at, due, suspend, c.owed, c.reminded, c.suspended); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestRenderListsEveryLine(t *testing.T) {
	s := Close(money.MustParse("10.00"), lines("1.11", "2.22"), lines("5.00"))
	text := Render(Header{EnterpriseName: "Acme", EnterpriseCode: "ACME", CycleNo: 2}, s)
	for _, want := range []string{"Opening balance: 10.00", "1.11", "2.22", "Consumption: 3.33", "Payments: 5.00", "Closing balance: 8.33"} {
		if !strings.Contains(text, want) {
			t.Errorf("bill text lacks %q:\n%s", want, text)
		}
	}
}
