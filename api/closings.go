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
	c, err := s.startClosing(r, op, m, req.TransactionNo, req.Reason)
	if !s.closingStarted(w, r, err, req.TransactionNo) {
		return
	}
	writeJSON(w, http.StatusAccepted, c)
}

// errClosingOtherMeter is a transactionNo already used for another meter's closing.
var errClosingOtherMeter = errors.New("transactionNo used for another meter")

// errClosingNotStarted is a closing recorded whose workflow did not start.
var errClosingNotStarted = errors.New("closing recorded, workflow not started")

// closingStarted answers the problem of startClosing's error, if any.
func (s *Server) closingStarted(w http.ResponseWriter, r *http.Request, err error, transactionNo string) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, closingstore.ErrAlreadyClosed):
		writeProblem(w, http.StatusConflict, CodeAccountClosed, err.Error())
	case errors.Is(err, closingstore.ErrBusy):
		writeProblem(w, http.StatusConflict, CodeAccountBusy, err.Error())
	case errors.Is(err, errClosingOtherMeter):
		writeProblemField(w, http.StatusConflict, CodeIdempotencyReuse, "transactionNo "+transactionNo+" was used for another meter", "transactionNo")
	case errors.Is(err, errClosingNotStarted):
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the closing is recorded; send the same request again to start it")
	default:
		s.internal(w, r, err)
	}
	return false
}

// startClosing records the closing of one meter's account (销户) and starts
// its workflow: the refundable remainder goes back through a refund, then
// the rest is settled. Repeating it with the same transactionNo repeats
// nothing; it starts the workflow if an earlier attempt could not.
func (s *Server) startClosing(r *http.Request, op *Operator, m meterRef, transactionNo, reason string) (closingstore.Closing, error) {
	ctx := r.Context()
	id := uuid.NewString()
	c, created, err := closingstore.Open(ctx, s.cfg.DB, closingstore.Closing{ID: id, ProjectID: m.projectID, MeterID: m.id,
		MeterNo: m.meterNo, TransactionNo: transactionNo, Reason: strings.TrimSpace(reason),
		WorkflowID: closingwf.WorkflowID(id), CreatedBy: op.ID})
	if err != nil {
		return c, err
	}
	if !created && c.MeterNo != m.meterNo {
		return c, errClosingOtherMeter
	}
	in := closingwf.Input{ClosingID: c.ID, ProjectID: c.ProjectID, ProjectCode: m.projectCode, MeterID: m.id, MeterNo: m.meterNo}
	if c.Status != closingstore.StatusClosing {
		return c, nil
	}
	// The refundable remainder, as the refund rules count it (vouchers
	// and opening balances are not refundable cash).
	if c.RefundID == nil {
		b, err := refundstore.Balance(ctx, s.cfg.DB, m.projectID, m.id, m.meterNo)
		if err != nil {
			return c, err
		}
		if amount := b.Refundable(); amount.IsPositive() {
			rid := uuid.NewString()
			f, _, err := refundstore.Apply(ctx, s.cfg.DB, refundstore.Refund{ID: rid, ProjectID: m.projectID, MeterID: m.id,
				MeterNo: m.meterNo, Amount: amount, TransactionNo: "close-" + c.ID, Kind: refunddom.Refund,
				Reason: "account closing (销户)", Status: rechargedom.PendingApproval, WorkflowID: refundwf.WorkflowID(rid), CreatedBy: op.ID})
			if err != nil {
				return c, err
			}
			if err := closingstore.SetRefund(ctx, s.cfg.DB, c.ID, f.ID, f.Amount); err != nil {
				return c, err
			}
			c.RefundID, c.RefundAmount = &f.ID, f.Amount
		}
	}
	if c.RefundID != nil {
		in.Refund = refundwf.Input{RefundID: *c.RefundID, ProjectID: c.ProjectID, ProjectCode: m.projectCode, MeterID: m.id,
			MeterNo: m.meterNo, Amount: c.RefundAmount, Kind: refunddom.Refund, Reason: "account closing (销户)",
			DispatchWindow: s.cfg.DispatchWindow}
	}
	if err := names.StartOnce(ctx, s.cfg.Temporal, c.WorkflowID, closingwf.Kind, names.Attributes(m.projectCode, closingwf.Kind, m.meterNo, string(c.Status)), in); err != nil {
		s.log.Error("start account closing", "closing", c.ID, "error", err)
		return c, errClosingNotStarted
	}
	return c, nil
}

func (s *Server) getAccountClosing(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	c, err := closingstore.Get(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	if err == nil {
		err = s.meterInScope(r, c.ProjectID, c.MeterNo, closingstore.ErrNotFound)
	}
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
