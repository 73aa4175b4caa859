// Package bill holds the rules of an enterprise's credit bill (账单): the
// statement of one billing cycle, how repayments settle bills oldest first
// until a bill is written off (核销), and how an unpaid bill escalates —
// a reminder once it is overdue, credit suspension after a grace period.
package bill

import (
	"fmt"
	"strings"
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

// Line is one consumption or payment in a cycle.
type Line struct {
	At          time.Time    `json:"at"`
	Ref         string       `json:"ref"` // consumption key or repayment transactionNo
	Description string       `json:"description"`
	Amount      money.Amount `json:"amount"`
}

// Statement is a closed cycle: opening + consumption − payments = closing.
type Statement struct {
	Opening     money.Amount `json:"openingBalance"`
	Consumption money.Amount `json:"consumption"`
	Payments    money.Amount `json:"payments"`
	Closing     money.Amount `json:"closingBalance"`
	Lines       []Line       `json:"consumptionLines"`
	PaymentList []Line       `json:"paymentLines"`
}

// Close builds the statement of a cycle from the previous closing balance
// and the cycle's lines.
func Close(opening money.Amount, consumption, payments []Line) Statement {
	s := Statement{Opening: opening, Lines: consumption, PaymentList: payments}
	for _, l := range consumption {
		s.Consumption = s.Consumption.Add(l.Amount)
	}
	for _, l := range payments {
		s.Payments = s.Payments.Add(l.Amount)
	}
	s.Closing = opening.Add(s.Consumption).Sub(s.Payments)
	return s
}

// Check verifies a statement against its lines and the ledger's balance of
// the receivable at closing: a bill that does not balance to the cent is
// never issued.
func (s Statement) Check(ledgerBalance money.Amount) error {
	again := Close(s.Opening, s.Lines, s.PaymentList)
	if !again.Closing.Equal(s.Closing) || !again.Consumption.Equal(s.Consumption) || !again.Payments.Equal(s.Payments) {
		return fmt.Errorf("statement sums differ from its lines: %+v", s)
	}
	if !s.Closing.Equal(ledgerBalance) {
		return fmt.Errorf("closing balance %s differs from the ledger's %s", s.Closing, ledgerBalance)
	}
	return nil
}

// Status of a bill.
type Status string

const (
	Issued     Status = "issued"      // sent, not yet due or not yet paid
	Overdue    Status = "overdue"     // past due and reminded (催款)
	WrittenOff Status = "written_off" // fully repaid (核销)
)

// Due is what one bill asks for (its cycle's consumption) and what has
// been allocated to it so far.
type Due struct {
	BillID string       `json:"billId"`
	Amount money.Amount `json:"amount"`
	Paid   money.Amount `json:"paid"`
}

// Outstanding is what is still unpaid.
func (d Due) Outstanding() money.Amount { return d.Amount.Sub(d.Paid) }

// Allocate spends available (repaid money not yet allocated) on the bills,
// oldest first, and returns the bills whose paid amount changed, with the
// money left over (it waits for the next bill).
func Allocate(bills []Due, available money.Amount) (changed []Due, left money.Amount) {
	left = available
	for _, b := range bills {
		if !left.IsPositive() {
			break
		}
		out := b.Outstanding()
		if !out.IsPositive() {
			continue
		}
		take := out
		if left.Cmp(out) < 0 {
			take = left
		}
		b.Paid = b.Paid.Add(take)
		left = left.Sub(take)
		changed = append(changed, b)
	}
	return changed, left
}

// Step is what escalation does next to an unpaid bill.
type Step string

const (
	Nothing Step = ""
	Remind  Step = "remind"  // overdue: send a reminder (催款提醒)
	Suspend Step = "suspend" // grace over: suspend credit (停用信用)
)

// Escalation decides the next step for a bill at a moment.
func Escalation(now, dueAt, suspendAt time.Time, outstanding money.Amount, reminded, suspended bool) Step {
	switch {
	case !outstanding.IsPositive():
		return Nothing
	case !now.Before(suspendAt) && !suspended:
		return Suspend
	case !now.Before(dueAt) && !reminded:
		return Remind
	}
	return Nothing
}

// Cycle times of a bill, from the end of its period.
type Cycle struct {
	Length      time.Duration `json:"length"`      // one billing cycle
	DueAfter    time.Duration `json:"dueAfter"`    // from issue to due date
	SuspendWait time.Duration `json:"suspendWait"` // from due date to suspension (grace)
}

// Defaults: a 30-day cycle, payable within 15 days, 15 days' grace.
func (c Cycle) WithDefaults() Cycle {
	if c.Length <= 0 {
		c.Length = 30 * 24 * time.Hour
	}
	if c.DueAfter <= 0 {
		c.DueAfter = 15 * 24 * time.Hour
	}
	if c.SuspendWait <= 0 {
		c.SuspendWait = 15 * 24 * time.Hour
	}
	return c
}

// Header identifies a bill in its text.
type Header struct {
	EnterpriseName string
	EnterpriseCode string
	CycleNo        int
	PeriodStart    time.Time
	PeriodEnd      time.Time
	DueAt          time.Time
}

// Render is the bill as the e-mail's plain text.
func Render(h Header, s Statement) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Bill %d for %s (%s)\n", h.CycleNo, h.EnterpriseName, h.EnterpriseCode)
	fmt.Fprintf(&b, "Period: %s – %s\nDue: %s\n\n", h.PeriodStart.Format(time.RFC3339), h.PeriodEnd.Format(time.RFC3339), h.DueAt.Format(time.RFC3339))
	fmt.Fprintf(&b, "Opening balance: %s\n", s.Opening)
	for _, l := range s.Lines {
		fmt.Fprintf(&b, "  + %s  %s  %s\n", l.Amount, l.Ref, l.Description)
	}
	fmt.Fprintf(&b, "Consumption: %s\n", s.Consumption)
	for _, l := range s.PaymentList {
		fmt.Fprintf(&b, "  - %s  %s\n", l.Amount, l.Ref)
	}
	fmt.Fprintf(&b, "Payments: %s\nClosing balance: %s\n", s.Payments, s.Closing)
	return b.String()
}
