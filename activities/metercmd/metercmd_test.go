package metercmd

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
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

func newBatch(t *testing.T, db *store.DB, project, admin string, meterNos ...string) metercmdstore.Batch {
	t.Helper()
	ctx := context.Background()
	var ms []metercmdstore.BatchMeter
	for _, no := range meterNos {
		var id string
		if err := db.QueryRow(ctx, `select id from meters where meter_no=$1`, no).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, metercmdstore.BatchMeter{ID: id, MeterNo: no})
	}
	id := uuid.NewString()
	b, created, err := metercmdstore.CreateBatch(ctx, db, metercmdstore.Batch{ID: id, ProjectID: project, Command: "switch_off",
		WorkflowID: "meter-batch/" + id, CreatedBy: admin}, ms)
	if err != nil || !created {
		t.Fatalf("create batch: %v (created %v)", err, created)
	}
	return b
}

func TestBatchOutcomesAreCountedOnceAndDoneStaysDone(t *testing.T) {
	ctx := context.Background()
	db, project, admin := fixture(t)
	a := &Activities{DB: db}
	b := newBatch(t, db, project, admin, "M0001", "M0002", "M0003")
	page, err := a.ListMeterBatchPage(ctx, PageInput{BatchID: b.ID, Limit: 2})
	if err != nil || len(page) != 2 || page[0].MeterNo != "M0001" || page[1].MeterNo != "M0002" {
		t.Fatalf("first page %+v, %v", page, err)
	}
	outs := []Outcome{
		{CommandID: page[0].CommandID, Status: metercmddom.Done, Response: &Response{Relay: 1}},
		{CommandID: page[1].CommandID, Status: metercmddom.Failed, Failure: "meter unreachable"},
	}
	// A retried activity records the same outcomes twice; totals are recounted, not added.
	for range 2 {
		tot, err := a.RecordMeterBatchOutcomes(ctx, RecordInput{BatchID: b.ID, Outcomes: outs})
		if err != nil || tot != (Totals{Total: 3, Done: 1, Failed: 1}) {
			t.Fatalf("totals %+v, %v", tot, err)
		}
	}
	// A late failure report cannot undo a confirmed command.
	if err := a.FinishMeterCommand(ctx, Outcome{CommandID: page[0].CommandID, Status: metercmddom.Failed, Failure: "late"}); err != nil {
		t.Fatal(err)
	}
	if c, err := metercmdstore.GetCommand(ctx, db, []string{project}, page[0].CommandID); err != nil || c.Status != metercmddom.Done || c.Failure != "" || len(c.Response) == 0 {
		t.Fatalf("done command after a late failure: %+v, %v", c, err)
	}
	// Finished commands are not listed again: a resumed batch sends only M0003.
	rest, err := a.ListMeterBatchPage(ctx, PageInput{BatchID: b.ID, Limit: 10})
	if err != nil || len(rest) != 1 || rest[0].MeterNo != "M0003" {
		t.Fatalf("remaining %+v, %v", rest, err)
	}
	if _, err := a.RecordMeterBatchOutcomes(ctx, RecordInput{BatchID: b.ID, Outcomes: []Outcome{{CommandID: rest[0].CommandID, Status: metercmddom.Done}}}); err != nil {
		t.Fatal(err)
	}
	tot, err := a.FinishMeterBatch(ctx, FinishInput{BatchID: b.ID})
	if err != nil || tot != (Totals{Total: 3, Done: 2, Failed: 1}) {
		t.Fatalf("final totals %+v, %v", tot, err)
	}
	got, err := metercmdstore.GetBatch(ctx, db, []string{project}, b.ID)
	if err != nil || got.Status != metercmddom.BatchCompletedWithFailures || got.CompletedAt == nil || got.Pending != 0 {
		t.Fatalf("batch %+v, %v", got, err)
	}

	// Re-dispatch takes the failed meter only, once.
	id := uuid.NewString()
	r1, created, err := metercmdstore.CreateRedispatch(ctx, db, got, metercmdstore.Batch{ID: id, WorkflowID: "meter-batch/" + id, CreatedBy: admin})
	if err != nil || !created || r1.Total != 1 || r1.RedispatchOf == nil || *r1.RedispatchOf != b.ID {
		t.Fatalf("redispatch %+v created %v, %v", r1, created, err)
	}
	id2 := uuid.NewString()
	r2, created, err := metercmdstore.CreateRedispatch(ctx, db, got, metercmdstore.Batch{ID: id2, WorkflowID: "meter-batch/" + id2, CreatedBy: admin})
	if err != nil || created || r2.ID != r1.ID {
		t.Fatalf("second redispatch %+v created %v, %v; want the first", r2, created, err)
	}
	items, err := metercmdstore.Items(ctx, db, r1.ID, "", "", 10)
	if err != nil || len(items) != 1 || items[0].MeterNo != "M0002" || items[0].Status != metercmddom.Pending {
		t.Fatalf("redispatch items %+v, %v", items, err)
	}
	// A batch without failures has nothing to re-dispatch.
	ok := newBatch(t, db, project, admin, "M0004")
	id3 := uuid.NewString()
	if _, _, err := metercmdstore.CreateRedispatch(ctx, db, ok, metercmdstore.Batch{ID: id3, WorkflowID: "meter-batch/" + id3, CreatedBy: admin}); !errors.Is(err, metercmdstore.ErrNothingToRedispatch) {
		t.Fatalf("redispatch of a batch without failures: %v", err)
	}
}
