package keys

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/voltflow/voltflow/interconnect/envelope"
)

// ErrInvalid is a credential set the exchange could not use.
var ErrInvalid = errors.New("keys: invalid regulator credentials")

// Check refuses a set the envelope cannot use (DataSecret and DataSecretIV
// 16 bytes, SigSecret present), an empty OperatorSecret, or an OperatorID
// longer than the standard's 9 characters.
func Check(sec envelope.Secrets) error {
	if _, err := envelope.NewCodec(sec); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if sec.OperatorSecret == "" {
		return fmt.Errorf("%w: OperatorSecret empty", ErrInvalid)
	}
	if len(sec.OperatorID) > 9 {
		return fmt.Errorf("%w: OperatorID longer than 9 characters", ErrInvalid)
	}
	return nil
}

// secretNames are the four secrets in the order ReadSecrets takes lines.
var secretNames = []string{"OperatorSecret", "DataSecret", "DataSecretIV", "SigSecret"}

// ReadSecrets reads the four secrets of operatorID from r (never from a
// command line, where ps and shell history keep them): a JSON object
// {"operatorSecret","dataSecret","dataSecretIV","sigSecret"} (names in any
// case), or four lines in that order, each either the bare value or
// Name=value.
func ReadSecrets(r io.Reader, operatorID string) (envelope.Secrets, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return envelope.Secrets{}, fmt.Errorf("keys: read secrets: %w", err)
	}
	sec := envelope.Secrets{OperatorID: operatorID}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		var j struct{ OperatorSecret, DataSecret, DataSecretIV, SigSecret string }
		if err := json.Unmarshal(t, &j); err != nil {
			return envelope.Secrets{}, fmt.Errorf("%w: secrets JSON: %w", ErrInvalid, err)
		}
		sec.OperatorSecret, sec.DataSecret, sec.DataSecretIV, sec.SigSecret = j.OperatorSecret, j.DataSecret, j.DataSecretIV, j.SigSecret
		return sec, Check(sec)
	}
	var values []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(values) == len(secretNames) {
			return envelope.Secrets{}, fmt.Errorf("%w: more than %d lines", ErrInvalid, len(secretNames))
		}
		name, value, ok := strings.Cut(line, "=")
		if ok && strings.EqualFold(strings.TrimSpace(name), secretNames[len(values)]) {
			line = value
		}
		values = append(values, line)
	}
	if len(values) != len(secretNames) {
		return envelope.Secrets{}, fmt.Errorf("%w: want %d lines (%s), got %d", ErrInvalid, len(secretNames),
			strings.Join(secretNames, ", "), len(values))
	}
	sec.OperatorSecret, sec.DataSecret, sec.DataSecretIV, sec.SigSecret = values[0], values[1], values[2], values[3]
	return sec, Check(sec)
}
