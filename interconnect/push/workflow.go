package push

import (
	"hash/fnv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Names shared with starters and signallers.
const (
	Kind                = "regulator-push"
	SignalStatusChanged = "status-changed" // carries a Pending (of any lane: connector, alarm, event, …)
	SignalFrequency     = "frequency"      // carries the cadence in seconds
)

// WorkflowID is the push workflow of one station.
func WorkflowID(stationID string) string { return Kind + "/" + stationID }

// Defaults.
const (
	DefaultCadence          = 60 * time.Second
	DefaultRetryMaxInterval = time.Minute
	DefaultMaxHistory       = 10000
	// maxInflight bounds concurrent change pushes of one station (one per
	// connector at a time, so each connector's changes arrive in order).
	maxInflight = 64
)

// Input starts (or continues) a station's push workflow. New fields must
// have a safe zero value: continued runs and replays see old inputs.
type Input struct {
	StationID string `json:"stationId"`
	// Cadence of the periodic status push (the regulator changes it through
	// query_frequency; default 60 s).
	Cadence time.Duration `json:"cadence"`
	// RetryMaxInterval caps the backoff between attempts of a failed push.
	RetryMaxInterval time.Duration `json:"retryMaxInterval"`
	// MaxHistory continues as new beyond this many history events.
	MaxHistory int `json:"maxHistory"`
	// Queued pushes carried over from the previous run, in order.
	Queued []Pending `json:"queued,omitempty"`
}

func withDefaults(in Input) Input {
	if in.Cadence <= 0 {
		in.Cadence = DefaultCadence
	}
	if in.RetryMaxInterval <= 0 {
		in.RetryMaxInterval = DefaultRetryMaxInterval
	}
	if in.MaxHistory <= 0 {
		in.MaxHistory = DefaultMaxHistory
	}
	return in
}

// Workflow is the legacy push workflow of one station, superseded by the
// pump (PumpWorkflow) and kept so running ones replay. It pushes one
// station's reports to the regulator for ever: each status-changed signal at once (per lane in order — a connector's status
// changes, alarms, events, station info, a connector's BMS samples —
// retried until the regulator takes or drops it) and every connector's
// status (and BMS while charging) each Cadence.
// It continues as new when its history grows, carrying what is queued.
func Workflow(ctx workflow.Context, in Input) error {
	// v1: pushes go out through the regulator pump (PumpWorkflow), not a
	// workflow per station. A run started under this version (a fresh start
	// or a continue-as-new of a running one) ends at once: what it had
	// queued is pending in the outbox, where the pump finds every row.
	// Runs already going replay as before until Starter.EnsureRunning
	// cancels them.
	if workflow.GetVersion(ctx, "pump", workflow.DefaultVersion, 1) >= 1 {
		return nil
	}
	in = withDefaults(in)
	log := workflow.GetLogger(ctx)
	var acts *Activities
	sendCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// No ScheduleToClose: a push is retried until the regulator is back.
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: in.RetryMaxInterval, NonRetryableErrorTypes: []string{"rejected"}},
	})
	periodicCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: max(in.Cadence, 30*time.Second),
		// A missed snapshot is superseded by the next one; its rows stay
		// pending as history for supplement_collect.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})

	// v1: alarm pushes jump the queue of connectors waiting for a slot and
	// may exceed maxInflight, so an alarm goes out within seconds even while
	// a burst of status changes is queued (notification_alarmInfo, §8.7).
	priority := workflow.GetVersion(ctx, "alarm-priority", workflow.DefaultVersion, 1) >= 1
	// v1: the ready heads of several lanes go out as one SendPushes
	// activity (one Temporal task and two statements instead of one each
	// per push), and the first periodic tick is offset by the station so
	// stations started together do not all report in the same second.
	batched := workflow.GetVersion(ctx, "batch-push", workflow.DefaultVersion, 1) >= 1

	cadence := in.Cadence
	queues := map[string][]int64{} // connector → queued push ids, oldest first
	var ready []string             // connectors with queued pushes and none in flight, FIFO
	inflight := map[string]bool{}
	known := map[int64]bool{} // queued or in flight, to ignore duplicates
	nInflight := 0
	periodicRunning := false
	draining := false
	sel := workflow.NewSelector(ctx)

	// makeReady queues lane c for a slot (v1 "alarm-priority": the alarm
	// lane goes first).
	makeReady := func(c string) {
		if priority && c == LaneAlarm {
			ready = append([]string{c}, ready...)
		} else {
			ready = append(ready, c)
		}
	}
	enqueue := func(p Pending) {
		if known[p.PushID] {
			return
		}
		known[p.PushID] = true
		if len(queues[p.ConnectorID]) == 0 && !inflight[p.ConnectorID] {
			makeReady(p.ConnectorID)
		}
		queues[p.ConnectorID] = append(queues[p.ConnectorID], p.PushID)
	}
	for _, p := range in.Queued {
		enqueue(p)
	}

	// pump starts the head push of each ready connector. Maps are only
	// indexed, never ranged over, so replay is deterministic.
	// finish frees lane c after its push id went out (or was given up).
	finish := func(c string, id int64) {
		delete(known, id)
		inflight[c] = false
		nInflight--
		if len(queues[c]) > 0 {
			makeReady(c)
		} else {
			delete(queues, c)
		}
	}
	// take puts the head push of the first ready lane in flight.
	take := func() (string, int64) {
		c := ready[0]
		ready = ready[1:]
		id := queues[c][0]
		queues[c] = queues[c][1:]
		inflight[c] = true
		nInflight++
		return c, id
	}
	pumpBatch := func() {
		var lanes []string
		var ids []int64
		for !draining && len(ready) > 0 && (nInflight < maxInflight || ready[0] == LaneAlarm) {
			c, id := take()
			if c == LaneAlarm {
				// Alone, so a slow batch never holds an alarm back.
				f := workflow.ExecuteActivity(sendCtx, acts.SendPush, SendInput{PushID: id})
				sel.AddFuture(f, func(f workflow.Future) {
					if err := f.Get(ctx, nil); err != nil {
						log.Warn("push rejected", "pushId", id, "connector", c, "error", err)
					}
					finish(c, id)
				})
				continue
			}
			lanes, ids = append(lanes, c), append(ids, id)
		}
		if len(ids) == 0 {
			return
		}
		f := workflow.ExecuteActivity(sendCtx, acts.SendPushes, SendBatchInput{PushIDs: ids})
		sel.AddFuture(f, func(f workflow.Future) {
			if err := f.Get(ctx, nil); err != nil {
				log.Warn("push batch failed", "pushIds", ids, "error", err)
			}
			for i, c := range lanes {
				finish(c, ids[i])
			}
		})
	}
	pump := func() {
		if batched {
			pumpBatch()
			return
		}
		for !draining && len(ready) > 0 && (nInflight < maxInflight || (priority && ready[0] == LaneAlarm)) {
			c, id := take()
			f := workflow.ExecuteActivity(sendCtx, acts.SendPush, SendInput{PushID: id})
			sel.AddFuture(f, func(f workflow.Future) {
				var res SendResult
				if err := f.Get(ctx, &res); err != nil {
					log.Warn("push rejected", "pushId", id, "connector", c, "error", err)
				}
				finish(c, id)
			})
		}
	}

	// The tick timer is cancelled and restarted when the cadence changes;
	// gen tells a cancelled timer's callback that it is stale.
	gen := 0
	var cancelTick workflow.CancelFunc
	var startTick func()
	firstTick := batched && len(in.Queued) == 0 && in.StationID != ""
	startTick = func() {
		gen++
		mine := gen
		var tctx workflow.Context
		tctx, cancelTick = workflow.WithCancel(ctx)
		d := cadence
		if firstTick {
			firstTick = false
			d = spread(in.StationID, cadence)
		}
		sel.AddFuture(workflow.NewTimer(tctx, d), func(f workflow.Future) {
			if mine != gen {
				return
			}
			startTick()
			if periodicRunning || draining {
				return // the last snapshot is still going out; skip this one
			}
			periodicRunning = true
			pf := workflow.ExecuteActivity(periodicCtx, acts.PushStationStatus, PeriodicInput{
				StationID: in.StationID, At: workflow.Now(ctx), OrphanAge: 2 * max(cadence, 30*time.Second)})
			sel.AddFuture(pf, func(f workflow.Future) {
				periodicRunning = false
				var res PeriodicResult
				if err := f.Get(ctx, &res); err != nil {
					log.Warn("periodic status push failed", "station", in.StationID, "error", err)
					return
				}
				if d := time.Duration(res.FrequencySeconds) * time.Second; d > 0 && d != cadence {
					cadence = d
					cancelTick()
					startTick()
				}
				for _, p := range res.Orphans {
					enqueue(p)
				}
			})
		})
	}
	startTick()

	statusCh := workflow.GetSignalChannel(ctx, SignalStatusChanged)
	freqCh := workflow.GetSignalChannel(ctx, SignalFrequency)
	sel.AddReceive(statusCh, func(ch workflow.ReceiveChannel, _ bool) {
		var p Pending
		ch.Receive(ctx, &p)
		enqueue(p)
	})
	sel.AddReceive(freqCh, func(ch workflow.ReceiveChannel, _ bool) {
		var s int
		ch.Receive(ctx, &s)
		if d := time.Duration(s) * time.Second; d > 0 && d != cadence {
			cadence = d
			cancelTick()
			startTick()
		}
	})

	for {
		pump()
		if draining && nInflight == 0 && !periodicRunning {
			break
		}
		sel.Select(ctx)
		if err := ctx.Err(); err != nil {
			return err // cancelled: an operator stopped the station's pushes
		}
		info := workflow.GetInfo(ctx)
		if !draining && (info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > in.MaxHistory) {
			// Finish what is in flight (activities cannot move to the next
			// run), keep queueing signals, then continue as new.
			draining = true
		}
	}
	for {
		var p Pending
		if !statusCh.ReceiveAsync(&p) {
			break
		}
		enqueue(p)
	}
	for {
		var s int
		if !freqCh.ReceiveAsync(&s) {
			break
		}
		if s > 0 {
			cadence = time.Duration(s) * time.Second
		}
	}
	next := in
	next.Cadence = cadence
	next.Queued = nil
	for _, c := range ready {
		for _, id := range queues[c] {
			next.Queued = append(next.Queued, Pending{PushID: id, ConnectorID: c})
		}
	}
	return workflow.NewContinueAsNewError(ctx, Kind, next)
}

// spread is the first tick of a station: a point in (0, cadence] fixed by
// the station id, so the stations' periodic reports are spread over the
// cadence instead of arriving together.
func spread(stationID string, cadence time.Duration) time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(stationID))
	n := int64(cadence / time.Millisecond)
	if n <= 0 {
		return cadence
	}
	return time.Duration(int64(h.Sum32())%n+1) * time.Millisecond
}
