package safety

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	safetyacts "github.com/voltflow/voltflow/activities/safety"
	"github.com/voltflow/voltflow/domain/access"
	safetydom "github.com/voltflow/voltflow/domain/safety"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/names"
)

// updateResult collects an Update's outcome in the test environment.
type updateResult struct {
	rejected, err error
	done          bool
}

func (u *updateResult) Accept()                   {}
func (u *updateResult) Reject(err error)          { u.rejected, u.done = err, true }
func (u *updateResult) Complete(_ any, err error) { u.err, u.done = err, true }

// TestTripsThenLockOutUntilAManagerRestores: two trips allowed. Each of the
// first two switches the meter off for 3 minutes and on again; the third
// leaves it off. A cashier's restore is refused by the validator, a
// maintenance operator's switches it on and starts the count again.
func TestTripsThenLockOutUntilAManagerRestores(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: Kind})
	e.RegisterActivity(&safetyacts.Activities{})
	e.RegisterActivity(&safetyacts.Devices{})
	if err := e.SetTypedSearchAttributesOnStart(names.Attributes("demo", Kind, "M0001", "normal")); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	e.SetStartTime(start)
	var log []string // what the workflow did, with minutes since start
	at := func() string { return fmt.Sprintf("%gm", e.Now().Sub(start).Minutes()) }
	e.OnActivity("SafetyLimits", mock.Anything, mock.Anything).Return(func(context.Context, safetyacts.LimitsInput) (safetydom.Limits, error) {
		return safetydom.Limits{AllowedTrips: 2}, nil
	})
	e.OnActivity("SafetySwitch", mock.Anything, mock.Anything).Return(func(_ context.Context, in safetyacts.SwitchInput) error {
		log = append(log, fmt.Sprintf("%s off=%v", at(), in.Off))
		return nil
	})
	e.OnActivity("SetSafetyState", mock.Anything, mock.Anything).Return(func(_ context.Context, st safetyacts.State) error {
		log = append(log, fmt.Sprintf("%s %s trips=%d %s", at(), st.Status, st.Trips, st.RestoredBy))
		return nil
	})
	trip := func(after time.Duration) {
		e.RegisterDelayedCallback(func() {
			e.SignalWorkflow(SignalTrip, Trip{Reason: safetydom.ReasonMaxLoad, PowerW: 9000, At: e.Now()})
		}, after)
	}
	trip(time.Minute)      // off 1m–4m
	trip(2 * time.Minute)  // while off: dropped
	trip(10 * time.Minute) // off 10m–13m
	trip(20 * time.Minute) // third: locked out
	var cashier, early, manager updateResult
	restore := func(after time.Duration, r Restore, u *updateResult) {
		e.RegisterDelayedCallback(func() { e.UpdateWorkflow(UpdateRestore, "", u, r) }, after)
	}
	restore(5*time.Minute, Restore{Username: "maint", Roles: []access.Role{access.Maintenance}}, &early)
	restore(30*time.Minute, Restore{Username: "cashier", Roles: []access.Role{access.Cashier}}, &cashier)
	restore(40*time.Minute, Restore{Username: "maint", Roles: []access.Role{access.Maintenance}}, &manager)
	// The run is left waiting for the next trip: end the test there.
	e.RegisterDelayedCallback(func() { e.CancelWorkflow() }, time.Hour)
	e.ExecuteWorkflow(Kind, Input{ProjectID: "p", MeterID: "m", MeterNo: "M0001"})

	want := []string{
		"1m off=true", "1m tripped trips=1 ", "4m off=false", "4m normal trips=1 ",
		"10m off=true", "10m tripped trips=2 ", "13m off=false", "13m normal trips=2 ",
		"20m off=true", "20m locked_out trips=3 ",
		"40m off=false", "40m normal trips=0 maint",
	}
	if got := strings.Join(log, " | "); got != strings.Join(want, " | ") {
		t.Errorf("log\n%s\nwant\n%s", got, strings.Join(want, " | "))
	}
	if !errors.Is(early.rejected, ErrNotLockedOut) && (early.rejected == nil || early.rejected.Error() != ErrNotLockedOut.Error()) {
		t.Errorf("restore of a meter not locked out: %v", early.rejected)
	}
	if cashier.rejected == nil || cashier.rejected.Error() != approval.ErrNotYourRole.Error() {
		t.Errorf("cashier's restore: %+v", cashier)
	}
	if !manager.done || manager.rejected != nil || manager.err != nil {
		t.Errorf("manager's restore: %+v", manager)
	}
}
