// Package metercmd holds the rules of remote meter commands (远程控制): which
// commands exist, what each asks of the meter, and how the state read back
// from the meter confirms it. No I/O here.
package metercmd

import (
	"errors"
	"fmt"
	"slices"
)

// Command is a remote command an operator sends to a meter.
type Command string

// The commands. Each sets a state, so sending one twice is harmless.
const (
	SwitchOff      Command = "switch_off"      // 拉闸: open the relay by command
	SwitchOn       Command = "switch_on"       // 合闸: withdraw a switch-off
	Protect        Command = "protect"         // 保电: mode 1, forced on, never trips
	Release        Command = "release"         // 解除保电: back to mode 0, prepaid auto-trip
	PrepaidMode    Command = "prepaid_mode"    // mode 0, the meter trips itself at zero
	ForcedOff      Command = "forced_off"      // mode 2, relay held open whatever the money
	ClearRemaining Command = "clear_remaining" // 清零: remaining money to zero
	ValveClose     Command = "valve_close"     // 关阀: a water or gas meter's valve shut
	ValveOpen      Command = "valve_open"      // 开阀
)

var commands = []Command{SwitchOff, SwitchOn, Protect, Release, PrepaidMode, ForcedOff, ClearRemaining, ValveClose, ValveOpen}

// Downloads write a setting block into a meter whose profile has it; the
// platform makes them (a tariff assigned, safety limits set), with their
// register values as the command's args, never an operator by name.
const (
	SetTariff       Command = "set_tariff"        // the price block: TOU prices and hour table, tiers
	SetSafetyLimits Command = "set_safety_limits" // maximum load, malignant-load start, allowed trips
	SetUnitPrice    Command = "set_unit_price"    // the single unit price, rewritten at each TOU boundary
)

// Download reports whether c writes registers from its args.
func (c Command) Download() bool { return c == SetTariff || c == SetSafetyLimits || c == SetUnitPrice }

// ParseAny is Parse that also knows the downloads (the device activity's
// view: it runs whatever command row the platform recorded).
func ParseAny(s string) (Command, error) {
	if c := Command(s); c.Download() {
		return c, nil
	}
	return Parse(s)
}

// Commands lists every command, for validation messages and the OpenAPI document.
func Commands() []Command { return slices.Clone(commands) }

// ErrUnknownCommand is a command name not in Commands.
var ErrUnknownCommand = errors.New("unknown meter command")

// Parse checks a command name.
func Parse(s string) (Command, error) {
	c := Command(s)
	if !slices.Contains(commands, c) {
		return "", fmt.Errorf("%w %q (want one of %v)", ErrUnknownCommand, s, commands)
	}
	return c, nil
}

// Meter relay and mode values (registers 0x0105 and 0x0106 of ref-prepaid-v1).
const (
	RelayClosed = 0
	RelayOpen   = 1

	ModePrepaid   = 0
	ModeProtect   = 1
	ModeForcedOff = 2

	// Valve of a water or gas meter (profile quantity "valve").
	ValveOpened = 0
	ValveClosed = 1
)

// Status flag of a meter tripped for arrears (bit 2 of register 0x010D).
const StatusArrearsTrip = 1 << 2

// Write is what the meter is told, in the profile's command vocabulary
// (profile.CmdSwitchOff, ...; "set_mode" with Mode).
type Write struct {
	Name string
	Mode int // for set_mode
}

// Write returns the device write that carries the command.
func (c Command) Write() Write {
	switch c {
	case SwitchOff:
		return Write{Name: "switch_off"}
	case SwitchOn:
		return Write{Name: "switch_on"}
	case Protect:
		return Write{Name: "set_mode", Mode: ModeProtect}
	case Release, PrepaidMode:
		return Write{Name: "set_mode", Mode: ModePrepaid}
	case ForcedOff:
		return Write{Name: "set_mode", Mode: ModeForcedOff}
	case ClearRemaining:
		return Write{Name: "clear_remaining"}
	case ValveClose:
		return Write{Name: "valve_close"}
	case ValveOpen:
		return Write{Name: "valve_open"}
	case SetTariff, SetSafetyLimits, SetUnitPrice:
		return Write{Name: string(c)}
	}
	return Write{}
}

// State is what confirmation reads back from the meter.
type State struct {
	Relay     int
	Mode      int
	Remaining int64 // 0.01 yuan
	Status    int   // flag bits
	Valve     int   // water and gas meters: ValveOpened or ValveClosed
}

// ErrNotConfirmed means the meter took the write but does not show the
// state the command asks for. Retrying the write cannot change that by
// itself (e.g. switch_on while the meter is tripped for arrears).
var ErrNotConfirmed = errors.New("meter state does not confirm the command")

// Confirm checks the state read back after the write.
func (c Command) Confirm(s State) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrNotConfirmed, c, fmt.Sprintf(format, args...))
	}
	switch c {
	case SwitchOff:
		if s.Relay != RelayOpen {
			return fail("relay still closed (mode %d)", s.Mode)
		}
	case SwitchOn:
		if s.Relay != RelayClosed {
			why := "relay still open"
			switch {
			case s.Mode == ModeForcedOff:
				why += ": the meter is in forced-off mode"
			case s.Status&StatusArrearsTrip != 0:
				why += ": the meter is tripped for arrears (recharge it first)"
			}
			return fail("%s", why)
		}
	case Protect:
		if s.Mode != ModeProtect || s.Relay != RelayClosed {
			return fail("mode %d, relay %d; want protect mode with the relay closed", s.Mode, s.Relay)
		}
	case Release, PrepaidMode:
		if s.Mode != ModePrepaid {
			return fail("mode %d, want prepaid (0)", s.Mode)
		}
	case ForcedOff:
		if s.Mode != ModeForcedOff || s.Relay != RelayOpen {
			return fail("mode %d, relay %d; want forced off with the relay open", s.Mode, s.Relay)
		}
	case ClearRemaining:
		// Consumption may take a cent between the write and the read in
		// protect mode, so anything at or below zero confirms.
		if s.Remaining > 0 {
			return fail("remaining %d cents, want 0", s.Remaining)
		}
	case ValveClose:
		if s.Valve != ValveClosed {
			return fail("valve still open")
		}
	case ValveOpen:
		if s.Valve != ValveOpened {
			return fail("valve still closed")
		}
	default:
		return fmt.Errorf("%w %q", ErrUnknownCommand, string(c))
	}
	return nil
}

// Status of one command as the API shows it.
type Status string

const (
	Pending     Status = "pending"
	Dispatching Status = "dispatching"
	Done        Status = "done"
	Failed      Status = "failed"
)

// BatchStatus of a batch of commands.
type BatchStatus string

const (
	BatchRunning BatchStatus = "running"
	// BatchCompleted: every meter confirmed the command.
	BatchCompleted BatchStatus = "completed"
	// BatchCompletedWithFailures: the batch ended and some meters failed;
	// they can be re-dispatched as a new batch.
	BatchCompletedWithFailures BatchStatus = "completed_with_failures"
)

// Final reports whether the batch has ended.
func (s BatchStatus) Final() bool { return s == BatchCompleted || s == BatchCompletedWithFailures }

// BatchEnd is the final status of a batch with the given failure count.
func BatchEnd(failed int) BatchStatus {
	if failed > 0 {
		return BatchCompletedWithFailures
	}
	return BatchCompleted
}
