package ocpp

import (
	"encoding/json"
	"time"
)

// Direction of a frame, seen from the central system.
type Direction string

// Directions.
const (
	DirectionIn  Direction = "in"  // charge point → central system
	DirectionOut Direction = "out" // central system → charge point
)

// OCPP-J message types (the first element of every frame).
const (
	MessageUnparsable = 0
	MessageCall       = 2
	MessageResult     = 3
	MessageError      = 4
)

// Frame is one OCPP-J frame as it crossed the wire (设备报文).
type Frame struct {
	ChargePointID string
	Direction     Direction
	MessageType   int
	UniqueID      string
	// Action of the CALL; on a CALLRESULT or CALLERROR, the action of the
	// CALL it answers (the frame itself does not carry it).
	Action string
	Data   []byte // exactly as sent
	At     time.Time
}

// FrameSink receives every frame, in order per connection. It is called on
// the connection's goroutine: it must hand off, not do I/O.
type FrameSink interface {
	Frame(Frame)
}

// parseFrame reads the type, unique id and (for a CALL) action. A frame we
// cannot parse is still logged, as type 0.
func parseFrame(data []byte) Frame {
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil || len(parts) < 3 {
		return Frame{MessageType: MessageUnparsable}
	}
	var f Frame
	if json.Unmarshal(parts[0], &f.MessageType) != nil || json.Unmarshal(parts[1], &f.UniqueID) != nil {
		return Frame{MessageType: MessageUnparsable}
	}
	if f.MessageType == MessageCall && len(parts) >= 4 {
		_ = json.Unmarshal(parts[2], &f.Action)
	}
	return f
}
