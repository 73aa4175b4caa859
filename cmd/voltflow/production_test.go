package main

import (
	"context"
	"strings"
	"testing"

	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

func TestProductionRefusesDefaultPasswords(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.BcryptCost = 1, 4
	if _, err := demo.Load(ctx, db, o); err != nil {
		t.Fatal(err)
	}
	err := refuseDefaultPasswords(ctx, db)
	if err == nil || !strings.Contains(err.Error(), "admin") || !strings.Contains(err.Error(), "cashier") {
		t.Fatalf("demo operators accepted for production: %v", err)
	}
	if _, err := db.Exec(ctx, `update operators set password_hash='$2a$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinval'`); err != nil {
		t.Fatal(err)
	}
	if err := refuseDefaultPasswords(ctx, db); err != nil {
		t.Fatalf("changed passwords refused: %v", err)
	}
}
