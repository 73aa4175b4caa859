package access

import "testing"

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		user, password string
		ok             bool
	}{
		{"ops", "short1", false},
		{"ops", "onlyletterslong", false},
		{"ops", "1234567890123", false},
		{"alice", "xALICEx-2024-long", false},
		{"ops", "correct horse 9", true},
		{"ops", "Zhang-San-2024", true},
	}
	for _, tt := range tests {
		if err := CheckPassword(tt.user, tt.password); (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%q, %q) = %v, want ok=%v", tt.user, tt.password, err, tt.ok)
		}
	}
}
