package ocpp

import (
	"errors"
	"fmt"
	"sync"
	"time"

	ocppgo "github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ocppj"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// dispatcher sends our requests to charge points, one in flight per charge
// point (OCPP-J allows no more), in place of ocpp-go's
// DefaultServerDispatcher. That one (v0.19.0) wedges the whole central
// system after a mass disconnect: DeleteClient sends on a 20-slot channel
// while holding a read lock, the pending-request state shares that lock
// (taken for writing on every incoming frame), and Go's RWMutex lets no new
// reader in while a writer waits — so once 20 disconnects queue up, the
// one goroutine that drains the channel blocks on its read lock, every
// connection blocks on the write lock, and Stop never returns.
//
// Here nothing blocks while holding mu: a request is written by its own
// goroutine, its answer's deadline is a timer, and callbacks run unlocked.
type dispatcher struct {
	mu       sync.Mutex
	running  bool
	timeout  time.Duration
	clients  map[string]*outbox
	network  ws.WsServer
	state    ocppj.ServerState
	onCancel ocppj.CanceledRequestHandler
}

// outbox is one charge point's queue; queue[0] is in flight when busy.
type outbox struct {
	queue []ocppj.RequestBundle
	busy  bool
	timer *time.Timer
}

// maxQueued bounds one charge point's waiting requests: a charge point that
// answers nothing must not collect commands without end.
const maxQueued = 64

var _ ocppj.ServerDispatcher = (*dispatcher)(nil)

func newDispatcher(timeout time.Duration) *dispatcher {
	return &dispatcher{timeout: timeout, clients: map[string]*outbox{}}
}

func (d *dispatcher) Start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running = true
}

func (d *dispatcher) IsRunning() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running
}

// Stop drops every queue; as the interface says, without cancel callbacks.
func (d *dispatcher) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running = false
	for _, ob := range d.clients {
		if ob.timer != nil {
			ob.timer.Stop()
		}
	}
	clear(d.clients)
}

func (d *dispatcher) SetTimeout(t time.Duration)                           { d.timeout = t }
func (d *dispatcher) SetNetworkServer(s ws.WsServer)                       { d.network = s }
func (d *dispatcher) SetOnRequestCanceled(cb ocppj.CanceledRequestHandler) { d.onCancel = cb }
func (d *dispatcher) SetPendingRequestState(s ocppj.ServerState)           { d.state = s }

func (d *dispatcher) CreateClient(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running && d.clients[id] == nil {
		d.clients[id] = &outbox{}
	}
}

// DeleteClient drops the charge point's queue. Its callers are answered by
// ocpp16's disconnect handler, which fails every callback still queued.
func (d *dispatcher) DeleteClient(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ob := d.clients[id]; ob != nil && ob.timer != nil {
		ob.timer.Stop()
	}
	delete(d.clients, id)
}

// SendRequest queues a request. ocpp-go calls it holding its callback
// queue's lock, so it must not wait for the network: the write is the
// sender goroutine's.
func (d *dispatcher) SendRequest(id string, req ocppj.RequestBundle) error {
	if d.network == nil {
		return errors.New("ocpp: dispatcher has no network")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ob := d.clients[id]
	switch {
	case !d.running:
		return errors.New("ocpp: dispatcher stopped")
	case ob == nil:
		return fmt.Errorf("ocpp: request to %s: %w", id, ErrNotConnected)
	case len(ob.queue) >= maxQueued:
		return fmt.Errorf("ocpp: request to %s: %d requests already waiting", id, maxQueued)
	}
	ob.queue = append(ob.queue, req)
	if !ob.busy {
		ob.busy = true
		go d.send(id, ob)
	}
	return nil
}

// send writes ob's head request and arms its answer's deadline.
func (d *dispatcher) send(id string, ob *outbox) {
	d.mu.Lock()
	if d.clients[id] != ob || len(ob.queue) == 0 {
		d.mu.Unlock()
		return
	}
	b := ob.queue[0]
	uid := b.Call.GetUniqueId()
	if d.state != nil {
		// Before the write (the answer may come back before Write
		// returns), and under mu: a request of a connection already
		// closed must not take the slot of the next connection's.
		d.state.AddPendingRequest(id, uid, b.Call.Payload)
	}
	d.mu.Unlock()
	if err := d.network.Write(id, b.Data); err != nil {
		d.fail(id, ob, b, err.Error())
		return
	}
	if d.timeout <= 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.clients[id] == ob && len(ob.queue) > 0 && ob.queue[0].Call.GetUniqueId() == uid {
		ob.timer = time.AfterFunc(d.timeout, func() { d.fail(id, ob, b, "request timed out") })
	}
}

// CompleteRequest takes the answered request off the queue and sends the
// next: its answer comes through the same read loop, after ocpp-go has
// handed this one to its caller.
func (d *dispatcher) CompleteRequest(id, requestID string) {
	ob := d.outboxOf(id)
	if ok, next := d.pop(id, ob, requestID); ok && next {
		go d.send(id, ob)
	}
}

// fail ends b (not written, or unanswered in time) with an error to its
// caller, then sends the next: ocpp-go matches callers to answers in
// order, so the next answer must not come before this cancel.
func (d *dispatcher) fail(id string, ob *outbox, b ocppj.RequestBundle, why string) {
	ok, next := d.pop(id, ob, b.Call.GetUniqueId())
	if !ok {
		return
	}
	d.cancel(id, b, why)
	if next {
		d.send(id, ob)
	}
}

func (d *dispatcher) outboxOf(id string) *outbox {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clients[id]
}

// pop removes uid if it is ob's request in flight (ok false: it was not —
// already answered, timed out or dropped); next: another one waits, and
// the caller must send it.
func (d *dispatcher) pop(id string, ob *outbox, uid string) (ok, next bool) {
	if ob == nil {
		return false, false
	}
	d.mu.Lock()
	if d.clients[id] != ob || len(ob.queue) == 0 || ob.queue[0].Call.GetUniqueId() != uid {
		d.mu.Unlock()
		return false, false
	}
	if ob.timer != nil {
		ob.timer.Stop()
		ob.timer = nil
	}
	ob.queue[0] = ocppj.RequestBundle{}
	ob.queue = ob.queue[1:]
	ob.busy = len(ob.queue) > 0
	next = ob.busy
	if d.state != nil {
		d.state.DeletePendingRequest(id, uid)
	}
	d.mu.Unlock()
	return true, next
}

func (d *dispatcher) cancel(id string, b ocppj.RequestBundle, why string) {
	if d.onCancel != nil {
		d.onCancel(id, b.Call.GetUniqueId(), b.Call.Payload, ocppgo.NewError(ocppj.GenericError, why, b.Call.GetUniqueId()))
	}
}
