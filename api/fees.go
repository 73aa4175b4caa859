package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	feedom "github.com/voltflow/voltflow/domain/fee"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/internal/papers"
	feestore "github.com/voltflow/voltflow/store/fee"
	"github.com/voltflow/voltflow/store/report"
	feewf "github.com/voltflow/voltflow/workflows/fee"
)

// FeeScheduleRequest is POST /api/v1/projects/{project}/fee-schedules: a
// rent, management or capacity fee of one unit, or of every unit below a
// site, fixed or per m² of the unit's area, due monthly on dayOfMonth (a
// day past the month's end falls on its last day).
type FeeScheduleRequest struct {
	UnitID     string `json:"unitId"`
	SiteID     string `json:"siteId"`
	Kind       string `json:"kind"`
	Basis      string `json:"basis"`
	Amount     string `json:"amount"`
	DayOfMonth int    `json:"dayOfMonth"`
}

// FeeRules is PUT /api/v1/projects/{project}/fee-rules: with
// feeArrearsCutOff a fee that leaves arrears switches the paying meter off
// until they are paid (store/fee cutoff.go).
type FeeRules struct {
	FeeArrearsCutOff bool `json:"feeArrearsCutOff"`
}

// feeRoutes: schedules and rules are the project admin's (a unit's area,
// the per_m2 basis, is set with the common-area routes); the fee
// list is for whoever views the project's data.
func (s *Server) feeRoutes(r chi.Router) {
	r.With(s.audit("fee_schedule.create")).Post("/projects/{project}/fee-schedules", s.createFeeSchedule)
	r.Get("/projects/{project}/fee-schedules", s.listFeeSchedules)
	r.With(s.audit("fee_schedule.end")).Delete("/projects/{project}/fee-schedules/{id}", s.endFeeSchedule)
	r.With(s.audit("project.fee_rules")).Put("/projects/{project}/fee-rules", s.putFeeRules)
	r.Get("/projects/{project}/fees", s.listFees)
}

func (s *Server) createFeeSchedule(w http.ResponseWriter, r *http.Request) {
	var req FeeScheduleRequest
	if !decode(w, r, &req) {
		return
	}
	code := chi.URLParam(r, "project")
	setAudit(r, "", "project "+code, nil)
	pid, ok := s.adminProject(w, r, "fee schedules")
	if !ok {
		return
	}
	setAudit(r, pid, "project "+code, map[string]any{"unitId": req.UnitID, "siteId": req.SiteID, "kind": req.Kind,
		"basis": req.Basis, "amount": req.Amount, "dayOfMonth": req.DayOfMonth})
	if (req.UnitID == "") == (req.SiteID == "") {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "give unitId or siteId, not both", "unitId")
		return
	}
	for field, id := range map[string]string{"unitId": req.UnitID, "siteId": req.SiteID} {
		if id != "" && uuid.Validate(id) != nil {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, field+" is not an id", field)
			return
		}
	}
	amount, err := money.Parse(req.Amount)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "amount is a decimal string, e.g. \"12.50\"", "amount")
		return
	}
	dom := feedom.Schedule{Kind: feedom.Kind(req.Kind), Basis: feedom.Basis(req.Basis), Amount: amount, DayOfMonth: req.DayOfMonth}
	if err := dom.Validate(); err != nil {
		writeProblem(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error())
		return
	}
	sch, err := feestore.CreateSchedule(r.Context(), s.cfg.DB, feestore.Schedule{ProjectID: pid, UnitID: req.UnitID,
		SiteID: req.SiteID, Kind: dom.Kind, Basis: dom.Basis, Amount: amount, DayOfMonth: dom.DayOfMonth},
		operatorFrom(r.Context()).ID)
	switch {
	case errors.Is(err, feestore.ErrTarget):
		writeProblem(w, http.StatusUnprocessableEntity, CodeInvalidField, "unitId or siteId: not a unit or site of this project")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	// The project's daily run starts with its first fee schedule.
	if err := feewf.EnsureSchedule(r.Context(), s.cfg.Temporal, pid, code); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, sch)
}

// listFeeSchedules serves GET /projects/{project}/fee-schedules[?ended=true]:
// the running schedules, and with ended=true the ended ones after them.
func (s *Server) listFeeSchedules(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	withEnded := false
	if v := r.URL.Query().Get("ended"); v != "" {
		var err error
		if withEnded, err = strconv.ParseBool(v); err != nil {
			writeBad(w, malformed("ended", errors.New("ended must be true or false")))
			return
		}
	}
	list, err := feestore.ListSchedules(r.Context(), s.cfg.DB, pid, withEnded)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

// endFeeSchedule serves DELETE /projects/{project}/fee-schedules/{id}: the
// schedule ends (no fee of it is due from now on) but is kept, because the
// fees it booked name it; the answer is the ended schedule.
func (s *Server) endFeeSchedule(w http.ResponseWriter, r *http.Request) {
	code, id := chi.URLParam(r, "project"), chi.URLParam(r, "id")
	setAudit(r, "", "fee schedule "+id, nil)
	pid, ok := s.adminProject(w, r, "fee schedules")
	if !ok {
		return
	}
	setAudit(r, pid, "fee schedule "+id, map[string]any{"project": code})
	sch, err := feestore.EndSchedule(r.Context(), s.cfg.DB, pid, id, operatorFrom(r.Context()).ID)
	switch {
	case errors.Is(err, feestore.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, "fee schedule "+id+" not found in this project")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sch)
}

func (s *Server) putFeeRules(w http.ResponseWriter, r *http.Request) {
	var req FeeRules
	if !decode(w, r, &req) {
		return
	}
	code := chi.URLParam(r, "project")
	setAudit(r, "", "project "+code, nil)
	pid, ok := s.adminProject(w, r, "fee rules")
	if !ok {
		return
	}
	setAudit(r, pid, "project "+code, map[string]any{"feeArrearsCutOff": req.FeeArrearsCutOff})
	if err := feestore.SetCutOffRule(r.Context(), s.cfg.DB, pid, req.FeeArrearsCutOff); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, req)
}

// listFees serves GET /projects/{project}/fees?month=YYYY-MM[&format=xlsx|pdf]:
// per unit the fees deducted that month and the arrears they left (a
// site-scoped caller sees its sites' units only). The PDF (物业费用清单,
// seed 004: 各用户费用清单) prints the xlsx's header and cells, and the
// month's totals.
func (s *Server) listFees(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	month := q.Get("month")
	if _, err := time.Parse("2006-01", month); err != nil {
		writeBad(w, invalid("month", errors.New("month is YYYY-MM")))
		return
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "xlsx" && format != "pdf" {
		writeBad(w, invalid("format", errors.New("format must be json, xlsx or pdf")))
		return
	}
	lines, err := feestore.ListIn(r.Context(), s.cfg.DB, pid, month, operatorFrom(r.Context()).scopeIn(pid))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	switch format {
	case "pdf":
		s.feeListPDF(w, r, chi.URLParam(r, "project"), month, lines)
		return
	case "xlsx":
	default:
		writeJSON(w, http.StatusOK, map[string]any{"month": month, "items": nonNil(lines)})
		return
	}
	sheet, err := report.NewSheet("fees", feestore.Line{}.Headers())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer func() { _ = sheet.Close() }()
	for _, l := range lines {
		if err := sheet.Add(l); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="fees-%s.xlsx"`, month))
	_, _ = sheet.WriteTo(w)
}

// feeListPDF prints the fee list: one row a unit as in the xlsx, the
// project and month above, the month's sums below the title.
func (s *Server) feeListPDF(w http.ResponseWriter, r *http.Request, code, month string, lines []feestore.Line) {
	if len(lines) > report.MaxPDFRows {
		writeBad(w, invalid("format", fmt.Errorf("more than %d units: use xlsx", report.MaxPDFRows)))
		return
	}
	var name string
	if err := s.cfg.DB.QueryRow(r.Context(), `select name from projects where code=$1`, code).Scan(&name); err != nil {
		s.internal(w, r, err)
		return
	}
	t := papers.Table{Title: "物业费用清单 Fee list per unit", Headers: feestore.Line{}.Headers()}
	total, arrears := money.Zero, money.Zero
	for _, l := range lines {
		cells := l.Cells()
		row := make([]string, len(cells))
		for i, c := range cells {
			row[i] = cellText(c)
		}
		t.Rows = append(t.Rows, row)
		total, arrears = total.Add(l.Total), arrears.Add(l.Arrears)
	}
	t.Subtitle = []string{"项目 Project: " + name, "月份 Month: " + month,
		fmt.Sprintf("合计 Total: %s · 欠费 Arrears: %s · 共 %d 户 units · 打印时间 Printed %s", total, arrears, len(lines), time.Now().In(chinaTime).Format("2006-01-02 15:04"))}
	var buf bytes.Buffer
	if err := s.fonts.WriteTable(&buf, t); err != nil {
		s.paperFailed(w, r, err)
		return
	}
	writePDF(w, buf.Bytes(), "fees-"+month)
}
