package chargersim

import (
	"fmt"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// StartSessionAt is StartSession with StartTransaction stamped at: tests
// script a session's times (e.g. across a time-of-use boundary) instead of
// waiting for the wall clock. A refused card stops at once, as in
// StartSession.
func (c *ChargePoint) StartSessionAt(connector int, idTag string, at time.Time) (*Session, error) {
	if err := c.Status(connector, core.ChargePointStatusPreparing); err != nil {
		return nil, err
	}
	c.mu.Lock()
	start := c.meterWh[connector]
	c.mu.Unlock()
	conf, err := c.cp.StartTransaction(connector, idTag, start, types.NewDateTime(at))
	if err != nil {
		return nil, fmt.Errorf("charge point %s: start on %d: %w", c.id, connector, err)
	}
	s := &Session{c: c, Connector: connector, IdTag: idTag, TransactionID: conf.TransactionId,
		Authorization: conf.IdTagInfo.Status, MeterStartWh: start, SOC: 20}
	c.mu.Lock()
	if v := c.vehicles[connector]; v != nil {
		s.SOC = int(v.soc)
	}
	c.mu.Unlock()
	if s.Authorization != types.AuthorizationStatusAccepted {
		if _, err := c.cp.StopTransaction(start, types.NewDateTime(at), conf.TransactionId, func(r *core.StopTransactionRequest) {
			r.Reason = core.ReasonDeAuthorized
		}); err != nil {
			return s, err
		}
		return s, c.Status(connector, core.ChargePointStatusAvailable)
	}
	c.mu.Lock()
	c.sessions[connector] = s
	c.mu.Unlock()
	return s, c.Status(connector, core.ChargePointStatusCharging)
}

// ChargeAt is Charge with the sample stamped at.
func (s *Session) ChargeAt(wh int, powerW float64, at time.Time) error {
	s.c.mu.Lock()
	s.c.meterWh[s.Connector] += wh
	reg := s.c.meterWh[s.Connector]
	s.c.mu.Unlock()
	s.SOC = min(100, s.SOC+wh/1000) // a 100 kWh pack: 1 % per kWh
	mv := meterValueAt(at, reg, powerW, s.SOC)
	tx := s.TransactionID
	if _, err := s.c.cp.MeterValues(s.Connector, []types.MeterValue{mv}, func(r *core.MeterValuesRequest) {
		r.TransactionId = &tx
	}); err != nil {
		return fmt.Errorf("charge point %s: meter values: %w", s.c.id, err)
	}
	return nil
}

// StopAt is Stop with StopTransaction stamped at.
func (s *Session) StopAt(reason core.Reason, at time.Time) error {
	_, err := s.c.cp.StopTransaction(s.MeterWh(), types.NewDateTime(at), s.TransactionID, func(r *core.StopTransactionRequest) {
		r.Reason, r.IdTag = reason, s.IdTag
	})
	if err != nil {
		return fmt.Errorf("charge point %s: stop transaction %d: %w", s.c.id, s.TransactionID, err)
	}
	s.c.mu.Lock()
	delete(s.c.sessions, s.Connector)
	s.c.profiles = s.c.profiles.dropTx(s.Connector)
	s.c.mu.Unlock()
	if err := s.c.Status(s.Connector, core.ChargePointStatusFinishing); err != nil {
		return err
	}
	return s.c.Status(s.Connector, core.ChargePointStatusAvailable)
}
