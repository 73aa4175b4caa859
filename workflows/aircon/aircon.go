// Package aircon bills a central air-conditioning system's period as a
// Temporal workflow, aircon/<project>.<system>/<YYYY-MM> (中央空调计费, M14):
//
//  1. at the period's start it reads the controller's counters of every
//     indoor unit over Modbus (the opening reading; a bound read before —
//     by the previous period's closing read — is not read again, and a
//     workflow started after the start reads at once: a system
//     commissioned mid-month starts counting then);
//  2. at the period's end it reads them again (the closing reading, which
//     is also the next period's opening);
//  3. once the plant meter's closing reading can be there (NotBefore), it
//     allocates the plant's energy cost to the indoor units by the
//     system's rule and books each share once (activities/aircon; the
//     ledger key is per indoor unit and period, so a second run of the
//     same period books nothing new).
//
// Reading at the bounds rather than at each sweep keeps the controller
// off the sweep's path and stores exactly the two figures an allocation
// uses, each with the time it was really taken.
package aircon

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	airconstore "github.com/voltflow/voltflow/store/aircon"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
)

// Kind is the workflow type.
const Kind = "aircon"

// Status values (search attribute VoltflowStatus).
const (
	StatusWaiting = "waiting"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// errRefused is activities/aircon.ErrRefused (not imported: layers).
const errRefused = "aircon_refused"

// WorkflowID is the billing of one system's period.
func WorkflowID(projectCode, systemCode, period string) string {
	return Kind + "/" + projectCode + "." + systemCode + "/" + period
}

// Input starts a period. New fields must have a safe zero value.
type Input struct {
	SystemID    string `json:"systemId"`
	ProjectCode string `json:"projectCode"`
	SystemCode  string `json:"systemCode"`
	Period      string `json:"period"` // YYYY-MM
	// From and To are the period's bounds (months in Asia/Shanghai),
	// computed by the starter: the workflow reads the controller at each.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// NotBefore is when the plant meter's closing reading is expected (To
	// plus the sweep's lag): the allocation waits until then.
	NotBefore time.Time `json:"notBefore"`
}

// Result is what the run read and booked.
type Result struct {
	Opening    airconstore.ReadResult     `json:"opening"`
	Closing    airconstore.ReadResult     `json:"closing"`
	Allocation airconstore.AllocateResult `json:"allocation"`
}

// ClosingReadingLag is how long after a period's end the allocation waits
// for the plant meter's closing reading (the sweep reads every meter well
// within it).
const ClosingReadingLag = time.Hour

// china is Asia/Shanghai as a fixed offset (no daylight saving since
// 1991): a workflow must not read the zone database.
func china() *time.Location { return time.FixedZone("Asia/Shanghai", 8*3600) }

// PeriodAt is the billing month holding t (Asia/Shanghai) and its bounds.
func PeriodAt(t time.Time) (period string, from, to time.Time) {
	l := t.In(china())
	start := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, l.Location())
	return start.Format("2006-01"), start.UTC(), start.AddDate(0, 1, 0).UTC()
}

// Workflow runs the period. A run without a period (the monthly Schedule's,
// started at the start of a month) bills the month it starts in.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	var out Result
	if in.Period == "" {
		in.Period, in.From, in.To = PeriodAt(workflow.Now(ctx))
		in.NotBefore = in.To.Add(ClosingReadingLag)
	}
	err := run(ctx, in, &out)
	status := StatusDone
	if err != nil {
		status = StatusFailed
	}
	if uerr := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(status)); uerr != nil {
		return out, fmt.Errorf("status %s: %w", status, uerr)
	}
	return out, err
}

func run(ctx workflow.Context, in Input, out *Result) error {
	sleepUntil := func(t time.Time) error {
		if wait := t.Sub(workflow.Now(ctx)); wait > 0 {
			return workflow.Sleep(ctx, wait)
		}
		return nil
	}
	if err := sleepUntil(in.From); err != nil {
		return err
	}
	if err := readController(ctx, airconstore.ReadInput{SystemID: in.SystemID, Bound: in.From}).Get(ctx, &out.Opening); err != nil {
		return err
	}
	if err := sleepUntil(in.To); err != nil {
		return err
	}
	if err := readController(ctx, airconstore.ReadInput{SystemID: in.SystemID, Bound: in.To}).Get(ctx, &out.Closing); err != nil {
		return err
	}
	if err := sleepUntil(in.NotBefore); err != nil {
		return err
	}
	return allocate(options.DB(ctx, errRefused),
		airconstore.AllocateInput{SystemID: in.SystemID, Period: in.Period}).Get(ctx, &out.Allocation)
}
