package alarm

import (
	"errors"
	"testing"
	"time"
)

func TestQuietHours(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := func(h, m int) time.Time { return time.Date(2026, 3, 1, h, m, 0, 0, cst) }
	tests := []struct {
		name    string
		hours   QuietHours
		due     time.Time
		want    time.Time
		wantErr bool
	}{
		{"across midnight, inside", QuietHours{"22:00", "07:00"}, at(23, 30), at(31, 0), false},
		{"across midnight, after midnight", QuietHours{"22:00", "07:00"}, at(6, 59), at(7, 0), false},
		{"across midnight, at the end", QuietHours{"22:00", "07:00"}, at(7, 0), at(7, 0), false},
		{"across midnight, outside", QuietHours{"22:00", "07:00"}, at(21, 59), at(21, 59), false},
		{"same day", QuietHours{"12:30", "14:00"}, at(13, 0), at(14, 0), false},
		{"none", QuietHours{"00:00", "00:00"}, at(3, 0), at(3, 0), false},
		{"hour out of range", QuietHours{"24:00", "07:00"}, time.Time{}, time.Time{}, true},
		{"not zero-padded", QuietHours{"7:00", "22:00"}, time.Time{}, time.Time{}, true},
		{"empty", QuietHours{"22:00", ""}, time.Time{}, time.Time{}, true},
		{"seconds", QuietHours{"22:00:00", "07:00"}, time.Time{}, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := tt.hours.Quiet(480)
			if tt.wantErr {
				if !errors.Is(err, ErrQuietHours) {
					t.Fatalf("err %v, want ErrQuietHours", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Until(tt.due); !got.Equal(tt.want) {
				t.Fatalf("until %s, want %s", got.In(cst), tt.want)
			}
			if back := q.Hours(); back != tt.hours {
				t.Fatalf("hours %+v, want %+v", back, tt.hours)
			}
		})
	}
}
