package push

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/workflows/names"
)

// Starter starts and signals push workflows.
type Starter struct {
	Temporal client.Client
	// Project is the VoltflowProject search attribute of the workflows.
	Project string
	// Input is the template for new workflows (StationID is filled in).
	Input Input
}

func (s *Starter) options(stationID string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       WorkflowID(stationID),
		TaskQueue:                names.InterconnectQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    names.Attributes(s.Project, Kind, stationID, "running"),
	}
}

func (s *Starter) input(stationID string) Input {
	in := s.Input
	in.StationID = stationID
	in.Queued = nil
	return in
}

// Notify tells the station's workflow about a recorded change, starting the
// workflow if it is not running. If Notify fails the push is still in the
// outbox; the workflow's periodic sweep finds it.
func (s *Starter) Notify(ctx context.Context, ch Change) error {
	_, err := s.Temporal.SignalWithStartWorkflow(ctx, WorkflowID(ch.StationID), SignalStatusChanged,
		Pending{PushID: ch.PushID, ConnectorID: ch.ConnectorID}, s.options(ch.StationID), Kind, s.input(ch.StationID))
	if err != nil {
		return fmt.Errorf("signal %s: %w", WorkflowID(ch.StationID), err)
	}
	return nil
}

// ChangeStatus records a connector status change with its push and signals
// the station's workflow: what a charging integration calls on every change.
func (s *Starter) ChangeStatus(ctx context.Context, db *store.DB, regulator string, info registry.ConnectorStatusInfo, at time.Time) (Change, error) {
	ch, err := RecordStatusChange(ctx, db, regulator, info, at)
	if err != nil {
		return Change{}, err
	}
	return ch, s.Notify(ctx, ch)
}

// SetFrequency signals every station's workflow to push at a new cadence
// (query_frequency); workflows not running pick it up from the database.
func (s *Starter) SetFrequency(ctx context.Context, db *store.DB, seconds int) error {
	ids, err := registry.StationIDs(ctx, db)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.Temporal.SignalWorkflow(ctx, WorkflowID(id), "", SignalFrequency, seconds); err != nil {
			// A station without a running workflow reads the setting when it starts.
			continue
		}
	}
	return nil
}

// EnsureRunning starts a push workflow for every station that has none, so
// periodic reports flow without any change.
func (s *Starter) EnsureRunning(ctx context.Context, db *store.DB) error {
	ids, err := registry.StationIDs(ctx, db)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.Temporal.ExecuteWorkflow(ctx, s.options(id), Kind, s.input(id)); err != nil {
			return fmt.Errorf("start %s: %w", WorkflowID(id), err)
		}
	}
	return nil
}

// Alarm records an alarm with its push and signals the station's workflow
// (RecordAlarm + Notify): what a charger-fault hook calls.
func (s *Starter) Alarm(ctx context.Context, db *store.DB, regulator string, a registry.AlarmInfo, at time.Time) (Change, error) {
	ch, err := RecordAlarm(ctx, db, regulator, a, at)
	if err != nil {
		return Change{}, err
	}
	return ch, s.Notify(ctx, ch)
}

// Event records a station event with its push and signals the workflow.
func (s *Starter) Event(ctx context.Context, db *store.DB, regulator string, e registry.EventInfo, at time.Time) (Change, error) {
	ch, err := RecordEvent(ctx, db, regulator, e, at)
	if err != nil {
		return Change{}, err
	}
	return ch, s.Notify(ctx, ch)
}

// BMS records a BMS sample with its push and signals the workflow.
func (s *Starter) BMS(ctx context.Context, db *store.DB, regulator, connectorID string, b registry.BmsInfo, at time.Time) (Change, error) {
	ch, err := RecordBMS(ctx, db, regulator, connectorID, b, at)
	if err != nil {
		return Change{}, err
	}
	return ch, s.Notify(ctx, ch)
}

// StationInfo records a station's info messages after a registry change
// and signals the workflow for each page.
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
