// Package ocpp is Voltflow's OCPP 1.6J central system (issue 6, C2): charge
// points connect to ws://<addr>/ocpp/<chargePointId> with HTTP basic auth
// (security profile 1). Message parsing, validation and request/response
// matching are lorenzodonini/ocpp-go's; the WebSocket layer is ours
// (transport.go) so every frame reaches the device message log and a silent
// charger is dropped after heartbeat interval + grace.
//
// The package speaks the protocol only: what a card or a transaction means
// is the Handler's business (activities/centralsystem).
package ocpp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/certificates"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/extendedtriggermessage"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/logging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/securefirmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/security"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ocppj"
)

// ErrNotConnected is returned for a command to a charge point that has no
// open connection.
var ErrNotConnected = errors.New("charge point not connected")

// Handler answers what charge points send. Every call has a deadline
// (Options.HandlerTimeout). An error makes ocpp-go answer a CALLERROR.
type Handler interface {
	// Authenticate checks the basic-auth password of an allow-listed charge
	// point; false refuses the WebSocket upgrade with 401.
	Authenticate(ctx context.Context, chargePointID, password string) bool
	Connected(ctx context.Context, chargePointID string)
	// Disconnected is called once per connection: closed, broken, or dropped
	// for silence beyond heartbeat interval + grace.
	Disconnected(ctx context.Context, chargePointID string)

	BootNotification(ctx context.Context, chargePointID string, req *core.BootNotificationRequest) (*core.BootNotificationConfirmation, error)
	Heartbeat(ctx context.Context, chargePointID string, req *core.HeartbeatRequest) (*core.HeartbeatConfirmation, error)
	StatusNotification(ctx context.Context, chargePointID string, req *core.StatusNotificationRequest) (*core.StatusNotificationConfirmation, error)
	Authorize(ctx context.Context, chargePointID string, req *core.AuthorizeRequest) (*core.AuthorizeConfirmation, error)
	StartTransaction(ctx context.Context, chargePointID string, req *core.StartTransactionRequest) (*core.StartTransactionConfirmation, error)
	MeterValues(ctx context.Context, chargePointID string, req *core.MeterValuesRequest) (*core.MeterValuesConfirmation, error)
	StopTransaction(ctx context.Context, chargePointID string, req *core.StopTransactionRequest) (*core.StopTransactionConfirmation, error)
	DataTransfer(ctx context.Context, chargePointID string, req *core.DataTransferRequest) (*core.DataTransferConfirmation, error)
}

// Options of a central system. Zero values take the defaults noted.
type Options struct {
	Addr string // listen address, default 127.0.0.1:8887 (contracts.md)
	Path string // URL prefix, default /ocpp/
	// HeartbeatInterval is told to every charge point in BootNotification
	// (default 60 s); Grace is the silence tolerated beyond it (default 30 s)
	// before the charge point is dropped and reported offline.
	HeartbeatInterval time.Duration
	Grace             time.Duration
	CallTimeout       time.Duration // our requests to charge points (default 30 s)
	HandlerTimeout    time.Duration // each Handler call (default 10 s)
	WriteWait         time.Duration // one frame write (default 10 s)
	// PresenceConcurrency bounds the Connected/Disconnected calls running
	// at once (default 4); each one's HandlerTimeout starts when it runs.
	// Thousands of chargers dropping together must neither starve the
	// live ones' messages of database connections nor time out waiting
	// for them, which would leave the dropped ones shown online.
	PresenceConcurrency int
	Handler             Handler
	Frames              FrameSink // the device message log; nil logs nothing
	Log                 *slog.Logger
}

func (o *Options) defaults() {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8887"
	}
	if o.Path == "" {
		o.Path = "/ocpp/"
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 60 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 30 * time.Second
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.HandlerTimeout <= 0 {
		o.HandlerTimeout = 10 * time.Second
	}
	if o.WriteWait <= 0 {
		o.WriteWait = 10 * time.Second
	}
	if o.PresenceConcurrency <= 0 {
		o.PresenceConcurrency = 4
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// Server is a running central system.
type Server struct {
	opts Options
	t    *transport
	cs   ocpp16.CentralSystem
	// ctx carries the caller's values, never its cancellation: handlers
	// of the last disconnects must still write when the server stops.
	ctx  context.Context
	done chan struct{}
	// stop makes Close safe to call twice (ctx ending and the owner's
	// cleanup both close it); ocpp-go's Stop panics on a second call.
	stop sync.Once
	// presence holds a slot per Connected/Disconnected call running.
	presence chan struct{}
	// open counts connections whose Disconnected call has not finished:
	// Close waits for them, so the last disconnects are written before the
	// owner closes the database.
	mu   sync.Mutex
	open int
}

// Listen binds opts.Addr and serves charge points until ctx ends or Close.
func Listen(ctx context.Context, opts Options) (*Server, error) {
	opts.defaults()
	if opts.Handler == nil {
		return nil, errors.New("ocpp: Options.Handler is required")
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("ocpp: listen %s: %w", opts.Addr, err)
	}
	s := &Server{opts: opts, done: make(chan struct{}), presence: make(chan struct{}, opts.PresenceConcurrency)}
	s.ctx = context.WithoutCancel(ctx)
	s.t = newTransport(ln, opts.Path, opts.HeartbeatInterval+opts.Grace, opts.WriteWait, s.authenticate, opts.Frames,
		opts.Log.With("component", "ocpp"))
	s.cs = ocpp16.NewCentralSystem(newEndpoint(s.t, opts.CallTimeout), s.t)
	s.cs.SetCoreHandler(coreHandler{s})
	s.cs.SetNewChargePointHandler(func(cp ocpp16.ChargePointConnection) {
		opts.Log.Debug("ocpp: charge point connected", "chargePoint", cp.ID(), "remote", cp.RemoteAddr())
		s.count(1)
		s.presenceCall(func(ctx context.Context) { opts.Handler.Connected(ctx, cp.ID()) })
	})
	s.cs.SetChargePointDisconnectedHandler(func(cp ocpp16.ChargePointConnection) {
		opts.Log.Debug("ocpp: charge point disconnected", "chargePoint", cp.ID())
		defer s.count(-1)
		s.presenceCall(func(ctx context.Context) { opts.Handler.Disconnected(ctx, cp.ID()) })
	})
	go func() {
		defer close(s.done)
		s.cs.Start(0, opts.Path) // blocks until Stop
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() net.Addr { return s.t.ln.Addr() }

// URL is the endpoint prefix charge points append their id to.
func (s *Server) URL() string { return "ws://" + s.Addr().String() + s.opts.Path }

// HeartbeatInterval is what charge points are told at boot.
func (s *Server) HeartbeatInterval() time.Duration { return s.opts.HeartbeatInterval }

// Connected reports whether the charge point has an open connection.
func (s *Server) Connected(chargePointID string) bool { return s.t.get(chargePointID) != nil }

// Connections is the number of open connections.
func (s *Server) Connections() int { return s.t.connected() }

// Close stops serving, drops every connection and waits (up to twice
// HandlerTimeout) for their Disconnected calls.
func (s *Server) Close() error {
	s.stop.Do(s.cs.Stop)
	<-s.done
	deadline := time.Now().Add(2 * s.opts.HandlerTimeout)
	for {
		n := s.count(0)
		if n <= 0 {
			return nil
		}
		if time.Now().After(deadline) {
			s.opts.Log.Warn("ocpp: closed before every disconnect was recorded", "left", n)
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// count adds d to the open connections and returns their number.
func (s *Server) count(d int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open += d
	return s.open
}

// newEndpoint is ocpp16.NewCentralSystem's default OCPP-J endpoint (every
// 1.6 profile) with our dispatcher in place of ocpp-go's (dispatcher.go)
// and pending-request state under a lock of its own.
func newEndpoint(t *transport, callTimeout time.Duration) *ocppj.Server {
	t.AddSupportedSubprotocol(types.V16Subprotocol)
	return ocppj.NewServer(t, newDispatcher(callTimeout), ocppj.NewServerState(&sync.RWMutex{}),
		core.Profile, localauth.Profile, firmware.Profile, reservation.Profile, remotetrigger.Profile,
		smartcharging.Profile, logging.Profile, security.Profile, extendedtriggermessage.Profile,
		certificates.Profile, securefirmware.Profile)
}

// presenceCall runs f when a presence slot is free, with its deadline
// starting then.
func (s *Server) presenceCall(f func(context.Context)) {
	s.presence <- struct{}{}
	defer func() { <-s.presence }()
	ctx, cancel := s.handlerContext()
	defer cancel()
	f(ctx)
}

func (s *Server) handlerContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, s.opts.HandlerTimeout)
}

func (s *Server) authenticate(ctx context.Context, id, password string) bool {
	ctx, cancel := context.WithTimeout(ctx, s.opts.HandlerTimeout)
	defer cancel()
	return s.opts.Handler.Authenticate(ctx, id, password)
}

// coreHandler adapts ocpp-go's handler interface (no context) to Handler.
type coreHandler struct{ s *Server }

var _ core.CentralSystemHandler = coreHandler{}

func (h coreHandler) OnBootNotification(id string, req *core.BootNotificationRequest) (*core.BootNotificationConfirmation, error) {
	ctx, cancel := h.s.handlerContext()
	defer cancel()
	conf, err := h.s.opts.Handler.BootNotification(ctx, id, req)
	if conf != nil && conf.Interval == 0 {
		// The one heartbeat interval the offline detection is built on.
		conf.Interval = int(h.s.opts.HeartbeatInterval / time.Second)
	}
	return conf, err
}

func (h coreHandler) OnHeartbeat(id string, req *core.HeartbeatRequest) (*core.HeartbeatConfirmation, error) {
	ctx, cancel := h.s.handlerContext()
	defer cancel()
	return h.s.opts.Handler.Heartbeat(ctx, id, req)
}

func (h coreHandler) OnStatusNotification(id string, req *core.StatusNotificationRequest) (*core.StatusNotificationConfirmation, error) {
	ctx, cancel := h.s.handlerContext()
	defer cancel()
	return h.s.opts.Handler.StatusNotification(ctx, id, req)
}

func (h coreHandler) OnAuthorize(id string, req *core.AuthorizeRequest) (*core.AuthorizeConfirmation, error) {
	ctx, cancel := h.s.handlerContext()
	defer cancel()
	return h.s.opts.Handler.Authorize(ctx, id, req)
}

func (h coreHandler) OnStartTransaction(id string, req *core.StartTransactionRequest) (*core.StartTransactionConfirmation, error) {
	ctx, cancel := h.s.handlerContext()
	defer cancel()
	return h.s.opts.Handler.StartTransaction(ctx, id, req)
}

func (h coreHandler) OnMeterValues(id string, req *core.MeterValuesRequest) (*core.MeterValuesConfirmation, error) {
	ctx, cancel := h.s.handlerContext()
	defer cancel()
	return h.s.opts.Handler.MeterValues(ctx, id, req)
}

func (h coreHandler) OnStopTransaction(id string, req *core.StopTransactionRequest) (*core.StopTransactionConfirmation, error) {
	ctx, cancel := h.s.handlerContext()
	defer cancel()
	return h.s.opts.Handler.StopTransaction(ctx, id, req)
}

func (h coreHandler) OnDataTransfer(id string, req *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	ctx, cancel := h.s.handlerContext()
	defer cancel()
	return h.s.opts.Handler.DataTransfer(ctx, id, req)
}

// --- Commands to charge points (a synchronous Go API over ocpp-go's callbacks).

type result[T any] struct {
	v   T
	err error
}

// call sends one request and waits for its answer, ctx, or CallTimeout.
func call[T any](ctx context.Context, s *Server, id, action string, send func(cb func(T, error)) error) (T, error) {
	var zero T
	if !s.Connected(id) {
		return zero, fmt.Errorf("ocpp %s to %s: %w", action, id, ErrNotConnected)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	ch := make(chan result[T], 1)
	if err := send(func(v T, err error) { ch <- result[T]{v, err} }); err != nil {
		return zero, fmt.Errorf("ocpp %s to %s: %w", action, id, err)
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return zero, fmt.Errorf("ocpp %s to %s: %w", action, id, r.err)
		}
		return r.v, nil
	case <-ctx.Done():
		return zero, fmt.Errorf("ocpp %s to %s: %w", action, id, ctx.Err())
	}
}

// RemoteStartTransaction asks the charge point to start charging idTag on
// connectorID (0: the charge point chooses), optionally with a profile.
func (s *Server) RemoteStartTransaction(ctx context.Context, id string, connectorID int, idTag string, profile *types.ChargingProfile) (types.RemoteStartStopStatus, error) {
	conf, err := call(ctx, s, id, core.RemoteStartTransactionFeatureName, func(cb func(*core.RemoteStartTransactionConfirmation, error)) error {
		return s.cs.RemoteStartTransaction(id, cb, idTag, func(r *core.RemoteStartTransactionRequest) {
			if connectorID > 0 {
				r.ConnectorId = &connectorID
			}
			r.ChargingProfile = profile
		})
	})
	if err != nil {
		return "", err
	}
	return conf.Status, nil
}

// RemoteStopTransaction asks the charge point to stop a transaction.
func (s *Server) RemoteStopTransaction(ctx context.Context, id string, transactionID int) (types.RemoteStartStopStatus, error) {
	conf, err := call(ctx, s, id, core.RemoteStopTransactionFeatureName, func(cb func(*core.RemoteStopTransactionConfirmation, error)) error {
		return s.cs.RemoteStopTransaction(id, cb, transactionID)
	})
	if err != nil {
		return "", err
	}
	return conf.Status, nil
}

// ChangeAvailability makes a connector (0: the whole charge point)
// Operative or Inoperative.
func (s *Server) ChangeAvailability(ctx context.Context, id string, connectorID int, t core.AvailabilityType) (core.AvailabilityStatus, error) {
	conf, err := call(ctx, s, id, core.ChangeAvailabilityFeatureName, func(cb func(*core.ChangeAvailabilityConfirmation, error)) error {
		return s.cs.ChangeAvailability(id, cb, connectorID, t)
	})
	if err != nil {
		return "", err
	}
	return conf.Status, nil
}

// Reset asks for a Soft or Hard reset.
func (s *Server) Reset(ctx context.Context, id string, t core.ResetType) (core.ResetStatus, error) {
	conf, err := call(ctx, s, id, core.ResetFeatureName, func(cb func(*core.ResetConfirmation, error)) error {
		return s.cs.Reset(id, cb, t)
	})
	if err != nil {
		return "", err
	}
	return conf.Status, nil
}

// SetChargingProfile installs a charging profile (a power or current limit)
// on a connector.
func (s *Server) SetChargingProfile(ctx context.Context, id string, connectorID int, p *types.ChargingProfile) (smartcharging.ChargingProfileStatus, error) {
	conf, err := call(ctx, s, id, smartcharging.SetChargingProfileFeatureName, func(cb func(*smartcharging.SetChargingProfileConfirmation, error)) error {
		return s.cs.SetChargingProfile(id, cb, connectorID, p)
	})
	if err != nil {
		return "", err
	}
	return conf.Status, nil
}

// ClearProfile selects the profiles ClearChargingProfile removes; the zero
// value clears every profile.
type ClearProfile struct {
	ProfileID   *int
	ConnectorID *int
	Purpose     types.ChargingProfilePurposeType
	StackLevel  *int
}

// ClearChargingProfile removes charging profiles.
func (s *Server) ClearChargingProfile(ctx context.Context, id string, sel ClearProfile) (smartcharging.ClearChargingProfileStatus, error) {
	conf, err := call(ctx, s, id, smartcharging.ClearChargingProfileFeatureName, func(cb func(*smartcharging.ClearChargingProfileConfirmation, error)) error {
		return s.cs.ClearChargingProfile(id, cb, func(r *smartcharging.ClearChargingProfileRequest) {
			r.Id, r.ConnectorId, r.ChargingProfilePurpose, r.StackLevel = sel.ProfileID, sel.ConnectorID, sel.Purpose, sel.StackLevel
		})
	})
	if err != nil {
		return "", err
	}
	return conf.Status, nil
}

// TriggerMessage asks the charge point to send a message now (connectorID 0:
// not connector specific).
func (s *Server) TriggerMessage(ctx context.Context, id string, msg remotetrigger.MessageTrigger, connectorID int) (remotetrigger.TriggerMessageStatus, error) {
	conf, err := call(ctx, s, id, remotetrigger.TriggerMessageFeatureName, func(cb func(*remotetrigger.TriggerMessageConfirmation, error)) error {
		return s.cs.TriggerMessage(id, cb, msg, func(r *remotetrigger.TriggerMessageRequest) {
			if connectorID > 0 {
				r.ConnectorId = &connectorID
			}
		})
	})
	if err != nil {
		return "", err
	}
	return conf.Status, nil
}

// GetConfiguration reads configuration keys (none: all).
func (s *Server) GetConfiguration(ctx context.Context, id string, keys []string) (*core.GetConfigurationConfirmation, error) {
	return call(ctx, s, id, core.GetConfigurationFeatureName, func(cb func(*core.GetConfigurationConfirmation, error)) error {
		return s.cs.GetConfiguration(id, cb, keys)
	})
}

// ChangeConfiguration sets one configuration key.
func (s *Server) ChangeConfiguration(ctx context.Context, id, key, value string) (core.ConfigurationStatus, error) {
	conf, err := call(ctx, s, id, core.ChangeConfigurationFeatureName, func(cb func(*core.ChangeConfigurationConfirmation, error)) error {
		return s.cs.ChangeConfiguration(id, cb, key, value)
	})
	if err != nil {
		return "", err
	}
	return conf.Status, nil
}
