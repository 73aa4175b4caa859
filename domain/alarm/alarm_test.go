package alarm

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

func TestThresholdsAndDeepest(t *testing.T) {
	th, err := Thresholds(money.MustParse("20.00"), DefaultRatios())
	if err != nil {
		t.Fatal(err)
	}
	if len(th) != 3 || th[0].String() != "20.00" || th[1].String() != "10.00" || th[2].String() != "4.00" {
		t.Fatalf("thresholds %v", th)
	}
	odd, _ := Thresholds(money.MustParse("0.05"), []string{"0.5"})
	if odd[0].String() != "0.03" { // 0.025 rounds half away from zero
		t.Fatalf("0.05 × 0.5 = %s, want 0.03", odd[0])
	}
	for _, c := range []struct {
		remaining string
		want      int
	}{{"20.01", -1}, {"20.00", 0}, {"10.01", 0}, {"10.00", 1}, {"4.00", 2}, {"-3.00", 2}} {
		if got := Deepest(money.MustParse(c.remaining), th); got != c.want {
			t.Errorf("Deepest(%s) = %d, want %d", c.remaining, got, c.want)
		}
	}
	if _, err := Thresholds(money.MustParse("20.00"), []string{"1.5"}); err == nil {
		t.Fatal("ratio 1.5 accepted")
	}
}

func TestQuietUntil(t *testing.T) {
	q := Quiet{Start: 22 * 60, End: 8 * 60, OffsetMinutes: 480}
	cst := time.FixedZone("CST", 8*3600)
	for _, c := range []struct{ at, want time.Time }{
		{time.Date(2026, 3, 1, 12, 0, 0, 0, cst), time.Date(2026, 3, 1, 12, 0, 0, 0, cst)},
		{time.Date(2026, 3, 1, 22, 0, 0, 0, cst), time.Date(2026, 3, 2, 8, 0, 0, 0, cst)},
		{time.Date(2026, 3, 2, 3, 30, 0, 0, cst), time.Date(2026, 3, 2, 8, 0, 0, 0, cst)},
		{time.Date(2026, 3, 2, 8, 0, 0, 0, cst), time.Date(2026, 3, 2, 8, 0, 0, 0, cst)},
	} {
		if got := q.Until(c.at); !got.Equal(c.want) {
			t.Errorf("Until(%s) = %s, want %s", c.at, got.In(cst), c.want)
		}
	}
	if none := (Quiet{}); !none.Until(time.Date(2026, 3, 1, 23, 0, 0, 0, cst)).Equal(time.Date(2026, 3, 1, 23, 0, 0, 0, cst)) {
		t.Fatal("no quiet hours still waited")
	}
}
