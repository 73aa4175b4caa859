package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/network"
)

// Demo ids (contracts.md, "Charging").
const (
	DemoOperatorID = "123456789"
	DemoStationID  = "44030000000000000001"
)

// DemoEquipmentIDs are the two 480 kW split chargers of the demo station.
var DemoEquipmentIDs = [...]string{"4403000000000000000001", "4403000000000000000002"}

// DemoConnectorsPerEquipment is the number of connectors of each demo charger.
const DemoConnectorsPerEquipment = 12

// LoadDemo adds the contract's charging demo: operator 123456789, station
// 44030000000000000001, two split chargers with connectors <equipment id>001
// … 012, every connector idle. The station and chargers are created through
// store/network, as the API creates an operator's. Existing rows are left
// alone, so it is safe on every start.
func LoadDemo(ctx context.Context, db *store.DB) error {
	if _, err := db.Exec(ctx, `insert into charging_operators (operator_id, operator_name, operator_tel1, operator_tel2,
		operator_reg_address) values ($1, 'Voltflow Demo Charging Co.', '0755-00000000', '13800000000', 'Shenzhen')
		on conflict do nothing`, DemoOperatorID); err != nil {
		return fmt.Errorf("demo operator: %w", err)
	}
	return addStation(ctx, db, DemoStationID, "Demo Mall Charging Station", DemoEquipmentIDs[:], DemoConnectorsPerEquipment)
}

// AddStations adds n further stations of the demo's shape (equipment ×
// connectors each) under the demo operator, for load tests: station ids
// 4403xxxxxxxxxxxx1000+i, equipment <station tail>… as 22 digits.
func AddStations(ctx context.Context, db *store.DB, n, equipment, connectors int) ([]string, error) {
	var ids []string
	for i := range n {
		station := fmt.Sprintf("4403%016d", 1000+i)
		var eqs []string
		for j := range equipment {
			eqs = append(eqs, fmt.Sprintf("44%08d%012d", 1000+i, j+1))
		}
		if err := addStation(ctx, db, station, fmt.Sprintf("Load Station %d", i), eqs, connectors); err != nil {
			return ids, err
		}
		ids = append(ids, station)
	}
	return ids, nil
}

// addStation creates a demo-shaped station unless it exists (in no
// project: the demo's chargers give it theirs when enrolled), its
// equipment unless each exists, and an idle status for each connector.
func addStation(ctx context.Context, db *store.DB, stationID, name string, equipment []string, connectors int) error {
	all := 1
	st := network.Station{StationID: stationID, OperatorID: DemoOperatorID, EquipmentOwnerID: DemoOperatorID,
		StationName: name, CountryCode: "CN", AreaCode: "440305", Address: "Nanshan District, Shenzhen",
		StationTel: "13800000000", ServiceTel: "400-000-0000", StationType: 1, StationStatus: 50,
		ParkNums: len(equipment) * connectors, StationLng: 114.057868, StationLat: 22.543099,
		SiteGuide: "B2 car park, bays 1-24", Construction: 9, Pictures: []string{}, BusineHours: "00:00-24:00",
		Payment: "online", SupportOrder: new(int), OpenAllDay: &all, ParkFree: new(int), OpratorType: 1}
	if err := network.SaveStation(ctx, db, "", st, true); err != nil && !errors.Is(err, network.ErrExists) {
		return fmt.Errorf("station %s: %w", stationID, err)
	}
	for i, eq := range equipment {
		e := network.Equipment{EquipmentID: eq, StationID: stationID, ManufacturerID: DemoOperatorID,
			EquipmentModel: "SPLIT-480", ProductionDate: "2024-01-15", EquipmentType: 1,
			EquipmentName: fmt.Sprintf("#%02d split charger", i+1), Power: 480, ManufacturerName: "Demo Power",
			EquipmentStatus: 50, EquipmentPower: 480, NewNationalStandard: 2}
		for k := 1; k <= connectors; k++ {
			e.Connectors = append(e.Connectors, network.Connector{ConnectorID: fmt.Sprintf("%s%03d", eq, k),
				ConnectorName: fmt.Sprintf("%02d#", k), ConnectorType: 4, VoltageUpperLimits: 1000,
				VoltageLowerLimits: 200, Current: 250, Power: 160, ParkNo: fmt.Sprintf("P%d-%02d", i+1, k),
				Voltage: 750, BMSPowerType: 3})
		}
		if err := network.SaveEquipment(ctx, db, e, true); err != nil && !errors.Is(err, network.ErrExists) {
			return fmt.Errorf("equipment %s: %w", eq, err)
		}
		// Idle until the charger says otherwise (the demo's chargers are
		// simulated and connect at once).
		if _, err := db.Exec(ctx, `insert into connector_status (connector_id, status, park_status, lock_status)
			select c.connector_id, 1, 10, 10 from charging_connectors c where c.equipment_id=$1
			on conflict do nothing`, eq); err != nil {
			return fmt.Errorf("equipment %s status: %w", eq, err)
		}
	}
	return nil
}
