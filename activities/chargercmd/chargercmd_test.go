package chargercmd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/activities/centralsystem"
	chargercmdacts "github.com/voltflow/voltflow/activities/chargercmd"
	"github.com/voltflow/voltflow/devices/chargersim"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

const (
	cp1 = "4403000000000000000001"
	cp2 = "4403000000000000000002"
)

func setup(t *testing.T) (*store.DB, *chargercmdacts.Activities, *chargersim.ChargePoint) {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.GatewayPorts, o.BcryptCost = 1, []int{15020}, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, p.ProjectID); err != nil {
		t.Fatal(err)
	}
	srv, stop, err := centralsystem.StartCentralSystem(ctx, db, centralsystem.CentralConfig{Addr: "127.0.0.1:0",
		HeartbeatInterval: 5 * time.Second, Grace: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	c, err := chargersim.Connect(ctx, chargersim.Config{URL: srv.URL(), Password: charger.DemoPassword}, cp1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return db, &chargercmdacts.Activities{DB: db, CS: srv}, c
}

type logged struct {
	action, status, origin string
	err                    *string
	answered               bool
}

func lastCommand(t *testing.T, db *store.DB, cp string) logged {
	t.Helper()
	var l logged
	if err := db.QueryRow(context.Background(), `select action, coalesce(status,''), origin, error, answered_at is not null
		from charger_commands where equipment_id=$1 order by id desc limit 1`, cp).Scan(&l.action, &l.status, &l.origin, &l.err, &l.answered); err != nil {
		t.Fatal(err)
	}
	return l
}

// Each command reaches the charger, comes back with its answer, and is
// logged with both; a charger that is not connected is ChargerOffline.
func TestCommands(t *testing.T) {
	db, a, c := setup(t)
	ctx := context.Background()

	res, err := a.SetLimit(ctx, chargercmdacts.Limit{ChargePointID: cp1, Connector: 2, LimitW: 22000, ProfileID: 7, StackLevel: 1, Origin: "test"})
	if err != nil || !res.Accepted() {
		t.Fatalf("set limit = %+v, %v", res, err)
	}
	cmd, err := c.WaitCommand(ctx, "SetChargingProfile")
	if err != nil {
		t.Fatal(err)
	}
	if l := lastCommand(t, db, cp1); l.action != "SetChargingProfile" || l.status != "Accepted" || l.origin != "test" || !l.answered || l.err != nil {
		t.Fatalf("logged = %+v", l)
	}
	_ = cmd

	res, err = a.Start(ctx, chargercmdacts.Start{ChargePointID: cp1, Connector: 3, IdTag: charger.DemoCard})
	if err != nil || !res.Accepted() {
		t.Fatalf("start = %+v, %v", res, err)
	}
	eventually.True(t, 3*time.Second, "remote start starts a session", func() (bool, string) {
		if s := c.Session(3); s != nil {
			return s.TransactionID != 0, "a session without a transaction id"
		}
		return false, "no session"
	})
	res, err = a.Stop(ctx, chargercmdacts.Stop{ChargePointID: cp1, Connector: 3, TransactionID: c.Session(3).TransactionID})
	if err != nil || !res.Accepted() {
		t.Fatalf("stop = %+v, %v", res, err)
	}
	// Stopping a transaction the charger does not have: an answer, not an error.
	res, err = a.Stop(ctx, chargercmdacts.Stop{ChargePointID: cp1, TransactionID: 999999})
	if err != nil || res.Accepted() || res.Status != "Rejected" {
		t.Fatalf("stop unknown = %+v, %v", res, err)
	}

	_, err = a.ClearLimit(ctx, chargercmdacts.Release{ChargePointID: cp2, Connector: 1, ProfileID: 7})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != chargercmdacts.ErrOffline {
		t.Fatalf("command to an unconnected charger: %v, want %s", err, chargercmdacts.ErrOffline)
	}
	if l := lastCommand(t, db, cp2); l.action != "ClearChargingProfile" || l.status != "" || l.err == nil || !l.answered {
		t.Fatalf("logged offline command = %+v", l)
	}
}
