package tenant_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
	tenantstore "github.com/voltflow/voltflow/store/tenant"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// Login codes: hashed, one a minute and five an hour per phone, spent on
// use, expired after 5 minutes, spoiled by five wrong guesses.
func TestLoginCodes(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = o.GatewayPorts[:1], 2, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tenantstore.DemoPhones(ctx, db, p.ProjectID); err != nil {
		t.Fatal(err)
	}
	const phone = "13800000001"
	if id, _, err := tenantstore.ProjectOf(ctx, db, phone); err != nil || id != p.ProjectID {
		t.Fatalf("project of %s: %q %v", phone, id, err)
	}
	if _, _, err := tenantstore.ProjectOf(ctx, db, "13000000000"); !errors.Is(err, tenantstore.ErrNotFound) {
		t.Fatalf("a nobody's phone: %v", err)
	}
	t0 := time.Now()
	issue := func(code string, at time.Duration) func() error {
		return func() error { _, err := tenantstore.IssueCode(ctx, db, phone, code, t0.Add(at)); return err }
	}
	check := func(code string, at time.Duration) func() error {
		return func() error { return tenantstore.CheckCode(ctx, db, phone, code, t0.Add(at)) }
	}
	var limited *tenantstore.RateLimited
	steps := []struct {
		name string
		run  func() error
		want func(error) bool
	}{
		{"first code", issue("123456", 0), isNil},
		{"second within the minute", issue("222222", 30*time.Second),
			func(err error) bool { return errors.As(err, &limited) && limited.RetryAfter <= 30*time.Second }},
		{"wrong guess", check("654321", time.Second), isBad},
		{"right code", check("123456", 2*time.Second), isNil},
		{"spent", check("123456", 3*time.Second), isBad},
		{"code after a minute", issue("333333", 61*time.Second), isNil},
		{"expired", check("333333", 61*time.Second+tenantstore.CodeTTL), isBad},
		{"third code", issue("444444", 2*time.Minute+time.Second), isNil},
		{"five wrong guesses", func() error {
			for range tenantstore.MaxCodeGuesses {
				if err := tenantstore.CheckCode(ctx, db, phone, "000000", t0.Add(2*time.Minute+2*time.Second)); !errors.Is(err, tenantstore.ErrBadCode) {
					return err
				}
			}
			return nil
		}, isNil},
		{"spoiled", check("444444", 2*time.Minute+3*time.Second), isBad},
		{"fourth", issue("555555", 3*time.Minute+2*time.Second), isNil},
		{"fifth", issue("666666", 4*time.Minute+3*time.Second), isNil},
		{"sixth in the hour", issue("777777", 5*time.Minute+4*time.Second),
			func(err error) bool { return errors.As(err, &limited) && limited.RetryAfter > 50*time.Minute }},
	}
	for _, s := range steps {
		if err := s.run(); !s.want(err) {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	var clear int
	if err := db.QueryRow(ctx, `select count(*) from tenant_login_codes where code_hash = convert_to('123456', 'UTF8')`).Scan(&clear); err != nil || clear != 0 {
		t.Fatalf("codes in clear: %d %v", clear, err)
	}
	ms, err := tenantstore.Meters(ctx, db, phone, time.Now())
	if err != nil || len(ms) != 1 || ms[0].MeterNo != "M0001" {
		t.Fatalf("meters of %s: %+v %v", phone, ms, err)
	}
	if _, err := tenantstore.FindMeter(ctx, db, phone, "M0002"); !errors.Is(err, tenantstore.ErrNotFound) {
		t.Fatalf("another tenant's meter: %v", err)
	}
}

func isNil(err error) bool { return err == nil }
func isBad(err error) bool { return errors.Is(err, tenantstore.ErrBadCode) }
