package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	appcontentdom "github.com/voltflow/voltflow/domain/appcontent"
	appcontentstore "github.com/voltflow/voltflow/store/appcontent"
)

// driverRoutes are what a driver app calls (issue 23 section 3, C12), with
// a driver token (POST /projects/{project}/customers/{id}/driver-tokens) as
// Authorization: Bearer vfd_…; a driver sees its own project's content and
// its own messages, feedback and comments only. Operator tokens and API
// keys are not accepted here, nor driver tokens anywhere else.
func (s *Server) driverRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.authenticateDriver)
		r.Get("/driver/me", s.driverMe)
		r.Get("/driver/posts", s.driverPosts)
		r.Get("/driver/messages", s.driverMessages)
		r.With(s.audit("driver.message.read")).Post("/driver/messages/{id}/read", s.driverMarkRead)
		r.Get("/driver/feedback", s.driverFeedbackList)
		r.With(s.audit("driver.feedback.create")).Post("/driver/feedback", s.driverCreateFeedback)
		r.Get("/driver/feedback/{id}", s.driverGetFeedback)
		r.With(s.audit("driver.feedback.post")).Post("/driver/feedback/{id}/posts", s.driverPostFeedback)
		r.Get("/driver/stations/{stationId}/comments", s.driverComments)
		r.With(s.audit("driver.comment.create")).Post("/driver/stations/{stationId}/comments", s.driverAddComment)
	})
}

type driverKey struct{}

func driverFrom(ctx context.Context) appcontentstore.Driver {
	d, _ := ctx.Value(driverKey{}).(appcontentstore.Driver)
	return d
}

// authenticateDriver resolves a driver token to its customer.
func (s *Server) authenticateDriver(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !strings.HasPrefix(token, driverTokenPrefix) {
			writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "send Authorization: Bearer <driver token>")
			return
		}
		sum := sha256.Sum256([]byte(token))
		d, err := appcontentstore.DriverByToken(r.Context(), s.cfg.DB, sum[:])
		if errors.Is(err, appcontentstore.ErrNotFound) {
			writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "driver token unknown or revoked")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), driverKey{}, d)))
	})
}

// auditDriver names the driver in the audit record of its write (it has
// no operator id).
func auditDriver(r *http.Request, d appcontentstore.Driver, subject string, detail map[string]any) {
	setAuditOperator(r, "", "driver:"+d.CustomerID)
	setAudit(r, d.ProjectID, subject, detail)
}

func (s *Server) driverMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, driverFrom(r.Context()))
}

// driverPosts is the news and banners inside their publish window now, in
// the operator's order; ?kind=news|banner, ?limit= (one bounded page).
func (s *Server) driverPosts(w http.ResponseWriter, r *http.Request) {
	p, ok := pageParams(w, r)
	if !ok {
		return
	}
	d := driverFrom(r.Context())
	posts, err := appcontentstore.ServedPosts(r.Context(), s.cfg.DB, d.ProjectID, r.URL.Query().Get("kind"), time.Now(), p.limit)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(posts)})
}

func (s *Server) driverMessages(w http.ResponseWriter, r *http.Request) {
	d := driverFrom(r.Context())
	unread := r.URL.Query().Get("unread") == "true"
	servePage(s, w, r, func(p page) ([]appcontentdom.Message, error) {
		return appcontentstore.DriverMessages(r.Context(), s.cfg.DB, d, unread, storePage(p))
	}, func(m appcontentdom.Message) (time.Time, string) { return m.CreatedAt, m.ID })
}

func (s *Server) driverMarkRead(w http.ResponseWriter, r *http.Request) {
	d := driverFrom(r.Context())
	id := chi.URLParam(r, "id")
	auditDriver(r, d, "app-message/"+id, nil)
	m, err := appcontentstore.MarkRead(r.Context(), s.cfg.DB, d, id)
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) driverFeedbackList(w http.ResponseWriter, r *http.Request) {
	d := driverFrom(r.Context())
	servePage(s, w, r, func(p page) ([]appcontentstore.Feedback, error) {
		return appcontentstore.ListFeedback(r.Context(), s.cfg.DB, d.ProjectID, d.CustomerID, r.URL.Query().Get("status"), storePage(p))
	}, func(f appcontentstore.Feedback) (time.Time, string) { return f.CreatedAt, f.ID })
}

// DriverFeedbackRequest opens a feedback thread.
type DriverFeedbackRequest struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

func (s *Server) driverCreateFeedback(w http.ResponseWriter, r *http.Request) {
	d := driverFrom(r.Context())
	auditDriver(r, d, "app-feedback/", nil)
	var req DriverFeedbackRequest
	if !decode(w, r, &req) {
		return
	}
	f, err := appcontentstore.CreateFeedback(r.Context(), s.cfg.DB, d, req.Subject, req.Body)
	auditDriver(r, d, "app-feedback/"+f.ID, map[string]any{"subject": req.Subject})
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (s *Server) driverGetFeedback(w http.ResponseWriter, r *http.Request) {
	d := driverFrom(r.Context())
	f, err := appcontentstore.GetFeedback(r.Context(), s.cfg.DB, d.ProjectID, d.CustomerID, chi.URLParam(r, "id"))
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) driverPostFeedback(w http.ResponseWriter, r *http.Request) {
	d := driverFrom(r.Context())
	id := chi.URLParam(r, "id")
	auditDriver(r, d, "app-feedback/"+id, nil)
	var req AppReplyRequest
	if !decode(w, r, &req) {
		return
	}
	f, err := appcontentstore.PostFeedback(r.Context(), s.cfg.DB, d.ProjectID, d.CustomerID, id, appcontentdom.ByDriver, "", req.Body)
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// driverComments is a station's comments that are not hidden, newest first.
func (s *Server) driverComments(w http.ResponseWriter, r *http.Request) {
	d := driverFrom(r.Context())
	f := appcontentstore.CommentFilter{StationID: chi.URLParam(r, "stationId"), Visible: true}
	servePage(s, w, r, func(p page) ([]appcontentstore.Comment, error) {
		ks, err := appcontentstore.ListComments(r.Context(), s.cfg.DB, d.ProjectID, f, storePage(p))
		for i := range ks { // drivers see each other's names, not their ids
			ks[i].CustomerID, ks[i].ModeratedBy, ks[i].ModeratedAt = "", "", nil
		}
		return ks, err
	}, func(k appcontentstore.Comment) (time.Time, string) { return k.CreatedAt, k.ID })
}

// DriverCommentRequest is a rating (1–5) and a text on a station.
type DriverCommentRequest struct {
	Rating int    `json:"rating"`
	Body   string `json:"body"`
}

func (s *Server) driverAddComment(w http.ResponseWriter, r *http.Request) {
	d := driverFrom(r.Context())
	station := chi.URLParam(r, "stationId")
	auditDriver(r, d, "charging-station/"+station, nil)
	var req DriverCommentRequest
	if !decode(w, r, &req) {
		return
	}
	k, err := appcontentstore.AddComment(r.Context(), s.cfg.DB, d, station, req.Rating, req.Body)
	auditDriver(r, d, "charging-station/"+station, map[string]any{"commentId": k.ID, "rating": req.Rating})
	if err != nil {
		s.appContentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, k)
}
