package metercmd

import (
	"context"
	"testing"

	"github.com/google/uuid"

	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// fixture loads the demo and returns the DB, the project and the admin's id.
func fixture(t *testing.T) (*store.DB, string, string) {
	t.Helper()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.BcryptCost = 4
	o.MetersPerGW = 4
	loaded, err := demo.Load(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	var admin string
	if err := db.QueryRow(context.Background(), `select id from operators where username='admin'`).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	return db, loaded.ProjectID, admin
}

func TestIdempotencyKeyReturnsTheFirstCommand(t *testing.T) {
	ctx := context.Background()
	db, project, admin := fixture(t)
	var meterID string
	if err := db.QueryRow(ctx, `select id from meters where meter_no='M0001'`).Scan(&meterID); err != nil {
		t.Fatal(err)
	}
	key := "k-1"
	mk := func() Command {
		id := uuid.NewString()
		return Command{ID: id, ProjectID: project, MeterID: meterID, MeterNo: "M0001", Command: "protect",
			Args: ArgsOf(metercmddom.Protect), WorkflowID: "meter-command/" + id, IdempotencyKey: &key, CreatedBy: admin}
	}
	first, created, err := CreateCommand(ctx, db, mk())
	if err != nil || !created || first.Status != metercmddom.Pending || string(first.Args) != `{"mode": 1}` {
		t.Fatalf("first %+v created %v, %v", first, created, err)
	}
	again, created, err := CreateCommand(ctx, db, mk())
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("replay %+v created %v, %v; want the first", again, created, err)
	}
}
