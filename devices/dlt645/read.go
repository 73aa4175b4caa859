package dlt645

import "fmt"

// ReadRequest builds the 0x11 read-data request for id.
func ReadRequest(addr Address, id DataID) Frame {
	w := id.wire()
	return Frame{Address: addr, Control: CtrlRead, Data: w[:]}
}

// ReadResponse builds the meter's normal 0x91 answer carrying value for it.
func ReadResponse(addr Address, it Item, value int64) (Frame, error) {
	v, err := EncodeValue(it, value)
	if err != nil {
		return Frame{}, err
	}
	w := it.ID.wire()
	return Frame{Address: addr, Control: CtrlRead.Response(), Data: append(w[:], v...)}, nil
}

// ParseReadResponse checks that f answers a read of it and returns the value
// in the item's smallest unit. An abnormal response yields a *MeterError.
func ParseReadResponse(f Frame, it Item) (int64, error) {
	id, val, err := splitReadResponse(f)
	if err != nil {
		return 0, err
	}
	if id != it.ID {
		return 0, fmt.Errorf("%w: got %s, want %s", ErrDataIDMismatch, id, it.ID)
	}
	return ParseValue(it, val)
}

// Reading is a decoded read response.
type Reading struct {
	Item  Item
	Value int64 // in units of 10^-Item.Decimals Item.Unit
}

// ParseReading decodes a read response using the identifier table.
func ParseReading(f Frame) (Reading, error) {
	id, val, err := splitReadResponse(f)
	if err != nil {
		return Reading{}, err
	}
	it, ok := Lookup(id)
	if !ok {
		return Reading{}, fmt.Errorf("%w: %s", ErrUnknownDataID, id)
	}
	v, err := ParseValue(it, val)
	if err != nil {
		return Reading{}, err
	}
	return Reading{Item: it, Value: v}, nil
}

func splitReadResponse(f Frame) (DataID, []byte, error) {
	if err := expectResponse(f, CtrlRead); err != nil {
		return 0, nil, err
	}
	if len(f.Data) < 4 {
		return 0, nil, fmt.Errorf("%w: read response has %d bytes, no identifier", ErrLength, len(f.Data))
	}
	return dataIDFromWire(f.Data), f.Data[4:], nil
}

// expectResponse accepts a normal response to fn and turns an abnormal one
// into a *MeterError, so every parser handles errors the same way.
func expectResponse(f Frame, fn Control) error {
	if !f.Control.IsResponse() || f.Control.Function() != fn {
		return fmt.Errorf("%w: got %s, want response to %s", ErrUnexpected, f.Control, fn)
	}
	if f.Control.IsAbnormal() {
		e := &MeterError{Control: f.Control}
		if len(f.Data) > 0 {
			e.Code = ErrorCode(f.Data[0])
		}
		return e
	}
	return nil
}

// ReadAddressRequest builds the 0x13 request; it goes to the wildcard
// address because the master does not know the meter's address yet, so only
// one meter may be on the line.
func ReadAddressRequest() Frame {
	return Frame{Address: WildcardAddress, Control: CtrlReadAddress}
}

// ReadAddressResponse builds the meter's 0x93 answer.
func ReadAddressResponse(addr Address) Frame {
	return Frame{Address: addr, Control: CtrlReadAddress.Response(), Data: append([]byte(nil), addr[:]...)}
}

// ParseReadAddressResponse returns the address carried in the data field
// (authoritative; the header repeats it).
func ParseReadAddressResponse(f Frame) (Address, error) {
	if err := expectResponse(f, CtrlReadAddress); err != nil {
		return Address{}, err
	}
	if len(f.Data) != len(Address{}) {
		return Address{}, fmt.Errorf("%w: read-address response has %d bytes, want 6", ErrLength, len(f.Data))
	}
	var a Address
	copy(a[:], f.Data)
	return a, nil
}
