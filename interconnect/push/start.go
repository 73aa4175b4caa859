package push

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/workflows/names"
)

// Starter records pushes and keeps the regulator's pump running.
type Starter struct {
	Temporal client.Client
	// Project is the VoltflowProject search attribute of the workflows.
	Project string
	// Input's Cadence and RetryMaxInterval configure the pump unless Pump
	// sets them.
	Input Input
	// Pump configures the pump workflow.
	Pump PumpInput
	// Regulator whose pump runs (DefaultRegulator when empty).
	Regulator string

	started atomic.Bool // the pump workflow was started (or found running)

	mu       sync.Mutex
	batchers map[string]*Batcher // by regulator
}

// batcher is the group-commit recorder of regulator's status changes.
func (s *Starter) batcher(db *store.DB, regulator string) *Batcher {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.batchers[regulator]
	if b == nil || b.DB != db {
		if s.batchers == nil {
			s.batchers = map[string]*Batcher{}
		}
		b = &Batcher{DB: db, Regulator: regulator}
		s.batchers[regulator] = b
	}
	return b
}

func (s *Starter) regulator() string {
	if s.Regulator == "" {
		return DefaultRegulator
	}
	return s.Regulator
}

func (s *Starter) pumpInput() PumpInput {
	in := s.Pump
	if in.Cadence <= 0 {
		in.Cadence = s.Input.Cadence
	}
	if in.RetryMaxInterval <= 0 {
		in.RetryMaxInterval = s.Input.RetryMaxInterval
	}
	return in
}

// StartPump starts the regulator's pump workflow unless it is running.
func (s *Starter) StartPump(ctx context.Context) error {
	id := PumpWorkflowID(s.regulator())
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                names.InterconnectQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    names.Attributes(s.Project, KindPump, s.regulator(), "running"),
	}, KindPump, s.pumpInput())
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	s.started.Store(true)
	return nil
}

// Notify makes sure the pump runs after a change was recorded: the first
// call starts the pump workflow, later ones cost nothing (the outbox row's
// insert trigger wakes the pump). If Notify fails the push is still in the
// outbox; the pump sends it once it runs.
func (s *Starter) Notify(ctx context.Context, _ Change) error {
	if s.started.Load() {
		return nil
	}
	return s.StartPump(ctx)
}

// ChangeStatus records a connector status change with its push (the pump
// sends it): what a charging integration calls on every change. Concurrent
// calls are committed together (Batcher); each returns once its change is.
// An error with a non-zero PushID means recorded, but the pump could not
// be started (it sends the push once it runs).
func (s *Starter) ChangeStatus(ctx context.Context, db *store.DB, regulator string, info registry.ConnectorStatusInfo, at time.Time) (Change, error) {
	chs, err := s.ChangeStatuses(ctx, db, regulator, []StatusChange{{Info: info, At: at}})
	return chs[0], err
}

// ChangeStatuses records a group of status changes with their pushes, in
// the order given and together (Batcher.RecordAll): a charge point's
// connectors changing at once. A failed change's Change has a zero PushID;
// an error with every PushID non-zero means all recorded, but the pump
// could not be started (it sends the pushes once it runs).
func (s *Starter) ChangeStatuses(ctx context.Context, db *store.DB, regulator string, changes []StatusChange) ([]Change, error) {
	chs, err := s.batcher(db, regulator).RecordAll(ctx, changes)
	for _, ch := range chs {
		if ch.PushID != 0 {
			// Recorded ones are sent once the pump runs, whatever failed.
			return chs, errors.Join(err, s.Notify(ctx, ch))
		}
	}
	return chs, err
}

// SetFrequency is called after the regulator set a new push cadence
// (query_frequency, stored in regulator_settings): the pump reads it from
// there within one cadence, so nothing needs telling.
func (s *Starter) SetFrequency(context.Context, *store.DB, int) error { return nil }

// EnsureRunning starts the pump and terminates the legacy per-station push
// workflows (type Kind) of the project still running, so each push has one
// sender. Termination needs no workflow task, so it ends runs whose old
// code is gone (the type now runs Retired); what they had queued is
// pending in the outbox, where the pump sends it.
func (s *Starter) EnsureRunning(ctx context.Context, _ *store.DB) error {
	if err := s.StartPump(ctx); err != nil {
		return err
	}
	return s.TerminateLegacy(ctx)
}

// TerminateLegacy terminates every running legacy per-station push
// workflow of the project, found by type in visibility (not by station, so
// a station since removed from the registry is not missed).
func (s *Starter) TerminateLegacy(ctx context.Context) error {
	query := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", Kind)
	if s.Project != "" {
		query += fmt.Sprintf(" AND %s = '%s'", names.Project.GetName(), strings.ReplaceAll(s.Project, "'", "''"))
	}
	var token []byte
	for {
		resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: query, NextPageToken: token})
		if err != nil {
			return fmt.Errorf("list legacy push workflows: %w", err)
		}
		for _, e := range resp.Executions {
			id := e.GetExecution().GetWorkflowId()
			err := s.Temporal.TerminateWorkflow(ctx, id, "", "replaced by the regulator pump")
			var nf *serviceerror.NotFound
			if err != nil && !errors.As(err, &nf) {
				return fmt.Errorf("terminate legacy %s: %w", id, err)
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return nil
		}
	}
}

// Alarm records an alarm with its push and makes sure the pump runs
// (RecordAlarm + Notify): what a charger-fault hook calls.
func (s *Starter) Alarm(ctx context.Context, db *store.DB, regulator string, a registry.AlarmInfo, at time.Time) (Change, error) {
	ch, err := RecordAlarm(ctx, db, regulator, a, at)
	if err != nil {
		return Change{}, err
	}
	return ch, s.Notify(ctx, ch)
}

// Event records a station event with its push (see Notify).
func (s *Starter) Event(ctx context.Context, db *store.DB, regulator string, e registry.EventInfo, at time.Time) (Change, error) {
	ch, err := RecordEvent(ctx, db, regulator, e, at)
	if err != nil {
		return Change{}, err
	}
	return ch, s.Notify(ctx, ch)
}

// BMS records a BMS sample with its push (see Notify).
func (s *Starter) BMS(ctx context.Context, db *store.DB, regulator, connectorID string, b registry.BmsInfo, at time.Time) (Change, error) {
	ch, err := RecordBMS(ctx, db, regulator, connectorID, b, at)
	if err != nil {
		return Change{}, err
	}
	return ch, s.Notify(ctx, ch)
}

// StationInfo records a station's info messages after a registry change
// (see Notify).
func (s *Starter) StationInfo(ctx context.Context, db *store.DB, regulator, stationID string, at time.Time) ([]Change, error) {
	chs, err := RecordStationInfo(ctx, db, regulator, stationID, at)
	if err != nil {
		return nil, err
	}
	for _, ch := range chs {
		if err := s.Notify(ctx, ch); err != nil {
			return chs, err
		}
	}
	return chs, nil
}
