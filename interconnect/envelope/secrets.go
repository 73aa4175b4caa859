package envelope

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Secrets is the key set of §10.1.4 assigned to one operator. Values are used
// as raw string bytes, as in the standard's examples (not hex-decoded).
//
// Secrets formats, logs and marshals as OperatorID only, so that it can be
// passed around and logged without leaking keys.
type Secrets struct {
	OperatorID     string // 9-character organisation code
	OperatorSecret string // used by query_token (appendix C)
	DataSecret     string // AES-128 key, 16 bytes
	DataSecretIV   string // AES-CBC IV, 16 bytes
	SigSecret      string // HMAC-MD5 key
}

const redacted = "[REDACTED]"

// String reports OperatorID only.
func (s Secrets) String() string {
	return "Secrets{OperatorID: " + s.OperatorID + ", secrets: " + redacted + "}"
}

// GoString keeps %#v from dumping the fields.
func (s Secrets) GoString() string { return "envelope." + s.String() }

// Format covers every verb (%d, %x, %+v …); String alone only covers some of
// them and fmt would otherwise print the raw fields.
func (s Secrets) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// LogValue implements slog.LogValuer.
func (s Secrets) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("OperatorID", s.OperatorID),
		slog.String("secrets", redacted),
	)
}

// MarshalJSON redacts too, because structured loggers often fall back to JSON.
// Unmarshalling is unaffected, so Secrets can still be loaded from config.
func (s Secrets) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		OperatorID     string
		OperatorSecret string
		DataSecret     string
		DataSecretIV   string
		SigSecret      string
	}{s.OperatorID, redacted, redacted, redacted, redacted})
}

var (
	_ fmt.Stringer   = Secrets{}
	_ fmt.Formatter  = Secrets{}
	_ slog.LogValuer = Secrets{}
	_ json.Marshaler = Secrets{}
)
