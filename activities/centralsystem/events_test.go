package centralsystem_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"

	"github.com/voltflow/voltflow/activities/centralsystem"
	"github.com/voltflow/voltflow/domain/chargefault"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/charger"
)

// recorder collects what the central system's hooks are told.
type recorder struct {
	mu     sync.Mutex
	faults []centralsystem.FaultEvent
	txs    []centralsystem.TxEvent
}

func (r *recorder) hooks() centralsystem.Hooks {
	return centralsystem.Hooks{
		Transaction: []func(context.Context, centralsystem.TxEvent){func(_ context.Context, ev centralsystem.TxEvent) {
			r.mu.Lock()
			r.txs = append(r.txs, ev)
			r.mu.Unlock()
		}},
		Fault: []func(context.Context, centralsystem.FaultEvent){func(_ context.Context, ev centralsystem.FaultEvent) {
			r.mu.Lock()
			r.faults = append(r.faults, ev)
			r.mu.Unlock()
		}},
	}
}

func (r *recorder) snapshot() ([]centralsystem.FaultEvent, []centralsystem.TxEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]centralsystem.FaultEvent(nil), r.faults...), append([]centralsystem.TxEvent(nil), r.txs...)
}

// startCentral is setup with hooks, through StartCentralSystem as the
// platform runs it.
func startCentral(t *testing.T, rec *recorder) *env {
	t.Helper()
	e := setupDB(t)
	srv, stop, err := centralsystem.StartCentralSystem(context.Background(), e.db, centralsystem.CentralConfig{Addr: "127.0.0.1:0",
		HeartbeatInterval: e.interval, Grace: e.grace, Hooks: rec.hooks()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	e.srv = srv
	return e
}

func openFaults(t *testing.T, e *env, cp string) (open, all int) {
	t.Helper()
	if err := e.db.QueryRow(context.Background(), `select count(*) filter (where recovered_at is null), count(*)
		from charger_faults where equipment_id=$1`, cp).Scan(&open, &all); err != nil {
		t.Fatal(err)
	}
	return open, all
}

// A repeated fault is one episode; NoError ends it; a lost connection is
// an offline episode that reconnecting ends. Hooks hear each edge once.
func TestFaultEpisodes(t *testing.T) {
	rec := &recorder{}
	e := startCentral(t, rec)
	c := e.connect(t, cp1)
	eventually.True(t, 2*time.Second, "charger online", func() (bool, string) { return e.online(t, cp1), "offline" })
	for range 3 {
		if err := c.Fault(2, core.HighTemperature); err != nil {
			t.Fatal(err)
		}
	}
	if open, all := openFaults(t, e, cp1); open != 1 || all != 1 {
		t.Fatalf("after 3 repeated faults: open %d, all %d; want 1, 1", open, all)
	}
	if err := c.Status(2, core.ChargePointStatusAvailable); err != nil {
		t.Fatal(err)
	}
	if open, all := openFaults(t, e, cp1); open != 0 || all != 1 {
		t.Fatalf("after recovery: open %d, all %d; want 0, 1", open, all)
	}
	faults, _ := rec.snapshot()
	if len(faults) != 2 || faults[0].Recovered || !faults[1].Recovered || faults[0].Alarm != chargefault.ChargerOverTemp ||
		faults[0].Connector != 2 || faults[1].FaultID != faults[0].FaultID {
		t.Fatalf("fault events = %+v", faults)
	}

	c.Close()
	eventually.True(t, 3*time.Second, "offline episode", func() (bool, string) {
		open, _ := openFaults(t, e, cp1)
		return open == 1, fmt.Sprint(open, " open faults")
	})
	var code, connector int
	if err := e.db.QueryRow(context.Background(), `select alarm_code, connector_no from charger_faults
		where equipment_id=$1 and recovered_at is null`, cp1).Scan(&code, &connector); err != nil || code != 27 || connector != 0 {
		t.Fatalf("offline episode = code %d connector %d, %v", code, connector, err)
	}
	e.connect(t, cp1)
	eventually.True(t, 3*time.Second, "offline episode closed", func() (bool, string) {
		open, _ := openFaults(t, e, cp1)
		return open == 0, fmt.Sprint(open, " open faults")
	})
	faults, _ = rec.snapshot()
	if len(faults) != 4 || faults[2].Alarm.Code != 27 || faults[2].Recovered || !faults[3].Recovered {
		t.Fatalf("fault events after reconnect = %+v", faults)
	}
}

// Hooks hear a transaction start, its meter values and its stop, with one id.
func TestTransactionEvents(t *testing.T) {
	rec := &recorder{}
	e := startCentral(t, rec)
	c := e.connect(t, cp1)
	s, err := c.StartSession(1, charger.DemoCard)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Charge(1500, 60000); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(core.ReasonLocal); err != nil {
		t.Fatal(err)
	}
	_, txs := rec.snapshot()
	if len(txs) != 3 {
		t.Fatalf("tx events = %+v", txs)
	}
	kinds := []centralsystem.TxKind{centralsystem.TxStarted, centralsystem.TxMeter, centralsystem.TxStopped}
	for i, ev := range txs {
		if ev.Kind != kinds[i] || ev.TransactionID != s.TransactionID || ev.ChargePointID != cp1 || ev.Connector != 1 {
			t.Fatalf("tx event %d = %+v", i, ev)
		}
	}
	if !txs[0].Authorized || txs[1].MeterWh-txs[0].MeterWh != 1500 || txs[2].MeterWh != txs[1].MeterWh || txs[2].Reason != "Local" {
		t.Fatalf("tx events = %+v", txs)
	}
}
