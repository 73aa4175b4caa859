package main

import (
	"testing"

	"github.com/voltflow/voltflow/devices/simulator"
)

func TestMeterSimProtocolFlag(t *testing.T) {
	cfg, err := meterSimFlags(nil)
	if err != nil || cfg.Protocol != simulator.ProtocolModbusTCP {
		t.Fatalf("default protocol %q, %v", cfg.Protocol, err)
	}
	for _, p := range []string{"modbus-rtu-tcp", "dlt645"} {
		cfg, err := meterSimFlags([]string{"--protocol", p, "--gateways", "2"})
		if err != nil || cfg.Protocol != p || cfg.Gateways != 2 {
			t.Fatalf("--protocol %s: %+v, %v", p, cfg, err)
		}
	}
	if _, err := meterSimFlags([]string{"--protocol", "mbus"}); err == nil {
		t.Fatal("--protocol mbus accepted")
	}
}
