// Package voucher holds the rules of vouchers (代金券, F5): a batch is applied
// for (电子券申请), reviewed, issued to customers — one by one or by an issuing
// group (发券组) — and the issuance reviewed again; a voucher pays part of a
// recharge (redemption), can be voided with review (作废) and expires.
//
// Vouchers are not cash: their value lives in its own ledger accounts and a
// refund never pays it out.
package voucher

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

// BatchStatus of a voucher batch.
type BatchStatus string

const (
	PendingApproval  BatchStatus = "pending_approval"  // 电子券申请审核
	Approved         BatchStatus = "approved"          // may be issued
	Issuing          BatchStatus = "issuing"           // issuance waits for review (电子券发放审核)
	Issued           BatchStatus = "issued"            // vouchers exist and are booked
	Rejected         BatchStatus = "rejected"          // the application was refused
	IssuanceRejected BatchStatus = "issuance_rejected" // the issuance was refused; nothing was booked
	BatchExpired     BatchStatus = "expired"           // past its expiry; unused value booked back
)

// Status of one voucher.
type Status string

const (
	Active  Status = "active"
	Used    Status = "used" // nothing left
	Voided  Status = "voided"
	Expired Status = "expired"
)

// Ledger accounts of vouchers.
const (
	// PromotionAccount is what vouchers cost the operator (代金券营销费用): issuing
	// debits it, voiding and expiry credit the unused value back.
	PromotionAccount = "voucher-promotion"
	// AccountPrefix starts the liability account of one voucher's unused value.
	AccountPrefix = "voucher:"
	// MeterVoucherPrefix starts the liability account of the voucher-funded
	// value a meter holds: kept apart from the meter's cash wallet, so a
	// refund (退电) never pays a voucher out as cash.
	MeterVoucherPrefix = "meter-voucher:"
)

// Account is the ledger account of one voucher.
func Account(voucherNo string) string { return AccountPrefix + voucherNo }

// MeterAccount is the voucher-funded balance of one meter.
func MeterAccount(meterNo string) string { return MeterVoucherPrefix + meterNo }

// Limits of one batch.
const (
	MaxQuantity  = 10000
	MaxFaceValue = "10000.00"
)

// Application is what a cashier applies for.
type Application struct {
	Name      string
	FaceValue money.Amount
	Quantity  int
	ExpiresAt time.Time
}

// Errors of the rules; each maps to one API problem code.
var (
	ErrName          = errors.New("name must be 1-100 characters")
	ErrFaceValue     = errors.New("faceValue must be greater than zero and at most " + MaxFaceValue)
	ErrQuantity      = fmt.Errorf("quantity must be 1..%d", MaxQuantity)
	ErrExpiry        = errors.New("expiresAt must be in the future")
	ErrNoRecipients  = errors.New("an issuance names at least one customer")
	ErrTooMany       = errors.New("more recipients than the batch's quantity")
	ErrNotIssuable   = errors.New("the batch is not approved for issuance")
	ErrNotRedeemable = errors.New("the voucher cannot be redeemed")
	ErrExceedsValue  = errors.New("the amount exceeds the voucher's unused value")
	ErrExceedsSale   = errors.New("the amount exceeds what the recharge has left to pay")
	ErrNotVoidable   = errors.New("only an active voucher can be voided")
)

// Validate checks an application at time now.
func (a Application) Validate(now time.Time) error {
	if n := len([]rune(strings.TrimSpace(a.Name))); n == 0 || n > 100 {
		return ErrName
	}
	if !a.FaceValue.IsPositive() || a.FaceValue.GreaterThan(money.MustParse(MaxFaceValue)) {
		return ErrFaceValue
	}
	if a.Quantity < 1 || a.Quantity > MaxQuantity {
		return ErrQuantity
	}
	if !a.ExpiresAt.After(now) {
		return ErrExpiry
	}
	return nil
}

// CheckIssuance checks an issuance of one voucher to each recipient.
func CheckIssuance(status BatchStatus, quantity, recipients int) error {
	switch {
	case status != Approved:
		return fmt.Errorf("batch is %s: %w", status, ErrNotIssuable)
	case recipients == 0:
		return ErrNoRecipients
	case recipients > quantity:
		return fmt.Errorf("%d recipients > quantity %d: %w", recipients, quantity, ErrTooMany)
	}
	return nil
}

// Held is a voucher as a redemption finds it.
type Held struct {
	Status    Status
	ExpiresAt time.Time
	Unused    money.Amount // the ledger balance of its account
}

// CheckRedeem checks spending amount of a voucher at time now on a sale that
// has saleLeft still to be paid by vouchers.
func (h Held) CheckRedeem(now time.Time, amount, saleLeft money.Amount) error {
	switch {
	case h.Status != Active:
		return fmt.Errorf("voucher is %s: %w", h.Status, ErrNotRedeemable)
	case !now.Before(h.ExpiresAt):
		return fmt.Errorf("voucher expired at %s: %w", h.ExpiresAt.Format(time.RFC3339), ErrNotRedeemable)
	case !amount.IsPositive():
		return fmt.Errorf("amount %s: %w", amount, ErrNotRedeemable)
	case amount.GreaterThan(h.Unused):
		return fmt.Errorf("%s > unused %s: %w", amount, h.Unused, ErrExceedsValue)
	case amount.GreaterThan(saleLeft):
		return fmt.Errorf("%s > %s left: %w", amount, saleLeft, ErrExceedsSale)
	}
	return nil
}

// After is the voucher's status once amount of its unused value is spent.
func (h Held) After(amount money.Amount) Status {
	if h.Unused.Sub(amount).IsZero() {
		return Used
	}
	return Active
}

// CheckVoid reports whether a voucher in status s may be voided.
func CheckVoid(s Status) error {
	if s != Active {
		return fmt.Errorf("voucher is %s: %w", s, ErrNotVoidable)
	}
	return nil
}

// Number is the voucher number of the i-th voucher (from 1) of a batch.
func Number(batchID string, i int) string {
	return fmt.Sprintf("VC%s%04d", strings.ToUpper(strings.ReplaceAll(batchID, "-", "")[:8]), i)
}
