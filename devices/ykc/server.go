package ykc

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/voltflow/voltflow/devices/ocpp"
)

// Options configure a YKC server.
type Options struct {
	Addr string // listen address (contracts.md: 127.0.0.1:8767)
	// Handler is the same charger adapter the OCPP central system answers
	// from: YKC frames are translated into its calls, so a YKC charger runs
	// the same charging-order workflow as an OCPP one.
	Handler ocpp.Handler
	// Registered accepts a login: the charger number must be registered
	// (YKC has no password).
	Registered func(ctx context.Context, chargerNo string) bool
	// Billing builds the billing model of a charger's station (0x0A, 0x58).
	// Nil: a model with one flat rate of 0.
	Billing func(ctx context.Context, chargerNo string) (BillingModel, error)
	// BMS receives the BMS frames (0x15, 0x23, 0x25) after they are logged.
	// It runs on the connection's goroutine: hand off, do not block.
	BMS func(chargerNo string, at time.Time, b Body)
	// Frames receives every frame, as the device message log.
	Frames ocpp.FrameSink
	// HeartbeatInterval is what chargers are expected to keep (the
	// specification's 10 s); Grace the silence tolerated beyond it before
	// the charger is dropped and goes offline.
	HeartbeatInterval time.Duration
	Grace             time.Duration
	CallTimeout       time.Duration // for remote start/stop/reboot answers
	// Zone is the chargers' clock (CP56Time2a carries no zone): time sync
	// sets it, transaction records are read in it. Default China (UTC+8).
	Zone *time.Location
	Log  *slog.Logger
	// Handled, when set, is told the time each frame from a charger took
	// from decoded to answered (benchmarks).
	Handled func(frameType byte, d time.Duration)
}

// Server holds YKC charger connections.
type Server struct {
	opts Options
	ln   net.Listener
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[string]*conn
}

// Listen starts a YKC server.
func Listen(ctx context.Context, opts Options) (*Server, error) {
	if opts.Handler == nil || opts.Registered == nil {
		return nil, errors.New("ykc: Handler and Registered are required")
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 10 * time.Second
	}
	if opts.Grace <= 0 {
		opts.Grace = 20 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Zone == nil {
		opts.Zone = time.FixedZone("CST", 8*3600)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("ykc: listen %s: %w", opts.Addr, err)
	}
	s := &Server{opts: opts, ln: ln, conns: map[string]*conn{}}
	s.ctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Connections counts logged-in chargers.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Connected reports whether the charger is logged in here.
func (s *Server) Connected(chargerNo string) bool { return s.get(chargerNo) != nil }

// Close stops accepting, drops every connection and waits for them.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.stop()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) get(id string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(nc)
		}()
	}
}

// gun is what a connection knows of one gun.
type gun struct {
	status  uint8 // last 0x13 status, 0xFF before the first
	plugged uint8
	trade   string // session in progress
	txID    int
	idTag   string
}

type conn struct {
	s   *Server
	nc  net.Conn
	id  string
	wmu sync.Mutex
	out []byte

	mu      sync.Mutex
	seq     uint16
	guns    map[string]*gun
	waiting map[string]chan Body // reply key → waiter
}

func (s *Server) serve(nc net.Conn) {
	c := &conn{s: s, nc: nc, guns: map[string]*gun{}, waiting: map[string]chan Body{}}
	defer func() { _ = nc.Close() }()
	r := NewReader(nc)
	idle := s.opts.HeartbeatInterval + s.opts.Grace
	for {
		_ = nc.SetReadDeadline(time.Now().Add(idle))
		f, err := r.Read()
		if err != nil {
			if errors.Is(err, ErrCRC) {
				c.logFrame(ocpp.DirectionIn, f, "CRC mismatch")
				s.opts.Log.Warn("ykc: frame with a bad CRC", "charger", c.id, "error", err)
				continue
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				s.opts.Log.Warn("ykc: charger silent beyond heartbeat interval + grace, dropping", "charger", c.id, "after", idle)
			}
			break
		}
		began := time.Now()
		ok := c.handle(f)
		if s.opts.Handled != nil {
			s.opts.Handled(f.Type, time.Since(began))
		}
		if !ok {
			break
		}
	}
	if c.id != "" {
		s.mu.Lock()
		current := s.conns[c.id] == c
		if current {
			delete(s.conns, c.id)
		}
		s.mu.Unlock()
		if !current {
			return // replaced by the charger's new connection, which is online
		}
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		s.opts.Handler.Disconnected(ctx, c.id)
		cancel()
	}
}

// frameNames name frame types in the message log.
var frameNames = map[byte]string{
	TypeLogin: "Login", TypeLoginReply: "LoginReply", TypeHeartbeat: "Heartbeat", TypeHeartbeatReply: "HeartbeatReply",
	TypeBillingCheck: "BillingModelCheck", TypeBillingCheckReply: "BillingModelCheckReply",
	TypeBillingRequest: "BillingModelRequest", TypeBillingReply: "BillingModelReply", TypeRealTimeRead: "ReadRealTime",
	TypeRealTime: "RealTimeData", TypeHandshake: "BMSHandshake", TypeBMSDemand: "BMSDemand", TypeBMSStatus: "BMSStatus",
	TypeRemoteStartReply: "RemoteStartReply", TypeRemoteStart: "RemoteStart", TypeRemoteStopReply: "RemoteStopReply",
	TypeRemoteStop: "RemoteStop", TypeTransaction: "TransactionRecord", TypeTransactionConfirm: "TransactionConfirm",
	TypeTimeSyncReply: "TimeSyncReply", TypeTimeSync: "TimeSync", TypeBillingSetReply: "BillingModelSetReply",
	TypeBillingSet: "BillingModelSet", TypeRebootReply: "RebootReply", TypeReboot: "Reboot",
}

// requests are the frame types that open an exchange (OCPP's CALL); the
// others answer one (CALLRESULT).
func isRequest(t byte) bool {
	switch t {
	case TypeLogin, TypeHeartbeat, TypeBillingCheck, TypeBillingRequest, TypeRealTime, TypeHandshake, TypeBMSDemand,
		TypeBMSStatus, TypeTransaction, TypeRealTimeRead, TypeRemoteStart, TypeRemoteStop, TypeTimeSync, TypeBillingSet,
		TypeReboot:
		return true
	}
	return false
}

// logFrame hands the frame to the device message log: the frame as upper
// case hex, its sequence number as the unique id, its type's name as the
// action (prefixed YKC).
func (c *conn) logFrame(dir ocpp.Direction, f Frame, note string) {
	if c.s.opts.Frames == nil {
		return
	}
	wire, _ := f.Marshal()
	name := frameNames[f.Type]
	if name == "" {
		name = fmt.Sprintf("0x%02X", f.Type)
	}
	if note != "" {
		name += " (" + note + ")"
	}
	mt := ocpp.MessageResult
	if isRequest(f.Type) {
		mt = ocpp.MessageCall
	}
	id := c.id
	if id == "" {
		id = "?"
	}
	c.s.opts.Frames.Frame(ocpp.Frame{ChargePointID: id, Direction: dir, MessageType: mt,
		UniqueID: strconv.Itoa(int(f.Seq)), Action: "YKC " + name, Data: []byte(hex.EncodeToString(wire)), At: time.Now()})
}

// send writes one frame (seq: the request's for an answer, else our next).
func (c *conn) send(seq uint16, reply bool, b Body) error {
	if !reply {
		c.mu.Lock()
		seq = c.seq
		c.seq++
		c.mu.Unlock()
	}
	f, err := NewFrame(seq, b)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.out, err = f.Append(c.out[:0])
	if err != nil {
		return err
	}
	c.logFrame(ocpp.DirectionOut, f, "")
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err = c.nc.Write(c.out)
	return err
}

func (c *conn) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.s.ctx, 30*time.Second)
}

// handle answers one frame; false drops the connection.
func (c *conn) handle(f Frame) bool {
	log := c.s.opts.Log
	if f.Encrypted != Plain {
		c.logFrame(ocpp.DirectionIn, f, "encrypted, not supported")
		log.Warn("ykc: encrypted frame refused", "charger", c.id, "type", f.Type)
		return false
	}
	b, err := Decode(f.Type, f.Body)
	if err != nil {
		c.logFrame(ocpp.DirectionIn, f, "undecodable")
		log.Warn("ykc: undecodable frame", "charger", c.id, "error", err)
		return c.id != ""
	}
	if c.id == "" {
		login, ok := b.(*Login)
		if !ok {
			c.logFrame(ocpp.DirectionIn, f, "before login")
			return false
		}
		return c.login(f, login)
	}
	c.logFrame(ocpp.DirectionIn, f, "")
	ctx, cancel := c.ctx()
	defer cancel()
	h := c.s.opts.Handler
	switch m := b.(type) {
	case *Login: // a second login on the same connection: answer it again
		_ = c.send(f.Seq, true, &LoginReply{Charger: c.id})
	case *Heartbeat:
		if _, err := h.Heartbeat(ctx, c.id, core.NewHeartbeatRequest()); err != nil {
			log.Error("ykc: heartbeat", "charger", c.id, "error", err)
		}
		c.gunFault(ctx, m.Gun, m.GunStatus == 1)
		_ = c.send(f.Seq, true, &HeartbeatReply{Charger: c.id, Gun: m.Gun})
	case *BillingCheck:
		bm := c.billing(ctx)
		res := uint8(0)
		if m.Model != bm.Model {
			res = 1
		}
		_ = c.send(f.Seq, true, &BillingCheckReply{Charger: c.id, Model: m.Model, Result: res})
	case *BillingRequest:
		_ = c.send(f.Seq, true, &BillingReply{c.billing(ctx)})
	case *RealTime:
		c.realTime(ctx, m)
	case *Handshake, *BMSDemand, *BMSStatus:
		if c.s.opts.BMS != nil {
			c.s.opts.BMS(c.id, time.Now(), b)
		}
	case *Transaction:
		c.transaction(ctx, f.Seq, m)
	case *RemoteStartReply:
		c.deliver("33/"+m.Trade, b)
	case *RemoteStopReply:
		c.deliver("35/"+m.Gun, b)
	case *RebootReply:
		c.deliver("91", b)
	case *TimeSyncReply:
		c.deliver("55", b)
	case *BillingSetReply:
		c.deliver("57", b)
	}
	return true
}

func (c *conn) login(f Frame, m *Login) bool {
	c.id = m.Charger
	c.logFrame(ocpp.DirectionIn, f, "")
	ctx, cancel := c.ctx()
	defer cancel()
	if !c.s.opts.Registered(ctx, m.Charger) {
		_ = c.send(f.Seq, true, &LoginReply{Charger: m.Charger, Result: 1})
		c.s.opts.Log.Warn("ykc: login of an unregistered charger refused", "charger", m.Charger)
		c.id = ""
		return false
	}
	c.s.mu.Lock()
	old := c.s.conns[c.id]
	c.s.conns[c.id] = c
	c.s.mu.Unlock()
	if old != nil {
		// The charger reconnected: the old connection is stale.
		_ = old.nc.Close()
	}
	h := c.s.opts.Handler
	h.Connected(ctx, c.id)
	model := "DC"
	if m.Kind == 1 {
		model = "AC"
	}
	req := core.NewBootNotificationRequest(model, "YKC")
	req.FirmwareVersion = ASCII(m.Software)
	if _, err := h.BootNotification(ctx, c.id, req); err != nil {
		c.s.opts.Log.Error("ykc: login", "charger", c.id, "error", err)
	}
	_ = c.send(f.Seq, true, &LoginReply{Charger: c.id})
	// The charger's clock drives its TOU periods: set it at login.
	_ = c.send(0, false, &TimeSync{Charger: c.id, Now: NewCP56(time.Now().In(c.s.opts.Zone))})
	return true
}

func (c *conn) billing(ctx context.Context) BillingModel {
	if c.s.opts.Billing != nil {
		bm, err := c.s.opts.Billing(ctx, c.id)
		if err == nil {
			bm.Charger = c.id
			return bm
		}
		c.s.opts.Log.Error("ykc: billing model", "charger", c.id, "error", err)
	}
	bm := BillingModel{Charger: c.id, Model: "0000"}
	for i := range bm.Periods {
		bm.Periods[i] = RateFlat
	}
	return bm
}

// connector is the OCPP connector number of a gun ("01" → 1).
func connector(g string) int {
	n, err := strconv.Atoi(g)
	if err != nil {
		return 0
	}
	return n
}

func (c *conn) gunState(g string) *gun {
	gs := c.guns[g]
	if gs == nil {
		gs = &gun{status: 0xFF}
		c.guns[g] = gs
	}
	return gs
}

// gunFault reports a heartbeat's gun fault flag as the connector's status.
func (c *conn) gunFault(ctx context.Context, g string, fault bool) {
	c.mu.Lock()
	gs := c.gunState(g)
	was := gs.status == GunFault
	if fault {
		gs.status = GunFault
	} else if was {
		gs.status = GunIdle
	}
	c.mu.Unlock()
	if fault == was {
		return
	}
	st, code := core.ChargePointStatusAvailable, core.NoError
	if fault {
		st, code = core.ChargePointStatusFaulted, core.OtherError
	}
	c.status(ctx, g, st, code, "")
}

func (c *conn) status(ctx context.Context, g string, st core.ChargePointStatus, code core.ChargePointErrorCode, vendor string) {
	req := core.NewStatusNotificationRequest(connector(g), code, st)
	req.VendorErrorCode = vendor
	now := types.NewDateTime(time.Now())
	req.Timestamp = now
	if _, err := c.s.opts.Handler.StatusNotification(ctx, c.id, req); err != nil {
		c.s.opts.Log.Error("ykc: status", "charger", c.id, "gun", g, "error", err)
	}
}

// ocppStatus maps a 0x13 gun state to an OCPP connector status.
func ocppStatus(m *RealTime) (core.ChargePointStatus, core.ChargePointErrorCode) {
	switch m.Status {
	case GunFault:
		return core.ChargePointStatusFaulted, core.OtherError
	case GunCharging:
		return core.ChargePointStatusCharging, core.NoError
	case GunIdle:
		if m.Plugged == 1 {
			return core.ChargePointStatusPreparing, core.NoError
		}
		return core.ChargePointStatusAvailable, core.NoError
	}
	return core.ChargePointStatusUnavailable, core.NoError
}

// realTime turns 0x13 into status changes (on change) and, during a
// session, meter values: YKC counts the session's energy from 0, so the
// transaction's meter starts at 0 Wh.
func (c *conn) realTime(ctx context.Context, m *RealTime) {
	c.mu.Lock()
	gs := c.gunState(m.Gun)
	changed := gs.status != m.Status || gs.plugged != m.Plugged || (m.HardwareFail != 0) != (gs.status == GunFault)
	gs.status, gs.plugged = m.Status, m.Plugged
	txID := 0
	if gs.trade != "" && gs.trade == m.Trade {
		txID = gs.txID
	}
	c.mu.Unlock()
	if changed {
		st, code := ocppStatus(m)
		vendor := ""
		if m.HardwareFail != 0 {
			st, code, vendor = core.ChargePointStatusFaulted, core.OtherError, fmt.Sprintf("YKC-HW-%04X", m.HardwareFail)
		}
		c.status(ctx, m.Gun, st, code, vendor)
	}
	if txID == 0 {
		return
	}
	now := types.NewDateTime(time.Now())
	wh := float64(m.Energy) / 10 // 0.0001 kWh → Wh
	sv := []types.SampledValue{
		{Value: strconv.FormatFloat(wh, 'f', 1, 64), Measurand: types.MeasurandEnergyActiveImportRegister, Unit: types.UnitOfMeasureWh},
		{Value: strconv.FormatFloat(float64(m.Voltage)/10, 'f', 1, 64), Measurand: types.MeasurandVoltage, Unit: types.UnitOfMeasureV},
		{Value: strconv.FormatFloat(float64(m.Current)/10, 'f', 1, 64), Measurand: types.MeasurandCurrentImport, Unit: types.UnitOfMeasureA},
		{Value: strconv.FormatFloat(float64(m.Voltage)*float64(m.Current)/100, 'f', 1, 64), Measurand: types.MeasurandPowerActiveImport, Unit: types.UnitOfMeasureW},
	}
	if m.SOC > 0 {
		sv = append(sv, types.SampledValue{Value: strconv.Itoa(int(m.SOC)), Measurand: types.MeasurandSoC, Unit: types.UnitOfMeasurePercent})
	}
	req := core.NewMeterValuesRequest(connector(m.Gun), []types.MeterValue{{Timestamp: now, SampledValue: sv}})
	req.TransactionId = &txID
	if _, err := c.s.opts.Handler.MeterValues(ctx, c.id, req); err != nil {
		c.s.opts.Log.Error("ykc: meter values", "charger", c.id, "gun", m.Gun, "error", err)
	}
}

// transaction closes the session of a transaction record and confirms it
// (0x40). A record of a session we do not know (or a repeat) is confirmed
// too: the charger would otherwise resend it.
func (c *conn) transaction(ctx context.Context, seq uint16, m *Transaction) {
	c.mu.Lock()
	gs := c.gunState(m.Gun)
	txID, idTag := 0, ""
	if gs.trade == m.Trade {
		txID, idTag = gs.txID, gs.idTag
		gs.trade, gs.txID = "", 0
	}
	c.mu.Unlock()
	if txID != 0 {
		end := m.End.Time(c.s.opts.Zone)
		if m.End.IsZero() {
			end = time.Now()
		}
		req := core.NewStopTransactionRequest(int(m.Energy/10), types.NewDateTime(end), txID)
		req.IdTag = idTag
		req.Reason = stopReason(m.StopReason)
		if _, err := c.s.opts.Handler.StopTransaction(ctx, c.id, req); err != nil {
			c.s.opts.Log.Error("ykc: transaction record", "charger", c.id, "trade", m.Trade, "error", err)
			return // no confirmation: the charger resends, we retry
		}
	} else {
		c.s.opts.Log.Warn("ykc: transaction record of an unknown session", "charger", c.id, "trade", m.Trade)
	}
	_ = c.send(seq, true, &TransactionConfirm{Trade: m.Trade})
}

// stopReason maps the appendix 11.1 stop reason codes to OCPP's: 0x40–0x4A
// are normal ends (0x40 app stop, 0x41 SOC full …), 0x6x/0x7x/0x9x faults.
func stopReason(code uint8) core.Reason {
	switch {
	case code == 0x40:
		return core.ReasonRemote
	case code == 0x42:
		return core.ReasonLocal
	case code >= 0x40 && code < 0x50:
		return core.ReasonEVDisconnected
	case code >= 0x50 && code < 0x60:
		return core.ReasonOther
	case code != 0:
		return core.ReasonOther
	}
	return core.ReasonRemote
}

func (c *conn) deliver(key string, b Body) {
	c.mu.Lock()
	ch := c.waiting[key]
	delete(c.waiting, key)
	c.mu.Unlock()
	if ch != nil {
		ch <- b
	}
}

// call sends a command and waits for its answer under key.
func (c *conn) call(ctx context.Context, key string, b Body) (Body, error) {
	ch := make(chan Body, 1)
	c.mu.Lock()
	c.waiting[key] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.waiting[key] == ch {
			delete(c.waiting, key)
		}
		c.mu.Unlock()
	}()
	if err := c.send(0, false, b); err != nil {
		return nil, err
	}
	t := time.NewTimer(c.s.opts.CallTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r, nil
	case <-t.C:
		return nil, fmt.Errorf("ykc: %s answered nothing within %s", c.id, c.s.opts.CallTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ErrNotConnected is returned for a command to a charger not logged in here.
var ErrNotConnected = errors.New("ykc: charger not connected")

// TradeNo builds a 32-digit 交易流水号: charger number (14), gun (2),
// yyMMddHHmmss (12) and a 4-digit counter.
func TradeNo(chargerNo, g string, at time.Time, n int) string {
	return fmt.Sprintf("%s%s%s%04d", chargerNo, g, at.Format("060102150405"), n%10000)
}

// RemoteStartTransaction starts a session on a gun (0x34) and, once the
// charger accepts (0x33), opens the transaction through the adapter as an
// OCPP charger's StartTransaction would.
func (s *Server) RemoteStartTransaction(ctx context.Context, id string, connectorID int, idTag string, _ *types.ChargingProfile) (types.RemoteStartStopStatus, error) {
	c := s.get(id)
	if c == nil {
		return "", ErrNotConnected
	}
	g := fmt.Sprintf("%02d", connectorID)
	now := time.Now()
	c.mu.Lock()
	trade := TradeNo(id, g, now.In(s.opts.Zone), int(c.seq))
	c.mu.Unlock()
	r, err := c.call(ctx, "33/"+trade, &RemoteStart{Trade: trade, Charger: id, Gun: g, LogicalCard: "0", Balance: 0})
	if err != nil {
		return "", err
	}
	if rep := r.(*RemoteStartReply); rep.Result != 1 {
		s.opts.Log.Info("ykc: remote start refused", "charger", id, "gun", g, "reason", rep.Reason)
		return types.RemoteStartStopStatusRejected, nil
	}
	conf, err := s.opts.Handler.StartTransaction(ctx, id, core.NewStartTransactionRequest(connectorID, idTag, 0, types.NewDateTime(now)))
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	gs := c.gunState(g)
	gs.trade, gs.txID, gs.idTag = trade, conf.TransactionId, idTag
	c.mu.Unlock()
	return types.RemoteStartStopStatusAccepted, nil
}

// RemoteStopTransaction stops the gun holding the transaction (0x36).
func (s *Server) RemoteStopTransaction(ctx context.Context, id string, transactionID int) (types.RemoteStartStopStatus, error) {
	c := s.get(id)
	if c == nil {
		return "", ErrNotConnected
	}
	g := ""
	c.mu.Lock()
	for name, gs := range c.guns {
		if gs.txID == transactionID {
			g = name
		}
	}
	c.mu.Unlock()
	if g == "" {
		return types.RemoteStartStopStatusRejected, nil
	}
	r, err := c.call(ctx, "35/"+g, &RemoteStop{Charger: id, Gun: g})
	if err != nil {
		return "", err
	}
	if r.(*RemoteStopReply).Result != 1 {
		return types.RemoteStartStopStatusRejected, nil
	}
	return types.RemoteStartStopStatusAccepted, nil
}

// Reboot asks the charger to restart (0x92): when 1 now, 2 when idle.
func (s *Server) Reboot(ctx context.Context, id string, when uint8) (bool, error) {
	c := s.get(id)
	if c == nil {
		return false, ErrNotConnected
	}
	r, err := c.call(ctx, "91", &Reboot{Charger: id, When: when})
	if err != nil {
		return false, err
	}
	return r.(*RebootReply).Result == 1, nil
}

// SyncTime sets the charger's clock (0x56) and returns the time it answers.
func (s *Server) SyncTime(ctx context.Context, id string, now time.Time) (CP56, error) {
	c := s.get(id)
	if c == nil {
		return CP56{}, ErrNotConnected
	}
	r, err := c.call(ctx, "55", &TimeSync{Charger: id, Now: NewCP56(now.In(s.opts.Zone))})
	if err != nil {
		return CP56{}, err
	}
	return r.(*TimeSyncReply).Now, nil
}

// PushBilling sends the station's current billing model (0x58).
func (s *Server) PushBilling(ctx context.Context, id string) (bool, error) {
	c := s.get(id)
	if c == nil {
		return false, ErrNotConnected
	}
	r, err := c.call(ctx, "57", &BillingSet{c.billing(ctx)})
	if err != nil {
		return false, err
	}
	return r.(*BillingSetReply).Result == 1, nil
}
