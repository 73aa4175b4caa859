package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/domain/access"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	safetydom "github.com/voltflow/voltflow/domain/safety"
	safetystore "github.com/voltflow/voltflow/store/safety"
	safetywf "github.com/voltflow/voltflow/workflows/safety"
)

// CodeNotLockedOut: a safety restore of a meter its limits have not locked out.
const CodeNotLockedOut = "not_locked_out"

// SafetyLimits are safety limits (安全用电) as operators set them. kW values
// are decimal strings with at most 3 places; null is that check off.
type SafetyLimits struct {
	MaxLoadKw        *string           `json:"maxLoadKw"`
	MalignantStartKw *string           `json:"malignantStartKw"`
	AllowedTrips     *int              `json:"allowedTrips"`
	TouLimits        []SafetyTOUWindow `json:"touLimits"`
	UtcOffsetMinutes *int              `json:"utcOffsetMinutes"`
}

// SafetyTOUWindow is a time-of-use power limit.
type SafetyTOUWindow struct {
	From string `json:"from"`
	To   string `json:"to"`
	Kw   string `json:"kw"`
}

// SafetyState is a meter's safety as its safety/<meterNo> workflow last
// recorded it.
type SafetyState struct {
	Status     string     `json:"status"`
	Trips      int        `json:"trips"`
	LastTripAt *time.Time `json:"lastTripAt"`
	LastReason string     `json:"lastReason"`
	RestoredBy string     `json:"restoredBy"`
	RestoredAt *time.Time `json:"restoredAt"`
	WorkflowID string     `json:"workflowId"`
}

// MeterSafety is a meter's own limits, the ones in force (its own or its
// project's: source), how they are enforced and its state.
type MeterSafety struct {
	MeterNo   string        `json:"meterNo"`
	Limits    *SafetyLimits `json:"limits"`
	Effective *SafetyLimits `json:"effective"`
	Source    string        `json:"source"`
	// Enforcement: "platform" (the sweep's readings, switching) — no
	// profile yet has registers to take the limits into the meter.
	Enforcement string      `json:"enforcement"`
	State       SafetyState `json:"state"`
	// Downloads are the set_safety_limits commands a PUT sent.
	Downloads []MeterDownload `json:"downloads,omitempty"`
}

// ProjectSafety is a project's limits (null: none set).
type ProjectSafety struct {
	Project string        `json:"project"`
	Limits  *SafetyLimits `json:"limits"`
	// Downloads are the set_safety_limits commands a PUT sent, one per
	// meter without limits of its own whose profile has the block.
	Downloads []MeterDownload `json:"downloads,omitempty"`
}

type safetyRestoreRequest struct {
	Comment string `json:"comment"`
}

// safetyRoutes: limits are set by the project's admin or maintenance
// (access.ManageSafety), who alone may restore a locked-out meter.
func (s *Server) safetyRoutes(r chi.Router) {
	r.Get("/meters/{meterNo}/safety-limits", s.getMeterSafety)
	r.With(s.audit("meter.safety_limits")).Put("/meters/{meterNo}/safety-limits", s.putMeterSafety)
	r.Get("/projects/{project}/safety-limits", s.getProjectSafety)
	r.With(s.audit("project.safety_limits")).Put("/projects/{project}/safety-limits", s.putProjectSafety)
	r.With(s.audit("meter.safety_restore")).Post("/meters/{meterNo}/safety/restore", s.restoreMeterSafety)
}

func limitsOut(l safetydom.Limits) *SafetyLimits {
	kw := func(d *decimal.Decimal) *string {
		if d == nil {
			return nil
		}
		v := d.StringFixed(3)
		return &v
	}
	trips, off := l.AllowedTrips, l.UTCOffsetMinutes
	out := &SafetyLimits{MaxLoadKw: kw(l.MaxLoadKW), MalignantStartKw: kw(l.MalignantStartKW), AllowedTrips: &trips,
		UtcOffsetMinutes: &off, TouLimits: []SafetyTOUWindow{}}
	for _, w := range l.TOU {
		out.TouLimits = append(out.TouLimits, SafetyTOUWindow{From: w.From, To: w.To, Kw: w.KW.StringFixed(3)})
	}
	return out
}

// limitsIn checks a request; it writes the problem and returns false when
// it is not valid.
func limitsIn(w http.ResponseWriter, req SafetyLimits) (safetydom.Limits, bool) {
	l := safetydom.Limits{AllowedTrips: safetydom.DefaultAllowedTrips, UTCOffsetMinutes: 480}
	kw := func(s *string, field string) (*decimal.Decimal, bool) {
		if s == nil {
			return nil, true
		}
		d, err := decimal.NewFromString(*s)
		if err != nil {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, field+" is a decimal string of kW, e.g. \"8.000\"", field)
			return nil, false
		}
		return &d, true
	}
	var ok bool
	if l.MaxLoadKW, ok = kw(req.MaxLoadKw, "maxLoadKw"); !ok {
		return l, false
	}
	if l.MalignantStartKW, ok = kw(req.MalignantStartKw, "malignantStartKw"); !ok {
		return l, false
	}
	if req.AllowedTrips != nil {
		l.AllowedTrips = *req.AllowedTrips
	}
	if req.UtcOffsetMinutes != nil {
		l.UTCOffsetMinutes = *req.UtcOffsetMinutes
	}
	for _, t := range req.TouLimits {
		d, err := decimal.NewFromString(t.Kw)
		if err != nil {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "touLimits: kw is a decimal string", "touLimits")
			return l, false
		}
		l.TOU = append(l.TOU, safetydom.Window{From: t.From, To: t.To, KW: d})
	}
	if err := l.Validate(); err != nil {
		writeProblem(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error())
		return l, false
	}
	return l, true
}

// safetyMeter finds the meter of the path for action; false when a problem
// was written (404 unseen, 403 without the action).
func (s *Server) safetyMeter(w http.ResponseWriter, r *http.Request, action access.Action) (meterRef, bool) {
	op := operatorFrom(r.Context())
	m, err := s.findMeter(r.Context(), op.Grants.Projects(), chi.URLParam(r, "meterNo"))
	if errors.Is(err, pgx.ErrNoRows) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "meter not found")
		return m, false
	}
	if err != nil {
		s.internal(w, r, err)
		return m, false
	}
	if !op.Grants.Can(m.projectID, action) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "safety limits and restores need the admin or maintenance role in the project")
		return m, false
	}
	return m, true
}

func (s *Server) writeMeterSafety(w http.ResponseWriter, r *http.Request, m meterRef, downloads ...MeterDownload) {
	out := MeterSafety{MeterNo: m.meterNo, Enforcement: "platform", Source: "none", Downloads: downloads}
	targets, err := safetystore.Targets(r.Context(), s.cfg.DB, m.projectID, m.id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(targets) == 1 && safetyBlock(targets[0].Profile) {
		// The meter trips itself (its limit block); the platform still
		// enforces the time-of-use limits from readings.
		out.Enforcement = "meter"
	}
	own, err := safetystore.Get(r.Context(), s.cfg.DB, m.projectID, m.id)
	switch {
	case err == nil:
		out.Limits = limitsOut(own)
	case !errors.Is(err, safetystore.ErrNotFound):
		s.internal(w, r, err)
		return
	}
	eff, source, err := safetystore.Effective(r.Context(), s.cfg.DB, m.id)
	switch {
	case err == nil:
		out.Effective, out.Source = limitsOut(eff), source
	case !errors.Is(err, safetystore.ErrNotFound):
		s.internal(w, r, err)
		return
	}
	st, err := safetystore.GetState(r.Context(), s.cfg.DB, m.id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out.State = SafetyState{Status: string(st.Status), Trips: st.Trips, LastTripAt: st.LastTripAt, LastReason: st.LastReason,
		RestoredBy: st.RestoredBy, RestoredAt: st.RestoredAt, WorkflowID: safetywf.WorkflowID(m.meterNo)}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getMeterSafety(w http.ResponseWriter, r *http.Request) {
	if m, ok := s.safetyMeter(w, r, access.ViewData); ok {
		s.writeMeterSafety(w, r, m)
	}
}

func (s *Server) putMeterSafety(w http.ResponseWriter, r *http.Request) {
	var req SafetyLimits
	if !decode(w, r, &req) {
		return
	}
	m, ok := s.safetyMeter(w, r, access.ManageSafety)
	if !ok {
		return
	}
	setAudit(r, m.projectID, "meter "+m.meterNo, map[string]any{"limits": req})
	l, ok := limitsIn(w, req)
	if !ok {
		return
	}
	if err := safetystore.Put(r.Context(), s.cfg.DB, m.projectID, m.id, l); err != nil {
		s.internal(w, r, err)
		return
	}
	downloads, ok := s.downloadSafety(w, r, m.projectID, m.projectCode, m.id, l)
	if !ok {
		return
	}
	s.writeMeterSafety(w, r, m, downloads...)
}

func (s *Server) getProjectSafety(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	s.writeProjectSafety(w, r, pid)
}

func (s *Server) writeProjectSafety(w http.ResponseWriter, r *http.Request, pid string, downloads ...MeterDownload) {
	out := ProjectSafety{Project: chi.URLParam(r, "project"), Downloads: downloads}
	l, err := safetystore.Get(r.Context(), s.cfg.DB, pid, "")
	switch {
	case err == nil:
		out.Limits = limitsOut(l)
	case !errors.Is(err, safetystore.ErrNotFound):
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) putProjectSafety(w http.ResponseWriter, r *http.Request) {
	var req SafetyLimits
	if !decode(w, r, &req) {
		return
	}
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	if !operatorFrom(r.Context()).Grants.Can(pid, access.ManageSafety) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "safety limits need the admin or maintenance role in the project")
		return
	}
	setAudit(r, pid, "project "+chi.URLParam(r, "project"), map[string]any{"limits": req})
	l, ok := limitsIn(w, req)
	if !ok {
		return
	}
	if err := safetystore.Put(r.Context(), s.cfg.DB, pid, "", l); err != nil {
		s.internal(w, r, err)
		return
	}
	downloads, ok := s.downloadSafety(w, r, pid, chi.URLParam(r, "project"), "", l)
	if !ok {
		return
	}
	s.writeProjectSafety(w, r, pid, downloads...)
}

// restoreMeterSafety switches a locked-out meter back on: the restore
// Update of its safety workflow, whose validator checks the role again.
func (s *Server) restoreMeterSafety(w http.ResponseWriter, r *http.Request) {
	var req safetyRestoreRequest
	if !decode(w, r, &req) {
		return
	}
	m, ok := s.safetyMeter(w, r, access.ManageSafety)
	if !ok {
		return
	}
	op := operatorFrom(r.Context())
	setAudit(r, m.projectID, "meter "+m.meterNo, map[string]any{"comment": req.Comment})
	st, err := safetystore.GetState(r.Context(), s.cfg.DB, m.id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if st.Status != safetydom.LockedOut {
		if targets, err := safetystore.Targets(r.Context(), s.cfg.DB, m.projectID, m.id); err == nil && len(targets) == 1 && safetyBlock(targets[0].Profile) {
			// The meter enforces its limits itself: writing its limit block
			// again clears its trip count and lockout (devices/profile/README.md).
			s.restoreInMeter(w, r, m)
			return
		}
		writeProblem(w, http.StatusConflict, CodeNotLockedOut, "meter "+m.meterNo+" is "+string(st.Status)+", not locked out")
		return
	}
	var after safetystore.State
	if !s.update(w, r, safetywf.WorkflowID(m.meterNo), safetywf.UpdateRestore,
		safetywf.Restore{OperatorID: op.ID, Username: op.Username, Roles: op.Grants[m.projectID], Comment: req.Comment}, &after) {
		return
	}
	s.writeMeterSafety(w, r, m)
}

// safetyBlock reports whether a profile has the safety-limit block.
func safetyBlock(name string) bool {
	p, err := profile.Load(name)
	return err == nil && p.Supports(profile.CmdSetSafetyLimits)
}

// downloadSafety writes the limits into the meter (meterID) or the
// project's meters without limits of their own, each whose profile has the
// safety-limit block, as set_safety_limits commands; false when a problem
// was written.
func (s *Server) downloadSafety(w http.ResponseWriter, r *http.Request, projectID, projectCode, meterID string, l safetydom.Limits) ([]MeterDownload, bool) {
	targets, err := safetystore.Targets(r.Context(), s.cfg.DB, projectID, meterID)
	if err != nil {
		s.internal(w, r, err)
		return nil, false
	}
	var out []MeterDownload
	for _, t := range targets {
		if !safetyBlock(t.Profile) {
			continue
		}
		d, ok := s.sendDownload(w, r, meterRef{id: t.ID, projectID: projectID, projectCode: projectCode, meterNo: t.MeterNo},
			metercmddom.SetSafetyLimits, l.MeterBlock())
		if !ok {
			return nil, false
		}
		out = append(out, d)
	}
	return out, true
}

// restoreInMeter is a manager's restore of a meter that enforces its own
// limits: the limits in force are downloaded again.
func (s *Server) restoreInMeter(w http.ResponseWriter, r *http.Request, m meterRef) {
	l, _, err := safetystore.Effective(r.Context(), s.cfg.DB, m.id)
	if errors.Is(err, safetystore.ErrNotFound) {
		writeProblem(w, http.StatusConflict, CodeNotLockedOut, "meter "+m.meterNo+" has no safety limits to restore")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	downloads, ok := s.downloadSafety(w, r, m.projectID, m.projectCode, m.id, l)
	if ok {
		s.writeMeterSafety(w, r, m, downloads...)
	}
}
