package allowance

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	allowancestore "github.com/voltflow/voltflow/store/allowance"
	rechargewf "github.com/voltflow/voltflow/workflows/recharge"
)

// fakeMonth is a project's due meters and the grants made, in memory: the
// store's keyset paging and once-per-meter grant, without the database
// (the end-to-end test in tests/allowance runs the real one).
type fakeMonth struct {
	mu      sync.Mutex
	ids     []string
	granted map[string]int
	pages   int
}

func (f *fakeMonth) due(_ context.Context, in allowancestore.DueInput) (allowancestore.DueResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages++
	var out allowancestore.DueResult
	for _, id := range f.ids {
		if id > in.After && f.granted[id] == 0 && len(out.MeterIDs) < in.Limit {
			out.MeterIDs = append(out.MeterIDs, id)
		}
	}
	return out, nil
}

func (f *fakeMonth) grant(_ context.Context, in allowancestore.BatchInput) (allowancestore.BatchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out allowancestore.BatchResult
	for _, id := range in.MeterIDs {
		f.granted[id]++
		out.Granted = append(out.Granted, allowancestore.Granted{MeterID: id, MeterNo: id, RechargeID: id,
			WorkflowID: "recharge/" + id, Status: rechargedom.Approved, Created: f.granted[id] == 1})
	}
	return out, nil
}

func TestPagesAndContinuesAsNew(t *testing.T) {
	const meters, page = 1200, 100
	f := &fakeMonth{granted: map[string]int{}}
	for i := range meters {
		f.ids = append(f.ids, fmt.Sprintf("00000000-0000-0000-0000-%012d", i))
	}
	sort.Strings(f.ids)
	var recharges sync.Map
	in := Input{ProjectID: "p", ProjectCode: "demo", Period: "2026-11", PageSize: page, PagesPerRun: 3}
	var s testsuite.WorkflowTestSuite
	runs := 0
	var res Result
	for {
		runs++
		if runs > 20 {
			t.Fatal("the month never finished")
		}
		env := s.NewTestWorkflowEnvironment()
		env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: Kind})
		env.RegisterWorkflowWithOptions(func(ctx workflow.Context, r rechargewf.Input) error {
			if _, dup := recharges.LoadOrStore(r.MeterID, true); dup {
				return fmt.Errorf("recharge of %s started twice", r.MeterID)
			}
			return nil
		}, workflow.RegisterOptions{Name: rechargewf.Kind})
		env.RegisterActivityWithOptions(f.due, activity.RegisterOptions{Name: "DueAllowances"})
		env.RegisterActivityWithOptions(f.grant, activity.RegisterOptions{Name: "GrantAllowances"})
		env.ExecuteWorkflow(Kind, in)
		if !env.IsWorkflowCompleted() {
			t.Fatal("run did not complete")
		}
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			var next Input
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
				t.Fatal(err)
			}
			if next.After == "" || next.Sofar == nil {
				t.Fatalf("continued without its cursor or counts: %+v", next)
			}
			in = next
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		break
	}
	// 12 full pages and an empty 13th, 3 a run: 5 runs.
	if runs != 5 || f.pages != 13 {
		t.Errorf("runs %d, pages %d; want 5 and 13", runs, f.pages)
	}
	for _, id := range f.ids {
		if f.granted[id] != 1 {
			t.Fatalf("meter %s granted %d times", id, f.granted[id])
		}
	}
	n := 0
	recharges.Range(func(_, _ any) bool { n++; return true })
	want := Result{Period: "2026-11", Due: meters, Granted: meters, Done: meters, Started: meters}
	if res != want || n != meters {
		t.Errorf("result %+v, %d recharges; want %+v, %d", res, n, want, meters)
	}
}
