// Package network stores the charging network an operator sets up (issue
// 19, C1): stations, equipment and connectors in the T/CEC data model the
// regulator reads (interconnect/registry reads the same rows), each station
// in a project, and the operating switch (开始运营 / 暂停运营) of a station
// or connector. The JSON field names are the standard's, in camelCase.
package network

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/voltflow/voltflow/store"
)

var (
	// ErrNotFound is an unknown (or invisible) station, equipment or connector.
	ErrNotFound = errors.New("network: not found")
	// ErrExists is an id already in the registry.
	ErrExists = errors.New("network: id already used")
	// ErrInvalid is a value the standard or the registry refuses; it wraps
	// an *InvalidError naming the field.
	ErrInvalid = errors.New("network: invalid")
)

// InvalidError names the refused field.
type InvalidError struct{ Field, Reason string }

func (e *InvalidError) Error() string { return e.Field + " " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

// Station is a charging station (T/CEC tables 2 and 3) with its equipment.
type Station struct {
	StationID        string      `json:"stationId"`
	OperatorID       string      `json:"operatorId"`
	EquipmentOwnerID string      `json:"equipmentOwnerId"`
	StationName      string      `json:"stationName"`
	CountryCode      string      `json:"countryCode"`
	AreaCode         string      `json:"areaCode"`
	Address          string      `json:"address"`
	StationTel       string      `json:"stationTel"`
	ServiceTel       string      `json:"serviceTel"`
	StationType      int         `json:"stationType"`
	StationStatus    int         `json:"stationStatus"`
	ParkNums         int         `json:"parkNums"`
	StationLng       float64     `json:"stationLng"`
	StationLat       float64     `json:"stationLat"`
	SiteGuide        string      `json:"siteGuide"`
	Construction     int         `json:"construction"`
	Pictures         []string    `json:"pictures"`
	MatchCars        string      `json:"matchCars"`
	ParkInfo         string      `json:"parkInfo"`
	BusineHours      string      `json:"busineHours"` // sic (table 2)
	ElectricityFee   string      `json:"electricityFee"`
	ServiceFee       string      `json:"serviceFee"`
	ParkFee          string      `json:"parkFee"`
	Payment          string      `json:"payment"`
	SupportOrder     *int        `json:"supportOrder"`
	Remark           string      `json:"remark"`
	ParkOwner        string      `json:"parkOwner"`
	ParkManager      string      `json:"parkManager"`
	OpenAllDay       *int        `json:"openAllDay"`
	ParkFree         *int        `json:"parkFree"`
	OpratorType      int         `json:"opratorType"` // sic (table 3)
	Paused           bool        `json:"paused"`
	ProjectID        string      `json:"-"`
	Equipment        []Equipment `json:"equipmentInfos"`
}

// Equipment is a charger (tables 4 and 5) with its connectors.
type Equipment struct {
	EquipmentID         string      `json:"equipmentId"`
	StationID           string      `json:"stationId"`
	ManufacturerID      string      `json:"manufacturerId"`
	EquipmentModel      string      `json:"equipmentModel"`
	ProductionDate      string      `json:"productionDate"` // yyyy-MM-dd or ""
	EquipmentType       int         `json:"equipmentType"`
	EquipmentLng        *float64    `json:"equipmentLng"`
	EquipmentLat        *float64    `json:"equipmentLat"`
	EquipmentName       string      `json:"equipmentName"`
	Power               float64     `json:"power"`
	ManufacturerName    string      `json:"manufacturerName"`
	EquipmentStatus     int         `json:"equipmentStatus"`
	EquipmentPower      float64     `json:"equipmentPower"`
	NewNationalStandard int         `json:"newNationalStandard"`
	Connectors          []Connector `json:"connectorInfos"`
}

// Connector is a charging interface (tables 6 and 7). QRCode and Paused
// are ours: the appendix A URI printed on it (registry.QRCode, filled in
// by the API from OperatorID: the registry package loads its demo through
// this one, so this one cannot import it) and its operating switch (a
// paused station pauses all of its connectors).
type Connector struct {
	ConnectorID        string  `json:"connectorId"`
	ConnectorName      string  `json:"connectorName"`
	ConnectorType      int     `json:"connectorType"`
	VoltageUpperLimits int     `json:"voltageUpperLimits"`
	VoltageLowerLimits int     `json:"voltageLowerLimits"`
	Current            int     `json:"current"`
	Power              float64 `json:"power"`
	ParkNo             string  `json:"parkNo"`
	Voltage            int     `json:"voltage"`
	BMSPowerType       int     `json:"bmsPowerType"`
	Paused             bool    `json:"paused"`
	QRCode             string  `json:"qrCode"`
	OperatorID         string  `json:"-"` // of its station
}

var (
	stationIDPattern   = regexp.MustCompile(`^[0-9A-Za-z]{1,20}$`)
	equipmentIDPattern = regexp.MustCompile(`^[0-9A-Za-z]{1,23}$`)
	operatorIDPattern  = regexp.MustCompile(`^[0-9A-Za-z]{9}$`)
	datePattern        = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// StationStatuses are table 2's station states (0 unknown, 1 under
// construction, 5 closed, 6 under maintenance, 50 in use); equipment uses
// the same set without 0 (table 4).
var stationStatuses = map[int]bool{0: true, 1: true, 5: true, 6: true, 50: true}

// Validate checks a station against the standard and the registry's
// columns (not its equipment).
func (s Station) Validate() error {
	switch {
	case !stationIDPattern.MatchString(s.StationID):
		return invalid("stationId", "is 1 to 20 letters or digits")
	case !operatorIDPattern.MatchString(s.OperatorID):
		return invalid("operatorId", "is the 9-character organisation code")
	case !operatorIDPattern.MatchString(s.EquipmentOwnerID):
		return invalid("equipmentOwnerId", "is the 9-character organisation code")
	case s.StationName == "" || len([]rune(s.StationName)) > 50:
		return invalid("stationName", "is 1 to 50 characters")
	case len(s.CountryCode) != 2:
		return invalid("countryCode", "is 2 letters")
	case s.AreaCode == "" || len(s.AreaCode) > 20:
		return invalid("areaCode", "is 1 to 20 characters")
	case s.Address == "" || len([]rune(s.Address)) > 200:
		return invalid("address", "is 1 to 200 characters")
	case s.ServiceTel == "" || len(s.ServiceTel) > 30:
		return invalid("serviceTel", "is 1 to 30 characters")
	case len(s.StationTel) > 32:
		return invalid("stationTel", "is at most 32 characters")
	case !stationStatuses[s.StationStatus]:
		return invalid("stationStatus", "is 0, 1, 5, 6 or 50")
	case s.ParkNums < 0:
		return invalid("parkNums", "is not negative")
	case s.StationLng < -180 || s.StationLng > 180:
		return invalid("stationLng", "is a GCJ-02 longitude")
	case s.StationLat < -90 || s.StationLat > 90:
		return invalid("stationLat", "is a GCJ-02 latitude")
	case len([]rune(s.SiteGuide)) > 100 || len([]rune(s.MatchCars)) > 100 || len([]rune(s.ParkInfo)) > 100 ||
		len([]rune(s.BusineHours)) > 100 || len([]rune(s.ParkFee)) > 100 || len([]rune(s.Remark)) > 100:
		return invalid("siteGuide", "and the other descriptions are at most 100 characters")
	case len([]rune(s.ElectricityFee)) > 256 || len([]rune(s.ServiceFee)) > 256:
		return invalid("electricityFee", "and serviceFee are at most 256 characters")
	case len(s.Payment) > 20:
		return invalid("payment", "is at most 20 characters")
	}
	for _, p := range s.Pictures {
		if !strings.HasPrefix(p, "http://") && !strings.HasPrefix(p, "https://") {
			return invalid("pictures", "are http(s) URLs")
		}
	}
	return nil
}

// Validate checks equipment and its connectors: a connector id is the
// equipment id and three digits (appendix A; the OCPP connector number).
func (e Equipment) Validate() error {
	switch {
	case !equipmentIDPattern.MatchString(e.EquipmentID):
		return invalid("equipmentId", "is 1 to 23 letters or digits")
	case !operatorIDPattern.MatchString(e.ManufacturerID):
		return invalid("manufacturerId", "is the 9-character organisation code")
	case len(e.EquipmentModel) > 20:
		return invalid("equipmentModel", "is at most 20 characters")
	case e.ProductionDate != "" && !datePattern.MatchString(e.ProductionDate):
		return invalid("productionDate", "is yyyy-MM-dd")
	case e.EquipmentType < 1 || e.EquipmentType > 5:
		return invalid("equipmentType", "is 1 (DC) to 5 (AC/DC)")
	case e.EquipmentName == "" || len([]rune(e.EquipmentName)) > 30:
		return invalid("equipmentName", "is 1 to 30 characters")
	case e.Power <= 0 || e.EquipmentPower <= 0:
		return invalid("power", "is positive (kW)")
	case !stationStatuses[e.EquipmentStatus] || e.EquipmentStatus == 0:
		return invalid("equipmentStatus", "is 1, 5, 6 or 50")
	case (e.EquipmentLng == nil) != (e.EquipmentLat == nil):
		return invalid("equipmentLng", "comes with equipmentLat")
	case len(e.Connectors) == 0:
		return invalid("connectorInfos", "lists at least one connector")
	}
	seen := map[string]bool{}
	for i, c := range e.Connectors {
		f := fmt.Sprintf("connectorInfos[%d]", i)
		tail, ok := strings.CutPrefix(c.ConnectorID, e.EquipmentID)
		switch {
		case !ok || len(tail) != 3 || strings.Trim(tail, "0123456789") != "" || tail == "000":
			return invalid(f+".connectorId", "is the equipment id and a 3-digit connector number from 001")
		case seen[c.ConnectorID]:
			return invalid(f+".connectorId", "is listed twice")
		}
		seen[c.ConnectorID] = true
		if err := c.validate(f); err != nil {
			return err
		}
	}
	return nil
}

func (c Connector) validate(f string) error {
	switch {
	case c.ConnectorName == "" || len([]rune(c.ConnectorName)) > 30:
		return invalid(f+".connectorName", "is 1 to 30 characters")
	case c.ConnectorType < 1 || c.ConnectorType > 5:
		return invalid(f+".connectorType", "is 1 to 5 (table 6)")
	case c.VoltageLowerLimits < 0 || c.VoltageUpperLimits < c.VoltageLowerLimits:
		return invalid(f+".voltageUpperLimits", "is at least voltageLowerLimits")
	case c.Current <= 0 || c.Power <= 0:
		return invalid(f+".power", "and current are positive")
	case len(c.ParkNo) > 10:
		return invalid(f+".parkNo", "is at most 10 characters")
	}
	return nil
}

// DefaultOperator is the one charging operator of the registry, for a
// station that does not name its own. Several or none: ErrInvalid.
func DefaultOperator(ctx context.Context, db *store.DB) (string, error) {
	rows, err := db.Query(ctx, `select operator_id::text from charging_operators order by operator_id limit 2`)
	if err != nil {
		return "", fmt.Errorf("charging operators: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("charging operators: %w", err)
	}
	if len(ids) != 1 {
		return "", invalid("operatorId", fmt.Sprintf("is required: the registry has %d charging operators", len(ids)))
	}
	return ids[0], nil
}

const stationColumns = `station_id, operator_id, equipment_owner_id, station_name, country_code, area_code, address,
	station_tel, service_tel, station_type, station_status, park_nums, station_lng, station_lat, site_guide,
	construction, pictures, match_cars, park_info, busine_hours, electricity_fee, service_fee, park_fee, payment,
	support_order, remark, park_owner, park_manager, open_all_day, park_free, oprator_type`

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func stationArgs(s Station) []any {
	return []any{s.StationID, s.OperatorID, s.EquipmentOwnerID, s.StationName, s.CountryCode, s.AreaCode, s.Address,
		s.StationTel, s.ServiceTel, s.StationType, s.StationStatus, s.ParkNums, s.StationLng, s.StationLat,
		nullable(s.SiteGuide), s.Construction, s.Pictures, nullable(s.MatchCars), nullable(s.ParkInfo),
		nullable(s.BusineHours), nullable(s.ElectricityFee), nullable(s.ServiceFee), nullable(s.ParkFee),
		nullable(s.Payment), s.SupportOrder, nullable(s.Remark), nullable(s.ParkOwner), nullable(s.ParkManager),
		s.OpenAllDay, s.ParkFree, s.OpratorType}
}

// SaveStation inserts a station of projectID (create) or replaces the
// columns of an existing one of that project (update). The operator must
// be in the registry.
func SaveStation(ctx context.Context, db *store.DB, projectID string, s Station, create bool) error {
	if s.Pictures == nil {
		s.Pictures = []string{}
	}
	if err := s.Validate(); err != nil {
		return err
	}
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		var known bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from charging_operators where operator_id=$1)`,
			s.OperatorID).Scan(&known); err != nil {
			return err
		}
		if !known {
			return invalid("operatorId", "is not a charging operator of the registry")
		}
		args := append(stationArgs(s), nullable(projectID))
		if create {
			_, err := tx.Exec(ctx, `insert into charging_stations (`+stationColumns+`, project_id)
				values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,
				$27,$28,$29,$30,$31,$32)`, args...)
			if isUnique(err) {
				return fmt.Errorf("station %s: %w", s.StationID, ErrExists)
			}
			return err
		}
		tag, err := tx.Exec(ctx, `update charging_stations set (`+stationColumns+`, updated_at) =
			($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,
			$27,$28,$29,$30,$31, now()) where station_id=$1 and project_id=$32`, args...)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("station %s: %w", s.StationID, ErrNotFound)
		}
		return err
	})
}

func isUnique(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23505"
}

// StationProject is the project of a station ("" with ErrNotFound).
func StationProject(ctx context.Context, db *store.DB, stationID string) (string, error) {
	var p *string
	err := db.QueryRow(ctx, `select project_id::text from charging_stations where station_id=$1`, stationID).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && p == nil) {
		return "", fmt.Errorf("station %s: %w", stationID, ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	return *p, nil
}

// GetStation loads a station with its equipment and connectors.
func GetStation(ctx context.Context, db *store.DB, stationID string) (Station, error) {
	var s Station
	var project *string
	err := db.QueryRow(ctx, `select station_id::text, operator_id::text, equipment_owner_id::text, station_name,
		country_code::text, area_code, address, station_tel, service_tel, station_type, station_status, park_nums,
		station_lng::float8, station_lat::float8, coalesce(site_guide,''), construction, pictures,
		coalesce(match_cars,''), coalesce(park_info,''), coalesce(busine_hours,''), coalesce(electricity_fee,''),
		coalesce(service_fee,''), coalesce(park_fee,''), coalesce(payment,''), support_order, coalesce(remark,''),
		coalesce(park_owner,''), coalesce(park_manager,''), open_all_day, park_free, oprator_type, paused, project_id::text
		from charging_stations where station_id=$1`, stationID).Scan(&s.StationID, &s.OperatorID, &s.EquipmentOwnerID,
		&s.StationName, &s.CountryCode, &s.AreaCode, &s.Address, &s.StationTel, &s.ServiceTel, &s.StationType,
		&s.StationStatus, &s.ParkNums, &s.StationLng, &s.StationLat, &s.SiteGuide, &s.Construction, &s.Pictures,
		&s.MatchCars, &s.ParkInfo, &s.BusineHours, &s.ElectricityFee, &s.ServiceFee, &s.ParkFee, &s.Payment,
		&s.SupportOrder, &s.Remark, &s.ParkOwner, &s.ParkManager, &s.OpenAllDay, &s.ParkFree, &s.OpratorType,
		&s.Paused, &project)
	if errors.Is(err, pgx.ErrNoRows) {
		return Station{}, fmt.Errorf("station %s: %w", stationID, ErrNotFound)
	}
	if err != nil {
		return Station{}, fmt.Errorf("station %s: %w", stationID, err)
	}
	if project != nil {
		s.ProjectID = *project
	}
	if s.Pictures == nil {
		s.Pictures = []string{}
	}
	if s.Equipment, err = equipmentWhere(ctx, db, "e.station_id=$1", stationID); err != nil {
		return Station{}, err
	}
	return s, nil
}

// GetEquipment loads one charger with its connectors and its station's id.
func GetEquipment(ctx context.Context, db *store.DB, equipmentID string) (Equipment, error) {
	eqs, err := equipmentWhere(ctx, db, "e.equipment_id=$1", equipmentID)
	if err != nil {
		return Equipment{}, err
	}
	if len(eqs) == 0 {
		return Equipment{}, fmt.Errorf("equipment %s: %w", equipmentID, ErrNotFound)
	}
	return eqs[0], nil
}

func equipmentWhere(ctx context.Context, db *store.DB, where string, arg string) ([]Equipment, error) {
	rows, err := db.Query(ctx, `select e.equipment_id, e.station_id::text, e.manufacturer_id::text, e.equipment_model,
		coalesce(to_char(e.production_date,'YYYY-MM-DD'),''), e.equipment_type, e.equipment_lng::float8,
		e.equipment_lat::float8, e.equipment_name, e.power::float8, coalesce(e.manufacturer_name,''),
		e.equipment_status, e.equipment_power::float8, e.new_national_standard
		from charging_equipment e where `+where+` order by e.equipment_id`, arg)
	if err != nil {
		return nil, fmt.Errorf("load equipment: %w", err)
	}
	eqs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Equipment, error) {
		var e Equipment
		err := row.Scan(&e.EquipmentID, &e.StationID, &e.ManufacturerID, &e.EquipmentModel, &e.ProductionDate,
			&e.EquipmentType, &e.EquipmentLng, &e.EquipmentLat, &e.EquipmentName, &e.Power, &e.ManufacturerName,
			&e.EquipmentStatus, &e.EquipmentPower, &e.NewNationalStandard)
		e.Connectors = []Connector{}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("load equipment: %w", err)
	}
	rows, err = db.Query(ctx, `select c.equipment_id, c.connector_id, c.connector_name, c.connector_type,
		c.voltage_upper_limits, c.voltage_lower_limits, c.current, c.power::float8, coalesce(c.park_no,''), c.voltage,
		c.bms_power_type, c.paused or s.paused, s.operator_id::text
		from charging_connectors c join charging_equipment e using (equipment_id)
		join charging_stations s on s.station_id=e.station_id
		where `+where+` order by c.connector_id`, arg)
	if err != nil {
		return nil, fmt.Errorf("load connectors: %w", err)
	}
	byID := map[string]*Equipment{}
	for i := range eqs {
		byID[eqs[i].EquipmentID] = &eqs[i]
	}
	for rows.Next() {
		var c Connector
		var eq, operator string
		if err := rows.Scan(&eq, &c.ConnectorID, &c.ConnectorName, &c.ConnectorType, &c.VoltageUpperLimits,
			&c.VoltageLowerLimits, &c.Current, &c.Power, &c.ParkNo, &c.Voltage, &c.BMSPowerType, &c.Paused, &operator); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan connector: %w", err)
		}
		c.OperatorID = operator
		if e := byID[eq]; e != nil {
			e.Connectors = append(e.Connectors, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load connectors: %w", err)
	}
	return eqs, nil
}

const equipmentColumns = `equipment_id, station_id, manufacturer_id, equipment_model, production_date, equipment_type,
	equipment_lng, equipment_lat, equipment_name, power, manufacturer_name, equipment_status, equipment_power,
	new_national_standard`

func equipmentArgs(e Equipment) []any {
	var date any
	if e.ProductionDate != "" {
		date = e.ProductionDate
	}
	return []any{e.EquipmentID, e.StationID, e.ManufacturerID, e.EquipmentModel, date, e.EquipmentType,
		e.EquipmentLng, e.EquipmentLat, e.EquipmentName, e.Power, nullable(e.ManufacturerName), e.EquipmentStatus,
		e.EquipmentPower, e.NewNationalStandard}
}

const connectorColumns = `connector_id, equipment_id, connector_name, connector_type, voltage_upper_limits,
	voltage_lower_limits, current, power, park_no, voltage, bms_power_type`

func connectorArgs(equipmentID string, c Connector) []any {
	return []any{c.ConnectorID, equipmentID, c.ConnectorName, c.ConnectorType, c.VoltageUpperLimits,
		c.VoltageLowerLimits, c.Current, c.Power, nullable(c.ParkNo), c.Voltage, c.BMSPowerType}
}

// SaveEquipment inserts equipment with its connectors into its station
// (create), or replaces an existing one's columns and connectors (update:
// connectors listed are inserted or replaced, others are kept). New
// connectors start idle-less: their live status comes from the charger.
func SaveEquipment(ctx context.Context, db *store.DB, e Equipment, create bool) error {
	if err := e.Validate(); err != nil {
		return err
	}
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		if create {
			_, err := tx.Exec(ctx, `insert into charging_equipment (`+equipmentColumns+`)
				values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`, equipmentArgs(e)...)
			if isUnique(err) {
				return fmt.Errorf("equipment %s: %w", e.EquipmentID, ErrExists)
			}
			if err != nil {
				return err
			}
		} else {
			tag, err := tx.Exec(ctx, `update charging_equipment set (`+equipmentColumns+`, updated_at) =
				($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14, now()) where equipment_id=$1 and station_id=$2`,
				equipmentArgs(e)...)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("equipment %s: %w", e.EquipmentID, ErrNotFound)
			}
		}
		for _, c := range e.Connectors {
			var owner string
			err := tx.QueryRow(ctx, `insert into charging_connectors (`+connectorColumns+`)
				values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
				on conflict (connector_id) do update set connector_name=excluded.connector_name,
				connector_type=excluded.connector_type, voltage_upper_limits=excluded.voltage_upper_limits,
				voltage_lower_limits=excluded.voltage_lower_limits, current=excluded.current, power=excluded.power,
				park_no=excluded.park_no, voltage=excluded.voltage, bms_power_type=excluded.bms_power_type, updated_at=now()
				returning equipment_id`, connectorArgs(e.EquipmentID, c)...).Scan(&owner)
			if err != nil {
				return fmt.Errorf("connector %s: %w", c.ConnectorID, err)
			}
			if owner != e.EquipmentID {
				return fmt.Errorf("connector %s belongs to other equipment: %w", c.ConnectorID, ErrExists)
			}
		}
		return nil
	})
}

// ConnectorPlace is the station and project of a connector.
func ConnectorPlace(ctx context.Context, db *store.DB, connectorID string) (stationID, projectID string, err error) {
	var p *string
	err = db.QueryRow(ctx, `select e.station_id::text, s.project_id::text from charging_connectors c
		join charging_equipment e using (equipment_id) join charging_stations s on s.station_id=e.station_id
		where c.connector_id=$1`, connectorID).Scan(&stationID, &p)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && p == nil) {
		return "", "", fmt.Errorf("connector %s: %w", connectorID, ErrNotFound)
	}
	if err != nil {
		return "", "", err
	}
	return stationID, *p, nil
}

// UpdateConnector replaces one connector's columns.
func UpdateConnector(ctx context.Context, db *store.DB, c Connector) error {
	if err := c.validate("connector"); err != nil {
		return err
	}
	tag, err := db.Exec(ctx, `update charging_connectors set connector_name=$2, connector_type=$3,
		voltage_upper_limits=$4, voltage_lower_limits=$5, current=$6, power=$7, park_no=$8, voltage=$9,
		bms_power_type=$10, updated_at=now() where connector_id=$1`, c.ConnectorID, c.ConnectorName, c.ConnectorType,
		c.VoltageUpperLimits, c.VoltageLowerLimits, c.Current, c.Power, nullable(c.ParkNo), c.Voltage, c.BMSPowerType)
	if err != nil {
		return fmt.Errorf("connector %s: %w", c.ConnectorID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("connector %s: %w", c.ConnectorID, ErrNotFound)
	}
	return nil
}

// SetStationPaused starts (false) or pauses (true) a station's operation.
// The row's updated_at moves, so the regulator's pump owes station info.
func SetStationPaused(ctx context.Context, db *store.DB, stationID string, paused bool) error {
	tag, err := db.Exec(ctx, `update charging_stations set paused=$2, updated_at=now() where station_id=$1`, stationID, paused)
	if err != nil {
		return fmt.Errorf("station %s: %w", stationID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("station %s: %w", stationID, ErrNotFound)
	}
	return nil
}

// SetConnectorPaused starts or pauses one connector.
func SetConnectorPaused(ctx context.Context, db *store.DB, connectorID string, paused bool) error {
	tag, err := db.Exec(ctx, `update charging_connectors set paused=$2, updated_at=now() where connector_id=$1`, connectorID, paused)
	if err != nil {
		return fmt.Errorf("connector %s: %w", connectorID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("connector %s: %w", connectorID, ErrNotFound)
	}
	return nil
}

// Querier is a pool or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Paused reports whether a connector takes no new session: it or its
// station is paused. An unknown connector is not paused (its callers
// refuse it on their own terms).
func Paused(ctx context.Context, q Querier, connectorID string) (bool, error) {
	var paused bool
	err := q.QueryRow(ctx, `select c.paused or s.paused from charging_connectors c
		join charging_equipment e using (equipment_id) join charging_stations s on s.station_id=e.station_id
		where c.connector_id=$1`, connectorID).Scan(&paused)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("connector %s paused: %w", connectorID, err)
	}
	return paused, nil
}
