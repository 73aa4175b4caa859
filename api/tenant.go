package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	paymentstore "github.com/voltflow/voltflow/store/payment"
	tenantstore "github.com/voltflow/voltflow/store/tenant"
	"github.com/voltflow/voltflow/workflows/names"
	tenantwf "github.com/voltflow/voltflow/workflows/tenant"
)

// Problem codes of tenant self-service.
const (
	CodeLoginCodeRateLimited = "login_code_rate_limited"
	CodeBadLoginCode         = "bad_login_code"
)

// phonePattern is a mainland mobile number.
var phonePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

type tenantKey struct{}

// tenantPhone is the logged-in tenant (tenantAuth).
func tenantPhone(ctx context.Context) string {
	p, _ := ctx.Value(tenantKey{}).(string)
	return p
}

// maskPhone keeps a phone number out of logs and audit subjects whole.
func maskPhone(p string) string {
	if len(p) < 7 {
		return "***"
	}
	return p[:3] + "****" + p[len(p)-4:]
}

// tenantLoginCode sends a one-time code by SMS to a tenant's phone. A
// phone with no meter gets the same answer and no SMS, so the answer does
// not tell whose number is a tenant's.
func (s *Server) tenantLoginCode(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Phone string `json:"phone"`
	}
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", maskPhone(req.Phone), nil)
	if !phonePattern.MatchString(req.Phone) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "phone must be an 11-digit mobile number", "phone")
		return
	}
	answer := map[string]int{"expiresIn": int(tenantstore.CodeTTL.Seconds())}
	projectID, projectCode, err := tenantstore.ProjectOf(r.Context(), s.cfg.DB, req.Phone)
	if errors.Is(err, tenantstore.ErrNotFound) {
		writeJSON(w, http.StatusAccepted, answer)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, projectID, maskPhone(req.Phone), nil)
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	code := fmt.Sprintf("%06d", n.Int64())
	id, err := tenantstore.IssueCode(r.Context(), s.cfg.DB, req.Phone, code, time.Now())
	var limited *tenantstore.RateLimited
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Seconds())+1))
		writeProblemField(w, http.StatusTooManyRequests, CodeLoginCodeRateLimited, limited.Error(), "phone")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, tenantwf.LoginCodeWorkflowID(id), tenantwf.KindLoginCode,
		names.Attributes(projectCode, tenantwf.KindLoginCode, maskPhone(req.Phone), "sending"),
		tenantwf.LoginCodeInput{CodeID: id, ProjectID: projectID, Phone: req.Phone, Code: code}); err != nil {
		s.log.Error("start login code SMS", "phone", maskPhone(req.Phone), "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the code could not be sent; try again")
		return
	}
	writeJSON(w, http.StatusAccepted, answer)
}

// tenantLogin spends a code for a tenant session token.
func (s *Server) tenantLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Phone string `json:"phone"`
		Code  string `json:"code"`
	}
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", maskPhone(req.Phone), nil)
	err := tenantstore.CheckCode(r.Context(), s.cfg.DB, req.Phone, req.Code, time.Now())
	if errors.Is(err, tenantstore.ErrBadCode) {
		writeProblem(w, http.StatusUnauthorized, CodeBadLoginCode, err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		s.internal(w, r, err)
		return
	}
	token := "vt_" + hex.EncodeToString(raw)
	expires := time.Now().Add(s.cfg.SessionTTL)
	if err := tenantstore.CreateSession(r.Context(), s.cfg.DB, req.Phone, token, expires); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": token, "expiresAt": expires.UTC().Format(time.RFC3339)})
}

// tenantAuth admits a tenant session token (Authorization: Bearer vt_...).
func (s *Server) tenantAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !strings.HasPrefix(token, "vt_") {
			writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "log in with your phone number first")
			return
		}
		phone, err := tenantstore.SessionPhone(r.Context(), s.cfg.DB, token, time.Now())
		if errors.Is(err, tenantstore.ErrNoSession) {
			writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "the session has ended; log in again")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tenantKey{}, phone)))
	})
}

func (s *Server) tenantMeters(w http.ResponseWriter, r *http.Request) {
	ms, err := tenantstore.Meters(r.Context(), s.cfg.DB, tenantPhone(r.Context()), time.Now())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ms})
}

// tenantMeter is one meter: balance and use, its last readings, its
// recharges and its online payments.
func (s *Server) tenantMeter(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	phone, meterNo := tenantPhone(ctx), chi.URLParam(r, "meterNo")
	ref, err := tenantstore.FindMeter(ctx, s.cfg.DB, phone, meterNo)
	if errors.Is(err, tenantstore.ErrNotFound) {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "meter "+meterNo+" is not yours", "meterNo")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	ms, err := tenantstore.Meters(ctx, s.cfg.DB, phone, time.Now())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	var out struct {
		tenantstore.Meter
		Readings  []tenantstore.Reading  `json:"readings"`
		Recharges []tenantstore.Recharge `json:"recharges"`
		Payments  []paymentstore.Payment `json:"payments"`
	}
	for _, m := range ms {
		if m.MeterNo == meterNo {
			out.Meter = m
		}
	}
	if out.Readings, err = tenantstore.LastReadings(ctx, s.cfg.DB, ref.ID, time.Now(), 10); err == nil {
		if out.Recharges, err = tenantstore.Recharges(ctx, s.cfg.DB, ref.ID, 20); err == nil {
			out.Payments, err = paymentstore.ForMeter(ctx, s.cfg.DB, ref.ID, 20)
		}
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// tenantPayment places an online payment for one of the tenant's meters.
func (s *Server) tenantPayment(w http.ResponseWriter, r *http.Request) {
	var req paymentRequest
	if !decode(w, r, &req) {
		return
	}
	phone := tenantPhone(r.Context())
	ref, err := tenantstore.FindMeter(r.Context(), s.cfg.DB, phone, req.MeterNo)
	if errors.Is(err, tenantstore.ErrNotFound) {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "meter "+req.MeterNo+" is not yours", "meterNo")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, ref.ProjectID, req.MeterNo, map[string]any{"tenant": maskPhone(phone), "provider": req.Provider})
	s.placePayment(w, r, meterRef{id: ref.ID, projectID: ref.ProjectID, projectCode: ref.ProjectCode, meterNo: ref.MeterNo,
		hoardingCap: ref.HoardingCap}, req, phone)
}

func (s *Server) tenantGetPayment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := paymentstore.ByOrderNo(ctx, s.cfg.DB, chi.URLParam(r, "orderNo"))
	if err == nil {
		if _, ferr := tenantstore.FindMeter(ctx, s.cfg.DB, tenantPhone(ctx), p.MeterNo); ferr != nil {
			err = paymentstore.ErrNotFound
		}
	}
	s.writeFound(w, r, p, err, paymentstore.ErrNotFound, "payment not found")
}
