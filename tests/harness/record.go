package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// RecordEnv names the directory end-to-end packages write workflow
// histories to, for the replay tests (workflows/replay_test.go): `make
// record-histories` sets it.
const RecordEnv = "VOLTFLOW_RECORD_HISTORIES"

// Bounds of a recording: histories looked at per workflow type, and the
// longest history kept (a replay test replays every file on each run).
const (
	recordPerType   = 25
	recordMaxEvents = 3000
)

// recordHistories writes, for each workflow type the package ran, the
// history that exercises the most kinds of events and version markers
// (the shortest among equals) to dir/<type>.json, unless the file there
// already holds a richer one (several packages run the same types).
func (s *Stack) recordHistories(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	byType := map[string][]*executionRef{}
	var token []byte
	for {
		resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: "default", PageSize: 1000, NextPageToken: token})
		if err != nil {
			return fmt.Errorf("list workflows: %w", err)
		}
		for _, e := range resp.Executions {
			t := e.GetType().GetName()
			byType[t] = append(byType[t], &executionRef{id: e.GetExecution().GetWorkflowId(),
				runID: e.GetExecution().GetRunId(), status: e.GetStatus()})
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	for t, refs := range byType {
		// Closed runs first: a finished history shows the whole timeline.
		sort.SliceStable(refs, func(i, j int) bool { return closedRank(refs[i].status) < closedRank(refs[j].status) })
		var best *historypb.History
		for _, r := range refs[:min(len(refs), recordPerType)] {
			h, err := s.history(ctx, r.id, r.runID)
			if err != nil {
				return err
			}
			if len(h.Events) <= recordMaxEvents && richer(h, best) {
				best = h
			}
		}
		if best == nil {
			continue
		}
		path := filepath.Join(dir, t+".json")
		if old, err := readHistory(path); err == nil && !richer(best, old) {
			continue
		}
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(best)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			return err
		}
		s.Log.Warn("recorded workflow history", "type", t, "events", len(best.Events), "file", path)
	}
	return nil
}

type executionRef struct {
	id, runID string
	status    enumspb.WorkflowExecutionStatus
}

func closedRank(st enumspb.WorkflowExecutionStatus) int {
	switch st {
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return 0
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return 2
	}
	return 1
}

func (s *Stack) history(ctx context.Context, id, runID string) (*historypb.History, error) {
	it := s.Temporal.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		h.Events = append(h.Events, e)
	}
	return h, nil
}

func readHistory(path string) (*historypb.History, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	h := &historypb.History{}
	return h, protojson.Unmarshal(b, h)
}

// richer says whether a covers more of the workflow than b: more kinds of
// events and version markers, or as many in fewer events.
func richer(a, b *historypb.History) bool {
	if b == nil {
		return true
	}
	ka, kb := kinds(a), kinds(b)
	if ka != kb {
		return ka > kb
	}
	return len(a.Events) < len(b.Events)
}

func kinds(h *historypb.History) int {
	seen := map[string]bool{}
	for _, e := range h.Events {
		k := e.GetEventType().String()
		if m := e.GetMarkerRecordedEventAttributes(); m != nil {
			if id, ok := m.GetDetails()["change-id"]; ok {
				k += "/" + strings.Join(payloadData(id.GetPayloads()), ",")
			}
		}
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			k += "/" + a.GetActivityType().GetName()
		}
		seen[k] = true
	}
	return len(seen)
}

func payloadData(ps []*commonpb.Payload) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p.GetData()))
	}
	return out
}
