package simulator

import "testing"

// FuzzHandleTCP: any request PDU a Modbus TCP client sends gets an answer
// for its own function — the data or an exception — and nothing panics.
func FuzzHandleTCP(f *testing.F) {
	f.Add(uint8(1), []byte{fnReadHolding, 0x00, 0x00, 0x00, 0x10})
	f.Add(uint8(1), []byte{fnWriteSingle, 0x01, 0x06, 0x00, 0x01})
	f.Add(uint8(1), []byte{fnWriteMultiple, 0x02, 0x00, 0x00, 0x01, 0x02, 0x00, 0x05})
	f.Add(uint8(9), []byte{fnReadHolding, 0xFF, 0xFF, 0x00, 0x7D})
	f.Add(uint8(1), []byte{0x2B})
	f.Fuzz(func(t *testing.T, unit uint8, pdu []byte) {
		if len(pdu) == 0 || len(pdu) > 253 {
			return // the connection reader drops these before any handling
		}
		g := NewGateway("127.0.0.1:0", mustProfile(t), []*Meter{NewMeter(MeterConfig{})})
		resp := g.handleTCP(unit, pdu)
		if len(resp) < 2 || (resp[0] != pdu[0] && resp[0] != pdu[0]|0x80) {
			t.Fatalf("request % X answered % X", pdu, resp)
		}
	})
}
