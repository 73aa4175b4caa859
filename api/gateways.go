package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	meterimportdom "github.com/voltflow/voltflow/domain/meterimport"
	"github.com/voltflow/voltflow/store"
)

// Gateway is a meter gateway (通讯管理机) as operators see and change it.
type Gateway struct {
	Code     string `json:"code"`
	Protocol string `json:"protocol"`
	Address  string `json:"address"`
	// MaxInFlight is how many Modbus TCP requests it takes at once; null is
	// the platform's default.
	MaxInFlight *int `json:"maxInFlight"`
	// Pipelining is how sweeps send it requests: "pipelined" (several in
	// flight), "one_at_a_time" (its maxInFlight is 1, or not Modbus TCP),
	// or "unsupported": a sweep found it dropping the second request in
	// flight and fell back to one at a time (since PipeliningDetectedAt).
	Pipelining           string     `json:"pipelining"`
	PipeliningDetectedAt *time.Time `json:"pipeliningDetectedAt"`
	Meters               int        `json:"meters"`
	Reachable            *bool      `json:"reachable"` // at its last sweep; null before the first
	LastSweepAt          *time.Time `json:"lastSweepAt"`
}

// GatewayPatch changes a gateway: an absent field stays as it is;
// "maxInFlight": null goes back to the platform's default.
type GatewayPatch struct {
	Address     *string         `json:"address"`
	MaxInFlight json.RawMessage `json:"maxInFlight"`
}

func (s *Server) getGateway(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	s.writeGateway(w, r, http.StatusOK, pid, chi.URLParam(r, "code"))
}

// patchGateway changes a gateway's address (its IP changed) or its
// pipelining window (a serial server that drops what arrives while its bus
// is busy needs 1; sweeps find most such servers by themselves). Setting
// maxInFlight clears a detected "unsupported": the operator's word wins.
// The next sweep dials the new address.
func (s *Server) patchGateway(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.adminProject(w, r, "changing gateways")
	if !ok {
		return
	}
	var req GatewayPatch
	if !decode(w, r, &req) {
		return
	}
	if req.Address != nil && !meterimportdom.ValidAddress(*req.Address) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "address is host:port", "address")
		return
	}
	setWindow, resetWindow := len(req.MaxInFlight) > 0, bytes.Equal(req.MaxInFlight, []byte("null"))
	var window *int
	if setWindow && !resetWindow {
		var n int
		if err := json.Unmarshal(req.MaxInFlight, &n); err != nil || n < 1 || n > 256 {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "maxInFlight is 1 to 256, or null", "maxInFlight")
			return
		}
		window = &n
	}
	code := chi.URLParam(r, "code")
	var protocol string
	err := s.cfg.DB.QueryRow(r.Context(), `update gateways set address = coalesce($3, address),
			max_in_flight = case when $4 then $5::smallint else max_in_flight end,
			pipelining = case when $4 then null else pipelining end,
			pipelining_detected_at = case when $4 then null else pipelining_detected_at end
		where project_id = $1 and code = $2 returning protocol`, pid, code, req.Address, setWindow, window).Scan(&protocol)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		writeProblem(w, http.StatusNotFound, CodeNotFound, "gateway not found")
		return
	case store.IsCheckViolation(err):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
			"only a Modbus TCP gateway takes more than one request at a time", "maxInFlight")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	setAudit(r, pid, code, map[string]any{"address": req.Address, "maxInFlight": window, "resetMaxInFlight": resetWindow})
	s.writeGateway(w, r, http.StatusOK, pid, code)
}

func (s *Server) writeGateway(w http.ResponseWriter, r *http.Request, status int, projectID, code string) {
	g, err := loadGateway(r.Context(), s.cfg.DB, projectID, code)
	if errors.Is(err, pgx.ErrNoRows) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "gateway not found")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, status, g)
}

func loadGateway(ctx context.Context, db *store.DB, projectID, code string) (Gateway, error) {
	var g Gateway
	err := db.QueryRow(ctx, `select g.code, g.protocol, g.address, g.max_in_flight::int,
			case when g.pipelining = 'unsupported' then 'unsupported'
				when g.protocol = 'modbus-tcp' and coalesce(g.max_in_flight, 0) <> 1 then 'pipelined'
				else 'one_at_a_time' end, g.pipelining_detected_at,
			(select count(*) from meters m where m.gateway_id = g.id), c.reachable, c.last_sweep_at
		from gateways g left join gateway_contact c on c.gateway_id = g.id
		where g.project_id = $1 and g.code = $2`, projectID, code).
		Scan(&g.Code, &g.Protocol, &g.Address, &g.MaxInFlight, &g.Pipelining, &g.PipeliningDetectedAt,
			&g.Meters, &g.Reachable, &g.LastSweepAt)
	return g, err
}
