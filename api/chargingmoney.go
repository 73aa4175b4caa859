package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/chargepay"
	invoicedom "github.com/voltflow/voltflow/domain/invoice"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
	voucherstore "github.com/voltflow/voltflow/store/voucher"
)

// Problem codes of the money of charging orders (F5-F7).
const (
	CodeVoucherApplied       = "voucher_already_applied"
	CodeVoucherNotApplicable = "voucher_not_applicable"
)

// chargingMoneyRoutes are vouchers and invoices on charging orders and the
// order deduction detail (订单扣费明细).
func (s *Server) chargingMoneyRoutes(r chi.Router) {
	r.With(s.audit("charging.voucher")).Post("/charging-orders/{id}/voucher", s.redeemOnOrder)
	r.Get("/charging-orders/deductions", s.orderDeductions)
	r.With(s.audit("charging.invoice")).Post("/charging-invoices", s.createChargingInvoice)
	r.Get("/charging-invoices/{id}", s.getChargingInvoice)
	s.vehicleRoutes(r)
}

type orderVoucherRequest struct {
	VoucherID string `json:"voucherId"`
}

// redeemOnOrder is POST /charging-orders/{id}/voucher: a voucher of the
// order's customer takes what its rule allows off the completed order,
// once; a second redemption on the order is 409 voucher_already_applied.
func (s *Server) redeemOnOrder(w http.ResponseWriter, r *http.Request) {
	var req orderVoucherRequest
	if !decode(w, r, &req) {
		return
	}
	orderID := chi.URLParam(r, "id")
	if _, err := uuid.Parse(req.VoucherID); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "voucherId must be a voucher id", "voucherId")
		return
	}
	projects := operatorFrom(r.Context()).projectsFor(access.SellEnergy)
	o, err := chargeorderstore.Get(r.Context(), s.cfg.DB, projects, orderID)
	if err != nil {
		s.orderProblem(w, r, err)
		return
	}
	setAudit(r, o.ProjectID, "charging-order/"+orderID, map[string]any{"voucherId": req.VoucherID})
	red, err := voucherstore.RedeemOnOrder(r.Context(), s.cfg.DB, voucherstore.RedeemOnOrderInput{ID: uuid.NewString(),
		Projects: projects, VoucherID: req.VoucherID, OrderID: orderID, CreatedBy: operatorFrom(r.Context()).ID, Now: time.Now()})
	switch {
	case errors.Is(err, voucherstore.ErrOrderNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, voucherstore.ErrNotFound):
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "voucher "+req.VoucherID+" not found", "voucherId")
	case errors.Is(err, chargepay.ErrAlreadyApplied):
		writeProblem(w, http.StatusConflict, CodeVoucherApplied, err.Error())
	case errors.Is(err, voucherstore.ErrOtherCustomer), errors.Is(err, chargepay.ErrCreditOrder),
		errors.Is(err, chargepay.ErrNotSettled), errors.Is(err, chargepay.ErrNothingToPay):
		writeProblem(w, http.StatusConflict, CodeVoucherNotApplicable, err.Error())
	case errors.Is(err, voucherdom.ErrNotRedeemable):
		writeProblem(w, http.StatusConflict, CodeNotRedeemable, err.Error())
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusCreated, red)
	}
}

// orderProblem answers an order lookup that failed.
func (s *Server) orderProblem(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, chargeorderstore.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, err.Error())
		return
	}
	s.internal(w, r, err)
}

type chargingInvoiceRequest struct {
	Title    string   `json:"title"`
	TaxID    string   `json:"taxId"`
	OrderIDs []string `json:"orderIds"`
}

// createChargingInvoice is POST /charging-invoices: invoices completed
// charging orders (what their payers paid); an order already invoiced is
// 409 already_invoiced and nothing is written.
func (s *Server) createChargingInvoice(w http.ResponseWriter, r *http.Request) {
	var req chargingInvoiceRequest
	if !decode(w, r, &req) {
		return
	}
	req.Title = strings.TrimSpace(req.Title)
	// The title and tax id follow the rules of recharge invoices.
	switch err := (invoicedom.Application{Title: req.Title, TaxID: req.TaxID, RechargeIDs: []string{"-"}}).Validate(); {
	case errors.Is(err, invoicedom.ErrTitle):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "title")
		return
	case errors.Is(err, invoicedom.ErrTaxID):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "taxId")
		return
	}
	if err := chargepay.CheckOrderIDs(req.OrderIDs); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "orderIds")
		return
	}
	for _, id := range req.OrderIDs {
		if _, err := uuid.Parse(id); err != nil {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "orderIds must be order ids", "orderIds")
			return
		}
	}
	op := operatorFrom(r.Context())
	inv, err := chargeorderstore.CreateInvoice(r.Context(), s.cfg.DB, chargeorderstore.InvoiceRequest{
		Projects: op.projectsFor(access.SellEnergy), Title: req.Title, TaxID: req.TaxID, OrderIDs: req.OrderIDs, CreatedBy: op.ID})
	switch {
	case errors.Is(err, chargeorderstore.ErrNotFound):
		writeProblemField(w, http.StatusNotFound, CodeNotFound, err.Error(), "orderIds")
		return
	case errors.Is(err, chargepay.ErrAlreadyInvoiced):
		writeProblemField(w, http.StatusConflict, CodeAlreadyInvoiced, err.Error(), "orderIds")
		return
	case errors.Is(err, chargepay.ErrNotInvoiceable):
		writeProblemField(w, http.StatusConflict, CodeNotInvoiceable, err.Error(), "orderIds")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	setAudit(r, inv.ProjectID, "charging-invoice/"+inv.ID, map[string]any{"invoiceNo": inv.InvoiceNo,
		"amount": inv.Amount.String(), "orders": len(inv.OrderIDs)})
	writeJSON(w, http.StatusCreated, inv)
}

// getChargingInvoice is GET /charging-invoices/{id}.
func (s *Server) getChargingInvoice(w http.ResponseWriter, r *http.Request) {
	inv, err := chargeorderstore.GetInvoice(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.ViewData),
		chi.URLParam(r, "id"))
	if err != nil {
		s.orderProblem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inv)
}

// orderDeductions is GET /charging-orders/deductions?cardNo=&enterpriseId=&from=&to=&format=json|xlsx
// (订单扣费明细): per completed order, what the wallet, the enterprise's
// credit or wallet, a voucher and the monthly package paid.
func (s *Server) orderDeductions(w http.ResponseWriter, r *http.Request) {
	oq, ok := orderQuery(w, r)
	if !ok {
		return
	}
	q := chargeorderstore.DeductionQuery{Projects: operatorFrom(r.Context()).projectsFor(access.ViewData), Scope: oq.Scope,
		CardNo: oq.CardNo, EnterpriseID: r.URL.Query().Get("enterpriseId"), From: oq.From, To: oq.To,
		Limit: oq.Limit, Before: oq.Before, BeforeID: oq.BeforeID}
	if r.URL.Query().Get("format") != "xlsx" {
		items, err := chargeorderstore.Deductions(r.Context(), s.cfg.DB, q)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		writePage(w, items, q.Limit, func(last chargeorderstore.DeductionRow) (time.Time, string) { return last.CreatedAt, last.OrderID })
		return
	}
	exportKeyset(s, w, r, "deductions", "order-deductions.xlsx", func(after *chargeorderstore.DeductionRow, limit int) ([]chargeorderstore.DeductionRow, error) {
		q.Limit, q.Before, q.BeforeID = limit, nil, ""
		if after != nil {
			q.Before, q.BeforeID = &after.CreatedAt, after.OrderID
		}
		return chargeorderstore.Deductions(r.Context(), s.cfg.DB, q)
	})
}
