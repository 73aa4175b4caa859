package production

import "testing"

func TestEnabled(t *testing.T) {
	tests := []struct {
		env            map[string]string
		on, deprecated bool
	}{
		{map[string]string{}, false, false},
		{map[string]string{Env: "production"}, true, false},
		{map[string]string{Env: "staging"}, false, false},
		{map[string]string{DeprecatedEnv: "1"}, true, true},
		{map[string]string{DeprecatedEnv: "0"}, false, false},
		{map[string]string{Env: "production", DeprecatedEnv: "1"}, true, false},
	}
	for _, tt := range tests {
		on, dep := Enabled(func(k string) string { return tt.env[k] })
		if on != tt.on || dep != tt.deprecated {
			t.Errorf("%v: on=%v deprecated=%v, want %v %v", tt.env, on, dep, tt.on, tt.deprecated)
		}
	}
}
