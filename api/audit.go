package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
)

// auditInfo is filled by handlers while a write runs.
type auditInfo struct {
	operatorID, username, projectID, subject string
	detail                                   map[string]any
}

type auditKey struct{}

func setAuditOperator(r *http.Request, id, username string) {
	if a, ok := r.Context().Value(auditKey{}).(*auditInfo); ok {
		a.operatorID, a.username = id, username
	}
}

func setAudit(r *http.Request, projectID, subject string, detail map[string]any) {
	if a, ok := r.Context().Value(auditKey{}).(*auditInfo); ok {
		a.projectID, a.subject, a.detail = projectID, subject, detail
	}
}

// audit records every write — who, what, on which subject, with which
// outcome — refused ones included, since a refused attempt matters too.
func (s *Server) audit(action string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info := &auditInfo{}
			if op := operatorFrom(r.Context()); op != nil {
				info.operatorID, info.username = op.ID, op.Username
			}
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), auditKey{}, info)))
			detail, _ := json.Marshal(info.detail)
			if info.detail == nil {
				detail = []byte("{}")
			}
			var opID, projectID any
			if info.operatorID != "" {
				opID = info.operatorID
			}
			if info.projectID != "" {
				projectID = info.projectID
			}
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			if _, err := s.cfg.DB.Exec(context.WithoutCancel(r.Context()), `insert into audit_log(operator_id, username,
				project_id, action, subject, status, request_id, detail) values($1,$2,$3,$4,$5,$6,$7,$8)`,
				opID, info.username, projectID, action, info.subject, status, middleware.GetReqID(r.Context()), detail); err != nil {
				s.log.Error("audit record lost", "action", action, "error", err)
			}
		})
	}
}
