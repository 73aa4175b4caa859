// Package workorder runs maintenance work orders (运维工单) as Temporal
// workflows: work-order/<charger>/<connector>/<fault key> is started
// (signal-with-start) by the first fault episode, so a charger repeating its
// fault signals the running order instead of opening another. The order is
// assigned to a maintenance operator of the charger's project, escalates by
// SMS when nobody acknowledges it or it is not resolved in time, keeps the
// fault's episodes (start, recovery), and closes with a resolution given
// through the API (or by itself on recovery when the policy says so).
package workorder

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	workorderdom "github.com/voltflow/voltflow/domain/workorder"
	smsstore "github.com/voltflow/voltflow/store/sms"
	workorderstore "github.com/voltflow/voltflow/store/workorder"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
)

// Names shared with the hook and the API.
const (
	Kind = "work-order"
	// KindWorkflow is the registered name of Workflow (Kind is the
	// VoltflowKind search attribute's value).
	KindWorkflow  = "work_order"
	SignalFault   = "fault"
	UpdateAck     = "acknowledge"
	UpdateResolve = "resolve"
	// SMSKind is sms_messages.kind of escalations.
	SMSKind = "work_order"
	// AutoResolution is the resolution of an order closed by its recovery.
	AutoResolution = "fault recovered (closed automatically)"
)

// Errors the Update validators answer with (the API maps them).
var (
	ErrClosed          = errors.New("work order is closed")
	ErrAcknowledged    = errors.New("work order already acknowledged")
	ErrNotMaintenance  = errors.New("acknowledging or resolving needs the maintenance role")
	ErrEmptyResolution = errors.New("a resolution is required")
)

// Fault is a fault episode starting or recovering (signal fault; also the
// signal that starts the workflow).
type Fault struct {
	FaultID   int64     `json:"faultId,omitempty"` // charger_faults.id; 0 for failed sessions
	Recovered bool      `json:"recovered"`
	OCPPCode  string    `json:"ocppCode,omitempty"`
	AlarmCode int       `json:"alarmCode,omitempty"`
	Info      string    `json:"info,omitempty"`
	At        time.Time `json:"at"`
}

// Input starts a work order. Carry is set only by continue-as-new; First
// is a fault that arrived while the previous order was closing.
type Input struct {
	ChargePointID string              `json:"chargePointId"`
	Connector     int                 `json:"connector"`
	FaultKey      string              `json:"faultKey"`
	Source        string              `json:"source"`
	Title         string              `json:"title"`
	Policy        workorderdom.Policy `json:"policy"`
	First         *Fault              `json:"first,omitempty"`
	Carry         *State              `json:"carry,omitempty"`
}

// State crosses continue-as-new.
type State struct {
	ID        string    `json:"id"`
	Project   string    `json:"project"`   // code, for the search attribute
	ProjectID string    `json:"projectId"` // for the SMS records
	Status    string    `json:"status"`
	OpenedAt  time.Time `json:"openedAt"`
	Sent      []string  `json:"sent"`
}

// Ack acknowledges (Update acknowledge).
type Ack struct {
	WorkOrderID string        `json:"workOrderId"` // the order the caller read (the workflow id outlives it)
	OperatorID  string        `json:"operatorId"`
	Roles       []access.Role `json:"roles"`
	Note        string        `json:"note"`
}

// Resolve closes with a resolution (Update resolve).
type Resolve struct {
	WorkOrderID string        `json:"workOrderId"`
	OperatorID  string        `json:"operatorId"`
	Roles       []access.Role `json:"roles"`
	Resolution  string        `json:"resolution"`
}

// Result is how the order ended.
type Result struct {
	ID         string   `json:"id"`
	Resolution string   `json:"resolution"`
	Escalated  []string `json:"escalated"`
}

const continueAfter = 2000

type order struct {
	in         Input
	wfID       string
	st         State
	resolution string
	opened     bool
}

// Workflow is one work order.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	ctx = dbCtx(ctx)
	o := &order{in: in, wfID: workflow.GetInfo(ctx).WorkflowExecution.ID}
	if err := o.handlers(ctx); err != nil {
		return Result{}, err
	}
	faults := workflow.GetSignalChannel(ctx, SignalFault)
	if in.Carry != nil {
		o.st, o.opened = *in.Carry, true
	} else {
		first := in.First
		if first == nil {
			var f Fault
			faults.Receive(ctx, &f) // signal-with-start delivers it first
			first = &f
		}
		if err := o.open(ctx, *first); err != nil {
			return Result{}, err
		}
	}
	for o.st.Status != workorderdom.Closed {
		for {
			var f Fault
			if !faults.ReceiveAsync(&f) {
				break
			}
			if err := o.fault(ctx, f); err != nil {
				return Result{}, err
			}
		}
		if o.st.Status == workorderdom.Closed {
			break
		}
		for _, stage := range o.in.Policy.Due(workflow.Now(ctx), o.st.OpenedAt, o.st.Status, o.st.Sent) {
			if err := o.escalate(ctx, stage); err != nil {
				return Result{}, err
			}
		}
		if workflow.GetInfo(ctx).GetCurrentHistoryLength() > continueAfter && faults.Len() == 0 {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return Result{}, err
			}
			carry := o.st
			next := o.in
			next.Carry, next.First = &carry, nil
			return Result{}, workflow.NewContinueAsNewError(ctx, Workflow, next)
		}
		wake := func() bool { return o.st.Status == workorderdom.Closed || faults.Len() > 0 }
		if at, ok := o.in.Policy.Next(o.st.OpenedAt, o.st.Status, o.st.Sent); ok {
			if _, err := workflow.AwaitWithTimeout(ctx, max(at.Sub(workflow.Now(ctx)), time.Millisecond), wake); err != nil {
				return Result{}, err
			}
		} else if err := workflow.Await(ctx, wake); err != nil {
			return Result{}, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return Result{}, err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(workorderdom.Closed)); err != nil {
		return Result{}, err
	}
	// A fault that came in while the order was closing is a new order
	// (its signal would die with this run).
	var again Fault
	for faults.ReceiveAsync(&again) {
		if !again.Recovered {
			next := o.in
			next.Carry, next.First = nil, &again
			return Result{}, workflow.NewContinueAsNewError(ctx, Workflow, next)
		}
	}
	return Result{ID: o.st.ID, Resolution: o.resolution, Escalated: o.st.Sent}, nil
}

// dbCtx carries the database activities' options (Update handlers get a
// context without the workflow's).
func dbCtx(ctx workflow.Context) workflow.Context {
	return options.DB(ctx, workorderstore.ErrTypeConflict)
}

func (o *order) handlers(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAck, o.ack, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, a Ack) error {
			switch {
			case !maintenance(a.Roles):
				return ErrNotMaintenance
			case o.st.Status == workorderdom.Closed, a.WorkOrderID != "" && a.WorkOrderID != o.st.ID:
				return ErrClosed
			case o.st.Status == workorderdom.Acknowledged:
				return ErrAcknowledged
			}
			return nil
		}}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateResolve, o.resolve, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, r Resolve) error {
			switch {
			case !maintenance(r.Roles):
				return ErrNotMaintenance
			case r.Resolution == "":
				return ErrEmptyResolution
			case o.st.Status == workorderdom.Closed, r.WorkOrderID != "" && r.WorkOrderID != o.st.ID:
				return ErrClosed
			}
			return nil
		}})
}

func maintenance(roles []access.Role) bool {
	for _, r := range roles {
		if r == access.Maintenance || r == access.Admin {
			return true
		}
	}
	return false
}

func (o *order) open(ctx workflow.Context, f Fault) error {
	// The order's id is new per order; the workflow id is reused by the
	// charger's next order of the same fault.
	var id string
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return uuid.NewString() }).Get(&id); err != nil {
		return err
	}
	o.st = State{ID: id, Status: workorderdom.Open, OpenedAt: workflow.Now(ctx)}
	var opened workorderstore.Opened
	if err := openWorkOrder(ctx, workorderstore.OpenInput{ID: o.st.ID, WorkflowID: o.wfID,
		ChargePointID: o.in.ChargePointID, Connector: o.in.Connector, FaultKey: o.in.FaultKey, Source: o.in.Source,
		AlarmCode: f.AlarmCode, OCPPCode: f.OCPPCode, Title: o.in.Title, FaultID: f.FaultID, At: o.st.OpenedAt,
	}).Get(ctx, &opened); err != nil {
		return err
	}
	o.st.Project, o.st.ProjectID, o.opened = opened.ProjectCode, opened.ProjectID, true
	// A run continued from a closed order inherits its "closed" status.
	return workflow.UpsertTypedSearchAttributes(ctx, names.Project.ValueSet(opened.ProjectCode),
		names.Status.ValueSet(workorderdom.Open))
}

// fault records an episode starting again or recovering.
func (o *order) fault(ctx workflow.Context, f Fault) error {
	if err := recordWorkOrderFault(ctx, workorderstore.FaultInput{ID: o.st.ID, FaultID: f.FaultID,
		Recovered: f.Recovered, At: f.At}).Get(ctx, nil); err != nil {
		return err
	}
	if f.Recovered && o.in.Policy.AutoClose {
		return o.close(ctx, "", AutoResolution)
	}
	return nil
}

func (o *order) ack(ctx workflow.Context, a Ack) error {
	ctx = dbCtx(ctx)
	if err := workflow.Await(ctx, func() bool { return o.opened }); err != nil {
		return err
	}
	if o.st.Status != workorderdom.Open { // a concurrent update passed the validator first
		return ErrAcknowledged
	}
	if err := acknowledgeWorkOrder(ctx, workorderstore.AckInput{ID: o.st.ID, OperatorID: a.OperatorID,
		Note: a.Note, At: workflow.Now(ctx)}).Get(ctx, nil); err != nil {
		return err
	}
	o.st.Status = workorderdom.Acknowledged
	return nil
}

func (o *order) resolve(ctx workflow.Context, r Resolve) error {
	ctx = dbCtx(ctx)
	if err := workflow.Await(ctx, func() bool { return o.opened }); err != nil {
		return err
	}
	if o.st.Status == workorderdom.Closed {
		return ErrClosed
	}
	return o.close(ctx, r.OperatorID, r.Resolution)
}

func (o *order) close(ctx workflow.Context, operatorID, resolution string) error {
	if err := closeWorkOrder(ctx, workorderstore.CloseInput{ID: o.st.ID, OperatorID: operatorID,
		Resolution: resolution, At: workflow.Now(ctx)}).Get(ctx, nil); err != nil {
		return err
	}
	o.st.Status, o.resolution = workorderdom.Closed, resolution
	return nil
}

// escalate records the stage and texts its contacts. Each SMS is keyed by
// (workflow, order, stage, phone), so a retry sends nothing twice; a failed
// SMS is recorded in sms_messages and the order goes on.
func (o *order) escalate(ctx workflow.Context, stage string) error {
	var phones []string
	if err := escalateWorkOrder(ctx, workorderstore.EscalateInput{ID: o.st.ID, Stage: stage,
		At: workflow.Now(ctx)}).Get(ctx, &phones); err != nil {
		return err
	}
	o.st.Sent = append(o.st.Sent, stage)
	if len(phones) == 0 {
		return nil
	}
	projectID := o.st.ProjectID
	if projectID == "" {
		return nil // sms_messages needs a project; a charger without one has no contacts either
	}
	smsCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{smsstore.ErrTypeUndeliverable}},
	})
	values := map[string]string{"chargePointId": o.in.ChargePointID, "connector": fmt.Sprint(o.in.Connector),
		"title": o.in.Title, "workOrderId": o.st.ID}
	futures := make([]workflow.Future, len(phones))
	for i, p := range phones {
		futures[i] = sendSMS(smsCtx, smsstore.SendInput{ProjectID: projectID, WorkflowID: o.wfID,
			AlarmID: o.st.ID, Stage: stage, Recipient: p, Kind: SMSKind, MeterNo: o.in.ChargePointID,
			Template: "work_order_" + stage, Values: values})
	}
	for i, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("work order SMS not sent", "stage", stage, "recipient", phones[i], "error", err)
		}
	}
	return nil
}
