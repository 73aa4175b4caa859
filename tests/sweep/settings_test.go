package sweep

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

// TestReadingIntervalUpdatesSchedule changes the demo project's reading
// interval through the API and reads the Schedule's spec back from
// Temporal: the new interval is in force without a restart.
func TestReadingIntervalUpdatesSchedule(t *testing.T) {
	ctx := context.Background()
	h := stack.Temporal.ScheduleClient().GetHandle(ctx, sweepwf.ScheduleID("demo"))
	eventually.True(t, 30*time.Second, "schedule created by the worker", func() (bool, string) {
		_, err := h.Describe(ctx)
		return err == nil, fmt.Sprint(err)
	})
	c := stack.Login(t, "admin", "admin")
	put := func(t *testing.T, every string) {
		t.Helper()
		body := map[string]any{"readingInterval": every, "autoApproveUpTo": "500.00", "alarm1": "0.00", "alarm2": "0.00"}
		if code, b, _ := c.DoRaw(t, http.MethodPut, "/api/v1/projects/demo/settings", body); code != http.StatusOK {
			t.Fatalf("PUT settings %s: %d %s", every, code, b)
		}
	}
	// Back to the interval the other tests of this package expect.
	t.Cleanup(func() { put(t, interval.String()) })
	for _, every := range []time.Duration{7 * time.Second, 3 * time.Minute} {
		put(t, every.String())
		desc, err := h.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := desc.Schedule.Spec.Intervals; len(got) != 1 || got[0].Every != every {
			t.Fatalf("after PUT readingInterval %s the schedule's intervals are %+v", every, got)
		}
	}
}
