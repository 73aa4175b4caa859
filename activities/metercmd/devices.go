// Package metercmd sends remote commands (远程控制) to meters and keeps the
// command log through store/metercmd. Devices runs on the devices queue and talks to
// meters through activities/meters' gateway pool; Activities runs on the
// main queue and writes the projection the API reads.
package metercmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	metersacts "github.com/voltflow/voltflow/activities/meters"
	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/devices/profile"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
)

// Error types a workflow must not retry: the meter answered and said no, or
// took the write and shows another state. Unknown meters and profiles are
// meters.ErrTypeMeterConfig.
const (
	ErrTypeRefused      = metercmdstore.ErrTypeRefused
	ErrTypeNotConfirmed = metercmdstore.ErrTypeNotConfirmed
)

// Devices runs on the devices queue.
type Devices struct {
	DB       *store.DB
	Gateways *metersacts.Gateways
	Clock    clock.Clock
	// ConfirmDelay is the pause before reading a meter again whose state
	// did not yet confirm (a relay may lag its command); default 300 ms.
	ConfirmDelay time.Duration
	// Interactive is set on the interactive devices queue's worker: its
	// commands (an operator waiting) go before the sweep's and the
	// batches' requests queued on the same gateway (modbus.Interactive).
	Interactive bool
}

// SendInput and Response live in store/metercmd, so workflows use them
// without importing this package.
type (
	SendInput = metercmdstore.SendInput
	Response  = metercmdstore.Response
)

// Request is the device write as logged: which registers got which words.
type Request struct {
	Gateway  string   `json:"gateway"`
	Unit     int      `json:"unit"`
	Profile  string   `json:"profile"`
	Write    string   `json:"write"`
	Mode     *int     `json:"mode,omitempty"`
	Register string   `json:"register"`
	Words    []string `json:"words"`
	Attempt  int      `json:"attempt"`
	SentAt   string   `json:"sentAt"`
}

// SendMeterCommand writes a command to a meter, reads the meter back, records
// the reading as its last state and confirms the command from it. Every
// command sets a state, so a retry after a lost answer writes again
// harmlessly. Each attempt is logged on the command row (attempts, request,
// the attempt's error) so operators see a retrying command as it happens.
func (d *Devices) SendMeterCommand(ctx context.Context, in SendInput) (Response, error) {
	if d.Interactive {
		ctx = modbus.Interactive(ctx)
	}
	attempt := int(activity.GetInfo(ctx).Attempt)
	cmd, err := metercmddom.ParseAny(in.Command)
	if err != nil {
		return Response{}, metersacts.ConfigError(err)
	}
	m, err := metersacts.LoadMeter(ctx, d.DB, in.MeterID)
	if err != nil {
		if errors.Is(err, metersacts.ErrUnknownMeter) {
			return Response{}, metersacts.ConfigError(err)
		}
		return Response{}, err
	}
	gw, err := d.Gateways.Get(m.Address, m.Profile)
	if err != nil {
		return Response{}, metersacts.ConfigError(err)
	}
	w := cmd.Write()
	var args profile.Values
	req := Request{Gateway: m.Address, Unit: int(m.Unit), Profile: m.Profile, Write: w.Name, Attempt: attempt,
		SentAt: d.Clock.Now().UTC().Format(time.RFC3339Nano)}
	if w.Name == profile.CmdSetMode {
		args = profile.Values{profile.FieldMode: int64(w.Mode)}
		req.Mode = &w.Mode
	}
	if cmd.Download() {
		if !gw.Profile().Supports(w.Name) {
			return Response{}, metersacts.ConfigError(fmt.Errorf("meter %s: profile %s has no %s block", m.MeterNo, m.Profile, w.Name))
		}
		if args, err = metercmdstore.DownloadArgs(ctx, d.DB, in.CommandID); err != nil {
			return Response{}, err
		}
	}
	addr, regs, err := gw.Profile().EncodeCommand(w.Name, args)
	if err != nil {
		return Response{}, metersacts.ConfigError(fmt.Errorf("meter %s profile %s: %w", m.MeterNo, m.Profile, err))
	}
	req.Register = fmt.Sprintf("0x%04X", addr)
	for _, r := range regs {
		req.Words = append(req.Words, fmt.Sprintf("%04X", r))
	}
	if err := d.logAttempt(ctx, in.CommandID, req); err != nil {
		return Response{}, err
	}

	resp, err := d.send(ctx, gw, m, cmd, w, args, attempt)
	if err != nil {
		d.logFailure(ctx, in.CommandID, err)
		return Response{}, err
	}
	return resp, nil
}

func (d *Devices) send(ctx context.Context, gw *modbus.Gateway, m metersacts.Meter, cmd metercmddom.Command, w metercmddom.Write,
	args profile.Values, attempt int) (Response, error) {
	var err error
	switch w.Name {
	case profile.CmdSetTariff, profile.CmdSetSafetyLimits, profile.CmdSetUnitPrice:
		// A setting block: written whole; the same block again is harmless.
		err = gw.WriteCommand(ctx, m.Unit, w.Name, args)
	case profile.CmdSwitchOff:
		err = gw.SwitchOff(ctx, m.Unit)
	case profile.CmdSwitchOn:
		err = gw.SwitchOn(ctx, m.Unit)
	case profile.CmdSetMode:
		err = gw.SetMode(ctx, m.Unit, uint16(w.Mode))
	case profile.CmdClearRemaining:
		err = gw.ClearRemaining(ctx, m.Unit)
	case profile.CmdValveClose:
		err = gw.ValveClose(ctx, m.Unit)
	case profile.CmdValveOpen:
		err = gw.ValveOpen(ctx, m.Unit)
	default:
		return Response{}, metersacts.ConfigError(fmt.Errorf("no device write for %s", cmd))
	}
	if errors.Is(err, modbus.ErrRefused) {
		// The meter answered no (e.g. switch-off in protect mode): sending
		// it again gets the same answer.
		return Response{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("meter %s refused %s: %v", m.MeterNo, cmd, err), ErrTypeRefused, err)
	}
	if err != nil {
		return Response{}, fmt.Errorf("meter %s %s: %w", m.MeterNo, cmd, err)
	}
	// The write was answered; the state read back decides. A relay may lag
	// its command, so an unconfirmed state is read twice more before the
	// command counts as not taken.
	delay := d.ConfirmDelay
	if delay <= 0 {
		delay = 300 * time.Millisecond
	}
	for try := 0; ; try++ {
		s, err := gw.ReadMeter(ctx, m.Unit)
		if err != nil {
			return Response{}, fmt.Errorf("read back meter %s after %s: %w", m.MeterNo, cmd, err)
		}
		at := d.Clock.Now()
		if err := metersacts.SaveState(ctx, d.DB, m.ID, s, at); err != nil {
			return Response{}, err
		}
		resp := Response{Relay: int(s.Relay), Mode: int(s.Mode), Remaining: money.FromCents(s.Remaining),
			Status: int(s.Status), ReadAt: at, Attempt: attempt}
		var cerr error
		if cmd.Download() {
			// Confirmed when the block reads back as written.
			cerr = confirmSettings(ctx, gw, m.Unit, cmd, args, s.Values)
		} else {
			cerr = cmd.Confirm(metercmddom.State{Relay: int(s.Relay), Mode: int(s.Mode), Remaining: s.Remaining, Status: int(s.Status),
				Valve: int(s.Values[profile.Valve])})
		}
		if cerr == nil {
			return resp, nil
		}
		if try == 2 {
			return Response{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("meter %s: %v", m.MeterNo, cerr), ErrTypeNotConfirmed, cerr)
		}
		select {
		case <-ctx.Done():
			return Response{}, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// logAttempt counts the attempt and records its request. A command already
// done is left alone (a late retry of an answered write).
func (d *Devices) logAttempt(ctx context.Context, commandID string, req Request) error {
	raw, err := json.Marshal(req)
	if err != nil {
		return err
	}
	return metercmdstore.LogAttempt(ctx, d.DB, commandID, raw)
}

// logFailure records the attempt's error while the command is still being
// retried; the workflow writes the final failure. Best effort: the error
// itself is what the workflow acts on.
func (d *Devices) logFailure(ctx context.Context, commandID string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = metercmdstore.LogFailure(ctx, d.DB, commandID, cause.Error())
}

// confirmSettings reads the meter's setting blocks back and compares every
// value the download wrote.
func confirmSettings(ctx context.Context, gw *modbus.Gateway, unit uint8, cmd metercmddom.Command, args, read profile.Values) error {
	got := read // a quantity (the unit price) is in the state just read
	if len(gw.Profile().SettingBlocks()) > 0 {
		settings, err := gw.ReadSettings(ctx, unit)
		if err != nil {
			return fmt.Errorf("%w: %s: read back: %v", metercmddom.ErrNotConfirmed, cmd, err)
		}
		got = profile.Values{}
		for k, v := range read {
			got[k] = v
		}
		for k, v := range settings {
			got[k] = v
		}
	}
	for k, want := range args {
		if got[k] != want {
			return fmt.Errorf("%w: %s: %s reads %d, wrote %d", metercmddom.ErrNotConfirmed, cmd, k, got[k], want)
		}
	}
	return nil
}
