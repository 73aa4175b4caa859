package alarm

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/store"
)

// Alarm settings of a project changed through the API (S4): its quiet hours
// and the SMS recipients of its site subtrees (area managers).

// ErrUnknownSite: the site is not in the project.
var ErrUnknownSite = errors.New("site not found")

// defaultQuiet is what a project without a policy of its own keeps: 22:00
// to 08:00 China time.
func defaultQuiet() alarmdom.Quiet {
	return alarmdom.Quiet{Start: 22 * 60, End: 8 * 60, OffsetMinutes: 480}
}

// ProjectQuiet is the project's quiet hours: its project-wide policy's, else
// the default.
func ProjectQuiet(ctx context.Context, db *store.DB, projectID string) (alarmdom.Quiet, error) {
	q := defaultQuiet()
	err := db.QueryRow(ctx, `select quiet_start, quiet_end, utc_offset_minutes from alarm_policies
		where project_id=$1 and meter_id is null`, projectID).Scan(&q.Start, &q.End, &q.OffsetMinutes)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return q, fmt.Errorf("quiet hours of project %s: %w", projectID, err)
	}
	return q, nil
}

// SetProjectQuiet sets the quiet hours of the project-wide policy (creating
// it with the defaults otherwise), keeping its zone. Alarms read the policy
// when they send, so the next alarm keeps the new hours. A meter with a
// policy of its own keeps its own.
func SetProjectQuiet(ctx context.Context, db *store.DB, projectID string, h alarmdom.QuietHours) error {
	q, err := h.Quiet(0)
	if err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `insert into alarm_policies(project_id, quiet_start, quiet_end) values($1,$2,$3)
		on conflict (project_id, meter_id) do update set quiet_start=excluded.quiet_start, quiet_end=excluded.quiet_end`,
		projectID, q.Start, q.End); err != nil {
		return fmt.Errorf("quiet hours of project %s: %w", projectID, err)
	}
	return nil
}

// SetSiteRecipients replaces the phones a site's subtree alarms go to.
func SetSiteRecipients(ctx context.Context, db *store.DB, projectID, siteID string, phones []string) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from sites where id::text=$1 and project_id=$2)`,
			siteID, projectID).Scan(&ok); err != nil {
			return fmt.Errorf("site %s: %w", siteID, err)
		}
		if !ok {
			return fmt.Errorf("site %s: %w", siteID, ErrUnknownSite)
		}
		if _, err := tx.Exec(ctx, `delete from site_alarm_recipients where site_id=$1`, siteID); err != nil {
			return fmt.Errorf("recipients of site %s: %w", siteID, err)
		}
		if _, err := tx.Exec(ctx, `insert into site_alarm_recipients(site_id, phone)
			select $1, p from unnest($2::text[]) p on conflict do nothing`, siteID, phones); err != nil {
			return fmt.Errorf("recipients of site %s: %w", siteID, err)
		}
		return nil
	})
}

// SiteRecipients lists the phones set for a site itself (not its parents').
func SiteRecipients(ctx context.Context, db *store.DB, projectID, siteID string) ([]string, error) {
	var phones []string
	var ok bool
	err := db.QueryRow(ctx, `select (select exists(select 1 from sites where id::text=$1 and project_id=$2)),
		coalesce((select array_agg(phone order by phone) from site_alarm_recipients where site_id::text=$1), '{}')`,
		siteID, projectID).Scan(&ok, &phones)
	if err != nil {
		return nil, fmt.Errorf("recipients of site %s: %w", siteID, err)
	}
	if !ok {
		return nil, fmt.Errorf("site %s: %w", siteID, ErrUnknownSite)
	}
	return phones, nil
}

// siteRecipients are the area managers of a meter: the phones set for every
// site on its path up the tree (its unit's site, that site's parent, …),
// nearest first. A meter not under a unit has none.
func siteRecipients(ctx context.Context, db *store.DB, meterID string) ([]Recipient, error) {
	if meterID == "" {
		return nil, nil
	}
	rows, err := db.Query(ctx, `with recursive path(id, parent_id, depth) as (
			select s.id, s.parent_id, 0 from meters m join units u on u.id = m.unit_id join sites s on s.id = u.site_id
			where m.id::text = $1
			union all
			select s.id, s.parent_id, path.depth + 1 from sites s join path on s.id = path.parent_id)
		select r.phone from site_alarm_recipients r join path on path.id = r.site_id order by path.depth, r.phone`, meterID)
	if err != nil {
		return nil, fmt.Errorf("site recipients of meter %s: %w", meterID, err)
	}
	phones, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("site recipients of meter %s: %w", meterID, err)
	}
	out := make([]Recipient, len(phones))
	for i, p := range phones {
		out[i] = Recipient{Phone: p, Role: "manager"}
	}
	return out, nil
}
