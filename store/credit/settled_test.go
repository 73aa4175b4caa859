package credit

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

func (f fixture) settle(t *testing.T, key, amount string) SettledConsumption {
	t.Helper()
	var c SettledConsumption
	err := store.InTx(context.Background(), f.db, func(tx pgx.Tx) error {
		var err error
		c, err = ConsumeSettledTx(context.Background(), tx, ConsumeInput{ProjectID: f.project, EnterpriseID: f.e.ID, Key: key,
			Amount: money.MustParse(amount), Description: "charging order " + key})
		return err
	})
	if err != nil {
		t.Fatalf("settle %s: %v", key, err)
	}
	return c
}

// A settled charging order is booked on credit even past the limit (the
// energy is delivered), once per key, and listed for the next bill; the
// limit still refuses the next ordinary consumption.
func TestConsumeSettledPastTheLimit(t *testing.T) {
	f := setup(t, "10.00")
	if err := f.consume("before", "8.00"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, amount string
		over        bool
		owed        string
	}{
		{"charging/o1", "1.50", false, "9.50"},
		{"charging/o2", "3.00", true, "12.50"},
		{"charging/o2", "3.00", false, "12.50"}, // repeated: the first booking, nothing new
	}
	for _, tt := range tests {
		c := f.settle(t, tt.key, tt.amount)
		if c.OverLimit != tt.over || f.owed(t) != tt.owed || c.Key != tt.key {
			t.Fatalf("%s: %+v, owed %s; want over %v owed %s", tt.key, c, f.owed(t), tt.over, tt.owed)
		}
	}
	if err := f.consume("after", "0.01"); !errors.Is(err, creditline.ErrExceedsLimit) {
		t.Fatalf("consume past the limit: %v", err)
	}
	var unbilled int
	if err := f.db.QueryRow(context.Background(), `select count(*) from credit_consumptions where enterprise_id=$1 and bill_id is null
		and key like 'charging/%'`, f.e.ID).Scan(&unbilled); err != nil || unbilled != 2 {
		t.Fatalf("unbilled charging consumptions %d %v", unbilled, err)
	}
}

// Without a credit account nothing is booked.
func TestConsumeSettledNeedsCredit(t *testing.T) {
	f := setup(t, "")
	err := store.InTx(context.Background(), f.db, func(tx pgx.Tx) error {
		_, err := ConsumeSettledTx(context.Background(), tx, ConsumeInput{ProjectID: f.project, EnterpriseID: f.e.ID, Key: "k",
			Amount: money.MustParse("1.00")})
		return err
	})
	if !errors.Is(err, creditline.ErrNotOpen) {
		t.Fatalf("settle without credit: %v", err)
	}
}
