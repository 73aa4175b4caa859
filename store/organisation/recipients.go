package organisation

import (
	"context"
	"fmt"

	"github.com/voltflow/voltflow/store"
)

// AddAlarmRecipient makes a phone number receive every meter's alarms in
// the project with each meter's tenant: an area manager (片区经理, role
// "manager") or another ("other"); store/alarm reads them. Adding it again
// changes nothing. (It lives here, not in store/alarm, because store/alarm's
// tests load the demo, which calls it.)
func AddAlarmRecipient(ctx context.Context, db *store.DB, projectID, phone, name, role string) error {
	if _, err := db.Exec(ctx, `insert into alarm_recipients(project_id, phone, name, role) values($1,$2,$3,$4)
		on conflict (project_id, meter_id, phone) do nothing`, projectID, phone, name, role); err != nil {
		return fmt.Errorf("alarm recipient %s: %w", phone, err)
	}
	return nil
}
