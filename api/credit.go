package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/bill"
	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	creditstore "github.com/voltflow/voltflow/store/credit"
	mailstore "github.com/voltflow/voltflow/store/mail"
	creditwf "github.com/voltflow/voltflow/workflows/credit"
	"github.com/voltflow/voltflow/workflows/names"
)

type creditApplicationRequest struct {
	EnterpriseID  string          `json:"enterpriseId"`
	Kind          creditline.Kind `json:"kind"`
	Limit         jsonRawAmount   `json:"limit"`
	ApplicationNo string          `json:"applicationNo"`
	// Billing cycle of an opening, as Go durations ("720h"); defaults 30/15/15 days.
	Cycle    string `json:"cycle,omitempty"`
	DueAfter string `json:"dueAfter,omitempty"`
	Grace    string `json:"grace,omitempty"`
}

// parseCycle reads the optional cycle durations (1 s to 400 days each).
func (req creditApplicationRequest) parseCycle() (bill.Cycle, string, error) {
	var c bill.Cycle
	for _, f := range []struct {
		name string
		raw  string
		to   *time.Duration
	}{{"cycle", req.Cycle, &c.Length}, {"dueAfter", req.DueAfter, &c.DueAfter}, {"grace", req.Grace, &c.SuspendWait}} {
		if f.raw == "" {
			continue
		}
		d, err := time.ParseDuration(f.raw)
		if err != nil || d < time.Second || d > 400*24*time.Hour {
			return c, f.name, fmt.Errorf("%s must be a duration from 1s to 9600h, e.g. \"720h\"", f.name)
		}
		*f.to = d
	}
	if req.Kind != creditline.Open && c != (bill.Cycle{}) {
		return c, "cycle", errors.New("the billing cycle is set when credit is opened")
	}
	return c, "", nil
}

// createCreditApplication applies for opening a credit account with a limit
// or for adjusting its limit; an approver decides in the inbox.
func (s *Server) createCreditApplication(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req creditApplicationRequest
	if !decode(w, r, &req) {
		return
	}
	var limit money.Amount
	if err := limit.UnmarshalJSON(req.Limit.raw); err != nil || len(req.Limit.raw) == 0 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, "limit must be a decimal with at most 2 places, e.g. \"5000.00\"", "limit")
		return
	}
	e, ok := s.enterpriseFor(w, r, req.EnterpriseID, access.SellEnergy, "applying for credit needs the cashier role")
	if !ok {
		return
	}
	setAudit(r, e.ProjectID, e.Code, map[string]any{"kind": req.Kind, "limit": limit.String(), "applicationNo": req.ApplicationNo})
	if !txNoSyntax(req.ApplicationNo) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "applicationNo must be 1-64 characters of letters, digits, '-', '_', '.'", "applicationNo")
		return
	}
	cycle, field, err := req.parseCycle()
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), field)
		return
	}
	id := uuid.NewString()
	want := creditstore.Application{ID: id, ProjectID: e.ProjectID, EnterpriseID: e.ID, EnterpriseCode: e.Code,
		ApplicationNo: req.ApplicationNo, Kind: req.Kind, RequestedLimit: limit, Cycle: cycle,
		Status: rechargedom.PendingApproval, WorkflowID: creditwf.LimitWorkflowID(id), CreatedBy: op.ID}
	got, created, err := creditstore.Apply(r.Context(), s.cfg.DB, want)
	if err != nil {
		if errors.Is(err, creditline.ErrNotOpen) || errors.Is(err, creditline.ErrAlreadyOpen) || errors.Is(err, creditline.ErrLimitRange) ||
			errors.Is(err, creditline.ErrSameLimit) || errors.Is(err, creditline.ErrUnknownKind) {
			writeCreditRuleProblem(w, err)
			return
		}
		s.internal(w, r, err)
		return
	}
	if !created && !want.Same(got) {
		writeKeyReused(w, "applicationNo", req.ApplicationNo, "application")
		return
	}
	projectCode, err := s.enterpriseProjectCode(r, e.ProjectID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	in := creditwf.LimitInput{ApplicationID: got.ID, ProjectID: got.ProjectID, ProjectCode: projectCode, EnterpriseID: e.ID,
		EnterpriseCode: e.Code, Kind: got.Kind, Limit: got.RequestedLimit}
	if got.PreviousLimit != nil {
		in.PreviousLimit = got.PreviousLimit.String()
	}
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, got.WorkflowID, creditwf.KindLimit, names.Attributes(projectCode, creditwf.KindLimit, e.Code, string(got.Status)), in); err != nil {
		s.log.Error("start credit-limit workflow", "application", got.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the application is recorded; send the same request again to start it")
		return
	}
	writeJSON(w, http.StatusAccepted, rechargeCreated{ID: got.ID, Status: got.Status, WorkflowID: got.WorkflowID})
}

func txNoSyntax(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (s *Server) getCreditApplication(w http.ResponseWriter, r *http.Request) {
	getByID(s, w, r, creditstore.GetApplication, creditstore.ErrNotFound, "credit application not found")
}

type consumptionRequest struct {
	Key         string        `json:"key"`
	Amount      jsonRawAmount `json:"amount"`
	Description string        `json:"description"`
}

// createConsumption charges consumption to the enterprise's credit
// (refused beyond the limit or while suspended). 201 when charged, 200 when
// the key was charged before.
func (s *Server) createConsumption(w http.ResponseWriter, r *http.Request) {
	var req consumptionRequest
	if !decode(w, r, &req) {
		return
	}
	amount, ok := req.Amount.parse(w)
	if !ok {
		return
	}
	e, ok := s.enterpriseFor(w, r, chi.URLParam(r, "id"), access.SellEnergy, "charging to credit needs the cashier role")
	if !ok {
		return
	}
	setAudit(r, e.ProjectID, e.Code, map[string]any{"amount": amount.String(), "key": req.Key})
	if !txNoSyntax(req.Key) || len(req.Description) > 500 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "key must be 1-64 characters of letters, digits, '-', '_', '.'; description at most 500", "key")
		return
	}
	c, created, err := creditstore.Consume(r.Context(), s.cfg.DB, creditstore.ConsumeInput{ProjectID: e.ProjectID, EnterpriseID: e.ID,
		Key: req.Key, Amount: amount, Description: req.Description})
	switch {
	case errors.Is(err, creditstore.ErrKeyReused):
		writeProblemField(w, http.StatusConflict, CodeIdempotencyReuse, err.Error(), "key")
	case err != nil && errors.Is(err, creditline.ErrNotOpen), errors.Is(err, creditline.ErrExceedsLimit),
		errors.Is(err, creditline.ErrSuspended), errors.Is(err, creditline.ErrNotPositive):
		writeCreditRuleProblem(w, err)
	case err != nil:
		s.internal(w, r, err)
	case created:
		writeJSON(w, http.StatusCreated, c)
	default:
		writeJSON(w, http.StatusOK, c)
	}
}

func (s *Server) listBills(w http.ResponseWriter, r *http.Request) {
	e, ok := s.enterpriseFor(w, r, chi.URLParam(r, "id"), access.ViewData, "")
	if !ok {
		return
	}
	items, err := creditstore.ListBills(r.Context(), s.cfg.DB, e.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(items)})
}

func (s *Server) getBill(w http.ResponseWriter, r *http.Request) {
	getByID(s, w, r, creditstore.GetBill, creditstore.ErrNotFound, "bill not found")
}

type repaymentRequest struct {
	EnterpriseID  string        `json:"enterpriseId"`
	Amount        jsonRawAmount `json:"amount"`
	TransactionNo string        `json:"transactionNo"`
}

// createRepayment books a repayment of credit (还款) and answers with its
// receipt (收款单) and the bills it wrote off (核销).
func (s *Server) createRepayment(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req repaymentRequest
	if !decode(w, r, &req) {
		return
	}
	amount, ok := req.Amount.parse(w)
	if !ok {
		return
	}
	e, ok := s.enterpriseFor(w, r, req.EnterpriseID, access.SellEnergy, "taking repayments needs the cashier role")
	if !ok {
		return
	}
	setAudit(r, e.ProjectID, e.Code, map[string]any{"amount": amount.String(), "transactionNo": req.TransactionNo})
	if !txNoSyntax(req.TransactionNo) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "transactionNo must be 1-64 characters of letters, digits, '-', '_', '.'", "transactionNo")
		return
	}
	rep, created, err := creditstore.Repay(r.Context(), s.cfg.DB, creditstore.RepayInput{ProjectID: e.ProjectID, EnterpriseID: e.ID,
		TransactionNo: req.TransactionNo, Amount: amount, OperatorID: op.ID})
	switch {
	case errors.Is(err, creditstore.ErrKeyReused):
		writeProblemField(w, http.StatusConflict, CodeIdempotencyReuse, err.Error(), "transactionNo")
	case err != nil && (errors.Is(err, creditline.ErrNotOpen) || errors.Is(err, creditline.ErrRepayTooLarge) || errors.Is(err, creditline.ErrNotPositive)):
		writeCreditRuleProblem(w, err)
	case err != nil:
		s.internal(w, r, err)
	case created:
		writeJSON(w, http.StatusCreated, rep)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

// listMail shows the e-mail sent or held in the outbox, newest first
// (?ref= filters by ref prefix, e.g. "bill/").
func (s *Server) listMail(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	servePage(s, w, r, func(p page) ([]mailstore.Sent, error) {
		return mailstore.List(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), r.URL.Query().Get("ref"), p.limit, p.before, p.beforeID)
	}, func(m mailstore.Sent) (time.Time, string) { return m.CreatedAt, m.ID })
}
