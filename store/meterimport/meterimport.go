// Package meterimport stores a checked bulk import of gateways and meters
// (domain/meterimport) in one transaction: all rows or none. A row that
// repeats a stored meter exactly is left alone, so the same sheet can be
// sent again; anything that contradicts stored data is a problem of its row.
package meterimport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dom "github.com/voltflow/voltflow/domain/meterimport"
	"github.com/voltflow/voltflow/store"
)

// Result counts what an import did (or, on a dry run, would do).
type Result struct {
	GatewaysCreated int  `json:"gatewaysCreated"`
	MetersCreated   int  `json:"metersCreated"`
	MetersUnchanged int  `json:"metersUnchanged"`
	DryRun          bool `json:"dryRun"`
}

// errDryRun rolls a dry run back.
var errDryRun = errors.New("dry run")

// Apply stores the sheet in the project. It returns the rows' problems
// with stored data instead of writing anything when there are any; dryRun
// checks everything and writes nothing.
func Apply(ctx context.Context, db *store.DB, projectID string, sh dom.Sheet, dryRun bool) (Result, []dom.Problem, error) {
	var res Result
	var problems []dom.Problem
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		// One import at a time per project: two sheets giving the same
		// unit address to different meters must not both pass the check.
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtext('meter-import:' || $1::text))`, projectID); err != nil {
			return err
		}
		ids, created, err := gateways(ctx, tx, projectID, &sh)
		if err != nil {
			return err
		}
		fresh, unchanged, err := meters(ctx, tx, projectID, &sh)
		if err != nil {
			return err
		}
		if len(sh.Problems) > 0 {
			// Gateway problems are on the gateway's first row.
			slices.SortStableFunc(sh.Problems, func(a, b dom.Problem) int { return a.Line - b.Line })
			problems = sh.Problems
			return nil
		}
		if err := insert(ctx, tx, projectID, created, ids, fresh); err != nil {
			return err
		}
		res = Result{GatewaysCreated: len(created), MetersCreated: len(fresh), MetersUnchanged: unchanged, DryRun: dryRun}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return Result{}, nil, fmt.Errorf("meter import: %w", err)
	}
	return res, problems, nil
}

// gateways resolves every gateway of the sheet: a stored one must agree
// with what the sheet says of it; a new one needs its protocol and address.
// It returns every gateway's id by code and the ones to create.
func gateways(ctx context.Context, tx pgx.Tx, projectID string, sh *dom.Sheet) (map[string]uuid.UUID, []*dom.Gateway, error) {
	codes := make([]string, len(sh.Gateways))
	for i, g := range sh.Gateways {
		codes[i] = g.Code
	}
	rows, err := tx.Query(ctx, `select code, id, protocol, address, coalesce(max_in_flight, 0) from gateways
		where project_id = $1 and code = any($2)`, projectID, codes)
	if err != nil {
		return nil, nil, err
	}
	type stored struct {
		id                uuid.UUID
		protocol, address string
		window            int
	}
	have := map[string]stored{}
	for rows.Next() {
		var code string
		var s stored
		if err := rows.Scan(&code, &s.id, &s.protocol, &s.address, &s.window); err != nil {
			return nil, nil, err
		}
		have[code] = s
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	ids := map[string]uuid.UUID{}
	var created []*dom.Gateway
	fromDB := map[string]string{} // protocols the sheet left to the stored gateway
	for _, g := range sh.Gateways {
		fail := func(col, detail string) {
			sh.Problems = append(sh.Problems, dom.Problem{Line: g.Line, Column: col, Detail: detail})
		}
		s, ok := have[g.Code]
		if !ok {
			if g.Protocol == "" {
				fail(dom.ColProtocol, "gateway "+g.Code+" is new: its protocol is required")
			}
			if g.Address == "" {
				fail(dom.ColGatewayAddress, "gateway "+g.Code+" is new: its address is required")
			}
			ids[g.Code] = uuid.New()
			created = append(created, g)
			continue
		}
		ids[g.Code] = s.id
		if g.Protocol == "" {
			fromDB[g.Code] = s.protocol
		} else if g.Protocol != s.protocol {
			fail(dom.ColProtocol, fmt.Sprintf("gateway %s is stored with protocol %s, the sheet says %s", g.Code, s.protocol, g.Protocol))
		}
		if g.Address != "" && g.Address != s.address {
			fail(dom.ColGatewayAddress, fmt.Sprintf("gateway %s is stored with address %s, the sheet says %s", g.Code, s.address, g.Address))
		}
		if g.MaxInFlight != 0 && g.MaxInFlight != s.window {
			fail(dom.ColMaxInFlight, fmt.Sprintf("gateway %s is stored with max_in_flight %d, the sheet says %d", g.Code, s.window, g.MaxInFlight))
		}
	}
	sh.CheckAddresses(func(code string) string { return fromDB[code] })
	return ids, created, nil
}

// meters sorts the sheet's meters into new ones and exact repeats of
// stored ones, and notes the rows that contradict stored meters.
func meters(ctx context.Context, tx pgx.Tx, projectID string, sh *dom.Sheet) ([]dom.Meter, int, error) {
	nos := make([]string, len(sh.Meters))
	codes := map[string]bool{}
	for i, m := range sh.Meters {
		nos[i] = m.MeterNo
		codes[m.Gateway] = true
	}
	rows, err := tx.Query(ctx, `select m.meter_no, m.project_id::text, coalesce(g.code, ''), m.unit_address, m.profile,
			m.kind, m.prepaid_mode, m.price, m.ct_ratio, m.pt_ratio, m.alarm1, m.alarm2
		from meters m left join gateways g on g.id = m.gateway_id and g.project_id = $1
		where m.meter_no = any($2)`, projectID, nos)
	if err != nil {
		return nil, 0, err
	}
	type stored struct {
		project string
		m       dom.Meter
	}
	have := map[string]stored{}
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.m.MeterNo, &s.project, &s.m.Gateway, &s.m.Unit, &s.m.Profile, &s.m.Kind,
			&s.m.PrepaidMode, &s.m.Price, &s.m.CT, &s.m.PT, &s.m.Alarm1, &s.m.Alarm2); err != nil {
			return nil, 0, err
		}
		have[s.m.MeterNo] = s
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	// Bus addresses in use on the sheet's stored gateways.
	list := make([]string, 0, len(codes))
	for c := range codes {
		list = append(list, c)
	}
	rows, err = tx.Query(ctx, `select g.code, m.unit_address, m.meter_no from meters m join gateways g on g.id = m.gateway_id
		where g.project_id = $1 and g.code = any($2)`, projectID, list)
	if err != nil {
		return nil, 0, err
	}
	busy := map[string]string{}
	for rows.Next() {
		var code, no string
		var unit int
		if err := rows.Scan(&code, &unit, &no); err != nil {
			return nil, 0, err
		}
		busy[fmt.Sprintf("%s\x00%d", code, unit)] = no
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var fresh []dom.Meter
	unchanged := 0
	for _, m := range sh.Meters {
		fail := func(col, detail string) {
			sh.Problems = append(sh.Problems, dom.Problem{Line: m.Line, Column: col, Detail: detail})
		}
		s, ok := have[m.MeterNo]
		switch {
		case ok && s.project != projectID:
			fail(dom.ColMeterNo, m.MeterNo+" belongs to another project")
		case ok:
			if diff := differences(s.m, m); len(diff) > 0 {
				fail(diff[0], fmt.Sprintf("%s is stored with other values (%s): change a meter through its own requests",
					m.MeterNo, strings.Join(diff, ", ")))
			} else {
				unchanged++
			}
		default:
			if no, used := busy[fmt.Sprintf("%s\x00%d", m.Gateway, m.Unit)]; used {
				fail(dom.ColUnitAddress, fmt.Sprintf("gateway %s unit %d is meter %s", m.Gateway, m.Unit, no))
			}
			fresh = append(fresh, m)
		}
	}
	return fresh, unchanged, nil
}

// differences names the columns where a row differs from a stored meter.
func differences(stored, row dom.Meter) []string {
	var out []string
	for _, c := range []struct {
		col  string
		same bool
	}{
		{dom.ColGateway, stored.Gateway == row.Gateway},
		{dom.ColUnitAddress, stored.Unit == row.Unit},
		{dom.ColProfile, stored.Profile == row.Profile},
		{dom.ColKind, stored.Kind == row.Kind},
		{dom.ColPrepaidMode, stored.PrepaidMode == row.PrepaidMode},
		{dom.ColPrice, stored.Price.Equal(row.Price)},
		{dom.ColCTRatio, stored.CT == row.CT},
		{dom.ColPTRatio, stored.PT == row.PT},
		{dom.ColAlarm1, stored.Alarm1.Equal(row.Alarm1)},
		{dom.ColAlarm2, stored.Alarm2.Equal(row.Alarm2)},
	} {
		if !c.same {
			out = append(out, c.col)
		}
	}
	return out
}

// insert writes the new gateways and COPies the new meters.
func insert(ctx context.Context, tx pgx.Tx, projectID string, created []*dom.Gateway, ids map[string]uuid.UUID, fresh []dom.Meter) error {
	n := len(created)
	gwIDs, codes, protocols, addresses, windows := make([]uuid.UUID, n), make([]string, n), make([]string, n),
		make([]string, n), make([]*int32, n)
	for i, g := range created {
		gwIDs[i], codes[i], protocols[i], addresses[i] = ids[g.Code], g.Code, g.Protocol, g.Address
		if g.MaxInFlight > 0 {
			w := int32(g.MaxInFlight)
			windows[i] = &w
		}
	}
	if _, err := tx.Exec(ctx, `insert into gateways(id, project_id, code, protocol, address, max_in_flight)
		select unnest($1::uuid[]), $2, unnest($3::text[]), unnest($4::text[]), unnest($5::text[]), unnest($6::smallint[])`,
		gwIDs, projectID, codes, protocols, addresses, windows); err != nil {
		return fmt.Errorf("%d gateways: %w", n, err)
	}
	pid, err := uuid.Parse(projectID)
	if err != nil {
		return err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"meters"}, []string{"id", "project_id", "meter_no", "gateway_id",
		"unit_address", "profile", "kind", "prepaid_mode", "price", "ct_ratio", "pt_ratio", "alarm1", "alarm2"},
		pgx.CopyFromSlice(len(fresh), func(i int) ([]any, error) {
			m := fresh[i]
			return []any{uuid.New(), pid, m.MeterNo, ids[m.Gateway], int32(m.Unit), m.Profile, m.Kind, m.PrepaidMode,
				m.Price, int32(m.CT), int32(m.PT), m.Alarm1, m.Alarm2}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy %d meters: %w", len(fresh), err)
	}
	return nil
}
