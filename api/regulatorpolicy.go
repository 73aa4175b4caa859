package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/serve"
)

// regulatorPolicyRoutes: the per-regulator settings of incoming requests
// (issue 22 §5): the ±window a request's TimeStamp must fall in is ours,
// not the standard's, so each regulator has its own.
func (s *Server) regulatorPolicyRoutes(r chi.Router) {
	r.With(s.audit("regulator.settings")).Put("/regulators/{name}/settings", s.putRegulatorSettings)
	r.Get("/regulators/{name}/settings", s.getRegulatorSettings)
}

// RegulatorSettings is a regulator's request policy. Freshness is a Go
// duration (whole seconds, 1s..24h); "" is the platform default.
type RegulatorSettings struct {
	Regulator        string `json:"regulator"`
	Freshness        string `json:"freshness"`
	DefaultFreshness string `json:"defaultFreshness"`
}

type regulatorSettingsRequest struct {
	Freshness string `json:"freshness"`
}

func (s *Server) putRegulatorSettings(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	var req regulatorSettingsRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", "regulator "+name, map[string]any{"freshness": req.Freshness})
	if !s.platformAdmin(w, r, "changing regulator settings") {
		return
	}
	if !regulatorName.MatchString(name) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "a regulator name is 1-32 of a-z, 0-9, '-'", "name")
		return
	}
	var d time.Duration
	if req.Freshness != "" {
		var err error
		if d, err = time.ParseDuration(req.Freshness); err != nil || d == 0 {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "freshness must be a Go duration such as 5m", "freshness")
			return
		}
	}
	if err := serve.SetFreshness(r.Context(), s.cfg.DB, name, d); errors.Is(err, serve.ErrFreshness) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "freshness must be 1s..24h in whole seconds", "freshness")
		return
	} else if err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeRegulatorSettings(w, r, name)
}

func (s *Server) getRegulatorSettings(w http.ResponseWriter, r *http.Request) {
	if !s.platformAdmin(w, r, "reading regulator settings") {
		return
	}
	s.writeRegulatorSettings(w, r, chi.URLParam(r, "name"))
}

func (s *Server) writeRegulatorSettings(w http.ResponseWriter, r *http.Request, name string) {
	d, err := serve.RegulatorFreshness(r.Context(), s.cfg.DB, name)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := RegulatorSettings{Regulator: name, DefaultFreshness: envelope.DefaultReplayWindow.String()}
	if d > 0 {
		out.Freshness = d.String()
	}
	writeJSON(w, http.StatusOK, out)
}
