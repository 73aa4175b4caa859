package alarm

import (
	"encoding/json"
	"testing"
)

// A carry written before the stage machine moved to domain/alarm (its
// fields then sat in State itself) decodes and encodes unchanged: running
// alarms continue-as-new across the upgrade.
func TestStateCarryKeepsItsJSON(t *testing.T) {
	const carry = `{"alarmId":"run-1","policy":{"projectId":"p","meterNo":"M0001","mode":"staged","alarmAmount":"20.00",` +
		`"ratios":["1","0.5","0.2"],"quiet":{"start":1320,"end":480,"offsetMinutes":480},"rechargeSms":true,"recipients":null},` +
		`"remaining":"9.00","done":["low_1"],"pending":"low_2","pendingAt":"2026-03-03T00:00:00Z","daily":0,"nextDaily":"0001-01-01T00:00:00Z"}`
	var st State
	if err := json.Unmarshal([]byte(carry), &st); err != nil {
		t.Fatal(err)
	}
	if st.Remaining.String() != "9.00" || len(st.Done) != 1 || st.Done[0] != "low_1" || st.Pending != "low_2" || st.PendingAt.IsZero() {
		t.Fatalf("decoded %+v", st)
	}
	out, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != carry {
		t.Fatalf("encoded\n%s\nwant\n%s", out, carry)
	}
}
