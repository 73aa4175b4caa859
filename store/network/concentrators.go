package network

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// Concentrator is a station's 集控器 with the chargers on its CAN bus.
type Concentrator struct {
	StationID string             `json:"stationId"`
	Code      string             `json:"code"`
	Name      string             `json:"name"`
	Model     string             `json:"model"`
	Chargers  []ConcentratorSlot `json:"chargers"`
}

// ConcentratorSlot is a charger at a CAN address.
type ConcentratorSlot struct {
	EquipmentID string `json:"equipmentId"`
	CANAddress  int    `json:"canAddress"`
}

// Validate checks the code and the bus: addresses 1–254, each address and
// each charger once.
func (c Concentrator) Validate() error {
	if c.Code == "" || len(c.Code) > 32 {
		return invalid("code", "is 1 to 32 characters")
	}
	addr, eq := map[int]bool{}, map[string]bool{}
	for i, s := range c.Chargers {
		f := fmt.Sprintf("chargers[%d]", i)
		switch {
		case s.CANAddress < 1 || s.CANAddress > 254:
			return invalid(f+".canAddress", "is 1 to 254")
		case addr[s.CANAddress]:
			return invalid(f+".canAddress", "is used twice on the bus")
		case eq[s.EquipmentID]:
			return invalid(f+".equipmentId", "is listed twice")
		}
		addr[s.CANAddress], eq[s.EquipmentID] = true, true
	}
	return nil
}

// SaveConcentrator creates a concentrator (create) or replaces an existing
// one's name, model and chargers. Each charger must be equipment of the
// station and behind no other concentrator.
func SaveConcentrator(ctx context.Context, db *store.DB, c Concentrator, create bool) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		if create {
			_, err := tx.Exec(ctx, `insert into charging_concentrators (station_id, code, name, model) values ($1,$2,$3,$4)`,
				c.StationID, c.Code, c.Name, c.Model)
			if isUnique(err) {
				return fmt.Errorf("concentrator %s: %w", c.Code, ErrExists)
			}
			if err != nil {
				return err
			}
		} else {
			tag, err := tx.Exec(ctx, `update charging_concentrators set name=$3, model=$4, updated_at=now()
				where station_id=$1 and code=$2`, c.StationID, c.Code, c.Name, c.Model)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("concentrator %s: %w", c.Code, ErrNotFound)
			}
			if _, err := tx.Exec(ctx, `delete from charging_concentrator_chargers where station_id=$1 and code=$2`,
				c.StationID, c.Code); err != nil {
				return err
			}
		}
		for i, s := range c.Chargers {
			var here bool
			if err := tx.QueryRow(ctx, `select exists(select 1 from charging_equipment where equipment_id=$1 and station_id=$2)`,
				s.EquipmentID, c.StationID).Scan(&here); err != nil {
				return err
			}
			if !here {
				return invalid(fmt.Sprintf("chargers[%d].equipmentId", i), "is not equipment of the station")
			}
			_, err := tx.Exec(ctx, `insert into charging_concentrator_chargers (station_id, code, equipment_id, can_address)
				values ($1,$2,$3,$4)`, c.StationID, c.Code, s.EquipmentID, s.CANAddress)
			if isUnique(err) {
				return invalid(fmt.Sprintf("chargers[%d].equipmentId", i), "is behind another concentrator")
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Concentrators lists a station's concentrators with their chargers.
func Concentrators(ctx context.Context, db *store.DB, stationID string) ([]Concentrator, error) {
	rows, err := db.Query(ctx, `select station_id::text, code, name, model from charging_concentrators
		where station_id=$1 order by code`, stationID)
	if err != nil {
		return nil, fmt.Errorf("concentrators of %s: %w", stationID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Concentrator, error) {
		c := Concentrator{Chargers: []ConcentratorSlot{}}
		return c, row.Scan(&c.StationID, &c.Code, &c.Name, &c.Model)
	})
	if err != nil {
		return nil, fmt.Errorf("concentrators of %s: %w", stationID, err)
	}
	rows, err = db.Query(ctx, `select code, equipment_id, can_address from charging_concentrator_chargers
		where station_id=$1 order by code, can_address`, stationID)
	if err != nil {
		return nil, fmt.Errorf("concentrator chargers of %s: %w", stationID, err)
	}
	byCode := map[string]*Concentrator{}
	for i := range out {
		byCode[out[i].Code] = &out[i]
	}
	for rows.Next() {
		var code string
		var s ConcentratorSlot
		if err := rows.Scan(&code, &s.EquipmentID, &s.CANAddress); err != nil {
			rows.Close()
			return nil, err
		}
		if c := byCode[code]; c != nil {
			c.Chargers = append(c.Chargers, s)
		}
	}
	return out, rows.Err()
}

// GetConcentrator loads one concentrator of a station.
func GetConcentrator(ctx context.Context, db *store.DB, stationID, code string) (Concentrator, error) {
	all, err := Concentrators(ctx, db, stationID)
	if err != nil {
		return Concentrator{}, err
	}
	for _, c := range all {
		if c.Code == code {
			return c, nil
		}
	}
	return Concentrator{}, fmt.Errorf("concentrator %s: %w", code, ErrNotFound)
}
