package simulator

import (
	"path/filepath"
	"testing"
)

func TestSaveRestoreKeepsMeters(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:0", Gateways: 2, Meters: 3, Meter: MeterConfig{Remaining: 5000, UnitPrice: 12000}}
	a, err := NewFleet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := a.Gateway(1).Meter(2)
	if err := m.Recharge(1, 1234); err != nil {
		t.Fatal(err)
	}
	if err := m.SwitchOff(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "meters.json")
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	b, err := NewFleet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Restore(path); err != nil {
		t.Fatal(err)
	}
	got, want := b.Gateway(1).Meter(2).State(), m.State()
	if got.Remaining != want.Remaining || got.PurchaseCount != 1 || got.Relay != want.Relay || !got.SwitchedOff {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
	if b.Gateway(0).Meter(1).State().PurchaseCount != 0 {
		t.Fatal("untouched meter changed")
	}
	if err := b.Restore(filepath.Join(t.TempDir(), "missing.json")); err != nil {
		t.Fatalf("missing file is a first start: %v", err)
	}
}
