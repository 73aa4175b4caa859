// Package chargercmd sends commands to connected chargers over OCPP 1.6J —
// remote start and stop, power limits as charging profiles, availability —
// and records each with the charger's answer (charger_commands). Its
// activities run only in the process holding the chargers' connections
// (task queue voltflow-chargers).
package chargercmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/devices/ocpp"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store"
	chargercmdstore "github.com/voltflow/voltflow/store/chargercmd"
)

// ErrOffline is the error type (temporal.ApplicationError) of a command to
// a charger that is not connected: retryable, callers bound the attempts.
const ErrOffline = chargercmdstore.ErrOffline

// Commander is what the OCPP central system offers (devices/ocpp.Server).
type Commander interface {
	RemoteStartTransaction(ctx context.Context, id string, connectorID int, idTag string, profile *types.ChargingProfile) (types.RemoteStartStopStatus, error)
	RemoteStopTransaction(ctx context.Context, id string, transactionID int) (types.RemoteStartStopStatus, error)
	SetChargingProfile(ctx context.Context, id string, connectorID int, p *types.ChargingProfile) (smartcharging.ChargingProfileStatus, error)
	ClearChargingProfile(ctx context.Context, id string, sel ocpp.ClearProfile) (smartcharging.ClearChargingProfileStatus, error)
	ChangeAvailability(ctx context.Context, id string, connectorID int, t core.AvailabilityType) (core.AvailabilityStatus, error)
}

// Activities send commands. Register them on the chargers' task queue.
type Activities struct {
	DB    *store.DB
	CS    Commander
	Clock clock.Clock
}

// The commands and the answer live in store/chargercmd, so workflows build
// them without importing this package.
type (
	Result       = chargercmdstore.Result
	Start        = chargercmdstore.Start
	Stop         = chargercmdstore.Stop
	Limit        = chargercmdstore.Limit
	Release      = chargercmdstore.Release
	Availability = chargercmdstore.Availability
)

// PowerProfile is a charging profile limiting a connector to limitW (one
// period from the start of the profile, in W).
func PowerProfile(profileID, stackLevel int, purpose types.ChargingProfilePurposeType, limitW float64, txID int, validTo *time.Time) *types.ChargingProfile {
	p := types.NewChargingProfile(profileID, stackLevel, purpose, types.ChargingProfileKindAbsolute,
		types.NewChargingSchedule(types.ChargingRateUnitWatts, types.NewChargingSchedulePeriod(0, limitW)))
	if txID > 0 {
		p.TransactionId = txID
	}
	if validTo != nil {
		p.ValidTo = types.NewDateTime(*validTo)
	}
	return p
}

// Start sends RemoteStartTransaction.
func (a *Activities) Start(ctx context.Context, in Start) (Result, error) {
	var profile *types.ChargingProfile
	if in.LimitW > 0 {
		profile = PowerProfile(1, 0, types.ChargingProfilePurposeTxProfile, in.LimitW, 0, nil)
	}
	return a.send(ctx, in.ChargePointID, in.Connector, "RemoteStartTransaction", in, in.Origin, func(ctx context.Context) (string, error) {
		st, err := a.CS.RemoteStartTransaction(ctx, in.ChargePointID, in.Connector, in.IdTag, profile)
		return string(st), err
	})
}

// Stop sends RemoteStopTransaction.
func (a *Activities) Stop(ctx context.Context, in Stop) (Result, error) {
	return a.send(ctx, in.ChargePointID, in.Connector, "RemoteStopTransaction", in, in.Origin, func(ctx context.Context) (string, error) {
		st, err := a.CS.RemoteStopTransaction(ctx, in.ChargePointID, in.TransactionID)
		return string(st), err
	})
}

// SetLimit sends SetChargingProfile.
func (a *Activities) SetLimit(ctx context.Context, in Limit) (Result, error) {
	if in.LimitW < 0 {
		return Result{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("limit %.0f W is negative", in.LimitW), "BadLimit", nil)
	}
	purpose := types.ChargingProfilePurposeTxDefaultProfile
	if in.TransactionID > 0 {
		purpose = types.ChargingProfilePurposeTxProfile
	}
	p := PowerProfile(in.ProfileID, in.StackLevel, purpose, in.LimitW, in.TransactionID, in.ValidTo)
	return a.send(ctx, in.ChargePointID, in.Connector, "SetChargingProfile", in, in.Origin, func(ctx context.Context) (string, error) {
		st, err := a.CS.SetChargingProfile(ctx, in.ChargePointID, in.Connector, p)
		return string(st), err
	})
}

// ClearLimit sends ClearChargingProfile for one profile id on a connector.
func (a *Activities) ClearLimit(ctx context.Context, in Release) (Result, error) {
	id, conn := in.ProfileID, in.Connector
	return a.send(ctx, in.ChargePointID, in.Connector, "ClearChargingProfile", in, in.Origin, func(ctx context.Context) (string, error) {
		st, err := a.CS.ClearChargingProfile(ctx, in.ChargePointID, ocpp.ClearProfile{ProfileID: &id, ConnectorID: &conn})
		return string(st), err
	})
}

// SetAvailability sends ChangeAvailability.
func (a *Activities) SetAvailability(ctx context.Context, in Availability) (Result, error) {
	t := core.AvailabilityTypeInoperative
	if in.Operative {
		t = core.AvailabilityTypeOperative
	}
	return a.send(ctx, in.ChargePointID, in.Connector, "ChangeAvailability", in, in.Origin, func(ctx context.Context) (string, error) {
		st, err := a.CS.ChangeAvailability(ctx, in.ChargePointID, in.Connector, t)
		return string(st), err
	})
}

// send records the command, sends it and records the answer. A charger that
// is not connected is an ErrOffline error (retryable); an answer, even
// Rejected, is a result.
func (a *Activities) send(ctx context.Context, cp string, connector int, action string, req any, origin string,
	call func(context.Context) (string, error)) (Result, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Result{}, err
	}
	if origin == "" && activity.IsActivity(ctx) {
		origin = activity.GetInfo(ctx).WorkflowExecution.ID
	}
	var res Result
	if err := a.DB.QueryRow(ctx, `insert into charger_commands (equipment_id, connector_no, action, request, origin)
		values ($1,$2,$3,$4,$5) returning id`, cp, connector, action, body, origin).Scan(&res.CommandID); err != nil {
		return res, fmt.Errorf("record %s to %s: %w", action, cp, err)
	}
	status, callErr := call(ctx)
	var errText *string
	if callErr != nil {
		e := callErr.Error()
		errText = &e
	}
	if _, err := a.DB.Exec(context.WithoutCancel(ctx), `update charger_commands set status=nullif($2,''), error=$3,
		answered_at=$4 where id=$1`, res.CommandID, status, errText, a.Clock.Now()); err != nil {
		return res, fmt.Errorf("record answer of %s to %s: %w", action, cp, err)
	}
	if errors.Is(callErr, ocpp.ErrNotConnected) {
		return res, temporal.NewApplicationErrorWithCause(fmt.Sprintf("charger %s is not connected", cp), ErrOffline, callErr)
	}
	if callErr != nil {
		return res, fmt.Errorf("%s to %s: %w", action, cp, callErr)
	}
	res.Status = status
	return res, nil
}
