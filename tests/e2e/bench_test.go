package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/internal/eventually"
)

const benchConcurrency = 64

// BenchmarkRechargeEndToEnd: recharges per second through the HTTP API,
// approval policy, ledger, Modbus dispatch and confirmation, on the local
// stack (PostgreSQL, embedded Temporal on PostgreSQL, worker process).
func BenchmarkRechargeEndToEnd(b *testing.B) {
	cashier := stack.Login(b, "cashier", "cashier")
	run := time.Now().UnixNano()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range benchConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				meter := fmt.Sprintf("M%04d", 15+i%110) // M0015–M0124, clear of the tests' meters
				body := fmt.Sprintf(`{"meterNo":%q,"amount":"1.00","transactionNo":"bench-%d-%d"}`, meter, run, i)
				if code := cashier.Do(b, "POST", "/api/v1/recharges", body, nil); code != 202 {
					b.Errorf("create: %d", code)
					return
				}
			}
		}()
	}
	wg.Wait()
	eventually.True(b, 10*time.Minute, "all bench recharges completed", func() (bool, string) {
		var done int
		_ = stack.DB.QueryRow(context.Background(), `select count(*) from recharges where status='completed' and transaction_no like $1`,
			fmt.Sprintf("bench-%d-%%", run)).Scan(&done)
		return done == b.N, fmt.Sprint(done, "/", b.N)
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "recharges/s")
}

func bareWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteActivity(ctx, bareActivity).Get(ctx, nil)
}

func bareActivity(context.Context) error { return nil }

// BenchmarkBareWorkflow: a workflow with one no-op activity on the same
// server, the baseline for the recharge number.
func BenchmarkBareWorkflow(b *testing.B) {
	const queue = "bench-bare"
	w := worker.New(stack.Temporal, queue, worker.Options{})
	w.RegisterWorkflow(bareWorkflow)
	w.RegisterActivity(bareActivity)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	var next atomic.Int64
	run := time.Now().UnixNano()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range benchConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				run, err := stack.Temporal.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
					ID: fmt.Sprintf("bench-bare/%d-%d", run, i), TaskQueue: queue}, bareWorkflow)
				if err == nil {
					err = run.Get(context.Background(), nil)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "workflows/s")
}
