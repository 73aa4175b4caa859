package sweep_test

import (
	"testing"

	"github.com/voltflow/voltflow/activities/sweep"
)

func TestAppendFixed(t *testing.T) {
	for _, c := range []struct {
		v      int64
		places int
		want   string
	}{
		{0, 2, "0.00"}, {5, 2, "0.05"}, {-5, 2, "-0.05"}, {12345, 2, "123.45"}, {-12345, 3, "-12.345"},
		{2200, 1, "220.0"}, {10, 3, "0.010"}, {1005, 3, "1.005"}, {1050, 3, "1.050"}, {-1, 1, "-0.1"}, {7, 0, "7"}, {-7, 0, "-7"}, {100, 2, "1.00"}, {4294967295, 2, "42949672.95"},
	} {
		if got := string(sweep.AppendFixed([]byte("x"), c.v, c.places)); got != "x"+c.want {
			t.Errorf("appendFixed(%d, %d) = %q, want %q", c.v, c.places, got[1:], c.want)
		}
	}
}
