package access

import "testing"

func TestCan(t *testing.T) {
	g := Grants{"p1": {Cashier}, "p2": {Approver}, "hq": {HQ}}
	tests := []struct {
		project string
		action  Action
		want    bool
	}{
		{"p1", SellEnergy, true},
		{"p1", DecideApproval, false},
		{"p2", DecideApproval, true},
		{"p2", SellEnergy, false},
		{"p3", ViewData, false},
		{"p1", ControlMeter, true}, // the sale terminal's 拉闸/合闸
		{"p1", DispatchStation, false},
		{"p2", ControlMeter, false},
		{"hq", ViewData, true}, // group HQ reads every project of its organisation
		{"hq", SellEnergy, false},
		{"hq", ControlMeter, false},
		{"hq", DecideApproval, false},
		{"hq", OpenAccount, false},
	}
	for _, tt := range tests {
		if got := g.Can(tt.project, tt.action); got != tt.want {
			t.Errorf("Can(%s,%s) = %v", tt.project, tt.action, got)
		}
	}
	if HQ.Valid() {
		t.Error("hq is not a project role")
	}
	if !(Grants{"p": {Admin}}).Has("p", Approver) || g.Has("p1", Approver) {
		t.Error("Has")
	}
}
