package api

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/store/report"
)

// GET /api/v1/finance-reports/{name}?from=&to=&format=json|xlsx — the finance
// reports (财务管理, F7): account-summary, recharge-detail, refund-detail,
// sales (granularity=day|month|year) and invoices. Same paging and streamed
// Excel export as the report centre.
func (s *Server) financeReport(w http.ResponseWriter, r *http.Request) {
	s.serveFinance(w, r, chi.URLParam(r, "name"))
}

// financeExport streams one finance report as xlsx (e.g. the invoice list).
func (s *Server) financeExport(w http.ResponseWriter, r *http.Request, name string) {
	s.serveFinance(w, r, name)
}

func (s *Server) serveFinance(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	rq, ok := reportParams(w, r)
	if !ok {
		return
	}
	f := report.FinanceFilter{Projects: rq.projects, Scope: rq.scope, MeterNo: q.Get("meterNo"), Granularity: report.Granularity(orDefault(q.Get("granularity"), "day"))}
	var err error
	if f.Period, err = period(r, name != "invoices"); err != nil {
		writeBad(w, err)
		return
	}
	switch name {
	case "account-summary":
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(report.AccountSummaryRow) error) error {
			return report.AccountSummary(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "recharge-detail":
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(report.MoneyDetailRow) error) error {
			return report.RechargeDetail(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "refund-detail":
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(report.MoneyDetailRow) error) error {
			return report.RefundDetail(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "sales":
		if f.Granularity != report.Day && f.Granularity != report.Month && f.Granularity != report.Year {
			writeBad(w, invalid("granularity", report.ErrGranularity))
			return
		}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(report.SalesRow) error) error {
			return report.Sales(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "invoices":
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(report.InvoiceRow) error) error {
			return report.Invoices(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	default:
		writeProblem(w, http.StatusNotFound, CodeNotFound, "no finance report "+name)
		return
	}
	s.reportAnswered(w, r, err)
}
