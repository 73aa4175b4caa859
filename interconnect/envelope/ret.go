package envelope

import (
	"errors"
	"strconv"
)

// Ret is a response code from table 81 of DB4403/T 77-2020.
type Ret int

// Ret codes defined by the standard.
const (
	RetBusy            Ret = -1   // system busy; the caller should retry later
	RetOK              Ret = 0    // success
	RetSignature       Ret = 4001 // signature error
	RetToken           Ret = 4002 // token error
	RetEnvelope        Ret = 4003 // POST parameters invalid: one of the five envelope fields missing or malformed
	RetBusinessInvalid Ret = 4004 // business parameters invalid
	RetSystem          Ret = 500  // system error
)

// String returns the code and its meaning, e.g. "4001 signature error".
func (r Ret) String() string {
	return strconv.Itoa(int(r)) + " " + r.text()
}

// DefaultMsg is the short English meaning of ret ("success" for 0), the
// Msg our answers send when they have nothing more specific to say.
func DefaultMsg(ret Ret) string { return ret.text() }

// text is the short English meaning, used as the default Msg.
func (r Ret) text() string {
	switch r {
	case RetBusy:
		return "system busy"
	case RetOK:
		return "success"
	case RetSignature:
		return "signature error"
	case RetToken:
		return "token error"
	case RetEnvelope:
		return "envelope parameter missing or invalid"
	case RetBusinessInvalid:
		return "business parameter invalid"
	case RetSystem:
		return "system error"
	default:
		return "unknown"
	}
}

// Sentinel causes, matched with errors.Is. They are wrapped in *Error so the
// Ret code travels with them.
var (
	ErrMissingField    = errors.New("required envelope field missing")
	ErrMalformed       = errors.New("malformed envelope")
	ErrSignature       = errors.New("signature mismatch")
	ErrDecrypt         = errors.New("cannot decrypt Data")
	ErrPayload         = errors.New("invalid business payload")
	ErrStaleTimeStamp  = errors.New("stale TimeStamp: outside accepted window")
	ErrReplay          = errors.New("replayed OperatorID/TimeStamp/Seq")
	ErrReplayCacheFull = errors.New("replay cache full")
	ErrSeqExhausted    = errors.New("no Seq left in this second")
	ErrRemote          = errors.New("peer returned an error")
	ErrInvalidSecrets  = errors.New("invalid secrets")
)

// Error is an envelope failure together with the Ret code to answer it with.
type Error struct {
	Ret Ret    // code for the response (or the code the peer answered with, see ErrRemote)
	Msg string // text that is safe to send to the peer; empty means Ret's default text
	Err error  // cause; may contain detail that should not be sent to the peer
}

func (e *Error) Error() string {
	tag := "ret " + e.Ret.String()
	if e.Msg != "" {
		tag += ", msg " + strconv.Quote(e.Msg)
	}
	if e.Err == nil {
		return "envelope: " + tag
	}
	return e.Err.Error() + " (" + tag + ")"
}

func (e *Error) Unwrap() error { return e.Err }

// RetOf maps err to the Ret code for a response: nil is RetOK, an *Error
// anywhere in the chain gives its code, anything else is RetSystem.
func RetOf(err error) Ret {
	if err == nil {
		return RetOK
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Ret
	}
	return RetSystem
}

// MsgOf returns a Msg for err that is safe to send to the peer: the *Error's
// Msg, else the default text of RetOf(err). Causes are never included because
// they may reveal internals.
func MsgOf(err error) string {
	if e, ok := errors.AsType[*Error](err); ok && e.Msg != "" {
		return e.Msg
	}
	return RetOf(err).text()
}
