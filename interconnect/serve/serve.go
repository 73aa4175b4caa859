// Package serve answers the regulator's calls to us (DB4403/T 77-2020 §9,
// "市级监控平台查询"): POST /shevcs/v1/<interface> (also v1.0) with the §10
// envelope. Every answer is a signed envelope; Data is encrypted.
//
// The order of checks fixes which Ret a bad request gets: envelope shape
// (4003) → signature under the caller's credentials (4001) → Bearer token
// (4002, all interfaces but query_token) → replay (4003) → business payload
// (4004).
package serve

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store"
)

// MaxTokenTTL is the longest token lifetime the standard allows (§10.2.3).
const MaxTokenTTL = 7 * 24 * time.Hour

// maxBody bounds a request body; the largest query is a few KB.
const maxBody = 1 << 20

// Config of the handler.
type Config struct {
	DB   *store.DB
	Keys *keys.Store
	Log  *slog.Logger
	// Clock is the time source; the zero Clock is the real clock.
	Clock clock.Clock
	// TokenTTL is the lifetime of issued tokens (default 24 h, at most 7 days).
	TokenTTL time.Duration
	// ReplayWindow is the accepted TimeStamp skew (envelope default when 0).
	ReplayWindow time.Duration
	// OnFrequency, if set, is told about a cadence the regulator set through
	// query_frequency (it is stored either way), e.g. to signal push workflows.
	OnFrequency func(ctx context.Context, operatorID string, seconds int)
}

// Handler serves /shevcs/v1/<name> and /shevcs/v1.0/<name>.
type Handler struct {
	cfg    Config
	log    *slog.Logger
	guard  *envelope.ReplayGuard
	mux    *http.ServeMux
	routes map[string]route
}

// route is one interface: payload is a pointer to a fresh request struct,
// handle answers it.
type route struct {
	noToken bool
	payload func() any
	handle  func(ctx context.Context, c *call, payload any) (any, error)
}

// call is what a handler knows about the caller.
type call struct {
	operatorID string
	secrets    envelope.Secrets
}

// New builds the handler.
func New(cfg Config) *Handler {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	cfg.TokenTTL = min(cfg.TokenTTL, MaxTokenTTL)
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	h := &Handler{cfg: cfg, log: cfg.Log.With("component", "regulator-serve"),
		guard: envelope.NewReplayGuard(cfg.ReplayWindow, 0, cfg.Clock)}
	h.routes = h.table()
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("POST /shevcs/v1/{name}", h.serve)
	h.mux.HandleFunc("POST /shevcs/v1.0/{name}", h.serve)
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	rt, ok := h.routes[name]
	if !ok {
		http.Error(w, "unknown interface "+name, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeEnvelope(w, envelope.Response{Ret: envelope.RetEnvelope, Msg: "request body unreadable or too large"})
		return
	}
	ctx := r.Context()
	req, err := envelope.DecodeRequest(body)
	if err != nil {
		writeEnvelope(w, envelope.Response{Ret: envelope.RetOf(err), Msg: envelope.MsgOf(err)})
		return
	}
	codec, sec, plain, err := h.open(ctx, req)
	if err != nil {
		h.log.Info("regulator request refused", "interface", name, "operator", req.OperatorID, "error", err)
		if codec == nil {
			// Without credentials there is nothing to sign with.
			writeEnvelope(w, envelope.Response{Ret: envelope.RetOf(err), Msg: envelope.MsgOf(err)})
			return
		}
		writeEnvelope(w, codec.SealError(err))
		return
	}
	answer := func(v any, err error) {
		if err != nil {
			if envelope.RetOf(err) == envelope.RetSystem {
				h.log.Error("regulator request failed", "interface", name, "operator", req.OperatorID, "error", err)
			} else {
				h.log.Info("regulator request refused", "interface", name, "operator", req.OperatorID, "error", err)
			}
			writeEnvelope(w, codec.SealError(err))
			return
		}
		resp, err := codec.SealResponse(envelope.RetOK, envelope.DefaultMsg(envelope.RetOK), v)
		if err != nil {
			writeEnvelope(w, codec.SealError(err))
			return
		}
		writeEnvelope(w, resp)
	}
	if !rt.noToken {
		if err := h.checkToken(ctx, r, req.OperatorID); err != nil {
			answer(nil, err)
			return
		}
	}
	window, err := Freshness(ctx, h.cfg.DB, req.OperatorID)
	if err != nil {
		answer(nil, err)
		return
	}
	if err := h.guard.CheckWithin(req, window); err != nil {
		answer(nil, err)
		return
	}
	payload := rt.payload()
	if err := json.Unmarshal(plain, payload); err != nil {
		answer(nil, &envelope.Error{Ret: envelope.RetBusinessInvalid, Msg: "Data is not the expected JSON object",
			Err: fmt.Errorf("%s payload: %w", name, err)})
		return
	}
	answer(rt.handle(ctx, &call{operatorID: req.OperatorID, secrets: sec}, payload))
}

// open finds the caller's credentials and verifies the envelope with each
// valid set (rotation overlap), returning the codec that verified it. On a
// signature failure the newest codec is returned so the answer is signed.
func (h *Handler) open(ctx context.Context, req envelope.Request) (*envelope.Codec, envelope.Secrets, []byte, error) {
	all, err := h.cfg.Keys.Valid(ctx, req.OperatorID)
	if errors.Is(err, keys.ErrNotFound) {
		return nil, envelope.Secrets{}, nil, &envelope.Error{Ret: envelope.RetSignature, Msg: "unknown OperatorID", Err: err}
	}
	if err != nil {
		return nil, envelope.Secrets{}, nil, err
	}
	var first *envelope.Codec
	var lastErr error
	for _, sec := range all {
		c, err := envelope.NewCodec(sec)
		if err != nil {
			return nil, envelope.Secrets{}, nil, err
		}
		if first == nil {
			first = c
		}
		plain, err := c.VerifyRequest(req)
		if err == nil {
			return c, sec, plain, nil
		}
		lastErr = err
		if envelope.RetOf(err) != envelope.RetSignature {
			// The signature matched but Data did not decrypt: no other key set will do better.
			return c, sec, nil, err
		}
	}
	return first, envelope.Secrets{}, nil, lastErr
}

var errToken = &envelope.Error{Ret: envelope.RetToken, Msg: "token missing, unknown or expired"}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// checkToken accepts only an unexpired token issued to operatorID.
func (h *Handler) checkToken(ctx context.Context, r *http.Request, operatorID string) error {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return errToken
	}
	var owner string
	err := h.cfg.DB.QueryRow(ctx, `select operator_id from regulator_tokens where token_hash=$1 and expires_at > $2`,
		tokenHash(strings.TrimSpace(token)), h.cfg.Clock.Now()).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && owner != operatorID) {
		return errToken
	}
	if err != nil {
		return fmt.Errorf("check token: %w", err)
	}
	return nil
}

func writeEnvelope(w http.ResponseWriter, resp envelope.Response) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	// The envelope carries the outcome; HTTP stays 200 as peers expect.
	_ = json.NewEncoder(w).Encode(resp)
}

// business builds a 4004 error whose message is safe to send.
func business(msg string) error {
	return &envelope.Error{Ret: envelope.RetBusinessInvalid, Msg: msg}
}

// TokenQuery is table C.1.
type TokenQuery struct {
	OperatorID     string `json:"OperatorID"`
	OperatorSecret string `json:"OperatorSecret"`
}

// TokenAnswer is table C.2.
type TokenAnswer struct {
	OperatorID         string `json:"OperatorID"`
	SuccStat           int    `json:"SuccStat"`
	AccessToken        string `json:"AccessToken"`
	TokenAvailableTime int    `json:"TokenAvailableTime"`
	FailReason         int    `json:"FailReason"`
}

// FailReason values (table C.2).
const (
	FailNone            = 0
	FailUnknownOperator = 1
	FailWrongSecret     = 2
)

func (h *Handler) queryToken(ctx context.Context, c *call, p any) (any, error) {
	q := p.(*TokenQuery)
	if q.OperatorID == "" || q.OperatorSecret == "" {
		return nil, business("OperatorID and OperatorSecret are required")
	}
	fail := func(reason int) (any, error) {
		return TokenAnswer{OperatorID: q.OperatorID, SuccStat: 1, FailReason: reason}, nil
	}
	if q.OperatorID != c.operatorID {
		return fail(FailUnknownOperator)
	}
	if subtle.ConstantTimeCompare([]byte(q.OperatorSecret), []byte(c.secrets.OperatorSecret)) != 1 {
		return fail(FailWrongSecret)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	token := strings.ToUpper(hex.EncodeToString(raw))
	now := h.cfg.Clock.Now()
	if _, err := h.cfg.DB.Exec(ctx, `insert into regulator_tokens (token_hash, operator_id, created_at, expires_at)
		values ($1,$2,$3,$4)`, tokenHash(token), c.operatorID, now, now.Add(h.cfg.TokenTTL)); err != nil {
		return nil, fmt.Errorf("store token: %w", err)
	}
	// Expired tokens are useless; clearing them here keeps the table small.
	if _, err := h.cfg.DB.Exec(ctx, `delete from regulator_tokens where expires_at < $1`, now.Add(-time.Hour)); err != nil {
		return nil, fmt.Errorf("prune tokens: %w", err)
	}
	return TokenAnswer{OperatorID: c.operatorID, SuccStat: 0, AccessToken: token,
		TokenAvailableTime: int(h.cfg.TokenTTL / time.Second), FailReason: FailNone}, nil
}
