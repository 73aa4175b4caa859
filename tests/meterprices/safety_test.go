package meterprices

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/internal/eventually"
)

// registers reads n holding registers of a meter over Modbus TCP, as the
// gateway answers them.
func registers(t *testing.T, meterNo string, addr, n uint16) []uint16 {
	t.Helper()
	var unit int
	if _, err := fmtSscanf(meterNo, &unit); err != nil {
		t.Fatal(err)
	}
	c, err := mb.NewClient(&mb.ClientConfiguration{URL: stack.Fleet.Gateway(0).URL(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.SetUnitId(uint8(unit)); err != nil {
		t.Fatal(err)
	}
	regs, err := c.ReadRegisters(addr, n, mb.HOLDING_REGISTER)
	if err != nil {
		t.Fatalf("read %s 0x%04X: %v", meterNo, addr, err)
	}
	return regs
}

// relayStatus is the relay (0x0105) and status flags (0x010D) over TCP.
func relayStatus(t *testing.T, meterNo string) (uint16, uint16) {
	t.Helper()
	regs := registers(t, meterNo, 0x0105, 9)
	return regs[0], regs[8]
}

type meterSafety struct {
	Enforcement string
	Downloads   []struct{ CommandID string }
}

// TestSafetyLimitsDownloadedAndEnforcedByTheMeter: M0005's limits (3 kW
// maximum load, 2 kW malignant-load start, 1 trip allowed), set through
// the safety API, go into its limit block as set_safety_limits; the
// simulated meter then trips itself: over 3 kW it opens its relay with
// status bit 3, closes it after 3 minutes, and on the second trip stays
// open until switched on; a 2.5 kW step trips it with bit 4. A project's
// limits go to its block meters without limits of their own.
func TestSafetyLimitsDownloadedAndEnforcedByTheMeter(t *testing.T) {
	blocks(t, "M0005")
	admin := stack.Login(t, "admin", "admin")
	var ms meterSafety
	if code := admin.Do(t, http.MethodPut, "/api/v1/meters/M0005/safety-limits", map[string]any{"maxLoadKw": "3",
		"malignantStartKw": "2", "allowedTrips": 1}, &ms); code != http.StatusOK || ms.Enforcement != "meter" || len(ms.Downloads) != 1 {
		t.Fatalf("limits of M0005: %d %+v", code, ms)
	}
	var c command
	eventually.True(t, time.Minute, "set_safety_limits done", func() (bool, string) {
		c = command{}
		admin.Do(t, http.MethodGet, "/api/v1/meter-commands/"+ms.Downloads[0].CommandID, nil, &c)
		return c.Status == "done", c.Status + " " + c.Failure
	})
	if c.Command != "set_safety_limits" || c.Args["max_load"] != 3000 || c.Args["malignant_start"] != 2000 || c.Args["allowed_trips"] != 1 {
		t.Fatalf("download %+v", c)
	}
	if regs := registers(t, "M0005", 0x0140, 6); regs[1] != 3000 || regs[3] != 2000 || regs[4] != 1 {
		t.Fatalf("limit block reads %v", regs)
	}

	m := stack.Fleet.Gateway(0).Meter(5)
	m.SetLoad(1000)
	m.SetLoad(2500) // +1.5 kW steps: below the malignant start
	stack.Fleet.Advance(time.Minute)
	if relay, st := relayStatus(t, "M0005"); relay != profile.RelayClosed || st&(profile.StatusOverloadTrip|profile.StatusMalignantTrip) != 0 {
		t.Fatalf("2.5 kW under 3 kW: relay %d, status %b", relay, st)
	}
	m.SetLoad(4000) // over the 3 kW maximum
	stack.Fleet.Advance(time.Minute)
	if relay, st := relayStatus(t, "M0005"); relay != profile.RelayOpen || st&profile.StatusOverloadTrip == 0 {
		t.Fatalf("4 kW: relay %d, status %b; want open, bit 3", relay, st)
	}
	m.SetLoad(2500) // the heater went off meanwhile: back on after 3 minutes
	stack.Fleet.Advance(2*time.Minute + time.Second)
	if relay, _ := relayStatus(t, "M0005"); relay != profile.RelayClosed {
		t.Fatalf("3 minutes after the trip: relay %d, want closed", relay)
	}
	m.SetLoad(4000) // the second trip is past the one allowed
	stack.Fleet.Advance(time.Minute)
	stack.Fleet.Advance(30 * time.Minute)
	if relay, st := relayStatus(t, "M0005"); relay != profile.RelayOpen || st&profile.StatusOverloadTrip == 0 {
		t.Fatalf("locked out: relay %d, status %b", relay, st)
	}
	if regs := registers(t, "M0005", 0x0145, 1); regs[0] != 2 {
		t.Fatalf("trip count %d, want 2", regs[0])
	}
	// A cashier cannot restore it; a manager can once the load is gone:
	// the limits are written again, which clears the meter's lockout.
	m.SetLoad(1000)
	cashier := stack.Login(t, "cashier", "cashier")
	if code := cashier.Do(t, http.MethodPost, "/api/v1/meters/M0005/safety/restore", map[string]string{"comment": "ok"}, nil); code != http.StatusForbidden {
		t.Fatalf("cashier's restore: %d, want 403", code)
	}
	var restored meterSafety
	if code := admin.Do(t, http.MethodPost, "/api/v1/meters/M0005/safety/restore", map[string]string{"comment": "heater removed"}, &restored); code != http.StatusOK ||
		len(restored.Downloads) != 1 {
		t.Fatalf("manager's restore: %d %+v", code, restored)
	}
	eventually.True(t, time.Minute, "M0005 back on", func() (bool, string) {
		relay, st := relayStatus(t, "M0005")
		return relay == profile.RelayClosed && st&profile.StatusOverloadTrip == 0, ""
	})
	m.SetLoad(3500) // +2.5 kW at once: a malignant load
	stack.Fleet.Advance(time.Second)
	if relay, st := relayStatus(t, "M0005"); relay != profile.RelayOpen || st&profile.StatusMalignantTrip == 0 {
		t.Fatalf("malignant step: relay %d, status %b; want open, bit 4", relay, st)
	}
	m.SetLoad(0)

	// The project's limits: M0001–M0003 have the block and no limits of
	// their own; M0004 is ref-prepaid-v1 (platform enforcement), M0005 has
	// its own.
	blocks(t, "M0001", "M0002", "M0003")
	var ps meterSafety
	if code := admin.Do(t, http.MethodPut, "/api/v1/projects/demo/safety-limits", map[string]any{"maxLoadKw": "20"}, &ps); code != http.StatusOK || len(ps.Downloads) != 3 {
		t.Fatalf("project limits: %d %+v", code, ps)
	}
	var m4 meterSafety
	admin.Do(t, http.MethodGet, "/api/v1/meters/M0004/safety-limits", nil, &m4)
	if m4.Enforcement != "platform" {
		t.Fatalf("M0004 (no block): enforcement %q", m4.Enforcement)
	}
}

func fmtSscanf(meterNo string, unit *int) (int, error) { return fmt.Sscanf(meterNo, "M%d", unit) }
