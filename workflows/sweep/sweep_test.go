package sweep_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	sweepacts "github.com/voltflow/voltflow/activities/sweep"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

func TestSweepBatchesGatewaysAndSumsResults(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var acts *sweepacts.Activities
	ids := []string{"g1", "g2", "g3", "g4", "g5"}
	env.OnActivity(acts.SweepGateways, mock.Anything, sweepacts.GatewaysInput{ProjectID: "p1"}).
		Return(sweepacts.GatewaysResult{GatewayIDs: ids, Meters: 160}, nil)

	var mu sync.Mutex
	var batches [][]string
	var ats []time.Time
	env.OnActivity(acts.SweepBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in sweepacts.BatchInput) (sweepacts.BatchResult, error) {
			mu.Lock()
			defer mu.Unlock()
			batches = append(batches, in.GatewayIDs)
			ats = append(ats, in.At)
			n := len(in.GatewayIDs)
			return sweepacts.BatchResult{Gateways: n, Meters: 32 * n, Read: 32*n - 1, Failed: 1}, nil
		})

	env.ExecuteWorkflow(sweepwf.Workflow, sweepwf.Input{ProjectID: "p1", ProjectCode: "demo", BatchSize: 2, Parallel: 2})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res sweepwf.Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Batches != 3 || res.Gateways != 5 || res.Meters != 160 || res.Read != 157 || res.Failed != 3 {
		t.Fatalf("result %+v", res)
	}
	if len(batches) != 3 || len(batches[0])+len(batches[1])+len(batches[2]) != 5 {
		t.Fatalf("batches %v, want 3 covering 5 gateways", batches)
	}
	seen := map[string]bool{}
	for _, b := range batches {
		if len(b) > 2 {
			t.Fatalf("batch %v larger than 2", b)
		}
		for _, id := range b {
			if seen[id] {
				t.Fatalf("gateway %s in two batches", id)
			}
			seen[id] = true
		}
	}
	// Every batch carries the same slot, the workflow's start to the second.
	for _, at := range ats {
		if !at.Equal(res.At) || at.Nanosecond() != 0 || at.IsZero() {
			t.Fatalf("batch slot %v, sweep slot %v", at, res.At)
		}
	}
}

func TestSweepFailsWhenABatchCannotBeWritten(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var acts *sweepacts.Activities
	env.OnActivity(acts.SweepGateways, mock.Anything, mock.Anything).
		Return(sweepacts.GatewaysResult{GatewayIDs: []string{"g1", "g2", "g3"}}, nil)
	var calls atomic.Int32 // batches run concurrently
	env.OnActivity(acts.SweepBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in sweepacts.BatchInput) (sweepacts.BatchResult, error) {
			calls.Add(1)
			if in.GatewayIDs[0] == "g2" {
				return sweepacts.BatchResult{}, temporal.NewNonRetryableApplicationError("database gone", "test", nil)
			}
			return sweepacts.BatchResult{Gateways: 1}, nil
		})
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	env.ExecuteWorkflow(sweepwf.Workflow, sweepwf.Input{ProjectID: "p1", ProjectCode: "demo", At: at, BatchSize: 1, Parallel: 3})
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Message() != "database gone" {
		t.Fatalf("workflow error %v, want the batch's", err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d batches ran, want all 3 (one failure does not stop the others)", n)
	}
}

func TestMeterReadRunsTheOneMeterActivity(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var acts *sweepacts.Activities
	env.OnActivity(acts.SweepMeter, mock.Anything, sweepacts.MeterInput{ProjectID: "p1", MeterID: "m1"}).
		Return(sweepacts.MeterReading{MeterNo: "M0001", PurchaseCount: 3}, nil).Once()
	env.ExecuteWorkflow(sweepwf.MeterRead, sweepwf.MeterReadInput{ProjectID: "p1", MeterID: "m1", MeterNo: "M0001"})
	var r sweepacts.MeterReading
	if err := env.GetWorkflowResult(&r); err != nil || r.PurchaseCount != 3 {
		t.Fatalf("reading %+v, %v", r, err)
	}
	env.AssertExpectations(t)
}
