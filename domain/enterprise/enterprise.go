// Package enterprise holds the rules of enterprise customers (企业客户):
// their records, staff and cards, and the prepaid wallet an enterprise
// recharge fills (企业充值: apply → review → book).
package enterprise

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
)

// Errors of validation; each maps to an API problem code and field.
var (
	ErrCode          = errors.New("code must be 1-32 characters of letters, digits, '-', '_'")
	ErrName          = errors.New("name must be 1-200 characters")
	ErrEmail         = errors.New("email must be one valid address")
	ErrPhone         = errors.New("phone must be at most 32 characters")
	ErrCardNo        = errors.New("card numbers must be 1-32 characters of letters and digits")
	ErrTransactionNo = rechargedom.ErrTransactionNo
	ErrAmount        = errors.New("amount must be greater than zero")
	ErrAmountTooBig  = errors.New("amount exceeds the limit of one recharge")
)

var (
	codeSyntax = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	cardSyntax = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)
	txSyntax   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// Enterprise is an enterprise customer.
type Enterprise struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Email string `json:"email"` // where bills are sent
	Phone string `json:"phone"`
}

// Validate checks a new enterprise; the error names the field.
func (e Enterprise) Validate() (field string, err error) {
	switch {
	case !codeSyntax.MatchString(e.Code):
		return "code", ErrCode
	case strings.TrimSpace(e.Name) == "" || len(e.Name) > 200:
		return "name", ErrName
	case len(e.Phone) > 32:
		return "phone", ErrPhone
	}
	if a, err := mail.ParseAddress(e.Email); err != nil || a.Address != e.Email {
		return "email", ErrEmail
	}
	return "", nil
}

// Staff is one member of an enterprise with the cards they charge with.
type Staff struct {
	Name  string   `json:"name"`
	Phone string   `json:"phone"`
	Cards []string `json:"cards"`
}

// Validate checks a staff record.
func (s Staff) Validate() (field string, err error) {
	if strings.TrimSpace(s.Name) == "" || len(s.Name) > 200 {
		return "name", ErrName
	}
	if len(s.Phone) > 32 {
		return "phone", ErrPhone
	}
	for _, c := range s.Cards {
		if !cardSyntax.MatchString(c) {
			return "cards", fmt.Errorf("%q: %w", c, ErrCardNo)
		}
	}
	return "", nil
}

// RechargeRequest is what a cashier applies for.
type RechargeRequest struct {
	EnterpriseID  string
	Amount        money.Amount
	TransactionNo string
}

// Validate checks a recharge against the foundation's cap of one sale.
func (r RechargeRequest) Validate() (field string, err error) {
	if !txSyntax.MatchString(r.TransactionNo) {
		return "transactionNo", ErrTransactionNo
	}
	if !r.Amount.IsPositive() {
		return "amount", ErrAmount
	}
	if max := rechargedom.DefaultPolicy().MaxAmount; r.Amount.GreaterThan(max) {
		return "amount", fmt.Errorf("%s > %s: %w", r.Amount, max, ErrAmountTooBig)
	}
	return "", nil
}

// Same reports whether a repeated transactionNo carries the same request.
func (r RechargeRequest) Same(o RechargeRequest) bool {
	return r.EnterpriseID == o.EnterpriseID && r.TransactionNo == o.TransactionNo && r.Amount.Equal(o.Amount)
}

// WalletPrefix starts the liability account of an enterprise's prepaid wallet.
const WalletPrefix = "enterprise-wallet:"

// Wallet is the prepaid wallet of one enterprise (by its code).
func Wallet(code string) string { return WalletPrefix + code }

// RechargeEntry books an approved enterprise recharge: cash in, held for
// the enterprise in its wallet.
func RechargeEntry(key, code string, amount money.Amount) ledgerdom.Entry {
	return ledgerdom.Transfer(key, "enterprise-recharge", "recharge of enterprise "+code,
		ledgerdom.Posting{Account: Wallet(code), Kind: ledgerdom.Liability},
		ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}, amount)
}
