package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/domain/setup"
	alarmstore "github.com/voltflow/voltflow/store/alarm"
)

// SiteRecipients are the phones a site subtree's alarm SMS go to (area
// managers): a meter's alarms reach the recipients of every site on its
// path up the tree, besides the project's and the meter's own.
type SiteRecipients struct {
	Phones []string `json:"phones"`
}

// maxSiteRecipients bounds one site's list: an SMS goes to each number.
const maxSiteRecipients = 20

func (s *Server) putSiteRecipients(w http.ResponseWriter, r *http.Request) {
	var req SiteRecipients
	if !decode(w, r, &req) {
		return
	}
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	siteID := chi.URLParam(r, "siteId")
	setAudit(r, pid, "site "+siteID, map[string]any{"phones": req.Phones})
	if req.Phones == nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "phones: a list (empty for none)", "phones")
		return
	}
	if len(req.Phones) > maxSiteRecipients {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "phones: at most 20 numbers", "phones")
		return
	}
	for _, p := range req.Phones {
		if !setup.ValidPhone(p) {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "phones: "+p+" is not a phone number (3–20 digits)", "phones")
			return
		}
	}
	phones := slices.Clone(req.Phones)
	slices.Sort(phones)
	phones = slices.Compact(phones)
	s.writeSiteRecipients(w, r, siteID, phones, alarmstore.SetSiteRecipients(r.Context(), s.cfg.DB, pid, siteID, phones))
}

func (s *Server) getSiteRecipients(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	siteID := chi.URLParam(r, "siteId")
	phones, err := alarmstore.SiteRecipients(r.Context(), s.cfg.DB, pid, siteID)
	s.writeSiteRecipients(w, r, siteID, phones, err)
}

func (s *Server) writeSiteRecipients(w http.ResponseWriter, r *http.Request, siteID string, phones []string, err error) {
	switch {
	case errors.Is(err, alarmstore.ErrUnknownSite):
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "site "+siteID+" not found in this project", "siteId")
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusOK, SiteRecipients{Phones: phones})
	}
}
