package modbus

import (
	"errors"
	"fmt"

	mb "github.com/simonvetter/modbus"
)

// Errors callers decide on; match them with errors.Is.
//
// The difference that matters for writes: after ErrRefused the meter has
// answered and applied nothing; after ErrUnreachable the outcome is unknown
// (the write may have reached the meter and only the answer got lost), so
// read the purchase counter back before deciding to retry.
var (
	// ErrRefused: the meter answered with exception 04. Under
	// ref-prepaid-v1 that is a recharge or refund whose counter is not
	// current+1, a refund larger than the remaining money, or a switch-off
	// in protect mode.
	ErrRefused = errors.New("meter refused the request")
	// ErrUnreachable: no answer from the meter — the gateway cannot be
	// dialled, the connection broke, the request timed out, or the gateway
	// reported the meter silent or busy (exceptions 06, 0A, 0B).
	ErrUnreachable = errors.New("meter unreachable")
	// ErrClosed: the Gateway was closed.
	ErrClosed = errors.New("gateway closed")
	// ErrBadUnit: a unit id outside 1..247.
	ErrBadUnit = errors.New("unit id outside 1..247")
)

// Modbus exception codes with a meaning for callers.
const (
	ExIllegalFunction    = 0x01
	ExIllegalDataAddress = 0x02
	ExIllegalDataValue   = 0x03
	ExDeviceFailure      = 0x04 // meters use it for "refused"
	ExDeviceBusy         = 0x06
	ExGatewayPath        = 0x0A // gateway has no path to the unit
	ExGatewayTarget      = 0x0B // unit did not answer the gateway
)

// ExceptionError is a Modbus exception response: the meter (or the gateway
// on its behalf) answered, and said no. Use errors.As to read the code.
type ExceptionError struct {
	Unit uint8
	Code uint8
}

func (e *ExceptionError) Error() string {
	msg := fmt.Sprintf("exception 0x%02X (%s)", e.Code, exceptionText(e.Code))
	for _, meaning := range []error{ErrRefused, ErrUnreachable} {
		if e.Is(meaning) {
			msg += ": " + meaning.Error()
		}
	}
	return msg
}

// Is makes errors.Is(err, ErrRefused) and errors.Is(err, ErrUnreachable)
// hold for the exception codes that mean those.
func (e *ExceptionError) Is(target error) bool {
	switch target {
	case ErrRefused:
		return e.Code == ExDeviceFailure
	case ErrUnreachable:
		return e.Code == ExDeviceBusy || e.Code == ExGatewayPath || e.Code == ExGatewayTarget
	}
	return false
}

// libExceptions maps the library's exception errors back to their codes:
// it reports exceptions as plain error values, not as a type with the code.
var libExceptions = []struct {
	err  error
	code uint8
	text string
}{
	{mb.ErrIllegalFunction, ExIllegalFunction, "illegal function"},
	{mb.ErrIllegalDataAddress, ExIllegalDataAddress, "illegal data address"},
	{mb.ErrIllegalDataValue, ExIllegalDataValue, "illegal data value"},
	{mb.ErrServerDeviceFailure, ExDeviceFailure, "server device failure"},
	{mb.ErrAcknowledge, 0x05, "acknowledge"},
	{mb.ErrServerDeviceBusy, ExDeviceBusy, "server device busy"},
	{mb.ErrMemoryParityError, 0x08, "memory parity error"},
	{mb.ErrGWPathUnavailable, ExGatewayPath, "gateway path unavailable"},
	{mb.ErrGWTargetFailedToRespond, ExGatewayTarget, "gateway target failed to respond"},
}

func exceptionCode(err error) (uint8, bool) {
	for _, e := range libExceptions {
		if errors.Is(err, e.err) {
			return e.code, true
		}
	}
	return 0, false
}

func exceptionText(code uint8) string {
	for _, e := range libExceptions {
		if e.code == code {
			return e.text
		}
	}
	return "unknown"
}
