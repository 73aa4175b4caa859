// Package card holds the rules of charging cards (充电卡, C3): their states
// and which changes are allowed. No I/O.
package card

import (
	"errors"
	"fmt"
)

// Status of a card.
type Status string

// Card states. A void card is final: it is never used again.
const (
	Active Status = "active" // 正常
	Frozen Status = "frozen" // 冻结 (lost, disputed, or on the holder's request)
	Void   Status = "void"   // 作废
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == Active || s == Frozen || s == Void }

// ErrFinal is returned for any change to a void card.
var ErrFinal = errors.New("card is void")

// ErrTransition is returned for a change the states do not allow.
var ErrTransition = errors.New("card status change not allowed")

// Change checks a status change. Setting the status a card already has is
// allowed (a repeated freeze is a no-op, not an error) and reports changed
// false.
func Change(from, to Status) (changed bool, err error) {
	if !to.Valid() {
		return false, fmt.Errorf("%w: unknown status %q", ErrTransition, to)
	}
	switch {
	case from == Void:
		return false, ErrFinal
	case from == to:
		return false, nil
	case from == Active && to == Frozen, from == Frozen && to == Active, to == Void:
		return true, nil
	}
	return false, fmt.Errorf("%w: %s → %s", ErrTransition, from, to)
}

// MayCharge reports whether a card in status s may start a charging session.
func MayCharge(s Status) bool { return s == Active }
