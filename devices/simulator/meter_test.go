package simulator

import (
	"errors"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/profile"
)

// shanghai is fixed at UTC+8 so tests do not depend on the tz database.
var shanghai = time.FixedZone("CST", 8*3600)

func at(hour, minute int) time.Time {
	return time.Date(2025, 3, 1, hour, minute, 0, 0, shanghai)
}

// 1 kW for an hour is 1 kWh = 100 units of 0.01 kWh; at 0.6000 yuan/kWh
// that costs 0.60 yuan = 60 cents.
func TestConsumptionIsExact(t *testing.T) {
	whole := NewMeter(MeterConfig{Remaining: 10_000, UnitPrice: 6000, Load: 1000})
	whole.Advance(at(12, 0), time.Hour)

	// The same hour in 7-second steps must land on the same registers:
	// sub-unit energy and sub-cent money carry over.
	steps := NewMeter(MeterConfig{Remaining: 10_000, UnitPrice: 6000, Load: 1000})
	now := at(12, 0)
	for end := now.Add(time.Hour); now.Before(end); now = now.Add(7 * time.Second) {
		steps.Advance(now, min(7*time.Second, end.Sub(now)))
	}

	for _, m := range []*Meter{whole, steps} {
		s := m.State()
		if s.Energy != 100 || s.TOU[Flat] != 100 || s.Remaining != 10_000-60 || s.Consumed != 60 {
			t.Errorf("energy %d (flat %d), remaining %d, consumed %d; want 100, 100, 9940, 60",
				s.Energy, s.TOU[Flat], s.Remaining, s.Consumed)
		}
		if s.Power != 1000 || s.Current != 454 || s.Relay != profile.RelayClosed {
			t.Errorf("power %d current %d relay %d", s.Power, s.Current, s.Relay)
		}
	}
}

func TestSubCentMoneyIsKept(t *testing.T) {
	// 0.5 cents per unit: odd unit counts owe half a cent, which must be
	// charged with the next unit, not lost or rounded early.
	m := NewMeter(MeterConfig{Remaining: 1000, UnitPrice: 5000, Load: 1000})
	unit := 36 * time.Second                       // one 0.01 kWh at 1 kW
	want := []int64{1000, 999, 999, 998, 998, 997} // after 1, 2, ... units
	for i, w := range want {
		m.Advance(at(12, 0).Add(time.Duration(i)*unit), unit)
		if got := m.State().Remaining; got != w {
			t.Fatalf("after %d units remaining %d, want %d", i+1, got, w)
		}
	}
}

func TestTOUSplitsAtTheHour(t *testing.T) {
	m := NewMeter(MeterConfig{Remaining: 100_000, UnitPrice: 6000, Load: 1000})
	m.Advance(at(6, 30), 2*time.Hour) // 06:30–07 valley, 07–08 flat, 08–08:30 peak
	s := m.State()
	if s.TOU != [4]int64{Valley: 50, Flat: 100, Peak: 50} || s.Energy != 200 {
		t.Errorf("TOU %v, energy %d", s.TOU, s.Energy)
	}
	if !s.LastAdvance.Equal(at(8, 30)) {
		t.Errorf("LastAdvance %v", s.LastAdvance)
	}
}

func TestRunningOutOfMoney(t *testing.T) {
	// 1.00 yuan at 0.6 cents per unit lasts ceil(100/0.6) = 167 units.
	tests := []struct {
		name          string
		mode          uint16
		wantEnergy    int64
		wantRemaining int64
		wantRelay     uint16
		wantArrears   bool
	}{
		{"prepaid trips at zero", profile.ModePrepaid, 167, 0, profile.RelayOpen, true},
		{"protect keeps supplying", profile.ModeProtect, 200, 100 - 120, profile.RelayClosed, false},
		{"forced off never consumes", profile.ModeForcedOff, 0, 100, profile.RelayOpen, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMeter(MeterConfig{Remaining: 100, UnitPrice: 6000, Load: 1000, Mode: tt.mode})
			m.Advance(at(12, 0), 2*time.Hour)
			s := m.State()
			if s.Energy != tt.wantEnergy || s.Remaining != tt.wantRemaining || s.Relay != tt.wantRelay {
				t.Errorf("energy %d remaining %d relay %d; want %d %d %d",
					s.Energy, s.Remaining, s.Relay, tt.wantEnergy, tt.wantRemaining, tt.wantRelay)
			}
			if got := s.Status&profile.StatusArrearsTrip != 0; got != tt.wantArrears {
				t.Errorf("arrears flag %v, want %v", got, tt.wantArrears)
			}
			if tt.wantRelay == profile.RelayOpen && (s.Power != 0 || s.Current != 0) {
				t.Errorf("open relay shows power %d current %d", s.Power, s.Current)
			}
		})
	}
}

func TestRechargeClosesOnlyAnArrearsTrip(t *testing.T) {
	tripped := NewMeter(MeterConfig{Remaining: 0, UnitPrice: 6000, Load: 1000})
	if s := tripped.State(); s.Relay != profile.RelayOpen || s.Status&profile.StatusArrearsTrip == 0 {
		t.Fatalf("a prepaid meter with no money should start tripped: %+v", s)
	}
	if err := tripped.Recharge(1, 500); err != nil {
		t.Fatal(err)
	}
	if s := tripped.State(); s.Relay != profile.RelayClosed || s.Status&profile.StatusArrearsTrip != 0 {
		t.Errorf("recharge did not close the relay: %+v", s)
	}

	off := NewMeter(MeterConfig{Remaining: 0, UnitPrice: 6000, Load: 1000})
	if err := off.SwitchOff(); err != nil {
		t.Fatal(err)
	}
	if err := off.Recharge(1, 500); err != nil {
		t.Fatal(err)
	}
	if s := off.State(); s.Relay != profile.RelayOpen || !s.SwitchedOff {
		t.Errorf("recharge closed a relay switched off by command: %+v", s)
	}
	off.SwitchOn()
	if s := off.State(); s.Relay != profile.RelayClosed {
		t.Errorf("switch on did not close: %+v", s)
	}

	// Switching on does not override an arrears trip.
	broke := NewMeter(MeterConfig{Remaining: 0})
	broke.SwitchOn()
	if broke.State().Relay != profile.RelayOpen {
		t.Error("switch on closed a meter tripped for arrears")
	}
}

func TestCommandRules(t *testing.T) {
	type step func(m *Meter) error
	recharge := func(c uint16, a uint32) step { return func(m *Meter) error { return m.Recharge(c, a) } }
	refund := func(c uint16, a uint32) step { return func(m *Meter) error { return m.Refund(c, a) } }
	tests := []struct {
		name          string
		start         MeterConfig
		steps         []step
		wantErr       error // of the last step
		wantRemaining int64
		wantCount     uint16
		wantCum       int64
	}{
		{"recharge with next counter", MeterConfig{Remaining: 100}, []step{recharge(1, 5000)}, nil, 5100, 1, 5000},
		{"recharge twice in order", MeterConfig{}, []step{recharge(1, 100), recharge(2, 200)}, nil, 300, 2, 300},
		{"replayed counter", MeterConfig{}, []step{recharge(1, 100), recharge(1, 100)}, ErrRefused, 100, 1, 100},
		{"counter skips ahead", MeterConfig{}, []step{recharge(2, 100)}, ErrRefused, 0, 0, 0},
		{"zero amount", MeterConfig{}, []step{recharge(1, 0)}, ErrInvalid, 0, 0, 0},
		{"refund within remaining", MeterConfig{}, []step{recharge(1, 1000), refund(2, 400)}, nil, 600, 2, 600},
		{"refund all", MeterConfig{}, []step{recharge(1, 1000), refund(2, 1000)}, nil, 0, 2, 0},
		{"refund more than remaining", MeterConfig{}, []step{recharge(1, 1000), refund(2, 1001)}, ErrRefused, 1000, 1, 1000},
		{"refund with stale counter", MeterConfig{}, []step{recharge(1, 1000), refund(1, 10)}, ErrRefused, 1000, 1, 1000},
		{"refund from overdraft", MeterConfig{Remaining: -50, Mode: profile.ModeProtect}, []step{refund(1, 1)}, ErrRefused, -50, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMeter(tt.start)
			var err error
			for _, s := range tt.steps {
				err = s(m)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			s := m.State()
			if s.Remaining != tt.wantRemaining || s.PurchaseCount != tt.wantCount || s.CumulativePurchased != tt.wantCum {
				t.Errorf("remaining %d count %d cumulative %d; want %d %d %d",
					s.Remaining, s.PurchaseCount, s.CumulativePurchased, tt.wantRemaining, tt.wantCount, tt.wantCum)
			}
		})
	}
}

func TestCounterWraps(t *testing.T) {
	m := NewMeter(MeterConfig{})
	m.count = 0xFFFF // the u16 register's last value
	if err := m.Recharge(0, 100); err != nil {
		t.Errorf("counter 65535 → 0: %v", err)
	}
}

func TestProtectAndModes(t *testing.T) {
	m := NewMeter(MeterConfig{Remaining: 0, Mode: profile.ModeProtect})
	if m.State().Relay != profile.RelayClosed {
		t.Error("protect mode with no money should stay closed")
	}
	if err := m.SwitchOff(); !errors.Is(err, ErrRefused) {
		t.Errorf("switch off in protect mode: %v, want ErrRefused", err)
	}
	if err := m.SetMode(profile.ModePrepaid); err != nil {
		t.Fatal(err)
	}
	if s := m.State(); s.Relay != profile.RelayOpen || s.Status&profile.StatusArrearsTrip == 0 {
		t.Errorf("leaving protect with no money should trip: %+v", s)
	}
	if err := m.SetMode(3); !errors.Is(err, ErrInvalid) {
		t.Errorf("mode 3: %v, want ErrInvalid", err)
	}
	m.ClearRemaining()
	if err := m.SetMode(profile.ModeForcedOff); err != nil || m.State().Relay != profile.RelayOpen {
		t.Errorf("forced off: %v, %+v", err, m.State())
	}
}

func TestAlarmFlags(t *testing.T) {
	tests := []struct {
		remaining int64
		want      uint16
	}{
		{5001, 0},
		{5000, profile.StatusAlarm1},
		{1000, profile.StatusAlarm1 | profile.StatusAlarm2},
		{0, profile.StatusAlarm1 | profile.StatusAlarm2 | profile.StatusArrearsTrip},
	}
	for _, tt := range tests {
		m := NewMeter(MeterConfig{Remaining: tt.remaining, Alarm1: 5000, Alarm2: 1000})
		if got := m.State().Status; got != tt.want {
			t.Errorf("remaining %d: status %05b, want %05b", tt.remaining, got, tt.want)
		}
	}
}
