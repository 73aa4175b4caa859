package registry

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
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
// … 012, every connector idle. Existing rows are left alone, so it is safe on
// every start.
func LoadDemo(ctx context.Context, db *store.DB) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `insert into charging_operators (operator_id, operator_name, operator_tel1, operator_tel2,
			operator_reg_address) values ($1, 'Voltflow Demo Charging Co.', '0755-00000000', '13800000000', 'Shenzhen')
			on conflict do nothing`, DemoOperatorID); err != nil {
			return fmt.Errorf("demo operator: %w", err)
		}
		if err := addStation(ctx, tx, DemoStationID, "Demo Mall Charging Station", DemoEquipmentIDs[:], DemoConnectorsPerEquipment); err != nil {
			return err
		}
		return nil
	})
}

// AddStations adds n further stations of the demo's shape (equipment ×
// connectors each) under the demo operator, for load tests: station ids
// 4403xxxxxxxxxxxx1000+i, equipment <station tail>… as 22 digits.
func AddStations(ctx context.Context, db *store.DB, n, equipment, connectors int) ([]string, error) {
	var ids []string
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		for i := range n {
			station := fmt.Sprintf("4403%016d", 1000+i)
			var eqs []string
			for j := range equipment {
				eqs = append(eqs, fmt.Sprintf("44%08d%012d", 1000+i, j+1))
			}
			if err := addStation(ctx, tx, station, fmt.Sprintf("Load Station %d", i), eqs, connectors); err != nil {
				return err
			}
			ids = append(ids, station)
		}
		return nil
	})
	return ids, err
}

func addStation(ctx context.Context, tx pgx.Tx, stationID, name string, equipment []string, connectors int) error {
	if _, err := tx.Exec(ctx, `insert into charging_stations (station_id, operator_id, equipment_owner_id, station_name,
		country_code, area_code, address, station_tel, service_tel, station_type, station_status, park_nums,
		station_lng, station_lat, site_guide, construction, pictures, busine_hours, payment, support_order,
		open_all_day, park_free, oprator_type)
		values ($1, $2, $2, $3, 'CN', '440305', 'Nanshan District, Shenzhen', '13800000000', '400-000-0000', 1, 50, $4,
		114.057868, 22.543099, 'B2 car park, bays 1-24', 9, '{}', '00:00-24:00', 'online', 0, 1, 0, 1)
		on conflict do nothing`, stationID, DemoOperatorID, name, len(equipment)*connectors); err != nil {
		return fmt.Errorf("station %s: %w", stationID, err)
	}
	for i, eq := range equipment {
		if _, err := tx.Exec(ctx, `insert into charging_equipment (equipment_id, station_id, manufacturer_id, equipment_model,
			production_date, equipment_type, equipment_name, power, manufacturer_name, equipment_status,
			equipment_power, new_national_standard)
			values ($1, $2, $3, 'SPLIT-480', '2024-01-15', 1, $4, 480.0, 'Demo Power', 50, 480.0, 2)
			on conflict do nothing`, eq, stationID, DemoOperatorID, fmt.Sprintf("#%02d split charger", i+1)); err != nil {
			return fmt.Errorf("equipment %s: %w", eq, err)
		}
		for k := 1; k <= connectors; k++ {
			id := fmt.Sprintf("%s%03d", eq, k)
			if _, err := tx.Exec(ctx, `insert into charging_connectors (connector_id, equipment_id, connector_name,
				connector_type, voltage_upper_limits, voltage_lower_limits, current, power, park_no, voltage, bms_power_type)
				values ($1, $2, $3, 4, 1000, 200, 250, 160.0, $4, 750, 3) on conflict do nothing`,
				id, eq, fmt.Sprintf("%02d#", k), fmt.Sprintf("P%d-%02d", i+1, k)); err != nil {
				return fmt.Errorf("connector %s: %w", id, err)
			}
			if _, err := tx.Exec(ctx, `insert into connector_status (connector_id, status, park_status, lock_status)
				values ($1, 1, 10, 10) on conflict do nothing`, id); err != nil {
				return fmt.Errorf("connector %s status: %w", id, err)
			}
		}
	}
	return nil
}
