package charger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// Message is one logged frame.
type Message struct {
	ID            int64     `json:"id"`
	ChargePointID string    `json:"chargePointId"`
	Direction     string    `json:"direction"`
	MessageType   int       `json:"messageType"`
	UniqueID      string    `json:"uniqueId"`
	Action        string    `json:"action"`
	Frame         string    `json:"frame"`
	At            time.Time `json:"at"`
}

// MessageQuery selects logged frames of one charge point in [From, To), in
// the order they crossed the wire, after the cursor AfterID.
type MessageQuery struct {
	ChargePointID string
	From, To      time.Time // zero: unbounded
	AfterID       int64
	Limit         int
}

// Messages lists logged frames.
func Messages(ctx context.Context, db *store.DB, q MessageQuery) ([]Message, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var from, to any
	if !q.From.IsZero() {
		from = q.From
	}
	if !q.To.IsZero() {
		to = q.To
	}
	rows, err := db.Query(ctx, `select id, charge_point_id, direction, message_type, unique_id, action, frame, at
		from ocpp_messages where charge_point_id=$1 and ($2::timestamptz is null or at >= $2)
		and ($3::timestamptz is null or at < $3) and id > $4 order by id limit $5`,
		q.ChargePointID, from, to, q.AfterID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("messages of %s: %w", q.ChargePointID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) {
		var m Message
		err := r.Scan(&m.ID, &m.ChargePointID, &m.Direction, &m.MessageType, &m.UniqueID, &m.Action, &m.Frame, &m.At)
		return m, err
	})
}
