// Package chargersim simulates OCPP 1.6J charge points (the demo's 480 kW
// split chargers: 12 connectors each) with lorenzodonini/ocpp-go's client.
// A charge point boots, heartbeats at the interval the central system gives,
// reports connector status, and runs charging sessions a test scripts step by
// step (Authorize, StartTransaction, MeterValues, StopTransaction). It
// answers the central system's commands (remote start/stop, availability,
// reset, charging profiles, trigger) and can fail on demand: Hang makes it
// go silent without closing its socket, as a charger losing power does.
package chargersim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// Config of simulated charge points.
type Config struct {
	URL        string // central system prefix, e.g. ws://127.0.0.1:8887/ocpp (the id is appended)
	Password   string // basic-auth password
	Connectors int    // per charge point, default 12
	Vendor     string // default "Voltflow"
	Model      string // default "SIM-SPLIT-480"
	// MeterInterval, when positive, sends MeterValues for connector 1 at
	// this interval even without a session (load tests: "heartbeat +
	// MeterValues every 60 s").
	MeterInterval time.Duration
	Log           *slog.Logger
	// Physics of plugged-in vehicles (physics.go).
	CabinetW   float64       // cabinet power shared by the connectors, default 480 kW
	ConnectorW float64       // a connector's nameplate power, default 120 kW
	TimeFactor float64       // sim seconds per real second, default 1
	Epoch      time.Time     // sim time at EpochAt, default now
	EpochAt    time.Time     // the real instant of Epoch, default connect (share one with the plans' clock)
	Tick       time.Duration // real time between physics steps (and MeterValues), default 1 s
}

func (c *Config) defaults() {
	c.URL = strings.TrimSuffix(c.URL, "/")
	if c.Connectors <= 0 {
		c.Connectors = 12
	}
	if c.Vendor == "" {
		c.Vendor = "Voltflow"
	}
	if c.Model == "" {
		c.Model = "SIM-SPLIT-480"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.CabinetW <= 0 {
		c.CabinetW = 480_000
	}
	if c.ConnectorW <= 0 {
		c.ConnectorW = 120_000
	}
	if c.TimeFactor <= 0 {
		c.TimeFactor = 1
	}
	if c.Tick <= 0 {
		c.Tick = time.Second
	}
}

// Command is a request the central system sent, as the charge point saw it.
type Command struct {
	Action string
	Req    any
	At     time.Time
}

// ChargePoint is one simulated charge point.
type ChargePoint struct {
	id   string
	cfg  Config
	cp   ocpp16.ChargePoint
	hung atomic.Bool

	mu       sync.Mutex
	interval time.Duration
	meterWh  map[int]int // energy register per connector
	sessions map[int]*Session
	commands []Command
	onCmd    chan struct{} // closed and replaced on every command

	// physics (physics.go), under mu
	epoch, realStart time.Time
	profiles         profiles
	vehicles         map[int]*plugged
	frac             map[int]float64 // Wh below the register's resolution
	trace            []Sample
	physicsOnce      sync.Once

	stop      chan struct{}
	stopOnce  sync.Once
	closeOnce sync.Once
	wg        sync.WaitGroup
	spawned   sync.WaitGroup // handlers' follow-ups (spawn)
	spawnMu   sync.Mutex     // orders spawn's Add before Close's Wait
}

// ID is the charge point identity.
func (c *ChargePoint) ID() string { return c.id }

// HeartbeatInterval is what the central system told us at boot.
func (c *ChargePoint) HeartbeatInterval() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interval
}

// Connect dials the central system as id, boots, reports every connector
// Available and starts heartbeating.
func Connect(ctx context.Context, cfg Config, id string) (*ChargePoint, error) {
	cfg.defaults()
	c := &ChargePoint{id: id, cfg: cfg, meterWh: map[int]int{}, sessions: map[int]*Session{},
		onCmd: make(chan struct{}), stop: make(chan struct{}),
		epoch: cfg.Epoch, realStart: cfg.EpochAt, vehicles: map[int]*plugged{}, frac: map[int]float64{}}
	if c.realStart.IsZero() {
		c.realStart = time.Now()
	}
	if c.epoch.IsZero() {
		c.epoch = c.realStart
	}
	for i := 1; i <= cfg.Connectors; i++ {
		c.meterWh[i] = 1_000_000 // a used charger's register, in Wh
	}
	client := ws.NewClient()
	client.SetBasicAuth(id, cfg.Password)
	client.AddOption(func(d *websocket.Dialer) { d.NetDialContext = c.dial })
	c.cp = ocpp16.NewChargePoint(id, nil, client)
	c.cp.SetCoreHandler(handler{c})
	c.cp.SetSmartChargingHandler(handler{c})
	c.cp.SetRemoteTriggerHandler(handler{c})
	if err := c.cp.Start(cfg.URL); err != nil {
		return nil, fmt.Errorf("charge point %s: connect %s: %w", id, cfg.URL, err)
	}
	// A central system that drops the connection mid-boot (it is shutting
	// down) leaves ocpp-go reconnecting forever with the request paused, not
	// timed out: only stopping the client ends the wait, so ctx does. It
	// hung voltflow dev's Ctrl-C around readiness.
	stopBoot := context.AfterFunc(ctx, func() { c.closeOnce.Do(c.cp.Stop) })
	err := c.boot()
	if !stopBoot() {
		return nil, fmt.Errorf("charge point %s: boot: %w", id, context.Cause(ctx))
	}
	if err != nil {
		c.closeOnce.Do(c.cp.Stop)
		return nil, err
	}
	c.wg.Add(1)
	go c.heartbeat()
	return c, nil
}

func (c *ChargePoint) boot() error {
	conf, err := c.cp.BootNotification(c.cfg.Model, c.cfg.Vendor, func(r *core.BootNotificationRequest) {
		r.ChargePointSerialNumber = "SN-" + c.id
		r.FirmwareVersion = "sim-1.0"
	})
	if err != nil {
		return fmt.Errorf("charge point %s: boot: %w", c.id, err)
	}
	if conf.Status != core.RegistrationStatusAccepted {
		return fmt.Errorf("charge point %s: boot %s", c.id, conf.Status)
	}
	c.mu.Lock()
	c.interval = time.Duration(conf.Interval) * time.Second
	c.mu.Unlock()
	for i := 0; i <= c.cfg.Connectors; i++ {
		if err := c.Status(i, core.ChargePointStatusAvailable); err != nil {
			return err
		}
	}
	return nil
}

// dial connects through a conn that can be made to hang.
func (c *ChargePoint) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.hung.Load() {
		return nil, errors.New("charge point is hung")
	}
	conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: conn, hung: &c.hung}, nil
}

// faultConn goes silent on Hang: what we write is swallowed, what arrives is
// dropped, and the TCP connection stays open — no FIN, no close frame.
type faultConn struct {
	net.Conn
	hung *atomic.Bool
}

func (f *faultConn) Read(b []byte) (int, error) {
	for {
		n, err := f.Conn.Read(b)
		if err != nil || !f.hung.Load() {
			return n, err
		}
	}
}

func (f *faultConn) Write(b []byte) (int, error) {
	if f.hung.Load() {
		return len(b), nil
	}
	return f.Conn.Write(b)
}

// Hang makes the charge point silent from now on, its socket left open.
func (c *ChargePoint) Hang() {
	c.hung.Store(true)
	c.stopOnce.Do(func() { close(c.stop) })
}

// Close stops heartbeats and closes the connection. The client is stopped
// first: that releases a request still waiting for an answer (after Hang,
// none comes).
func (c *ChargePoint) Close() {
	c.spawnMu.Lock()
	c.stopOnce.Do(func() { close(c.stop) })
	c.spawnMu.Unlock()
	// What handlers started (a remote stop's StopTransaction and status)
	// finishes first, unless the central system no longer answers.
	done := make(chan struct{})
	go func() { c.spawned.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	c.closeOnce.Do(c.cp.Stop)
	c.wg.Wait()
}

// spawn runs f, a handler's follow-up that sends requests, on its own
// goroutine. ocpp-go panics on a request sent after its client stopped
// ("send on closed channel"): once Close has begun, such a panic ends f
// and nothing else.
func (c *ChargePoint) spawn(f func()) {
	c.spawnMu.Lock()
	defer c.spawnMu.Unlock()
	select {
	case <-c.stop:
		return // closing: Close may be waiting for the others already
	default:
	}
	c.spawned.Add(1)
	go func() {
		defer c.spawned.Done()
		defer func() {
			if r := recover(); r != nil {
				select {
				case <-c.stop:
					c.cfg.Log.Debug("chargersim: request after close dropped", "chargePoint", c.id, "panic", r)
				default:
					panic(r)
				}
			}
		}()
		f()
	}()
}

func (c *ChargePoint) heartbeat() {
	defer c.wg.Done()
	interval := c.HeartbeatInterval()
	if interval <= 0 {
		interval = time.Minute
	}
	hb := time.NewTicker(interval)
	defer hb.Stop()
	var meter <-chan time.Time
	if c.cfg.MeterInterval > 0 {
		t := time.NewTicker(c.cfg.MeterInterval)
		defer t.Stop()
		meter = t.C
	}
	for {
		select {
		case <-c.stop:
			return
		case <-hb.C:
			if _, err := c.cp.Heartbeat(); err != nil {
				c.cfg.Log.Debug("chargersim: heartbeat", "chargePoint", c.id, "error", err)
			}
		case <-meter:
			c.mu.Lock()
			wh := c.meterWh[1]
			c.mu.Unlock()
			if _, err := c.cp.MeterValues(1, []types.MeterValue{meterValue(wh, 0, 0)}); err != nil {
				c.cfg.Log.Debug("chargersim: meter values", "chargePoint", c.id, "error", err)
			}
		}
	}
}

// Status reports a connector's status (0: the charge point).
func (c *ChargePoint) Status(connector int, st core.ChargePointStatus) error {
	code := core.NoError
	if st == core.ChargePointStatusFaulted {
		code = core.InternalError
	}
	_, err := c.cp.StatusNotification(connector, code, st, func(r *core.StatusNotificationRequest) {
		r.Timestamp = types.NewDateTime(time.Now())
	})
	if err != nil {
		return fmt.Errorf("charge point %s: status %d %s: %w", c.id, connector, st, err)
	}
	return nil
}

// Fault reports a connector Faulted with an OCPP error code.
func (c *ChargePoint) Fault(connector int, code core.ChargePointErrorCode) error {
	_, err := c.cp.StatusNotification(connector, code, core.ChargePointStatusFaulted)
	return err
}

// VendorFault reports a connector Faulted with an OCPP error code and a
// vendorErrorCode (a cabinet protection, domain/chargefault's vendor codes).
func (c *ChargePoint) VendorFault(connector int, code core.ChargePointErrorCode, vendor string) error {
	_, err := c.cp.StatusNotification(connector, code, core.ChargePointStatusFaulted, func(r *core.StatusNotificationRequest) {
		r.VendorErrorCode = vendor
	})
	return err
}

// Authorize asks whether idTag may charge.
func (c *ChargePoint) Authorize(idTag string) (types.AuthorizationStatus, error) {
	conf, err := c.cp.Authorize(idTag)
	if err != nil {
		return "", fmt.Errorf("charge point %s: authorize %s: %w", c.id, idTag, err)
	}
	return conf.IdTagInfo.Status, nil
}

// DataTransfer sends a vendor message.
func (c *ChargePoint) DataTransfer(vendorID, messageID, data string) (core.DataTransferStatus, error) {
	conf, err := c.cp.DataTransfer(vendorID, func(r *core.DataTransferRequest) {
		r.MessageId, r.Data = messageID, data
	})
	if err != nil {
		return "", err
	}
	return conf.Status, nil
}

// Session is one charging session on a connector.
type Session struct {
	c             *ChargePoint
	Connector     int
	IdTag         string
	TransactionID int
	// Authorization is the idTagInfo answered to StartTransaction; a
	// session not Accepted was stopped by the charge point at once.
	Authorization types.AuthorizationStatus
	MeterStartWh  int
	SOC           int
}

// StartSession plugs in and starts a transaction for idTag: Preparing,
// StartTransaction, then Charging — or, if the central system refuses the
// card, StopTransaction (DeAuthorized) and Available, as a charger must.
func (c *ChargePoint) StartSession(connector int, idTag string) (*Session, error) {
	return c.StartSessionAt(connector, idTag, time.Now())
}

// Charge delivers wh more energy at powerW and sends MeterValues (energy
// register, power, current, voltage, SoC).
func (s *Session) Charge(wh int, powerW float64) error {
	return s.ChargeAt(wh, powerW, time.Now())
}

// MeterWh is the connector's energy register now.
func (s *Session) MeterWh() int {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.c.meterWh[s.Connector]
}

// Stop ends the transaction (reason Local, Remote, EVDisconnected, ...) and
// goes through Finishing to Available.
func (s *Session) Stop(reason core.Reason) error {
	return s.StopAt(reason, time.Now())
}

// Session is the running session on a connector, if any.
func (c *ChargePoint) Session(connector int) *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions[connector]
}

func meterValue(wh int, powerW float64, soc int) types.MeterValue {
	return meterValueAt(time.Now(), wh, powerW, soc)
}

func meterValueAt(at time.Time, wh int, powerW float64, soc int) types.MeterValue {
	current := powerW / 750
	return types.MeterValue{Timestamp: types.NewDateTime(at), SampledValue: []types.SampledValue{
		{Value: fmt.Sprint(wh), Measurand: types.MeasurandEnergyActiveImportRegister, Unit: types.UnitOfMeasureWh},
		{Value: fmt.Sprintf("%.1f", powerW), Measurand: types.MeasurandPowerActiveImport, Unit: types.UnitOfMeasureW},
		{Value: fmt.Sprintf("%.1f", current), Measurand: types.MeasurandCurrentImport, Unit: types.UnitOfMeasureA},
		{Value: "750.0", Measurand: types.MeasurandVoltage, Unit: types.UnitOfMeasureV},
		{Value: fmt.Sprint(soc), Measurand: types.MeasurandSoC, Unit: types.UnitOfMeasurePercent},
	}}
}

// Commands lists what the central system asked, oldest first.
func (c *ChargePoint) Commands() []Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Command(nil), c.commands...)
}

// WaitCommand waits for a command with the action, received at any time.
func (c *ChargePoint) WaitCommand(ctx context.Context, action string) (Command, error) {
	for {
		c.mu.Lock()
		for _, cmd := range c.commands {
			if cmd.Action == action {
				c.mu.Unlock()
				return cmd, nil
			}
		}
		wait := c.onCmd
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return Command{}, fmt.Errorf("charge point %s: no %s: %w", c.id, action, ctx.Err())
		}
	}
}

func (c *ChargePoint) note(action string, req any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commands = append(c.commands, Command{Action: action, Req: req, At: time.Now()})
	close(c.onCmd)
	c.onCmd = make(chan struct{})
}

// handler answers the central system. Requests that make the charge point
// send something (remote start, trigger) do so after answering, in their
// own goroutine: the client sends one request at a time.
type handler struct{ c *ChargePoint }

func (h handler) OnChangeAvailability(r *core.ChangeAvailabilityRequest) (*core.ChangeAvailabilityConfirmation, error) {
	h.c.note(core.ChangeAvailabilityFeatureName, r)
	return core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusAccepted), nil
}

func (h handler) OnChangeConfiguration(r *core.ChangeConfigurationRequest) (*core.ChangeConfigurationConfirmation, error) {
	h.c.note(core.ChangeConfigurationFeatureName, r)
	return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusAccepted), nil
}

func (h handler) OnClearCache(r *core.ClearCacheRequest) (*core.ClearCacheConfirmation, error) {
	h.c.note(core.ClearCacheFeatureName, r)
	return core.NewClearCacheConfirmation(core.ClearCacheStatusAccepted), nil
}

func (h handler) OnDataTransfer(r *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	h.c.note(core.DataTransferFeatureName, r)
	return core.NewDataTransferConfirmation(core.DataTransferStatusAccepted), nil
}

func (h handler) OnGetConfiguration(r *core.GetConfigurationRequest) (*core.GetConfigurationConfirmation, error) {
	h.c.note(core.GetConfigurationFeatureName, r)
	v := fmt.Sprint(int(h.c.HeartbeatInterval() / time.Second))
	n := fmt.Sprint(h.c.cfg.Connectors)
	return core.NewGetConfigurationConfirmation([]core.ConfigurationKey{
		{Key: "HeartbeatInterval", Readonly: false, Value: &v},
		{Key: "NumberOfConnectors", Readonly: true, Value: &n},
	}), nil
}

func (h handler) OnRemoteStartTransaction(r *core.RemoteStartTransactionRequest) (*core.RemoteStartTransactionConfirmation, error) {
	h.c.note(core.RemoteStartTransactionFeatureName, r)
	connector := 1
	if r.ConnectorId != nil {
		connector = *r.ConnectorId
	}
	if connector < 1 || connector > h.c.cfg.Connectors || h.c.Session(connector) != nil {
		return core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusRejected), nil
	}
	if r.ChargingProfile != nil { // a TxProfile for the session about to start
		h.c.mu.Lock()
		h.c.profiles = h.c.profiles.set(connector, r.ChargingProfile, h.c.Now())
		h.c.mu.Unlock()
	}
	h.c.spawn(func() {
		if _, err := h.c.StartSession(connector, r.IdTag); err != nil {
			h.c.cfg.Log.Warn("chargersim: remote start", "chargePoint", h.c.id, "error", err)
		}
	})
	return core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted), nil
}

func (h handler) OnRemoteStopTransaction(r *core.RemoteStopTransactionRequest) (*core.RemoteStopTransactionConfirmation, error) {
	h.c.note(core.RemoteStopTransactionFeatureName, r)
	h.c.mu.Lock()
	var s *Session
	for _, x := range h.c.sessions {
		if x.TransactionID == r.TransactionId {
			s = x
		}
	}
	h.c.mu.Unlock()
	if s == nil {
		return core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusRejected), nil
	}
	h.c.spawn(func() {
		if err := s.Stop(core.ReasonRemote); err != nil {
			h.c.cfg.Log.Warn("chargersim: remote stop", "chargePoint", h.c.id, "error", err)
		}
	})
	return core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusAccepted), nil
}

func (h handler) OnReset(r *core.ResetRequest) (*core.ResetConfirmation, error) {
	h.c.note(core.ResetFeatureName, r)
	return core.NewResetConfirmation(core.ResetStatusAccepted), nil
}

func (h handler) OnUnlockConnector(r *core.UnlockConnectorRequest) (*core.UnlockConnectorConfirmation, error) {
	h.c.note(core.UnlockConnectorFeatureName, r)
	return core.NewUnlockConnectorConfirmation(core.UnlockStatusUnlocked), nil
}

func (h handler) OnSetChargingProfile(r *smartcharging.SetChargingProfileRequest) (*smartcharging.SetChargingProfileConfirmation, error) {
	h.c.note(smartcharging.SetChargingProfileFeatureName, r)
	p := r.ChargingProfile
	if p == nil || p.ChargingSchedule == nil || r.ConnectorId > h.c.cfg.Connectors ||
		(p.ChargingProfilePurpose == types.ChargingProfilePurposeTxProfile && h.c.Session(r.ConnectorId) == nil) ||
		(p.ChargingProfilePurpose == types.ChargingProfilePurposeChargePointMaxProfile && r.ConnectorId != 0) {
		return smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusRejected), nil
	}
	h.c.mu.Lock()
	h.c.profiles = h.c.profiles.set(r.ConnectorId, p, h.c.Now())
	h.c.mu.Unlock()
	return smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusAccepted), nil
}

func (h handler) OnClearChargingProfile(r *smartcharging.ClearChargingProfileRequest) (*smartcharging.ClearChargingProfileConfirmation, error) {
	h.c.note(smartcharging.ClearChargingProfileFeatureName, r)
	h.c.mu.Lock()
	var hit bool
	h.c.profiles, hit = h.c.profiles.clear(r)
	h.c.mu.Unlock()
	if !hit {
		return smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusUnknown), nil
	}
	return smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusAccepted), nil
}

func (h handler) OnGetCompositeSchedule(r *smartcharging.GetCompositeScheduleRequest) (*smartcharging.GetCompositeScheduleConfirmation, error) {
	h.c.note(smartcharging.GetCompositeScheduleFeatureName, r)
	return smartcharging.NewGetCompositeScheduleConfirmation(smartcharging.GetCompositeScheduleStatusRejected), nil
}

func (h handler) OnTriggerMessage(r *remotetrigger.TriggerMessageRequest) (*remotetrigger.TriggerMessageConfirmation, error) {
	h.c.note(remotetrigger.TriggerMessageFeatureName, r)
	switch r.RequestedMessage {
	case core.HeartbeatFeatureName:
		h.c.spawn(func() { _, _ = h.c.cp.Heartbeat() })
	case core.StatusNotificationFeatureName:
		h.c.spawn(func() { _ = h.c.Status(0, core.ChargePointStatusAvailable) })
	default:
		return remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusNotImplemented), nil
	}
	return remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusAccepted), nil
}
