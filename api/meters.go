package api

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/access"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
)

type meterRef struct {
	id, projectID, projectCode, meterNo string
	autoApproveUpTo                     money.Amount
	hoardingCap                         *money.Amount // 囤积金额上限; nil is none
}

// findMeter finds a meter by number among the given projects.
func (s *Server) findMeter(ctx context.Context, projects []string, meterNo string) (meterRef, error) {
	var m meterRef
	scoped, sites := operatorFrom(ctx).siteScope()
	err := s.cfg.DB.QueryRow(ctx, `select m.id, m.project_id, p.code, m.meter_no, p.auto_approve_up_to, p.hoarding_cap
		from meters m join projects p on p.id=m.project_id where m.meter_no=$1 and m.project_id::text = any($2)`+meterScopeSQL(3, 4),
		meterNo, projects, scoped, sites).Scan(&m.id, &m.projectID, &m.projectCode, &m.meterNo, &m.autoApproveUpTo, &m.hoardingCap)
	return m, err
}

// Meter is the API view of a meter with its last known state.
type Meter struct {
	MeterNo       string        `json:"meterNo"`
	Gateway       string        `json:"gateway"`
	UnitAddress   int           `json:"unitAddress"`
	Profile       string        `json:"profile"`
	Kind          string        `json:"kind"`
	PrepaidMode   string        `json:"prepaidMode"`
	Price         string        `json:"price"`
	Alarm1        money.Amount  `json:"alarm1"`
	Alarm2        money.Amount  `json:"alarm2"`
	Remaining     *money.Amount `json:"remaining"`
	PurchaseCount *int          `json:"purchaseCount"`
	EnergyKwh     *string       `json:"energyKwh"`
	Relay         *string       `json:"relay"`
	Mode          *string       `json:"mode"`
	LastReadAt    *time.Time    `json:"lastReadAt"`
}

var relayNames = map[int]string{0: "closed", 1: "open"}
var modeNames = map[int]string{0: "prepaid", 1: "protect", 2: "forced_off"}

const meterColumns = `m.meter_no, g.code, m.unit_address, m.profile, m.kind, m.prepaid_mode, m.price::text, m.alarm1, m.alarm2,
	s.remaining, s.purchase_count, s.energy_kwh::text, s.relay, s.mode, s.read_at`

func scanMeter(row pgx.Row) (Meter, error) {
	var m Meter
	var relay, mode *int
	err := row.Scan(&m.MeterNo, &m.Gateway, &m.UnitAddress, &m.Profile, &m.Kind, &m.PrepaidMode, &m.Price, &m.Alarm1, &m.Alarm2,
		&m.Remaining, &m.PurchaseCount, &m.EnergyKwh, &relay, &mode, &m.LastReadAt)
	if relay != nil {
		v := relayNames[*relay]
		m.Relay = &v
	}
	if mode != nil {
		v := modeNames[*mode]
		m.Mode = &v
	}
	return m, err
}

func (s *Server) getMeter(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	scoped, sites := op.siteScope()
	m, err := scanMeter(s.cfg.DB.QueryRow(r.Context(), `select `+meterColumns+` from meters m join gateways g on g.id=m.gateway_id
		left join meter_state s on s.meter_id=m.id where m.meter_no=$1 and m.project_id::text = any($2)`+meterScopeSQL(3, 4),
		chi.URLParam(r, "meterNo"), op.projectsFor(access.ViewData), scoped, sites))
	s.writeFound(w, r, m, err, pgx.ErrNoRows, "meter not found")
}

func (s *Server) listMeters(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	p, ok := pageParams(w, r)
	if !ok {
		return
	}
	after := r.URL.Query().Get("cursor")
	scoped, sites := op.siteScope()
	rows, err := s.cfg.DB.Query(r.Context(), `select `+meterColumns+` from meters m join gateways g on g.id=m.gateway_id
		left join meter_state s on s.meter_id=m.id where m.project_id::text = any($1) and m.meter_no > $2`+meterScopeSQL(4, 5)+`
		order by m.meter_no limit $3`, op.projectsFor(access.ViewData), decodeMeterCursor(after), p.limit, scoped, sites)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer rows.Close()
	items := []Meter{}
	for rows.Next() {
		m, err := scanMeter(rows)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		items = append(items, m)
	}
	out := map[string]any{"items": items}
	if len(items) == p.limit {
		out["nextCursor"] = cursor(time.Unix(0, 0), items[len(items)-1].MeterNo)
	}
	writeJSON(w, http.StatusOK, out)
}

func decodeMeterCursor(c string) string {
	if c == "" {
		return ""
	}
	p, err := parsePage(&http.Request{URL: mustURL("?cursor=" + c)})
	if err != nil {
		return "\uffff" // an unreadable cursor lists nothing rather than everything
	}
	return p.beforeID
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	rows, err := s.cfg.DB.Query(r.Context(), `select a.code, a.kind, a.balance, p.code from ledger_accounts a
		join projects p on p.id=a.project_id where a.project_id::text = any($1) order by p.code, a.code`,
		op.projectsFor(access.ViewData))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer rows.Close()
	type account struct {
		Project string       `json:"project"`
		Code    string       `json:"code"`
		Kind    string       `json:"kind"`
		Balance money.Amount `json:"balance"`
	}
	items := []account{}
	for rows.Next() {
		var a account
		var raw money.Amount
		if err := rows.Scan(&a.Code, &a.Kind, &raw, &a.Project); err != nil {
			s.internal(w, r, err)
			return
		}
		a.Balance = ledgerdom.Display(ledgerdom.Kind(a.Kind), raw)
		items = append(items, a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
