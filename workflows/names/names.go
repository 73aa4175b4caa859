// Package names holds what every workflow and client must agree on: task
// queues and search attributes (contracts.md, section Temporal).
package names

import "go.temporal.io/sdk/temporal"

// Task queues.
const (
	MainQueue         = "voltflow-main"         // business workflows and their database activities
	DevicesQueue      = "voltflow-devices"      // device I/O activities
	InterconnectQueue = "voltflow-interconnect" // regulator exchange
	// ChargersQueue carries commands to chargers: only the process holding
	// their OCPP connections polls it.
	ChargersQueue = "voltflow-chargers"
	// InteractiveQueue and InteractiveDevicesQueue are the lane of work an
	// operator or a customer waits for — single meter commands, sales —
	// with workers and slots of their own, so it never queues behind a
	// sweep or a batch on MainQueue and DevicesQueue (issue 20 section 11).
	// A workflow started on InteractiveQueue runs its database activities
	// there too and its device activities on InteractiveDevicesQueue
	// (DeviceQueue).
	InteractiveQueue        = "voltflow-interactive"
	InteractiveDevicesQueue = "voltflow-interactive-devices"
)

// Search attributes, registered at start, so operators can filter in the Web UI.
var (
	Project = temporal.NewSearchAttributeKeyKeyword("VoltflowProject")
	Kind    = temporal.NewSearchAttributeKeyKeyword("VoltflowKind")
	Subject = temporal.NewSearchAttributeKeyKeyword("VoltflowSubject")
	Status  = temporal.NewSearchAttributeKeyKeyword("VoltflowStatus")
)

// SearchAttributeNames lists them for registration.
func SearchAttributeNames() []string {
	return []string{Project.GetName(), Kind.GetName(), Subject.GetName(), Status.GetName()}
}

// Attributes are the four values set when a workflow starts.
func Attributes(project, kind, subject, status string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(Project.ValueSet(project), Kind.ValueSet(kind),
		Subject.ValueSet(subject), Status.ValueSet(status))
}
