package charger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/chargeprice"
	"github.com/voltflow/voltflow/store"
)

// Registered reports an allow-listed, enabled YKC charger (YKC logins carry
// no password: the charger number, registered with protocol ykc, is the
// credential).
func Registered(ctx context.Context, db *store.DB, id string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `select exists(select 1 from ocpp_charge_points where equipment_id=$1 and enabled and protocol='ykc')`, id).Scan(&ok)
	return ok, err
}

// StationStrategy is the pricing strategy of the charger's station; false
// when the station has none.
func StationStrategy(ctx context.Context, db *store.DB, equipmentID string) (chargeprice.Strategy, bool, error) {
	var versions []byte
	st := chargeprice.Strategy{}
	err := db.QueryRow(ctx, `select s.id::text, s.code, s.versions from charging_equipment e
		join station_pricing sp on sp.station_id=e.station_id join pricing_strategies s on s.id=sp.strategy_id
		where e.equipment_id=$1`, equipmentID).Scan(&st.ID, &st.Code, &versions)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("pricing of %s: %w", equipmentID, err)
	}
	if err := json.Unmarshal(versions, &st.Versions); err != nil {
		return st, false, fmt.Errorf("pricing %s: %w", st.Code, err)
	}
	return st, true, nil
}

// BMSRecord is one BMS frame of a YKC session, in SI units; fields a frame
// type does not carry are nil.
type BMSRecord struct {
	EquipmentID      string
	ConnectorNo      int
	TradeNo          string
	FrameType        int // 0x15, 0x23, 0x25
	At               time.Time
	SOC              *int
	DemandVoltage    *decimal.Decimal
	DemandCurrent    *decimal.Decimal
	MeasuredVoltage  *decimal.Decimal
	MeasuredCurrent  *decimal.Decimal
	MaxCellVoltage   *decimal.Decimal
	MaxTemp          *int
	MinTemp          *int
	RemainingMinutes *int
	BatteryType      *int
	RatedCapacity    *decimal.Decimal
	RatedVoltage     *decimal.Decimal
	VIN              *string
	Body             []byte
}

// RecordBMS stores BMS frames (one statement for the lot).
func RecordBMS(ctx context.Context, db *store.DB, recs []BMSRecord) error {
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = []any{r.EquipmentID, r.ConnectorNo, r.TradeNo, int16(r.FrameType), r.At, r.SOC, r.DemandVoltage,
			r.DemandCurrent, r.MeasuredVoltage, r.MeasuredCurrent, r.MaxCellVoltage, r.MaxTemp, r.MinTemp,
			r.RemainingMinutes, r.BatteryType, r.RatedCapacity, r.RatedVoltage, r.VIN, r.Body}
	}
	_, err := db.CopyFrom(ctx, pgx.Identifier{"ykc_bms_records"}, []string{"equipment_id", "connector_no", "trade_no",
		"frame_type", "at", "soc", "demand_voltage", "demand_current", "measured_voltage", "measured_current",
		"max_cell_voltage", "max_temp", "min_temp", "remaining_minutes", "battery_type", "rated_capacity",
		"rated_voltage", "vin", "body"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("BMS records: %w", err)
	}
	return nil
}

// BMSRecords lists a charger's BMS records in [from, to), oldest first:
// what the regulator's BMS queries and pushes read.
func BMSRecords(ctx context.Context, db *store.DB, equipmentID string, from, to time.Time) ([]BMSRecord, error) {
	rows, err := db.Query(ctx, `select equipment_id, connector_no, trade_no, frame_type, at, soc, demand_voltage,
		demand_current, measured_voltage, measured_current, max_cell_voltage, max_temp, min_temp, remaining_minutes,
		battery_type, rated_capacity, rated_voltage, vin, body from ykc_bms_records
		where equipment_id=$1 and at >= $2 and at < $3 order by at, id`, equipmentID, from, to)
	if err != nil {
		return nil, fmt.Errorf("BMS records of %s: %w", equipmentID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (BMSRecord, error) {
		var r BMSRecord
		var ft int16
		err := row.Scan(&r.EquipmentID, &r.ConnectorNo, &r.TradeNo, &ft, &r.At, &r.SOC, &r.DemandVoltage,
			&r.DemandCurrent, &r.MeasuredVoltage, &r.MeasuredCurrent, &r.MaxCellVoltage, &r.MaxTemp, &r.MinTemp,
			&r.RemainingMinutes, &r.BatteryType, &r.RatedCapacity, &r.RatedVoltage, &r.VIN, &r.Body)
		r.FrameType = int(ft)
		return r, err
	})
}
