package clock_test

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/clock"
)

func TestClock(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	fake := clock.NewFake(at)
	tests := []struct {
		name  string
		clock clock.Clock
		want  func(got time.Time) bool
	}{
		{"zero is real", clock.Clock{}, func(got time.Time) bool { return time.Since(got).Abs() < time.Minute }},
		{"nil func is real", clock.Func(nil), func(got time.Time) bool { return time.Since(got).Abs() < time.Minute }},
		{"fixed", clock.Fixed(at), func(got time.Time) bool { return got.Equal(at) }},
		{"fake", fake.Clock(), func(got time.Time) bool { return got.Equal(at) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.clock.Now(); !tt.want(got) {
				t.Errorf("Now() = %v", got)
			}
		})
	}
}

func TestFakeMoves(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	fake := clock.NewFake(at)
	c := fake.Clock()
	fake.Advance(90 * time.Second)
	if got, want := c.Now(), at.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("after Advance: %v, want %v", got, want)
	}
	fake.Set(at)
	if got := c.Now(); !got.Equal(at) {
		t.Errorf("after Set: %v, want %v", got, at)
	}
}
