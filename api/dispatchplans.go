package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/voltflow/voltflow/domain/access"
	dispatchdom "github.com/voltflow/voltflow/domain/dispatch"
	dispatchstore "github.com/voltflow/voltflow/store/dispatch"
	dispatchwf "github.com/voltflow/voltflow/workflows/dispatch"
	"github.com/voltflow/voltflow/workflows/names"
)

// Problem codes of dispatch plans.
const (
	CodePlanExists     = "plan_exists"
	CodePlanNotRunning = "plan_not_running"
)

// Plan kinds on the API.
const (
	planTimed = "timed"
	planSmart = "smart"
)

var planIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// planRequest is POST /dispatch/plans: a timed plan (actions at times, once
// or recurring) or a smart plan (per-connector limits under a site limit).
type planRequest struct {
	StationID string     `json:"stationId"`
	PlanID    string     `json:"planId,omitempty"`
	Kind      string     `json:"kind"`
	Clock     *planClock `json:"clock,omitempty"`
	// timed
	Actions     []planAction `json:"actions,omitempty"`
	LateMinutes int          `json:"lateMinutes,omitempty"`
	// smart
	SiteLimitKW    *float64      `json:"siteLimitKw,omitempty"`
	ConnectorIDs   []string      `json:"connectorIds,omitempty"`
	TOU            []planTOU     `json:"tou,omitempty"`
	Fleet          []planVehicle `json:"fleet,omitempty"`
	DefaultVehicle *planVehicle  `json:"defaultVehicle,omitempty"`
	ReplanMinutes  int           `json:"replanMinutes,omitempty"`
	HorizonHours   int           `json:"horizonHours,omitempty"`
	Until          *time.Time    `json:"until,omitempty"`
}

// planClock runs the plan on an accelerated clock (demos, tests): plan time
// starts at epoch when the plan starts and runs factor times as fast.
type planClock struct {
	Epoch  time.Time `json:"epoch"`
	Factor float64   `json:"factor"`
}

type planAction struct {
	At           time.Time  `json:"at"`
	EveryMinutes int        `json:"everyMinutes,omitempty"`
	Until        *time.Time `json:"until,omitempty"`
	Command      string     `json:"command"`
	ConnectorIDs []string   `json:"connectorIds"`
	PowerKW      *float64   `json:"powerKw,omitempty"`
	IdTag        string     `json:"idTag,omitempty"`
}

type planTOU struct {
	Start  string `json:"start"` // HH:MM local (Asia/Shanghai)
	End    string `json:"end"`
	Period string `json:"period"` // sharp | peak | flat | valley
}

type planVehicle struct {
	ConnectorID string     `json:"connectorId,omitempty"`
	CapacityKWh float64    `json:"capacityKwh"`
	MaxKW       float64    `json:"maxKw"`
	TargetSOC   float64    `json:"targetSoc,omitempty"`
	TaperSOC    float64    `json:"taperSoc,omitempty"`
	Departure   *time.Time `json:"departure,omitempty"`
}

// planView is a plan as the API shows it: the record, the workflow's
// status and, for one plan, its live state.
type planView struct {
	dispatchstore.Plan
	Status string `json:"status"` // not_started | running | completed | cancelled | terminated | failed | unknown
	// Outcomes of a timed plan's commands so far; State of a smart plan.
	Outcomes []dispatchwf.Outcome  `json:"outcomes,omitempty"`
	State    *dispatchwf.PlanState `json:"state,omitempty"`
}

// fieldErr is a request field that fails validation, with its problem code.
type fieldErr struct{ code, field, msg string }

func (e fieldErr) Error() string { return e.field + " " + e.msg }

func badField(field, format string, args ...any) error {
	return fieldErr{CodeInvalidField, field, fmt.Sprintf(format, args...)}
}

// connectorSet resolves connector ids of the station.
type connectorSet map[string]dispatchstore.Place

func (cs connectorSet) targets(field string, ids []string) ([]dispatchstore.Target, error) {
	if len(ids) == 0 {
		return nil, badField(field, "at least one connector is required")
	}
	seen := map[string]bool{}
	out := make([]dispatchstore.Target, 0, len(ids))
	for _, id := range ids {
		p, ok := cs[id]
		if !ok {
			return nil, badField(field, "connector %q is not at the station", id)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, p.Target)
		}
	}
	return out, nil
}

func validPower(field string, kw *float64, max float64) error {
	if kw != nil && !dispatchdom.ValidPower(*kw, max) {
		return badField(field, "must be 0–%.0f kW", max)
	}
	return nil
}

// timedInput validates a timed plan and builds its workflow input.
func timedInput(req planRequest, cs connectorSet, now time.Time) (dispatchwf.TimedInput, error) {
	in := dispatchwf.TimedInput{Late: time.Duration(req.LateMinutes) * time.Minute}
	if req.LateMinutes < 0 || req.LateMinutes > dispatchdom.MaxLateMinutes {
		return in, badField("lateMinutes", "must be 0–%d", dispatchdom.MaxLateMinutes)
	}
	if len(req.Actions) == 0 || len(req.Actions) > dispatchdom.MaxActions {
		return in, badField("actions", "a timed plan needs 1–%d actions", dispatchdom.MaxActions)
	}
	for i, a := range req.Actions {
		f := fmt.Sprintf("actions[%d].", i)
		switch a.Command {
		case dispatchwf.CmdStart, dispatchwf.CmdStop, dispatchwf.CmdLimit, dispatchwf.CmdRelease:
		default:
			return in, fieldErr{CodeUnknownCommand, f + "command", "must be start, stop, limit or release"}
		}
		if a.At.IsZero() {
			return in, badField(f+"at", "is required (RFC 3339)")
		}
		if a.EveryMinutes < 0 || a.EveryMinutes > dispatchdom.MaxEveryMinutes {
			return in, badField(f+"everyMinutes", "must be 1–%d (or absent: once)", dispatchdom.MaxEveryMinutes)
		}
		if a.EveryMinutes == 0 && a.At.Before(now.Add(-time.Minute)) {
			return in, badField(f+"at", "%s is in the past", a.At.Format(time.RFC3339))
		}
		if a.Until != nil && (a.EveryMinutes == 0 || a.Until.Before(a.At)) {
			return in, badField(f+"until", "needs everyMinutes and must not be before at")
		}
		if err := validPower(f+"powerKw", a.PowerKW, dispatchdom.MaxCommandKW); err != nil {
			return in, err
		}
		if a.Command == dispatchwf.CmdLimit && a.PowerKW == nil {
			return in, badField(f+"powerKw", "limit needs powerKw")
		}
		if a.Command == dispatchwf.CmdStart && a.IdTag == "" {
			return in, badField(f+"idTag", "start needs idTag")
		}
		targets, err := cs.targets(f+"connectorIds", a.ConnectorIDs)
		if err != nil {
			return in, err
		}
		ta := dispatchwf.TimedAction{At: a.At, Every: time.Duration(a.EveryMinutes) * time.Minute, Command: a.Command,
			Targets: targets, IdTag: a.IdTag}
		if a.Until != nil {
			ta.Until = *a.Until
		}
		if a.PowerKW != nil {
			ta.PowerKW = *a.PowerKW
		}
		in.Actions = append(in.Actions, ta)
	}
	return in, nil
}

func hhmm(field, s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if s == "24:00" {
		return 24 * time.Hour, nil
	}
	if err != nil {
		return 0, badField(field, "must be HH:MM")
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func (v planVehicle) fleet(field string, t dispatchstore.Target) (dispatchwf.Fleet, error) {
	f := dispatchwf.Fleet{Target: t, CapacityKWh: v.CapacityKWh, MaxKW: v.MaxKW, TargetSOC: v.TargetSOC, TaperSOC: v.TaperSOC}
	switch {
	case !dispatchdom.ValidBattery(v.CapacityKWh):
		return f, badField(field+".capacityKwh", "must be more than 0 and at most %d", dispatchdom.MaxBatteryKWh)
	case !dispatchdom.ValidVehiclePower(v.MaxKW):
		return f, badField(field+".maxKw", "must be more than 0 and at most %d", dispatchdom.MaxVehicleKW)
	case !dispatchdom.ValidSOC(v.TargetSOC):
		return f, badField(field+".targetSoc", "must be 0–100")
	case !dispatchdom.ValidSOC(v.TaperSOC):
		return f, badField(field+".taperSoc", "must be 0–100")
	}
	if v.Departure != nil {
		f.Departure = *v.Departure
	}
	return f, nil
}

// smartInput validates a smart plan and builds its workflow input; with no
// tou it uses the station's pricing schedule in force now.
func (s *Server) smartInput(ctx context.Context, req planRequest, cs connectorSet, all []string, now time.Time) (dispatchwf.SmartInput, error) {
	in := dispatchwf.SmartInput{Location: "Asia/Shanghai"}
	if req.SiteLimitKW == nil {
		return in, badField("siteLimitKw", "a smart plan needs siteLimitKw")
	}
	if err := validPower("siteLimitKw", req.SiteLimitKW, dispatchdom.MaxSiteLimitKW); err != nil {
		return in, err
	}
	in.SiteLimitKW = *req.SiteLimitKW
	ids := req.ConnectorIDs
	if len(ids) == 0 {
		ids = all
	}
	var err error
	if in.Connectors, err = cs.targets("connectorIds", ids); err != nil {
		return in, err
	}
	controlled := map[dispatchstore.Target]bool{}
	for _, t := range in.Connectors {
		controlled[t] = true
	}
	for i, v := range req.Fleet {
		field := fmt.Sprintf("fleet[%d]", i)
		p, ok := cs[v.ConnectorID]
		if !ok || !controlled[p.Target] {
			return in, badField(field+".connectorId", "connector %q is not under the plan", v.ConnectorID)
		}
		f, err := v.fleet(field, p.Target)
		if err != nil {
			return in, err
		}
		in.Fleet = append(in.Fleet, f)
	}
	if req.DefaultVehicle != nil {
		if in.Default, err = req.DefaultVehicle.fleet("defaultVehicle", dispatchstore.Target{}); err != nil {
			return in, err
		}
	}
	if req.ReplanMinutes < 0 || req.ReplanMinutes > dispatchdom.MaxReplanMinutes {
		return in, badField("replanMinutes", "must be 1–%d", dispatchdom.MaxReplanMinutes)
	}
	if req.HorizonHours < 0 || req.HorizonHours > dispatchdom.MaxHorizonHours {
		return in, badField("horizonHours", "must be 1–%d", dispatchdom.MaxHorizonHours)
	}
	in.Replan, in.Horizon = time.Duration(req.ReplanMinutes)*time.Minute, time.Duration(req.HorizonHours)*time.Hour
	if req.Until != nil {
		if !req.Until.After(now) {
			return in, badField("until", "%s is not in the future", req.Until.Format(time.RFC3339))
		}
		in.Until = *req.Until
	}
	for i, p := range req.TOU {
		field := fmt.Sprintf("tou[%d]", i)
		start, err := hhmm(field+".start", p.Start)
		if err != nil {
			return in, err
		}
		end, err := hhmm(field+".end", p.End)
		if err != nil {
			return in, err
		}
		switch dispatchdom.Period(p.Period) {
		case dispatchdom.Sharp, dispatchdom.Peak, dispatchdom.Flat, dispatchdom.Valley:
		default:
			return in, badField(field+".period", "must be sharp, peak, flat or valley")
		}
		in.TOU = append(in.TOU, dispatchdom.TOUPeriod{Start: start, End: end, Kind: dispatchdom.Period(p.Period)})
	}
	if len(req.TOU) == 0 {
		segs, offset, err := dispatchstore.StationSchedule(ctx, s.cfg.DB, req.StationID, now)
		if err != nil {
			return in, err
		}
		in.TOU = dispatchdom.TOUFromSchedule(segs, offset-8*60)
	}
	return in, nil
}

// createDispatchPlan is POST /dispatch/plans: validates a timed or smart
// plan, records it and starts dispatch/<stationId>/<planId>. The same
// Idempotency-Key (or planId) with the same body answers the same plan;
// with a different body 409.
func (s *Server) createDispatchPlan(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req planRequest
	if !decode(w, r, &req) {
		return
	}
	key, ok := idempotencyKey(w, r)
	if !ok {
		return
	}
	if req.Kind != planTimed && req.Kind != planSmart {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "kind must be timed or smart", "kind")
		return
	}
	if req.PlanID != "" && !planIDPattern.MatchString(req.PlanID) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "planId must be 1–64 of A-Z a-z 0-9 . _ -", "planId")
		return
	}
	if req.StationID == "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "stationId is required", "stationId")
		return
	}
	clock := dispatchwf.Clock{}
	now := time.Now()
	if req.Clock != nil {
		if req.Clock.Epoch.IsZero() || !dispatchdom.ValidClockFactor(req.Clock.Factor) {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
				fmt.Sprintf("clock needs an epoch and a factor %d–%d", dispatchdom.MinClockFactor, dispatchdom.MaxClockFactor), "clock")
			return
		}
		clock = dispatchwf.Clock{Epoch: req.Clock.Epoch, Factor: req.Clock.Factor}
		now = req.Clock.Epoch
	}
	st, err := dispatchstore.FindStation(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), req.StationID)
	if errors.Is(err, dispatchstore.ErrNotFound) {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "station "+req.StationID+" not found", "stationId")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, st.ProjectID, req.StationID+"/"+req.PlanID, map[string]any{"kind": req.Kind})
	if !op.Grants.Can(st.ProjectID, access.DispatchStation) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "dispatch plans need the maintenance or admin role")
		return
	}
	places, err := dispatchstore.StationConnectors(r.Context(), s.cfg.DB, st.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	cs := connectorSet{}
	all := make([]string, 0, len(places))
	for _, p := range places {
		cs[p.ConnectorID] = p
		all = append(all, p.ConnectorID)
	}
	body, err := json.Marshal(req)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	// A retry answers the plan its key (or plan id) created, even when the
	// id was generated or the plan's start times have passed since.
	if p, found, err := s.existingPlan(r.Context(), st, req.PlanID, key); err != nil {
		s.internal(w, r, err)
		return
	} else if found {
		s.answerPlan(w, r, p, hash, key, st)
		return
	}
	planID := req.PlanID
	if planID == "" {
		planID = "plan-" + uuid.NewString()
	}
	var in any
	switch req.Kind {
	case planTimed:
		ti, err := timedInput(req, cs, now)
		if s.planErr(w, r, err) != nil {
			return
		}
		ti.ProjectID, ti.StationID, ti.PlanID, ti.Clock = st.ProjectID, st.ID, planID, clock
		in = ti
	case planSmart:
		si, err := s.smartInput(r.Context(), req, cs, all, now)
		if s.planErr(w, r, err) != nil {
			return
		}
		si.ProjectID, si.StationID, si.PlanID, si.Clock = st.ProjectID, st.ID, planID, clock
		in = si
	}
	input, err := json.Marshal(in)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p, _, err := dispatchstore.CreatePlan(r.Context(), s.cfg.DB, dispatchstore.Plan{ID: uuid.NewString(),
		ProjectID: st.ProjectID, StationID: st.ID, PlanID: planID, Kind: req.Kind, WorkflowID: dispatchwf.WorkflowID(st.ID, planID),
		Input: input, RequestHash: hash, IdempotencyKey: key, CreatedBy: &op.ID})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.answerPlan(w, r, p, hash, key, st)
}

// existingPlan is the plan a retry refers to: by its Idempotency-Key in the
// project, else by its plan id at the station.
func (s *Server) existingPlan(ctx context.Context, st dispatchstore.Station, planID string, key *string) (dispatchstore.Plan, bool, error) {
	var p dispatchstore.Plan
	err := dispatchstore.ErrNotFound
	if key != nil {
		p, err = dispatchstore.FindPlanByKey(ctx, s.cfg.DB, st.ProjectID, *key)
	}
	if errors.Is(err, dispatchstore.ErrNotFound) && planID != "" {
		p, err = dispatchstore.GetPlan(ctx, s.cfg.DB, []string{st.ProjectID}, st.ID, planID)
	}
	if errors.Is(err, dispatchstore.ErrNotFound) {
		return p, false, nil
	}
	return p, err == nil, err
}

// planErr writes the problem of a plan that fails validation (422) or of
// an internal failure; it returns err.
func (s *Server) planErr(w http.ResponseWriter, r *http.Request, err error) error {
	var fe fieldErr
	switch {
	case err == nil:
	case errors.As(err, &fe):
		writeProblemField(w, http.StatusUnprocessableEntity, fe.code, fe.Error(), fe.field)
	default:
		s.internal(w, r, err)
	}
	return err
}

// answerPlan starts the recorded plan's workflow (harmless when it runs or
// ran: a retry heals a plan whose first start never reached Temporal) and
// answers 202 with it; a plan recorded for another body is a conflict.
func (s *Server) answerPlan(w http.ResponseWriter, r *http.Request, p dispatchstore.Plan, hash string, key *string, st dispatchstore.Station) {
	if p.RequestHash != hash {
		if key != nil && p.IdempotencyKey != nil && *p.IdempotencyKey == *key {
			writeProblemField(w, http.StatusConflict, CodeIdempotencyReuse, "Idempotency-Key was used for a different plan", "Idempotency-Key")
			return
		}
		writeProblemField(w, http.StatusConflict, CodePlanExists, "plan "+p.PlanID+" exists at station "+p.StationID+" with another body", "planId")
		return
	}
	kind := dispatchwf.KindTimed
	var in any = &dispatchwf.TimedInput{}
	if p.Kind == planSmart {
		kind, in = dispatchwf.KindSmart, &dispatchwf.SmartInput{}
	}
	if err := json.Unmarshal(p.Input, in); err != nil {
		s.internal(w, r, err)
		return
	}
	if p.CancelledAt == nil {
		if err := names.StartOnce(r.Context(), s.cfg.Temporal, p.WorkflowID, kind, names.Attributes(st.ProjectCode, kind, p.StationID, "running"), in); err != nil {
			s.log.Error("start dispatch plan", "workflowId", p.WorkflowID, "error", err)
			writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable,
				"the plan is recorded; send the same request (same Idempotency-Key or planId) again to start it")
			return
		}
	}
	writeJSON(w, http.StatusAccepted, planView{Plan: p, Status: s.planStatus(r.Context(), p)})
}

// planStatus is the plan's workflow status.
func (s *Server) planStatus(ctx context.Context, p dispatchstore.Plan) string {
	d, err := s.cfg.Temporal.DescribeWorkflowExecution(ctx, p.WorkflowID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) && p.CancelledAt != nil {
		return "cancelled" // cancelled before it ever started
	}
	if errors.As(err, &nf) {
		return "not_started"
	}
	if err != nil {
		return "unknown"
	}
	switch d.GetWorkflowExecutionInfo().GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "running"
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "completed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "cancelled"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "terminated"
	default:
		return "failed"
	}
}

// listDispatchPlans is GET /dispatch/plans?stationId=&kind=&limit=&cursor=.
func (s *Server) listDispatchPlans(w http.ResponseWriter, r *http.Request) {
	q := dispatchstore.PlanQuery{Projects: operatorFrom(r.Context()).projectsFor(access.ViewData),
		StationID: r.URL.Query().Get("stationId"), Kind: r.URL.Query().Get("kind")}
	if q.Kind != "" && q.Kind != planTimed && q.Kind != planSmart {
		writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "kind must be timed or smart", "kind")
		return
	}
	pg, ok := pageParams(w, r)
	if !ok {
		return
	}
	q.Limit, q.Before, q.BeforeID = pg.limit, pg.before, pg.beforeID
	plans, err := dispatchstore.ListPlans(r.Context(), s.cfg.DB, q)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	items := make([]planView, 0, len(plans))
	for _, p := range plans {
		items = append(items, planView{Plan: p, Status: s.planStatus(r.Context(), p)})
	}
	writePage(w, items, q.Limit, func(last planView) (time.Time, string) { return last.CreatedAt, last.ID })
}

// getDispatchPlan is GET /dispatch/plans/{stationId}/{planId}: the plan,
// its status and, while its workflow answers, its live state.
func (s *Server) getDispatchPlan(w http.ResponseWriter, r *http.Request) {
	p, ok := s.findPlan(w, r, access.ViewData)
	if !ok {
		return
	}
	v := planView{Plan: p, Status: s.planStatus(r.Context(), p)}
	if v.Status != "not_started" && v.Status != "unknown" {
		query, target := dispatchwf.QueryOutcomes, any(&v.Outcomes)
		if p.Kind == planSmart {
			v.State = &dispatchwf.PlanState{}
			query, target = dispatchwf.QueryPlan, v.State
		}
		res, err := s.cfg.Temporal.QueryWorkflow(r.Context(), p.WorkflowID, "", query)
		if err == nil {
			err = res.Get(target)
		}
		if err != nil {
			// A closed plan without a worker to replay it: the record is still right.
			s.log.Debug("query dispatch plan", "workflowId", p.WorkflowID, "error", err)
			v.State = nil
		}
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) findPlan(w http.ResponseWriter, r *http.Request, need access.Action) (dispatchstore.Plan, bool) {
	station, plan := chi.URLParam(r, "stationId"), chi.URLParam(r, "planId")
	p, err := dispatchstore.GetPlan(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(need), station, plan)
	if !s.found(w, r, err, dispatchstore.ErrNotFound, "no plan "+plan+" at station "+station) {
		return p, false
	}
	return p, true
}

// cancelDispatchPlan is DELETE /dispatch/plans/{stationId}/{planId}: cancels
// the plan's workflow (a smart plan releases its limits; sessions a timed
// plan started keep running). Cancelling a cancelled plan answers the same.
func (s *Server) cancelDispatchPlan(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	p, ok := s.findPlan(w, r, access.ViewData)
	if !ok {
		return
	}
	setAudit(r, p.ProjectID, p.StationID+"/"+p.PlanID, map[string]any{"cancel": true})
	if !op.Grants.Can(p.ProjectID, access.DispatchStation) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "dispatch plans need the maintenance or admin role")
		return
	}
	status := s.planStatus(r.Context(), p)
	switch status {
	case "running":
		if err := s.cfg.Temporal.CancelWorkflow(r.Context(), p.WorkflowID, ""); err != nil {
			writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the plan was not cancelled; try again")
			return
		}
		status = "cancelling"
	case "cancelled", "not_started":
	case "unknown":
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the plan was not cancelled; try again")
		return
	default:
		writeProblem(w, http.StatusConflict, CodePlanNotRunning, "plan "+p.PlanID+" is "+status)
		return
	}
	if err := dispatchstore.MarkCancelled(r.Context(), s.cfg.DB, p.ID, op.ID); err != nil {
		s.internal(w, r, err)
		return
	}
	p, ok = s.findPlan(w, r, access.ViewData)
	if !ok {
		return
	}
	if status == "not_started" {
		status = "cancelled" // recorded as cancelled: a retry of its POST will not start it
	}
	writeJSON(w, http.StatusAccepted, planView{Plan: p, Status: status})
}
