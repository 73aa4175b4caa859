package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/identifier"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store/apikey"
	"github.com/voltflow/voltflow/store/openapi"
	"github.com/voltflow/voltflow/store/report"
)

// Problem codes of the open API's gate (contracts.md "Open API").
const (
	CodeSignatureRequired = "signature_required"
	CodeSignatureInvalid  = "signature_invalid"
	CodeTimestampSkew     = "timestamp_skew"
	CodeNonceReused       = "nonce_reused"
	CodeRateLimited       = "rate_limited"
)

// Signature headers (contracts.md).
const (
	headerTimestamp = "X-Voltflow-Timestamp"
	headerNonce     = "X-Voltflow-Nonce"
	headerSignature = "X-Voltflow-Signature"
)

// maxSkew is how far a signed request's timestamp may be from our clock;
// a nonce is kept twice that long, past any timestamp still accepted.
const maxSkew = 5 * time.Minute

// maxOpenMeters bounds the meters of one usage or recharge query.
const maxOpenMeters = 100

type openKeyCtx struct{}

// openRoutes are the 11 calls of the open API (seed 002) and the per-key
// settings an administrator gives them.
func (s *Server) openRoutes(r chi.Router) {
	r.Get("/projects/{project}/api-keys/{id}/settings", s.getAPIKeySettings)
	r.With(s.audit("api-key.settings")).Put("/projects/{project}/api-keys/{id}/settings", s.setAPIKeySettings)
	// The gate runs inside the audit of a write, so a refused signature or
	// a rate-limited sale is on record too.
	gate := r.With(s.openGate)
	gate.Get("/open/meters", s.openMeters)
	gate.Get("/open/meters/{meterNo}", s.openMeter)
	gate.Get("/open/meters/{meterNo}/customer", s.openCustomer)
	r.With(s.audit("open.mode"), s.openGate).Post("/open/meters/{meterNo}/mode", s.openMode)
	r.With(s.audit("open.recharge"), s.openGate).Post("/open/recharges", s.openRecharge)
	gate.Get("/open/recharges", s.openRecharges)
	gate.Get("/open/recharges/{transactionNo}", s.openGetRecharge)
	gate.Get("/open/usage/monthly", s.openUsageMonthly)
	gate.Get("/open/usage/daily", s.openUsageDaily)
	gate.Get("/open/devices/abnormal", s.openAbnormal)
}

// openGate admits a call of the open API: a project API key (not a login
// token), within the key's rate window, and — when the signature headers
// are sent or the key requires them — a valid signature with a fresh
// timestamp and a nonce the key never used.
func (s *Server) openGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !strings.HasPrefix(token, apikey.Prefix) {
			writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "the open API takes a project API key: Authorization: Bearer <key>")
			return
		}
		ctx := r.Context()
		k, err := openapi.Gate(ctx, s.cfg.DB, token)
		if errors.Is(err, openapi.ErrNotFound) {
			writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "API key unknown or revoked")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		setAudit(r, k.ProjectID, r.URL.Path, nil) // the handler says more, if the gate lets it run
		if k.Count > k.RateLimit {
			wait := int(time.Until(k.WindowEnd).Seconds() + 0.999)
			wait = max(wait, 1)
			w.Header().Set("Retry-After", strconv.Itoa(wait))
			writeProblem(w, http.StatusTooManyRequests, CodeRateLimited,
				"this key's limit is "+strconv.Itoa(k.RateLimit)+" requests per "+k.RateWindow.String()+"; try again in "+strconv.Itoa(wait)+" s")
			return
		}
		if r.Header.Get(headerSignature) != "" || k.RequireSignature {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				writeProblem(w, http.StatusRequestEntityTooLarge, CodeMalformed, "request body is over 1 MiB or unreadable")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if !s.checkSignature(w, r, k, token, body) {
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, openKeyCtx{}, k)))
	})
}

// Sign is the open API's signature (contracts.md): lower-case hex
// HMAC-SHA256 with the key over method, path with query, timestamp, nonce
// and body, joined by newlines.
func Sign(key, method, pathQuery, timestamp, nonce string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(method + "\n" + pathQuery + "\n" + timestamp + "\n" + nonce + "\n"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// checkSignature verifies a signed request; it writes the problem and
// returns false on failure. The nonce is recorded only after the signature
// holds, so a forged request cannot burn a caller's nonce.
func (s *Server) checkSignature(w http.ResponseWriter, r *http.Request, k openapi.Key, key string, body []byte) bool {
	ts, nonce, sig := r.Header.Get(headerTimestamp), r.Header.Get(headerNonce), r.Header.Get(headerSignature)
	if sig == "" || ts == "" || nonce == "" {
		writeProblem(w, http.StatusUnauthorized, CodeSignatureRequired,
			"send "+headerTimestamp+", "+headerNonce+" and "+headerSignature+" (this key requires signed requests, or one of them is missing)")
		return false
	}
	if len(nonce) > 64 || strings.ContainsFunc(nonce, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		writeProblem(w, http.StatusUnauthorized, CodeSignatureInvalid, headerNonce+" must be 1-64 printable ASCII characters")
		return false
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		writeProblem(w, http.StatusUnauthorized, CodeSignatureInvalid, headerTimestamp+" must be Unix seconds")
		return false
	}
	if skew := time.Since(time.Unix(secs, 0)); skew > maxSkew || skew < -maxSkew {
		writeProblem(w, http.StatusUnauthorized, CodeTimestampSkew,
			headerTimestamp+" is "+skew.Round(time.Second).String()+" from the server's clock; at most "+maxSkew.String()+" is accepted")
		return false
	}
	pathQuery := r.RequestURI
	if pathQuery == "" {
		pathQuery = r.URL.RequestURI()
	}
	want, _ := hex.DecodeString(Sign(key, r.Method, pathQuery, ts, nonce, body))
	got, err := hex.DecodeString(sig)
	if err != nil || sig != strings.ToLower(sig) || !hmac.Equal(got, want) {
		writeProblem(w, http.StatusUnauthorized, CodeSignatureInvalid,
			"the signature does not match HMAC-SHA256(key, method\\npath?query\\ntimestamp\\nnonce\\nbody)")
		return false
	}
	fresh, err := openapi.UseNonce(r.Context(), s.cfg.DB, k.ID, nonce, time.Now().Add(2*maxSkew))
	if err != nil {
		s.internal(w, r, err)
		return false
	}
	if !fresh {
		writeProblem(w, http.StatusUnauthorized, CodeNonceReused, "this nonce was used before with this key: a replay is refused")
		return false
	}
	return true
}

// openKey is the calling key; with a role short of the action it writes
// 403 and returns false.
func openKey(w http.ResponseWriter, r *http.Request, a access.Action) (openapi.Key, bool) {
	k, _ := r.Context().Value(openKeyCtx{}).(openapi.Key)
	if op := operatorFrom(r.Context()); op == nil || !op.Grants.Can(k.ProjectID, a) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "this API key's roles do not allow "+string(a))
		return k, false
	}
	return k, true
}

// openMeterList answers calls 2 and 6.
func (s *Server) openMeters(w http.ResponseWriter, r *http.Request) {
	k, ok := openKey(w, r, access.ViewData)
	if !ok {
		return
	}
	p, ok := pageParams(w, r)
	if !ok {
		return
	}
	f := openapi.MeterFilter{After: decodeMeterCursor(r.URL.Query().Get("cursor")), Limit: p.limit}
	if v := r.URL.Query().Get("remainingBelow"); v != "" {
		below, err := money.Parse(v)
		if err != nil {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, "remainingBelow must be money, e.g. 20.00", "remainingBelow")
			return
		}
		f.RemainingBelow = &below
	}
	ms, err := openapi.Meters(r.Context(), s.cfg.DB, k.ProjectID, f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := map[string]any{"items": ms}
	if len(ms) == p.limit {
		out["nextCursor"] = cursor(time.Unix(0, 0), ms[len(ms)-1].MeterNo)
	}
	writeJSON(w, http.StatusOK, out)
}

// openMeter is call 1.
func (s *Server) openMeter(w http.ResponseWriter, r *http.Request) {
	k, ok := openKey(w, r, access.ViewData)
	if !ok {
		return
	}
	no := chi.URLParam(r, "meterNo")
	ms, err := openapi.Meters(r.Context(), s.cfg.DB, k.ProjectID, openapi.MeterFilter{MeterNos: []string{no}, Limit: 1})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(ms) == 0 {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "meter "+no+" not found", "meterNo")
		return
	}
	writeJSON(w, http.StatusOK, ms[0])
}

// openCustomer is call 5.
func (s *Server) openCustomer(w http.ResponseWriter, r *http.Request) {
	k, ok := openKey(w, r, access.ViewData)
	if !ok {
		return
	}
	no := chi.URLParam(r, "meterNo")
	c, err := openapi.CustomerOf(r.Context(), s.cfg.DB, k.ProjectID, no)
	s.writeFound(w, r, c, err, openapi.ErrNotFound, "meter "+no+" not found")
}

type openRechargeRequest struct {
	MeterNo       string        `json:"meterNo"`
	Amount        jsonRawAmount `json:"amount"`
	TransactionNo string        `json:"transactionNo"`
}

type openRechargeAccepted struct {
	TransactionNo string `json:"transactionNo"`
	Status        string `json:"status"`
}

// openRecharge is call 3: the operator API's sale (the same recharge/<id>
// workflow), idempotent by the caller's transactionNo.
func (s *Server) openRecharge(w http.ResponseWriter, r *http.Request) {
	if _, ok := openKey(w, r, access.SellEnergy); !ok {
		return
	}
	var req openRechargeRequest
	if !decode(w, r, &req) {
		return
	}
	if req.TransactionNo == "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "transactionNo is required", "transactionNo")
		return
	}
	got, ok := s.sell(w, r, rechargeRequest{MeterNo: req.MeterNo, Amount: req.Amount, TransactionNo: req.TransactionNo})
	if !ok {
		return
	}
	writeJSON(w, http.StatusAccepted, openRechargeAccepted{TransactionNo: got.TransactionNo, Status: string(got.Status)})
}

// openGetRecharge is call 4, by the caller's transaction number.
func (s *Server) openGetRecharge(w http.ResponseWriter, r *http.Request) {
	k, ok := openKey(w, r, access.ViewData)
	if !ok {
		return
	}
	no := chi.URLParam(r, "transactionNo")
	rec, err := openapi.RechargeByTransactionNo(r.Context(), s.cfg.DB, k.ProjectID, no)
	s.writeFound(w, r, rec, err, openapi.ErrNotFound, "no recharge with transactionNo "+no)
}

// openMeterNos reads the meterNo=a,b,... parameter and checks that every
// meter is the key's project's: 404 naming the first that is not. It
// returns the meters (with their prices), in the order asked.
func (s *Server) openMeterNos(w http.ResponseWriter, r *http.Request, k openapi.Key) ([]openapi.Meter, bool) {
	raw := r.URL.Query().Get("meterNo")
	if raw == "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "meterNo is required: one or more meter numbers, comma separated", "meterNo")
		return nil, false
	}
	nos := strings.Split(raw, ",")
	if len(nos) > maxOpenMeters {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "meterNo lists at most "+strconv.Itoa(maxOpenMeters)+" meters", "meterNo")
		return nil, false
	}
	for _, no := range nos {
		if no == "" || !checkFormat(w, "meterNo", no, identifier.MeterNo) {
			if no == "" {
				writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "meterNo has an empty entry", "meterNo")
			}
			return nil, false
		}
	}
	ms, err := openapi.Meters(r.Context(), s.cfg.DB, k.ProjectID, openapi.MeterFilter{MeterNos: nos, Limit: len(nos)})
	if err != nil {
		s.internal(w, r, err)
		return nil, false
	}
	byNo := make(map[string]openapi.Meter, len(ms))
	for _, m := range ms {
		byNo[m.MeterNo] = m
	}
	out := make([]openapi.Meter, 0, len(nos))
	seen := map[string]bool{}
	for _, no := range nos {
		m, ok := byNo[no]
		if !ok {
			writeProblemField(w, http.StatusNotFound, CodeNotFound, "meter "+no+" not found", "meterNo")
			return nil, false
		}
		if !seen[no] {
			seen[no] = true
			out = append(out, m)
		}
	}
	return out, true
}

// openMonth reads month=YYYY-MM as the China-time month [from, to).
func openMonth(w http.ResponseWriter, r *http.Request) (from, to time.Time, ok bool) {
	from, err := time.ParseInLocation("2006-01", r.URL.Query().Get("month"), chinaTime)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "month must be YYYY-MM", "month")
		return from, to, false
	}
	return from, from.AddDate(0, 1, 0), true
}

// meterUsage sums one meter's use per bucket of the granularity in [from, to).
func (s *Server) meterUsage(ctx context.Context, projectID, meterNo string, from, to time.Time, g report.Granularity) (map[string]string, error) {
	out := map[string]string{}
	err := report.Consumption(ctx, s.cfg.DB, report.ConsumptionFilter{Projects: []string{projectID},
		Period: report.Period{From: from, To: to}, Granularity: g, GroupBy: report.ByMeter, MeterNo: meterNo},
		report.Page{}, func(row report.ConsumptionRow) error {
			out[row.Bucket.In(chinaTime).Format(time.DateOnly)] = row.EnergyKwh
			return nil
		})
	return out, err
}

type openMonthly struct {
	MeterNo string       `json:"meterNo"`
	Kwh     string       `json:"kwh"`
	Amount  money.Amount `json:"amount"`
}

// openUsageMonthly is call 7: each meter's use in the month, in kWh and
// priced at the meter's unit price.
func (s *Server) openUsageMonthly(w http.ResponseWriter, r *http.Request) {
	k, ok := openKey(w, r, access.ViewData)
	if !ok {
		return
	}
	from, to, ok := openMonth(w, r)
	if !ok {
		return
	}
	ms, ok := s.openMeterNos(w, r, k)
	if !ok {
		return
	}
	items := make([]openMonthly, 0, len(ms))
	for _, m := range ms {
		use, err := s.meterUsage(r.Context(), k.ProjectID, m.MeterNo, from, to, report.Month)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		kwh := decimal.Zero
		if v, ok := use[from.Format(time.DateOnly)]; ok {
			kwh, _ = decimal.NewFromString(v)
		}
		price, _ := decimal.NewFromString(m.Price)
		items = append(items, openMonthly{MeterNo: m.MeterNo, Kwh: kwh.StringFixed(2), Amount: money.Round(kwh.Mul(price))})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

type openDay struct {
	Date string `json:"date"`
	Kwh  string `json:"kwh"`
}

type openDaily struct {
	MeterNo string    `json:"meterNo"`
	Days    []openDay `json:"days"`
}

// openUsageDaily is call 8: each meter's use on each day of the month, up
// to today (a day with no reading interval is 0.00).
func (s *Server) openUsageDaily(w http.ResponseWriter, r *http.Request) {
	k, ok := openKey(w, r, access.ViewData)
	if !ok {
		return
	}
	from, to, ok := openMonth(w, r)
	if !ok {
		return
	}
	ms, ok := s.openMeterNos(w, r, k)
	if !ok {
		return
	}
	items := make([]openDaily, 0, len(ms))
	for _, m := range ms {
		use, err := s.meterUsage(r.Context(), k.ProjectID, m.MeterNo, from, to, report.Day)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		days := []openDay{}
		for d := from; d.Before(to) && d.Before(time.Now()); d = d.AddDate(0, 0, 1) {
			date := d.Format(time.DateOnly)
			kwh, ok := use[date]
			if !ok {
				kwh = "0.00"
			}
			days = append(days, openDay{Date: date, Kwh: kwh})
		}
		items = append(items, openDaily{MeterNo: m.MeterNo, Days: days})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// openRecharges is call 9: the sales of the meters between two days
// (inclusive, China time), oldest first.
func (s *Server) openRecharges(w http.ResponseWriter, r *http.Request) {
	k, ok := openKey(w, r, access.ViewData)
	if !ok {
		return
	}
	p, ok := pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	from, err := time.ParseInLocation(time.DateOnly, q.Get("from"), chinaTime)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "from must be YYYY-MM-DD", "from")
		return
	}
	to, err := time.ParseInLocation(time.DateOnly, q.Get("to"), chinaTime)
	if err != nil || to.Before(from) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "to must be YYYY-MM-DD, not before from", "to")
		return
	}
	ms, ok := s.openMeterNos(w, r, k)
	if !ok {
		return
	}
	nos := make([]string, len(ms))
	for i, m := range ms {
		nos[i] = m.MeterNo
	}
	rs, err := openapi.Recharges(r.Context(), s.cfg.DB, k.ProjectID, openapi.RechargeFilter{MeterNos: nos,
		From: from, To: to.AddDate(0, 0, 1), AfterAt: p.before, AfterID: p.beforeID, Limit: p.limit})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := map[string]any{"items": rs}
	if len(rs) == p.limit {
		last := rs[len(rs)-1]
		out["nextCursor"] = cursor(last.CreatedAt, last.ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// maxAbnormal bounds call 10's answer: a project with more devices in
// trouble than that has a bigger problem than this list.
const maxAbnormal = 1000

// openAbnormal is call 10.
func (s *Server) openAbnormal(w http.ResponseWriter, r *http.Request) {
	k, ok := openKey(w, r, access.ViewData)
	if !ok {
		return
	}
	items, err := openapi.AbnormalDevices(r.Context(), s.cfg.DB, k.ProjectID, maxAbnormal)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// openModeCommand maps call 11's modes onto meter commands.
func openModeCommand(mode string) (metercmddom.Command, bool) {
	switch mode {
	case "prepaid":
		return metercmddom.PrepaidMode, true
	case "protect":
		return metercmddom.Protect, true
	case "switch_off":
		return metercmddom.SwitchOff, true
	case "switch_on":
		return metercmddom.SwitchOn, true
	}
	return "", false
}

type openModeRequest struct {
	Mode string `json:"mode"`
}

type openModeAccepted struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// openMode is call 11: the meter-command workflow of the operator API.
func (s *Server) openMode(w http.ResponseWriter, r *http.Request) {
	if _, ok := openKey(w, r, access.ControlMeter); !ok {
		return
	}
	var req openModeRequest
	if !decode(w, r, &req) {
		return
	}
	cmd, ok := openModeCommand(req.Mode)
	if !ok {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeUnknownCommand, "mode must be prepaid, protect, switch_off or switch_on", "mode")
		return
	}
	c, ok := s.commandMeter(w, r, chi.URLParam(r, "meterNo"), cmd)
	if !ok {
		return
	}
	writeJSON(w, http.StatusAccepted, openModeAccepted{ID: c.ID, Status: string(c.Status)})
}

// setAPIKeySettings is PUT /projects/{project}/api-keys/{id}/settings.
func (s *Server) setAPIKeySettings(w http.ResponseWriter, r *http.Request) {
	var req openapi.Settings
	if !decode(w, r, &req) {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, "", "api-key "+id, map[string]any{"requireSignature": req.RequireSignature,
		"rateLimit": req.RateLimit, "rateWindowSeconds": req.RateWindowSeconds})
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	setAudit(r, pid, "api-key "+id, map[string]any{"requireSignature": req.RequireSignature,
		"rateLimit": req.RateLimit, "rateWindowSeconds": req.RateWindowSeconds})
	if req.RateLimit < 1 || req.RateLimit > 1_000_000 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "rateLimit must be 1..1000000", "rateLimit")
		return
	}
	if req.RateWindowSeconds < 1 || req.RateWindowSeconds > 3600 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "rateWindowSeconds must be 1..3600", "rateWindowSeconds")
		return
	}
	out, err := openapi.SetSettings(r.Context(), s.cfg.DB, pid, id, req)
	s.writeFound(w, r, out, err, openapi.ErrNotFound, "api key not found")
}

// getAPIKeySettings is GET /projects/{project}/api-keys/{id}/settings.
func (s *Server) getAPIKeySettings(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	out, err := openapi.SettingsOf(r.Context(), s.cfg.DB, pid, chi.URLParam(r, "id"))
	s.writeFound(w, r, out, err, openapi.ErrNotFound, "api key not found")
}
