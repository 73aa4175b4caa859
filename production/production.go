// Package production says whether this process is a production start: one
// switch, VOLTFLOW_ENV=production, read by every part that behaves
// differently there (readiness check, regulator credentials, demo data).
package production

// Env and Value are the switch: VOLTFLOW_ENV=production.
const (
	Env   = "VOLTFLOW_ENV"
	Value = "production"
	// DeprecatedEnv=1 is the older spelling, still accepted with a warning.
	DeprecatedEnv = "VOLTFLOW_PRODUCTION"
)

// Enabled reports whether the switch is on, and whether only through the
// deprecated spelling (the caller warns).
func Enabled(getenv func(string) string) (on, deprecated bool) {
	if getenv(Env) == Value {
		return true, false
	}
	if getenv(DeprecatedEnv) == "1" {
		return true, true
	}
	return false, false
}
