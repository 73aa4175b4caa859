package api

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/access"
	smsstore "github.com/voltflow/voltflow/store/sms"
)

// listSMS serves GET /api/v1/sms?limit=&cursor=&meterNo=: the SMS sent
// (outbox or provider) in the caller's projects, newest first.
func (s *Server) listSMS(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	p, ok := pageParams(w, r)
	if !ok {
		return
	}
	if _, err := uuid.Parse(p.beforeID); p.before != nil && err != nil {
		writeProblem(w, http.StatusBadRequest, CodeMalformed, "bad cursor")
		return
	}
	items, err := smsstore.List(r.Context(), s.cfg.DB, smsstore.Filter{Projects: nonNil(op.projectsFor(access.ViewData)), Scope: op.scope(),
		MeterNo: r.URL.Query().Get("meterNo"), Limit: p.limit, Before: p.before, BeforeID: p.beforeID})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, p.limit, func(last smsstore.Message) (time.Time, string) { return last.CreatedAt, last.ID })
}
