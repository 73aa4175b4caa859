// Package registry is the minimal charging registry the regulator exchange
// needs (DB4403/T 77-2020 tables 1–9): operator → station (充电站) →
// equipment (充电设备) → connector (充电设备接口), with each connector's live
// status and its history. The Go types marshal to exactly the standard's
// field names; the charging issue extends this registry rather than adding
// a second one.
package registry

import (
	"math"
	"strconv"
	"strings"
)

// OperatorInfo is table 1 (充电运营商信息).
type OperatorInfo struct {
	OperatorID         string `json:"OperatorID"`
	OperatorName       string `json:"OperatorName"`
	OperatorTel1       string `json:"OperatorTel1"`
	OperatorTel2       string `json:"OperatorTel2"`
	OperatorRegAddress string `json:"OperatorRegAddress,omitempty"`
	OperatorNote       string `json:"OperatorNote,omitempty"`
}

// StationInfo is tables 2 and 3 (充电站信息 and its extension), flattened as
// the standard's examples send them.
type StationInfo struct {
	StationID        string          `json:"StationID"`
	OperatorID       string          `json:"OperatorID"`
	EquipmentOwnerID string          `json:"EquipmentOwnerID"`
	StationName      string          `json:"StationName"`
	CountryCode      string          `json:"CountryCode"`
	AreaCode         string          `json:"AreaCode"`
	Address          string          `json:"Address"`
	StationTel       string          `json:"StationTel"`
	ServiceTel       string          `json:"ServiceTel"`
	StationType      int             `json:"StationType"`
	StationStatus    int             `json:"StationStatus"`
	ParkNums         int             `json:"ParkNums"`
	StationLng       Fixed6          `json:"StationLng"`
	StationLat       Fixed6          `json:"StationLat"`
	SiteGuide        string          `json:"SiteGuide,omitempty"`
	Construction     int             `json:"Construction"`
	Pictures         []string        `json:"Pictures"`
	MatchCars        string          `json:"MatchCars,omitempty"`
	ParkInfo         string          `json:"ParkInfo,omitempty"`
	BusineHours      string          `json:"BusineHours,omitempty"` // sic (table 2)
	ElectricityFee   string          `json:"ElectricityFee,omitempty"`
	ServiceFee       string          `json:"ServiceFee,omitempty"`
	ParkFee          string          `json:"ParkFee,omitempty"`
	Payment          string          `json:"Payment,omitempty"`
	SupportOrder     *int            `json:"SupportOrder,omitempty"`
	Remark           string          `json:"Remark,omitempty"`
	ParkOwner        string          `json:"ParkOwner,omitempty"`
	ParkManager      string          `json:"ParkManager,omitempty"`
	OpenAllDay       *int            `json:"OpenAllDay,omitempty"`
	ParkFree         *int            `json:"ParkFree,omitempty"`
	OpratorType      int             `json:"OpratorType"` // sic (table 3)
	EquipmentInfos   []EquipmentInfo `json:"EquipmentInfos"`
}

// EquipmentInfo is tables 4 and 5 (充电设备信息 and its extension).
type EquipmentInfo struct {
	EquipmentID         string          `json:"EquipmentID"`
	ManufacturerID      string          `json:"ManufacturerID"`
	EquipmentModel      string          `json:"EquipmentModel"`
	ProductionDate      string          `json:"ProductionDate,omitempty"` // yyyy-MM-dd
	EquipmentType       int             `json:"EquipmentType"`
	ConnectorInfos      []ConnectorInfo `json:"ConnectorInfos"`
	EquipmentLng        *Fixed6         `json:"EquipmentLng,omitempty"`
	EquipmentLat        *Fixed6         `json:"EquipmentLat,omitempty"`
	EquipmentName       string          `json:"EquipmentName"`
	Power               Fixed1          `json:"Power"`
	ManufacturerName    string          `json:"ManufacturerName,omitempty"`
	EquipmentStatus     int             `json:"EquipmentStatus"`
	EquipmentPower      Fixed1          `json:"EquipmentPower"`
	NewNationalStandard int             `json:"NewNationalStandard"`
}

// ConnectorInfo is tables 6 and 7 (充电设备接口信息 and its extension).
type ConnectorInfo struct {
	ConnectorID        string `json:"ConnectorID"`
	ConnectorName      string `json:"ConnectorName"`
	ConnectorType      int    `json:"ConnectorType"`
	VoltageUpperLimits int    `json:"VoltageUpperLimits"`
	VoltageLowerLimits int    `json:"VoltageLowerLimits"`
	Current            int    `json:"Current"`
	Power              Fixed1 `json:"Power"`
	ParkNo             string `json:"ParkNo,omitempty"`
	Voltage            int    `json:"Voltage"`
	BMSPowerType       int    `json:"BMSPowerType"`
}

// Connector status values (table 8).
const (
	StatusOffline    = 0   // 离网
	StatusIdle       = 1   // 空闲
	StatusOccupied   = 2   // 占用(未充放电)
	StatusCharging   = 3   // 占用(充放电中)
	StatusReserved   = 4   // 占用(预约锁定)
	StatusChargeDone = 5   // 占用(充电完成)
	StatusFault      = 255 // 故障
)

// ValidStatus reports whether s is a table 8 status.
func ValidStatus(s int) bool { return (s >= 0 && s <= 5) || s == StatusFault }

// ConnectorStatusInfo is tables 8 and 9 (充电设备接口状态 and its extension).
type ConnectorStatusInfo struct {
	ConnectorID          string `json:"ConnectorID"`
	Status               int    `json:"Status"`
	ParkStatus           *int   `json:"ParkStatus,omitempty"`
	LockStatus           *int   `json:"LockStatus,omitempty"`
	CurrentA             int    `json:"CurrentA"`
	CurrentB             int    `json:"CurrentB"`
	CurrentC             int    `json:"CurrentC"`
	VoltageA             int    `json:"VoltageA"`
	VoltageB             int    `json:"VoltageB"`
	VoltageC             int    `json:"VoltageC"`
	SOC                  int    `json:"SOC"`
	ConnectorTemp        *int   `json:"ConnectorTemp,omitempty"`
	EquipmentTemp        *int   `json:"EquipmentTemp,omitempty"`
	ConnectorLock        *int   `json:"ConnectorLock,omitempty"`
	ChargeElectricity    KWh    `json:"ChargeElectricity"`
	DischargeElectricity KWh    `json:"DischargeElectricity"`
}

// StationStatusInfo is table 10 (充电站状态信息).
type StationStatusInfo struct {
	StationID            string                `json:"StationID"`
	ConnectorStatusInfos []ConnectorStatusInfo `json:"ConnectorStatusInfos"`
}

// Fixed6 is a coordinate sent with six decimals (GCJ-02, table 2).
type Fixed6 float64

// MarshalJSON writes six decimals.
func (f Fixed6) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(f), 'f', 6, 64)), nil
}

// Fixed1 is a power in kW sent with one decimal (tables 4–6).
type Fixed1 float64

// MarshalJSON writes one decimal, rounding half away from zero (7.25 → 7.3,
// where formatting the binary float alone would give 7.2).
func (f Fixed1) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(math.Round(float64(f)*10)/10, 'f', 1, 64)), nil
}

// KWh is an energy in kWh sent with at least one decimal (table 9).
type KWh float64

// MarshalJSON writes the shortest form, with at least one decimal.
func (k KWh) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(k), 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return []byte(s), nil
}
