package card

import (
	"errors"
	"testing"
)

func TestChange(t *testing.T) {
	cases := []struct {
		from, to Status
		changed  bool
		err      error
	}{
		{Active, Frozen, true, nil},
		{Frozen, Active, true, nil},
		{Frozen, Frozen, false, nil},
		{Active, Active, false, nil},
		{Active, Void, true, nil},
		{Frozen, Void, true, nil},
		{Void, Active, false, ErrFinal},
		{Void, Void, false, ErrFinal},
		{Active, "lost", false, ErrTransition},
	}
	for _, c := range cases {
		changed, err := Change(c.from, c.to)
		if changed != c.changed || !errors.Is(err, c.err) {
			t.Errorf("Change(%s, %s) = %v, %v; want %v, %v", c.from, c.to, changed, err, c.changed, c.err)
		}
	}
	if MayCharge(Frozen) || MayCharge(Void) || !MayCharge(Active) {
		t.Error("only an active card may charge")
	}
}
