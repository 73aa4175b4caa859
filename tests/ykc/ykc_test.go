// Package ykc drives a YKC (云快充) charger session end to end against the
// platform: a raw-frame client written here, apart from the codec in
// devices/ykc (its own CRC, its own byte layouts from the V1.6 tables),
// the YKC server on the charger adapter, the charging/<orderId> workflow,
// PostgreSQL and the HTTP API.
package ykc

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "ykc", harness.Options{Gateways: 1, MetersPerGW: 1, OCPP: true, YKC: true}, &stack)
}

// crc is CRC-16/MODBUS, bit by bit over the reflected polynomial.
func crc(b []byte) uint16 {
	c := uint16(0xFFFF)
	for _, x := range b {
		c ^= uint16(x)
		for i := 0; i < 8; i++ {
			lsb := c & 1
			c >>= 1
			if lsb == 1 {
				c ^= 0xA001
			}
		}
	}
	return c
}

// client is a YKC charger speaking raw bytes.
type client struct {
	t   *testing.T
	nc  net.Conn
	r   *bufio.Reader
	seq uint16
}

type frame struct {
	seq  uint16
	typ  byte
	body []byte
}

func bcd(t *testing.T, digits string) []byte {
	b, err := hex.DecodeString(digits)
	if err != nil {
		t.Fatalf("bcd %q: %v", digits, err)
	}
	return b
}

func (c *client) send(typ byte, seq uint16, body []byte) {
	c.t.Helper()
	p := []byte{byte(seq), byte(seq >> 8), 0x00, typ}
	p = append(p, body...)
	out := append([]byte{0x68, byte(len(p))}, p...)
	k := crc(p)
	out = append(out, byte(k), byte(k>>8))
	if _, err := c.nc.Write(out); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) request(typ byte, body []byte) uint16 {
	c.seq++
	c.send(typ, c.seq, body)
	return c.seq
}

func (c *client) read() frame {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(60 * time.Second))
	h := make([]byte, 2)
	if _, err := io.ReadFull(c.r, h); err != nil {
		c.t.Fatal(err)
	}
	if h[0] != 0x68 {
		c.t.Fatalf("start byte %02X", h[0])
	}
	rest := make([]byte, int(h[1])+2)
	if _, err := io.ReadFull(c.r, rest); err != nil {
		c.t.Fatal(err)
	}
	p := rest[:h[1]]
	if got, want := crc(p), binary.LittleEndian.Uint16(rest[h[1]:]); got != want {
		c.t.Fatalf("CRC %04X, frame says %04X", got, want)
	}
	return frame{seq: binary.LittleEndian.Uint16(p), typ: p[3], body: p[4:]}
}

// expect reads frames until one of type typ, answering time syncs.
func (c *client) expect(typ byte) frame {
	c.t.Helper()
	for {
		f := c.read()
		if f.typ == typ {
			return f
		}
		if f.typ == 0x56 { // time sync: echo the time set (0x55)
			c.send(0x55, f.seq, f.body)
			continue
		}
		c.t.Fatalf("frame type %02X while waiting for %02X", f.typ, typ)
	}
}

func cp56(t time.Time) []byte {
	ms := t.Second()*1000 + t.Nanosecond()/1e6
	return []byte{byte(ms), byte(ms >> 8), byte(t.Minute()), byte(t.Hour()), byte(t.Day()), byte(t.Month()), byte(t.Year() - 2000)}
}

func le16(v int) []byte { return []byte{byte(v), byte(v >> 8)} }
func le32(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

const chargerNo = "32010200000001" // 14 digits: the YKC charger number is the equipment id

var cst = time.FixedZone("CST", 8*3600)

// demoPeriod is the demo strategy's period at a China time (谷 00–08, 平
// 08–11, 峰 11–14, 平 14–19, 尖 19–21, 峰 21–23, 谷 23–24) and its price,
// the amount of 10 kWh at energy + service per kWh.
func demoPeriod(at time.Time) (string, string) {
	h := at.In(cst).Hour()
	switch {
	case h < 8 || h >= 23:
		return "valley", "7.00" // 10 × (0.30 + 0.40)
	case h < 11 || (h >= 14 && h < 19):
		return "flat", "12.00" // 10 × (0.70 + 0.50)
	case h < 14 || (h >= 21 && h < 23):
		return "peak", "16.00" // 10 × (1.00 + 0.60)
	}
	return "sharp", "20.00" // 10 × (1.20 + 0.80)
}

func TestYKCSession(t *testing.T) {
	ctx := context.Background()
	admin := stack.Login(t, "admin", "admin")
	conn := chargerNo + "001"
	if code := admin.Do(t, http.MethodPost, "/api/v1/charging-stations/"+registry.DemoStationID+"/equipment", map[string]any{
		"equipmentId": chargerNo, "equipmentType": 1, "power": 120, "equipmentModel": "YKC-120",
		"manufacturerName": "YKC test", "connectorInfos": []map[string]any{{"connectorId": conn, "connectorType": 4,
			"voltageUpperLimits": 750, "voltageLowerLimits": 200, "current": 250, "power": 120}},
	}, nil); code != http.StatusCreated {
		t.Fatalf("create equipment: %d", code)
	}
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/charge-points",
		map[string]string{"chargePointId": chargerNo, "protocol": "ykc"}, nil); code != http.StatusCreated {
		t.Fatalf("register charge point: %d", code)
	}

	// An unregistered charger is refused (0x02 result 1).
	{
		nc, err := net.Dial("tcp", stack.YKC.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		stranger := &client{t: t, nc: nc, r: bufio.NewReader(nc)}
		stranger.request(0x01, cat(bcd(t, "99999999999999"), []byte{0, 1, 0x10}, []byte("T1\x00\x00\x00\x00\x00\x00"), []byte{1}, make([]byte, 10), []byte{4}))
		if f := stranger.expect(0x02); f.body[7] != 1 {
			t.Fatalf("stranger login answer %X", f.body)
		}
		_ = nc.Close()
	}

	nc, err := net.Dial("tcp", stack.YKC.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = nc.Close() }()
	c := &client{t: t, nc: nc, r: bufio.NewReader(nc)}
	no := bcd(t, chargerNo)

	// Login (0x01): DC, 1 gun, protocol 1.6, software, LAN, no SIM, other carrier.
	seq := c.request(0x01, cat(no, []byte{0, 1, 0x10}, []byte("YKC-T1\x00\x00"), []byte{1}, make([]byte, 10), []byte{4}))
	if f := c.expect(0x02); f.seq != seq || f.body[7] != 0 || hex.EncodeToString(f.body[:7]) != chargerNo {
		t.Fatalf("login answer seq %d %X", f.seq, f.body)
	}
	// Heartbeat (0x03) → 0x04.
	c.request(0x03, cat(no, []byte{0x01, 0x00}))
	c.expect(0x04)

	// Billing model check with no model (0x05 "0000") → 0x06 not current;
	// request (0x09) → 0x0A, the demo strategy.
	c.request(0x05, cat(no, []byte{0, 0}))
	if f := c.expect(0x06); f.body[9] != 1 {
		t.Fatalf("billing check answer %X", f.body)
	}
	c.request(0x09, no)
	f := c.expect(0x0A)
	if len(f.body) != 90 {
		t.Fatalf("billing model of %d bytes", len(f.body))
	}
	model := f.body[7:9]
	// Rates in 0.00001 yuan: sharp 1.20/0.80, peak 1.00/0.60, flat 0.70/0.50, valley 0.30/0.40.
	want := []int{120000, 80000, 100000, 60000, 70000, 50000, 30000, 40000}
	for i, w := range want {
		if got := int(binary.LittleEndian.Uint32(f.body[9+4*i:])); got != w {
			t.Fatalf("rate %d: %d, want %d", i, got, w)
		}
	}
	// Half hours: 谷 00–08 (16), 平 08–11 (6), 峰 11–14 (6), 平 14–19 (10), 尖 19–21 (4), 峰 21–23 (4), 谷 23–24 (2).
	var periods []byte
	for _, run := range []struct{ n, p int }{{16, 3}, {6, 2}, {6, 1}, {10, 2}, {4, 0}, {4, 1}, {2, 3}} {
		for range run.n {
			periods = append(periods, byte(run.p))
		}
	}
	if got := f.body[42:]; hex.EncodeToString(got) != hex.EncodeToString(periods) {
		t.Fatalf("periods %X\n   want %X", got, periods)
	}
	c.request(0x05, cat(no, model))
	if f := c.expect(0x06); f.body[9] != 0 {
		t.Fatalf("billing check of the current model %X", f.body)
	}

	// Idle, plugged in (0x13 status 2, plugged 1).
	realtime := func(trade []byte, status, plugged byte, v, a, soc, minutes, energy, amount, fault int) {
		c.request(0x13, cat(trade, no, []byte{0x01, status, 0x02, plugged}, le16(v), le16(a), []byte{byte(35 + 50)},
			make([]byte, 8), []byte{byte(soc), byte(30 + 50)}, le16(minutes), le16(40), le32(energy), le32(energy),
			le32(amount), le16(fault)))
	}
	realtime(make([]byte, 16), 2, 1, 0, 0, 0, 0, 0, 0, 0)

	// Remote start from the API → 0x34 to the gun; the charger accepts (0x33).
	const card = "Y0000001"
	if err := charger.IssueCard(ctx, stack.DB, charger.NewCard{ProjectID: stack.ProjectID, CardNo: card,
		Holder: "YKC test", Opening: money.MustParse("100.00")}); err != nil {
		t.Fatal(err)
	}
	var started struct{ ID, Status string }
	if code := admin.Do(t, http.MethodPost, "/api/v1/charging-orders", map[string]string{"cardNo": card, "connectorId": conn}, &started); code != http.StatusAccepted {
		t.Fatalf("app start: %d", code)
	}
	f = c.expect(0x34)
	trade := f.body[:16]
	if hex.EncodeToString(f.body[16:23]) != chargerNo || f.body[23] != 0x01 {
		t.Fatalf("remote start %X", f.body)
	}
	c.send(0x33, f.seq, cat(trade, no, []byte{0x01, 0x01, 0x00}))
	waitOrder(t, admin, card, "charging")
	start := time.Now()

	// Charging: BMS handshake, demand and status, real-time data.
	var vin [17]byte
	copy(vin[:], "LSVAU2180N2183294")
	c.request(0x15, cat(trade, no, []byte{0x01}, []byte{0x01, 0x01, 0x00}, []byte{0x03}, le16(1500), le16(3800),
		[]byte("CATL"), le32(1), []byte{38, 5, 9}, []byte{0x41, 0x01, 0x00}, []byte{1, 0}, vin[:], make([]byte, 8)))
	c.request(0x23, cat(trade, no, []byte{0x01}, le16(4100), le16(4000+1200), []byte{0x02}, le16(3950), le16(4000+1190),
		le16(1<<12|395), []byte{55}, le16(33), le16(3960), le16(4000+1195), le16(12)))
	c.request(0x25, cat(trade, no, []byte{0x01}, []byte{17, 80, 3, 72, 9}, le16(1<<12)))
	realtime(trade, 3, 1, 3960, 1195, 55, 12, 50000, 0, 0) // 5 kWh so far
	eventually.True(t, 30*time.Second, "BMS records stored", func() (bool, string) {
		recs, err := charger.BMSRecords(ctx, stack.DB, chargerNo, start.Add(-time.Minute), time.Now().Add(time.Minute))
		if err != nil {
			return false, err.Error()
		}
		return len(recs) == 3, fmt.Sprintf("%d records", len(recs))
	})
	checkRegulatorBMS(t, conn)

	// Stop from the API → 0x36; the charger stops (0x35) and sends its
	// transaction record (0x3B): 10 kWh, confirmed by 0x40.
	realtime(trade, 3, 1, 3960, 1195, 60, 20, 100000, 0, 0)
	eventually.True(t, 30*time.Second, "transaction metered at 10 kWh", func() (bool, string) {
		var wh int64
		err := stack.DB.QueryRow(ctx, `select coalesce(max(meter_last_wh),0) from ocpp_transactions where equipment_id=$1`,
			chargerNo).Scan(&wh)
		return err == nil && wh == 10000, fmt.Sprintf("%d Wh %v", wh, err)
	})
	if code := admin.Do(t, http.MethodPost, "/api/v1/charging-orders/"+started.ID+"/stop", nil, nil); code != http.StatusAccepted {
		t.Fatalf("stop: %d", code)
	}
	f = c.expect(0x36)
	if hex.EncodeToString(f.body) != chargerNo+"01" {
		t.Fatalf("remote stop %X", f.body)
	}
	c.send(0x35, f.seq, cat(no, []byte{0x01, 0x01, 0x00}))
	end := time.Now()
	period, wantAmount := demoPeriod(end)
	c.request(0x3B, cat(trade, no, []byte{0x01}, cp56(start.In(cst)), cp56(end.In(cst)), make([]byte, 64),
		make([]byte, 5), []byte{0xA0, 0x86, 0x01, 0, 0}, le32(100000), le32(100000), le32(0), vin[:], []byte{0x01},
		cp56(end.In(cst)), []byte{0x40}, make([]byte, 8)))
	f = c.expect(0x40)
	if hex.EncodeToString(f.body[:16]) != hex.EncodeToString(trade) || f.body[16] != 0 {
		t.Fatalf("confirmation %X", f.body)
	}

	// The order: 10 kWh at the demo strategy's price of the period the
	// session ran in (the test runs within one period unless it straddles a
	// boundary, when it is skipped rather than guessed).
	o := waitOrder(t, admin, card, "completed")
	if p0, _ := demoPeriod(start); p0 != period {
		t.Skipf("session straddled a TOU boundary (%s → %s)", p0, period)
	}
	if o.EnergyKwh != "10.000" || o.Amount != wantAmount || len(o.Periods) != 1 || o.Periods[0].Period != period {
		t.Fatalf("order %+v, want 10.000 kWh for %s in %s", o, wantAmount, period)
	}

	// Every frame is in the device message log.
	var n int
	if err := stack.DB.QueryRow(ctx, `select count(*) from ocpp_messages where charge_point_id=$1 and action like 'YKC %'`,
		chargerNo).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("%d YKC frames logged", n)
	}
}

type order struct {
	ID, Status, EnergyKwh, Amount string
	Periods                       []struct{ Period, Kwh string }
}

func orderOf(t *testing.T, c *harness.Client, cardNo string) (order, bool) {
	var out struct{ Items []order }
	if code := c.Do(t, http.MethodGet, "/api/v1/charging-orders?cardNo="+cardNo, nil, &out); code != http.StatusOK {
		t.Fatalf("orders: %d", code)
	}
	if len(out.Items) == 0 {
		return order{}, false
	}
	return out.Items[0], true
}

func waitOrder(t *testing.T, c *harness.Client, cardNo, status string) order {
	var o order
	eventually.True(t, 60*time.Second, "order of "+cardNo+" "+status, func() (bool, string) {
		var ok bool
		o, ok = orderOf(t, c, cardNo)
		return ok && o.Status == status, fmt.Sprintf("%+v", o)
	})
	return o
}
