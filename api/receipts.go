package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	refunddom "github.com/voltflow/voltflow/domain/refund"
	"github.com/voltflow/voltflow/internal/papers"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
	refundstore "github.com/voltflow/voltflow/store/refund"
)

// GET /recharges/{id}/receipt.pdf and /refunds/{id}/receipt.pdf: the
// printable receipt (小票) of a sale, refund or reversal, in Chinese.

var statusNames = map[rechargedom.Status]string{
	rechargedom.PendingApproval: "待审批", rechargedom.Approved: "已审批", rechargedom.Dispatching: "下发中",
	rechargedom.Completed: "已完成", rechargedom.Rejected: "已驳回", rechargedom.DispatchFailed: "下发失败",
}

func yuan(a money.Amount) string { return a.String() + " 元" }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func (s *Server) getRechargeReceipt(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	rec, err := rechargestore.Get(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	if err == nil {
		err = s.meterInScope(r, rec.ProjectID, rec.MeterNo, rechargestore.ErrNotFound)
	}
	if !s.found(w, r, err, rechargestore.ErrNotFound, "recharge not found") {
		return
	}
	setAudit(r, rec.ProjectID, rec.ID, map[string]any{"transactionNo": rec.TransactionNo})
	p, err := rechargestore.PaperOf(r.Context(), s.cfg.DB, "recharge", rec.ID, rec.MeterID, rec.CreatedBy)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	title, kind := "售电小票 Sale receipt", "售电 Sale"
	if rec.Kind == rechargedom.Adjustment {
		title, kind = "调整电费充值小票 Adjustment receipt", "调整电费充值 Adjustment"
	}
	if rec.Kind == rechargedom.Allowance {
		title, kind = "月补电量小票 Monthly allowance receipt", "月补电量 Monthly allowance"
	}
	energy := "—"
	if rec.KWh != nil && rec.Price != nil && rec.Ratio != nil {
		kind += " · 电度方式 by kWh"
		energy = fmt.Sprintf("%s kWh × 倍率 %d × 单价 %s 元/kWh", rec.KWh.StringFixed(2), *rec.Ratio, rec.Price)
	}
	lines := receiptHead(p, rec.MeterNo, kind)
	lines = append(lines, papers.Line{Label: "金额 Amount", Value: yuan(rec.Amount)},
		papers.Line{Label: "电量 kWh at price", Value: energy})
	lines = append(lines, balances(p.RemainingBefore, rec.Amount)...)
	lines = append(lines, receiptTail(p, rec.MeterCounter, rec.Status, rec.CreatedAt, rec.CompletedAt, rec.TransactionNo)...)
	if rec.Reason != "" {
		lines = append(lines, papers.Line{Label: "原因 Reason", Value: rec.Reason})
	}
	s.writeReceipt(w, r, papers.Receipt{Title: title, Lines: lines}, "recharge-"+rec.TransactionNo)
}

func (s *Server) getRefundReceipt(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	f, err := refundstore.Get(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	if err == nil {
		err = s.meterInScope(r, f.ProjectID, f.MeterNo, refundstore.ErrNotFound)
	}
	if !s.found(w, r, err, refundstore.ErrNotFound, "refund not found") {
		return
	}
	setAudit(r, f.ProjectID, f.ID, map[string]any{"transactionNo": f.TransactionNo})
	p, err := rechargestore.PaperOf(r.Context(), s.cfg.DB, "refund", f.ID, f.MeterID, f.CreatedBy)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	title, kind := "退费小票 Refund receipt", "退费 Refund"
	switch {
	case f.Kind == refunddom.Reversal:
		title, kind = "冲正小票 Reversal receipt", "冲正 Reversal"
	case f.Full:
		kind = "彻底退费 Full refund"
	}
	if f.KeepPower {
		kind += " · 不断电退费 power kept on"
	}
	lines := receiptHead(p, f.MeterNo, kind)
	lines = append(lines, papers.Line{Label: "金额 Amount", Value: yuan(f.Amount)},
		papers.Line{Label: "电量 kWh at price", Value: "—"})
	lines = append(lines, balances(p.RemainingBefore, f.Amount.Neg())...)
	lines = append(lines, receiptTail(p, f.MeterCounter, f.Status, f.CreatedAt, f.CompletedAt, f.TransactionNo)...)
	if f.Reason != "" {
		lines = append(lines, papers.Line{Label: "原因 Reason", Value: f.Reason})
	}
	s.writeReceipt(w, r, papers.Receipt{Title: title, Lines: lines}, "refund-"+f.TransactionNo)
}

func receiptHead(p rechargestore.Paper, meterNo, kind string) []papers.Line {
	return []papers.Line{
		{Label: "项目 Project", Value: p.ProjectName},
		{Label: "表号 Meter", Value: meterNo},
		{Label: "单元 Unit", Value: orDash(p.Unit)},
		{Label: "用户 Tenant", Value: orDash(p.Tenant)},
		{Label: "类型 Kind", Value: kind},
	}
}

// balances are the meter's remaining money before and after: the meter's
// own figure read just before it took the operation, and that moved by
// delta (the meter applies exactly the amount).
func balances(before *money.Amount, delta money.Amount) []papers.Line {
	if before == nil {
		return []papers.Line{{Label: "操作前余额 Balance before", Value: "—"}, {Label: "操作后余额 Balance after", Value: "—"}}
	}
	return []papers.Line{{Label: "操作前余额 Balance before", Value: yuan(*before)},
		{Label: "操作后余额 Balance after", Value: yuan(before.Add(delta))}}
}

func receiptTail(p rechargestore.Paper, counter *int, status rechargedom.Status, created time.Time, completed *time.Time, transactionNo string) []papers.Line {
	count := "—"
	if counter != nil {
		count = strconv.Itoa(*counter)
	}
	at := created
	if completed != nil {
		at = *completed
	}
	return []papers.Line{
		{Label: "购电次数 Purchase count", Value: count},
		{Label: "状态 Status", Value: orDash(statusNames[status]) + " " + string(status)},
		{Label: "操作员 Operator", Value: orDash(p.Operator)},
		{Label: "时间 Time", Value: at.In(chinaTime).Format("2006-01-02 15:04:05")},
		{Label: "交易号 Transaction no.", Value: transactionNo},
	}
}

// writeReceipt renders the whole PDF before the first byte, so a failure is
// still a problem answer.
func (s *Server) writeReceipt(w http.ResponseWriter, r *http.Request, rc papers.Receipt, name string) {
	var buf bytes.Buffer
	if err := s.fonts.WriteReceipt(&buf, rc); err != nil {
		s.paperFailed(w, r, err)
		return
	}
	writePDF(w, buf.Bytes(), name)
}

func writePDF(w http.ResponseWriter, pdf []byte, name string) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.pdf"`, name))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pdf)
}

// paperFailed answers a PDF that could not be made; a missing font says
// which package to install.
func (s *Server) paperFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, papers.ErrFontMissing) {
		s.log.Error("PDF paper", "error", err)
		writeProblem(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	s.internal(w, r, err)
}
