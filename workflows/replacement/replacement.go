// Package replacement replaces a meter (换表) as a Temporal workflow,
// meter-replacement/<id>: switch the old meter off and read its final
// remaining balance and energy counter (or take the operator's reading
// when it cannot be read), clear the new meter and write that balance into
// it, then book the move, put the new meter in the old one's account and
// unit and retire the old meter.
package replacement

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/domain/money"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
	metersstore "github.com/voltflow/voltflow/store/meters"
	replacementstore "github.com/voltflow/voltflow/store/replacement"
	"github.com/voltflow/voltflow/workflows/delivery"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
)

// Names shared with the API.
const (
	Kind                = "meter-replacement"
	UpdateManualReading = "manual-reading"
	QueryStatus         = "status"
)

// WorkflowID is the workflow of one replacement.
func WorkflowID(replacementID string) string { return Kind + "/" + replacementID }

// ManualReading is the old meter's last state as an operator read it off
// the meter (or its display) when the platform could not.
type ManualReading struct {
	Remaining  money.Amount `json:"remaining"`
	CounterKwh money.Amount `json:"counterKwh"`
	Reason     string       `json:"reason"`
}

// Validate checks a reading an operator entered.
func (m ManualReading) Validate() error {
	switch {
	case m.CounterKwh.IsNegative():
		return errors.New("counterKwh must not be negative")
	case m.Reason == "":
		return errors.New("reason is required: say why the meter could not be read")
	}
	return nil
}

// Input starts a replacement. New fields must have a safe zero value:
// running workflows replay with the old input.
type Input struct {
	ReplacementID string `json:"replacementId"`
	ProjectID     string `json:"projectId"`
	ProjectCode   string `json:"projectCode"`
	OldMeterID    string `json:"oldMeterId"`
	OldMeterNo    string `json:"oldMeterNo"`
	NewMeterID    string `json:"newMeterId"`
	NewMeterNo    string `json:"newMeterNo"`
	// The command rows that log the old meter's switch-off and the new
	// meter's clearing (meter_commands).
	SwitchOffCommandID string `json:"switchOffCommandId"`
	ClearCommandID     string `json:"clearCommandId"`
	// Manual is the operator's reading sent with the request: used only if
	// the old meter cannot be read.
	Manual *ManualReading `json:"manual,omitempty"`
	// ReadAttempts bounds the tries to switch off and read the old meter
	// (default 3) before the manual reading is used or waited for.
	ReadAttempts int `json:"readAttempts"`
	// DispatchWindow is how long the new meter is retried (default 10 min).
	DispatchWindow time.Duration `json:"dispatchWindow"`
	// ManualTimeout is how long the workflow waits for a manual reading
	// before it fails (default 30 days).
	ManualTimeout time.Duration `json:"manualTimeout"`
}

// Result is the end state.
type Result struct {
	Status         replacementstore.Status `json:"status"`
	FinalRemaining money.Amount            `json:"finalRemaining"`
	Manual         bool                    `json:"manual"`
	Moved          money.Amount            `json:"moved"`
	Failure        string                  `json:"failure,omitempty"`
}

// ErrNoReadingWanted is the manual-reading validator's answer when the
// replacement is past its reading.
var ErrNoReadingWanted = errors.New("the meter replacement is not waiting for a reading")

// Workflow runs one replacement to completed or failed.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	in = withDefaults(in)
	status := replacementstore.Pending
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (replacementstore.Status, error) { return status, nil }); err != nil {
		return Result{}, err
	}
	manual := in.Manual
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateManualReading,
		func(ctx workflow.Context, m ManualReading) (replacementstore.Status, error) {
			manual = &m
			return status, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, m ManualReading) error {
			if status != replacementstore.Pending && status != replacementstore.Reading && status != replacementstore.AwaitingReading {
				return ErrNoReadingWanted
			}
			return m.Validate()
		}}); err != nil {
		return Result{}, err
	}
	set := func(s replacementstore.Status, failure string) error {
		status = s
		if err := setReplacementStatus(options.DB(ctx), replacementstore.StatusInput{
			ReplacementID: in.ReplacementID, Status: s, Failure: failure}).Get(ctx, nil); err != nil {
			return err
		}
		return workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(string(s)))
	}

	if err := set(replacementstore.Reading, ""); err != nil {
		return Result{}, err
	}
	reading, err := readOld(ctx, in)
	if err != nil {
		return Result{}, err
	}
	if !reading.read {
		workflow.GetLogger(ctx).Warn("old meter not read: manual reading", "replacement", in.ReplacementID,
			"meter", in.OldMeterNo, "error", reading.failure)
		if manual == nil {
			if err := set(replacementstore.AwaitingReading, "old meter not read: "+reading.failure); err != nil {
				return Result{}, err
			}
			ok, err := workflow.AwaitWithTimeout(ctx, in.ManualTimeout, func() bool { return manual != nil })
			if err != nil {
				return Result{}, err
			}
			if !ok {
				failure := "no manual reading of " + in.OldMeterNo + " within " + in.ManualTimeout.String()
				return Result{Status: replacementstore.Failed, Failure: failure}, set(replacementstore.Failed, failure)
			}
		}
		reading.Remaining, reading.EnergyKwh, reading.reason = manual.Remaining, manual.CounterKwh, manual.Reason
	}
	if err := recordReplacementReading(options.DB(ctx), replacementstore.ReadingInput{
		ReplacementID: in.ReplacementID, Remaining: reading.Remaining, EnergyKwh: reading.EnergyKwh,
		Manual: !reading.read, Reason: reading.reason, SwitchedOff: reading.switchedOff}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	status = replacementstore.Moving
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(string(status))); err != nil {
		return Result{}, err
	}

	// An overdraft is not carried over: a meter-side meter takes no
	// negative sale.
	moved := reading.Remaining
	if moved.IsNegative() {
		moved = money.Zero
	}
	done, failure, err := writeNew(ctx, in, moved)
	if err != nil {
		return Result{}, err
	}
	if failure != "" {
		res := Result{Status: replacementstore.Failed, FinalRemaining: reading.Remaining, Manual: !reading.read, Failure: failure}
		return res, set(replacementstore.Failed, failure)
	}
	if err := completeReplacement(options.DB(ctx), replacementstore.CompleteInput{
		ReplacementID: in.ReplacementID, ProjectID: in.ProjectID, OldMeterID: in.OldMeterID, OldMeterNo: in.OldMeterNo,
		NewMeterID: in.NewMeterID, NewMeterNo: in.NewMeterNo, Moved: moved,
		NewRemaining: done.remaining, NewPurchaseCount: done.purchaseCount}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	status = replacementstore.Completed
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(string(status))); err != nil {
		return Result{}, err
	}
	return Result{Status: replacementstore.Completed, FinalRemaining: reading.Remaining, Manual: !reading.read, Moved: moved}, nil
}

// oldReading is the old meter's final state, or why it could not be read.
type oldReading struct {
	metersstore.Reading
	read, switchedOff bool
	failure, reason   string
}

// readOld switches the old meter off — so it uses nothing more after its
// final reading — then reads it, each with a bounded number of tries.
func readOld(ctx workflow.Context, in Input) (oldReading, error) {
	var out oldReading
	var resp metercmdstore.Response
	err := sendMeterCommand(oldDevice(ctx, in.ReadAttempts), metercmdstore.SendInput{
		CommandID: in.SwitchOffCommandID, MeterID: in.OldMeterID, Command: string(metercmddom.SwitchOff)}).Get(ctx, &resp)
	result := metercmdstore.Result{CommandID: in.SwitchOffCommandID, Status: metercmddom.Done, Response: &resp}
	if err != nil {
		out.failure = delivery.FailureText(err)
		result = metercmdstore.Result{CommandID: in.SwitchOffCommandID, Status: metercmddom.Failed, Failure: out.failure}
	}
	if err := finishMeterCommand(options.DB(ctx), result).Get(ctx, nil); err != nil {
		return out, err
	}
	// A meter that refused the switch-off (protect mode) still answers a
	// read; one that is unreachable fails the read too.
	out.switchedOff = out.failure == ""
	if err := readMeter(oldDevice(ctx, in.ReadAttempts), metersstore.ReadInput{MeterID: in.OldMeterID}).Get(ctx, &out.Reading); err != nil {
		out.failure = delivery.FailureText(err)
		return out, nil
	}
	out.read = true
	return out, nil
}

// written is the new meter's state read back.
type written struct {
	remaining     money.Amount
	purchaseCount *int
}

// writeNew clears the new meter and writes the moved balance into it as a
// counted sale (the replacement's id takes a purchase counter value, so
// the meter takes it exactly once however often it is sent). A failure is
// returned as text: the replacement fails with it and nothing is booked.
func writeNew(ctx workflow.Context, in Input, moved money.Amount) (written, string, error) {
	var resp metercmdstore.Response
	err := sendMeterCommand(newDevice(ctx, in.DispatchWindow), metercmdstore.SendInput{
		CommandID: in.ClearCommandID, MeterID: in.NewMeterID, Command: string(metercmddom.ClearRemaining)}).Get(ctx, &resp)
	result := metercmdstore.Result{CommandID: in.ClearCommandID, Status: metercmddom.Done, Response: &resp}
	failure := ""
	if err != nil {
		failure = "clear new meter " + in.NewMeterNo + ": " + delivery.FailureText(err)
		result = metercmdstore.Result{CommandID: in.ClearCommandID, Status: metercmddom.Failed, Failure: failure}
	}
	if err := finishMeterCommand(options.DB(ctx), result).Get(ctx, nil); err != nil {
		return written{}, "", err
	}
	if failure != "" {
		return written{}, failure, nil
	}
	if !moved.IsPositive() {
		return written{remaining: resp.Remaining}, "", nil
	}
	var sent metersstore.DispatchResult
	if err := dispatchRecharge(delivery.Device(ctx, in.DispatchWindow), metersstore.DispatchInput{
		RechargeID: in.ReplacementID, MeterID: in.NewMeterID, Amount: moved}).Get(ctx, &sent); err != nil {
		return written{}, fmt.Sprintf("write %s into new meter %s: %s", moved, in.NewMeterNo, delivery.FailureText(err)), nil
	}
	return written{remaining: sent.Remaining, purchaseCount: &sent.PurchaseCount}, "", nil
}

// oldDevice tries the old meter a bounded number of times: a meter that is
// being replaced is often broken, and the operator's reading is the way on.
func oldDevice(ctx workflow.Context, attempts int) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           names.DevicesQueue,
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 5 * time.Second, MaximumAttempts: int32(attempts),
			NonRetryableErrorTypes: []string{metersstore.ErrTypeMeterConfig, metercmdstore.ErrTypeRefused,
				metercmdstore.ErrTypeNotConfirmed}},
	})
}

// newDevice retries the new meter for the dispatch window.
func newDevice(ctx workflow.Context, window time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              names.DevicesQueue,
		ScheduleToCloseTimeout: window,
		StartToCloseTimeout:    15 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{metersstore.ErrTypeMeterConfig, metercmdstore.ErrTypeRefused,
				metercmdstore.ErrTypeNotConfirmed}},
	})
}

func withDefaults(in Input) Input {
	if in.ReadAttempts <= 0 {
		in.ReadAttempts = 3
	}
	if in.DispatchWindow <= 0 {
		in.DispatchWindow = 10 * time.Minute
	}
	if in.ManualTimeout <= 0 {
		in.ManualTimeout = 30 * 24 * time.Hour
	}
	return in
}
