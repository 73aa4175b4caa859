// Package payment is the Temporal face of store/payment and of the payment
// providers' clients: credit a paid order, close an unpaid one, and ask the
// provider about an order whose callback is late.
package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/domain/money"
	paymentdom "github.com/voltflow/voltflow/domain/payment"
	"github.com/voltflow/voltflow/payproviders/alipay"
	"github.com/voltflow/voltflow/payproviders/wechatpay"
	"github.com/voltflow/voltflow/store"
	paymentstore "github.com/voltflow/voltflow/store/payment"
)

// Activities run on the main queue.
type Activities struct {
	DB     *store.DB
	WeChat *wechatpay.Client // nil: WeChat Pay is not configured
	Alipay *alipay.Client    // nil: Alipay is not configured
}

// Inputs and results are the store's.
type (
	CreditInput    = paymentstore.CreditInput
	Credit         = paymentstore.Credit
	CloseInput     = paymentstore.CloseInput
	QueryInput     = paymentstore.QueryInput
	QueryResult    = paymentstore.QueryResult
	ReconcileInput = paymentstore.ReconcileInput
	Mismatch       = paymentdom.Mismatch
)

// CreditPayment turns a paid order into its recharge, once.
func (a *Activities) CreditPayment(ctx context.Context, in CreditInput) (Credit, error) {
	return paymentstore.CreditPayment(ctx, a.DB, in)
}

// ClosePayment marks an order never paid closed.
func (a *Activities) ClosePayment(ctx context.Context, in CloseInput) error {
	return paymentstore.ClosePayment(ctx, a.DB, in)
}

// QueryPayment asks the provider whether an order is paid.
func (a *Activities) QueryPayment(ctx context.Context, in QueryInput) (QueryResult, error) {
	if in.Provider == paymentstore.Alipay && a.Alipay != nil {
		return a.queryAlipay(ctx, in)
	}
	if in.Provider != paymentstore.WeChat || a.WeChat == nil {
		return QueryResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("payment provider %q is not configured on this worker", in.Provider), "ProviderNotConfigured", nil)
	}
	t, err := a.WeChat.Query(ctx, in.OrderNo)
	var apiErr *wechatpay.APIError
	if errors.As(err, &apiErr) && apiErr.Code == "ORDER_NOT_EXIST" {
		return QueryResult{State: wechatpay.StateNotPay}, nil
	}
	if err != nil {
		return QueryResult{}, err
	}
	out := QueryResult{State: t.TradeState, ProviderTxnID: t.TransactionID, PaidCents: t.Amount.Total}
	if t.SuccessTime != "" {
		if out.PaidAt, err = time.Parse(time.RFC3339, t.SuccessTime); err != nil {
			return QueryResult{}, fmt.Errorf("success_time of %s: %w", in.OrderNo, err)
		}
	}
	return out, nil
}

func (a *Activities) queryAlipay(ctx context.Context, in QueryInput) (QueryResult, error) {
	t, err := a.Alipay.Query(ctx, in.OrderNo)
	var apiErr *alipay.APIError
	if errors.As(err, &apiErr) && apiErr.SubCode == "ACQ.TRADE_NOT_EXIST" {
		return QueryResult{State: "NOTPAY"}, nil
	}
	if err != nil {
		return QueryResult{}, err
	}
	out := QueryResult{ProviderTxnID: t.TradeNo, State: "NOTPAY"}
	switch t.TradeStatus {
	case alipay.TradeSuccess, alipay.TradeFinished:
		out.State = "SUCCESS"
	case alipay.TradeClosed:
		out.State = "CLOSED"
	}
	paid, err := money.Parse(t.TotalAmount)
	if err != nil {
		return QueryResult{}, fmt.Errorf("total_amount of %s: %w", in.OrderNo, err)
	}
	out.PaidCents = paid.Cents()
	if t.SendPayDate != "" {
		out.PaidAt, _ = time.ParseInLocation(time.DateTime, t.SendPayDate, time.FixedZone("CST", 8*3600))
	}
	return out, nil
}

// ReconcilePayments downloads the provider's bill of the day and matches
// it against the day's orders; only the mismatches go into history.
func (a *Activities) ReconcilePayments(ctx context.Context, in ReconcileInput) ([]Mismatch, error) {
	if in.Provider != paymentstore.WeChat || a.WeChat == nil {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no bill download for provider %q on this worker", in.Provider), "ProviderNotConfigured", nil)
	}
	raw, err := a.WeChat.TradeBill(ctx, in.Day)
	if err != nil {
		return nil, err
	}
	rows, err := wechatpay.ParseTradeBill(raw)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "BadBill", err)
	}
	bill := make([]paymentdom.BillRow, 0, len(rows))
	for _, r := range rows {
		if r.TradeState == wechatpay.StateSuccess {
			bill = append(bill, paymentdom.BillRow{OrderNo: r.OutTradeNo, ProviderTxnID: r.TransactionID, Cents: r.Cents})
		}
	}
	orders, err := paymentstore.DayOrders(ctx, a.DB, in.Provider, in.Day)
	if err != nil {
		return nil, err
	}
	return paymentdom.Match(bill, orders), nil
}
