package activitylog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/voltflow/voltflow/internal/activitylog"
)

func TestLogger(t *testing.T) {
	tests := []struct {
		name       string
		inActivity bool
		want       []string
		wantNot    []string
	}{
		{"in an activity", true,
			[]string{"msg=hello", "WorkflowID=default-test-workflow-id", "RunID=default-test-run-id",
				"ActivityType=Greet", "Attempt=1", "ActivityID="}, nil},
		{"outside an activity", false, []string{"msg=hello"}, []string{"WorkflowID", "ActivityType"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			base := slog.New(slog.NewTextHandler(&buf, nil))
			greet := func(ctx context.Context) error {
				activitylog.Logger(ctx, base).Info("hello")
				return nil
			}
			if tt.inActivity {
				var s testsuite.WorkflowTestSuite
				env := s.NewTestActivityEnvironment()
				env.RegisterActivityWithOptions(greet, activity.RegisterOptions{Name: "Greet"})
				if _, err := env.ExecuteActivity("Greet"); err != nil {
					t.Fatal(err)
				}
			} else if err := greet(context.Background()); err != nil {
				t.Fatal(err)
			}
			line := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("log line %q lacks %q", line, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(line, w) {
					t.Errorf("log line %q has %q", line, w)
				}
			}
		})
	}
}
