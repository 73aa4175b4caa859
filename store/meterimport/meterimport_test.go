package meterimport_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	metersacts "github.com/voltflow/voltflow/activities/meters"
	sweepacts "github.com/voltflow/voltflow/activities/sweep"
	"github.com/voltflow/voltflow/devices/simulator"
	meterimportdom "github.com/voltflow/voltflow/domain/meterimport"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	meterimportstore "github.com/voltflow/voltflow/store/meterimport"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// apply imports CSV-like lines as the API does.
func apply(ctx context.Context, db *store.DB, pid string, dryRun bool, lines ...string) (meterimportstore.Result, []meterimportdom.Problem, error) {
	cols, problems := meterimportdom.ReadHeading(strings.Split(lines[0], ","), func(name string) bool {
		return name == "ref-prepaid-v1" || name == "ref-water-valve-v1"
	})
	if len(problems) > 0 {
		return meterimportstore.Result{}, problems, nil
	}
	i := 0
	res, p, err := meterimportstore.Apply(ctx, db, pid, cols, func() ([]string, bool, error) {
		if i == len(lines)-1 {
			return nil, false, nil
		}
		i++
		return strings.Split(lines[i], ","), true, nil
	}, dryRun)
	return res, p.List, err
}

func project(t testing.TB, db *store.DB) string {
	t.Helper()
	d := demo.Defaults()
	d.BcryptCost, d.MetersPerGW, d.GatewayPorts = 4, 2, []int{1}
	loaded, err := demo.Load(context.Background(), db, d)
	if err != nil {
		t.Fatal(err)
	}
	return loaded.ProjectID
}

// Meters imported onto two new gateways are read by the next sweep, over
// real sockets; the same sheet sent again changes nothing; a sheet that
// contradicts stored meters stores none of its rows.
func TestImportedMetersAreRead(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	pid := project(t, db)
	fleet, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Gateways: 2, Meters: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Stop() })
	lines := []string{"meter_no,gateway,gateway_address,protocol,max_in_flight,unit_address,profile,price,ct_ratio"}
	for g, gw := range fleet.Gateways() {
		for u := 1; u <= 3; u++ {
			addr, proto, window := "", "", ""
			if u == 1 {
				addr, proto, window = gw.Addr(), "modbus-tcp", "1"
			}
			lines = append(lines, fmt.Sprintf("IMP-%d-%d,IMP-GW%d,%s,%s,%s,%d,ref-prepaid-v1,1.25,%d", g, u, g, addr, proto, window, u, u))
		}
	}
	count := func() int {
		var n int
		if err := db.QueryRow(ctx, `select count(*) from meters where project_id=$1`, pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()

	res, problems, err := apply(ctx, db, pid, true, lines...)
	if err != nil || len(problems) > 0 {
		t.Fatalf("dry run: %v %v", err, problems)
	}
	if res != (meterimportstore.Result{GatewaysCreated: 2, MetersCreated: 6, DryRun: true}) || count() != before {
		t.Fatalf("dry run %+v stored %d meters", res, count()-before)
	}
	res, problems, err = apply(ctx, db, pid, false, lines...)
	if err != nil || len(problems) > 0 {
		t.Fatalf("import: %v %v", err, problems)
	}
	if res != (meterimportstore.Result{GatewaysCreated: 2, MetersCreated: 6}) || count() != before+6 {
		t.Fatalf("import %+v stored %d meters", res, count()-before)
	}
	var window, ct int
	var price string
	if err := db.QueryRow(ctx, `select g.max_in_flight, m.ct_ratio, m.price::text from meters m join gateways g on g.id=m.gateway_id
		where m.meter_no='IMP-1-3'`).Scan(&window, &ct, &price); err != nil {
		t.Fatal(err)
	}
	if window != 1 || ct != 3 || price != "1.2500" {
		t.Fatalf("IMP-1-3: max_in_flight %d ct %d price %s", window, ct, price)
	}

	// The sweep reads them.
	gws := &metersacts.Gateways{Timeout: time.Second}
	t.Cleanup(gws.Close)
	acts := &sweepacts.Activities{DB: db, Gateways: gws}
	var ids []string
	if err := db.QueryRow(ctx, `select array_agg(id::text) from gateways where project_id=$1 and code like 'IMP-%'`, pid).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	v, err := env.ExecuteActivity(acts.SweepBatch, sweepacts.BatchInput{ProjectID: pid, At: time.Now().UTC().Truncate(time.Second), GatewayIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	var read sweepacts.BatchResult
	if err := v.Get(&read); err != nil {
		t.Fatal(err)
	}
	if read.Meters != 6 || read.Read != 6 {
		t.Fatalf("sweep of the imported gateways: %+v, want 6 meters read", read)
	}

	// The same sheet again: nothing new, nothing changed.
	res, problems, err = apply(ctx, db, pid, false, lines...)
	if err != nil || len(problems) > 0 || res != (meterimportstore.Result{MetersUnchanged: 6}) || count() != before+6 {
		t.Fatalf("second import: %+v %v %v, %d meters stored", res, problems, err, count()-before)
	}

	// Contradictions with stored data, each on its row; none of the sheet's
	// rows is stored (IMP-NEW is good on its own).
	_, problems, err = apply(ctx, db, pid, false,
		"meter_no,gateway,gateway_address,protocol,unit_address,profile,price",
		"IMP-NEW,IMP-GW0,,,9,ref-prepaid-v1,1",
		"IMP-0-1,IMP-GW0,,,1,ref-prepaid-v1,2.5",        // stored at 1.25
		"IMP-X,IMP-GW1,,,2,ref-prepaid-v1,1",            // unit 2 is IMP-1-2
		"IMP-Y,IMP-GW1,127.0.0.9:1,,7,ref-prepaid-v1,1", // another address
		"IMP-Z,IMP-NEWGW,,,1,ref-prepaid-v1,1",          // new gateway, no protocol or address
	)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		"row 3, price: IMP-0-1 is stored with other values (price)",
		"row 4, gateway_address: gateway IMP-GW1 is stored with address " + fleet.Gateways()[1].Addr() + ", the sheet says 127.0.0.9:1",
		"row 4, unit_address: gateway IMP-GW1 unit 2 is meter IMP-1-2",
		"row 6, protocol: gateway IMP-NEWGW is new: its protocol is required",
		"row 6, gateway_address: gateway IMP-NEWGW is new: its address is required",
	}
	if len(got) != len(want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d: %q, want %q…", i, got[i], want[i])
		}
	}
	if count() != before+6 {
		t.Fatalf("a refused sheet stored %d meters", count()-before-6)
	}
}

// BenchmarkImport100k stores 3,125 new gateways × 32 meters in one import.
func BenchmarkImport100k(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := pg.NewDB(b)
		pid := project(b, db)
		lines := []string{"meter_no,gateway,gateway_address,protocol,unit_address,profile,price"}
		for g := range 3125 {
			for u := 1; u <= 32; u++ {
				addr, proto := "", ""
				if u == 1 {
					addr, proto = fmt.Sprintf("10.%d.%d.1:502", g/250, g%250), "modbus-tcp"
				}
				lines = append(lines, fmt.Sprintf("B%d-%d,BGW-%d,%s,%s,%d,ref-prepaid-v1,1.2", g, u, g, addr, proto, u))
			}
		}
		b.StartTimer()
		start := time.Now()
		res, problems, err := apply(ctx, db, pid, false, lines...)
		if err != nil || len(problems) > 0 || res.MetersCreated != 100_000 {
			b.Fatalf("%+v %v %v", res, problems, err)
		}
		b.Logf("100,000 meters on 3,125 gateways: checked and stored in %v", time.Since(start).Round(time.Millisecond))
	}
}

// The checks across a sheet's rows, made on the staged rows: each problem
// on its row, and nothing stored.
func TestSheetChecks(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	pid := project(t, db)
	const heading = "meter_no,gateway,gateway_address,protocol,unit_address,profile,price"
	for _, c := range []struct {
		name  string
		lines []string
		want  []string // problems, as "row N, column: detail" prefixes
	}{
		{"repeats inside the sheet", []string{heading,
			"A1,GW-A,10.0.0.1:502,modbus-tcp,1,ref-prepaid-v1,1.2",
			"A1,GW-A,,,2,ref-prepaid-v1,1.2",
			"A3,GW-A,,,1,ref-prepaid-v1,1.2"},
			[]string{"row 3, meter_no: A1 is also on row 2", "row 4, unit_address: gateway GW-A unit 1 is also on row 2"}},
		{"a gateway said two ways", []string{heading,
			"A1,GW-A,10.0.0.1:502,modbus-tcp,1,ref-prepaid-v1,1.2",
			"A2,GW-A,10.0.0.9:502,modbus-rtu-tcp,2,ref-prepaid-v1,1.2"},
			[]string{"row 3, protocol: gateway GW-A is modbus-tcp on row 2",
				"row 3, gateway_address: gateway GW-A is 10.0.0.1:502 on row 2"}},
		{"a DL/T 645 meter number that is not an address", []string{heading,
			"D1,GW-D,10.0.0.2:8899,dlt645-tcp,1,ref-prepaid-v1,1"},
			[]string{"row 2, meter_no: a DL/T 645 meter's number is its address"}},
		{"the protocol given on a later row still decides", []string{heading,
			"D1,GW-D,,,1,ref-prepaid-v1,1", "000000000002,GW-D,10.0.0.2:8899,dlt645-tcp,2,ref-prepaid-v1,1"},
			[]string{"row 2, meter_no: a DL/T 645 meter's number is its address"}},
		{"a row's own problems come first on its row", []string{heading,
			"A1,GW-A,10.0.0.1:502,modbus-tcp,1,ref-prepaid-v1,1.2",
			"A1,GW-A,,,1,ref-prepaid-v1,x"},
			[]string{"row 3, price:", "row 3, meter_no: A1 is also on row 2", "row 3, unit_address: gateway GW-A unit 1 is also on row 2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, problems, err := apply(ctx, db, pid, false, c.lines...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if len(got) != len(c.want) {
				t.Fatalf("problems %q, want %d: %q", got, len(c.want), c.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("problem %d is %q, want %q…", i, got[i], c.want[i])
				}
			}
			var n int
			if err := db.QueryRow(ctx, `select count(*) from gateways where code in ('GW-A', 'GW-D')`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d gateways stored (%v)", n, err)
			}
		})
	}
}

// A sheet with more problems than an answer lists counts them all and
// keeps the first ones in row order.
func TestManyProblems(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	pid := project(t, db)
	lines := []string{"meter_no,gateway,gateway_address,protocol,unit_address,profile,price"}
	for i := range 1000 {
		lines = append(lines, fmt.Sprintf("Q%d,GW-Q,10.0.0.1:502,modbus-tcp,%d,ref-prepaid-v1,-1", i, i%247+1))
	}
	_, problems, err := apply(ctx, db, pid, false, lines...)
	if err != nil {
		t.Fatal(err)
	}
	// 1000 negative prices, and units 1..247 repeated from row 249 on.
	if len(problems) != meterimportstore.MaxProblems || problems[0].Line != 2 || problems[len(problems)-1].Line != 201 {
		t.Fatalf("%d problems kept, rows %d..%d", len(problems), problems[0].Line, problems[len(problems)-1].Line)
	}
}
