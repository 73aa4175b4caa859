package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/domain/access"
)

// Operator is the authenticated caller.
type Operator struct {
	ID       string
	Username string
	Grants   access.Grants // project id → roles
}

type operatorKey struct{}

func operatorFrom(ctx context.Context) *Operator {
	op, _ := ctx.Value(operatorKey{}).(*Operator)
	return op
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !decode(w, r, &req) {
		return
	}
	var id, hash string
	err := s.cfg.DB.QueryRow(r.Context(), `select id, password_hash from operators where username=$1`, req.Username).Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// Same work and answer as a wrong password, so usernames cannot be probed.
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(req.Password))
		writeProblem(w, http.StatusUnauthorized, CodeBadCredentials, "")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Password)) != nil {
		writeProblem(w, http.StatusUnauthorized, CodeBadCredentials, "")
		return
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	token := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	expires := time.Now().Add(s.cfg.SessionTTL)
	if _, err := s.cfg.DB.Exec(r.Context(), `insert into sessions(token_hash, operator_id, expires_at) values($1,$2,$3)`,
		sum[:], id, expires); err != nil {
		s.internal(w, r, err)
		return
	}
	setAuditOperator(r, id, req.Username)
	writeJSON(w, http.StatusOK, map[string]any{"token": token, "expiresAt": expires.UTC().Format(time.RFC3339)})
}

// authenticate resolves the bearer token to an operator and its grants.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "send Authorization: Bearer <token> from POST /api/v1/auth/login")
			return
		}
		sum := sha256.Sum256([]byte(token))
		op := &Operator{Grants: access.Grants{}}
		err := s.cfg.DB.QueryRow(r.Context(), `select o.id, o.username from sessions s join operators o on o.id=s.operator_id
			where s.token_hash=$1 and s.expires_at > now()`, sum[:]).Scan(&op.ID, &op.Username)
		if errors.Is(err, pgx.ErrNoRows) {
			writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "token unknown or expired")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		rows, err := s.cfg.DB.Query(r.Context(), `select project_id::text, role from operator_roles where operator_id=$1`, op.ID)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		for rows.Next() {
			var p, role string
			if err := rows.Scan(&p, &role); err != nil {
				rows.Close()
				s.internal(w, r, err)
				return
			}
			op.Grants[p] = append(op.Grants[p], access.Role(role))
		}
		rows.Close()
		setAuditOperator(r, op.ID, op.Username)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), operatorKey{}, op)))
	})
}

// projectsFor lists the caller's projects where the action is allowed.
func (op *Operator) projectsFor(a access.Action) []string {
	var out []string
	for _, p := range op.Grants.Projects() {
		if op.Grants.Can(p, a) {
			out = append(out, p)
		}
	}
	return out
}
