package sweep_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/testsuite"

	metersacts "github.com/voltflow/voltflow/activities/meters"
	sweepacts "github.com/voltflow/voltflow/activities/sweep"
	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
)

// TestSweepReadsDLT645AndRTUGateways sweeps a DL/T 645-2007 gateway and a
// Modbus RTU-over-TCP gateway (real sockets, the simulators) through the
// same batch activity into readings and the latest state.
func TestSweepReadsDLT645AndRTUGateways(t *testing.T) {
	ctx := context.Background()
	db, projectID := smallProject(t)

	// Two fleets of 3 meters with different balances, so a value cannot land
	// on the other protocol's rows: one behind a DL/T 645 gateway (addresses
	// 000000000001..3), one behind an RTU-over-TCP converter.
	servers := map[string]simulator.Server{}
	for _, c := range []struct {
		protocol  string
		remaining int64
	}{{simulator.ProtocolDLT645, 4321}, {simulator.ProtocolModbusRTUTCP, 8765}} {
		fleet, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Meters: 3,
			Meter: simulator.MeterConfig{Remaining: c.remaining, UnitPrice: 12000, Load: 1500}})
		if err != nil {
			t.Fatal(err)
		}
		fleet.Advance(2 * time.Hour) // 3 kWh on every meter
		srv, err := fleet.Servers(c.protocol)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv[0].Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv[0].Stop() })
		servers[c.protocol] = srv[0]
	}
	addr := func(s simulator.Server) string {
		type addressed interface{ Addr() string }
		return s.(addressed).Addr()
	}

	ids := []string{
		addGateway(t, db, projectID, "DLT-1", sweepacts.ProtocolDLT645TCP, addr(servers[simulator.ProtocolDLT645]), nil,
			"000000000001", "000000000002", "000000000003", "000000000009"), // the last: nobody answers
		addGateway(t, db, projectID, "RTU-1", sweepacts.ProtocolModbusRTUTCP, addr(servers[simulator.ProtocolModbusRTUTCP]), nil,
			"R1", "R2", "R3"),
	}

	// Meter 2 behind the DL/T 645 gateway is switched off: the sweep learns
	// it from run status word 3.
	if err := servers[simulator.ProtocolDLT645].(*simulator.DLTGateway).Meter(2).SwitchOff(); err != nil {
		t.Fatal(err)
	}

	gws := &metersacts.Gateways{Timeout: 300 * time.Millisecond}
	t.Cleanup(gws.Close)
	acts := &sweepacts.Activities{DB: db, Gateways: gws}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	res := runBatch(t, acts, sweepacts.BatchInput{ProjectID: projectID, At: at, GatewayIDs: ids})
	if res.Read != 6 || res.Failed != 1 || res.Skipped != 0 || res.GatewaysDown != 0 {
		t.Fatalf("batch %+v, want 6 read and the unknown DL/T 645 address failed", res)
	}

	rows, err := db.Query(ctx, `select m.meter_no, r.remaining::text, r.energy_kwh::text, r.voltage_v::text, r.power_kw::text,
			s.remaining::text, s.relay
		from readings r join meters m on m.id=r.meter_id join meter_state s on s.meter_id=m.id
		where r.read_at=$1 order by m.meter_no`, at)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var no, rem, energy, volt, power, state string
		var relay int
		if err := rows.Scan(&no, &rem, &energy, &volt, &power, &state, &relay); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %s %s relay=%d", no, rem, energy, volt, power, state, relay))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// 1.5 kW for 2 h = 3.00 kWh at 1.2 yuan/kWh = 3.60 yuan spent; the
	// switched-off meter draws nothing now and reads relay open (1).
	want := []string{
		"000000000001 39.61 3.00 220.0 1.500 39.61 relay=0",
		"000000000002 39.61 3.00 220.0 0.000 39.61 relay=1",
		"000000000003 39.61 3.00 220.0 1.500 39.61 relay=0",
		"R1 84.05 3.00 220.0 1.500 84.05 relay=0",
		"R2 84.05 3.00 220.0 1.500 84.05 relay=0",
		"R3 84.05 3.00 220.0 1.500 84.05 relay=0",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("readings\n%q\nwant\n%q", got, want)
	}
}

// TestGatewayWindowFromItsRow sweeps two gateways that drop requests
// arriving while they answer: the one whose row says max_in_flight 1 reads
// every meter one at a time from the start; the other (the platform's
// pipelining default) is found dropping, falls back and reads every meter
// too, and its row records that.
func TestGatewayWindowFromItsRow(t *testing.T) {
	ctx := context.Background()
	db, projectID := smallProject(t)
	fleet, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Gateways: 2, Meters: 4,
		Latency: 5 * time.Millisecond, NoPipelining: true, Meter: simulator.MeterConfig{Remaining: 1000, UnitPrice: 12000}})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Stop() })
	ids := []string{
		addGateway(t, db, projectID, "SERIAL-0", sweepacts.ProtocolModbusTCP, fleet.Gateway(0).Addr(), 1, "S0-1", "S0-2", "S0-3", "S0-4"),
		addGateway(t, db, projectID, "SERIAL-1", sweepacts.ProtocolModbusTCP, fleet.Gateway(1).Addr(), nil, "S1-1", "S1-2", "S1-3", "S1-4"),
	}
	gws := &metersacts.Gateways{Timeout: 200 * time.Millisecond}
	t.Cleanup(gws.Close)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	runBatch(t, &sweepacts.Activities{DB: db, Gateways: gws}, sweepacts.BatchInput{ProjectID: projectID, At: at, GatewayIDs: ids})
	var serial, fellBack int
	if err := db.QueryRow(ctx, `select count(*) filter (where m.meter_no like 'S0-%'), count(*) filter (where m.meter_no like 'S1-%')
		from readings r join meters m on m.id=r.meter_id where r.read_at=$1`, at).Scan(&serial, &fellBack); err != nil {
		t.Fatal(err)
	}
	if serial != 4 || fellBack != 4 {
		t.Errorf("max_in_flight 1: %d of 4 meters read; default window: %d of 4", serial, fellBack)
	}
	if got := pipelining(t, db, ids...); got != "SERIAL-0: SERIAL-1:unsupported" {
		t.Errorf("recorded pipelining %q", got)
	}
	// A window a Modbus client cannot honour is refused by the database.
	if _, err := db.Exec(ctx, `update gateways set max_in_flight=2, protocol='modbus-rtu-tcp' where id=$1`, ids[0]); err == nil {
		t.Error("RTU over TCP gateway accepted max_in_flight 2")
	}
}

// TestSweepFallsBackForAGatewayThatCannotPipeline sweeps, in one batch, a
// gateway that pipelines (the simulator) and one written here that does
// one read per request and drops whatever else that read brought. The
// first sweep reads every meter of both; only the dropping gateway is read
// one at a time from then on, and its row says so.
func TestSweepFallsBackForAGatewayThatCannotPipeline(t *testing.T) {
	ctx := context.Background()
	db, projectID := smallProject(t)
	fleet, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Gateways: 2, Meters: 6,
		Meter: simulator.MeterConfig{Remaining: 1000, UnitPrice: 12000}})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Stop() })
	dropping := oneReadServer(t, fleet.Gateway(1).Addr())
	ids := []string{
		addGateway(t, db, projectID, "PIPE", sweepacts.ProtocolModbusTCP, fleet.Gateway(0).Addr(), nil,
			"P-1", "P-2", "P-3", "P-4", "P-5", "P-6"),
		addGateway(t, db, projectID, "DROP", sweepacts.ProtocolModbusTCP, dropping, nil,
			"D-1", "D-2", "D-3", "D-4", "D-5", "D-6"),
	}
	gws := &metersacts.Gateways{Timeout: 300 * time.Millisecond}
	t.Cleanup(gws.Close)
	acts := &sweepacts.Activities{DB: db, Gateways: gws}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if res := runBatch(t, acts, sweepacts.BatchInput{ProjectID: projectID, At: at, GatewayIDs: ids}); res.Read != 12 || res.Failed != 0 {
		t.Fatalf("first sweep %+v, want all 12 meters read", res)
	}
	if got := pipelining(t, db, ids...); got != "DROP:unsupported PIPE:" {
		t.Fatalf("recorded pipelining %q", got)
	}
	prof := "ref-prepaid-v1"
	for _, c := range []struct {
		url  string
		want bool
	}{{fleet.Gateway(0).Addr(), false}, {dropping, true}} {
		g, err := gws.Get(c.url, prof)
		if err != nil {
			t.Fatal(err)
		}
		if no, _ := g.PipeliningUnsupported(); no != c.want {
			t.Errorf("%s: pipelining unsupported %v, want %v", c.url, no, c.want)
		}
	}
	// The next sweep loads the row's window of 1: a fresh client, no
	// timeout to find it again, every meter read.
	at = at.Add(15 * time.Minute)
	if res := runBatch(t, acts, sweepacts.BatchInput{ProjectID: projectID, At: at, GatewayIDs: ids}); res.Read != 12 || res.Failed != 0 {
		t.Fatalf("second sweep %+v", res)
	}
}

// oneReadServer is a Modbus TCP gateway as cheap serial servers are: each
// TCP read is one request, forwarded to the meters at upstream and
// answered; any further frames that read brought are dropped.
func oneReadServer(t *testing.T, upstream string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				up, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer func() { _ = up.Close() }()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil || n < 7 {
						return
					}
					size := 6 + int(binary.BigEndian.Uint16(buf[4:]))
					if size > n {
						return // a frame split over reads: not what this server does
					}
					if _, err := up.Write(buf[:size]); err != nil {
						return
					}
					var head [7]byte
					if _, err := io.ReadFull(up, head[:]); err != nil {
						return
					}
					body := make([]byte, int(binary.BigEndian.Uint16(head[4:]))-1)
					if _, err := io.ReadFull(up, body); err != nil {
						return
					}
					if _, err := c.Write(append(head[:], body...)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// pipelining lists the gateways' codes with their recorded pipelining.
func pipelining(t *testing.T, db *store.DB, ids ...string) string {
	t.Helper()
	var s string
	if err := db.QueryRow(context.Background(), `select string_agg(code || ':' || coalesce(pipelining, '') ||
			case when (pipelining is null) = (pipelining_detected_at is null) then '' else ' (detected_at?)' end, ' ' order by code)
		from gateways where id = any($1::uuid[])`, ids).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWriteTwiceStoresOnce is a zombie attempt's write landing after the
// retry's: the direct COPY meets the readings already there, and the write
// goes through the conflict-proof path instead of failing or duplicating.
func TestWriteTwiceStoresOnce(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	d := demo.Defaults()
	d.BcryptCost, d.MetersPerGW, d.GatewayPorts = 4, 4, []int{1}
	loaded, err := demo.Load(ctx, db, d)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uuid.UUID
	rows, err := db.Query(ctx, `select id from meters where project_id=$1 order by meter_no`, loaded.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if rows.Err() != nil || len(ids) != 4 {
		t.Fatalf("%d meters (%v), want 4", len(ids), rows.Err())
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if _, err := db.Exec(ctx, `select readings_partition($1)`, at); err != nil {
		t.Fatal(err)
	}
	acts := &sweepacts.Activities{DB: db}
	if err := acts.Write(ctx, at, sweepacts.NewBatch(ids[:2], at, 100)); err != nil {
		t.Fatal(err)
	}
	// The second write overlaps the first in two meters and adds two.
	if err := acts.Write(ctx, at, sweepacts.NewBatch(ids, at, 500)); err != nil {
		t.Fatalf("overlapping write: %v", err)
	}
	var n int
	var energy string
	if err := db.QueryRow(ctx, `select count(*), string_agg(energy_kwh::text, ' ' order by energy_kwh) from readings where read_at=$1`,
		at).Scan(&n, &energy); err != nil {
		t.Fatal(err)
	}
	// The first write's readings stay; the new meters get the second's.
	if n != 4 || energy != "1.00 1.01 5.02 5.03" {
		t.Fatalf("%d readings (%s), want 4: 1.00 1.01 5.02 5.03", n, energy)
	}
}

// smallProject is a fresh database with the demo project (one gateway of one meter).
func smallProject(t *testing.T) (*store.DB, string) {
	t.Helper()
	db := pg.NewDB(t)
	d := demo.Defaults()
	d.BcryptCost, d.MetersPerGW, d.GatewayPorts = 4, 1, []int{1}
	loaded, err := demo.Load(context.Background(), db, d)
	if err != nil {
		t.Fatal(err)
	}
	return db, loaded.ProjectID
}

// addGateway adds a gateway (maxInFlight nil: the default window) with
// ref-prepaid-v1 meters at unit 1, 2, … and returns its id.
func addGateway(t *testing.T, db *store.DB, projectID, code, protocol, address string, maxInFlight any, meterNos ...string) string {
	t.Helper()
	ctx := context.Background()
	gw := uuid.NewString()
	if _, err := db.Exec(ctx, `insert into gateways(id, project_id, code, protocol, address, max_in_flight)
		values($1,$2,$3,$4,$5,$6)`, gw, projectID, code, protocol, address, maxInFlight); err != nil {
		t.Fatal(err)
	}
	for i, no := range meterNos {
		if _, err := db.Exec(ctx, `insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price)
			values(gen_random_uuid(), $1, $2, $3, $4, 'ref-prepaid-v1', 1.2)`, projectID, no, gw, i+1); err != nil {
			t.Fatal(err)
		}
	}
	return gw
}

// runBatch runs one SweepBatch through Temporal's activity environment.
func runBatch(t *testing.T, acts *sweepacts.Activities, in sweepacts.BatchInput) sweepacts.BatchResult {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	v, err := env.ExecuteActivity(acts.SweepBatch, in)
	if err != nil {
		t.Fatalf("sweep batch: %v", err)
	}
	var res sweepacts.BatchResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}
