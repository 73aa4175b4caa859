package sweep

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
	alarmwf "github.com/voltflow/voltflow/workflows/alarm"
)

// TestAlarmScanIntervalUpdatesSchedule changes the demo project's alarm
// scan interval through the API and reads the scan Schedule's spec back
// from Temporal; null brings back the server's interval. A refused value
// leaves the Schedule as it was.
func TestAlarmScanIntervalUpdatesSchedule(t *testing.T) {
	ctx := context.Background()
	h := stack.Temporal.ScheduleClient().GetHandle(ctx, alarmwf.ScanScheduleID("demo"))
	eventually.True(t, 30*time.Second, "scan schedule created by the worker", func() (bool, string) {
		_, err := h.Describe(ctx)
		return err == nil, fmt.Sprint(err)
	})
	c := stack.Login(t, "admin", "admin")
	put := func(t *testing.T, every any) (int, []byte) {
		t.Helper()
		body := map[string]any{"readingInterval": interval.String(), "autoApproveUpTo": "500.00", "alarm1": "0.00",
			"alarm2": "0.00", "alarmScanInterval": every}
		code, b, _ := c.DoRaw(t, http.MethodPut, "/api/v1/projects/demo/settings", body)
		return code, b
	}
	every := func(t *testing.T) time.Duration {
		t.Helper()
		desc, err := h.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := desc.Schedule.Spec.Intervals; len(got) == 1 {
			return got[0].Every
		}
		t.Fatalf("scan schedule intervals %+v", desc.Schedule.Spec.Intervals)
		return 0
	}
	t.Cleanup(func() { put(t, nil) })
	for _, want := range []time.Duration{45 * time.Second, 2 * time.Hour} {
		if code, b := put(t, want.String()); code != http.StatusOK {
			t.Fatalf("PUT alarmScanInterval %s: %d %s", want, code, b)
		}
		if got := every(t); got != want {
			t.Fatalf("after PUT alarmScanInterval %s the scan schedule runs every %s", want, got)
		}
	}
	if code, b := put(t, "0s"); code != http.StatusUnprocessableEntity {
		t.Fatalf("PUT alarmScanInterval 0s: %d %s, want 422", code, b)
	}
	if got := every(t); got != 2*time.Hour {
		t.Fatalf("a refused PUT changed the scan schedule to %s", got)
	}
	if code, b := put(t, nil); code != http.StatusOK {
		t.Fatalf("PUT alarmScanInterval null: %d %s", code, b)
	}
	// The server process inherits this process's environment.
	if got, want := every(t), alarmwf.ScanIntervalFromEnv(os.Getenv); got != want {
		t.Fatalf("unset: the scan schedule runs every %s, want the server's %s", got, want)
	}
}
