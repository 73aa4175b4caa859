package alarm

import (
	"fmt"
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

// Resolutions of a low-balance alarm.
const (
	Recharged = "recharged" // a recharge reached the meter
	Recovered = "recovered" // a reading came back above the alarm amount
)

// LowBalanceRules are what a meter's policy makes of its low-balance alarm.
type LowBalanceRules struct {
	Mode        Mode
	AlarmAmount money.Amount
	// Thresholds of the staged mode, in falling order (see Thresholds).
	Thresholds []money.Amount
	Quiet      Quiet
}

// NewLowBalanceRules derives the staged thresholds from the ratios.
func NewLowBalanceRules(mode Mode, alarmAmount money.Amount, ratios []string, quiet Quiet) (LowBalanceRules, error) {
	th, err := Thresholds(alarmAmount, ratios)
	if err != nil {
		return LowBalanceRules{}, err
	}
	return LowBalanceRules{Mode: mode, AlarmAmount: alarmAmount, Thresholds: th, Quiet: quiet}, nil
}

// Threshold is the balance an SMS of stage names: its staged threshold, else
// the alarm amount.
func (r LowBalanceRules) Threshold(stage string) money.Amount {
	if i := lowStageIndex(stage); i >= 0 && i < len(r.Thresholds) {
		return r.Thresholds[i]
	}
	return r.AlarmAmount
}

// lowStageIndex is the threshold index of a staged stage name, or -1.
func lowStageIndex(stage string) int {
	var i int
	if _, err := fmt.Sscanf(stage, "low_%d", &i); err != nil {
		return -1
	}
	return i - 1
}

// Templates of the alarm's SMS.
const (
	TemplateLowBalance      = "low_balance"
	TemplateDailyLowBalance = "daily_low_balance"
	TemplateArrears         = "arrears"
	TemplateRecharge        = "recharge_received"
)

// Step is one thing the alarm does now: send a stage's SMS, or record a
// stage as skipped (a deeper one, or the arrears notice, said more).
type Step struct {
	Stage    string
	Template string // empty when skipped
	Skip     bool
}

// Urgent steps go out even in quiet hours.
func (s Step) Urgent() bool { return s.Stage == StageArrears }

// LowBalance is the state of one meter's low-balance alarm (欠费预警): the
// stages done, the one waiting for quiet hours to end, the daily reminders.
// The JSON names are those of the workflow's continue-as-new state.
type LowBalance struct {
	Remaining money.Amount `json:"remaining"`
	Done      []string     `json:"done"`      // stages sent or skipped
	Pending   string       `json:"pending"`   // a non-urgent stage waiting for quiet hours to end
	PendingAt time.Time    `json:"pendingAt"` // when it may go out
	Daily     int          `json:"daily"`     // daily reminders queued so far
	NextDaily time.Time    `json:"nextDaily"` // when the next one is due (daily mode)
	// ArrearsDue: a reading reached zero; Due sends the notice. Never
	// set across continue-as-new, which only follows Due.
	ArrearsDue bool `json:"-"`
}

// Has reports whether stage was sent or skipped.
func (s *LowBalance) Has(stage string) bool {
	for _, d := range s.Done {
		if d == stage {
			return true
		}
	}
	return false
}

// MarkDone records stage as sent or skipped.
func (s *LowBalance) MarkDone(stage string) {
	if !s.Has(stage) {
		s.Done = append(s.Done, stage)
	}
}

// Read takes a reading in at now. It reports true when the balance is back
// above the alarm amount: the alarm resolves as Recovered.
func (s *LowBalance) Read(r LowBalanceRules, remaining money.Amount, now time.Time) bool {
	s.Remaining = remaining
	if remaining.GreaterThan(r.AlarmAmount) {
		return true
	}
	if !remaining.IsPositive() && !s.Has(StageArrears) {
		s.ArrearsDue = true
	}
	switch r.Mode {
	case Daily:
		if s.Daily == 0 && s.NextDaily.IsZero() {
			s.NextDaily = now
		}
	default:
		if i := Deepest(remaining, r.Thresholds); i >= 0 && !s.Has(LowStage(i)) {
			// A deeper stage replaces a shallower one still waiting.
			s.Pending, s.PendingAt = LowStage(i), time.Time{}
		}
	}
	return false
}

// Wake is when the alarm must act without a reading: the end of quiet
// hours for a waiting stage, or the next daily reminder.
func (s *LowBalance) Wake() (time.Time, bool) {
	t := s.PendingAt
	if !s.NextDaily.IsZero() && (t.IsZero() || s.NextDaily.Before(t)) {
		t = s.NextDaily
	}
	return t, !t.IsZero()
}

// Due is what goes out at now, in order: the arrears notice at once (a
// staged stage still waiting is skipped for it), a waiting stage unless
// quiet hours hold it back (the shallower stages it passed are skipped),
// the daily reminder when its day comes. The caller marks each step done
// as it takes it.
func (s *LowBalance) Due(r LowBalanceRules, now time.Time) []Step {
	var steps []Step
	if s.ArrearsDue {
		s.ArrearsDue = false
		if s.Pending != "" && r.Mode != Daily {
			// The cut-off notice says more than a low-balance one still waiting.
			steps = append(steps, Step{Stage: s.Pending, Skip: true})
			s.Pending, s.PendingAt = "", time.Time{}
		}
		steps = append(steps, Step{Stage: StageArrears, Template: TemplateArrears})
	}
	if r.Mode == Daily && !s.NextDaily.IsZero() && !now.Before(s.NextDaily) && s.Pending == "" {
		s.Daily++
		s.Pending = DailyStage(s.Daily)
		s.NextDaily = s.NextDaily.Add(24 * time.Hour)
	}
	if s.Pending == "" {
		return steps
	}
	if at := r.Quiet.Until(now); at.After(now) {
		s.PendingAt = at
		return steps
	}
	stage := s.Pending
	s.Pending, s.PendingAt = "", time.Time{}
	if r.Mode == Daily {
		return append(steps, Step{Stage: stage, Template: TemplateDailyLowBalance})
	}
	planned := func(stage string) bool {
		for _, st := range steps {
			if st.Stage == stage {
				return true
			}
		}
		return false
	}
	for i := range r.Thresholds {
		st := LowStage(i)
		if st == stage {
			break
		}
		if !s.Has(st) && !planned(st) {
			steps = append(steps, Step{Stage: st, Skip: true})
		}
	}
	return append(steps, Step{Stage: stage, Template: TemplateLowBalance})
}

// NextThreshold is the reading the reading hook must pass on: the next
// staged threshold, else zero until the arrears notice went, else none.
func (s *LowBalance) NextThreshold(r LowBalanceRules) *money.Amount {
	if r.Mode != Daily {
		for i, th := range r.Thresholds {
			if !s.Has(LowStage(i)) {
				return &th
			}
		}
	}
	if !s.Has(StageArrears) {
		zero := money.Zero
		return &zero
	}
	return nil
}

// Recharge takes in the balance after a recharge; the alarm resolves as
// Recharged. With notify (the policy wants it and someone receives it) the
// tenant is told the recharge arrived (seed 004).
func (s *LowBalance) Recharge(remaining money.Amount, notify bool) []Step {
	s.Remaining = remaining
	if !notify {
		return nil
	}
	return []Step{{Stage: StageRecharge, Template: TemplateRecharge}}
}
