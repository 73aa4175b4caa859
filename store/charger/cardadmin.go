package charger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// CardEvent is one line of a card's history.
type CardEvent struct {
	From       *string   `json:"from"`
	To         string    `json:"to"`
	OperatorID *string   `json:"operatorId"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

// CardHistory lists a card's events, oldest first.
func CardHistory(ctx context.Context, db *store.DB, projects []string, cardNo string) ([]CardEvent, error) {
	var exists bool
	if err := db.QueryRow(ctx, `select exists(select 1 from cards where card_no=$1 and project_id::text = any($2))`,
		cardNo, projects).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("card %s: %w", cardNo, ErrCardNotFound)
	}
	rows, err := db.Query(ctx, `select from_status, to_status, operator_id::text, reason, at from card_events
		where card_no=$1 order by at, id`, cardNo)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CardEvent, error) {
		var e CardEvent
		return e, r.Scan(&e.From, &e.To, &e.OperatorID, &e.Reason, &e.At)
	})
}

// ErrNoHolder is an empty holder name.
var ErrNoHolder = errors.New("a card holder needs a name")

// AssignHolder names the card's holder (and its customer), recorded in the
// card's history.
func AssignHolder(ctx context.Context, db *store.DB, projects []string, cardNo, holder, phone, operatorID string) (Card, error) {
	if holder == "" {
		return Card{}, ErrNoHolder
	}
	var projectID string
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `update cards set holder=$2, updated_at=now() where card_no=$1 and project_id::text = any($3)
			returning status, project_id::text`, cardNo, holder, projects).Scan(&status, &projectID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("card %s: %w", cardNo, ErrCardNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update customers set name=$2, phone=case when $3='' then phone else $3 end
			where id=(select customer_id from cards where card_no=$1)`, cardNo, holder, phone); err != nil {
			return err
		}
		var op any
		if operatorID != "" {
			op = operatorID
		}
		_, err = tx.Exec(ctx, `insert into card_events (card_no, from_status, to_status, operator_id, reason)
			values ($1,$2,$2,$3,$4)`, cardNo, status, op, "holder: "+holder)
		return err
	})
	if err != nil {
		return Card{}, err
	}
	return GetCard(ctx, db, []string{projectID}, cardNo)
}
