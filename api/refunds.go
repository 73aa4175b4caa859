package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	refunddom "github.com/voltflow/voltflow/domain/refund"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
	refundstore "github.com/voltflow/voltflow/store/refund"
	"github.com/voltflow/voltflow/workflows/names"
	refundwf "github.com/voltflow/voltflow/workflows/refund"
)

type refundRequest struct {
	MeterNo       string        `json:"meterNo"`
	Amount        jsonRawAmount `json:"amount"`
	TransactionNo string        `json:"transactionNo"`
	// Full (彻底退费) refunds the whole refundable balance, read when the
	// application is recorded; no amount then.
	Full bool `json:"full"`
	// KeepPower (不断电退费) keeps the relay closed: the meter goes into
	// protect mode (保电) before the deduction.
	KeepPower bool `json:"keepPower"`
}

// createRefund applies for a refund of a meter's balance (退电). It always
// waits for an approver; one above the refundable balance is refused here.
func (s *Server) createRefund(w http.ResponseWriter, r *http.Request) {
	var req refundRequest
	if !decode(w, r, &req) {
		return
	}
	audit := map[string]any{"transactionNo": req.TransactionNo, "full": req.Full, "keepPower": req.KeepPower}
	amount := money.Zero
	if req.Full != (len(req.Amount.raw) == 0) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, "give exactly one of amount and full", "amount")
		return
	}
	if !req.Full {
		var ok bool
		if amount, ok = req.Amount.parse(w); !ok {
			return
		}
		audit["amount"] = amount.String()
	}
	m, ok := s.meterIntake(w, r, req.MeterNo, "applying for a refund needs the cashier role", audit)
	if !ok {
		return
	}
	check := amount
	if req.Full {
		check = money.FromCents(1) // the amount is read under the lock in Apply
	}
	if err := rechargedom.DefaultPolicy().Validate(rechargedom.Request{MeterNo: req.MeterNo, Amount: check, TransactionNo: req.TransactionNo}); err != nil {
		writeValidationProblem(w, err)
		return
	}
	s.applyRefund(w, r, m, refundstore.Refund{MeterNo: m.meterNo, Amount: amount, TransactionNo: req.TransactionNo,
		Kind: refunddom.Refund, Full: req.Full, KeepPower: req.KeepPower})
}

type reverseRequest struct {
	TransactionNo string `json:"transactionNo"`
	Reason        string `json:"reason"`
}

// reverseRecharge applies for the reversal (冲正) of a mistaken completed
// recharge: a refund of its whole amount that restores ledger and meter.
func (s *Server) reverseRecharge(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req reverseRequest
	if !decode(w, r, &req) {
		return
	}
	rec, err := rechargestore.Get(r.Context(), s.cfg.DB, op.Grants.Projects(), chi.URLParam(r, "id"))
	if !s.found(w, r, err, rechargestore.ErrNotFound, "recharge not found") {
		return
	}
	setAudit(r, rec.ProjectID, rec.ID, map[string]any{"transactionNo": req.TransactionNo, "reason": req.Reason})
	if !op.Grants.Can(rec.ProjectID, access.SellEnergy) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "applying for a reversal needs the cashier role")
		return
	}
	if err := rechargedom.DefaultPolicy().Validate(rechargedom.Request{MeterNo: rec.MeterNo, Amount: rec.Amount, TransactionNo: req.TransactionNo}); err != nil {
		writeValidationProblem(w, err)
		return
	}
	if req.Reason == "" || len(req.Reason) > 500 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "reason must be 1-500 characters", "reason")
		return
	}
	if err := refunddom.CheckReversible(rec.Status); err != nil {
		writeProblem(w, http.StatusConflict, CodeNotReversible, err.Error())
		return
	}
	m, err := s.findMeter(r.Context(), []string{rec.ProjectID}, rec.MeterNo)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.applyRefund(w, r, m, refundstore.Refund{MeterNo: rec.MeterNo, Amount: rec.Amount, TransactionNo: req.TransactionNo,
		Kind: refunddom.Reversal, ReversesRechargeID: &rec.ID, Reason: req.Reason})
}

// applyRefund records the application (idempotent by transactionNo, checked
// against the refundable balance) and starts its workflow.
func (s *Server) applyRefund(w http.ResponseWriter, r *http.Request, m meterRef, want refundstore.Refund) {
	op := operatorFrom(r.Context())
	id := uuid.NewString()
	want.ID, want.ProjectID, want.MeterID, want.CreatedBy = id, m.projectID, m.id, op.ID
	want.Status, want.WorkflowID = rechargedom.PendingApproval, refundwf.WorkflowID(id)
	got, created, err := refundstore.Apply(r.Context(), s.cfg.DB, want)
	switch {
	case errors.Is(err, refunddom.ErrExceedsBalance):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeRefundExceedsBalance, err.Error(), "amount")
		return
	case errors.Is(err, refundstore.ErrAlreadyReversed):
		writeProblem(w, http.StatusConflict, CodeAlreadyReversed, err.Error())
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	if !created && !sameRefund(want, got) {
		writeKeyReused(w, "transactionNo", want.TransactionNo, "refund")
		return
	}
	// Starting again on a replay is harmless and heals a refund whose first
	// start never reached Temporal.
	if err := s.startRefund(r.Context(), got, m.projectCode); err != nil {
		s.log.Error("start refund workflow", "refund", got.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable,
			"the refund is recorded; send the same request again to start it")
		return
	}
	writeJSON(w, http.StatusAccepted, rechargeCreated{ID: got.ID, Status: got.Status, WorkflowID: got.WorkflowID})
}

// sameRefund reports whether a repeated transactionNo carries the same
// application; another body under the same key is a conflict.
func sameRefund(a, b refundstore.Refund) bool {
	same := func(x, y *string) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	if a.Full || b.Full { // a full refund's amount is what was refundable then
		a.Amount = b.Amount
	}
	return a.Kind == b.Kind && a.Full == b.Full && a.KeepPower == b.KeepPower && same(a.ReversesRechargeID, b.ReversesRechargeID) &&
		rechargedom.SameRequest(rechargedom.Request{MeterNo: a.MeterNo, Amount: a.Amount, TransactionNo: a.TransactionNo},
			rechargedom.Request{MeterNo: b.MeterNo, Amount: b.Amount, TransactionNo: b.TransactionNo})
}

func (s *Server) startRefund(ctx context.Context, f refundstore.Refund, projectCode string) error {
	in := refundwf.Input{RefundID: f.ID, ProjectID: f.ProjectID, ProjectCode: projectCode, MeterID: f.MeterID,
		MeterNo: f.MeterNo, Amount: f.Amount, Kind: f.Kind, Reason: f.Reason, DispatchWindow: s.cfg.DispatchWindow, KeepPower: f.KeepPower}
	if f.ReversesRechargeID != nil {
		in.ReversesRechargeID = *f.ReversesRechargeID
	}
	// Waited for at the counter, as a sale: the interactive lane.
	return names.StartInteractive(ctx, s.cfg.Temporal, f.WorkflowID, refundwf.Kind, names.Attributes(projectCode, refundwf.Kind, f.MeterNo, string(f.Status)), in)
}

func (s *Server) getRefund(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	f, err := refundstore.Get(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	if err == nil {
		err = s.meterInScope(r, f.ProjectID, f.MeterNo, refundstore.ErrNotFound)
	}
	s.writeFound(w, r, f, err, refundstore.ErrNotFound, "refund not found")
}

func (s *Server) redispatchRefund(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	f, err := refundstore.Get(r.Context(), s.cfg.DB, op.Grants.Projects(), chi.URLParam(r, "id"))
	if !s.found(w, r, err, refundstore.ErrNotFound, "refund not found") {
		return
	}
	s.redispatch(w, r, "refund", f.ProjectID, f.ID, f.WorkflowID, f.Status)
}
