package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/identifier"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/delivery"
	"github.com/voltflow/voltflow/workflows/names"
	rechargewf "github.com/voltflow/voltflow/workflows/recharge"
)

// CodeHoardingCapExceeded refuses a sale that would take the meter's
// balance above its project's hoarding cap (囤积金额上限).
const CodeHoardingCapExceeded = "hoarding_cap_exceeded"

type rechargeRequest struct {
	MeterNo       string        `json:"meterNo"`
	Amount        jsonRawAmount `json:"amount"`
	TransactionNo string        `json:"transactionNo"`
	// KWh sells energy by the kilowatt-hour (电度方式) instead of Amount.
	KWh *string `json:"kwh"`
	// Kind sale (default) or adjustment (调整电费充值, Reason required).
	Kind   rechargedom.Kind `json:"kind"`
	Reason string           `json:"reason"`
}

// jsonRawAmount defers amount parsing so a bad amount is a 422 with its own
// code, not a 400 for the whole body.
type jsonRawAmount struct{ raw []byte }

func (a *jsonRawAmount) UnmarshalJSON(b []byte) error { a.raw = append([]byte(nil), b...); return nil }

// parse reads the amount or writes the 422 problem and reports false.
func (a jsonRawAmount) parse(w http.ResponseWriter) (money.Amount, bool) {
	var amount money.Amount
	if len(a.raw) == 0 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, "amount is required", "amount")
		return amount, false
	}
	if a.raw[0] != '"' { // contracts.md: money is a decimal string, never a JSON number
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount,
			"amount must be a decimal string with at most 2 places, e.g. \"100.00\"", "amount")
		return amount, false
	}
	if err := amount.UnmarshalJSON(a.raw); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount,
			"amount must be a decimal with at most 2 places, e.g. \"100.00\": "+err.Error(), "amount")
		return amount, false
	}
	return amount, true
}

// writeValidationProblem answers a request that domain/recharge.Policy.Validate
// refused (recharges and refunds share the rules).
func writeValidationProblem(w http.ResponseWriter, err error) {
	code, field := CodeInvalidField, "transactionNo"
	switch {
	case errors.Is(err, rechargedom.ErrAmountNotPositive), errors.Is(err, rechargedom.ErrAmountTooLarge):
		code, field = CodeInvalidAmount, "amount"
	case errors.Is(err, rechargedom.ErrMeterNo):
		field = "meterNo"
	}
	writeProblemField(w, http.StatusUnprocessableEntity, code, err.Error(), field)
}

type rechargeCreated struct {
	ID         string             `json:"id"`
	Status     rechargedom.Status `json:"status"`
	WorkflowID string             `json:"workflowId"`
}

// meterIntake finds the meter of a sale or refund among the caller's
// projects (404 otherwise), sets the audit subject and checks the cashier's
// right. It writes the problem and returns false on failure.
func (s *Server) meterIntake(w http.ResponseWriter, r *http.Request, meterNo, forbidden string, audit map[string]any) (meterRef, bool) {
	op := operatorFrom(r.Context())
	if !checkFormat(w, "meterNo", meterNo, identifier.MeterNo) {
		return meterRef{}, false
	}
	m, err := s.findMeter(r.Context(), op.Grants.Projects(), meterNo)
	if errors.Is(err, pgx.ErrNoRows) || meterNo == "" {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "meter "+meterNo+" not found", "meterNo")
		return meterRef{}, false
	}
	if err != nil {
		s.internal(w, r, err)
		return meterRef{}, false
	}
	setAudit(r, m.projectID, meterNo, audit)
	if !op.Grants.Can(m.projectID, access.SellEnergy) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, forbidden)
		return meterRef{}, false
	}
	return m, true
}

// saleAmount reads what a sale is worth: its amount, or its kWh priced at
// the meter's price and CT × PT ratio (domain/recharge.KWhAmount), exactly
// one of the two. It writes the problem and returns false on failure.
func (s *Server) saleAmount(w http.ResponseWriter, r *http.Request, req rechargeRequest, rec *rechargestore.Recharge) bool {
	if (req.KWh == nil) == (len(req.Amount.raw) == 0) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, rechargedom.ErrAmountKWh.Error(), "amount")
		return false
	}
	if req.KWh == nil {
		amount, ok := req.Amount.parse(w)
		rec.Amount = amount
		return ok
	}
	kwh, err := rechargedom.ParseKWh(*req.KWh)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, err.Error(), "kwh")
		return false
	}
	var price string
	var ct, pt int64
	if err := s.cfg.DB.QueryRow(r.Context(), `select price::text, ct_ratio, pt_ratio from meters where id=$1`, rec.MeterID).Scan(&price, &ct, &pt); err != nil {
		s.internal(w, r, err)
		return false
	}
	p, err := money.ParsePrice(price)
	if err != nil {
		s.internal(w, r, err)
		return false
	}
	amount, err := rechargedom.KWhAmount(kwh, p, ct, pt)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, err.Error(), "kwh")
		return false
	}
	ratio := int(max(ct, 1) * max(pt, 1))
	rec.Amount, rec.KWh, rec.Price, rec.Ratio = amount, &rechargedom.Energy{Decimal: kwh}, &p, &ratio
	return true
}

func (s *Server) createRecharge(w http.ResponseWriter, r *http.Request) {
	var req rechargeRequest
	if !decode(w, r, &req) {
		return
	}
	got, ok := s.sell(w, r, req)
	if !ok {
		return
	}
	writeJSON(w, http.StatusAccepted, rechargeCreated{ID: got.ID, Status: got.Status, WorkflowID: got.WorkflowID})
}

// sell records a sale and starts its recharge workflow, idempotent by the
// transaction number (the operator API and the open API share it). It
// writes the problem and returns false on failure.
func (s *Server) sell(w http.ResponseWriter, r *http.Request, req rechargeRequest) (rechargestore.Recharge, bool) {
	op := operatorFrom(r.Context())
	audit := map[string]any{"transactionNo": req.TransactionNo}
	if len(req.Amount.raw) > 0 {
		audit["amount"] = strings.Trim(string(req.Amount.raw), `"`)
	}
	if req.KWh != nil {
		audit["kwh"] = *req.KWh
	}
	if req.Kind != "" {
		audit["kind"], audit["reason"] = string(req.Kind), req.Reason
	}
	m, ok := s.meterIntake(w, r, req.MeterNo, "selling energy needs the cashier role", audit)
	if !ok || s.refuseClosed(w, r, m) {
		return rechargestore.Recharge{}, false
	}
	if req.Kind == "" {
		req.Kind = rechargedom.Sale
	}
	if req.Kind != rechargedom.Sale && req.Kind != rechargedom.Adjustment {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, rechargedom.ErrKind.Error(), "kind")
		return rechargestore.Recharge{}, false
	}
	if err := rechargedom.CheckReason(req.Kind, req.Reason); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "reason")
		return rechargestore.Recharge{}, false
	}
	id := uuid.NewString()
	rec := rechargestore.Recharge{ID: id, ProjectID: m.projectID, MeterID: m.id, MeterNo: m.meterNo,
		TransactionNo: req.TransactionNo, WorkflowID: rechargewf.WorkflowID(id), CreatedBy: op.ID,
		Kind: req.Kind, Reason: req.Reason}
	if !s.saleAmount(w, r, req, &rec) {
		return rechargestore.Recharge{}, false
	}
	policy := rechargedom.DefaultPolicy()
	policy.AutoApproveUpTo = m.autoApproveUpTo
	want := rechargedom.Request{MeterNo: req.MeterNo, Amount: rec.Amount, TransactionNo: req.TransactionNo}
	if err := policy.Validate(want); err != nil {
		writeValidationProblem(w, err)
		return rechargestore.Recharge{}, false
	}
	// An adjustment brings no cash: someone else always approves it.
	rec.NeedsApproval = policy.NeedsApproval(rec.Amount) || req.Kind == rechargedom.Adjustment
	rec.Status = rechargedom.Approved
	if rec.NeedsApproval {
		rec.Status = rechargedom.PendingApproval
	}
	got, created, err := rechargestore.CreateCapped(r.Context(), s.cfg.DB, rec, m.hoardingCap)
	if errors.Is(err, rechargedom.ErrHoardingCapExceeded) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeHoardingCapExceeded, err.Error(), "amount")
		return rechargestore.Recharge{}, false
	}
	if err != nil {
		s.internal(w, r, err)
		return rechargestore.Recharge{}, false
	}
	if !created && (!rechargedom.SameRequest(want, rechargedom.Request{MeterNo: got.MeterNo, Amount: got.Amount, TransactionNo: got.TransactionNo}) ||
		got.Kind != rec.Kind || got.Reason != rec.Reason || (got.KWh == nil) != (rec.KWh == nil)) {
		writeKeyReused(w, "transactionNo", req.TransactionNo, "recharge")
		return rechargestore.Recharge{}, false
	}
	// Starting again on a replay is harmless (the ID is taken) and heals a
	// recharge whose first start never reached Temporal.
	if err := s.startRecharge(r.Context(), got, m.projectCode); err != nil {
		s.log.Error("start recharge workflow", "recharge", got.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable,
			"the recharge is recorded; send the same request again to start it")
		return rechargestore.Recharge{}, false
	}
	return got, true
}

func (s *Server) startRecharge(ctx context.Context, rec rechargestore.Recharge, projectCode string) error {
	in := rechargewf.Input{RechargeID: rec.ID, ProjectID: rec.ProjectID, ProjectCode: projectCode, MeterID: rec.MeterID,
		MeterNo: rec.MeterNo, Amount: rec.Amount, NeedsApproval: rec.NeedsApproval, DispatchWindow: s.cfg.DispatchWindow}
	// A platform-side meter's sale goes to its wallet, not into the meter.
	if err := s.cfg.DB.QueryRow(ctx, `select prepaid_mode = 'platform' from meters where id=$1`, rec.MeterID).Scan(&in.Platform); err != nil {
		return fmt.Errorf("prepaid mode of meter %s: %w", rec.MeterNo, err)
	}
	// A sale is waited for at the counter: the interactive lane.
	return names.StartInteractive(ctx, s.cfg.Temporal, rec.WorkflowID, rechargewf.Kind, names.Attributes(projectCode, rechargewf.Kind, rec.MeterNo, string(rec.Status)), in)
}

func (s *Server) getRecharge(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	rec, err := rechargestore.Get(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	if err == nil {
		err = s.meterInScope(r, rec.ProjectID, rec.MeterNo, rechargestore.ErrNotFound)
	}
	s.writeFound(w, r, rec, err, rechargestore.ErrNotFound, "recharge not found")
}

func (s *Server) listRecharges(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	servePage(s, w, r, func(p page) ([]rechargestore.Recharge, error) {
		return rechargestore.List(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), op.scope(), r.URL.Query().Get("meterNo"), p.limit, p.before, p.beforeID)
	}, func(last rechargestore.Recharge) (time.Time, string) { return last.CreatedAt, last.ID })
}

func (s *Server) redispatchRecharge(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	rec, err := rechargestore.Get(r.Context(), s.cfg.DB, op.Grants.Projects(), chi.URLParam(r, "id"))
	if !s.found(w, r, err, rechargestore.ErrNotFound, "recharge not found") {
		return
	}
	s.redispatch(w, r, "recharge", rec.ProjectID, rec.ID, rec.WorkflowID, rec.Status)
}

// redispatch asks the workflow of a recharge or refund in dispatch_failed
// to send it to the meter again.
func (s *Server) redispatch(w http.ResponseWriter, r *http.Request, what, projectID, id, workflowID string, current rechargedom.Status) {
	op := operatorFrom(r.Context())
	setAudit(r, projectID, id, nil)
	if !op.Grants.Can(projectID, access.Redispatch) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "re-dispatch needs the cashier or maintenance role")
		return
	}
	if current != rechargedom.DispatchFailed {
		writeProblem(w, http.StatusConflict, CodeNotRedispatchable, what+" is "+string(current)+", not dispatch_failed")
		return
	}
	var status rechargedom.Status
	if !s.update(w, r, workflowID, delivery.UpdateRedispatch, delivery.Redispatch{OperatorID: op.ID, Roles: op.Grants[projectID]}, &status) {
		return
	}
	writeJSON(w, http.StatusAccepted, rechargeCreated{ID: id, Status: status, WorkflowID: workflowID})
}

// update sends a Temporal Update and waits for its result; no worker within
// the timeout is a 503, never a silent success.
func (s *Server) update(w http.ResponseWriter, r *http.Request, workflowID, name string, arg, result any) bool {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpdateTimeout)
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		var h client.WorkflowUpdateHandle
		h, err = s.cfg.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, result)
		}
		// The inbox row the caller read is visible as soon as OpenTask commits,
		// a moment before the workflow has processed that activity's result;
		// its validator then calls the task unknown. A refused Update leaves
		// no trace in history, so asking again shortly is harmless.
		if err == nil || updateDetail(err) != approval.ErrUnknownTask.Error() || attempt == 20 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err == nil {
		return true
	}
	status, code := updateProblem(ctx, err)
	if status == http.StatusInternalServerError {
		s.internal(w, r, err)
		return false
	}
	writeProblem(w, status, code, updateDetail(err))
	return false
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
