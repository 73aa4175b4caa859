// Package centralsystem is the I/O side of the OCPP central system (issue 6, C2):
// it answers charge points (devices/ocpp.Handler) from PostgreSQL — the
// allow-list, presence, connector status into the charging registry
// (interconnect/registry, with the regulator's outbox), transactions, meter
// values — keeps the device message log, and holds charging cards (C3).
package centralsystem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/voltflow/voltflow/devices/ocpp"
	"github.com/voltflow/voltflow/domain/card"
	"github.com/voltflow/voltflow/domain/chargefault"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/network"
)

// StatusRecorder records a connector status change and the push the
// regulator exchange owes for it (push.Starter.ChangeStatus in a process
// with Temporal; push.RecordStatusChange, outbox only, otherwise).
type StatusRecorder func(ctx context.Context, info registry.ConnectorStatusInfo, at time.Time) error

// StatusesRecorder records several connectors' status changes together, in
// the order given, with their pushes (push.Starter.ChangeStatuses in a
// process with Temporal).
type StatusesRecorder func(ctx context.Context, changes []push.StatusChange) error

// Service answers charge points. The zero value is not usable: set DB.
type Service struct {
	DB  *store.DB
	Log *slog.Logger
	// Status records connector status changes; nil writes the regulator
	// outbox without signalling (its workflow's periodic sweep finds them).
	Status StatusRecorder
	// Statuses records a charge point's connectors going offline together;
	// nil uses Status for each, or when that is nil too, the outbox in one
	// transaction.
	Statuses StatusesRecorder
	// Clock is the time source; the zero Clock is the real clock.
	Clock clock.Clock
	// Hooks are told of transactions and faults after they are stored.
	Hooks Hooks
}

var _ ocpp.Handler = (*Service)(nil)

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// recordStatuses records a charge point's connector changes together, in
// order: through Statuses, else Status one by one, else the outbox alone.
func (s *Service) recordStatuses(ctx context.Context, changes []push.StatusChange) error {
	switch {
	case len(changes) == 0:
		return nil
	case s.Statuses != nil:
		return s.Statuses(ctx, changes)
	case s.Status != nil:
		for _, c := range changes {
			if err := s.Status(ctx, c.Info, c.At); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := push.RecordStatusChangesEach(ctx, s.DB, push.DefaultRegulator, changes)
	return err
}

func (s *Service) recordStatus(ctx context.Context, info registry.ConnectorStatusInfo, at time.Time) error {
	if s.Status != nil {
		return s.Status(ctx, info, at)
	}
	_, err := push.RecordStatusChange(ctx, s.DB, push.DefaultRegulator, info, at)
	return err
}

// ConnectorID is the registry id of an OCPP connector: the equipment id and
// the connector number in three digits (contracts.md).
func ConnectorID(chargePointID string, connector int) string {
	return fmt.Sprintf("%s%03d", chargePointID, connector)
}

// --- Allow-list and presence.

// Authenticate checks an allow-listed, enabled charge point's password.
func (s *Service) Authenticate(ctx context.Context, id, password string) bool {
	ok, err := charger.Authenticate(ctx, s.DB, id, password)
	if err != nil {
		s.log().Error("ocpp: authenticate", "chargePoint", id, "error", err)
	}
	return ok
}

// Connected marks the charge point online.
func (s *Service) Connected(ctx context.Context, id string) {
	at := s.Clock.Now()
	if _, err := s.DB.Exec(ctx, `update ocpp_charge_points set online=true, connected_at=$2, last_seen_at=$2,
		updated_at=now() where equipment_id=$1`, id, at); err != nil {
		s.log().Error("ocpp: mark online", "chargePoint", id, "error", err)
	}
	if err := s.recoverFaults(ctx, id, 0, chargefault.Offline.Code, at); err != nil {
		s.log().Error("ocpp: offline fault recovery", "chargePoint", id, "error", err)
	}
}

// Disconnected marks each of the charge point's connectors offline (table 8
// status 0), so the regulator hears of it, then the charge point itself:
// whoever sees it offline sees its connectors offline too.
func (s *Service) Disconnected(ctx context.Context, id string) {
	at := s.Clock.Now()
	if err := s.connectorsOffline(ctx, id, at); err != nil {
		s.log().Error("ocpp: connectors offline", "chargePoint", id, "error", err)
	}
	if _, err := s.DB.Exec(ctx, `update ocpp_charge_points set online=false, disconnected_at=$2, updated_at=now()
		where equipment_id=$1`, id, at); err != nil {
		s.log().Error("ocpp: mark offline", "chargePoint", id, "error", err)
	}
	if err := s.openFault(ctx, id, 0, "Offline", "", "connection lost", chargefault.Offline, at); err != nil {
		s.log().Error("ocpp: offline fault", "chargePoint", id, "error", err)
	}
}

// connectorsOffline records status 0 for every connector of the charge
// point not already offline, keeping the rest of each one's status row;
// one read and one commit for all of them, so thousands of chargers
// dropping at once are marked offline quickly.
func (s *Service) connectorsOffline(ctx context.Context, id string, at time.Time) error {
	rows, err := s.DB.Query(ctx, `select `+statusColumns+`
		from charging_connectors c left join connector_status st using (connector_id)
		where c.equipment_id=$1 and coalesce(st.status, -1) <> 0 order by c.connector_id`, id)
	if err != nil {
		return fmt.Errorf("connectors of %s: %w", id, err)
	}
	infos, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (registry.ConnectorStatusInfo, error) {
		return scanStatus(row)
	})
	if err != nil {
		return fmt.Errorf("connectors of %s: %w", id, err)
	}
	changes := make([]push.StatusChange, len(infos))
	for i, info := range infos {
		info.Status = registry.StatusOffline
		info.CurrentA, info.CurrentB, info.CurrentC = 0, 0, 0
		changes[i] = push.StatusChange{Info: info, At: at}
	}
	return s.recordStatuses(ctx, changes)
}

// ResetPresence marks every charge point offline: at start-up nothing is
// connected to this process yet, whatever a previous run left behind.
func ResetPresence(ctx context.Context, db *store.DB) error {
	_, err := db.Exec(ctx, `update ocpp_charge_points set online=false, disconnected_at=coalesce(disconnected_at, now())
		where online`)
	return err
}

// --- Core profile.

// BootNotification records what the charge point says it is and accepts it
// (the connection itself was allow-listed).
func (s *Service) BootNotification(ctx context.Context, id string, req *core.BootNotificationRequest) (*core.BootNotificationConfirmation, error) {
	now := s.Clock.Now()
	if _, err := s.DB.Exec(ctx, `update ocpp_charge_points set vendor=$2, model=$3, serial_number=nullif($4,''),
		firmware_version=nullif($5,''), booted_at=$6, last_seen_at=$6, updated_at=now() where equipment_id=$1`,
		id, req.ChargePointVendor, req.ChargePointModel, req.ChargePointSerialNumber, req.FirmwareVersion, now); err != nil {
		return nil, fmt.Errorf("boot of %s: %w", id, err)
	}
	// Interval 0: the central system fills in the one configured interval.
	return core.NewBootNotificationConfirmation(types.NewDateTime(now), 0, core.RegistrationStatusAccepted), nil
}

// Heartbeat notes the charge point alive and gives it our time.
func (s *Service) Heartbeat(ctx context.Context, id string, _ *core.HeartbeatRequest) (*core.HeartbeatConfirmation, error) {
	now := s.Clock.Now()
	if _, err := s.DB.Exec(ctx, `update ocpp_charge_points set last_seen_at=$2 where equipment_id=$1`, id, now); err != nil {
		return nil, fmt.Errorf("heartbeat of %s: %w", id, err)
	}
	return core.NewHeartbeatConfirmation(types.NewDateTime(now)), nil
}

// TableStatus maps an OCPP connector status to the registry's (table 8).
func TableStatus(st core.ChargePointStatus) int {
	switch st {
	case core.ChargePointStatusAvailable:
		return registry.StatusIdle
	case core.ChargePointStatusPreparing, core.ChargePointStatusSuspendedEV, core.ChargePointStatusSuspendedEVSE:
		return registry.StatusOccupied // plugged in, no energy flowing
	case core.ChargePointStatusCharging:
		return registry.StatusCharging
	case core.ChargePointStatusFinishing:
		return registry.StatusChargeDone
	case core.ChargePointStatusReserved:
		return registry.StatusReserved
	case core.ChargePointStatusFaulted:
		return registry.StatusFault
	default:
		// Unavailable (taken out of service): table 8 has no such state;
		// reported as off the network rather than as a fault, so fault
		// statistics stay true.
		return registry.StatusOffline
	}
}

// StatusNotification records a connector's status in the registry (with its
// history and the regulator push); connector 0 is the charge point itself.
func (s *Service) StatusNotification(ctx context.Context, id string, req *core.StatusNotificationRequest) (*core.StatusNotificationConfirmation, error) {
	at := s.Clock.Now()
	if req.Timestamp != nil && !req.Timestamp.IsZero() {
		at = req.Timestamp.Time
	}
	if req.ConnectorId == 0 {
		if _, err := s.DB.Exec(ctx, `update ocpp_charge_points set status=$2, error_code=$3, last_seen_at=$4,
			updated_at=now() where equipment_id=$1`, id, string(req.Status), string(req.ErrorCode), s.Clock.Now()); err != nil {
			return nil, fmt.Errorf("status of %s: %w", id, err)
		}
		if err := s.statusFault(ctx, id, 0, string(req.ErrorCode), req.VendorErrorCode, req.Info, at); err != nil {
			return nil, err
		}
		return core.NewStatusNotificationConfirmation(), nil
	}
	cid := ConnectorID(id, req.ConnectorId)
	info, err := s.currentStatus(ctx, cid)
	if errors.Is(err, registry.ErrUnknown) {
		// The charger has a connector the registry lacks: answer (OCPP
		// requires it) and say so; the frame is in the message log.
		s.log().Warn("ocpp: status of a connector not in the registry", "chargePoint", id, "connector", req.ConnectorId)
		return core.NewStatusNotificationConfirmation(), nil
	}
	if err != nil {
		return nil, err
	}
	info.Status = TableStatus(req.Status)
	if info.Status != registry.StatusCharging {
		info.CurrentA, info.CurrentB, info.CurrentC = 0, 0, 0
	}
	if err := s.recordStatus(ctx, info, at); err != nil {
		return nil, fmt.Errorf("status of %s: %w", cid, err)
	}
	if err := s.statusFault(ctx, id, req.ConnectorId, string(req.ErrorCode), req.VendorErrorCode, req.Info, at); err != nil {
		return nil, err
	}
	return core.NewStatusNotificationConfirmation(), nil
}

// statusColumns select a connector's status row (c: charging_connectors
// joined left with st: connector_status) for scanStatus.
const statusColumns = `c.connector_id, coalesce(st.status,0), st.park_status, st.lock_status,
	coalesce(st.current_a,0), coalesce(st.current_b,0), coalesce(st.current_c,0),
	coalesce(st.voltage_a,0), coalesce(st.voltage_b,0), coalesce(st.voltage_c,0), coalesce(st.soc,0),
	st.connector_temp, st.equipment_temp, st.connector_lock,
	coalesce(st.charge_electricity,0)::float8, coalesce(st.discharge_electricity,0)::float8`

// scanStatus reads a row of statusColumns.
func scanStatus(row pgx.Row) (registry.ConnectorStatusInfo, error) {
	var info registry.ConnectorStatusInfo
	var charged, discharged float64
	err := row.Scan(&info.ConnectorID, &info.Status, &info.ParkStatus, &info.LockStatus, &info.CurrentA, &info.CurrentB,
		&info.CurrentC, &info.VoltageA, &info.VoltageB, &info.VoltageC, &info.SOC, &info.ConnectorTemp,
		&info.EquipmentTemp, &info.ConnectorLock, &charged, &discharged)
	info.ChargeElectricity, info.DischargeElectricity = registry.KWh(charged), registry.KWh(discharged)
	return info, err
}

// currentStatus loads a connector's status row, so a change keeps the fields
// it does not touch.
func (s *Service) currentStatus(ctx context.Context, connectorID string) (registry.ConnectorStatusInfo, error) {
	info, err := scanStatus(s.DB.QueryRow(ctx, `select `+statusColumns+`
		from charging_connectors c left join connector_status st using (connector_id) where c.connector_id=$1`,
		connectorID))
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.ConnectorStatusInfo{ConnectorID: connectorID}, fmt.Errorf("connector %s: %w", connectorID, registry.ErrUnknown)
	}
	if err != nil {
		return registry.ConnectorStatusInfo{ConnectorID: connectorID}, fmt.Errorf("connector %s: %w", connectorID, err)
	}
	return info, nil
}

// Authorize answers with the card's standing: Accepted for an active card,
// Blocked for a frozen one, Invalid for a void or unknown one.
func (s *Service) Authorize(ctx context.Context, id string, req *core.AuthorizeRequest) (*core.AuthorizeConfirmation, error) {
	st, err := s.authorization(ctx, req.IdTag)
	if err != nil {
		return nil, err
	}
	return core.NewAuthorizationConfirmation(types.NewIdTagInfo(st)), nil
}

func (s *Service) authorization(ctx context.Context, idTag string) (types.AuthorizationStatus, error) {
	st, err := s.cardAuthorization(ctx, idTag)
	if err != nil || st != types.AuthorizationStatusAccepted {
		return st, err
	}
	// A card bound to an enterprise charges on its credit (or prepaid
	// wallet): with nothing left there, the card is Blocked (F3).
	ent, ok, err := chargeorderstore.EnterpriseOf(ctx, s.DB, idTag)
	if err != nil || !ok {
		return st, err
	}
	if err := ent.Funding.CheckStart(); err != nil {
		s.Log.Info("ocpp: enterprise card refused", "idTag", idTag, "enterprise", ent.Code, "reason", err)
		return types.AuthorizationStatusBlocked, nil
	}
	return st, nil
}

func (s *Service) cardAuthorization(ctx context.Context, idTag string) (types.AuthorizationStatus, error) {
	var st card.Status
	err := s.DB.QueryRow(ctx, `select status from cards where card_no=$1`, idTag).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		// An enterprise card need not be issued as a customer card.
		if _, ok, err := chargeorderstore.EnterpriseOf(ctx, s.DB, idTag); err != nil || ok {
			return types.AuthorizationStatusAccepted, err
		}
		// Not a card: a registered vehicle's VIN charges on its owner's open account (C6).
		var vin bool
		if err := s.DB.QueryRow(ctx, `select exists(select 1 from vehicles v join prepaid_accounts a
			on a.customer_id=v.customer_id and a.status='open' where v.vin=$1)`, idTag).Scan(&vin); err != nil {
			return "", fmt.Errorf("vehicle %s: %w", idTag, err)
		}
		if vin {
			return types.AuthorizationStatusAccepted, nil
		}
		return types.AuthorizationStatusInvalid, nil
	}
	if err != nil {
		return "", fmt.Errorf("card %s: %w", idTag, err)
	}
	switch st {
	case card.Active:
		return types.AuthorizationStatusAccepted, nil
	case card.Frozen:
		return types.AuthorizationStatusBlocked, nil
	default:
		return types.AuthorizationStatusInvalid, nil
	}
}

// StartTransaction records the transaction and answers its id with the
// card's standing (a charger told Blocked stops at once). A resent
// StartTransaction (same connector, card and start time) gets the same id.
func (s *Service) StartTransaction(ctx context.Context, id string, req *core.StartTransactionRequest) (*core.StartTransactionConfirmation, error) {
	st, err := s.authorization(ctx, req.IdTag)
	if err != nil {
		return nil, err
	}
	if st == types.AuthorizationStatusAccepted {
		// A paused connector (暂停运营) takes no new session. OCPP 1.6 can
		// refuse a StartTransaction only through idTagInfo: Blocked ("not
		// allowed for charging") rather than Invalid ("unknown"), which
		// would be a lie about the card. The charger stops the transaction
		// (StopTransactionOnInvalidId, reason DeAuthorized).
		paused, err := network.Paused(ctx, s.DB, ConnectorID(id, req.ConnectorId))
		if err != nil {
			return nil, err
		}
		if paused {
			st = types.AuthorizationStatusBlocked
		}
	}
	started := s.Clock.Now()
	if req.Timestamp != nil && !req.Timestamp.IsZero() {
		started = req.Timestamp.Time
	}
	status := "active"
	if st != types.AuthorizationStatusAccepted {
		status = "refused"
	}
	var txID int
	err = s.DB.QueryRow(ctx, `insert into ocpp_transactions (equipment_id, connector_no, connector_id, id_tag, auth_status,
		meter_start_wh, meter_last_wh, started_at, status)
		values ($1,$2,(select connector_id from charging_connectors where connector_id=$3),$4,$5,$6,$6,$7,$8)
		on conflict (equipment_id, connector_no, id_tag, started_at) do update set id_tag=excluded.id_tag
		returning id`, id, req.ConnectorId, ConnectorID(id, req.ConnectorId), req.IdTag, string(st), req.MeterStart,
		started, status).Scan(&txID)
	if err != nil {
		return nil, fmt.Errorf("start transaction on %s/%d: %w", id, req.ConnectorId, err)
	}
	s.log().Debug("ocpp: transaction started", "chargePoint", id, "connector", req.ConnectorId, "transaction", txID,
		"idTag", req.IdTag, "authorization", st)
	s.emitTx(ctx, TxEvent{Kind: TxStarted, ChargePointID: id, Connector: req.ConnectorId,
		ConnectorID: ConnectorID(id, req.ConnectorId), TransactionID: txID, IdTag: req.IdTag,
		Authorized: st == types.AuthorizationStatusAccepted, MeterWh: int64(req.MeterStart), At: started})
	return core.NewStartTransactionConfirmation(types.NewIdTagInfo(st), txID), nil
}

// Sample is what one MeterValue says, in our units.
type Sample struct {
	At       time.Time
	EnergyWh *int64
	PowerW   *float64
	CurrentA *float64
	VoltageV *float64
	SOC      *int
}

// ParseMeterValue reads the measurands we keep from one OCPP MeterValue.
// Values in k-units are scaled; unparsable values are skipped.
func ParseMeterValue(mv types.MeterValue) Sample {
	var out Sample
	if mv.Timestamp != nil {
		out.At = mv.Timestamp.Time
	}
	for _, sv := range mv.SampledValue {
		v, err := strconv.ParseFloat(sv.Value, 64)
		if err != nil {
			continue
		}
		switch sv.Measurand {
		case "", types.MeasurandEnergyActiveImportRegister: // the default measurand
			if sv.Unit == types.UnitOfMeasureKWh {
				v *= 1000
			}
			wh := int64(math.Round(v))
			out.EnergyWh = &wh
		case types.MeasurandPowerActiveImport:
			if sv.Unit == types.UnitOfMeasureKW {
				v *= 1000
			}
			out.PowerW = &v
		case types.MeasurandCurrentImport:
			out.CurrentA = &v
		case types.MeasurandVoltage:
			out.VoltageV = &v
		case types.MeasurandSoC:
			soc := int(math.Round(v))
			out.SOC = &soc
		}
	}
	return out
}

// MeterValues keeps the samples, advances the transaction's meter and
// refreshes the connector's live figures (table 9) without a status change.
func (s *Service) MeterValues(ctx context.Context, id string, req *core.MeterValuesRequest) (*core.MeterValuesConfirmation, error) {
	if err := s.meterValues(ctx, id, req.ConnectorId, req.TransactionId, req.MeterValue); err != nil {
		return nil, err
	}
	return core.NewMeterValuesConfirmation(), nil
}

func (s *Service) meterValues(ctx context.Context, id string, connector int, txID *int, values []types.MeterValue) error {
	if len(values) == 0 {
		return nil
	}
	var tid any
	var meterStart int64
	if txID != nil {
		// Only our own transaction on this charger links the samples.
		if err := s.DB.QueryRow(ctx, `select id, meter_start_wh from ocpp_transactions where id=$1 and equipment_id=$2`,
			*txID, id).Scan(&tid, &meterStart); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("meter values of %s: %w", id, err)
		}
	}
	// The writes go in one batch: one round trip (MeterValues is most of
	// what thousands of chargers send), and PostgreSQL runs a batch as one
	// implicit transaction, so they are stored all or none.
	var b pgx.Batch
	var last Sample
	for _, mv := range values {
		smp := ParseMeterValue(mv)
		if smp.At.IsZero() {
			smp.At = s.Clock.Now()
		}
		b.Queue(`insert into ocpp_meter_values (transaction_id, equipment_id, connector_no, at,
			energy_wh, power_w, current_a, voltage_v, soc) values ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
			tid, id, connector, smp.At, smp.EnergyWh, smp.PowerW, smp.CurrentA, smp.VoltageV, smp.SOC)
		last = smp
	}
	var ev *TxEvent
	if tid != nil && last.EnergyWh != nil {
		b.Queue(`update ocpp_transactions set meter_last_wh=$2 where id=$1 and status='active'`, tid, *last.EnergyWh)
		ev = &TxEvent{Kind: TxMeter, ChargePointID: id, Connector: connector, ConnectorID: ConnectorID(id, connector),
			TransactionID: *txID, MeterWh: *last.EnergyWh, PowerW: last.PowerW, SOC: last.SOC, At: last.At}
	}
	if connector > 0 {
		var charged *float64
		if tid != nil && last.EnergyWh != nil {
			kwh := float64(*last.EnergyWh-meterStart) / 1000
			charged = &kwh
		}
		b.Queue(`update connector_status set
			current_a = coalesce($2::integer, current_a), voltage_a = coalesce($3::integer, voltage_a),
			soc = coalesce($4::integer, soc), charge_electricity = coalesce($5::numeric, charge_electricity)
			where connector_id=$1`, ConnectorID(id, connector), roundPtr(last.CurrentA), roundPtr(last.VoltageV),
			last.SOC, charged)
	}
	if err := s.DB.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("meter values of %s/%d: %w", id, connector, err)
	}
	if ev != nil {
		// Hooks (charging orders) hear only of samples of a transaction.
		s.emitTx(ctx, *ev)
	}
	return nil
}

func roundPtr(v *float64) *int {
	if v == nil {
		return nil
	}
	r := int(math.Round(*v))
	return &r
}

// StopTransaction closes the transaction with its final meter. A repeated
// stop (a lost answer) changes nothing.
func (s *Service) StopTransaction(ctx context.Context, id string, req *core.StopTransactionRequest) (*core.StopTransactionConfirmation, error) {
	stopped := s.Clock.Now()
	if req.Timestamp != nil && !req.Timestamp.IsZero() {
		stopped = req.Timestamp.Time
	}
	var connector int
	err := s.DB.QueryRow(ctx, `update ocpp_transactions set meter_stop_wh=$3, meter_last_wh=$3, stopped_at=$4,
		stop_reason=nullif($5,''), status=case when status='refused' then status else 'stopped' end
		where id=$1 and equipment_id=$2 and stopped_at is null returning connector_no`,
		req.TransactionId, id, req.MeterStop, stopped, string(req.Reason)).Scan(&connector)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		s.log().Warn("ocpp: stop of an unknown or already stopped transaction", "chargePoint", id, "transaction", req.TransactionId)
	case err != nil:
		return nil, fmt.Errorf("stop transaction %d on %s: %w", req.TransactionId, id, err)
	default:
		if len(req.TransactionData) > 0 {
			txID := req.TransactionId
			if err := s.meterValues(ctx, id, connector, &txID, req.TransactionData); err != nil {
				return nil, err
			}
		}
		s.log().Debug("ocpp: transaction stopped", "chargePoint", id, "transaction", req.TransactionId, "meterStop", req.MeterStop)
		s.emitTx(ctx, TxEvent{Kind: TxStopped, ChargePointID: id, Connector: connector, ConnectorID: ConnectorID(id, connector),
			TransactionID: req.TransactionId, IdTag: req.IdTag, MeterWh: int64(req.MeterStop), Reason: string(req.Reason), At: stopped})
	}
	conf := core.NewStopTransactionConfirmation()
	if req.IdTag != "" {
		st, err := s.authorization(ctx, req.IdTag)
		if err != nil {
			return nil, err
		}
		conf.IdTagInfo = types.NewIdTagInfo(st)
	}
	return conf, nil
}

// DataTransferVendor is the vendorId we accept vendor messages for.
const DataTransferVendor = "voltflow"

// DataTransfer accepts our own vendor's messages (kept in the message log)
// and tells any other vendor it is unknown.
func (s *Service) DataTransfer(ctx context.Context, id string, req *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	if req.VendorId != DataTransferVendor {
		return core.NewDataTransferConfirmation(core.DataTransferStatusUnknownVendorId), nil
	}
	return core.NewDataTransferConfirmation(core.DataTransferStatusAccepted), nil
}
