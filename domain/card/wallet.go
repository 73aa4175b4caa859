package card

import (
	"errors"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
)

// WalletKind is what a wallet request does to a card's prepaid wallet.
type WalletKind string

// Wallet request kinds.
const (
	WalletRecharge WalletKind = "recharge" // 充值
	WalletRefund   WalletKind = "refund"   // 退款
)

// Method is how a recharge is paid.
type Method string

// Payment methods of a recharge; a refund is paid out in cash.
const (
	Cash     Method = "cash"     // 现金
	Transfer Method = "transfer" // 转账
)

// BankAccount is the asset account transfers arrive in.
const BankAccount = "bank"

// ErrMethod is a recharge without a known payment method.
var ErrMethod = errors.New(`method must be "cash" or "transfer"`)

// account is the asset account the method's money moves through.
func (m Method) account() (string, error) {
	switch m {
	case Cash:
		return ledgerdom.CashAccount, nil
	case Transfer:
		return BankAccount, nil
	}
	return "", ErrMethod
}

// WalletEntry is the journal entry of a booked wallet request: a recharge
// moves money from cash or bank into the wallet (a liability to the
// holder), a refund pays the wallet out in cash. key makes it idempotent.
func WalletEntry(key string, kind WalletKind, method Method, accountNo string, amount money.Amount) (ledgerdom.Entry, error) {
	wallet := ledgerdom.Posting{Account: ledgerdom.CustomerWallet(accountNo), Kind: ledgerdom.Liability}
	if kind == WalletRefund {
		return ledgerdom.Transfer(key, "card-wallet-refund", "refund from card wallet "+accountNo,
			ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}, wallet, amount), nil
	}
	asset, err := method.account()
	if err != nil {
		return ledgerdom.Entry{}, err
	}
	return ledgerdom.Transfer(key, "card-wallet-recharge", "recharge of card wallet "+accountNo+" by "+string(method),
		wallet, ledgerdom.Posting{Account: asset, Kind: ledgerdom.Asset}, amount), nil
}
