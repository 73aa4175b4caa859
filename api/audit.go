package api

import (
	"bytes"
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

// noteRefused keeps a refused input in the audit record (escaped when the
// record is written), unless the handler already described the request.
func noteRefused(r *http.Request, field, value string) {
	if a, ok := r.Context().Value(auditKey{}).(*auditInfo); ok && a.detail == nil {
		a.detail = map[string]any{"refused": field, "value": clip(value, 1000)}
	}
}

// audit records every write — who, what, on which subject, with which
// outcome — refused ones included, since a refused attempt matters too.
// The answer is held back until the record is written: when the record
// cannot be written the client gets 500, not the answer of an unrecorded
// action.
func (s *Server) audit(action string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info := &auditInfo{}
			if op := operatorFrom(r.Context()); op != nil {
				info.operatorID, info.username = op.ID, op.Username
			}
			held := &heldResponse{header: http.Header{}}
			r = r.WithContext(context.WithValue(r.Context(), auditKey{}, info))
			if f := refusedParam(r); f != nil {
				info.detail = map[string]any{"refused": f.field, "value": clip(f.value, 1000)}
				f.write(held)
			} else {
				next.ServeHTTP(held, r)
			}
			if err := s.writeAudit(r, action, info, held.status()); err != nil {
				s.log.Error("audit record lost", "action", action, "request_id", middleware.GetReqID(r.Context()), "error", err)
				s.internal(w, r, err)
				return
			}
			held.send(w)
		})
	}
}

func (s *Server) writeAudit(r *http.Request, action string, info *auditInfo, status int) error {
	detail, err := auditDetail(info.detail)
	if err != nil {
		return err
	}
	var opID, projectID any
	if info.operatorID != "" {
		opID = info.operatorID
	}
	if info.projectID != "" {
		projectID = info.projectID
	}
	_, err = s.cfg.DB.Exec(context.WithoutCancel(r.Context()), `insert into audit_log(operator_id, username,
		project_id, action, subject, status, request_id, detail) values($1,$2,$3,$4,$5,$6,$7,$8)`,
		opID, escapeText(info.username), projectID, action, escapeText(info.subject), status,
		middleware.GetReqID(r.Context()), detail)
	return err
}

// auditDetail is the detail as JSON that PostgreSQL's jsonb takes whatever
// the input held: every string and key escaped (jsonb refuses \u0000).
func auditDetail(d map[string]any) ([]byte, error) {
	if d == nil {
		return []byte("{}"), nil
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.Marshal(escapeAll(v))
}

func escapeAll(v any) any {
	switch v := v.(type) {
	case string:
		return escapeText(v)
	case []any:
		for i := range v {
			v[i] = escapeAll(v[i])
		}
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[escapeText(k)] = escapeAll(e)
		}
		return out
	}
	return v
}

// heldResponse keeps an audited answer until its record is written; audited
// answers are small JSON documents.
type heldResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(code int) {
	if h.code == 0 {
		h.code = code
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	if h.code == 0 {
		h.code = http.StatusOK
	}
	return h.body.Write(b)
}

func (h *heldResponse) status() int {
	if h.code == 0 {
		return http.StatusOK
	}
	return h.code
}

func (h *heldResponse) send(w http.ResponseWriter) {
	for k, v := range h.header {
		w.Header()[k] = v
	}
	w.WriteHeader(h.status())
	_, _ = w.Write(h.body.Bytes())
}
