package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/chargepay"
	"github.com/voltflow/voltflow/domain/money"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	"github.com/voltflow/voltflow/store"
	voucherstore "github.com/voltflow/voltflow/store/voucher"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/names"
	voucherwf "github.com/voltflow/voltflow/workflows/voucher"
)

// Vouchers (代金券, F5): a cashier applies for a batch, an approver reviews it
// in the inbox, the cashier issues it to customers or an issuing group
// (发券组), an approver reviews the issuance; vouchers pay part of a recharge,
// are voided with review and expire.

// financeRoutes mounts vouchers, invoices, account closing and the finance
// reports (issue 7) on the authenticated API.
func (s *Server) financeRoutes(r chi.Router) {
	r.With(s.audit("issuing-group.create")).Post("/issuing-groups", s.createIssuingGroup)
	r.Get("/issuing-groups", s.listIssuingGroups)
	r.With(s.audit("voucher-batch.create")).Post("/voucher-batches", s.createVoucherBatch)
	r.Get("/voucher-batches", s.listVoucherBatches)
	r.Get("/voucher-batches/{id}", s.getVoucherBatch)
	r.With(s.audit("voucher-batch.issue")).Post("/voucher-batches/{id}/issue", s.issueVoucherBatch)
	r.Get("/vouchers", s.listVouchers)
	r.Get("/vouchers/{id}", s.getVoucher)
	r.With(s.audit("voucher.redeem")).Post("/vouchers/{id}/redeem", s.redeemVoucher)
	r.With(s.audit("voucher.void")).Post("/vouchers/{id}/void", s.voidVoucher)
	r.Get("/voucher-voids/{id}", s.getVoucherVoid)
	r.With(s.audit("invoice.create")).Post("/invoices", s.createInvoice)
	r.Get("/invoices", s.listInvoices)
	r.Get("/invoices/{id}", s.getInvoice)
	r.With(s.audit("account.close")).Post("/meters/{meterNo}/close", s.closeAccount)
	r.Get("/account-closings/{id}", s.getAccountClosing)
	r.Get("/finance-reports/{name}", s.financeReport)
}

// applyingProject picks the project a cashier applies in: the one named, or
// the only one where the caller may sell. It writes the problem (403 without
// the cashier role) and returns false on failure.
func (s *Server) applyingProject(w http.ResponseWriter, r *http.Request, want, forbidden string) (id, code string, ok bool) {
	op := operatorFrom(r.Context())
	ps := op.projectsFor(access.SellEnergy)
	switch {
	case want != "" && !op.Grants.Can(want, access.SellEnergy):
		if len(op.Grants[want]) == 0 {
			writeProblemField(w, http.StatusNotFound, CodeNotFound, "project not found", "projectId")
			return "", "", false
		}
		writeProblem(w, http.StatusForbidden, CodeForbidden, forbidden)
		return "", "", false
	case want != "":
		id = want
	case len(ps) == 0:
		writeProblem(w, http.StatusForbidden, CodeForbidden, forbidden)
		return "", "", false
	case len(ps) > 1:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "projectId is required: you work in several projects", "projectId")
		return "", "", false
	default:
		id = ps[0]
	}
	if err := s.cfg.DB.QueryRow(r.Context(), `select code from projects where id=$1`, id).Scan(&code); err != nil {
		s.internal(w, r, err)
		return "", "", false
	}
	return id, code, true
}

func (s *Server) projectCode(ctx context.Context, id string) (string, error) {
	var code string
	err := s.cfg.DB.QueryRow(ctx, `select code from projects where id=$1`, id).Scan(&code)
	return code, err
}

// checkTransactionNo answers 422 unless v is a usable idempotency key and
// reports whether it is.
func checkTransactionNo(w http.ResponseWriter, v string) bool {
	if !transactionNoOK(v) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "transactionNo must be 1-64 letters, digits, '-', '_', '.'", "transactionNo")
		return false
	}
	return true
}

// transactionNoOK: 1-64 letters, digits, '-', '_', '.'.
func transactionNoOK(v string) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

type issuingGroupRequest struct {
	ProjectID   string   `json:"projectId"`
	Name        string   `json:"name"`
	CustomerIDs []string `json:"customerIds"`
}

type issuingGroup struct {
	ID          string    `json:"id"`
	ProjectID   string    `json:"projectId"`
	Name        string    `json:"name"`
	CustomerIDs []string  `json:"customerIds"`
	CreatedAt   time.Time `json:"createdAt"`
}

// createIssuingGroup defines an issuing group (发券组管理).
func (s *Server) createIssuingGroup(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req issuingGroupRequest
	if !decode(w, r, &req) {
		return
	}
	projectID, _, ok := s.applyingProject(w, r, req.ProjectID, "defining an issuing group needs the cashier role")
	if !ok {
		return
	}
	setAudit(r, projectID, req.Name, map[string]any{"customers": len(req.CustomerIDs)})
	if n := len([]rune(strings.TrimSpace(req.Name))); n == 0 || n > 100 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "name must be 1-100 characters", "name")
		return
	}
	if len(req.CustomerIDs) == 0 || len(req.CustomerIDs) > voucherdom.MaxQuantity {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "customerIds names 1..10000 customers", "customerIds")
		return
	}
	ids, err := voucherstore.Customers(r.Context(), s.cfg.DB, projectID, req.CustomerIDs, "")
	if errors.Is(err, voucherstore.ErrUnknownCustomers) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "customerIds")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	g := issuingGroup{ID: uuid.NewString(), ProjectID: projectID, Name: strings.TrimSpace(req.Name), CustomerIDs: ids}
	err = pgx.BeginFunc(r.Context(), s.cfg.DB, func(tx pgx.Tx) error {
		if err := tx.QueryRow(r.Context(), `insert into issuing_groups(id, project_id, name, created_by) values($1,$2,$3,$4) returning created_at`,
			g.ID, projectID, g.Name, op.ID).Scan(&g.CreatedAt); err != nil {
			return err
		}
		_, err := tx.Exec(r.Context(), `insert into issuing_group_members(group_id, customer_id) select $1, unnest($2::uuid[])`, g.ID, ids)
		return err
	})
	if store.IsUniqueViolation(err) {
		writeProblemField(w, http.StatusConflict, CodeInvalidField, "an issuing group of that name exists", "name")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, g)
}

func (s *Server) listIssuingGroups(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	rows, err := s.cfg.DB.Query(r.Context(), `select g.id, g.project_id, g.name, g.created_at,
		array(select customer_id::text from issuing_group_members m where m.group_id=g.id order by 1)
		from issuing_groups g where g.project_id::text = any($1) order by g.name limit 500`, op.projectsFor(access.ViewData))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (issuingGroup, error) {
		var g issuingGroup
		err := row.Scan(&g.ID, &g.ProjectID, &g.Name, &g.CreatedAt, &g.CustomerIDs)
		return g, err
	})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(items)})
}

type voucherBatchRequest struct {
	ProjectID     string        `json:"projectId"`
	Name          string        `json:"name"`
	FaceValue     jsonRawAmount `json:"faceValue"`
	Quantity      int           `json:"quantity"`
	ExpiresAt     time.Time     `json:"expiresAt"`
	TransactionNo string        `json:"transactionNo"`
	// ChargingRule is what the batch's vouchers pay of a charging order
	// (whole, the default, or service_fee).
	ChargingRule string `json:"chargingRule"`
}

type applied struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	WorkflowID string `json:"workflowId"`
}

// createVoucherBatch applies for a voucher batch (电子券申请).
func (s *Server) createVoucherBatch(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req voucherBatchRequest
	if !decode(w, r, &req) {
		return
	}
	projectID, code, ok := s.applyingProject(w, r, req.ProjectID, "applying for vouchers needs the cashier role")
	if !ok {
		return
	}
	setAudit(r, projectID, req.TransactionNo, map[string]any{"name": req.Name, "quantity": req.Quantity})
	face, ok := amountField(w, req.FaceValue, "faceValue")
	if !ok {
		return
	}
	app := voucherdom.Application{Name: strings.TrimSpace(req.Name), FaceValue: face, Quantity: req.Quantity, ExpiresAt: req.ExpiresAt}
	if err := app.Validate(time.Now()); err != nil {
		writeVoucherProblem(w, err)
		return
	}
	if !checkTransactionNo(w, req.TransactionNo) {
		return
	}
	if req.ChargingRule == "" {
		req.ChargingRule = string(chargepay.Whole)
	}
	if !chargepay.Rule(req.ChargingRule).Valid() {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "chargingRule must be whole or service_fee", "chargingRule")
		return
	}
	id := uuid.NewString()
	b, created, err := voucherstore.CreateBatch(r.Context(), s.cfg.DB, voucherstore.Batch{ID: id, ProjectID: projectID,
		TransactionNo: req.TransactionNo, Name: app.Name, FaceValue: face, Quantity: app.Quantity, ExpiresAt: app.ExpiresAt,
		Status: voucherdom.PendingApproval, WorkflowID: voucherwf.BatchWorkflowID(id), CreatedBy: op.ID, ChargingRule: req.ChargingRule})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if !created && (b.Name != app.Name || !b.FaceValue.Equal(face) || b.Quantity != app.Quantity || !b.ExpiresAt.Equal(app.ExpiresAt) ||
		b.ChargingRule != req.ChargingRule) {
		writeKeyReused(w, "transactionNo", req.TransactionNo, "batch")
		return
	}
	in := voucherwf.BatchInput{BatchID: b.ID, ProjectID: b.ProjectID, ProjectCode: code, Name: b.Name, FaceValue: b.FaceValue,
		Quantity: b.Quantity, ExpiresAt: b.ExpiresAt}
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, b.WorkflowID, voucherwf.KindBatch, names.Attributes(code, voucherwf.KindBatch, b.Name, string(b.Status)), in); err != nil {
		s.log.Error("start voucher batch", "batch", b.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the application is recorded; send the same request again to start it")
		return
	}
	writeJSON(w, http.StatusAccepted, applied{ID: b.ID, Status: string(b.Status), WorkflowID: b.WorkflowID})
}

// cashierVoucher is the voucher {id} a cashier acts on (redeem, void): found
// in any project of the caller, audited with details, and refused with
// forbidden (403) without the cashier role in its project.
func (s *Server) cashierVoucher(w http.ResponseWriter, r *http.Request, details map[string]any, forbidden string) (voucherstore.Voucher, bool) {
	op := operatorFrom(r.Context())
	v, err := voucherstore.GetVoucher(r.Context(), s.cfg.DB, op.Grants.Projects(), chi.URLParam(r, "id"))
	if !s.found(w, r, err, voucherstore.ErrNotFound, "voucher not found") {
		return v, false
	}
	setAudit(r, v.ProjectID, v.VoucherNo, details)
	if !op.Grants.Can(v.ProjectID, access.SellEnergy) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, forbidden)
		return v, false
	}
	return v, true
}

// amountField parses a money field or writes the 422.
func amountField(w http.ResponseWriter, raw jsonRawAmount, field string) (money.Amount, bool) {
	var a money.Amount
	if len(raw.raw) == 0 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, field+" is required", field)
		return a, false
	}
	if err := a.UnmarshalJSON(raw.raw); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, field+" must be a decimal with at most 2 places: "+err.Error(), field)
		return a, false
	}
	return a, true
}

// writeVoucherProblem answers a refusal of domain/voucher's rules.
func writeVoucherProblem(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, voucherdom.ErrName):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "name")
	case errors.Is(err, voucherdom.ErrFaceValue):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, err.Error(), "faceValue")
	case errors.Is(err, voucherdom.ErrQuantity):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "quantity")
	case errors.Is(err, voucherdom.ErrExpiry):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "expiresAt")
	case errors.Is(err, voucherdom.ErrNoRecipients), errors.Is(err, voucherdom.ErrTooMany):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "customerIds")
	case errors.Is(err, voucherdom.ErrNotIssuable):
		writeProblem(w, http.StatusConflict, CodeNotIssuable, err.Error())
	case errors.Is(err, voucherdom.ErrNotRedeemable):
		writeProblem(w, http.StatusConflict, CodeNotRedeemable, err.Error())
	case errors.Is(err, voucherdom.ErrExceedsValue), errors.Is(err, voucherdom.ErrExceedsSale):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeVoucherExceeded, err.Error(), "amount")
	case errors.Is(err, voucherdom.ErrNotVoidable):
		writeProblem(w, http.StatusConflict, CodeNotVoidable, err.Error())
	default:
		writeProblem(w, http.StatusInternalServerError, CodeInternal, err.Error())
	}
}

func (s *Server) getVoucherBatch(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	b, err := voucherstore.GetBatch(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	s.writeFound(w, r, b, err, voucherstore.ErrNotFound, "voucher batch not found")
}

func (s *Server) listVoucherBatches(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	servePage(s, w, r, func(p page) ([]voucherstore.Batch, error) {
		return voucherstore.ListBatches(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), p.limit, p.before, p.beforeID)
	}, func(last voucherstore.Batch) (time.Time, string) { return last.CreatedAt, last.ID })
}

type issueRequest struct {
	CustomerIDs []string `json:"customerIds"`
	GroupID     string   `json:"groupId"`
}

// issueVoucherBatch applies for the issuance of an approved batch (电子券发放)
// to customers, an issuing group, or both; an approver reviews it next.
func (s *Server) issueVoucherBatch(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req issueRequest
	if !decode(w, r, &req) {
		return
	}
	b, err := voucherstore.GetBatch(r.Context(), s.cfg.DB, op.Grants.Projects(), chi.URLParam(r, "id"))
	if !s.found(w, r, err, voucherstore.ErrNotFound, "voucher batch not found") {
		return
	}
	setAudit(r, b.ProjectID, b.ID, map[string]any{"customers": len(req.CustomerIDs), "groupId": req.GroupID})
	if !op.Grants.Can(b.ProjectID, access.SellEnergy) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "issuing vouchers needs the cashier role")
		return
	}
	if req.GroupID != "" {
		if _, err := uuid.Parse(req.GroupID); err != nil {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "groupId must be an issuing group id", "groupId")
			return
		}
	}
	ids, err := voucherstore.Customers(r.Context(), s.cfg.DB, b.ProjectID, req.CustomerIDs, req.GroupID)
	if errors.Is(err, voucherstore.ErrUnknownCustomers) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "customerIds")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if err := voucherdom.CheckIssuance(b.Status, b.Quantity, len(ids)); err != nil {
		writeVoucherProblem(w, err)
		return
	}
	var status voucherdom.BatchStatus
	if !s.voucherUpdate(w, r, b.WorkflowID, voucherwf.Issue{CustomerIDs: ids, GroupID: req.GroupID, OperatorID: op.ID,
		Roles: op.Grants[b.ProjectID]}, &status) {
		return
	}
	writeJSON(w, http.StatusAccepted, applied{ID: b.ID, Status: string(status), WorkflowID: b.WorkflowID})
}

// voucherUpdate sends the issue Update. The batch's projection turns
// approved a moment before its workflow does, so a "not approved" answer is
// asked again shortly (a refused Update leaves no trace in history).
func (s *Server) voucherUpdate(w http.ResponseWriter, r *http.Request, workflowID string, arg voucherwf.Issue, result any) bool {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpdateTimeout)
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		var h client.WorkflowUpdateHandle
		h, err = s.cfg.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: voucherwf.UpdateIssue,
			Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, result)
		}
		msg := ""
		if err != nil {
			msg = updateDetail(err)
		}
		if err == nil || !strings.Contains(msg, "batch is "+string(voucherdom.PendingApproval)) || attempt == 40 {
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
	msg := updateDetail(err)
	switch {
	case msg == approval.ErrNotYourRole.Error():
		writeProblem(w, http.StatusForbidden, CodeForbidden, msg)
	case strings.Contains(msg, voucherdom.ErrNotIssuable.Error()):
		writeProblem(w, http.StatusConflict, CodeNotIssuable, msg)
	case strings.Contains(msg, voucherdom.ErrTooMany.Error()), strings.Contains(msg, voucherdom.ErrNoRecipients.Error()):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, msg, "customerIds")
	default:
		status, code := updateProblem(ctx, err)
		if status == http.StatusInternalServerError {
			s.internal(w, r, err)
			return false
		}
		if code == CodeTaskDecided { // the batch's workflow has ended
			code = CodeNotIssuable
		}
		writeProblem(w, status, code, msg)
	}
	return false
}

func (s *Server) listVouchers(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	q := r.URL.Query()
	// By number: the cursor's key is the last number, its time unused.
	servePage(s, w, r, func(p page) ([]voucherstore.Voucher, error) {
		return voucherstore.ListVouchers(r.Context(), s.cfg.DB, voucherstore.VoucherFilter{Projects: op.projectsFor(access.ViewData),
			BatchID: q.Get("batchId"), CustomerID: q.Get("customerId"), Status: q.Get("status"), Limit: p.limit, After: p.beforeID})
	}, func(last voucherstore.Voucher) (time.Time, string) { return time.Time{}, last.VoucherNo })
}

func (s *Server) getVoucher(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	v, err := voucherstore.GetVoucher(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	s.writeFound(w, r, v, err, voucherstore.ErrNotFound, "voucher not found")
}

type redeemRequest struct {
	RechargeID    string        `json:"rechargeId"`
	Amount        jsonRawAmount `json:"amount"`
	TransactionNo string        `json:"transactionNo"`
}

// redeemVoucher spends a voucher on a completed recharge: that much of the
// sale was paid by voucher, not cash, and is never refundable.
func (s *Server) redeemVoucher(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req redeemRequest
	if !decode(w, r, &req) {
		return
	}
	v, ok := s.cashierVoucher(w, r, map[string]any{"rechargeId": req.RechargeID, "transactionNo": req.TransactionNo},
		"redeeming a voucher needs the cashier role")
	if !ok {
		return
	}
	amount, ok := amountField(w, req.Amount, "amount")
	if !ok {
		return
	}
	if !checkTransactionNo(w, req.TransactionNo) {
		return
	}
	if _, err := uuid.Parse(req.RechargeID); err != nil {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "recharge not found", "rechargeId")
		return
	}
	red, created, err := voucherstore.Redeem(r.Context(), s.cfg.DB, voucherstore.RedeemInput{ID: uuid.NewString(), ProjectID: v.ProjectID,
		VoucherID: v.ID, RechargeID: req.RechargeID, Amount: amount, Key: req.TransactionNo, CreatedBy: op.ID, Now: time.Now()})
	switch {
	case errors.Is(err, voucherstore.ErrKeyReused):
		writeProblemField(w, http.StatusConflict, CodeIdempotencyReuse, err.Error(), "transactionNo")
	case errors.Is(err, voucherstore.ErrNotFound):
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "recharge not found", "rechargeId")
	case errors.Is(err, voucherstore.ErrRechargeNotPaid), errors.Is(err, voucherstore.ErrWalletShort):
		writeProblem(w, http.StatusConflict, CodeNotRedeemable, err.Error())
	case errors.Is(err, voucherdom.ErrNotRedeemable), errors.Is(err, voucherdom.ErrExceedsValue), errors.Is(err, voucherdom.ErrExceedsSale):
		writeVoucherProblem(w, err)
	case err != nil:
		s.internal(w, r, err)
	case created:
		writeJSON(w, http.StatusCreated, red)
	default:
		writeJSON(w, http.StatusOK, red)
	}
}

type voidRequest struct {
	Reason string `json:"reason"`
}

// voidVoucher applies for voiding a voucher (代金券作废申请); an approver decides.
func (s *Server) voidVoucher(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req voidRequest
	if !decode(w, r, &req) {
		return
	}
	v, ok := s.cashierVoucher(w, r, map[string]any{"reason": req.Reason}, "applying to void a voucher needs the cashier role")
	if !ok {
		return
	}
	if n := len([]rune(strings.TrimSpace(req.Reason))); n == 0 || n > 500 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "reason must be 1-500 characters", "reason")
		return
	}
	code, err := s.projectCode(r.Context(), v.ProjectID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	id := uuid.NewString()
	d, err := voucherstore.ApplyVoid(r.Context(), s.cfg.DB, voucherstore.Void{ID: id, ProjectID: v.ProjectID, VoucherID: v.ID,
		Reason: strings.TrimSpace(req.Reason), WorkflowID: voucherwf.VoidWorkflowID(id), CreatedBy: op.ID})
	switch {
	case errors.Is(err, voucherstore.ErrVoidUnderWay):
		writeProblem(w, http.StatusConflict, CodeVoidUnderWay, err.Error())
		return
	case errors.Is(err, voucherdom.ErrNotVoidable):
		writeVoucherProblem(w, err)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	in := voucherwf.VoidInput{VoidID: d.ID, ProjectID: d.ProjectID, ProjectCode: code, VoucherNo: d.VoucherNo, Reason: d.Reason}
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, d.WorkflowID, voucherwf.KindVoid, names.Attributes(code, voucherwf.KindVoid, d.VoucherNo, string(d.Status)), in); err != nil {
		s.log.Error("start voucher void", "void", d.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the void application is recorded but its review did not start")
		return
	}
	writeJSON(w, http.StatusAccepted, applied{ID: d.ID, Status: string(d.Status), WorkflowID: d.WorkflowID})
}

func (s *Server) getVoucherVoid(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	d, err := voucherstore.GetVoid(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	s.writeFound(w, r, d, err, voucherstore.ErrNotFound, "void application not found")
}
