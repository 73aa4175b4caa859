package aircon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	airconacts "github.com/voltflow/voltflow/activities/aircon"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/workflows/names"
)

func TestWorkflow(t *testing.T) {
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	past := Input{SystemID: "s1", ProjectCode: "demo", SystemCode: "AC-1", Period: "2026-10",
		From: time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC),
		NotBefore: time.Date(2026, 10, 31, 17, 0, 0, 0, time.UTC)}
	current := past
	current.Period, current.From, current.To, current.NotBefore = "2026-11", past.To,
		time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)
	ahead := current
	ahead.Period, ahead.From, ahead.To, ahead.NotBefore = "2026-12", current.To,
		time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)
	// The monthly Schedule's run: no period, started at 00:00 China time
	// on 1 Dec, bills December.
	scheduled := Input{SystemID: "s1", ProjectCode: "demo", SystemCode: "AC-1"}
	decFrom, decTo := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		start      time.Time
		in         Input
		refuse     bool
		wantPeriod string
		wantBounds []time.Time
		wantReads  []time.Time // when each bound was read
		wantStatus string
	}{
		{name: "scheduled: bills the month it starts in, read at its bounds", start: decFrom, in: scheduled,
			wantPeriod: "2026-12", wantBounds: []time.Time{decFrom, decTo}, wantReads: []time.Time{decFrom, decTo},
			wantStatus: StatusDone},
		{name: "period over: reads and allocates at once", in: past, wantReads: []time.Time{now, now}, wantStatus: StatusDone},
		{name: "period under way: opening at once, closing at its end", in: current,
			wantReads: []time.Time{now, current.To}, wantStatus: StatusDone},
		{name: "period ahead: reads at both bounds", in: ahead, wantReads: []time.Time{ahead.From, ahead.To}, wantStatus: StatusDone},
		{name: "refused: fails without retrying", in: past, refuse: true, wantReads: []time.Time{now, now}, wantStatus: StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.start.IsZero() {
				tt.start = now
			}
			if tt.wantPeriod == "" {
				tt.wantPeriod, tt.wantBounds = tt.in.Period, []time.Time{tt.in.From, tt.in.To}
			}
			var s testsuite.WorkflowTestSuite
			e := s.NewTestWorkflowEnvironment()
			e.SetStartTime(tt.start)
			e.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: Kind})
			e.RegisterActivity(&airconacts.Activities{})
			e.RegisterActivity(&airconacts.Devices{})
			if err := e.SetTypedSearchAttributesOnStart(names.Attributes("demo", Kind, "AC-1", StatusWaiting)); err != nil {
				t.Fatal(err)
			}
			var status string
			e.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(a mock.Arguments) {
				status, _ = a.Get(0).(temporal.SearchAttributes).GetKeyword(names.Status)
			})
			var reads []time.Time
			e.OnActivity("ReadAirconController", mock.Anything, mock.Anything).Return(
				func(ctx context.Context, in airconacts.ReadInput) (airconacts.ReadResult, error) {
					want := tt.wantBounds[len(reads)]
					if in.SystemID != "s1" || !in.Bound.Equal(want) {
						t.Errorf("read %+v, want bound %s", in, want)
					}
					reads = append(reads, e.Now())
					return airconacts.ReadResult{Units: 3, Stored: true}, nil
				})
			var allocatedAt time.Time
			e.OnActivity("AllocateAircon", mock.Anything, mock.Anything).Return(
				func(ctx context.Context, in airconacts.AllocateInput) (airconacts.AllocateResult, error) {
					allocatedAt = e.Now()
					if in.SystemID != "s1" || in.Period != tt.wantPeriod {
						t.Errorf("allocate %+v", in)
					}
					if tt.refuse {
						return airconacts.AllocateResult{}, temporal.NewNonRetryableApplicationError("no reading",
							airconacts.ErrRefused, nil)
					}
					return airconacts.AllocateResult{Booked: 3, Amount: money.MustParse("296.28")}, nil
				})
			e.ExecuteWorkflow(Kind, tt.in)
			if !e.IsWorkflowCompleted() {
				t.Fatal("not completed")
			}
			err := e.GetWorkflowError()
			var res Result
			if tt.refuse {
				var app *temporal.ApplicationError
				if !errors.As(err, &app) || app.Type() != airconacts.ErrRefused {
					t.Fatalf("error %v, want %s", err, airconacts.ErrRefused)
				}
			} else if err != nil || e.GetWorkflowResult(&res) != nil || res.Allocation.Booked != 3 || res.Closing.Units != 3 {
				t.Fatalf("result %+v, %v", res, err)
			}
			if len(reads) != 2 || !reads[0].Equal(tt.wantReads[0]) || !reads[1].Equal(tt.wantReads[1]) {
				t.Fatalf("read at %v, want %v", reads, tt.wantReads)
			}
			if notBefore := tt.wantBounds[1].Add(ClosingReadingLag); allocatedAt.Before(notBefore) {
				t.Fatalf("allocated at %s, before %s", allocatedAt, notBefore)
			}
			if status != tt.wantStatus {
				t.Fatalf("status %q, want %q", status, tt.wantStatus)
			}
		})
	}
	if id := WorkflowID("demo", "AC-1", "2026-11"); id != "aircon/demo.AC-1/2026-11" {
		t.Fatal(id)
	}
}

func TestPeriodAt(t *testing.T) {
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 30, 15, 59, 59, 0, time.UTC), "2026-11"},
		{time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), "2026-12"}, // 1 Dec 00:00 in China
		{time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), "2027-01"},
	}
	for _, tt := range tests {
		p, from, to := PeriodAt(tt.at)
		if p != tt.want || tt.at.Before(from) || !tt.at.Before(to) || from.In(time.UTC).Hour() != 16 {
			t.Errorf("PeriodAt(%s) = %s [%s, %s), want %s", tt.at, p, from, to, tt.want)
		}
	}
}
