package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/apikey"
	"github.com/voltflow/voltflow/store/operator"
)

// Operator is the authenticated caller.
type Operator struct {
	ID       string
	Username string
	Grants   access.Grants // project id → roles
	// PlatformAdmin may create organisations, projects and operators anywhere.
	PlatformAdmin  bool
	OrganisationID string
	// sites maps a project where every role is site-scoped to the site ids
	// (whole subtrees) whose meters the operator may see.
	sites map[string][]string
	// stations maps the same projects to the charging stations whose
	// chargers, connectors and orders the operator may see.
	stations map[string][]string
	// tokenHash is the caller's session (nil for an API key).
	tokenHash []byte
	sessionID int64
}

type operatorKey struct{}

func operatorFrom(ctx context.Context) *Operator {
	op, _ := ctx.Value(operatorKey{}).(*Operator)
	return op
}

// Problem codes of authentication and operators.
const (
	CodeLoginLocked            = "login_locked"
	CodeOperatorDisabled       = "operator_disabled"
	CodePasswordChangeRequired = "password_change_required"
	CodeWeakPassword           = "weak_password"
	CodeOperatorExists         = "operator_exists"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !decode(w, r, &req) {
		return
	}
	ctx := r.Context()
	setAudit(r, "", req.Username, nil)
	locked, err := s.lockout.LockedFor(ctx, s.cfg.DB, req.Username)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if locked > 0 {
		secs := int((locked + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeProblem(w, http.StatusTooManyRequests, CodeLoginLocked,
			"too many failed logins for this username; try again in "+strconv.Itoa(secs)+" s")
		return
	}
	o, err := operator.ByUsername(ctx, s.cfg.DB, req.Username)
	if err != nil && !errors.Is(err, operator.ErrNotFound) {
		s.internal(w, r, err)
		return
	}
	hash := []byte(o.PasswordHash)
	if err != nil {
		// Same work and answer as a wrong password, so usernames cannot be probed.
		hash = s.dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || err != nil {
		if err := operator.RecordFailure(ctx, s.cfg.DB, req.Username); err != nil {
			s.internal(w, r, err)
			return
		}
		writeProblem(w, http.StatusUnauthorized, CodeBadCredentials, "")
		return
	}
	setAuditOperator(r, o.ID, o.Username)
	if o.Disabled {
		writeProblem(w, http.StatusForbidden, CodeOperatorDisabled, "this operator is disabled")
		return
	}
	if err := operator.ClearFailures(ctx, s.cfg.DB, req.Username); err != nil {
		s.internal(w, r, err)
		return
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	token := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	expires := time.Now().Add(s.cfg.SessionTTL)
	if err := operator.StartSession(ctx, s.cfg.DB, o.ID, sum[:], expires); err != nil {
		s.internal(w, r, err)
		return
	}
	out := map[string]any{"token": token, "expiresAt": expires.UTC().Format(time.RFC3339)}
	if o.MustChangePassword {
		out["mustChangePassword"] = true
	}
	writeJSON(w, http.StatusOK, out)
}

// passwordChangePath is the one route an operator whose password an
// administrator reset may call before changing it.
const passwordChangePath = "/api/v1/auth/password"

// authenticate resolves the bearer token (a login session or a project API
// key) to an operator and its grants.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "send Authorization: Bearer <token> from POST /api/v1/auth/login")
			return
		}
		ctx := r.Context()
		op := &Operator{Grants: access.Grants{}}
		if strings.HasPrefix(token, apikey.Prefix) {
			id, _, err := apikey.Use(ctx, s.cfg.DB, token)
			if errors.Is(err, apikey.ErrNotFound) {
				writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "API key unknown or revoked")
				return
			}
			if err != nil {
				s.internal(w, r, err)
				return
			}
			o, err := operator.ByID(ctx, s.cfg.DB, id)
			if err != nil {
				s.internal(w, r, err)
				return
			}
			op.ID, op.Username, op.OrganisationID = o.ID, o.Username, o.OrganisationID
		} else {
			sum := sha256.Sum256([]byte(token))
			sess, o, err := operator.Active(ctx, s.cfg.DB, sum[:])
			if errors.Is(err, operator.ErrNotFound) {
				writeProblem(w, http.StatusUnauthorized, CodeUnauthenticated, "token unknown or expired")
				return
			}
			if err != nil {
				s.internal(w, r, err)
				return
			}
			op.ID, op.Username, op.OrganisationID, op.PlatformAdmin = o.ID, o.Username, o.OrganisationID, o.PlatformAdmin
			op.tokenHash, op.sessionID = sum[:], sess.ID
			if o.MustChangePassword && r.URL.Path != passwordChangePath {
				writeProblem(w, http.StatusForbidden, CodePasswordChangeRequired,
					"an administrator reset this password: change it with POST "+passwordChangePath)
				return
			}
		}
		grants, err := operator.Roles(ctx, s.cfg.DB, op.ID)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		op.Grants, op.sites, op.stations = grantsOf(grants)
		setAuditOperator(r, op.ID, op.Username)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, operatorKey{}, op)))
	})
}

// grantsOf folds stored grants into roles per project and, for projects
// where every grant is scoped, the visible sites and stations: one
// whole-project role makes the whole project visible.
func grantsOf(gs []operator.Grant) (access.Grants, map[string][]string, map[string][]string) {
	grants := access.Grants{}
	whole := map[string]bool{}
	sites := map[string][]string{}
	stations := map[string][]string{}
	for _, g := range gs {
		grants[g.ProjectID] = append(grants[g.ProjectID], access.Role(g.Role))
		if g.Scoped {
			sites[g.ProjectID] = append(sites[g.ProjectID], g.SiteIDs...)
			stations[g.ProjectID] = append(stations[g.ProjectID], g.StationIDs...)
		} else {
			whole[g.ProjectID] = true
		}
	}
	for p := range whole {
		delete(sites, p)
		delete(stations, p)
	}
	return grants, sites, stations
}

// stationScope is the caller's station scope for the store's queries.
func (op *Operator) stationScope() store.StationScope {
	sc := store.StationScope{Projects: []string{}, Stations: []string{}}
	if op == nil {
		return sc
	}
	for p, ss := range op.stations {
		sc.Projects = append(sc.Projects, p)
		sc.Stations = append(sc.Stations, ss...)
	}
	slices.Sort(sc.Projects)
	return sc
}

// seesStation reports whether a row of a project about a station is
// visible to the caller.
func (op *Operator) seesStation(projectID, stationID string) bool {
	ss, scoped := op.stations[projectID]
	return !scoped || slices.Contains(ss, strings.TrimSpace(stationID))
}

// siteScope is the meter filter of a site-scoped operator: in the scoped
// projects only meters of units under the sites. Both empty: no filter.
func (op *Operator) siteScope() (projects, sites []string) {
	if op == nil {
		return []string{}, []string{}
	}
	projects, sites = []string{}, []string{}
	for p, ss := range op.sites {
		projects = append(projects, p)
		sites = append(sites, ss...)
	}
	slices.Sort(projects)
	return projects, sites
}

// scope is the caller's site scope for the store's lists and reports.
func (op *Operator) scope() store.Scope {
	p, s := op.siteScope()
	return store.Scope{Projects: p, Sites: s}
}

// scopeIn is the caller's visible sites in one project: nil when the whole
// project is visible, else the sites (empty if they are gone).
func (op *Operator) scopeIn(projectID string) []string {
	ss, scoped := op.sites[projectID]
	if scoped && ss == nil {
		ss = []string{}
	}
	return ss
}

// meterScopeSQL restricts meters m to the caller's site scope; its two
// parameters are siteScope's results.
func meterScopeSQL(projectsParam, sitesParam int) string {
	return ` and (m.project_id::text <> all($` + strconv.Itoa(projectsParam) + `) or exists(select 1 from units su
		where su.id=m.unit_id and su.site_id::text = any($` + strconv.Itoa(sitesParam) + `)))`
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

// administers reports whether the caller may manage a project's operators,
// keys and settings: a platform administrator, or the project's admin.
func (op *Operator) administers(projectID string) bool {
	return op.PlatformAdmin || slices.Contains(op.Grants[projectID], access.Admin)
}
