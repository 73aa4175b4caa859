package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	platformbillingstore "github.com/voltflow/voltflow/store/platformbilling"
	alarmwf "github.com/voltflow/voltflow/workflows/alarm"
)

// Emergency overdraft (应急透支, M7): how far below zero a platform-side
// meter's wallet may run before billing switches it off. A meter's own
// allowance wins over its account's, which wins over the project's
// default (settings "overdraft"); null clears one level.

// OverdraftRequest is PUT …/overdraft.
type OverdraftRequest struct {
	Amount *money.Amount `json:"amount"`
}

// MeterOverdraft answers PUT /api/v1/meters/{meterNo}/overdraft.
type MeterOverdraft struct {
	MeterNo string        `json:"meterNo"`
	Amount  *money.Amount `json:"amount"`
	// InForce is what billing uses now: the meter's, its account's or its
	// project's allowance.
	InForce money.Amount `json:"inForce"`
}

// AccountOverdraft answers PUT /api/v1/projects/{project}/accounts/{id}/overdraft.
type AccountOverdraft struct {
	AccountID string        `json:"accountId"`
	Amount    *money.Amount `json:"amount"`
}

// validOverdraft writes 422 for a negative allowance.
func validOverdraft(w http.ResponseWriter, a *money.Amount) bool {
	if a != nil && a.IsNegative() {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, "amount: an overdraft must not be negative", "amount")
		return false
	}
	return true
}

// setMeterOverdraft sets a platform-side meter's own allowance; the
// project's admin may. A meter-side meter keeps its balance itself, so the
// platform has no overdraft to grant it (409).
func (s *Server) setMeterOverdraft(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req OverdraftRequest
	if !decode(w, r, &req) {
		return
	}
	m, err := s.findMeter(r.Context(), op.projectsFor(access.ViewData), chi.URLParam(r, "meterNo"))
	if !s.found(w, r, err, pgx.ErrNoRows, "meter not found") {
		return
	}
	setAudit(r, m.projectID, "meter "+m.meterNo, map[string]any{"overdraft": req.Amount})
	if !op.administers(m.projectID) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "setting an overdraft needs the admin role in the project")
		return
	}
	if !validOverdraft(w, req.Amount) {
		return
	}
	var mode string
	if err := s.cfg.DB.QueryRow(r.Context(), `select prepaid_mode from meters where id=$1`, m.id).Scan(&mode); err != nil {
		s.internal(w, r, err)
		return
	}
	if mode != "platform" {
		writeProblem(w, http.StatusConflict, CodeMeterNotPlatform,
			"meter "+m.meterNo+" keeps its balance itself (meter-side prepaid); an overdraft applies to platform-side meters")
		return
	}
	if err := platformbillingstore.SetMeterOverdraft(r.Context(), s.cfg.DB, m.projectID, m.id, req.Amount); err != nil {
		s.internal(w, r, err)
		return
	}
	inForce, err := platformbillingstore.Overdraft(r.Context(), s.cfg.DB, m.id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, MeterOverdraft{MeterNo: m.meterNo, Amount: req.Amount, InForce: inForce})
}

// setAccountOverdraft sets the allowance of an account's meters that have
// none of their own.
func (s *Server) setAccountOverdraft(w http.ResponseWriter, r *http.Request) {
	var req OverdraftRequest
	if !decode(w, r, &req) {
		return
	}
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, pid, "account "+id, map[string]any{"overdraft": req.Amount})
	if !validOverdraft(w, req.Amount) {
		return
	}
	err := platformbillingstore.SetAccountOverdraft(r.Context(), s.cfg.DB, pid, id, req.Amount)
	if errors.Is(err, platformbillingstore.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "account not found")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, AccountOverdraft{AccountID: id, Amount: req.Amount})
}

// validAlarmSettings checks the overdraft and alarm fields of a settings
// PUT (writing 422 otherwise) and normalises the scan interval.
func validAlarmSettings(w http.ResponseWriter, req *ProjectSettings) bool {
	if req.Overdraft != nil && req.Overdraft.IsNegative() {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, "overdraft: must not be negative", "overdraft")
		return false
	}
	if req.AlarmScanInterval != nil {
		d, err := time.ParseDuration(*req.AlarmScanInterval)
		if err != nil || d < time.Second || d > 24*time.Hour {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
				"alarmScanInterval: a duration from 1s to 24h, e.g. \"5m\"", "alarmScanInterval")
			return false
		}
		norm := d.String()
		req.AlarmScanInterval = &norm
	}
	if req.QuietHours != nil {
		if _, err := req.QuietHours.Quiet(0); err != nil {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "quietHours: "+err.Error(), "quietHours")
			return false
		}
	}
	return true
}

// applyAlarmScanInterval brings the project's alarm scan Schedule to its
// interval (the server's when unset) at once, creating it if the project
// has none yet. Like applyReadingInterval it runs on every PUT, so
// repeating a PUT whose update failed heals it.
func (s *Server) applyAlarmScanInterval(w http.ResponseWriter, r *http.Request, pid string, setting *string) bool {
	if s.cfg.Temporal == nil {
		return true
	}
	every, err := alarmwf.ProjectScanInterval(setting, 0)
	if err != nil {
		s.internal(w, r, err)
		return false
	}
	code := chi.URLParam(r, "project")
	if err := alarmwf.EnsureScanSchedule(r.Context(), s.cfg.Temporal, alarmwf.ScanInput{ProjectID: pid, ProjectCode: code}, every); err != nil {
		s.log.Error("project settings: update the alarm scan schedule", "project", code, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable,
			"the settings are saved; send the same request again to apply the alarm scan interval")
		return false
	}
	return true
}
