package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/access"
	invoicedom "github.com/voltflow/voltflow/domain/invoice"
	invoicestore "github.com/voltflow/voltflow/store/invoice"
	invoicewf "github.com/voltflow/voltflow/workflows/invoice"
	"github.com/voltflow/voltflow/workflows/names"
)

// Invoices (开票, F6): a cashier applies for an invoice against completed
// recharges, an approver reviews it in the inbox, the workflow issues it with
// a number; a recharge is invoiced at most once.

type invoiceRequest struct {
	ProjectID     string   `json:"projectId"`
	Title         string   `json:"title"`
	TaxID         string   `json:"taxId"`
	RechargeIDs   []string `json:"rechargeIds"`
	TransactionNo string   `json:"transactionNo"`
}

func (s *Server) createInvoice(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req invoiceRequest
	if !decode(w, r, &req) {
		return
	}
	projectID, code, ok := s.applyingProject(w, r, req.ProjectID, "applying for an invoice needs the cashier role")
	if !ok {
		return
	}
	setAudit(r, projectID, req.TransactionNo, map[string]any{"title": req.Title, "recharges": len(req.RechargeIDs)})
	app := invoicedom.Application{Title: strings.TrimSpace(req.Title), TaxID: strings.ToUpper(strings.TrimSpace(req.TaxID)), RechargeIDs: req.RechargeIDs}
	if err := app.Validate(); err != nil {
		field := map[error]string{invoicedom.ErrTitle: "title", invoicedom.ErrTaxID: "taxId"}[err]
		if field == "" {
			field = "rechargeIds"
		}
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), field)
		return
	}
	for _, id := range app.RechargeIDs {
		if _, err := uuid.Parse(id); err != nil {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "rechargeIds holds "+id+", not a recharge id", "rechargeIds")
			return
		}
	}
	if !checkTransactionNo(w, req.TransactionNo) {
		return
	}
	id := uuid.NewString()
	v, created, err := invoicestore.Apply(r.Context(), s.cfg.DB, invoicestore.Invoice{ID: id, ProjectID: projectID,
		TransactionNo: req.TransactionNo, Title: app.Title, TaxID: app.TaxID, RechargeIDs: app.RechargeIDs,
		WorkflowID: invoicewf.WorkflowID(id), CreatedBy: op.ID})
	switch {
	case errors.Is(err, invoicedom.ErrInvoiced):
		writeProblemField(w, http.StatusConflict, CodeAlreadyInvoiced, err.Error(), "rechargeIds")
		return
	case errors.Is(err, invoicedom.ErrNotPaid):
		writeProblemField(w, http.StatusConflict, CodeNotInvoiceable, err.Error(), "rechargeIds")
		return
	case errors.Is(err, invoicestore.ErrUnknownRecharges):
		writeProblemField(w, http.StatusNotFound, CodeNotFound, err.Error(), "rechargeIds")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	if !created && (v.Title != app.Title || v.TaxID != app.TaxID || !sameSet(v.RechargeIDs, app.RechargeIDs)) {
		writeKeyReused(w, "transactionNo", req.TransactionNo, "invoice")
		return
	}
	in := invoicewf.Input{InvoiceID: v.ID, ProjectID: v.ProjectID, ProjectCode: code, Title: v.Title, TaxID: v.TaxID,
		Amount: v.Amount, Lines: len(v.RechargeIDs)}
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, v.WorkflowID, invoicewf.Kind, names.Attributes(code, invoicewf.Kind, v.Title, string(v.Status)), in); err != nil {
		s.log.Error("start invoice", "invoice", v.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the application is recorded; send the same request again to start it")
		return
	}
	writeJSON(w, http.StatusAccepted, applied{ID: v.ID, Status: string(v.Status), WorkflowID: v.WorkflowID})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	in := map[string]bool{}
	for _, x := range a {
		in[x] = true
	}
	for _, x := range b {
		if !in[x] {
			return false
		}
	}
	return true
}

func (s *Server) getInvoice(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	v, err := invoicestore.Get(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	s.writeFound(w, r, v, err, invoicestore.ErrNotFound, "invoice not found")
}

// listInvoices lists invoices (发票管理); ?format=xlsx exports them all.
func (s *Server) listInvoices(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	status := r.URL.Query().Get("status")
	switch invoicedom.Status(status) {
	case "", invoicedom.PendingApproval, invoicedom.Issued, invoicedom.Rejected:
	default:
		writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "status must be pending_approval, issued or rejected", "status")
		return
	}
	if r.URL.Query().Get("format") == "xlsx" {
		s.financeExport(w, r, "invoices")
		return
	}
	servePage(s, w, r, func(p page) ([]invoicestore.Invoice, error) {
		return invoicestore.List(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), status, p.limit, p.before, p.beforeID)
	}, func(last invoicestore.Invoice) (time.Time, string) { return last.CreatedAt, last.ID })
}
