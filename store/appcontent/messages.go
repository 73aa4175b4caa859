package appcontent

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	appcontentdom "github.com/voltflow/voltflow/domain/appcontent"
	"github.com/voltflow/voltflow/store"
)

// SendMessage stores a system message. A message to a group (私信组: a
// customer group of the project) or to one driver keeps its recipients as
// they are now, so it reaches exactly those drivers.
func SendMessage(ctx context.Context, db *store.DB, projectID string, m appcontentdom.Message) (appcontentdom.Message, error) {
	if err := m.Validate(); err != nil {
		return m, err
	}
	m.ID = uuid.NewString()
	var group, customer any
	if m.GroupID != "" {
		group = m.GroupID
	}
	if m.CustomerID != "" {
		customer = m.CustomerID
	}
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var recipients []string
		switch m.Audience {
		case appcontentdom.ToGroup:
			var found bool
			if err := tx.QueryRow(ctx, `select exists(select 1 from customer_groups where id::text=$1 and project_id=$2)`,
				m.GroupID, projectID).Scan(&found); err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("customer group %s: %w", m.GroupID, ErrNotFound)
			}
			if err := tx.QueryRow(ctx, `select coalesce(array_agg(customer_id::text order by customer_id), '{}')
				from customer_group_members where group_id::text=$1`, m.GroupID).Scan(&recipients); err != nil {
				return err
			}
		case appcontentdom.ToCustomer:
			var found bool
			if err := tx.QueryRow(ctx, `select exists(select 1 from customers where id::text=$1 and project_id=$2)`,
				m.CustomerID, projectID).Scan(&found); err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("customer %s: %w", m.CustomerID, ErrNotFound)
			}
			recipients = []string{m.CustomerID}
		}
		if recipients == nil {
			recipients = []string{}
		}
		m.Recipients = len(recipients)
		return tx.QueryRow(ctx, `insert into app_messages (id, project_id, audience, group_id, customer_id, recipients, title, body)
			values ($1,$2,$3,$4,$5,$6::uuid[],$7,$8) returning created_at`,
			m.ID, projectID, m.Audience, group, customer, recipients, m.Title, m.Body).Scan(&m.CreatedAt)
	})
	return m, err
}

const messageCols = `m.id::text, m.audience, coalesce(m.group_id::text,''), coalesce(m.customer_id::text,''),
	cardinality(m.recipients), m.title, m.body, m.created_at`

// ListMessages is the project's sent messages, newest first (operator side).
func ListMessages(ctx context.Context, db *store.DB, projectID string, p Page) ([]appcontentdom.Message, error) {
	rows, err := db.Query(ctx, `select `+messageCols+`, null::timestamptz from app_messages m
		where m.project_id=$1`+keyset("m.created_at", "m.id", 2)+`
		order by m.created_at desc, m.id desc limit $4`, projectID, p.Before, p.BeforeID, p.limit())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanMessage)
}

func scanMessage(r pgx.CollectableRow) (appcontentdom.Message, error) {
	var m appcontentdom.Message
	return m, r.Scan(&m.ID, &m.Audience, &m.GroupID, &m.CustomerID, &m.Recipients, &m.Title, &m.Body, &m.CreatedAt, &m.ReadAt)
}

// DriverMessages is what one driver receives, newest first: messages to
// all drivers of the project and those it is a recipient of, with when the
// driver read each.
func DriverMessages(ctx context.Context, db *store.DB, d Driver, unreadOnly bool, p Page) ([]appcontentdom.Message, error) {
	rows, err := db.Query(ctx, `select `+messageCols+`, r.read_at from app_messages m
		left join app_message_reads r on r.message_id=m.id and r.customer_id=$2
		where m.project_id=$1 and (m.audience='all' or m.recipients @> array[$2::uuid])
		  and (not $3 or r.read_at is null)`+keyset("m.created_at", "m.id", 4)+`
		order by m.created_at desc, m.id desc limit $6`, d.ProjectID, d.CustomerID, unreadOnly, p.Before, p.BeforeID, p.limit())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (appcontentdom.Message, error) {
		m, err := scanMessage(r)
		// A driver sees its own messages, not who else a group message reached.
		m.Recipients, m.GroupID, m.CustomerID = 0, "", ""
		return m, err
	})
}

// MarkRead records that the driver read one of its messages (once; a
// second mark keeps the first time).
func MarkRead(ctx context.Context, db *store.DB, d Driver, messageID string) (appcontentdom.Message, error) {
	if _, err := db.Exec(ctx, `insert into app_message_reads (message_id, customer_id)
		select m.id, $2::uuid from app_messages m where m.id::text=$3 and m.project_id=$1
		  and (m.audience='all' or m.recipients @> array[$2::uuid])
		on conflict do nothing`, d.ProjectID, d.CustomerID, messageID); err != nil {
		return appcontentdom.Message{}, err
	}
	rows, err := db.Query(ctx, `select `+messageCols+`, r.read_at from app_messages m
		join app_message_reads r on r.message_id=m.id and r.customer_id=$2
		where m.id::text=$3 and m.project_id=$1`, d.ProjectID, d.CustomerID, messageID)
	if err != nil {
		return appcontentdom.Message{}, err
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanMessage)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("message %s: %w", messageID, ErrNotFound)
	}
	m.Recipients, m.GroupID, m.CustomerID = 0, "", ""
	return m, err
}
