package platformbilling

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/tariff"
	"github.com/voltflow/voltflow/store"
)

// SaveTariff stores a tariff under its code in the project (replacing the
// spec of an existing code) and returns its id.
func SaveTariff(ctx context.Context, db *store.DB, projectID, code, name string, t tariff.Tariff) (string, error) {
	if err := t.Validate(); err != nil {
		return "", fmt.Errorf("tariff %s: %w", code, err)
	}
	spec, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	var id string
	err = db.QueryRow(ctx, `insert into tariffs(id, project_id, code, name, spec) values($1,$2,$3,$4,$5)
		on conflict (project_id, code) do update set name=excluded.name, spec=excluded.spec returning id::text`,
		uuid.NewString(), projectID, code, name, spec).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("save tariff %s: %w", code, err)
	}
	return id, nil
}

// AssignTariff makes tariffID the tariff of a meter from its next interval on.
func AssignTariff(ctx context.Context, db *store.DB, meterID, tariffID string) error {
	if _, err := db.Exec(ctx, `insert into meter_tariffs(meter_id, tariff_id) values($1,$2)
		on conflict (meter_id) do update set tariff_id=excluded.tariff_id, since=now()`, meterID, tariffID); err != nil {
		return fmt.Errorf("assign tariff to meter %s: %w", meterID, err)
	}
	return nil
}
