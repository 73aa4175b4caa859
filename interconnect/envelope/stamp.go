package envelope

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/voltflow/voltflow/internal/clock"
)

// TimeStampLayout is yyyyMMddHHmmss in Go layout form.
const TimeStampLayout = "20060102150405"

// chinaTime is UTC+8. The standard is Chinese and names no zone, so
// timestamps are taken as Beijing time; a fixed zone avoids depending on the
// host's tzdata (China has had no DST since 1991).
var chinaTime = time.FixedZone("CST", 8*60*60)

// FormatTimeStamp renders t in Beijing time as yyyyMMddHHmmss.
func FormatTimeStamp(t time.Time) string {
	return t.In(chinaTime).Format(TimeStampLayout)
}

// ParseTimeStamp parses yyyyMMddHHmmss as Beijing time. It insists on
// exactly 14 digits because time.Parse accepts one-digit hours.
func ParseTimeStamp(s string) (time.Time, error) {
	if !isDigits(s, len(TimeStampLayout)) {
		return time.Time{}, fmt.Errorf("envelope: TimeStamp %q is not 14 digits: %w", s, ErrMalformed)
	}
	t, err := time.ParseInLocation(TimeStampLayout, s, chinaTime)
	if err != nil {
		return time.Time{}, fmt.Errorf("envelope: TimeStamp %q: %w: %w", s, ErrMalformed, err)
	}
	return t, nil
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maxSeq is the largest four-digit Seq.
const maxSeq = 9999

// SeqGenerator issues TimeStamp/Seq pairs: Seq counts 0001, 0002, … within a
// second and restarts at 0001 when the second changes (table 80). It is safe
// for concurrent use; the zero value uses the real clock.
type SeqGenerator struct {
	clock clock.Clock

	mu  sync.Mutex
	sec int64 // Unix second of the last stamp
	n   int   // last Seq issued in sec
}

// NewSeqGenerator returns a generator reading c.
func NewSeqGenerator(c clock.Clock) *SeqGenerator {
	return &SeqGenerator{clock: c}
}

// Next returns the next unique stamp. If the wall clock steps backwards the
// generator stays on the last second it used rather than reissue pairs the
// peer may already have seen. After 9999 stamps in one second it returns an
// *Error with RetBusy wrapping ErrSeqExhausted; retry after the clock moves.
func (g *SeqGenerator) Next() (Stamp, error) {
	sec := g.clock.Now().Unix()

	g.mu.Lock()
	defer g.mu.Unlock()
	if sec < g.sec {
		sec = g.sec
	}
	if sec != g.sec {
		g.sec, g.n = sec, 0
	}
	if g.n >= maxSeq {
		return Stamp{}, &Error{Ret: RetBusy, Err: fmt.Errorf("envelope: second %d: %w", sec, ErrSeqExhausted)}
	}
	g.n++
	seq := strconv.Itoa(g.n)
	for len(seq) < 4 {
		seq = "0" + seq
	}
	return Stamp{TimeStamp: FormatTimeStamp(time.Unix(sec, 0)), Seq: seq}, nil
}
