package sweep_test

import (
	"testing"
	"time"

	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

func TestProjectInterval(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name    string
		setting *string
		want    time.Duration
		err     bool
	}{
		{"unset: the server's", nil, 15 * time.Minute, false},
		{"the project's own", str("5m0s"), 5 * time.Minute, false},
		{"unreadable", str("often"), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sweepwf.ProjectInterval(tt.setting, 15*time.Minute)
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("ProjectInterval = %v, %v; want %v, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}
