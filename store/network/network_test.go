package network_test

import (
	"context"
	"errors"
	"testing"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/network"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

func station() network.Station {
	return network.Station{StationID: "44030000000000000900", OperatorID: registry.DemoOperatorID,
		EquipmentOwnerID: registry.DemoOperatorID, StationName: "S", CountryCode: "CN", AreaCode: "440305",
		Address: "Nanshan", ServiceTel: "400", StationType: 1, StationStatus: 50, StationLng: 113.9, StationLat: 22.5,
		Construction: 9, OpratorType: 1}
}

func equipment() network.Equipment {
	return network.Equipment{EquipmentID: "4403000000000000000900", StationID: "44030000000000000900",
		ManufacturerID: registry.DemoOperatorID, EquipmentType: 1, EquipmentName: "E", Power: 120, EquipmentStatus: 50,
		EquipmentPower: 120, NewNationalStandard: 2, Connectors: []network.Connector{{ConnectorID: "4403000000000000000900001",
			ConnectorName: "01#", ConnectorType: 4, VoltageUpperLimits: 750, VoltageLowerLimits: 200, Current: 200, Power: 60}}}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		field string
	}{
		{"station ok", station().Validate(), ""},
		{"station id too long", func() error { s := station(); s.StationID += "1"; return s.Validate() }(), "stationId"},
		{"station status outside table 2", func() error { s := station(); s.StationStatus = 2; return s.Validate() }(), "stationStatus"},
		{"picture not a URL", func() error { s := station(); s.Pictures = []string{"x.jpg"}; return s.Validate() }(), "pictures"},
		{"equipment ok", equipment().Validate(), ""},
		{"connector of other equipment", func() error {
			e := equipment()
			e.Connectors[0].ConnectorID = "4403000000000000000901001"
			return e.Validate()
		}(), "connectorInfos[0].connectorId"},
		{"connector 000", func() error {
			e := equipment()
			e.Connectors[0].ConnectorID = e.EquipmentID + "000"
			return e.Validate()
		}(),
			"connectorInfos[0].connectorId"},
		{"voltage range upside down", func() error { e := equipment(); e.Connectors[0].VoltageLowerLimits = 800; return e.Validate() }(),
			"connectorInfos[0].voltageUpperLimits"},
		{"no connectors", func() error { e := equipment(); e.Connectors = nil; return e.Validate() }(), "connectorInfos"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inv *network.InvalidError
			switch {
			case tc.field == "" && tc.err != nil:
				t.Fatalf("refused: %v", tc.err)
			case tc.field != "" && (!errors.As(tc.err, &inv) || inv.Field != tc.field || !errors.Is(tc.err, network.ErrInvalid)):
				t.Fatalf("got %v, want a refusal of %s", tc.err, tc.field)
			}
		})
	}
}

// A paused station pauses its connectors; a paused connector only itself.
func TestPaused(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	o := demo.Defaults()
	o.MetersPerGW, o.GatewayPorts, o.BcryptCost = 1, []int{15020}, 4
	l, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	project := l.ProjectID
	// The demo chargers are enrolled with the same store functions; their
	// station takes the project.
	if err := charger.LoadDemo(ctx, db, project); err != nil {
		t.Fatal(err)
	}
	if p, err := network.StationProject(ctx, db, registry.DemoStationID); err != nil || p != project {
		t.Fatalf("demo station project %q (%v), want %q", p, err, project)
	}
	if err := network.SaveStation(ctx, db, project, station(), true); err != nil {
		t.Fatal(err)
	}
	if err := network.SaveStation(ctx, db, project, station(), true); !errors.Is(err, network.ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := network.SaveEquipment(ctx, db, equipment(), true); err != nil {
		t.Fatal(err)
	}
	conn := equipment().Connectors[0].ConnectorID
	check := func(want bool) {
		t.Helper()
		got, err := network.Paused(ctx, db, conn)
		if err != nil || got != want {
			t.Fatalf("paused %v (%v), want %v", got, err, want)
		}
	}
	check(false)
	if err := network.SetConnectorPaused(ctx, db, conn, true); err != nil {
		t.Fatal(err)
	}
	check(true)
	if err := network.SetConnectorPaused(ctx, db, conn, false); err != nil {
		t.Fatal(err)
	}
	if err := network.SetStationPaused(ctx, db, station().StationID, true); err != nil {
		t.Fatal(err)
	}
	check(true)
	e, err := network.GetEquipment(ctx, db, equipment().EquipmentID)
	if err != nil || !e.Connectors[0].Paused || e.Connectors[0].OperatorID != registry.DemoOperatorID {
		t.Fatalf("equipment %+v (%v)", e, err)
	}
	// Registering its charge point: a password that works, rotated.
	cp := charger.ChargePoint{ID: equipment().EquipmentID, ProjectID: project, Protocol: "ocpp1.6j"}
	pw := charger.NewPassword()
	if err := charger.Register(ctx, db, cp, pw); err != nil {
		t.Fatal(err)
	}
	if err := charger.Register(ctx, db, cp, pw); !errors.Is(err, charger.ErrChargePointExists) {
		t.Fatalf("second registration: %v", err)
	}
	if err := charger.Register(ctx, db, charger.ChargePoint{ID: "nope", ProjectID: project, Protocol: "ocpp1.6j"}, pw); !errors.Is(err, charger.ErrUnknownEquipment) {
		t.Fatalf("registration of unknown equipment: %v", err)
	}
	pw2 := charger.NewPassword()
	if err := charger.RotatePassword(ctx, db, project, cp.ID, pw2); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{pw: false, pw2: true} {
		if ok, err := charger.Authenticate(ctx, db, cp.ID, p); err != nil || ok != want {
			t.Fatalf("authenticate: %v (%v), want %v", ok, err, want)
		}
	}
	// The regulator's view of the station is the same rows.
	st, err := registry.Stations(ctx, db, []string{station().StationID})
	if err != nil || len(st[0].EquipmentInfos) != 1 || len(st[0].EquipmentInfos[0].ConnectorInfos) != 1 {
		t.Fatalf("registry %+v (%v)", st, err)
	}
}
