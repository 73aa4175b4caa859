package metercmd

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range Commands() {
		if got, err := Parse(string(c)); err != nil || got != c {
			t.Errorf("Parse(%q) = %q, %v", c, got, err)
		}
		if c.Write().Name == "" {
			t.Errorf("%s has no device write", c)
		}
	}
	for _, bad := range []string{"", "SWITCH_OFF", "reboot", "switch_off "} {
		if _, err := Parse(bad); !errors.Is(err, ErrUnknownCommand) {
			t.Errorf("Parse(%q) = %v, want ErrUnknownCommand", bad, err)
		}
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		c    Command
		want Write
	}{
		{SwitchOff, Write{Name: "switch_off"}},
		{SwitchOn, Write{Name: "switch_on"}},
		{Protect, Write{Name: "set_mode", Mode: ModeProtect}},
		{Release, Write{Name: "set_mode", Mode: ModePrepaid}},
		{PrepaidMode, Write{Name: "set_mode", Mode: ModePrepaid}},
		{ForcedOff, Write{Name: "set_mode", Mode: ModeForcedOff}},
		{ClearRemaining, Write{Name: "clear_remaining"}},
		{ValveClose, Write{Name: "valve_close"}},
		{ValveOpen, Write{Name: "valve_open"}},
	}
	for _, tt := range tests {
		if got := tt.c.Write(); got != tt.want {
			t.Errorf("%s.Write() = %+v, want %+v", tt.c, got, tt.want)
		}
	}
}

func TestConfirm(t *testing.T) {
	open, closed := RelayOpen, RelayClosed
	tests := []struct {
		c  Command
		s  State
		ok bool
	}{
		{SwitchOff, State{Relay: open}, true},
		{SwitchOff, State{Relay: closed, Mode: ModeProtect}, false},
		{SwitchOn, State{Relay: closed}, true},
		{SwitchOn, State{Relay: open, Status: StatusArrearsTrip}, false},
		{SwitchOn, State{Relay: open, Mode: ModeForcedOff}, false},
		{Protect, State{Relay: closed, Mode: ModeProtect}, true},
		{Protect, State{Relay: closed, Mode: ModePrepaid}, false},
		{Release, State{Relay: open, Mode: ModePrepaid}, true},
		{Release, State{Mode: ModeProtect}, false},
		{PrepaidMode, State{Mode: ModePrepaid}, true},
		{PrepaidMode, State{Mode: ModeForcedOff}, false},
		{ForcedOff, State{Relay: open, Mode: ModeForcedOff}, true},
		{ForcedOff, State{Relay: closed, Mode: ModeForcedOff}, false},
		{ClearRemaining, State{Remaining: 0}, true},
		{ClearRemaining, State{Remaining: -1, Mode: ModeProtect}, true},
		{ClearRemaining, State{Remaining: 1}, false},
		{Command("reboot"), State{}, false},
	}
	for _, tt := range tests {
		err := tt.c.Confirm(tt.s)
		if (err == nil) != tt.ok {
			t.Errorf("%s.Confirm(%+v) = %v, want ok=%v", tt.c, tt.s, err, tt.ok)
		}
		if err != nil && tt.c.Write().Name != "" && !errors.Is(err, ErrNotConfirmed) {
			t.Errorf("%s.Confirm: %v is not ErrNotConfirmed", tt.c, err)
		}
	}
}

func TestBatchEnd(t *testing.T) {
	if BatchEnd(0) != BatchCompleted || BatchEnd(5) != BatchCompletedWithFailures || !BatchEnd(1).Final() || BatchRunning.Final() {
		t.Fatal("batch end states")
	}
}
