package chargersim

import (
	"math"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

func watts(id, level int, purpose types.ChargingProfilePurposeType, w float64, tx int) *types.ChargingProfile {
	p := types.NewChargingProfile(id, level, purpose, types.ChargingProfileKindAbsolute,
		types.NewChargingSchedule(types.ChargingRateUnitWatts, types.NewChargingSchedulePeriod(0, w)))
	p.TransactionId = tx
	return p
}

func TestProfilesLimit(t *testing.T) {
	now := time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)
	expired := watts(9, 5, types.ChargingProfilePurposeTxDefaultProfile, 1000, 0)
	expired.ValidTo = types.NewDateTime(now.Add(-time.Minute))
	amps := types.NewChargingProfile(4, 0, types.ChargingProfilePurposeTxDefaultProfile, types.ChargingProfileKindAbsolute,
		types.NewChargingSchedule(types.ChargingRateUnitAmperes, types.NewChargingSchedulePeriod(0, 100)))
	stepped := types.NewChargingProfile(5, 0, types.ChargingProfilePurposeTxDefaultProfile, types.ChargingProfileKindAbsolute,
		types.NewChargingSchedule(types.ChargingRateUnitWatts, types.NewChargingSchedulePeriod(0, 50000), types.NewChargingSchedulePeriod(1800, 20000)))
	stepped.ChargingSchedule.StartSchedule = types.NewDateTime(now.Add(-time.Hour))
	type set struct {
		conn int
		p    *types.ChargingProfile
	}
	cases := []struct {
		name   string
		set    []set
		conn   int
		tx     int
		want   float64
		wantOK bool
	}{
		{"none: nameplate", nil, 1, 10, 0, false},
		{"TxDefault on the connector", []set{{1, watts(1, 0, types.ChargingProfilePurposeTxDefaultProfile, 60000, 0)}}, 1, 10, 60000, true},
		{"TxDefault on connector 0 applies to all", []set{{0, watts(1, 0, types.ChargingProfilePurposeTxDefaultProfile, 40000, 0)}}, 3, 10, 40000, true},
		{"connector's own beats connector 0", []set{
			{0, watts(1, 0, types.ChargingProfilePurposeTxDefaultProfile, 40000, 0)},
			{3, watts(2, 0, types.ChargingProfilePurposeTxDefaultProfile, 70000, 0)}}, 3, 10, 70000, true},
		{"Tx beats TxDefault", []set{
			{1, watts(1, 9, types.ChargingProfilePurposeTxDefaultProfile, 60000, 0)},
			{1, watts(2, 0, types.ChargingProfilePurposeTxProfile, 30000, 10)}}, 1, 10, 30000, true},
		{"Tx of another transaction ignored", []set{{1, watts(2, 0, types.ChargingProfilePurposeTxProfile, 30000, 11)}}, 1, 10, 0, false},
		{"highest stack level wins", []set{
			{1, watts(1, 1, types.ChargingProfilePurposeTxDefaultProfile, 60000, 0)},
			{1, watts(2, 3, types.ChargingProfilePurposeTxDefaultProfile, 25000, 0)}}, 1, 10, 25000, true},
		{"same id replaces", []set{
			{1, watts(1, 1, types.ChargingProfilePurposeTxDefaultProfile, 60000, 0)},
			{1, watts(1, 0, types.ChargingProfilePurposeTxDefaultProfile, 80000, 0)}}, 1, 10, 80000, true},
		{"expired ignored", []set{{1, expired}}, 1, 10, 0, false},
		{"amperes at 750 V", []set{{1, amps}}, 1, 10, 75000, true},
		{"schedule period by elapsed time", []set{{1, stepped}}, 1, 10, 20000, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ps profiles
			for _, s := range tc.set {
				ps = ps.set(s.conn, s.p, now)
			}
			got, ok := ps.limitW(tc.conn, tc.tx, now)
			if ok != tc.wantOK || got != tc.want {
				t.Errorf("limit = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestProfilesClearAndCabinet(t *testing.T) {
	now := time.Now()
	var ps profiles
	ps = ps.set(1, watts(1, 0, types.ChargingProfilePurposeTxDefaultProfile, 60000, 0), now)
	ps = ps.set(2, watts(2, 0, types.ChargingProfilePurposeTxDefaultProfile, 50000, 0), now)
	ps = ps.set(2, watts(3, 1, types.ChargingProfilePurposeTxProfile, 10000, 0), now)
	ps = ps.set(0, watts(4, 0, types.ChargingProfilePurposeChargePointMaxProfile, 300000, 0), now)
	if w := ps.cabinetW(480000, now); w != 300000 {
		t.Errorf("cabinet %v, want 300000 from the ChargePointMaxProfile", w)
	}
	id, conn := 1, 1
	ps, hit := ps.clear(&smartcharging.ClearChargingProfileRequest{Id: &id, ConnectorId: &conn})
	if !hit || len(ps) != 3 {
		t.Fatalf("clear id 1: hit %v, %d left", hit, len(ps))
	}
	if _, ok := ps.limitW(1, 5, now); ok {
		t.Error("connector 1 still limited after clear: want nameplate")
	}
	if _, hit = ps.clear(&smartcharging.ClearChargingProfileRequest{Id: &id}); hit {
		t.Error("clearing a cleared profile matched")
	}
	ps = ps.dropTx(2)
	if w, _ := ps.limitW(2, 5, now); w != 50000 {
		t.Errorf("after the transaction, connector 2 at %v, want its TxDefault 50000", w)
	}
}

func TestShareAndTaper(t *testing.T) {
	got := Share(map[int]float64{1: 120000, 2: 120000, 3: 120000, 4: 120000, 5: 120000}, 480000)
	var sum float64
	for _, w := range got {
		sum += w
	}
	if sum > 480000 || math.Abs(got[1]-96000) > 1 {
		t.Errorf("share = %v (sum %v), want 96 kW each within 480", got, sum)
	}
	if got := Share(map[int]float64{1: 100000, 2: 50000}, 480000); got[1] != 100000 || got[2] != 50000 {
		t.Errorf("under the cabinet nothing is scaled: %v", got)
	}
	v := Vehicle{CapacityKWh: 300, MaxKW: 150}
	for _, tc := range []struct{ soc, want float64 }{{20, 150000}, {80, 150000}, {90, 75000}, {99.5, 15000}, {100, 0}} {
		if w := v.AcceptW(tc.soc); math.Abs(w-tc.want) > 1 {
			t.Errorf("AcceptW(%v) = %v, want %v", tc.soc, w, tc.want)
		}
	}
}
