package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/voltflow/voltflow/store"
)

// Querier is what both a pool and a transaction offer.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ChinaTime is the standard's implicit zone (UTC+8, no DST).
var ChinaTime = time.FixedZone("CST", 8*60*60)

// Layouts of the standard.
const (
	DateTimeLayout = "2006-01-02 15:04:05"
	DateLayout     = "2006-01-02"
)

// FormatTime writes t as the standard's "yyyy-MM-dd HH:mm:ss" in China time.
func FormatTime(t time.Time) string { return t.In(ChinaTime).Format(DateTimeLayout) }

// ParseTime reads "yyyy-MM-dd HH:mm:ss" (China time), also without the
// space the standard sometimes omits.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(DateTimeLayout, s, ChinaTime); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-0215:04:05", s, ChinaTime)
}

// StationHead is the station part every alarm, event and video object repeats.
type StationHead struct {
	StationID        string
	OperatorID       string
	EquipmentOwnerID string
	StationName      string
}

// Head loads a station's head; an unknown id gives ErrUnknown.
func Head(ctx context.Context, q Querier, stationID string) (StationHead, error) {
	var h StationHead
	err := q.QueryRow(ctx, `select station_id, operator_id, equipment_owner_id, station_name from charging_stations
		where station_id=$1`, stationID).Scan(&h.StationID, &h.OperatorID, &h.EquipmentOwnerID, &h.StationName)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, fmt.Errorf("station %q: %w", stationID, ErrUnknown)
	}
	if err != nil {
		return h, fmt.Errorf("station %s: %w", stationID, err)
	}
	return h, nil
}

// ConnectorPlace is the equipment and station of a connector (ErrUnknown if none).
func ConnectorPlace(ctx context.Context, q Querier, connectorID string) (stationID, equipmentID string, err error) {
	err = q.QueryRow(ctx, `select e.station_id, e.equipment_id from charging_connectors c join charging_equipment e
		using (equipment_id) where c.connector_id=$1`, connectorID).Scan(&stationID, &equipmentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", fmt.Errorf("connector %q: %w", connectorID, ErrUnknown)
	}
	if err != nil {
		return "", "", fmt.Errorf("connector %s: %w", connectorID, err)
	}
	return stationID, equipmentID, nil
}

// EquipmentOf reports whether equipmentID belongs to stationID.
func EquipmentOf(ctx context.Context, q Querier, stationID, equipmentID string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `select exists(select 1 from charging_equipment where equipment_id=$1 and station_id=$2)`,
		equipmentID, stationID).Scan(&ok)
	return ok, err
}

// AddEnergy adds charged and discharged kWh to a connector's day (China
// time): what a charging integration calls when a session's energy is booked.
func AddEnergy(ctx context.Context, q Querier, connectorID string, day time.Time, charge, discharge float64) error {
	d := day.In(ChinaTime).Format(DateLayout)
	if _, err := q.Exec(ctx, `insert into connector_energy_daily (connector_id, day, charge_kwh, discharge_kwh)
		values ($1,$2,$3,$4) on conflict (connector_id, day) do update set
		charge_kwh = connector_energy_daily.charge_kwh + excluded.charge_kwh,
		discharge_kwh = connector_energy_daily.discharge_kwh + excluded.discharge_kwh`,
		connectorID, d, charge, discharge); err != nil {
		return fmt.Errorf("energy of %s on %s: %w", connectorID, d, err)
	}
	return nil
}

// connectorEnergy is one connector's sums over a date range.
type connectorEnergy struct {
	station, equipment, connector string
	charge, discharge             float64
}

// energy sums every connector of the station from..to (inclusive days).
func energy(ctx context.Context, db *store.DB, stationID string, from, to time.Time) ([]connectorEnergy, error) {
	rows, err := db.Query(ctx, `select e.station_id, e.equipment_id, c.connector_id,
		coalesce(sum(d.charge_kwh),0)::float8, coalesce(sum(d.discharge_kwh),0)::float8
		from charging_connectors c join charging_equipment e using (equipment_id)
		left join connector_energy_daily d on d.connector_id = c.connector_id and d.day between $2 and $3
		where e.station_id = $1 group by 1,2,3 order by 2,3`,
		stationID, from.Format(DateLayout), to.Format(DateLayout))
	if err != nil {
		return nil, fmt.Errorf("energy of %s: %w", stationID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (connectorEnergy, error) {
		var c connectorEnergy
		err := r.Scan(&c.station, &c.equipment, &c.connector, &c.charge, &c.discharge)
		return c, err
	})
}

// stationEnergy is energy of a known station (registry.ErrUnknown otherwise).
func stationEnergy(ctx context.Context, db *store.DB, stationID string, from, to time.Time) ([]connectorEnergy, error) {
	if _, err := Head(ctx, db, stationID); err != nil {
		return nil, err
	}
	return energy(ctx, db, stationID, from, to)
}

// levels sums one direction (kwh: charge or discharge) of the station's
// connectors, which energy orders by equipment, into the levels of tables
// 13–16: each connector, each equipment and the station, each level summed
// before rounding to 0.1 kWh. equipment and connector build the table's
// rows, whose field names differ between charge and discharge.
func levels[E, C any](cs []connectorEnergy, kwh func(connectorEnergy) float64,
	equipment func(id string, sum Fixed1, connectors []C) E, connector func(id string, v Fixed1) C) ([]E, Fixed1) {
	out := []E{}
	var total float64
	for start := 0; start < len(cs); {
		connectors := []C{}
		var sum float64
		end := start
		for ; end < len(cs) && cs[end].equipment == cs[start].equipment; end++ {
			v := kwh(cs[end])
			connectors = append(connectors, connector(cs[end].connector, Fixed1(v)))
			sum += v
			total += v
		}
		out = append(out, equipment(cs[start].equipment, Fixed1(sum), connectors))
		start = end
	}
	return out, Fixed1(total)
}

// ChargeStats answers query_station_charge_stats (table 40) for the days
// from..to.
func ChargeStats(ctx context.Context, db *store.DB, stationID string, from, to time.Time) (StationChargeStatsInfo, error) {
	cs, err := stationEnergy(ctx, db, stationID, from, to)
	if err != nil {
		return StationChargeStatsInfo{}, err
	}
	equipments, total := levels(cs, func(c connectorEnergy) float64 { return c.charge },
		func(id string, sum Fixed1, connectors []ConnectorChargeStatsInfo) EquipmentChargeStatsInfo {
			return EquipmentChargeStatsInfo{EquipmentID: id, EquipmentChargeElectricity: sum, ConnectorChargeStatsInfos: connectors}
		},
		func(id string, v Fixed1) ConnectorChargeStatsInfo {
			return ConnectorChargeStatsInfo{ConnectorID: id, ConnectorChargeElectricity: v}
		})
	return StationChargeStatsInfo{StationID: stationID, StartTime: from.Format(DateLayout), EndTime: to.Format(DateLayout),
		StationChargeElectricity: total, EquipmentChargeStatsInfos: equipments}, nil
}

// DischargeStats answers query_station_discharge_stats (table 43).
func DischargeStats(ctx context.Context, db *store.DB, stationID string, from, to time.Time) (StationDischargeStatsInfo, error) {
	cs, err := stationEnergy(ctx, db, stationID, from, to)
	if err != nil {
		return StationDischargeStatsInfo{}, err
	}
	equipments, total := levels(cs, func(c connectorEnergy) float64 { return c.discharge },
		func(id string, sum Fixed1, connectors []ConnectorDischargeStatsInfo) EquipmentDischargeStatsInfo {
			return EquipmentDischargeStatsInfo{EquipmentID: id, EquipmentDischargeElectricity: sum, ConnectorDischargeStatsInfos: connectors}
		},
		func(id string, v Fixed1) ConnectorDischargeStatsInfo {
			return ConnectorDischargeStatsInfo{ConnectorID: id, ConnectorDischargeElectricity: v}
		})
	return StationDischargeStatsInfo{StationID: stationID, StartTime: from.Format(DateLayout), EndTime: to.Format(DateLayout),
		StationDischargeElectricity: total, EquipmentDischargeStatsInfos: equipments}, nil
}

// collectJSON reads rows of one jsonb column into T.
func collectJSON[T any](rows pgx.Rows, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) {
		var raw []byte
		var v T
		if err := r.Scan(&raw); err != nil {
			return v, err
		}
		return v, json.Unmarshal(raw, &v)
	})
	if out == nil {
		out = []T{}
	}
	return out, err
}

// Alarms lists a station's alarms (raised or cleared) at or after since, in
// time order, optionally of one equipment, at most limit.
func Alarms(ctx context.Context, db *store.DB, stationID, equipmentID string, since time.Time, limit int) ([]AlarmInfo, error) {
	rows, err := db.Query(ctx, `select info from regulator_alarms where station_id=$1 and ($2 = '' or equipment_id=$2)
		and alarm_time >= $3 order by alarm_time, id limit $4`, stationID, equipmentID, since, limit)
	out, err := collectJSON[AlarmInfo](rows, err)
	if err != nil {
		return nil, fmt.Errorf("alarms of %s: %w", stationID, err)
	}
	return out, nil
}

// Events lists a station's events in [from, to), in time order, at most limit.
func Events(ctx context.Context, db *store.DB, stationID string, from, to time.Time, limit int) ([]EventInfo, error) {
	rows, err := db.Query(ctx, `select info from regulator_events where station_id=$1 and event_time >= $2 and event_time < $3
		order by event_time, id limit $4`, stationID, from, to, limit)
	out, err := collectJSON[EventInfo](rows, err)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", stationID, err)
	}
	return out, nil
}

// LatestBms is the connector's current status and, while it charges, its
// newest BMS sample (query_bms_info, table 49).
func LatestBms(ctx context.Context, db *store.DB, connectorID string) (ConnectorBms, error) {
	out := ConnectorBms{ConnectorID: connectorID}
	if _, _, err := ConnectorPlace(ctx, db, connectorID); err != nil {
		return out, err
	}
	err := db.QueryRow(ctx, `select coalesce((select status from connector_status where connector_id=$1), 0)`,
		connectorID).Scan(&out.Status)
	if err != nil {
		return out, fmt.Errorf("status of %s: %w", connectorID, err)
	}
	if out.Status != StatusCharging {
		return out, nil
	}
	var raw []byte
	err = db.QueryRow(ctx, `select info->'BmsInfo' from regulator_bms where connector_id=$1
		order by fresh_time desc, id desc limit 1`, connectorID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("bms of %s: %w", connectorID, err)
	}
	if len(raw) > 0 && string(raw) != "null" {
		var b BmsInfo
		if err := json.Unmarshal(raw, &b); err != nil {
			return out, err
		}
		out.BmsInfo = &b
	}
	return out, nil
}

// BmsSession lists the samples of the connector's charging session that
// started at start (to the second), in time order.
func BmsSession(ctx context.Context, db *store.DB, connectorID string, start time.Time) ([]json.RawMessage, []time.Time, error) {
	rows, err := db.Query(ctx, `select info, fresh_time from regulator_bms where connector_id=$1
		and start_charging_time >= $2 and start_charging_time < $3 order by fresh_time, id`,
		connectorID, start, start.Add(time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("bms session of %s: %w", connectorID, err)
	}
	defer rows.Close()
	var infos []json.RawMessage
	var at []time.Time
	for rows.Next() {
		var raw []byte
		var t time.Time
		if err := rows.Scan(&raw, &t); err != nil {
			return nil, nil, err
		}
		infos, at = append(infos, raw), append(at, t)
	}
	return infos, at, rows.Err()
}

// SetDisEquipment records a station's distribution equipment (table 17).
func SetDisEquipment(ctx context.Context, q Querier, stationID string, info DisEquipmentInfo) error {
	raw, err := json.Marshal(info)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `insert into distribution_equipment (dis_equipment_id, station_id, info) values ($1,$2,$3)
		on conflict (dis_equipment_id) do update set info=excluded.info, updated_at=now()`,
		info.DisequipmentID, stationID, raw)
	return err
}

// SetDisEquipmentStatus records the latest status of one distribution
// equipment (table 18); StationID and OperatorID are filled in on query.
func SetDisEquipmentStatus(ctx context.Context, q Querier, st DisEquipmentStatusInfo, at time.Time) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tag, err := q.Exec(ctx, `update distribution_equipment set status=$2, status_at=$3 where dis_equipment_id=$1`,
		st.DisequipmentID, raw, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("distribution equipment %q: %w", st.DisequipmentID, ErrUnknown)
	}
	return nil
}

// DisEquipmentStatus answers query_disequipmentstatus_info (table 67):
// the station's distribution equipment with a status, optionally one —
// equipment read through a meter answers from its latest reading and
// parameters, other equipment from the status last set.
func DisEquipmentStatus(ctx context.Context, db *store.DB, stationID, disID string) ([]DisEquipmentStatusInfo, error) {
	h, err := Head(ctx, db, stationID)
	if err != nil {
		return nil, err
	}
	out, err := disEquipmentRows(ctx, db, stationID, disID)
	if err != nil {
		return nil, fmt.Errorf("distribution status of %s: %w", stationID, err)
	}
	for i := range out {
		out[i].StationID, out[i].OperatorID = h.StationID, h.OperatorID
	}
	return out, nil
}

// DisEquipmentOf reports whether disID is distribution equipment of stationID.
func DisEquipmentOf(ctx context.Context, q Querier, stationID, disID string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `select exists(select 1 from distribution_equipment where dis_equipment_id=$1 and station_id=$2)`,
		disID, stationID).Scan(&ok)
	return ok, err
}

// AddVideo registers a video access point of a station (table 22).
func AddVideo(ctx context.Context, q Querier, stationID, link string, videoType int, user, authCode string) error {
	_, err := q.Exec(ctx, `insert into station_videos (station_id, video_link, video_type, video_user, video_auth_code)
		values ($1,$2,$3,$4,nullif($5,''))`, stationID, link, videoType, user, authCode)
	if err != nil {
		return fmt.Errorf("video of %s: %w", stationID, err)
	}
	return nil
}

// Videos answers query_video_info (table 79).
func Videos(ctx context.Context, db *store.DB, stationID string) ([]VideoInfo, error) {
	h, err := Head(ctx, db, stationID)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `select video_link, video_type, video_user, coalesce(video_auth_code,'')
		from station_videos where station_id=$1 order by id`, stationID)
	if err != nil {
		return nil, fmt.Errorf("videos of %s: %w", stationID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VideoInfo, error) {
		v := VideoInfo{StationID: h.StationID, OperatorID: h.OperatorID, EquipmentOwnerID: h.EquipmentOwnerID,
			StationName: h.StationName}
		err := r.Scan(&v.VideoLink, &v.VideoType, &v.VideoUser, &v.VideoAuthCode)
		return v, err
	})
	if out == nil {
		out = []VideoInfo{}
	}
	return out, err
}
