package dlt645

import (
	"fmt"
	"strings"
)

// ErrorCode is the error word (ERR) a meter sends in an abnormal response.
// Several bits may be set. An ErrorCode is itself an error so callers can
// write errors.Is(err, dlt645.CodeUnauthorized).
type ErrorCode byte

// Error word bits defined by DL/T 645-2007; bit 7 is reserved.
const (
	CodeOther              ErrorCode = 1 << 0 // other error
	CodeNoData             ErrorCode = 1 << 1 // no data requested / identifier unsupported
	CodeUnauthorized       ErrorCode = 1 << 2 // password error or not authorised
	CodeBaudRateFixed      ErrorCode = 1 << 3 // communication rate cannot be changed
	CodeYearZonesExceeded  ErrorCode = 1 << 4 // too many yearly time zones
	CodeDayPeriodsExceeded ErrorCode = 1 << 5 // too many daily periods
	CodeTariffsExceeded    ErrorCode = 1 << 6 // too many tariffs
)

var codeNames = [...]string{
	"other error",
	"no data requested",
	"password error/unauthorised",
	"baud rate cannot be changed",
	"year time zones exceeded",
	"daily periods exceeded",
	"tariffs exceeded",
	"reserved bit 7",
}

func (c ErrorCode) Error() string {
	if c == 0 {
		return "dlt645: no error bits set"
	}
	var parts []string
	for i, n := range codeNames {
		if c&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return "dlt645: " + strings.Join(parts, ", ")
}

// MeterError is an abnormal response (D6 set). Code is 0 if the meter sent
// no error word.
type MeterError struct {
	Control Control
	Code    ErrorCode
}

func (e *MeterError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("dlt645: meter rejected function %s (control %s, no error word)", e.Control.Function(), e.Control)
	}
	return fmt.Sprintf("dlt645: meter rejected function %s (control %s, ERR 0x%02X): %s",
		e.Control.Function(), e.Control, byte(e.Code), strings.TrimPrefix(e.Code.Error(), "dlt645: "))
}

// Is matches an ErrorCode target when all of its bits are set in e.Code.
func (e *MeterError) Is(target error) bool {
	c, ok := target.(ErrorCode)
	return ok && c != 0 && e.Code&c == c
}

// ErrorResponse builds a meter's abnormal response to request function fn.
func ErrorResponse(addr Address, fn Control, code ErrorCode) Frame {
	return Frame{Address: addr, Control: fn.AbnormalResponse(), Data: []byte{byte(code)}}
}
