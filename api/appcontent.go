package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	appcontentdom "github.com/voltflow/voltflow/domain/appcontent"
	appcontentstore "github.com/voltflow/voltflow/store/appcontent"
)

// Problem codes of the driver app's content.
const (
	CodeInvalidAppContent = "invalid_app_content"
	CodeFeedbackClosed    = "feedback_closed"
)

// appContentRoutes are the operator side of the driver app's content
// (issue 23 section 3, C12; seed 000 "App管理"): reads for every role of the
// project, writes for its admin. Private-message groups (私信组) are the
// customer groups (POST /customer-groups): a message to a group names one.
func (s *Server) appContentRoutes(r chi.Router) {
	const p = "/projects/{project}/app"
	r.Get(p+"/posts", s.listAppPosts)
	r.With(s.audit("app.post.create")).Post(p+"/posts", s.saveAppPost)
	r.With(s.audit("app.post.update")).Put(p+"/posts/{id}", s.saveAppPost)
	r.With(s.audit("app.post.delete")).Delete(p+"/posts/{id}", s.deleteAppPost)
	r.Get(p+"/messages", s.listAppMessages)
	r.With(s.audit("app.message.send")).Post(p+"/messages", s.sendAppMessage)
	r.Get(p+"/feedback", s.listAppFeedback)
	r.Get(p+"/feedback/{id}", s.getAppFeedback)
	r.With(s.audit("app.feedback.reply")).Post(p+"/feedback/{id}/replies", s.replyAppFeedback)
	r.With(s.audit("app.feedback.close")).Post(p+"/feedback/{id}/close", s.closeAppFeedback)
	r.Get(p+"/comments", s.listAppComments)
	r.With(s.audit("app.comment.hide")).Post(p+"/comments/{id}/hide", s.moderateAppComment(true))
	r.With(s.audit("app.comment.show")).Post(p+"/comments/{id}/show", s.moderateAppComment(false))
	r.With(s.audit("driver.token.issue")).Post("/projects/{project}/customers/{id}/driver-tokens", s.issueDriverToken)
	r.With(s.audit("driver.token.revoke")).Delete("/projects/{project}/driver-tokens/{id}", s.revokeDriverToken)
}

// appContentError answers a store error of the app content: 422 for invalid
// content, 409 for a closed thread, 404 for an unknown row, else 500.
func (s *Server) appContentError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, appcontentdom.ErrInvalid):
		writeProblem(w, http.StatusUnprocessableEntity, CodeInvalidAppContent, err.Error())
	case errors.Is(err, appcontentdom.ErrClosed):
		writeProblem(w, http.StatusConflict, CodeFeedbackClosed, "the feedback is closed")
	case errors.Is(err, appcontentstore.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, err.Error())
	default:
		s.internal(w, r, err)
	}
}

func (s *Server) adminAppProject(w http.ResponseWriter, r *http.Request) (string, bool) {
	return s.administeredProject(w, r, chi.URLParam(r, "project"))
}

func storePage(p page) appcontentstore.Page {
	return appcontentstore.Page{Limit: p.limit, Before: p.before, BeforeID: p.beforeID}
}

// AppPostRequest is a news item or banner as an operator writes it.
type AppPostRequest struct {
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	ImageURL    string     `json:"imageUrl"`
	LinkURL     string     `json:"linkUrl"`
	Position    int        `json:"position"`
	PublishFrom time.Time  `json:"publishFrom"`
	PublishTo   *time.Time `json:"publishTo"`
}

func (s *Server) listAppPosts(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	servePage(s, w, r, func(p page) ([]appcontentdom.Post, error) {
		return appcontentstore.ListPosts(r.Context(), s.cfg.DB, pid, r.URL.Query().Get("kind"), storePage(p))
	}, func(p appcontentdom.Post) (time.Time, string) { return p.CreatedAt, p.ID })
}

// saveAppPost is POST (create) and PUT {id} (replace) of a post.
func (s *Server) saveAppPost(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.adminAppProject(w, r)
	if !ok {
		return
	}
	var req AppPostRequest
	if !decode(w, r, &req) {
		return
	}
	p := appcontentdom.Post{ID: chi.URLParam(r, "id"), Kind: req.Kind, Title: req.Title, Body: req.Body,
		ImageURL: req.ImageURL, LinkURL: req.LinkURL, Position: req.Position, PublishFrom: req.PublishFrom, PublishTo: req.PublishTo}
	out, err := appcontentstore.SavePost(r.Context(), s.cfg.DB, pid, p)
	setAudit(r, pid, "app-post/"+out.ID, map[string]any{"kind": req.Kind, "title": req.Title})
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	status := http.StatusCreated
	if p.ID != "" {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
}

func (s *Server) deleteAppPost(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.adminAppProject(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, pid, "app-post/"+id, nil)
	if err := appcontentstore.DeletePost(r.Context(), s.cfg.DB, pid, id); err != nil {
		s.appContentError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// AppMessageRequest is a system message to drivers.
type AppMessageRequest struct {
	Audience   string `json:"audience"`
	GroupID    string `json:"groupId"`
	CustomerID string `json:"customerId"`
	Title      string `json:"title"`
	Body       string `json:"body"`
}

func (s *Server) listAppMessages(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	servePage(s, w, r, func(p page) ([]appcontentdom.Message, error) {
		return appcontentstore.ListMessages(r.Context(), s.cfg.DB, pid, storePage(p))
	}, func(m appcontentdom.Message) (time.Time, string) { return m.CreatedAt, m.ID })
}

func (s *Server) sendAppMessage(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.adminAppProject(w, r)
	if !ok {
		return
	}
	var req AppMessageRequest
	if !decode(w, r, &req) {
		return
	}
	m, err := appcontentstore.SendMessage(r.Context(), s.cfg.DB, pid, appcontentdom.Message{Audience: req.Audience,
		GroupID: req.GroupID, CustomerID: req.CustomerID, Title: req.Title, Body: req.Body})
	setAudit(r, pid, "app-message/"+m.ID, map[string]any{"audience": req.Audience, "groupId": req.GroupID,
		"customerId": req.CustomerID, "recipients": m.Recipients})
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) listAppFeedback(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	servePage(s, w, r, func(p page) ([]appcontentstore.Feedback, error) {
		return appcontentstore.ListFeedback(r.Context(), s.cfg.DB, pid, "", r.URL.Query().Get("status"), storePage(p))
	}, func(f appcontentstore.Feedback) (time.Time, string) { return f.CreatedAt, f.ID })
}

func (s *Server) getAppFeedback(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	f, err := appcontentstore.GetFeedback(r.Context(), s.cfg.DB, pid, "", chi.URLParam(r, "id"))
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// AppReplyRequest is one post to a feedback thread.
type AppReplyRequest struct {
	Body string `json:"body"`
}

func (s *Server) replyAppFeedback(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.adminAppProject(w, r)
	if !ok {
		return
	}
	var req AppReplyRequest
	if !decode(w, r, &req) {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, pid, "app-feedback/"+id, nil)
	f, err := appcontentstore.PostFeedback(r.Context(), s.cfg.DB, pid, "", id, appcontentdom.ByOperator,
		operatorFrom(r.Context()).ID, req.Body)
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) closeAppFeedback(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.adminAppProject(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, pid, "app-feedback/"+id, nil)
	f, err := appcontentstore.CloseFeedback(r.Context(), s.cfg.DB, pid, id)
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) listAppComments(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := appcontentstore.CommentFilter{StationID: q.Get("stationId")}
	switch q.Get("hidden") {
	case "true":
		f.Hidden = new(bool)
		*f.Hidden = true
	case "false":
		f.Hidden = new(bool)
	}
	servePage(s, w, r, func(p page) ([]appcontentstore.Comment, error) {
		return appcontentstore.ListComments(r.Context(), s.cfg.DB, pid, f, storePage(p))
	}, func(k appcontentstore.Comment) (time.Time, string) { return k.CreatedAt, k.ID })
}

// moderateAppComment hides (true) or shows a comment.
func (s *Server) moderateAppComment(hidden bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pid, ok := s.adminAppProject(w, r)
		if !ok {
			return
		}
		id := chi.URLParam(r, "id")
		setAudit(r, pid, "station-comment/"+id, map[string]any{"hidden": hidden})
		k, err := appcontentstore.Moderate(r.Context(), s.cfg.DB, pid, id, operatorFrom(r.Context()).ID, hidden)
		if err != nil {
			s.appContentError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, k)
	}
}

// driverTokenPrefix marks a driver token; only its SHA-256 is stored.
const driverTokenPrefix = "vfd_"

// issueDriverToken is POST /projects/{project}/customers/{id}/driver-tokens:
// a token for the driver app bound to one charging customer, shown only
// here (the driver app's login through SMS or WeChat is not Voltflow's;
// whatever logs the driver in asks for a token here).
func (s *Server) issueDriverToken(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.adminAppProject(w, r)
	if !ok {
		return
	}
	customerID := chi.URLParam(r, "id")
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	token := driverTokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	id, err := appcontentstore.IssueToken(r.Context(), s.cfg.DB, pid, customerID, sum[:])
	setAudit(r, pid, "customer/"+customerID, map[string]any{"tokenId": id})
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id, "customerId": customerID, "token": token})
}

func (s *Server) revokeDriverToken(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.adminAppProject(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, pid, "driver-token/"+id, nil)
	if err := appcontentstore.RevokeToken(r.Context(), s.cfg.DB, pid, id); err != nil {
		s.appContentError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
