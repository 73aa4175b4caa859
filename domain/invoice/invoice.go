// Package invoice holds the rules of invoicing (开票, F6): an application
// names paid transactions (completed recharges), a title (抬头) and a tax id
// (税号); an approver decides; an issued invoice gets its number and keeps
// its transactions invoiced, so none is ever invoiced twice.
package invoice

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

// Status of an invoice.
type Status string

const (
	PendingApproval Status = "pending_approval"
	Issued          Status = "issued"
	Rejected        Status = "rejected"
)

// MaxLines bounds the transactions of one invoice.
const MaxLines = 500

// Application is what a cashier applies for.
type Application struct {
	Title       string
	TaxID       string
	RechargeIDs []string
}

// Errors of the rules.
var (
	ErrTitle    = errors.New("title must be 1-200 characters")
	ErrTaxID    = errors.New("taxId must be 15-20 letters or digits (统一社会信用代码 or 纳税人识别号)")
	ErrNoLines  = fmt.Errorf("an invoice names 1..%d recharges", MaxLines)
	ErrRepeated = errors.New("a recharge is named twice")
	ErrNotPaid  = errors.New("only a completed recharge can be invoiced")
	ErrInvoiced = errors.New("a recharge is already invoiced or held by another application")
)

var taxID = regexp.MustCompile(`^[0-9A-Z]{15,20}$`)

// Validate checks an application's own fields.
func (a Application) Validate() error {
	if n := len([]rune(strings.TrimSpace(a.Title))); n == 0 || n > 200 {
		return ErrTitle
	}
	if !taxID.MatchString(a.TaxID) {
		return ErrTaxID
	}
	if len(a.RechargeIDs) == 0 || len(a.RechargeIDs) > MaxLines {
		return ErrNoLines
	}
	seen := map[string]bool{}
	for _, id := range a.RechargeIDs {
		if seen[id] {
			return fmt.Errorf("%s: %w", id, ErrRepeated)
		}
		seen[id] = true
	}
	return nil
}

// Line is one transaction as found at application.
type Line struct {
	RechargeID string
	Amount     money.Amount
	Completed  bool
}

// Total checks the lines and sums them.
func Total(lines []Line) (money.Amount, error) {
	sum := money.Zero
	for _, l := range lines {
		if !l.Completed {
			return money.Zero, fmt.Errorf("recharge %s: %w", l.RechargeID, ErrNotPaid)
		}
		sum = sum.Add(l.Amount)
	}
	return sum, nil
}

// Number is an issued invoice's number: FP, the China-time issue date and a
// sequence.
func Number(at time.Time, seq int64) string {
	return fmt.Sprintf("FP%s%08d", at.In(time.FixedZone("CST", 8*3600)).Format("20060102"), seq)
}
