package platformbilling

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	platformbillingacts "github.com/voltflow/voltflow/activities/platformbilling"
	metercmdwf "github.com/voltflow/voltflow/workflows/metercmd"
	"github.com/voltflow/voltflow/workflows/names"
)

func TestStarterStartsTheMeterCommandWorkflow(t *testing.T) {
	sw := platformbillingacts.Switch{CommandID: "c1", WorkflowID: "meter-command/c1", ProjectID: "p", ProjectCode: "demo",
		MeterID: "m", MeterNo: "M0001", Command: "switch_off"}
	c := &mocks.Client{}
	var opts client.StartWorkflowOptions
	var in metercmdwf.CommandInput
	c.On("ExecuteWorkflow", mock.Anything, mock.Anything, metercmdwf.KindCommand, mock.Anything).
		Return(nil, nil).Once().Run(func(a mock.Arguments) {
		opts, in = a.Get(1).(client.StartWorkflowOptions), a.Get(3).(metercmdwf.CommandInput)
	})
	s := &Starter{Client: c}
	if err := s.StartSwitch(context.Background(), sw); err != nil {
		t.Fatal(err)
	}
	if opts.ID != "meter-command/c1" || opts.TaskQueue != names.MainQueue || in.CommandID != "c1" ||
		in.Command != "switch_off" || in.MeterNo != "M0001" || opts.TypedSearchAttributes.Size() != 4 {
		t.Fatalf("started %+v with %+v", opts, in)
	}

	// A second start of the same command (a retried billing pass) is fine;
	// any other failure is reported.
	c.On("ExecuteWorkflow", mock.Anything, mock.Anything, metercmdwf.KindCommand, mock.Anything).
		Return(nil, serviceerror.NewWorkflowExecutionAlreadyStarted("started", "", "")).Once()
	if err := s.StartSwitch(context.Background(), sw); err != nil {
		t.Fatalf("already started: %v", err)
	}
	boom := errors.New("unavailable")
	c.On("ExecuteWorkflow", mock.Anything, mock.Anything, metercmdwf.KindCommand, mock.Anything).Return(nil, boom).Once()
	if err := s.StartSwitch(context.Background(), sw); !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	// A switch whose workflow id is not its command's is refused before Temporal.
	bad := sw
	bad.WorkflowID = "meter-command/other"
	if err := s.StartSwitch(context.Background(), bad); err == nil {
		t.Fatal("mismatched workflow id accepted")
	}
	c.AssertExpectations(t)
}
