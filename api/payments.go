package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/payproviders/alipay"
	"github.com/voltflow/voltflow/payproviders/wechatpay"
	paymentstore "github.com/voltflow/voltflow/store/payment"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
	"github.com/voltflow/voltflow/workflows/names"
	paymentwf "github.com/voltflow/voltflow/workflows/payment"
)

// Problem codes of online payment.
const (
	// CodePaymentUnavailable: the provider asked for is not configured, or
	// did not take the order.
	CodePaymentUnavailable = "payment_provider_unavailable"
	// CodePaymentSignature refuses a callback that does not verify (forged,
	// tampered, stale or replayed after its 5 minutes).
	CodePaymentSignature = "payment_signature_invalid"
)

type paymentRequest struct {
	MeterNo  string        `json:"meterNo"`
	Amount   jsonRawAmount `json:"amount"`
	Provider string        `json:"provider"`
	// Channel: native (a QR code to scan, the default) or jsapi (paid
	// inside WeChat; OpenID required).
	Channel string `json:"channel"`
	OpenID  string `json:"openId"`
}

// createPayment is a cashier's payment order: a QR code the customer
// scans at the counter (the same order a tenant places from the phone).
func (s *Server) createPayment(w http.ResponseWriter, r *http.Request) {
	var req paymentRequest
	if !decode(w, r, &req) {
		return
	}
	m, ok := s.meterIntake(w, r, req.MeterNo, "payment orders need the cashier role", map[string]any{"provider": req.Provider})
	if !ok {
		return
	}
	s.placePayment(w, r, m, req, operatorFrom(r.Context()).Username)
}

// placePayment checks and records an order, places it at the provider and
// starts its workflow; it answers 201 with what the payer needs.
func (s *Server) placePayment(w http.ResponseWriter, r *http.Request, m meterRef, req paymentRequest, payer string) {
	if s.refuseClosed(w, r, m) {
		return
	}
	amount, ok := req.Amount.parse(w)
	if !ok {
		return
	}
	if req.Provider == "" {
		req.Provider = paymentstore.WeChat
	}
	if req.Channel == "" {
		req.Channel = "native"
	}
	if req.Provider != paymentstore.WeChat && req.Provider != paymentstore.Alipay {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "provider must be wechat or alipay", "provider")
		return
	}
	if req.Provider == paymentstore.Alipay && req.Channel != "native" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "an Alipay payment is a QR code (channel native)", "channel")
		return
	}
	if req.Channel != "native" && req.Channel != "jsapi" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "channel must be native or jsapi", "channel")
		return
	}
	if req.Channel == "jsapi" && req.OpenID == "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "a jsapi payment needs the payer's openId", "openId")
		return
	}
	orderNo, err := newOrderNo()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if err := rechargedom.DefaultPolicy().Validate(rechargedom.Request{MeterNo: m.meterNo, Amount: amount, TransactionNo: orderNo}); err != nil {
		writeValidationProblem(w, err)
		return
	}
	// Money taken must be creditable: the hoarding cap is checked before
	// the customer pays, not after.
	held, err := rechargestore.Held(r.Context(), s.cfg.DB, m.projectID, m.id, m.meterNo)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if err := rechargedom.CheckHoardingCap(m.hoardingCap, held, amount); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeHoardingCapExceeded, err.Error(), "amount")
		return
	}
	if (req.Provider == paymentstore.WeChat && s.cfg.WeChatPay == nil) || (req.Provider == paymentstore.Alipay && s.cfg.Alipay == nil) {
		// A provider this installation does not offer is the request's
		// problem, not a fault: 422, not 5xx.
		writeProblemField(w, http.StatusUnprocessableEntity, CodePaymentUnavailable, req.Provider+" is not offered here (VOLTFLOW_WECHATPAY_URL, VOLTFLOW_ALIPAY_URL)", "provider")
		return
	}
	p := paymentstore.Payment{ID: uuid.NewString(), OrderNo: orderNo, ProjectID: m.projectID, MeterID: m.id, MeterNo: m.meterNo,
		Provider: req.Provider, Channel: req.Channel, Amount: amount, Status: paymentstore.Created, Payer: payer,
		WorkflowID: paymentwf.WorkflowID(orderNo)}
	if a, ok := r.Context().Value(auditKey{}).(*auditInfo); ok && a.detail != nil {
		a.detail["orderNo"], a.detail["amount"] = orderNo, amount.String()
	}
	if err := paymentstore.Create(r.Context(), s.cfg.DB, p); err != nil {
		s.internal(w, r, err)
		return
	}
	// The workflow first, so a callback always finds it.
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, p.WorkflowID, paymentwf.Kind,
		names.Attributes(m.projectCode, paymentwf.Kind, m.meterNo, paymentstore.Created),
		paymentwf.Input{OrderNo: orderNo, ProjectID: m.projectID, ProjectCode: m.projectCode, Provider: req.Provider,
			QueryAfter: s.cfg.PaymentQueryAfter, DispatchWindow: s.cfg.DispatchWindow}); err != nil {
		s.log.Error("start payment workflow", "order", orderNo, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the payment could not be started; try again")
		return
	}
	order := wechatpay.Order{OutTradeNo: orderNo, Description: "电费充值 " + m.meterNo, Cents: amount.Cents(), OpenID: req.OpenID}
	if req.Provider == paymentstore.Alipay {
		p.CodeURL, err = s.cfg.Alipay.Precreate(r.Context(), orderNo, order.Description, amount.String())
	} else if req.Channel == "jsapi" {
		p.PrepayID, err = s.cfg.WeChatPay.JSAPI(r.Context(), order)
	} else {
		p.CodeURL, err = s.cfg.WeChatPay.Native(r.Context(), order)
	}
	if err != nil {
		s.log.Error("place payment order", "provider", req.Provider, "order", orderNo, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodePaymentUnavailable, req.Provider+" did not take the order: "+err.Error())
		return
	}
	if err := paymentstore.SetProviderRefs(r.Context(), s.cfg.DB, orderNo, p.CodeURL, p.PrepayID); err != nil {
		s.internal(w, r, err)
		return
	}
	p.CreatedAt = time.Now()
	writeJSON(w, http.StatusCreated, p)
}

// newOrderNo is a merchant order number (out_trade_no: 6–32 of
// [A-Za-z0-9]): VF, the UTC time to the second and 8 random hex digits.
func newOrderNo() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "VF" + time.Now().UTC().Format("20060102150405") + strings.ToUpper(hex.EncodeToString(b)), nil
}

func (s *Server) getPayment(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	p, err := paymentstore.ByOrderNo(r.Context(), s.cfg.DB, chi.URLParam(r, "orderNo"))
	if err == nil && !op.Grants.Can(p.ProjectID, access.ViewData) {
		err = paymentstore.ErrNotFound
	}
	s.writeFound(w, r, p, err, paymentstore.ErrNotFound, "payment not found")
}

// wechatNotify is WeChat Pay's payment callback. Only a callback that
// verifies with the platform key, decrypts with the APIv3 key and names
// this merchant and an order of ours reaches the order's workflow, which
// credits once; every callback is recorded with what became of it. WeChat
// Pay reads 2xx as received and retries anything else.
func (s *Server) wechatNotify(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	setAudit(r, "", "wechat", nil)
	if s.cfg.WeChatPay == nil { // no merchant here: nothing answers at this address
		writeProblem(w, http.StatusNotFound, CodeNotFound, "WeChat Pay is not configured here")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, CodeMalformed, "callback body: "+err.Error())
		return
	}
	n, tx, err := s.cfg.WeChatPay.ParseNotification(r.Header, body)
	if err == nil && (tx.MchID != s.cfg.WeChatPay.MchID() || tx.AppID != s.cfg.WeChatPay.AppID()) {
		err = fmt.Errorf("callback for merchant %s/%s, not ours", tx.MchID, tx.AppID)
	}
	if err != nil {
		s.log.Warn("refused payment callback", "provider", "wechat", "remote", r.RemoteAddr, "reason", err)
		s.recordNotification(ctx, paymentstore.WeChat, tx.OutTradeNo, false, "refused: "+err.Error())
		setAudit(r, "", "wechat", map[string]any{"refused": err.Error()})
		writeProblem(w, http.StatusUnauthorized, CodePaymentSignature, "callback refused: "+err.Error())
		return
	}
	p, err := paymentstore.ByOrderNo(ctx, s.cfg.DB, tx.OutTradeNo)
	if errors.Is(err, paymentstore.ErrNotFound) {
		s.log.Warn("payment callback for an unknown order", "order", tx.OutTradeNo)
		s.recordNotification(ctx, paymentstore.WeChat, tx.OutTradeNo, true, "unknown order")
		writeProblem(w, http.StatusNotFound, CodeNotFound, "order "+tx.OutTradeNo+" not found")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, p.ProjectID, p.OrderNo, map[string]any{"event": n.EventType, "tradeState": tx.TradeState, "transactionId": tx.TransactionID})
	if n.EventType != wechatpay.EventSuccess || tx.TradeState != wechatpay.StateSuccess {
		s.recordNotification(ctx, paymentstore.WeChat, p.OrderNo, true, "ignored: "+n.EventType+" "+tx.TradeState)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if p.Status != paymentstore.Created {
		// Already credited (or settled otherwise): a repeated callback
		// changes nothing.
		s.recordNotification(ctx, paymentstore.WeChat, p.OrderNo, true, "duplicate: order is "+p.Status)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	paidAt, _ := time.Parse(time.RFC3339, tx.SuccessTime)
	if !s.signalPaid(w, r, p, paymentstore.CreditInput{OrderNo: p.OrderNo, ProviderTxnID: tx.TransactionID, PaidCents: tx.Amount.Total, PaidAt: paidAt}) {
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "try again")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// signalPaid tells the order's workflow it is paid, and records the
// callback; false means Temporal did not take it (the provider retries).
func (s *Server) signalPaid(w http.ResponseWriter, r *http.Request, p paymentstore.Payment, paid paymentstore.CreditInput) bool {
	ctx := r.Context()
	err := s.cfg.Temporal.SignalWorkflow(ctx, p.WorkflowID, "", paymentwf.SignalPaid, paid)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		// The workflow has ended: the order was credited a moment ago, or
		// closed unpaid before this payment; reconciliation names the latter.
		s.log.Warn("payment callback after its workflow ended", "order", p.OrderNo)
		s.recordNotification(ctx, p.Provider, p.OrderNo, true, "workflow ended")
	case err != nil:
		s.log.Error("signal payment", "order", p.OrderNo, "error", err)
		return false
	default:
		s.recordNotification(ctx, p.Provider, p.OrderNo, true, "signalled")
	}
	return true
}

func (s *Server) recordNotification(ctx context.Context, provider, orderNo string, verified bool, outcome string) {
	if err := paymentstore.RecordNotification(ctx, s.cfg.DB, provider, orderNo, verified, clip(outcome, 500)); err != nil {
		s.log.Error("record payment callback", "order", orderNo, "error", err)
	}
}

// alipayNotify is Alipay's asynchronous notification: a signed form. Only
// one that verifies with Alipay's key and names our app and an order of
// ours reaches the order's workflow; Alipay reads the text "success" as
// received and retries anything else.
func (s *Server) alipayNotify(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	setAudit(r, "", "alipay", nil)
	answer := func(status int, text string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, text)
	}
	if s.cfg.Alipay == nil { // no merchant here: nothing answers at this address
		answer(http.StatusNotFound, "failure")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		answer(http.StatusBadRequest, "failure")
		return
	}
	n, err := s.cfg.Alipay.ParseNotification(r.PostForm)
	if err == nil && n.AppID != s.cfg.Alipay.AppID() {
		err = fmt.Errorf("notification for app %s, not ours", n.AppID)
	}
	if err != nil {
		s.log.Warn("refused payment callback", "provider", "alipay", "remote", r.RemoteAddr, "reason", err)
		s.recordNotification(ctx, paymentstore.Alipay, n.OutTradeNo, false, "refused: "+err.Error())
		setAudit(r, "", "alipay", map[string]any{"refused": err.Error()})
		answer(http.StatusUnauthorized, "failure")
		return
	}
	p, err := paymentstore.ByOrderNo(ctx, s.cfg.DB, n.OutTradeNo)
	if errors.Is(err, paymentstore.ErrNotFound) {
		s.recordNotification(ctx, paymentstore.Alipay, n.OutTradeNo, true, "unknown order")
		answer(http.StatusNotFound, "failure")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, p.ProjectID, p.OrderNo, map[string]any{"tradeStatus": n.TradeStatus, "tradeNo": n.TradeNo})
	if n.TradeStatus != alipay.TradeSuccess && n.TradeStatus != alipay.TradeFinished {
		s.recordNotification(ctx, paymentstore.Alipay, p.OrderNo, true, "ignored: "+n.TradeStatus)
		answer(http.StatusOK, "success")
		return
	}
	if p.Status != paymentstore.Created {
		s.recordNotification(ctx, paymentstore.Alipay, p.OrderNo, true, "duplicate: order is "+p.Status)
		answer(http.StatusOK, "success")
		return
	}
	paid, err := money.Parse(n.TotalAmount)
	if err != nil {
		s.recordNotification(ctx, paymentstore.Alipay, p.OrderNo, true, "refused: total_amount "+n.TotalAmount)
		answer(http.StatusBadRequest, "failure")
		return
	}
	if !s.signalPaid(w, r, p, paymentstore.CreditInput{OrderNo: p.OrderNo, ProviderTxnID: n.TradeNo, PaidCents: paid.Cents(), PaidAt: n.GmtPayment}) {
		answer(http.StatusServiceUnavailable, "failure")
		return
	}
	answer(http.StatusOK, "success")
}

// createReconciliation starts (or finds) the reconciliation of one
// provider's day: payment-reconciliation/<provider>/<day>. Tasks of billed
// orders that are not ours go to the project named.
func (s *Server) createReconciliation(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Provider string `json:"provider"`
		Day      string `json:"day"`
		Project  string `json:"project"`
	}
	if !decode(w, r, &req) {
		return
	}
	pid, err := s.projectFor(r, req.Project, access.DecideApproval)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if pid == "" {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "project "+req.Project+" not found (reconciliation needs the approver role)", "project")
		return
	}
	setAudit(r, pid, req.Provider+"/"+req.Day, nil)
	if req.Provider != paymentstore.WeChat {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "provider must be wechat (bills are downloaded from WeChat Pay only)", "provider")
		return
	}
	if _, err := time.Parse(time.DateOnly, req.Day); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "day must be YYYY-MM-DD", "day")
		return
	}
	id := paymentwf.ReconciliationID(req.Provider, req.Day)
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, id, paymentwf.KindReconciliation,
		names.Attributes(req.Project, paymentwf.KindReconciliation, req.Provider+"/"+req.Day, "running"),
		paymentwf.ReconcileInput{Provider: req.Provider, Day: req.Day, ProjectID: pid}); err != nil {
		s.log.Error("start reconciliation", "workflow", id, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "try again")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"workflowId": id})
}
