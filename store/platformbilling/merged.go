package platformbilling

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Payer is the meter whose wallet pays a platform-side meter's consumption
// and decides its switching: the meter itself, or its master when the
// sub meter's account is merged into the master's (合并账户,
// meter_sub_meters.merged).
func Payer(ctx context.Context, tx pgx.Tx, meterID, meterNo string) (id, no string, err error) {
	err = tx.QueryRow(ctx, `select m.id::text, m.meter_no from meter_sub_meters x join meters m on m.id = x.master_meter_id
		where x.sub_meter_id = $1 and x.merged`, meterID).Scan(&id, &no)
	if errors.Is(err, pgx.ErrNoRows) {
		return meterID, meterNo, nil
	}
	if err != nil {
		return "", "", fmt.Errorf("payer of meter %s: %w", meterNo, err)
	}
	return id, no, nil
}
