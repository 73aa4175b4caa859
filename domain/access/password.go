package access

import (
	"errors"
	"strings"
	"unicode"
)

// MinPasswordLength is the shortest password an operator may choose.
const MinPasswordLength = 10

// CheckPassword is the strength rule for a password an operator sets: at
// least MinPasswordLength characters, letters and at least one digit or
// symbol, and not the username (the demo's default) in any case.
func CheckPassword(username, password string) error {
	if len([]rune(password)) < MinPasswordLength {
		return errors.New("password: at least 10 characters")
	}
	var letter, other bool
	for _, r := range password {
		if unicode.IsLetter(r) {
			letter = true
		} else if !unicode.IsSpace(r) {
			other = true
		}
	}
	if !letter || !other {
		return errors.New("password: needs letters and at least one digit or symbol")
	}
	if username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)) {
		return errors.New("password: must not contain the username")
	}
	return nil
}
