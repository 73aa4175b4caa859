package workflows_test

import (
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/workflows"
)

// historiesDir holds recorded histories (README.md there says how they are
// recorded: `make record-histories`).
const historiesDir = "testdata/histories"

// replayRegistry registers workflows with a replayer through the same
// functions the workers use, so each registered type is replayed under the
// name workers give it; activities are not run in a replay and are
// dropped.
type replayRegistry struct {
	worker.WorkflowReplayer
	worker.NexusServiceRegistry // never called: no Nexus services
	types                       []string
}

func (r *replayRegistry) RegisterWorkflowWithOptions(w any, o workflow.RegisterOptions) {
	r.types = append(r.types, o.Name)
	r.WorkflowReplayer.RegisterWorkflowWithOptions(w, o)
}

func (r *replayRegistry) RegisterWorkflow(any) {
	panic("workflows are registered with a name (RegisterWorkflowWithOptions), so renaming a function cannot rename its type")
}

func (*replayRegistry) RegisterActivity(any)                                         {}
func (*replayRegistry) RegisterActivityWithOptions(any, activity.RegisterOptions)    {}
func (*replayRegistry) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {}
func (*replayRegistry) RegisterDynamicWorkflow(any, workflow.DynamicRegisterOptions) {}

// newReplayer registers every workflow of every worker (registry.go).
func newReplayer() *replayRegistry {
	r := &replayRegistry{WorkflowReplayer: worker.NewWorkflowReplayer()}
	workflows.RegisterMain(r, nil)
	workflows.RegisterDevicesWithHooks(r, nil, nil, workflows.DeviceHooks{})
	workflows.RegisterAlarms(r, nil, nil)
	workflows.RegisterAlarmConditions(r, nil)
	workflows.RegisterInterconnect(r, nil)
	workflows.RegisterChargers(r, nil, nil)
	workflows.RegisterCredit(r, nil, nil)
	workflows.RegisterPayments(r, nil, nil, nil)
	workflows.RegisterArchive(r, nil, "")
	return r
}

type recorded struct {
	file    string
	kind    string          // workflow type
	markers map[string]bool // GetVersion change ids in the history
	history *historypb.History
}

func loadHistories(t *testing.T) []recorded {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no histories in %s", historiesDir)
	}
	var out []recorded
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
		_ = r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rec := recorded{file: f, history: h, markers: map[string]bool{},
			kind: h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()}
		for _, e := range h.GetEvents() {
			if m := e.GetMarkerRecordedEventAttributes(); m != nil && m.GetMarkerName() == "Version" {
				for _, p := range m.GetDetails()["change-id"].GetPayloads() {
					rec.markers[strings.Trim(string(p.GetData()), `"`)] = true
				}
			}
		}
		out = append(out, rec)
	}
	return out
}

// TestReplayRecordedHistories replays every recorded history against the
// workflow code as registered now: a change that would break a running
// workflow (commands in another order, an activity added before a
// recorded one without GetVersion) fails here instead of in production.
func TestReplayRecordedHistories(t *testing.T) {
	r := newReplayer()
	for _, rec := range loadHistories(t) {
		t.Run(filepath.Base(rec.file), func(t *testing.T) {
			if err := r.ReplayWorkflowHistory(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), rec.history); err != nil {
				t.Fatalf("replay %s (%s): %v", rec.file, rec.kind, err)
			}
		})
	}
}

// TestEveryWorkflowTypeHasAHistory: a registered type with no recorded
// history would go unchecked by the replay test.
func TestEveryWorkflowTypeHasAHistory(t *testing.T) {
	have := map[string]bool{}
	for _, rec := range loadHistories(t) {
		have[rec.kind] = true
	}
	types := newReplayer().types
	if len(types) < 20 {
		t.Fatalf("only %d workflow types registered: %v", len(types), types)
	}
	for _, k := range types {
		if !have[k] {
			t.Errorf("workflow type %q has no history in %s: run `make record-histories` (README.md there)", k, historiesDir)
		}
	}
}

// getVersion finds the change ids of the GetVersion calls in the source.
var getVersion = regexp.MustCompile(`workflow\.GetVersion\(\w+, "([^"]+)"`)

// TestEveryVersionBranchHasHistoriesOnBothSides: for each GetVersion
// change id, one history of a workflow type records its marker (the new
// side) and another of the same type does not (the old side, recorded on
// the code from before the change).
func TestEveryVersionBranchHasHistoriesOnBothSides(t *testing.T) {
	ids := map[string]bool{}
	for _, root := range []string{".", "../interconnect"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			for _, m := range getVersion.FindAllSubmatch(b, -1) {
				ids[string(m[1])] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(ids) == 0 {
		t.Fatal("no GetVersion call found: is the source search broken?")
	}
	hs := loadHistories(t)
	var sorted []string
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	for _, id := range sorted {
		var newSide []string
		for _, h := range hs {
			if h.markers[id] && !slices.Contains(newSide, h.kind) {
				newSide = append(newSide, h.kind)
			}
		}
		if len(newSide) == 0 {
			t.Errorf("GetVersion %q: no history records its marker", id)
			continue
		}
		// The old side is named for the change: <type>.before-<id>.json.
		old := slices.ContainsFunc(hs, func(h recorded) bool {
			return strings.Contains(filepath.Base(h.file), ".before-"+id+".") && slices.Contains(newSide, h.kind) && !h.markers[id]
		})
		if !old {
			t.Errorf("GetVersion %q: no history of %v recorded before it (<type>.before-%s.json without its marker)", id, newSide, id)
		}
	}
}
