package ykc

import "fmt"

// Frame types (帧类型码) this package encodes and decodes. "Up" frames go
// charger → platform, "down" frames platform → charger.
const (
	TypeLogin              = 0x01 // up
	TypeLoginReply         = 0x02 // down
	TypeHeartbeat          = 0x03 // up
	TypeHeartbeatReply     = 0x04 // down
	TypeBillingCheck       = 0x05 // up: is my billing model current?
	TypeBillingCheckReply  = 0x06 // down
	TypeBillingRequest     = 0x09 // up: send me the billing model
	TypeBillingReply       = 0x0A // down
	TypeRealTimeRead       = 0x12 // down: send real-time data now
	TypeRealTime           = 0x13 // up
	TypeHandshake          = 0x15 // up: BMS handshake (GB/T 27930 BHM/BRM)
	TypeBMSDemand          = 0x23 // up: BMS demand and charger output (BCL/BCS)
	TypeBMSStatus          = 0x25 // up: BMS status (BSM)
	TypeRemoteStartReply   = 0x33 // up
	TypeRemoteStart        = 0x34 // down
	TypeRemoteStopReply    = 0x35 // up
	TypeRemoteStop         = 0x36 // down
	TypeTransaction        = 0x3B // up
	TypeTransactionConfirm = 0x40 // down
	TypeTimeSyncReply      = 0x55 // up
	TypeTimeSync           = 0x56 // down
	TypeBillingSetReply    = 0x57 // up
	TypeBillingSet         = 0x58 // down
	TypeRebootReply        = 0x91 // up
	TypeReboot             = 0x92 // down
)

// Body is a typed frame body.
type Body interface {
	FrameType() byte
	encode(*enc)
	decode(*dec)
}

// Encode returns the wire bytes of b.
func Encode(b Body) ([]byte, error) {
	e := &enc{b: make([]byte, 0, 64)}
	b.encode(e)
	if e.err != nil {
		return nil, e.err
	}
	if len(e.b) > MaxBody {
		return nil, ErrTooLong
	}
	return e.b, nil
}

// NewBody returns an empty body of frame type t, or nil for a type this
// package does not know.
func NewBody(t byte) Body {
	switch t {
	case TypeLogin:
		return &Login{}
	case TypeLoginReply:
		return &LoginReply{}
	case TypeHeartbeat:
		return &Heartbeat{}
	case TypeHeartbeatReply:
		return &HeartbeatReply{}
	case TypeBillingCheck:
		return &BillingCheck{}
	case TypeBillingCheckReply:
		return &BillingCheckReply{}
	case TypeBillingRequest:
		return &BillingRequest{}
	case TypeBillingReply:
		return &BillingReply{}
	case TypeRealTimeRead:
		return &RealTimeRead{}
	case TypeRealTime:
		return &RealTime{}
	case TypeHandshake:
		return &Handshake{}
	case TypeBMSDemand:
		return &BMSDemand{}
	case TypeBMSStatus:
		return &BMSStatus{}
	case TypeRemoteStartReply:
		return &RemoteStartReply{}
	case TypeRemoteStart:
		return &RemoteStart{}
	case TypeRemoteStopReply:
		return &RemoteStopReply{}
	case TypeRemoteStop:
		return &RemoteStop{}
	case TypeTransaction:
		return &Transaction{}
	case TypeTransactionConfirm:
		return &TransactionConfirm{}
	case TypeTimeSyncReply:
		return &TimeSyncReply{}
	case TypeTimeSync:
		return &TimeSync{}
	case TypeBillingSetReply:
		return &BillingSetReply{}
	case TypeBillingSet:
		return &BillingSet{}
	case TypeRebootReply:
		return &RebootReply{}
	case TypeReboot:
		return &Reboot{}
	}
	return nil
}

// ErrUnknownType is returned by Decode for a frame type without a body type.
var ErrUnknownType = fmt.Errorf("%w: unknown frame type", ErrBody)

// Decode decodes the body of a frame of type t. The whole body must be
// consumed: a length that does not match the frame type's layout is an error.
func Decode(t byte, body []byte) (Body, error) {
	b := NewBody(t)
	if b == nil {
		return nil, fmt.Errorf("%w 0x%02X", ErrUnknownType, t)
	}
	d := &dec{b: body}
	b.decode(d)
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("frame type 0x%02X: %w", t, err)
	}
	return b, nil
}

// Login (0x01, 充电桩登录认证).
type Login struct {
	Charger         string // 桩编码, BCD 7 bytes (14 digits)
	Kind            uint8  // 0 DC, 1 AC
	Guns            uint8
	ProtocolVersion uint8  // ×10: 0x0F is v1.5
	Software        []byte // ASCII 8, zero padded
	Network         uint8  // 0 SIM, 1 LAN, 2 WAN, 3 other
	SIM             string // BCD 10
	Carrier         uint8  // 0 CMCC, 2 CTCC, 3 CUCC, 4 other
}

func (*Login) FrameType() byte { return TypeLogin }
func (b *Login) encode(e *enc) {
	e.bcd(b.Charger, 7, "charger")
	e.u8(b.Kind)
	e.u8(b.Guns)
	e.u8(b.ProtocolVersion)
	e.bytes(b.Software, 8)
	e.u8(b.Network)
	e.bcd(b.SIM, 10, "SIM")
	e.u8(b.Carrier)
}
func (b *Login) decode(d *dec) {
	b.Charger = d.bcd(7, "charger")
	b.Kind = d.u8("kind")
	b.Guns = d.u8("guns")
	b.ProtocolVersion = d.u8("protocol version")
	b.Software = d.bytes(8, "software")
	b.Network = d.u8("network")
	b.SIM = d.bcd(10, "SIM")
	b.Carrier = d.u8("carrier")
}

// LoginReply (0x02). Result 0 accepted, 1 refused.
type LoginReply struct {
	Charger string
	Result  uint8
}

func (*LoginReply) FrameType() byte { return TypeLoginReply }
func (b *LoginReply) encode(e *enc) { e.bcd(b.Charger, 7, "charger"); e.u8(b.Result) }
func (b *LoginReply) decode(d *dec) { b.Charger = d.bcd(7, "charger"); b.Result = d.u8("result") }

// Heartbeat (0x03). GunStatus 0 normal, 1 fault.
type Heartbeat struct {
	Charger   string
	Gun       string // BCD 1
	GunStatus uint8
}

func (*Heartbeat) FrameType() byte { return TypeHeartbeat }
func (b *Heartbeat) encode(e *enc) {
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Gun, 1, "gun")
	e.u8(b.GunStatus)
}
func (b *Heartbeat) decode(d *dec) {
	b.Charger = d.bcd(7, "charger")
	b.Gun = d.bcd(1, "gun")
	b.GunStatus = d.u8("gun status")
}

// HeartbeatReply (0x04). Reply is always 0.
type HeartbeatReply struct {
	Charger string
	Gun     string
	Reply   uint8
}

func (*HeartbeatReply) FrameType() byte { return TypeHeartbeatReply }
func (b *HeartbeatReply) encode(e *enc) {
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Gun, 1, "gun")
	e.u8(b.Reply)
}
func (b *HeartbeatReply) decode(d *dec) {
	b.Charger = d.bcd(7, "charger")
	b.Gun = d.bcd(1, "gun")
	b.Reply = d.u8("reply")
}

// BillingCheck (0x05): the charger names the model it holds ("0000" on its
// first connection).
type BillingCheck struct {
	Charger string
	Model   string // BCD 2
}

func (*BillingCheck) FrameType() byte { return TypeBillingCheck }
func (b *BillingCheck) encode(e *enc) { e.bcd(b.Charger, 7, "charger"); e.bcd(b.Model, 2, "model") }
func (b *BillingCheck) decode(d *dec) { b.Charger = d.bcd(7, "charger"); b.Model = d.bcd(2, "model") }

// BillingCheckReply (0x06). Result 0 the model is current, 1 it is not (the
// charger then asks with 0x09).
type BillingCheckReply struct {
	Charger string
	Model   string
	Result  uint8
}

func (*BillingCheckReply) FrameType() byte { return TypeBillingCheckReply }
func (b *BillingCheckReply) encode(e *enc) {
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Model, 2, "model")
	e.u8(b.Result)
}
func (b *BillingCheckReply) decode(d *dec) {
	b.Charger = d.bcd(7, "charger")
	b.Model = d.bcd(2, "model")
	b.Result = d.u8("result")
}

// BillingRequest (0x09).
type BillingRequest struct{ Charger string }

func (*BillingRequest) FrameType() byte { return TypeBillingRequest }
func (b *BillingRequest) encode(e *enc) { e.bcd(b.Charger, 7, "charger") }
func (b *BillingRequest) decode(d *dec) { b.Charger = d.bcd(7, "charger") }

// Rate indexes of a billing model: 尖 sharp, 峰 peak, 平 flat, 谷 valley.
const (
	RateSharp = iota
	RatePeak
	RateFlat
	RateValley
)

// Rate is one rate of a billing model, in units of 0.00001 yuan per kWh.
type Rate struct {
	Energy  uint32 // 电费费率
	Service uint32 // 服务费费率
}

// BillingModel is the body of 0x0A and 0x58: four rates and, for each of the
// 48 half hours from 00:00, the index of its rate.
type BillingModel struct {
	Charger   string
	Model     string // BCD 2
	Rates     [4]Rate
	LossRatio uint8 // 计损比例
	Periods   [48]uint8
}

func (b *BillingModel) encode(e *enc) {
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Model, 2, "model")
	for _, r := range b.Rates {
		e.u32(r.Energy)
		e.u32(r.Service)
	}
	e.u8(b.LossRatio)
	e.b = append(e.b, b.Periods[:]...)
}
func (b *BillingModel) decode(d *dec) {
	b.Charger = d.bcd(7, "charger")
	b.Model = d.bcd(2, "model")
	for i := range b.Rates {
		b.Rates[i].Energy = d.u32("energy rate")
		b.Rates[i].Service = d.u32("service rate")
	}
	b.LossRatio = d.u8("loss ratio")
	copy(b.Periods[:], d.take(48, "periods"))
}

// BillingReply (0x0A) answers 0x09.
type BillingReply struct{ BillingModel }

func (*BillingReply) FrameType() byte { return TypeBillingReply }

// BillingSet (0x58) pushes a model unasked.
type BillingSet struct{ BillingModel }

func (*BillingSet) FrameType() byte { return TypeBillingSet }

// BillingSetReply (0x57). Result 0 failed, 1 done.
type BillingSetReply struct {
	Charger string
	Result  uint8
}

func (*BillingSetReply) FrameType() byte { return TypeBillingSetReply }
func (b *BillingSetReply) encode(e *enc) { e.bcd(b.Charger, 7, "charger"); e.u8(b.Result) }
func (b *BillingSetReply) decode(d *dec) { b.Charger = d.bcd(7, "charger"); b.Result = d.u8("result") }

// RealTimeRead (0x12).
type RealTimeRead struct {
	Charger string
	Gun     string
}

func (*RealTimeRead) FrameType() byte { return TypeRealTimeRead }
func (b *RealTimeRead) encode(e *enc) { e.bcd(b.Charger, 7, "charger"); e.bcd(b.Gun, 1, "gun") }
func (b *RealTimeRead) decode(d *dec) { b.Charger = d.bcd(7, "charger"); b.Gun = d.bcd(1, "gun") }

// Gun states of 0x13.
const (
	GunOffline  = 0
	GunFault    = 1
	GunIdle     = 2
	GunCharging = 3
)

// Hardware fault bits of 0x13 (bit 1 of the specification is bit 0 here).
const (
	FaultEmergencyStop  = 1 << iota // 急停按钮动作故障
	FaultNoRectifier                // 无可用整流模块
	FaultOutletOverTemp             // 出风口温度过高
	FaultACSurge                    // 交流防雷故障
	FaultDC20Comm                   // 交直流模块DC20通信中断
	FaultFC08Comm                   // 绝缘检测模块FC08通信中断
	FaultMeterComm                  // 电度表通信中断
	FaultCardReaderComm             // 读卡器通信中断
	FaultRC10Comm                   // RC10通信中断
	FaultFanBoard                   // 风扇调速板故障
	FaultDCFuse                     // 直流熔断器故障
	FaultHVContactor                // 高压接触器故障
	FaultDoorOpen                   // 门打开
)

// RealTime (0x13, 上传实时监测数据).
type RealTime struct {
	Trade        string // 交易流水号, BCD 16
	Charger      string
	Gun          string
	Status       uint8  // GunOffline … GunCharging
	Homed        uint8  // 枪是否归位: 0 no, 1 yes, 2 unknown
	Plugged      uint8  // 0 no, 1 yes
	Voltage      uint16 // 0.1 V
	Current      uint16 // 0.1 A
	GunTemp      uint8  // °C + 50
	GunLineCode  [8]byte
	SOC          uint8  // %
	BatteryTemp  uint8  // highest pack temperature, °C + 50
	Minutes      uint16 // charged so far
	Remaining    uint16 // minutes
	Energy       uint32 // 0.0001 kWh
	LossyEnergy  uint32 // 0.0001 kWh
	Amount       uint32 // 0.0001 yuan
	HardwareFail uint16 // Fault* bits
}

func (*RealTime) FrameType() byte { return TypeRealTime }
func (b *RealTime) encode(e *enc) {
	e.bcd(b.Trade, 16, "trade")
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Gun, 1, "gun")
	e.u8(b.Status)
	e.u8(b.Homed)
	e.u8(b.Plugged)
	e.u16(b.Voltage)
	e.u16(b.Current)
	e.u8(b.GunTemp)
	e.bytes(b.GunLineCode[:], 8)
	e.u8(b.SOC)
	e.u8(b.BatteryTemp)
	e.u16(b.Minutes)
	e.u16(b.Remaining)
	e.u32(b.Energy)
	e.u32(b.LossyEnergy)
	e.u32(b.Amount)
	e.u16(b.HardwareFail)
}
func (b *RealTime) decode(d *dec) {
	b.Trade = d.bcd(16, "trade")
	b.Charger = d.bcd(7, "charger")
	b.Gun = d.bcd(1, "gun")
	b.Status = d.u8("status")
	b.Homed = d.u8("homed")
	b.Plugged = d.u8("plugged")
	b.Voltage = d.u16("voltage")
	b.Current = d.u16("current")
	b.GunTemp = d.u8("gun temperature")
	copy(b.GunLineCode[:], d.take(8, "gun line code"))
	b.SOC = d.u8("SOC")
	b.BatteryTemp = d.u8("battery temperature")
	b.Minutes = d.u16("minutes")
	b.Remaining = d.u16("remaining")
	b.Energy = d.u32("energy")
	b.LossyEnergy = d.u32("lossy energy")
	b.Amount = d.u32("amount")
	b.HardwareFail = d.u16("hardware faults")
}

// Handshake (0x15, 充电握手): the battery's identity from the BMS.
type Handshake struct {
	Trade          string
	Charger        string
	Gun            string
	BMSVersion     uint32 // 3 bytes
	BatteryType    uint8  // 3 LFP, 6 NCM, 0xFF other …
	RatedCapacity  uint16 // 0.1 Ah
	RatedVoltage   uint16 // 0.1 V
	Manufacturer   [4]byte
	PackSerial     uint32
	MadeYear       uint8 // − 1985
	MadeMonth      uint8
	MadeDay        uint8
	ChargeCycles   uint32 // 3 bytes
	Ownership      uint8  // 0 leased, 1 owned
	Reserved       uint8
	VIN            [17]byte
	BMSSoftwareVer [8]byte
}

func (*Handshake) FrameType() byte { return TypeHandshake }
func (b *Handshake) encode(e *enc) {
	e.bcd(b.Trade, 16, "trade")
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Gun, 1, "gun")
	e.u24(b.BMSVersion)
	e.u8(b.BatteryType)
	e.u16(b.RatedCapacity)
	e.u16(b.RatedVoltage)
	e.bytes(b.Manufacturer[:], 4)
	e.u32(b.PackSerial)
	e.u8(b.MadeYear)
	e.u8(b.MadeMonth)
	e.u8(b.MadeDay)
	e.u24(b.ChargeCycles)
	e.u8(b.Ownership)
	e.u8(b.Reserved)
	e.bytes(b.VIN[:], 17)
	e.bytes(b.BMSSoftwareVer[:], 8)
}
func (b *Handshake) decode(d *dec) {
	b.Trade = d.bcd(16, "trade")
	b.Charger = d.bcd(7, "charger")
	b.Gun = d.bcd(1, "gun")
	b.BMSVersion = d.u24("BMS version")
	b.BatteryType = d.u8("battery type")
	b.RatedCapacity = d.u16("rated capacity")
	b.RatedVoltage = d.u16("rated voltage")
	copy(b.Manufacturer[:], d.take(4, "manufacturer"))
	b.PackSerial = d.u32("pack serial")
	b.MadeYear = d.u8("year")
	b.MadeMonth = d.u8("month")
	b.MadeDay = d.u8("day")
	b.ChargeCycles = d.u24("cycles")
	b.Ownership = d.u8("ownership")
	b.Reserved = d.u8("reserved")
	copy(b.VIN[:], d.take(17, "VIN"))
	copy(b.BMSSoftwareVer[:], d.take(8, "BMS software"))
}

// CurrentOffset is the −400 A offset of BMS current fields: a raw value r
// (0.1 A) means r/10 − 400 A.
const CurrentOffset = 4000

// BMSDemand (0x23, 充电过程BMS需求与充电机输出).
type BMSDemand struct {
	Trade            string
	Charger          string
	Gun              string
	DemandVoltage    uint16 // 0.1 V
	DemandCurrent    uint16 // 0.1 A, −400 A offset
	Mode             uint8  // 1 constant voltage, 2 constant current
	MeasuredVoltage  uint16 // 0.1 V
	MeasuredCurrent  uint16 // 0.1 A, −400 A offset
	MaxCell          uint16 // bits 0–11 highest cell voltage 0.01 V, 12–15 its group
	SOC              uint8
	RemainingMinutes uint16
	OutputVoltage    uint16 // 0.1 V
	OutputCurrent    uint16 // 0.1 A, −400 A offset
	ChargedMinutes   uint16
}

func (*BMSDemand) FrameType() byte { return TypeBMSDemand }
func (b *BMSDemand) encode(e *enc) {
	e.bcd(b.Trade, 16, "trade")
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Gun, 1, "gun")
	e.u16(b.DemandVoltage)
	e.u16(b.DemandCurrent)
	e.u8(b.Mode)
	e.u16(b.MeasuredVoltage)
	e.u16(b.MeasuredCurrent)
	e.u16(b.MaxCell)
	e.u8(b.SOC)
	e.u16(b.RemainingMinutes)
	e.u16(b.OutputVoltage)
	e.u16(b.OutputCurrent)
	e.u16(b.ChargedMinutes)
}
func (b *BMSDemand) decode(d *dec) {
	b.Trade = d.bcd(16, "trade")
	b.Charger = d.bcd(7, "charger")
	b.Gun = d.bcd(1, "gun")
	b.DemandVoltage = d.u16("demand voltage")
	b.DemandCurrent = d.u16("demand current")
	b.Mode = d.u8("mode")
	b.MeasuredVoltage = d.u16("measured voltage")
	b.MeasuredCurrent = d.u16("measured current")
	b.MaxCell = d.u16("max cell")
	b.SOC = d.u8("SOC")
	b.RemainingMinutes = d.u16("remaining")
	b.OutputVoltage = d.u16("output voltage")
	b.OutputCurrent = d.u16("output current")
	b.ChargedMinutes = d.u16("charged minutes")
}

// BMSStatus (0x25, 充电过程BMS信息). Flags packs the eight two-bit states
// (cell voltage, SOC, over-current, over-temperature, insulation, connector,
// charge allowed, reserved) from the low bits up.
type BMSStatus struct {
	Trade        string
	Charger      string
	Gun          string
	MaxCellNo    uint8 // − 1
	MaxTemp      uint8 // °C + 50
	MaxTempPoint uint8 // − 1
	MinTemp      uint8 // °C + 50
	MinTempPoint uint8 // − 1
	Flags        uint16
}

func (*BMSStatus) FrameType() byte { return TypeBMSStatus }
func (b *BMSStatus) encode(e *enc) {
	e.bcd(b.Trade, 16, "trade")
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Gun, 1, "gun")
	e.u8(b.MaxCellNo)
	e.u8(b.MaxTemp)
	e.u8(b.MaxTempPoint)
	e.u8(b.MinTemp)
	e.u8(b.MinTempPoint)
	e.u16(b.Flags)
}
func (b *BMSStatus) decode(d *dec) {
	b.Trade = d.bcd(16, "trade")
	b.Charger = d.bcd(7, "charger")
	b.Gun = d.bcd(1, "gun")
	b.MaxCellNo = d.u8("max cell number")
	b.MaxTemp = d.u8("max temperature")
	b.MaxTempPoint = d.u8("max temperature point")
	b.MinTemp = d.u8("min temperature")
	b.MinTempPoint = d.u8("min temperature point")
	b.Flags = d.u16("flags")
}

// Flag returns the two-bit state i (0 cell voltage … 6 charge allowed).
func (b *BMSStatus) Flag(i int) uint8 { return uint8(b.Flags>>(2*i)) & 3 }

// RemoteStart (0x34, 运营平台远程控制启机).
type RemoteStart struct {
	Trade        string
	Charger      string
	Gun          string
	LogicalCard  string // BCD 8
	PhysicalCard uint64 // BIN 8
	Balance      uint32 // 0.01 yuan
}

func (*RemoteStart) FrameType() byte { return TypeRemoteStart }
func (b *RemoteStart) encode(e *enc) {
	e.bcd(b.Trade, 16, "trade")
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Gun, 1, "gun")
	e.bcd(b.LogicalCard, 8, "logical card")
	e.u32(uint32(b.PhysicalCard))
	e.u32(uint32(b.PhysicalCard >> 32))
	e.u32(b.Balance)
}
func (b *RemoteStart) decode(d *dec) {
	b.Trade = d.bcd(16, "trade")
	b.Charger = d.bcd(7, "charger")
	b.Gun = d.bcd(1, "gun")
	b.LogicalCard = d.bcd(8, "logical card")
	b.PhysicalCard = uint64(d.u32("physical card")) | uint64(d.u32("physical card"))<<32
	b.Balance = d.u32("balance")
}

// RemoteStartReply (0x33). Result 1 started; Reason 0 none, 1 wrong charger,
// 2 already charging, 3 fault, 4 offline, 5 not plugged.
type RemoteStartReply struct {
	Trade   string
	Charger string
	Gun     string
	Result  uint8
	Reason  uint8
}

func (*RemoteStartReply) FrameType() byte { return TypeRemoteStartReply }
func (b *RemoteStartReply) encode(e *enc) {
	e.bcd(b.Trade, 16, "trade")
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Gun, 1, "gun")
	e.u8(b.Result)
	e.u8(b.Reason)
}
func (b *RemoteStartReply) decode(d *dec) {
	b.Trade = d.bcd(16, "trade")
	b.Charger = d.bcd(7, "charger")
	b.Gun = d.bcd(1, "gun")
	b.Result = d.u8("result")
	b.Reason = d.u8("reason")
}

// RemoteStop (0x36).
type RemoteStop struct {
	Charger string
	Gun     string
}

func (*RemoteStop) FrameType() byte { return TypeRemoteStop }
func (b *RemoteStop) encode(e *enc) { e.bcd(b.Charger, 7, "charger"); e.bcd(b.Gun, 1, "gun") }
func (b *RemoteStop) decode(d *dec) { b.Charger = d.bcd(7, "charger"); b.Gun = d.bcd(1, "gun") }

// RemoteStopReply (0x35). Result 1 stopped; Reason 0 none, 1 wrong charger,
// 2 not charging, 3 other.
type RemoteStopReply struct {
	Charger string
	Gun     string
	Result  uint8
	Reason  uint8
}

func (*RemoteStopReply) FrameType() byte { return TypeRemoteStopReply }
func (b *RemoteStopReply) encode(e *enc) {
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Gun, 1, "gun")
	e.u8(b.Result)
	e.u8(b.Reason)
}
func (b *RemoteStopReply) decode(d *dec) {
	b.Charger = d.bcd(7, "charger")
	b.Gun = d.bcd(1, "gun")
	b.Result = d.u8("result")
	b.Reason = d.u8("reason")
}

// PeriodEnergy is one TOU period of a transaction record.
type PeriodEnergy struct {
	Price       uint32 // 0.00001 yuan/kWh, energy + service
	Energy      uint32 // 0.0001 kWh
	LossyEnergy uint32 // 0.0001 kWh
	Amount      uint32 // 0.0001 yuan
}

// Transaction (0x3B, 交易记录): the charger's bill of one session, by rate
// (RateSharp … RateValley).
type Transaction struct {
	Trade        string
	Charger      string
	Gun          string
	Start        CP56
	End          CP56
	Periods      [4]PeriodEnergy
	MeterStart   uint64 // 0.0001 kWh, 5 bytes
	MeterEnd     uint64 // 0.0001 kWh, 5 bytes
	Energy       uint32 // 0.0001 kWh
	LossyEnergy  uint32
	Amount       uint32 // 0.0001 yuan, energy + service
	VIN          [17]byte
	StartedBy    uint8 // 1 app, 2 card, 4 offline card, 5 VIN
	At           CP56
	StopReason   uint8 // appendix 11.1
	PhysicalCard uint64
}

func (*Transaction) FrameType() byte { return TypeTransaction }
func (b *Transaction) encode(e *enc) {
	e.bcd(b.Trade, 16, "trade")
	e.bcd(b.Charger, 7, "charger")
	e.bcd(b.Gun, 1, "gun")
	e.cp56(b.Start)
	e.cp56(b.End)
	for _, p := range b.Periods {
		e.u32(p.Price)
		e.u32(p.Energy)
		e.u32(p.LossyEnergy)
		e.u32(p.Amount)
	}
	e.u40(b.MeterStart)
	e.u40(b.MeterEnd)
	e.u32(b.Energy)
	e.u32(b.LossyEnergy)
	e.u32(b.Amount)
	e.bytes(b.VIN[:], 17)
	e.u8(b.StartedBy)
	e.cp56(b.At)
	e.u8(b.StopReason)
	e.u32(uint32(b.PhysicalCard))
	e.u32(uint32(b.PhysicalCard >> 32))
}
func (b *Transaction) decode(d *dec) {
	b.Trade = d.bcd(16, "trade")
	b.Charger = d.bcd(7, "charger")
	b.Gun = d.bcd(1, "gun")
	b.Start = d.cp56("start")
	b.End = d.cp56("end")
	for i := range b.Periods {
		b.Periods[i] = PeriodEnergy{
			Price:       d.u32("price"),
			Energy:      d.u32("energy"),
			LossyEnergy: d.u32("lossy energy"),
			Amount:      d.u32("amount"),
		}
	}
	b.MeterStart = d.u40("meter start")
	b.MeterEnd = d.u40("meter end")
	b.Energy = d.u32("energy")
	b.LossyEnergy = d.u32("lossy energy")
	b.Amount = d.u32("amount")
	copy(b.VIN[:], d.take(17, "VIN"))
	b.StartedBy = d.u8("started by")
	b.At = d.cp56("at")
	b.StopReason = d.u8("stop reason")
	b.PhysicalCard = uint64(d.u32("physical card")) | uint64(d.u32("physical card"))<<32
}

// TransactionConfirm (0x40). Result 0 received, 1 invalid bill.
type TransactionConfirm struct {
	Trade  string
	Result uint8
}

func (*TransactionConfirm) FrameType() byte { return TypeTransactionConfirm }
func (b *TransactionConfirm) encode(e *enc) { e.bcd(b.Trade, 16, "trade"); e.u8(b.Result) }
func (b *TransactionConfirm) decode(d *dec) { b.Trade = d.bcd(16, "trade"); b.Result = d.u8("result") }

// TimeSync (0x56, 对时设置).
type TimeSync struct {
	Charger string
	Now     CP56
}

func (*TimeSync) FrameType() byte { return TypeTimeSync }
func (b *TimeSync) encode(e *enc) { e.bcd(b.Charger, 7, "charger"); e.cp56(b.Now) }
func (b *TimeSync) decode(d *dec) { b.Charger = d.bcd(7, "charger"); b.Now = d.cp56("now") }

// TimeSyncReply (0x55) echoes the charger's time after setting it.
type TimeSyncReply struct {
	Charger string
	Now     CP56
}

func (*TimeSyncReply) FrameType() byte { return TypeTimeSyncReply }
func (b *TimeSyncReply) encode(e *enc) { e.bcd(b.Charger, 7, "charger"); e.cp56(b.Now) }
func (b *TimeSyncReply) decode(d *dec) { b.Charger = d.bcd(7, "charger"); b.Now = d.cp56("now") }

// Reboot (0x92). When 1 now, 2 when idle.
type Reboot struct {
	Charger string
	When    uint8
}

func (*Reboot) FrameType() byte { return TypeReboot }
func (b *Reboot) encode(e *enc) { e.bcd(b.Charger, 7, "charger"); e.u8(b.When) }
func (b *Reboot) decode(d *dec) { b.Charger = d.bcd(7, "charger"); b.When = d.u8("when") }

// RebootReply (0x91). Result 0 failed, 1 done.
type RebootReply struct {
	Charger string
	Result  uint8
}

func (*RebootReply) FrameType() byte { return TypeRebootReply }
func (b *RebootReply) encode(e *enc) { e.bcd(b.Charger, 7, "charger"); e.u8(b.Result) }
func (b *RebootReply) decode(d *dec) { b.Charger = d.bcd(7, "charger"); b.Result = d.u8("result") }

// NewFrame wraps a body in a plain frame with sequence number seq.
func NewFrame(seq uint16, b Body) (Frame, error) {
	body, err := Encode(b)
	if err != nil {
		return Frame{}, err
	}
	return Frame{Seq: seq, Encrypted: Plain, Type: b.FrameType(), Body: body}, nil
}
