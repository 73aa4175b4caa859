package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// ErrUnknown is returned for a station or connector id the registry lacks.
var ErrUnknown = errors.New("registry: unknown id")

// Page is one page of stations (table 31).
type Page struct {
	PageNo    int
	PageCount int
	ItemSize  int
	Stations  []StationInfo
}

// StationsPage lists stations whose station, equipment or connector rows
// changed after since (all stations when since is zero), ordered by id.
// pageNo and pageSize must be positive.
func StationsPage(ctx context.Context, db *store.DB, since time.Time, pageNo, pageSize int) (Page, error) {
	const changed = `select s.station_id from charging_stations s
		where $1::timestamptz is null or greatest(s.updated_at,
			(select max(e.updated_at) from charging_equipment e where e.station_id = s.station_id),
			(select max(c.updated_at) from charging_connectors c join charging_equipment e using (equipment_id)
				where e.station_id = s.station_id)) > $1`
	var sinceArg any
	if !since.IsZero() {
		sinceArg = since
	}
	p := Page{PageNo: pageNo}
	if err := db.QueryRow(ctx, `select count(*) from (`+changed+`) x`, sinceArg).Scan(&p.ItemSize); err != nil {
		return Page{}, fmt.Errorf("count stations: %w", err)
	}
	p.PageCount = (p.ItemSize + pageSize - 1) / pageSize
	rows, err := db.Query(ctx, changed+` order by s.station_id limit $2 offset $3`, sinceArg, pageSize, (pageNo-1)*pageSize)
	if err != nil {
		return Page{}, fmt.Errorf("list stations: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Page{}, fmt.Errorf("list stations: %w", err)
	}
	if p.Stations, err = Stations(ctx, db, ids); err != nil {
		return Page{}, err
	}
	return p, nil
}

// Stations loads full StationInfo for ids, in the order given. An unknown id
// gives ErrUnknown.
func Stations(ctx context.Context, db *store.DB, ids []string) ([]StationInfo, error) {
	out := make([]StationInfo, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	byID := map[string]*StationInfo{}
	rows, err := db.Query(ctx, `select station_id, operator_id, equipment_owner_id, station_name, country_code,
		area_code, address, station_tel, service_tel, station_type, station_status, park_nums,
		station_lng::float8, station_lat::float8, coalesce(site_guide,''), construction, pictures,
		coalesce(match_cars,''), coalesce(park_info,''), coalesce(busine_hours,''), coalesce(electricity_fee,''),
		coalesce(service_fee,''), coalesce(park_fee,''), coalesce(payment,''), support_order, coalesce(remark,''),
		coalesce(park_owner,''), coalesce(park_manager,''), open_all_day, park_free, oprator_type
		from charging_stations where station_id = any($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("load stations: %w", err)
	}
	for rows.Next() {
		var s StationInfo
		var lng, lat float64
		if err := rows.Scan(&s.StationID, &s.OperatorID, &s.EquipmentOwnerID, &s.StationName, &s.CountryCode,
			&s.AreaCode, &s.Address, &s.StationTel, &s.ServiceTel, &s.StationType, &s.StationStatus, &s.ParkNums,
			&lng, &lat, &s.SiteGuide, &s.Construction, &s.Pictures,
			&s.MatchCars, &s.ParkInfo, &s.BusineHours, &s.ElectricityFee,
			&s.ServiceFee, &s.ParkFee, &s.Payment, &s.SupportOrder, &s.Remark,
			&s.ParkOwner, &s.ParkManager, &s.OpenAllDay, &s.ParkFree, &s.OpratorType); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan station: %w", err)
		}
		s.StationLng, s.StationLat = Fixed6(lng), Fixed6(lat)
		if s.Pictures == nil {
			s.Pictures = []string{}
		}
		s.EquipmentInfos = []EquipmentInfo{}
		byID[s.StationID] = &s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load stations: %w", err)
	}
	for _, id := range ids {
		if byID[id] == nil {
			return nil, fmt.Errorf("station %q: %w", id, ErrUnknown)
		}
	}
	if err := loadEquipment(ctx, db, ids, byID); err != nil {
		return nil, err
	}
	for _, id := range ids {
		out = append(out, *byID[id])
	}
	return out, nil
}

func loadEquipment(ctx context.Context, db *store.DB, ids []string, byID map[string]*StationInfo) error {
	rows, err := db.Query(ctx, `select station_id, equipment_id, manufacturer_id, equipment_model,
		coalesce(to_char(production_date,'YYYY-MM-DD'),''), equipment_type, equipment_lng::float8, equipment_lat::float8,
		equipment_name, power::float8, coalesce(manufacturer_name,''), equipment_status, equipment_power::float8,
		new_national_standard
		from charging_equipment where station_id = any($1) order by equipment_id`, ids)
	if err != nil {
		return fmt.Errorf("load equipment: %w", err)
	}
	type key struct{ station, equipment string }
	var order []key
	equipment := map[string]*EquipmentInfo{}
	for rows.Next() {
		var e EquipmentInfo
		var station string
		var lng, lat *float64
		var power, rated float64
		if err := rows.Scan(&station, &e.EquipmentID, &e.ManufacturerID, &e.EquipmentModel, &e.ProductionDate,
			&e.EquipmentType, &lng, &lat, &e.EquipmentName, &power, &e.ManufacturerName, &e.EquipmentStatus,
			&rated, &e.NewNationalStandard); err != nil {
			rows.Close()
			return fmt.Errorf("scan equipment: %w", err)
		}
		if lng != nil && lat != nil {
			x, y := Fixed6(*lng), Fixed6(*lat)
			e.EquipmentLng, e.EquipmentLat = &x, &y
		}
		e.Power, e.EquipmentPower = Fixed1(power), Fixed1(rated)
		e.ConnectorInfos = []ConnectorInfo{}
		equipment[e.EquipmentID] = &e
		order = append(order, key{station, e.EquipmentID})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load equipment: %w", err)
	}
	rows, err = db.Query(ctx, `select c.equipment_id, c.connector_id, c.connector_name, c.connector_type,
		c.voltage_upper_limits, c.voltage_lower_limits, c.current, c.power::float8, coalesce(c.park_no,''),
		c.voltage, c.bms_power_type
		from charging_connectors c join charging_equipment e using (equipment_id)
		where e.station_id = any($1) order by c.connector_id`, ids)
	if err != nil {
		return fmt.Errorf("load connectors: %w", err)
	}
	for rows.Next() {
		var c ConnectorInfo
		var eq string
		var power float64
		if err := rows.Scan(&eq, &c.ConnectorID, &c.ConnectorName, &c.ConnectorType, &c.VoltageUpperLimits,
			&c.VoltageLowerLimits, &c.Current, &power, &c.ParkNo, &c.Voltage, &c.BMSPowerType); err != nil {
			rows.Close()
			return fmt.Errorf("scan connector: %w", err)
		}
		c.Power = Fixed1(power)
		if e := equipment[eq]; e != nil {
			e.ConnectorInfos = append(e.ConnectorInfos, c)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load connectors: %w", err)
	}
	for _, k := range order {
		s := byID[k.station]
		s.EquipmentInfos = append(s.EquipmentInfos, *equipment[k.equipment])
	}
	return nil
}

// StationStatus answers query_stations_status for ids (table 37), in the
// order given. A connector without a recorded status is reported offline (0).
func StationStatus(ctx context.Context, db *store.DB, ids []string) ([]StationStatusInfo, error) {
	out := make([]StationStatusInfo, 0, len(ids))
	byID := map[string]*StationStatusInfo{}
	for _, id := range ids {
		if byID[id] == nil {
			byID[id] = &StationStatusInfo{StationID: id, ConnectorStatusInfos: []ConnectorStatusInfo{}}
		}
	}
	var known []string
	if err := db.QueryRow(ctx, `select coalesce(array_agg(station_id::text), '{}') from charging_stations where station_id = any($1)`,
		ids).Scan(&known); err != nil {
		return nil, fmt.Errorf("check stations: %w", err)
	}
	if len(known) != len(byID) {
		seen := map[string]bool{}
		for _, k := range known {
			seen[k] = true
		}
		for _, id := range ids {
			if !seen[id] {
				return nil, fmt.Errorf("station %q: %w", id, ErrUnknown)
			}
		}
	}
	rows, err := db.Query(ctx, `select e.station_id, c.connector_id, `+statusColumns+`
		from charging_connectors c join charging_equipment e using (equipment_id)
		left join connector_status s using (connector_id)
		where e.station_id = any($1) order by c.connector_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("load status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var station string
		var c ConnectorStatusInfo
		if err := scanStatus(rows, &station, &c); err != nil {
			return nil, err
		}
		s := byID[station]
		s.ConnectorStatusInfos = append(s.ConnectorStatusInfos, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load status: %w", err)
	}
	done := map[string]bool{}
	for _, id := range ids {
		if !done[id] {
			out = append(out, *byID[id])
			done[id] = true
		}
	}
	return out, nil
}

const statusColumns = `coalesce(s.status,0), s.park_status, s.lock_status, coalesce(s.current_a,0),
	coalesce(s.current_b,0), coalesce(s.current_c,0), coalesce(s.voltage_a,0), coalesce(s.voltage_b,0),
	coalesce(s.voltage_c,0), coalesce(s.soc,0), s.connector_temp, s.equipment_temp, s.connector_lock,
	coalesce(s.charge_electricity,0)::float8, coalesce(s.discharge_electricity,0)::float8`

func scanStatus(rows pgx.Rows, station *string, c *ConnectorStatusInfo) error {
	var charged, discharged float64
	if err := rows.Scan(station, &c.ConnectorID, &c.Status, &c.ParkStatus, &c.LockStatus, &c.CurrentA, &c.CurrentB,
		&c.CurrentC, &c.VoltageA, &c.VoltageB, &c.VoltageC, &c.SOC, &c.ConnectorTemp, &c.EquipmentTemp,
		&c.ConnectorLock, &charged, &discharged); err != nil {
		return fmt.Errorf("scan status: %w", err)
	}
	c.ChargeElectricity, c.DischargeElectricity = KWh(charged), KWh(discharged)
	return nil
}

// StatusUpsert ends an insert into connector_status (all its columns):
// the newest status replaces the row.
const StatusUpsert = `on conflict (connector_id) do update set status=excluded.status, park_status=excluded.park_status,
	lock_status=excluded.lock_status, current_a=excluded.current_a, current_b=excluded.current_b,
	current_c=excluded.current_c, voltage_a=excluded.voltage_a, voltage_b=excluded.voltage_b,
	voltage_c=excluded.voltage_c, soc=excluded.soc, connector_temp=excluded.connector_temp,
	equipment_temp=excluded.equipment_temp, connector_lock=excluded.connector_lock,
	charge_electricity=excluded.charge_electricity, discharge_electricity=excluded.discharge_electricity,
	changed_at=excluded.changed_at`

// Change is a recorded connector status change.
type Change struct {
	HistoryID int64     // connector_status_history.id, increasing per change
	StationID string    // the connector's station
	At        time.Time // when it changed
}

// SetConnectorStatusTx records info as the connector's status at at, and
// appends it to the history, inside tx. Callers add their own rows (the
// regulator outbox) to the same transaction.
func SetConnectorStatusTx(ctx context.Context, tx pgx.Tx, info ConnectorStatusInfo, at time.Time) (Change, error) {
	if !ValidStatus(info.Status) {
		return Change{}, fmt.Errorf("connector %s: status %d is not in table 8", info.ConnectorID, info.Status)
	}
	ch := Change{At: at}
	if err := tx.QueryRow(ctx, `select e.station_id from charging_connectors c join charging_equipment e using (equipment_id)
		where c.connector_id = $1`, info.ConnectorID).Scan(&ch.StationID); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return Change{}, fmt.Errorf("connector %q: %w", info.ConnectorID, ErrUnknown)
		}
		return Change{}, fmt.Errorf("connector %s: %w", info.ConnectorID, err)
	}
	if _, err := tx.Exec(ctx, `insert into connector_status (connector_id, status, park_status, lock_status,
		current_a, current_b, current_c, voltage_a, voltage_b, voltage_c, soc, connector_temp, equipment_temp,
		connector_lock, charge_electricity, discharge_electricity, changed_at)
		values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)
		`+StatusUpsert,
		info.ConnectorID, info.Status, info.ParkStatus, info.LockStatus, info.CurrentA, info.CurrentB, info.CurrentC,
		info.VoltageA, info.VoltageB, info.VoltageC, info.SOC, info.ConnectorTemp, info.EquipmentTemp,
		info.ConnectorLock, float64(info.ChargeElectricity), float64(info.DischargeElectricity), at); err != nil {
		return Change{}, fmt.Errorf("connector %s status: %w", info.ConnectorID, err)
	}
	raw, err := json.Marshal(info)
	if err != nil {
		return Change{}, err
	}
	if err := tx.QueryRow(ctx, `insert into connector_status_history (connector_id, info, changed_at)
		values ($1,$2,$3) returning id`, info.ConnectorID, raw, at).Scan(&ch.HistoryID); err != nil {
		return Change{}, fmt.Errorf("connector %s history: %w", info.ConnectorID, err)
	}
	return ch, nil
}

// ConnectorIDs lists a station's connectors in id order.
func ConnectorIDs(ctx context.Context, db *store.DB, stationID string) ([]string, error) {
	rows, err := db.Query(ctx, `select c.connector_id from charging_connectors c join charging_equipment e using (equipment_id)
		where e.station_id = $1 order by c.connector_id`, stationID)
	if err != nil {
		return nil, fmt.Errorf("connectors of %s: %w", stationID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// StationIDs lists every station, for starting one push workflow each.
func StationIDs(ctx context.Context, db *store.DB) ([]string, error) {
	rows, err := db.Query(ctx, `select station_id from charging_stations order by station_id`)
	if err != nil {
		return nil, fmt.Errorf("stations: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
