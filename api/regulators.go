package api

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
)

// regulatorRoutes install and show the regulator's credentials (R5),
// platform administrators only; the secrets go in and never come out.
func (s *Server) regulatorRoutes(r chi.Router) {
	r.With(s.audit("regulator.credentials")).Put("/regulators/{name}/credentials", s.putRegulatorCredentials)
	r.Get("/regulators/{name}/credentials", s.getRegulatorCredentials)
}

var regulatorName = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

type regulatorCredentialsRequest struct {
	OperatorID     string `json:"operatorId"`
	OperatorSecret string `json:"operatorSecret"`
	DataSecret     string `json:"dataSecret"`
	DataSecretIV   string `json:"dataSecretIV"`
	SigSecret      string `json:"sigSecret"`
	Overlap        string `json:"overlap"`
}

type regulatorCredentials struct {
	Regulator string           `json:"regulator"`
	Items     []keys.Installed `json:"items"`
}

// regulatorKeys is the process's key store, or one from the environment's
// master key when the API runs without the regulator exchange.
func (s *Server) regulatorKeys() (*keys.Store, error) {
	if s.cfg.RegulatorKeys != nil {
		return s.cfg.RegulatorKeys, nil
	}
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		return nil, err
	}
	return &keys.Store{DB: s.cfg.DB, Key: mk}, nil
}

func (s *Server) putRegulatorCredentials(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	var req regulatorCredentialsRequest
	if !decode(w, r, &req) {
		return
	}
	// The audit keeps who rotated which operator's set; never a secret.
	setAudit(r, "", "regulator "+name, map[string]any{"operatorId": req.OperatorID, "overlap": req.Overlap})
	if !s.platformAdmin(w, r, "installing regulator credentials") {
		return
	}
	if !regulatorName.MatchString(name) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "a regulator name is 1-32 of a-z, 0-9, '-'", "name")
		return
	}
	overlap := 24 * time.Hour
	if req.Overlap != "" {
		d, err := time.ParseDuration(req.Overlap)
		if err != nil || d < 0 {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "overlap must be a Go duration such as 24h", "overlap")
			return
		}
		overlap = d
	}
	ks, err := s.regulatorKeys()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	err = ks.Install(r.Context(), name, envelope.Secrets{OperatorID: req.OperatorID, OperatorSecret: req.OperatorSecret,
		DataSecret: req.DataSecret, DataSecretIV: req.DataSecretIV, SigSecret: req.SigSecret}, overlap)
	if errors.Is(err, keys.ErrInvalid) || errors.Is(err, envelope.ErrInvalidSecrets) {
		writeProblem(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeRegulatorCredentials(w, r, ks, name)
}

func (s *Server) getRegulatorCredentials(w http.ResponseWriter, r *http.Request) {
	if !s.platformAdmin(w, r, "reading regulator credentials") {
		return
	}
	ks, err := s.regulatorKeys()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeRegulatorCredentials(w, r, ks, chi.URLParam(r, "name"))
}

func (s *Server) writeRegulatorCredentials(w http.ResponseWriter, r *http.Request, ks *keys.Store, name string) {
	list, err := ks.List(r.Context(), name)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, regulatorCredentials{Regulator: name, Items: list})
}
