// Package identifier holds the formats of the business numbers clients
// send: a vehicle's VIN and plate, a charging card's number and a meter's
// number. The API refuses a malformed one before it looks anything up, so
// a typo is told apart from a number that is well formed but unknown.
package identifier

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The errors say the rule, to follow the field's name in a problem detail.
var (
	ErrVIN     = errors.New("must be 17 characters of 0-9 and A-Z without I, O or Q")
	ErrPlate   = errors.New("must be a Chinese plate: province character, letter A-Z, then 5 letters or digits (6 for new energy), e.g. 粤B12345")
	ErrCardNo  = errors.New("must be 1 to 32 characters of A-Z, a-z, 0-9, _ or -")
	ErrMeterNo = errors.New("must be 1 to 32 characters, without spaces, control characters or / ? # %")
)

// VIN checks a vehicle identification number (GB 16735, ISO 3779): 17
// characters, I, O and Q excluded as too like 1 and 0. The check digit in
// position 9 is not enforced: GB 16735 does not require it of every maker.
func VIN(s string) error {
	if len(s) != 17 {
		return ErrVIN
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !(c >= 'A' && c <= 'Z') || c == 'I' || c == 'O' || c == 'Q' {
			return ErrVIN
		}
	}
	return nil
}

// provinces are the first characters of a plate (车牌省份简称).
const provinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

// suffixes end a 7-character plate of a special kind: trailer 挂, driving
// school 学, police 警, Hong Kong 港 and Macao 澳 vehicles.
const suffixes = "挂学警港澳"

// Plate checks a Chinese plate number (号牌, GA 36): province, issuing
// authority letter, then 5 letters or digits (ordinary, 7 characters) or 6
// (new energy 新能源, 8 characters). A 7-character plate may end in a
// special-kind suffix instead of its last letter or digit.
func Plate(s string) error {
	r := []rune(s)
	if len(r) != 7 && len(r) != 8 || !strings.ContainsRune(provinces, r[0]) || r[1] < 'A' || r[1] > 'Z' {
		return ErrPlate
	}
	rest := r[2:]
	if len(r) == 7 && strings.ContainsRune(suffixes, rest[len(rest)-1]) {
		rest = rest[:len(rest)-1]
	}
	for _, c := range rest {
		if c >= utf8.RuneSelf || !isDigit(byte(c)) && !(c >= 'A' && c <= 'Z') {
			return ErrPlate
		}
	}
	return nil
}

// CardNo checks a charging card's number: printed on the card and typed at
// a desk, so plain ASCII letters, digits, _ and - (the demo's D0000001).
func CardNo(s string) error {
	if len(s) == 0 || len(s) > 32 {
		return ErrCardNo
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && c != '_' && c != '-' {
			return ErrCardNo
		}
	}
	return nil
}

// MeterNo checks a meter's number, the rule the meter import has always
// applied (at most 32 bytes; no space, tab or / ? # %, which would break
// the /meters/{meterNo} paths), and no control characters. Other
// characters are allowed: utilities number meters in their own ways.
func MeterNo(s string) error {
	if len(s) == 0 || len(s) > 32 || strings.ContainsAny(s, " \t/?#%") || !utf8.ValidString(s) {
		return ErrMeterNo
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return ErrMeterNo
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
