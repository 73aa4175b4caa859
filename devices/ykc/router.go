package ykc

import (
	"context"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/voltflow/voltflow/devices/ocpp"
)

// Router is the chargers' command side across both protocols: remote start
// and stop go to the YKC server when the charger is logged in there, to the
// OCPP central system otherwise; the OCPP-only commands (charging
// profiles, availability, configuration) go to OCPP.
type Router struct {
	*ocpp.Server
	YKC *Server
}

// RemoteStartTransaction starts a session over the charger's protocol.
func (r Router) RemoteStartTransaction(ctx context.Context, id string, connectorID int, idTag string, profile *types.ChargingProfile) (types.RemoteStartStopStatus, error) {
	if r.YKC != nil && r.YKC.Connected(id) {
		return r.YKC.RemoteStartTransaction(ctx, id, connectorID, idTag, profile)
	}
	return r.Server.RemoteStartTransaction(ctx, id, connectorID, idTag, profile)
}

// RemoteStopTransaction stops a session over the charger's protocol.
func (r Router) RemoteStopTransaction(ctx context.Context, id string, transactionID int) (types.RemoteStartStopStatus, error) {
	if r.YKC != nil && r.YKC.Connected(id) {
		return r.YKC.RemoteStopTransaction(ctx, id, transactionID)
	}
	return r.Server.RemoteStopTransaction(ctx, id, transactionID)
}
