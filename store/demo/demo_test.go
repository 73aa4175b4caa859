package demo_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/organisation"
)

// TestLoadKeepsTheContract loads the default demo into an empty database
// and checks the facts contracts.md ("Demo data") states, then that a
// second Load keeps it as it is.
func TestLoadKeepsTheContract(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.BcryptCost = bcrypt.MinCost // the passwords are checked, not the cost
	l, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Created || l.ProjectID == "" {
		t.Fatalf("first load = %+v, want the project created", l)
	}

	var org, project string
	if err := db.QueryRow(ctx, `select o.code, p.code from projects p join organisations o on o.id=p.organisation_id
		where p.id=$1`, l.ProjectID).Scan(&org, &project); err != nil || org != "demo-group" || project != "demo" {
		t.Fatalf("project %s of %s (%v), want demo of demo-group", project, org, err)
	}

	// Operators: admin / admin with every role, cashier / cashier, approver / approver.
	for _, c := range []struct {
		user  string
		roles []string
		admin bool
	}{
		{"admin", []string{"admin", "approver", "cashier", "maintenance", "viewer"}, true},
		{"cashier", []string{"cashier"}, false},
		{"approver", []string{"approver"}, false},
	} {
		var hash string
		var platformAdmin bool
		var roles []string
		if err := db.QueryRow(ctx, `select o.password_hash, o.platform_admin,
				coalesce((select array_agg(r.role order by r.role) from operator_roles r where r.operator_id=o.id and r.project_id=$2), '{}')
			from operators o where o.username=$1 and o.disabled_at is null`, c.user, l.ProjectID).Scan(&hash, &platformAdmin, &roles); err != nil {
			t.Fatalf("operator %s: %v", c.user, err)
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(c.user)) != nil {
			t.Errorf("operator %s: the password is not %s", c.user, c.user)
		}
		if !slices.Equal(roles, c.roles) || platformAdmin != c.admin {
			t.Errorf("operator %s: roles %v, platform admin %v; want %v, %v", c.user, roles, platformAdmin, c.roles, c.admin)
		}
	}

	// Gateways GW-01…GW-04 at 127.0.0.1:15020–15023.
	rows, err := db.Query(ctx, `select code, protocol, address from gateways where project_id=$1 order by code`, l.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	var gateways []string
	for rows.Next() {
		var code, protocol, address string
		if err := rows.Scan(&code, &protocol, &address); err != nil {
			t.Fatal(err)
		}
		gateways = append(gateways, code+" "+protocol+" "+address)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	wantGateways := []string{"GW-01 modbus-tcp 127.0.0.1:15020", "GW-02 modbus-tcp 127.0.0.1:15021",
		"GW-03 modbus-tcp 127.0.0.1:15022", "GW-04 modbus-tcp 127.0.0.1:15023"}
	if !slices.Equal(gateways, wantGateways) {
		t.Fatalf("gateways %q, want %q", gateways, wantGateways)
	}

	// M0001…M0128, 32 a gateway with unit ids 1–32, priced 1.2000 with
	// alarms at 20.00 and 10.00, meter-side prepaid; each in an open
	// account of its own tenant on its own shop.
	rows, err = db.Query(ctx, `select m.meter_no, g.code, m.unit_address, m.profile, m.prepaid_mode, m.price::text,
			m.alarm1::text, m.alarm2::text, coalesce(a.status, ''), coalesce(a.unit_id = m.unit_id, false),
			coalesce(c.name, ''), coalesce(u.name, '')
		from meters m join gateways g on g.id=m.gateway_id left join prepaid_accounts a on a.id=m.account_id
			left join customers c on c.id=a.customer_id left join units u on u.id=m.unit_id
		where m.project_id=$1 order by m.meter_no`, l.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var no, gw, prof, mode, price, a1, a2, status, tenant, shop string
		var unit int
		var sameUnit bool
		if err := rows.Scan(&no, &gw, &unit, &prof, &mode, &price, &a1, &a2, &status, &sameUnit, &tenant, &shop); err != nil {
			t.Fatal(err)
		}
		n++
		want := fmt.Sprintf("M%04d GW-%02d %d ref-prepaid-v1 meter 1.2000 20.00 10.00 open true Tenant M%04d Shop M%04d",
			n, (n-1)/32+1, (n-1)%32+1, n, n)
		got := fmt.Sprintf("%s %s %d %s %s %s %s %s %s %v %s %s", no, gw, unit, prof, mode, price, a1, a2, status, sameUnit, tenant, shop)
		if got != want {
			t.Errorf("meter %d: %s, want %s", n, got, want)
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if n != 128 {
		t.Fatalf("%d meters, want 128", n)
	}

	// Recharges above 500.00 need an approver.
	st, err := organisation.ProjectSettings(ctx, db, l.ProjectID)
	if err != nil || st.AutoApproveUpTo.String() != "500.00" {
		t.Fatalf("auto-approve up to %s (%v), want 500.00", st.AutoApproveUpTo, err)
	}

	// A second load keeps the demo as it is.
	before := counts(t, db)
	again, err := demo.Load(ctx, db, o)
	if err != nil || again.Created || again.ProjectID != l.ProjectID {
		t.Fatalf("second load = %+v (%v), want the same project, not created", again, err)
	}
	if after := counts(t, db); after != before {
		t.Fatalf("second load changed the database: %s, was %s", after, before)
	}
}

// counts sums up what the demo writes.
func counts(t *testing.T, db *store.DB) string {
	t.Helper()
	var s string
	if err := db.QueryRow(context.Background(), `select concat_ws(' ', (select count(*) from organisations),
		(select count(*) from projects), (select count(*) from operators), (select count(*) from operator_roles),
		(select count(*) from sites), (select count(*) from units), (select count(*) from customers),
		(select count(*) from prepaid_accounts), (select count(*) from gateways), (select count(*) from meters),
		(select count(*) from tariffs), (select count(*) from alarm_recipients))`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// sqlCalls are the pgx methods that send SQL; sqlText is SQL in a string.
var (
	sqlCalls = []string{"Exec", "Query", "QueryRow", "CopyFrom", "SendBatch", "Begin", "BeginTx"}
	sqlText  = regexp.MustCompile(`(?is)\b(insert\s+into|select\s.*\bfrom\b|update\s+\w+\s+set|delete\s+from|on\s+conflict)\b`)
)

// sqlOf lists "file:line: what" for every SQL call or SQL text in the
// non-test Go files of dir.
func sqlOf(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && slices.Contains(sqlCalls, sel.Sel.Name) {
					bad = append(bad, fmt.Sprintf("%s: calls %s", fset.Position(n.Pos()), sel.Sel.Name))
				}
			case *ast.BasicLit:
				if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && sqlText.MatchString(s) {
					bad = append(bad, fmt.Sprintf("%s: SQL text", fset.Position(n.Pos())))
				}
			}
			return true
		})
	}
	return bad
}

// TestDemoHoldsNoSQL: store/demo builds the demo through the store
// functions the API calls, and sends no SQL of its own.
func TestDemoHoldsNoSQL(t *testing.T) {
	if bad := sqlOf(t, "."); len(bad) > 0 {
		t.Fatalf("store/demo sends SQL itself; call the store function the API calls:\n%s", strings.Join(bad, "\n"))
	}
}

// The scan finds a query and SQL text, and ignores test files.
func TestSQLOfFindsSQL(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.go":      "package a\n\nfunc f(db interface{ Exec(string) }) { db.Exec(\"x\") }\n",
		"b.go":      "package a\n\nconst q = `insert into meters(id) values($1)`\n",
		"ok.go":     "package a\n\nconst s = \"insert a shop, update the tree, then select a floor\"\n",
		"a_test.go": "package a\n\nfunc g(db interface{ Query(string) }) { db.Query(\"select 1 from t\") }\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := sqlOf(t, dir)
	if len(got) != 2 || !strings.Contains(got[0], "a.go:3") || !strings.Contains(got[1], "b.go:3") {
		t.Fatalf("found %q, want the Exec in a.go and the insert in b.go", got)
	}
}
