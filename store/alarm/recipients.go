package alarm

import (
	"context"
	"fmt"

	"github.com/voltflow/voltflow/store"
)

// AddRecipient makes a phone number receive every meter's alarms in the
// project (an area manager, 片区经理), with each meter's tenant. Adding
// it again changes nothing.
func AddRecipient(ctx context.Context, db *store.DB, projectID string, r Recipient) error {
	if _, err := db.Exec(ctx, `insert into alarm_recipients(project_id, phone, name, role) values($1,$2,$3,$4)
		on conflict (project_id, meter_id, phone) do nothing`, projectID, r.Phone, r.Name, r.Role); err != nil {
		return fmt.Errorf("alarm recipient %s: %w", r.Phone, err)
	}
	return nil
}
