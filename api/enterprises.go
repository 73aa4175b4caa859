package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/enterprise"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	creditstore "github.com/voltflow/voltflow/store/credit"
	creditwf "github.com/voltflow/voltflow/workflows/credit"
	"github.com/voltflow/voltflow/workflows/names"
)

// Problem codes of enterprise credit (企业信用).
const (
	CodeDuplicate           = "duplicate"
	CodeCreditNotOpen       = "credit_not_open"
	CodeCreditAlreadyOpen   = "credit_already_open"
	CodeCreditLimitExceeded = "credit_limit_exceeded"
	CodeCreditSuspended     = "credit_suspended"
	CodeRepaymentTooLarge   = "repayment_exceeds_owed"
)

var creditTitles = map[string]string{
	CodeDuplicate:           "Already exists",
	CodeCreditNotOpen:       "Enterprise has no credit account",
	CodeCreditAlreadyOpen:   "Enterprise already has a credit account",
	CodeCreditLimitExceeded: "Consumption exceeds the available credit",
	CodeCreditSuspended:     "Credit account is suspended",
	CodeRepaymentTooLarge:   "Repayment exceeds what is owed",
}

// writeCreditProblem is writeProblemField for the codes above (same shape).
func writeCreditProblem(w http.ResponseWriter, status int, code, detail, field string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{Type: "https://voltflow.dev/problems/" + code, Title: creditTitles[code],
		Status: status, Detail: detail, Code: code, Field: field})
}

// writeCreditRuleProblem answers a request domain/creditline refused.
func writeCreditRuleProblem(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, creditline.ErrNotOpen):
		writeCreditProblem(w, http.StatusConflict, CodeCreditNotOpen, err.Error(), "enterpriseId")
	case errors.Is(err, creditline.ErrAlreadyOpen):
		writeCreditProblem(w, http.StatusConflict, CodeCreditAlreadyOpen, err.Error(), "kind")
	case errors.Is(err, creditline.ErrExceedsLimit):
		writeCreditProblem(w, http.StatusUnprocessableEntity, CodeCreditLimitExceeded, err.Error(), "amount")
	case errors.Is(err, creditline.ErrSuspended):
		writeCreditProblem(w, http.StatusConflict, CodeCreditSuspended, err.Error(), "")
	case errors.Is(err, creditline.ErrRepayTooLarge):
		writeCreditProblem(w, http.StatusUnprocessableEntity, CodeRepaymentTooLarge, err.Error(), "amount")
	case errors.Is(err, creditline.ErrNotPositive):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, err.Error(), "amount")
	case errors.Is(err, creditline.ErrLimitRange), errors.Is(err, creditline.ErrSameLimit):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, err.Error(), "limit")
	default:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "kind")
	}
}

type enterpriseRequest struct {
	ProjectID string `json:"projectId"` // optional when the caller has one project
	enterprise.Enterprise
}

// createEnterprise adds an enterprise customer (企业客户新增).
func (s *Server) createEnterprise(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req enterpriseRequest
	if !decode(w, r, &req) {
		return
	}
	project := req.ProjectID
	if project == "" {
		if ps := op.Grants.Projects(); len(ps) == 1 {
			project = ps[0]
		}
	}
	if !op.Grants.Can(project, access.ViewData) {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "project not found; name one with projectId", "projectId")
		return
	}
	setAudit(r, project, req.Code, map[string]any{"name": req.Name})
	if !op.Grants.Can(project, access.SellEnergy) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "adding enterprises needs the cashier role")
		return
	}
	if field, err := req.Validate(); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), field)
		return
	}
	e, err := creditstore.CreateEnterprise(r.Context(), s.cfg.DB, project, req.Enterprise)
	if errors.Is(err, creditstore.ErrDuplicate) {
		writeCreditProblem(w, http.StatusConflict, CodeDuplicate, "enterprise code "+req.Code+" is taken", "code")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

// enterpriseFor loads the enterprise in the URL or body among the caller's
// projects (404), records the audit subject and checks the action (403).
func (s *Server) enterpriseFor(w http.ResponseWriter, r *http.Request, id string, a access.Action, forbidden string) (creditstore.Enterprise, bool) {
	op := operatorFrom(r.Context())
	e, err := creditstore.GetEnterprise(r.Context(), s.cfg.DB, op.Grants.Projects(), id)
	if errors.Is(err, creditstore.ErrNotFound) || (err == nil && !op.Grants.Can(e.ProjectID, access.ViewData)) {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "enterprise not found", "enterpriseId")
		return e, false
	}
	if err != nil {
		s.internal(w, r, err)
		return e, false
	}
	setAudit(r, e.ProjectID, e.Code, nil)
	if !op.Grants.Can(e.ProjectID, a) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, forbidden)
		return e, false
	}
	return e, true
}

func (s *Server) getEnterprise(w http.ResponseWriter, r *http.Request) {
	if e, ok := s.enterpriseFor(w, r, chi.URLParam(r, "id"), access.ViewData, ""); ok {
		writeJSON(w, http.StatusOK, e)
	}
}

func (s *Server) listEnterprises(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	servePage(s, w, r, func(p page) ([]creditstore.Enterprise, error) {
		return creditstore.ListEnterprises(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), p.limit, p.before, p.beforeID)
	}, func(e creditstore.Enterprise) (time.Time, string) { return e.CreatedAt, e.ID })
}

// addStaff records a staff member and their cards (人员管理).
func (s *Server) addStaff(w http.ResponseWriter, r *http.Request) {
	var req enterprise.Staff
	if !decode(w, r, &req) {
		return
	}
	e, ok := s.enterpriseFor(w, r, chi.URLParam(r, "id"), access.SellEnergy, "managing staff needs the cashier role")
	if !ok {
		return
	}
	if field, err := req.Validate(); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), field)
		return
	}
	m, err := creditstore.AddStaff(r.Context(), s.cfg.DB, e.ID, req)
	if errors.Is(err, creditstore.ErrDuplicate) {
		writeCreditProblem(w, http.StatusConflict, CodeDuplicate, err.Error(), "cards")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) listStaff(w http.ResponseWriter, r *http.Request) {
	e, ok := s.enterpriseFor(w, r, chi.URLParam(r, "id"), access.ViewData, "")
	if !ok {
		return
	}
	items, err := creditstore.ListStaff(r.Context(), s.cfg.DB, e.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(items)})
}

type enterpriseRechargeRequest struct {
	EnterpriseID  string        `json:"enterpriseId"`
	Amount        jsonRawAmount `json:"amount"`
	TransactionNo string        `json:"transactionNo"`
}

// createEnterpriseRecharge applies for a recharge of an enterprise's
// prepaid wallet (企业充值); an approver reviews it, then it is booked.
func (s *Server) createEnterpriseRecharge(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req enterpriseRechargeRequest
	if !decode(w, r, &req) {
		return
	}
	amount, ok := req.Amount.parse(w)
	if !ok {
		return
	}
	e, ok := s.enterpriseFor(w, r, req.EnterpriseID, access.SellEnergy, "applying for an enterprise recharge needs the cashier role")
	if !ok {
		return
	}
	setAudit(r, e.ProjectID, e.Code, map[string]any{"amount": amount.String(), "transactionNo": req.TransactionNo})
	want := enterprise.RechargeRequest{EnterpriseID: e.ID, Amount: amount, TransactionNo: req.TransactionNo}
	if field, err := want.Validate(); err != nil {
		code := CodeInvalidField
		if field == "amount" {
			code = CodeInvalidAmount
		}
		writeProblemField(w, http.StatusUnprocessableEntity, code, err.Error(), field)
		return
	}
	id := uuid.NewString()
	got, created, err := creditstore.ApplyRecharge(r.Context(), s.cfg.DB, creditstore.Recharge{ID: id, ProjectID: e.ProjectID,
		EnterpriseID: e.ID, TransactionNo: req.TransactionNo, Amount: amount, Status: rechargedom.PendingApproval,
		WorkflowID: creditwf.RechargeWorkflowID(id), CreatedBy: op.ID})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if !created && !want.Same(got.Request()) {
		writeKeyReused(w, "transactionNo", req.TransactionNo, "recharge")
		return
	}
	projectCode, err := s.enterpriseProjectCode(r, e.ProjectID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, got.WorkflowID, creditwf.KindRecharge, names.Attributes(projectCode, creditwf.KindRecharge, e.Code, string(got.Status)),
		creditwf.RechargeInput{RechargeID: got.ID, ProjectID: got.ProjectID, ProjectCode: projectCode, EnterpriseID: e.ID,
			EnterpriseCode: e.Code, Amount: got.Amount}); err != nil {
		s.log.Error("start enterprise recharge workflow", "recharge", got.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the recharge is recorded; send the same request again to start it")
		return
	}
	writeJSON(w, http.StatusAccepted, rechargeCreated{ID: got.ID, Status: got.Status, WorkflowID: got.WorkflowID})
}

func (s *Server) getEnterpriseRecharge(w http.ResponseWriter, r *http.Request) {
	getByID(s, w, r, creditstore.GetRecharge, creditstore.ErrNotFound, "enterprise recharge not found")
}

func (s *Server) enterpriseProjectCode(r *http.Request, projectID string) (string, error) {
	var code string
	err := s.cfg.DB.QueryRow(r.Context(), `select code from projects where id=$1`, projectID).Scan(&code)
	return code, err
}
