package sweep

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/store"
)

// Gateway is a gateway with the meters a sweep reads behind it, as the
// device-reading code needs them.
type Gateway struct {
	ID, ProjectID, Code, Address, Protocol string
	UUID                                   uuid.UUID
	MaxInFlight                            int // gateways.max_in_flight (1 when pipelining proved unsupported), 0 for the default
	Meters                                 []Meter
}

// Meter is one meter behind a Gateway.
type Meter struct {
	MeterNo, Profile string
	UUID             uuid.UUID
	Unit             int
	// What the hooks after a write need to hear of: an alarm amount is set
	// (alarm hook), the platform prices its readings (billing hook). Read
	// with the gateways; a change during a sweep counts from the next one.
	Alarmed, Platform bool
}

// LoadBatch reads a batch's gateways, in the order given, and their meters
// by unit address: the gateways first, then their meters through the
// meters' (gateway, unit) index. One join of both made the planner scan
// every meter of the deployment for every batch, and repeated each
// gateway's columns on each of its meters' rows; so did a join of the
// meters with the unnested ids (a hash of all 100,000 meters per batch),
// where "= any(array)" is an index condition.
func LoadBatch(ctx context.Context, db *store.DB, projectID string, ids []string) ([]*Gateway, error) {
	gws, err := loadGateways(ctx, db, `select g.id, g.project_id::text, g.code, g.address, g.protocol,
			case when g.pipelining = 'unsupported' then 1 else coalesce(g.max_in_flight, 0) end
		from unnest($2::text[]::uuid[]) as b(id) join gateways g on g.id = b.id
		where g.project_id = $1`, projectID, ids)
	if err != nil {
		return nil, err
	}
	// In the batch's order (the sweep lists gateways by code).
	order := make(map[string]int, len(ids))
	for i, id := range ids {
		order[id] = i
	}
	slices.SortFunc(gws, func(x, y *Gateway) int { return cmp.Compare(order[x.ID], order[y.ID]) })
	gwIDs := make([][16]byte, len(gws))
	for i, g := range gws {
		gwIDs[i] = g.UUID
	}
	err = loadMeters(ctx, db, gws, `select m.gateway_id, m.id, m.meter_no, m.profile, m.unit_address,
		m.alarm1 > 0, m.prepaid_mode = 'platform'
		from meters m where m.gateway_id = any($1::uuid[]) and m.status = 'active'`, gwIDs) // retired meters (换表) are read no more
	return gws, err
}

// LoadMeter reads one meter with its gateway.
func LoadMeter(ctx context.Context, db *store.DB, projectID, meterID string) ([]*Gateway, error) {
	gws, err := loadGateways(ctx, db, `select g.id, g.project_id::text, g.code, g.address, g.protocol,
			case when g.pipelining = 'unsupported' then 1 else coalesce(g.max_in_flight, 0) end
		from meters m join gateways g on g.id = m.gateway_id
		where g.project_id = $1 and m.id = $2::uuid`, projectID, meterID)
	if err != nil || len(gws) == 0 {
		return nil, err
	}
	err = loadMeters(ctx, db, gws, `select m.gateway_id, m.id, m.meter_no, m.profile, m.unit_address,
		m.alarm1 > 0, m.prepaid_mode = 'platform'
		from meters m where m.id = $1::uuid`, meterID)
	return gws, err
}

// loadGateways runs a query of gateway columns.
func loadGateways(ctx context.Context, db *store.DB, sql string, args ...any) ([]*Gateway, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("load gateways: %w", err)
	}
	defer rows.Close()
	var out []*Gateway
	for rows.Next() {
		var g Gateway
		if err := rows.Scan((*[16]byte)(&g.UUID), &g.ProjectID, &g.Code, &g.Address, &g.Protocol, &g.MaxInFlight); err != nil {
			return nil, err
		}
		g.ID = g.UUID.String()
		out = append(out, &g)
	}
	return out, rows.Err()
}

// loadMeters runs a query of meter columns (the gateway's id first) and
// hands each meter to its gateway among gws, by unit address.
func loadMeters(ctx context.Context, db *store.DB, gws []*Gateway, sql string, args ...any) error {
	byID := make(map[uuid.UUID]*Gateway, len(gws))
	for _, g := range gws {
		byID[g.UUID] = g
	}
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("load meters: %w", err)
	}
	defer rows.Close()
	var gw uuid.UUID
	var m Meter
	var profile []byte
	for rows.Next() {
		if err := rows.Scan((*[16]byte)(&gw), (*[16]byte)(&m.UUID), &m.MeterNo, &profile, &m.Unit, &m.Alarmed,
			&m.Platform); err != nil {
			return err
		}
		g := byID[gw]
		if g == nil {
			continue
		}
		// A gateway's meters nearly always share a profile: one string for them.
		if n := len(g.Meters); n > 0 && g.Meters[n-1].Profile == string(profile) {
			m.Profile = g.Meters[n-1].Profile
		} else {
			m.Profile = string(profile)
		}
		g.Meters = append(g.Meters, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range gws {
		slices.SortFunc(g.Meters, func(x, y Meter) int { return cmp.Compare(x.Unit, y.Unit) })
	}
	return nil
}

// SkipWritten drops meters that already have this sweep's reading: an
// earlier attempt read and wrote them before it died.
func SkipWritten(ctx context.Context, db *store.DB, at time.Time, gws []*Gateway) (int, error) {
	var ids [][16]byte // not uuid.UUID: see writeState
	for _, g := range gws {
		for _, m := range g.Meters {
			ids = append(ids, m.UUID)
		}
	}
	rows, err := db.Query(ctx, `select r.meter_id from unnest($2::uuid[]) as b(id)
		join readings r on r.meter_id = b.id and r.read_at = $1`, at, ids)
	if err != nil {
		return 0, fmt.Errorf("readings already written: %w", err)
	}
	have := map[uuid.UUID]bool{}
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		have[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, g := range gws {
		kept := g.Meters[:0]
		for _, m := range g.Meters {
			if !have[m.UUID] {
				kept = append(kept, m)
			}
		}
		g.Meters = kept
	}
	return len(have), nil
}

// EnsurePartitions creates this month's and next month's readings partition.
func EnsurePartitions(ctx context.Context, db *store.DB, at time.Time) error {
	if _, err := db.Exec(ctx, `select readings_partition($1), readings_partition($1 + interval '1 month')`, at); err != nil {
		return fmt.Errorf("readings partitions for %s: %w", at.Format("2006-01"), err)
	}
	return nil
}
