// Package workorder is the Temporal face of store/workorder: the work-order
// workflow's database steps (运维工单), through the store's functions.
package workorder

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/store"
	workorderstore "github.com/voltflow/voltflow/store/workorder"
)

// ErrTypeConflict: another open work order holds the charger and fault
// (the workflow id should have prevented it); retrying cannot help.
const ErrTypeConflict = workorderstore.ErrTypeConflict

// Activities are the work order's database steps (task queue voltflow-main).
type Activities struct {
	DB *store.DB
}

// The store's types, so workflows and their histories keep the same names
// and JSON as before the store moved out.
type (
	OpenInput     = workorderstore.OpenInput
	Opened        = workorderstore.Opened
	FaultInput    = workorderstore.FaultInput
	AckInput      = workorderstore.AckInput
	CloseInput    = workorderstore.CloseInput
	EscalateInput = workorderstore.EscalateInput
)

// OpenWorkOrder opens the work order once; a conflicting open one is a
// non-retryable refusal.
func (a *Activities) OpenWorkOrder(ctx context.Context, in OpenInput) (Opened, error) {
	out, err := workorderstore.OpenWorkOrder(ctx, a.DB, in)
	var conflict *workorderstore.ConflictError
	if errors.As(err, &conflict) {
		return out, temporal.NewNonRetryableApplicationError(conflict.Error(), ErrTypeConflict, conflict.Err)
	}
	return out, err
}

// RecordWorkOrderFault records an episode in the order's fault history.
func (a *Activities) RecordWorkOrderFault(ctx context.Context, in FaultInput) error {
	return workorderstore.RecordWorkOrderFault(ctx, a.DB, in)
}

// AcknowledgeWorkOrder marks the order taken (and assigns it to whoever took it).
func (a *Activities) AcknowledgeWorkOrder(ctx context.Context, in AckInput) error {
	return workorderstore.AcknowledgeWorkOrder(ctx, a.DB, in)
}

// CloseWorkOrder records the resolution.
func (a *Activities) CloseWorkOrder(ctx context.Context, in CloseInput) error {
	return workorderstore.CloseWorkOrder(ctx, a.DB, in)
}

// EscalateWorkOrder records the stage and returns the phones to tell.
func (a *Activities) EscalateWorkOrder(ctx context.Context, in EscalateInput) ([]string, error) {
	return workorderstore.EscalateWorkOrder(ctx, a.DB, in)
}
