package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	settlementdom "github.com/voltflow/voltflow/domain/settlement"
	"github.com/voltflow/voltflow/store/report"
	settlementstore "github.com/voltflow/voltflow/store/settlement"
	"github.com/voltflow/voltflow/workflows/names"
	settlementwf "github.com/voltflow/voltflow/workflows/settlement"
)

// Month-end settlement day (月底结算日, issue 20 §8): the project setting
// settlementDay (PUT …/settings), the Schedule it keeps, a settlement
// started by hand, and the settled month's report.

func (s *Server) settlementRoutes(r chi.Router) {
	r.With(s.audit("month-settlement.start")).Post("/projects/{project}/month-settlements", s.startMonthSettlement)
	r.Get("/projects/{project}/month-settlements/{month}", s.getMonthSettlement)
}

// validSettlementDay checks the settings PUT's settlementDay (422 otherwise).
func validSettlementDay(w http.ResponseWriter, req *ProjectSettings) bool {
	if req.SettlementDay == nil {
		return true
	}
	if _, err := settlementdom.ParseDay(*req.SettlementDay); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "settlementDay: "+err.Error(), "settlementDay")
		return false
	}
	return true
}

// applySettlementDay stores the day (absent or null: left as it is) and
// brings the project's Schedule to it; like the other Schedules it runs on
// every PUT that names a day, so repeating one whose update failed heals it.
func (s *Server) applySettlementDay(w http.ResponseWriter, r *http.Request, pid string, day *string) bool {
	if day == nil {
		return true
	}
	d := settlementdom.Day(*day)
	if err := settlementstore.SetProjectDay(r.Context(), s.cfg.DB, pid, &d); err != nil {
		s.internal(w, r, err)
		return false
	}
	if s.cfg.Temporal == nil {
		return true
	}
	code := chi.URLParam(r, "project")
	if err := settlementwf.EnsureSchedule(r.Context(), s.cfg.Temporal, pid, code, d); err != nil {
		s.log.Error("project settings: update the month settlement schedule", "project", code, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable,
			"the settings are saved; send the same request again to apply the settlement day")
		return false
	}
	return true
}

// withSettlementDay adds the stored day to the settings' view.
func (s *Server) withSettlementDay(r *http.Request, pid string, p ProjectSettings) (ProjectSettings, error) {
	d, set, err := settlementstore.ProjectDay(r.Context(), s.cfg.DB, pid)
	if set {
		v := string(d)
		p.SettlementDay = &v
	}
	return p, err
}

// MonthSettlementRequest is POST …/month-settlements: settle a month by
// hand (one the Schedule missed, or a project without a settlement day).
type MonthSettlementRequest struct {
	Month string `json:"month"`
}

// MonthSettlementStarted answers it.
type MonthSettlementStarted struct {
	Month      string    `json:"month"`
	WorkflowID string    `json:"workflowId"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
}

func (s *Server) startMonthSettlement(w http.ResponseWriter, r *http.Request) {
	var req MonthSettlementRequest
	if !decode(w, r, &req) {
		return
	}
	code := chi.URLParam(r, "project")
	pid, ok := s.administeredProject(w, r, code)
	if !ok {
		return
	}
	setAudit(r, pid, "month-settlement "+req.Month, nil)
	m, err := settlementdom.ParseMonth(req.Month)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "month must be YYYY-MM", "month")
		return
	}
	d, _, err := settlementstore.ProjectDay(r.Context(), s.cfg.DB, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	from, to, err := settlementstore.Period(r.Context(), s.cfg.DB, pid, m, d)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if time.Now().Before(to) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
			fmt.Sprintf("month %s closes at %s (settlement day %s)", req.Month, to.In(settlementdom.China).Format(time.DateTime), d), "month")
		return
	}
	id := settlementwf.WorkflowID(code, req.Month)
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, id, settlementwf.Kind,
		names.Attributes(code, settlementwf.Kind, req.Month, settlementwf.StatusSettling),
		settlementwf.Input{ProjectID: pid, ProjectCode: code, Month: req.Month}); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, MonthSettlementStarted{Month: req.Month, WorkflowID: id, From: from, To: to})
}

// MonthSettlement is GET …/month-settlements/{month}: the settled month
// and every wallet's figures.
type MonthSettlement struct {
	settlementstore.Settlement
	Rows []settlementstore.AccountMonth `json:"rows"`
}

func (s *Server) getMonthSettlement(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	month := chi.URLParam(r, "month")
	if _, err := settlementdom.ParseMonth(month); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "month must be YYYY-MM", "month")
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "xlsx" {
		writeBad(w, invalid("format", errors.New("format must be json or xlsx")))
		return
	}
	h, err := settlementstore.Get(r.Context(), s.cfg.DB, pid, month)
	if errors.Is(err, settlementstore.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "month "+month+" is not settled")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	rows, err := settlementstore.Accounts(r.Context(), s.cfg.DB, pid, month)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if format != "xlsx" {
		writeJSON(w, http.StatusOK, MonthSettlement{Settlement: h, Rows: rows})
		return
	}
	sheet, err := report.NewSheet("settlement "+month, settlementstore.AccountMonth{}.Headers())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer func() { _ = sheet.Close() }()
	for _, row := range rows {
		if err := sheet.Add(row); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="settlement-%s-%s.xlsx"`, chi.URLParam(r, "project"), month))
	w.WriteHeader(http.StatusOK)
	if _, err := sheet.WriteTo(w); err != nil {
		s.log.Error("settlement export failed", "error", err)
		panic(http.ErrAbortHandler)
	}
}
