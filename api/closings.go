package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/access"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	refunddom "github.com/voltflow/voltflow/domain/refund"
	closingstore "github.com/voltflow/voltflow/store/closing"
	refundstore "github.com/voltflow/voltflow/store/refund"
	closingwf "github.com/voltflow/voltflow/workflows/closing"
	"github.com/voltflow/voltflow/workflows/names"
	refundwf "github.com/voltflow/voltflow/workflows/refund"
)

// Account closing (销户, M4): the meter takes no more sales from the moment a
// closing is recorded; its refundable remainder goes back through the refund
// workflow (an approver decides); then the rest is settled and the account
// closed. A refused refund leaves the account open.

type closeRequest struct {
	TransactionNo string `json:"transactionNo"`
	Reason        string `json:"reason"`
}

func (s *Server) closeAccount(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req closeRequest
	if !decode(w, r, &req) {
		return
	}
	meterNo := chi.URLParam(r, "meterNo")
	m, err := s.findMeter(r.Context(), op.Grants.Projects(), meterNo)
	if !s.found(w, r, err, pgx.ErrNoRows, "meter "+meterNo+" not found") {
		return
	}
	setAudit(r, m.projectID, meterNo, map[string]any{"transactionNo": req.TransactionNo, "reason": req.Reason})
	if !op.Grants.Can(m.projectID, access.SellEnergy) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "closing an account needs the cashier role")
		return
	}
	if !checkTransactionNo(w, req.TransactionNo) {
		return
	}
	if len(req.Reason) > 500 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "reason longer than 500 characters", "reason")
		return
	}
	id := uuid.NewString()
	c, created, err := closingstore.Open(r.Context(), s.cfg.DB, closingstore.Closing{ID: id, ProjectID: m.projectID, MeterID: m.id,
		MeterNo: m.meterNo, TransactionNo: req.TransactionNo, Reason: strings.TrimSpace(req.Reason),
		WorkflowID: closingwf.WorkflowID(id), CreatedBy: op.ID})
	switch {
	case errors.Is(err, closingstore.ErrAlreadyClosed):
		writeProblem(w, http.StatusConflict, CodeAccountClosed, err.Error())
		return
	case errors.Is(err, closingstore.ErrBusy):
		writeProblem(w, http.StatusConflict, CodeAccountBusy, err.Error())
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	if !created && c.MeterNo != m.meterNo {
		writeProblemField(w, http.StatusConflict, CodeIdempotencyReuse, "transactionNo "+req.TransactionNo+" was used for another meter", "transactionNo")
		return
	}
	in := closingwf.Input{ClosingID: c.ID, ProjectID: c.ProjectID, ProjectCode: m.projectCode, MeterID: m.id, MeterNo: m.meterNo}
	if c.Status == closingstore.StatusClosing {
		// The refundable remainder, as the refund rules count it (vouchers
		// and opening balances are not refundable cash).
		if c.RefundID == nil {
			b, err := refundstore.Balance(r.Context(), s.cfg.DB, m.projectID, m.id, m.meterNo)
			if err != nil {
				s.internal(w, r, err)
				return
			}
			if amount := b.Refundable(); amount.IsPositive() {
				rid := uuid.NewString()
				f, _, err := refundstore.Apply(r.Context(), s.cfg.DB, refundstore.Refund{ID: rid, ProjectID: m.projectID, MeterID: m.id,
					MeterNo: m.meterNo, Amount: amount, TransactionNo: "close-" + c.ID, Kind: refunddom.Refund,
					Reason: "account closing (销户)", Status: rechargedom.PendingApproval, WorkflowID: refundwf.WorkflowID(rid), CreatedBy: op.ID})
				if err != nil {
					s.internal(w, r, err)
					return
				}
				if err := closingstore.SetRefund(r.Context(), s.cfg.DB, c.ID, f.ID, f.Amount); err != nil {
					s.internal(w, r, err)
					return
				}
				c.RefundID, c.RefundAmount = &f.ID, f.Amount
			}
		}
		if c.RefundID != nil {
			in.Refund = refundwf.Input{RefundID: *c.RefundID, ProjectID: c.ProjectID, ProjectCode: m.projectCode, MeterID: m.id,
				MeterNo: m.meterNo, Amount: c.RefundAmount, Kind: refunddom.Refund, Reason: "account closing (销户)",
				DispatchWindow: s.cfg.DispatchWindow}
		}
		if err := names.StartOnce(r.Context(), s.cfg.Temporal, c.WorkflowID, closingwf.Kind, names.Attributes(m.projectCode, closingwf.Kind, m.meterNo, string(c.Status)), in); err != nil {
			s.log.Error("start account closing", "closing", c.ID, "error", err)
			writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the closing is recorded; send the same request again to start it")
			return
		}
	}
	writeJSON(w, http.StatusAccepted, c)
}

func (s *Server) getAccountClosing(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	c, err := closingstore.Get(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	s.writeFound(w, r, c, err, closingstore.ErrNotFound, "account closing not found")
}

// refuseClosed answers 409 account_closed for a sale to a meter whose account
// is closed or being closed, and reports whether it did.
func (s *Server) refuseClosed(w http.ResponseWriter, r *http.Request, m meterRef) bool {
	closed, err := closingstore.IsClosed(r.Context(), s.cfg.DB, m.id)
	if err != nil {
		s.internal(w, r, err)
		return true
	}
	if closed {
		writeProblemField(w, http.StatusConflict, CodeAccountClosed, "the account of meter "+m.meterNo+" is closed (销户): no more sales", "meterNo")
		return true
	}
	return s.refuseRetired(w, r, m)
}
