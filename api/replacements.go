package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/access"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/domain/money"
	replacementstore "github.com/voltflow/voltflow/store/replacement"
	"github.com/voltflow/voltflow/workflows/names"
	replacementwf "github.com/voltflow/voltflow/workflows/replacement"
)

// Problem codes of meter replacement (换表).
const (
	CodeMeterRetired        = "meter_retired"        // a retired meter: no sales, no replacement
	CodeMeterBusy           = "meter_busy"           // a sale, refund or replacement of the meter is under way
	CodeReplacementMismatch = "replacement_mismatch" // same meter twice, or meters of different kinds / billing
	CodeNoReadingWanted     = "reading_not_wanted"   // the replacement is past its reading
)

var replacementTxNo = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type manualReadingRequest struct {
	Remaining  string `json:"remaining"`
	CounterKwh string `json:"counterKwh"`
	Reason     string `json:"reason"`
}

type replacementRequest struct {
	OldMeterNo    string                `json:"oldMeterNo"`
	NewMeterNo    string                `json:"newMeterNo"`
	TransactionNo string                `json:"transactionNo"`
	ManualReading *manualReadingRequest `json:"manualReading"`
}

type replacementAccepted struct {
	ID         string                  `json:"id"`
	Status     replacementstore.Status `json:"status"`
	WorkflowID string                  `json:"workflowId"`
}

// replacementRoutes: meter replacement needs the admin or maintenance role
// of the project (access.ReplaceMeter: it switches a
// meter off and writes another).
func (s *Server) replacementRoutes(r chi.Router) {
	r.With(s.audit("meter.replace")).Post("/projects/{project}/meter-replacements", s.createReplacement)
	r.Get("/meter-replacements/{id}", s.getReplacement)
	r.With(s.audit("meter.replace.reading")).Post("/meter-replacements/{id}/manual-reading", s.manualReading)
}

// parseManualReading checks an operator's reading; it writes the problem
// (field prefixed by prefix) and returns false when it is not valid.
func parseManualReading(w http.ResponseWriter, m manualReadingRequest, prefix string) (replacementwf.ManualReading, bool) {
	var out replacementwf.ManualReading
	var err error
	if out.Remaining, err = money.Parse(m.Remaining); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount,
			"remaining must be a decimal string with at most 2 places, e.g. \"42.50\"", prefix+"remaining")
		return out, false
	}
	if out.CounterKwh, err = money.Parse(m.CounterKwh); err != nil || out.CounterKwh.IsNegative() {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
			"counterKwh must be a non-negative decimal string with at most 2 places", prefix+"counterKwh")
		return out, false
	}
	out.Reason = m.Reason
	if err := out.Validate(); err != nil || len(m.Reason) > 500 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
			"reason is required (at most 500 characters): say why the meter could not be read", prefix+"reason")
		return out, false
	}
	return out, true
}

// createReplacement is POST /projects/{project}/meter-replacements. Every
// check runs before anything is written; a refusal changes nothing.
func (s *Server) createReplacement(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	var req replacementRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, pid, req.OldMeterNo, map[string]any{"newMeterNo": req.NewMeterNo, "transactionNo": req.TransactionNo,
		"manual": req.ManualReading != nil})
	if !op.Grants.Can(pid, access.ReplaceMeter) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "replacing a meter needs the admin or maintenance role")
		return
	}
	if !replacementTxNo.MatchString(req.TransactionNo) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
			"transactionNo must be 1-64 characters of letters, digits, '-', '_', '.'", "transactionNo")
		return
	}
	var manual *replacementwf.ManualReading
	if req.ManualReading != nil {
		m, ok := parseManualReading(w, *req.ManualReading, "manualReading.")
		if !ok {
			return
		}
		manual = &m
	}
	hash := replacementHash(req, manual)

	// The same transaction number answers as before (even once the old
	// meter is retired); with another request it is a conflict.
	if prev, err := replacementstore.ByTransaction(r.Context(), s.cfg.DB, pid, req.TransactionNo); err == nil {
		if prev.RequestHash != hash {
			writeKeyReused(w, "transactionNo", req.TransactionNo, "meter replacement")
			return
		}
		s.startReplacement(w, r, prev, chi.URLParam(r, "project"), manual)
		return
	} else if !errors.Is(err, replacementstore.ErrNotFound) {
		s.internal(w, r, err)
		return
	}

	old, ok := s.replacementMeter(w, r, pid, req.OldMeterNo, "oldMeterNo")
	if !ok {
		return
	}
	nu, ok := s.replacementMeter(w, r, pid, req.NewMeterNo, "newMeterNo")
	if !ok {
		return
	}
	switch {
	case old.ID == nu.ID:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeReplacementMismatch, "a meter cannot replace itself", "newMeterNo")
		return
	case old.Kind != nu.Kind:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeReplacementMismatch,
			"meter "+old.MeterNo+" is "+old.Kind+", "+nu.MeterNo+" is "+nu.Kind, "newMeterNo")
		return
	case old.PrepaidMode != "meter" || nu.PrepaidMode != "meter":
		writeProblemField(w, http.StatusUnprocessableEntity, CodeReplacementMismatch,
			"both meters must be meter-side prepaid (本地费控): a platform-side meter's balance is its wallet", "newMeterNo")
		return
	case nu.AccountOpen && (old.AccountID == nil || *nu.AccountID != *old.AccountID):
		writeProblemField(w, http.StatusConflict, CodeMeterInAccount,
			"meter "+nu.MeterNo+" belongs to another open account", "newMeterNo")
		return
	}
	// A sale under way to the old meter would miss its final reading; one
	// to the new meter would be wiped when it is cleared.
	for _, m := range []struct {
		meter replacementstore.Meter
		field string
	}{{old, "oldMeterNo"}, {nu, "newMeterNo"}} {
		if busy, err := replacementstore.Busy(r.Context(), s.cfg.DB, m.meter.ID); err != nil {
			s.internal(w, r, err)
			return
		} else if busy {
			writeProblemField(w, http.StatusConflict, CodeMeterBusy,
				"meter "+m.meter.MeterNo+" has a sale or refund under way: let it finish first", m.field)
			return
		}
	}

	id := uuid.NewString()
	rep := replacementstore.Replacement{ID: id, ProjectID: pid, TransactionNo: req.TransactionNo, RequestHash: hash,
		OldMeterID: old.ID, OldMeterNo: old.MeterNo, NewMeterID: nu.ID, NewMeterNo: nu.MeterNo,
		WorkflowID: replacementwf.WorkflowID(id), CreatedBy: op.ID}
	if manual != nil {
		rep.ManualRemaining, rep.ManualEnergyKwh, rep.ManualReason = &manual.Remaining, &manual.CounterKwh, manual.Reason
	}
	created, _, err := replacementstore.Create(r.Context(), s.cfg.DB, rep,
		replacementstore.NewCommand{ID: uuid.NewString(), MeterID: old.ID, MeterNo: old.MeterNo, Command: string(metercmddom.SwitchOff)},
		replacementstore.NewCommand{ID: uuid.NewString(), MeterID: nu.ID, MeterNo: nu.MeterNo, Command: string(metercmddom.ClearRemaining)})
	if errors.Is(err, replacementstore.ErrMeterBusy) {
		writeProblemField(w, http.StatusConflict, CodeMeterBusy, "a meter of this request is in another replacement under way", "oldMeterNo")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if created.RequestHash != hash { // a concurrent request with the same number won
		writeKeyReused(w, "transactionNo", req.TransactionNo, "meter replacement")
		return
	}
	s.startReplacement(w, r, created, chi.URLParam(r, "project"), manual)
}

// startReplacement starts (or finds running) the replacement's workflow
// and answers 202.
func (s *Server) startReplacement(w http.ResponseWriter, r *http.Request, rep replacementstore.Replacement, projectCode string,
	manual *replacementwf.ManualReading) {
	in := replacementwf.Input{ReplacementID: rep.ID, ProjectID: rep.ProjectID, ProjectCode: projectCode,
		OldMeterID: rep.OldMeterID, OldMeterNo: rep.OldMeterNo, NewMeterID: rep.NewMeterID, NewMeterNo: rep.NewMeterNo,
		SwitchOffCommandID: rep.SwitchOffCommand, ClearCommandID: rep.ClearCommand, Manual: manual,
		DispatchWindow: s.cfg.DispatchWindow}
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, rep.WorkflowID, replacementwf.Kind,
		names.Attributes(projectCode, replacementwf.Kind, rep.OldMeterNo, string(rep.Status)), in); err != nil {
		s.log.Error("start meter replacement workflow", "replacement", rep.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable,
			"the replacement is recorded; send the same request with the same transactionNo again to start it")
		return
	}
	writeJSON(w, http.StatusAccepted, replacementAccepted{ID: rep.ID, Status: rep.Status, WorkflowID: rep.WorkflowID})
}

// replacementMeter finds a meter of the project the caller may see and
// refuses a retired one or one in a replacement under way.
func (s *Server) replacementMeter(w http.ResponseWriter, r *http.Request, pid, meterNo, field string) (replacementstore.Meter, bool) {
	ref, err := s.findMeter(r.Context(), []string{pid}, meterNo)
	if errors.Is(err, pgx.ErrNoRows) || meterNo == "" {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "meter "+meterNo+" not found in the project", field)
		return replacementstore.Meter{}, false
	}
	if err != nil {
		s.internal(w, r, err)
		return replacementstore.Meter{}, false
	}
	m, err := replacementstore.FindMeter(r.Context(), s.cfg.DB, ref.meterNo)
	if err != nil {
		s.internal(w, r, err)
		return m, false
	}
	if m.Status == "retired" {
		writeProblemField(w, http.StatusConflict, CodeMeterRetired, "meter "+meterNo+" is retired", field)
		return m, false
	}
	if _, busy, err := replacementstore.State(r.Context(), s.cfg.DB, m.ID); err != nil {
		s.internal(w, r, err)
		return m, false
	} else if busy {
		writeProblemField(w, http.StatusConflict, CodeMeterBusy, "meter "+meterNo+" is in a replacement under way", field)
		return m, false
	}
	return m, true
}

// replacementHash identifies a request for the transactionNo check: the
// meters and the manual reading as parsed (so "1.5" and "1.50" agree).
func replacementHash(req replacementRequest, manual *replacementwf.ManualReading) string {
	b, _ := json.Marshal(struct {
		Old, New string
		Manual   *replacementwf.ManualReading
	}{req.OldMeterNo, req.NewMeterNo, manual})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (s *Server) getReplacement(w http.ResponseWriter, r *http.Request) {
	getByID(s, w, r, replacementstore.Get, replacementstore.ErrNotFound, "meter replacement not found")
}

// manualReading is POST /meter-replacements/{id}/manual-reading: the
// operator's reading of an old meter the platform could not read (an
// Update of the workflow; 200 with the replacement).
func (s *Server) manualReading(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	rep, err := replacementstore.Get(r.Context(), s.cfg.DB, op.Grants.Projects(), chi.URLParam(r, "id"))
	if !s.found(w, r, err, replacementstore.ErrNotFound, "meter replacement not found") {
		return
	}
	var req manualReadingRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, rep.ProjectID, rep.OldMeterNo, map[string]any{"replacementId": rep.ID, "remaining": req.Remaining,
		"counterKwh": req.CounterKwh})
	if !op.Grants.Can(rep.ProjectID, access.ReplaceMeter) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "replacing a meter needs the admin or maintenance role")
		return
	}
	m, ok := parseManualReading(w, req, "")
	if !ok {
		return
	}
	switch rep.Status {
	case replacementstore.Pending, replacementstore.Reading, replacementstore.AwaitingReading:
	default:
		writeProblem(w, http.StatusConflict, CodeNoReadingWanted, "the replacement is "+string(rep.Status)+": its reading is taken")
		return
	}
	var status replacementstore.Status
	if !s.update(w, r, rep.WorkflowID, replacementwf.UpdateManualReading, m, &status) {
		return
	}
	rep, err = replacementstore.Get(r.Context(), s.cfg.DB, []string{rep.ProjectID}, rep.ID)
	s.writeFound(w, r, rep, err, replacementstore.ErrNotFound, "meter replacement not found")
}

// refuseRetired answers 409 meter_retired for a sale or refund to a
// retired meter, and meter_busy for one in a replacement under way (its
// money would miss the final reading).
func (s *Server) refuseRetired(w http.ResponseWriter, r *http.Request, m meterRef) bool {
	retired, replacing, err := replacementstore.State(r.Context(), s.cfg.DB, m.id)
	if err != nil {
		s.internal(w, r, err)
		return true
	}
	if retired {
		writeProblemField(w, http.StatusConflict, CodeMeterRetired,
			"meter "+m.meterNo+" is retired (replaced): sell to the meter that replaced it", "meterNo")
		return true
	}
	if replacing {
		writeProblemField(w, http.StatusConflict, CodeMeterBusy, "meter "+m.meterNo+" is being replaced: sell once the replacement is done", "meterNo")
		return true
	}
	return false
}
