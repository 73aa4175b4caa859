package workorder

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/crypto/bcrypt"

	smsacts "github.com/voltflow/voltflow/activities/sms"
	workorderacts "github.com/voltflow/voltflow/activities/workorder"
	"github.com/voltflow/voltflow/domain/access"
	workorderdom "github.com/voltflow/voltflow/domain/workorder"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
	workorderstore "github.com/voltflow/voltflow/store/workorder"
	"github.com/voltflow/voltflow/workflows/names"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

const (
	cp      = "4403000000000000000001"
	contact = "13700000001"
	boss    = "13700000002"
)

type fixture struct {
	db      *store.DB
	project string
	fixer   string // the project's maintenance operator
	env     *testsuite.TestWorkflowEnvironment
}

// setup loads the demo with its chargers, a maintenance operator and two
// escalation contacts (level 1 and 2), and a workflow environment on the
// real activities.
func setup(t *testing.T) *fixture {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = []int{1}, 1, bcrypt.MinCost
	o.Operators = []demo.Operator{{Username: "fixer", Password: "fixer", Roles: []string{"maintenance"}}}
	l, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, l.ProjectID); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, project: l.ProjectID}
	if err := db.QueryRow(ctx, `select id::text from operators where username='fixer'`).Scan(&f.fixer); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `insert into work_order_contacts(project_id, phone, name, level) values($1,$2,'duty',1),($1,$3,'boss',2)`,
		f.project, contact, boss); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	f.env = s.NewTestWorkflowEnvironment()
	f.env.SetStartTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	f.env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: KindWorkflow})
	f.env.RegisterActivity(&workorderacts.Activities{DB: db})
	f.env.RegisterActivity(&smsacts.Activities{DB: db})
	if err := f.env.SetTypedSearchAttributesOnStart(names.Attributes("", Kind, cp, workorderdom.Open)); err != nil {
		t.Fatal(err)
	}
	return f
}

// episode records a fault episode as the central system does and returns its id.
func (f *fixture) episode(t *testing.T, at time.Time) int64 {
	var id int64
	if err := f.db.QueryRow(context.Background(), `insert into charger_faults(equipment_id, connector_no, ocpp_code, alarm_code,
		alarm_type, alarm_level, started_at) values($1,1,'HighTemperature',17,1,2,$2) returning id`, cp, at).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) recover(t *testing.T, id int64, at time.Time) {
	if _, err := f.db.Exec(context.Background(), `update charger_faults set recovered_at=$2 where id=$1`, id, at); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) update(name string, arg any, after time.Duration, wantErr error) *error {
	got := new(error)
	f.env.RegisterDelayedCallback(func() {
		f.env.UpdateWorkflow(name, uuid.NewString(), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { *got = err },
			OnAccept:   func() {},
			OnComplete: func(_ any, err error) { *got = err },
		}, arg)
	}, after)
	return got
}

func (f *fixture) signal(after time.Duration, fault Fault) {
	f.env.RegisterDelayedCallback(func() { f.env.SignalWorkflow(SignalFault, fault) }, after)
}

func (f *fixture) sms(t *testing.T) map[string][]string {
	rows, err := f.db.Query(context.Background(), `select stage, recipient from sms_messages where kind=$1 and status='sent'
		order by created_at, recipient`, SMSKind)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for rows.Next() {
		var stage, to string
		if err := rows.Scan(&stage, &to); err != nil {
			t.Fatal(err)
		}
		out[stage] = append(out[stage], to)
	}
	return out
}

var policy = workorderdom.Policy{AckWithin: 10 * time.Minute, ResolveWithin: time.Hour}

func input(p workorderdom.Policy) Input {
	return Input{ChargePointID: cp, Connector: 1, FaultKey: workorderdom.FaultKey(17), Source: workorderdom.SourceFault,
		Title: cp + " connector 1: over temperature", Policy: p}
}

// A fault repeating, nobody acknowledging, the fault recovering and a
// technician resolving it: one order, both escalations, closed with the
// resolution and the episodes in its history.
func TestEscalatesAndClosesWithResolution(t *testing.T) {
	f := setup(t)
	t0 := f.env.Now()
	first := f.episode(t, t0)
	f.recover(t, first, t0.Add(2*time.Minute))
	second := f.episode(t, t0.Add(3*time.Minute))
	f.recover(t, second, t0.Add(70*time.Minute))
	f.signal(0, Fault{FaultID: first, OCPPCode: "HighTemperature", AlarmCode: 17, At: t0})
	f.signal(2*time.Minute, Fault{FaultID: first, Recovered: true, At: t0.Add(2 * time.Minute)})
	f.signal(3*time.Minute, Fault{FaultID: second, OCPPCode: "HighTemperature", AlarmCode: 17, At: t0.Add(3 * time.Minute)})
	viewer := f.update(UpdateAck, Ack{OperatorID: f.fixer, Roles: []access.Role{access.Viewer}}, 5*time.Minute, nil)
	ack := f.update(UpdateAck, Ack{OperatorID: f.fixer, Roles: []access.Role{access.Maintenance}, Note: "on my way"}, 20*time.Minute, nil)
	ackAgain := f.update(UpdateAck, Ack{OperatorID: f.fixer, Roles: []access.Role{access.Maintenance}}, 21*time.Minute, nil)
	f.signal(70*time.Minute, Fault{FaultID: second, Recovered: true, At: t0.Add(70 * time.Minute)})
	empty := f.update(UpdateResolve, Resolve{OperatorID: f.fixer, Roles: []access.Role{access.Maintenance}}, 75*time.Minute, nil)
	resolve := f.update(UpdateResolve, Resolve{OperatorID: f.fixer, Roles: []access.Role{access.Maintenance},
		Resolution: "fan replaced"}, 80*time.Minute, nil)
	f.env.ExecuteWorkflow(KindWorkflow, input(policy))
	if err := f.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := f.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]struct {
		err  *error
		want error
	}{"viewer": {viewer, ErrNotMaintenance}, "ack": {ack, nil}, "ack again": {ackAgain, ErrAcknowledged},
		"empty": {empty, ErrEmptyResolution}, "resolve": {resolve, nil}} {
		if (*got.err == nil) != (got.want == nil) || (got.want != nil && (*got.err).Error() != got.want.Error()) {
			t.Errorf("%s: %v, want %v", name, *got.err, got.want)
		}
	}
	if res.Resolution != "fan replaced" || len(res.Escalated) != 2 {
		t.Fatalf("result %+v", res)
	}
	o, err := workorderstore.Get(context.Background(), f.db, []string{f.project}, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != workorderdom.Closed || o.Resolution != "fan replaced" || o.AssigneeID == nil || *o.AssigneeID != f.fixer ||
		o.FaultActive || o.RecoveredAt == nil || len(o.Faults) != 2 {
		t.Fatalf("order %+v", o)
	}
	if o.Faults[0].DurationSeconds != 120 || o.Faults[1].DurationSeconds != 67*60 {
		t.Fatalf("fault durations %+v", o.Faults)
	}
	sent := f.sms(t)
	if len(sent[workorderdom.StageUnacknowledged]) != 1 || sent[workorderdom.StageUnacknowledged][0] != contact ||
		len(sent[workorderdom.StageUnresolved]) != 2 {
		t.Fatalf("SMS %v", sent)
	}
	var n int
	if err := f.db.QueryRow(context.Background(), `select count(*) from work_orders`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d work orders (%v)", n, err)
	}
}

// With auto-close, the recovery closes the order; acknowledged in time, it
// never escalates.
func TestAutoCloseOnRecovery(t *testing.T) {
	f := setup(t)
	t0 := f.env.Now()
	id := f.episode(t, t0)
	f.recover(t, id, t0.Add(5*time.Minute))
	p := policy
	p.AutoClose = true
	f.signal(0, Fault{FaultID: id, OCPPCode: "HighTemperature", AlarmCode: 17, At: t0})
	ack := f.update(UpdateAck, Ack{OperatorID: f.fixer, Roles: []access.Role{access.Admin}}, time.Minute, nil)
	f.signal(5*time.Minute, Fault{FaultID: id, Recovered: true, At: t0.Add(5 * time.Minute)})
	resolveLate := f.update(UpdateResolve, Resolve{OperatorID: f.fixer, Roles: []access.Role{access.Maintenance}, Resolution: "x"},
		6*time.Minute, nil)
	f.env.ExecuteWorkflow(KindWorkflow, input(p))
	var res Result
	if err := f.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if *ack != nil || res.Resolution != AutoResolution || len(res.Escalated) != 0 {
		t.Fatalf("ack %v, result %+v", *ack, res)
	}
	if *resolveLate != nil && !errors.Is(*resolveLate, ErrClosed) && (*resolveLate).Error() != ErrClosed.Error() {
		t.Logf("late resolve: %v", *resolveLate) // the run may be gone already
	}
	if len(f.sms(t)) != 0 {
		t.Fatalf("SMS sent: %v", f.sms(t))
	}
}
