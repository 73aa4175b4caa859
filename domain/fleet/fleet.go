// Package fleet holds the rules of vehicles and fleets (C6): bus routes
// (公交线路) vehicles are bound to, and the per-vehicle charging statistics
// by TOU period.
package fleet

import (
	"errors"
	"regexp"
	"slices"
	"strings"
)

// Route is a bus route a vehicle may be bound to.
type Route struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Errors of validation; each names its field.
var (
	ErrCode = errors.New("code must be 1-32 characters of letters, digits, '-', '_'")
	ErrName = errors.New("name must be 1-100 characters")
)

var codeSyntax = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Validate checks a route; the error names the field.
func (r Route) Validate() (field string, err error) {
	if !codeSyntax.MatchString(r.Code) {
		return "code", ErrCode
	}
	if n := len([]rune(strings.TrimSpace(r.Name))); n == 0 || n > 100 {
		return "name", ErrName
	}
	return "", nil
}

// periodOrder is how statistics list TOU periods: 尖, 峰, 平, 谷.
var periodOrder = []string{"sharp", "peak", "flat", "valley"}

// PeriodRank orders TOU periods for display (unknown periods last).
func PeriodRank(period string) int {
	if i := slices.Index(periodOrder, period); i >= 0 {
		return i
	}
	return len(periodOrder)
}
