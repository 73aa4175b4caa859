// Package workorder records maintenance work orders (运维工单) in
// PostgreSQL for the work-order workflow (through activities/workorder), and
// reads them and the O&M views for the API.
package workorder

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	workorderdom "github.com/voltflow/voltflow/domain/workorder"
	"github.com/voltflow/voltflow/store"
)

// ErrTypeConflict is the error type (temporal.ApplicationError) the
// OpenWorkOrder activity reports a ConflictError with.
const ErrTypeConflict = "WorkOrderConflict"

// ConflictError is OpenWorkOrder's refusal when another open work order holds
// the charger and fault (the workflow id should have prevented it); retrying
// cannot help.
type ConflictError struct {
	WorkflowID string
	Err        error // the unique violation
}

func (e *ConflictError) Error() string { return "another open work order holds " + e.WorkflowID }
func (e *ConflictError) Unwrap() error { return e.Err }

// OpenInput opens a work order.
type OpenInput struct {
	ID            string    `json:"id"`
	WorkflowID    string    `json:"workflowId"`
	ChargePointID string    `json:"chargePointId"`
	Connector     int       `json:"connector"`
	FaultKey      string    `json:"faultKey"`
	Source        string    `json:"source"`
	AlarmCode     int       `json:"alarmCode,omitempty"`
	OCPPCode      string    `json:"ocppCode,omitempty"`
	Title         string    `json:"title"`
	FaultID       int64     `json:"faultId,omitempty"`
	At            time.Time `json:"at"`
}

// Opened is what the workflow needs to know of the new order.
type Opened struct {
	ProjectID   string `json:"projectId"`
	ProjectCode string `json:"projectCode"`
	AssigneeID  string `json:"assigneeId"`
}

// OpenWorkOrder records the work order (a retry finds it) and assigns it to the
// project's maintenance operator with the fewest open orders.
func OpenWorkOrder(ctx context.Context, db *store.DB, in OpenInput) (Opened, error) {
	var out Opened
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var project *string
		var code string
		err := tx.QueryRow(ctx, `select cp.project_id::text, coalesce(p.code,'') from ocpp_charge_points cp
			left join projects p on p.id = cp.project_id where cp.equipment_id=$1`, in.ChargePointID).Scan(&project, &code)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var assignee *string
		if project != nil {
			out.ProjectID, out.ProjectCode = *project, code
			err = tx.QueryRow(ctx, `select r.operator_id::text from operator_roles r where r.project_id=$1 and r.role='maintenance'
				order by (select count(*) from work_orders w where w.assignee_id=r.operator_id and w.status<>'closed'), r.operator_id
				limit 1`, *project).Scan(&assignee)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `insert into work_orders(id, project_id, workflow_id, equipment_id, connector_no, fault_key, source,
			alarm_code, ocpp_code, title, status, assignee_id, opened_at) values($1,$2,$3,$4,$5,$6,$7,nullif($8,0),$9,$10,'open',$11,$12)
			on conflict (id) do nothing`, in.ID, project, in.WorkflowID, in.ChargePointID, in.Connector, in.FaultKey, in.Source,
			in.AlarmCode, in.OCPPCode, in.Title, assignee, in.At)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return tx.QueryRow(ctx, `select coalesce(assignee_id::text,'') from work_orders where id=$1`, in.ID).Scan(&out.AssigneeID)
		}
		if assignee != nil {
			out.AssigneeID = *assignee
		}
		return addEvent(ctx, tx, in.ID, "opened", in.FaultID, in.Title, "", in.At)
	})
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "23505" {
		return out, &ConflictError{WorkflowID: in.WorkflowID, Err: err}
	}
	if err != nil {
		return out, fmt.Errorf("open work order %s: %w", in.WorkflowID, err)
	}
	return out, nil
}

func addEvent(ctx context.Context, tx pgx.Tx, id, kind string, faultID int64, detail, operatorID string, at time.Time) error {
	_, err := tx.Exec(ctx, `insert into work_order_events(work_order_id, kind, fault_id, detail, operator_id, at)
		values($1,$2,nullif($3,0),$4,nullif($5,'')::uuid,$6)`, id, kind, faultID, detail, operatorID, at)
	return err
}

// FaultInput is a fault episode of the order's fault starting again, or
// recovering.
type FaultInput struct {
	ID        string    `json:"id"`
	FaultID   int64     `json:"faultId"`
	Recovered bool      `json:"recovered"`
	At        time.Time `json:"at"`
}

// RecordWorkOrderFault records an episode in the order's fault history.
func RecordWorkOrderFault(ctx context.Context, db *store.DB, in FaultInput) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		kind := "fault"
		if in.Recovered {
			kind = "recovered"
			if _, err := tx.Exec(ctx, `update work_orders set fault_active=false, recovered_at=$2 where id=$1`, in.ID, in.At); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `update work_orders set fault_active=true where id=$1`, in.ID); err != nil {
			return err
		}
		return addEvent(ctx, tx, in.ID, kind, in.FaultID, "", "", in.At)
	})
}

// AckInput acknowledges an order.
type AckInput struct {
	ID         string    `json:"id"`
	OperatorID string    `json:"operatorId"`
	Note       string    `json:"note"`
	At         time.Time `json:"at"`
}

// AcknowledgeWorkOrder marks the order taken (and assigns it to whoever took it).
func AcknowledgeWorkOrder(ctx context.Context, db *store.DB, in AckInput) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `update work_orders set status='acknowledged', acknowledged_at=$2, acknowledged_by=$3,
			assignee_id=$3 where id=$1 and status='open'`, in.ID, in.At, in.OperatorID)
		if err != nil || tag.RowsAffected() == 0 {
			return err // a retry after commit finds it done
		}
		return addEvent(ctx, tx, in.ID, "acknowledged", 0, in.Note, in.OperatorID, in.At)
	})
}

// CloseInput closes an order with its resolution; OperatorID is empty when
// the order closes itself (auto-close on recovery).
type CloseInput struct {
	ID         string    `json:"id"`
	OperatorID string    `json:"operatorId,omitempty"`
	Resolution string    `json:"resolution"`
	At         time.Time `json:"at"`
}

// CloseWorkOrder records the resolution.
func CloseWorkOrder(ctx context.Context, db *store.DB, in CloseInput) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `update work_orders set status='closed', closed_at=$2, closed_by=nullif($3,'')::uuid,
			resolution=$4, acknowledged_at=coalesce(acknowledged_at,$2),
			acknowledged_by=coalesce(acknowledged_by, nullif($3,'')::uuid) where id=$1 and status<>'closed'`,
			in.ID, in.At, in.OperatorID, in.Resolution)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return addEvent(ctx, tx, in.ID, "closed", 0, in.Resolution, in.OperatorID, in.At)
	})
}

// EscalateInput is one escalation stage due.
type EscalateInput struct {
	ID    string    `json:"id"`
	Stage string    `json:"stage"`
	At    time.Time `json:"at"`
}

// EscalateWorkOrder records the stage and returns the phones to tell: level-1
// contacts when nobody acknowledged, every level when not resolved.
func EscalateWorkOrder(ctx context.Context, db *store.DB, in EscalateInput) ([]string, error) {
	var phones []string
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		maxLevel := 1
		if in.Stage == workorderdom.StageUnresolved {
			maxLevel = 2
		}
		rows, err := tx.Query(ctx, `select c.phone from work_orders w join work_order_contacts c on c.project_id = w.project_id
			where w.id=$1 and c.level <= $2 order by c.level, c.phone`, in.ID, maxLevel)
		if err != nil {
			return err
		}
		phones, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `update work_orders set escalations = array_append(escalations, $2)
			where id=$1 and not ($2 = any(escalations))`, in.ID, in.Stage)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return addEvent(ctx, tx, in.ID, "escalated", 0, in.Stage, "", in.At)
	})
	if err != nil {
		return nil, fmt.Errorf("escalate work order %s: %w", in.ID, err)
	}
	return phones, nil
}
