package closing

// The closing activities' inputs (activities/closing; settle.go has the
// settlement's): workflows build them without importing the activities.

// RejectInput ends a closing whose refund was refused.
type RejectInput struct {
	ClosingID string `json:"closingId"`
	Failure   string `json:"failure"`
}
