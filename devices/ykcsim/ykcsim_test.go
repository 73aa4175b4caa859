package ykcsim

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/voltflow/voltflow/devices/ocpp"
	"github.com/voltflow/voltflow/devices/ykc"
	"github.com/voltflow/voltflow/internal/eventually"
)

// recorder is an ocpp.Handler that keeps what the YKC server tells the
// charger adapter (the adapter's own tests run on PostgreSQL).
type recorder struct {
	mu     sync.Mutex
	calls  []string
	stopWh int
	bms    map[byte]int
	frames int
}

func (r *recorder) add(s string)   { r.mu.Lock(); r.calls = append(r.calls, s); r.mu.Unlock() }
func (r *recorder) String() string { r.mu.Lock(); defer r.mu.Unlock(); return fmt.Sprint(r.calls) }
func (r *recorder) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		if c == s {
			return true
		}
	}
	return false
}
func (r *recorder) Authenticate(context.Context, string, string) bool { return true }
func (r *recorder) Connected(_ context.Context, id string)            { r.add("connected " + id) }
func (r *recorder) Disconnected(_ context.Context, id string)         { r.add("disconnected " + id) }
func (r *recorder) BootNotification(_ context.Context, id string, req *core.BootNotificationRequest) (*core.BootNotificationConfirmation, error) {
	r.add("boot " + req.ChargePointVendor)
	return core.NewBootNotificationConfirmation(types.NewDateTime(time.Now()), 0, core.RegistrationStatusAccepted), nil
}
func (r *recorder) Heartbeat(context.Context, string, *core.HeartbeatRequest) (*core.HeartbeatConfirmation, error) {
	r.add("heartbeat")
	return core.NewHeartbeatConfirmation(types.NewDateTime(time.Now())), nil
}
func (r *recorder) StatusNotification(_ context.Context, _ string, req *core.StatusNotificationRequest) (*core.StatusNotificationConfirmation, error) {
	r.add("status " + string(req.Status))
	return core.NewStatusNotificationConfirmation(), nil
}
func (r *recorder) Authorize(context.Context, string, *core.AuthorizeRequest) (*core.AuthorizeConfirmation, error) {
	return core.NewAuthorizationConfirmation(types.NewIdTagInfo(types.AuthorizationStatusAccepted)), nil
}
func (r *recorder) StartTransaction(_ context.Context, _ string, req *core.StartTransactionRequest) (*core.StartTransactionConfirmation, error) {
	r.add("start " + req.IdTag)
	return core.NewStartTransactionConfirmation(types.NewIdTagInfo(types.AuthorizationStatusAccepted), 7), nil
}
func (r *recorder) MeterValues(context.Context, string, *core.MeterValuesRequest) (*core.MeterValuesConfirmation, error) {
	r.add("meter")
	return core.NewMeterValuesConfirmation(), nil
}
func (r *recorder) StopTransaction(_ context.Context, _ string, req *core.StopTransactionRequest) (*core.StopTransactionConfirmation, error) {
	r.mu.Lock()
	r.stopWh = req.MeterStop
	r.mu.Unlock()
	r.add(fmt.Sprintf("stop %d", req.TransactionId))
	return core.NewStopTransactionConfirmation(), nil
}
func (r *recorder) DataTransfer(context.Context, string, *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	return core.NewDataTransferConfirmation(core.DataTransferStatusAccepted), nil
}
func (r *recorder) Frame(ocpp.Frame) { r.mu.Lock(); r.frames++; r.mu.Unlock() }

// TestSimulatorAgainstServer runs a simulated charger against the YKC server:
// login, billing model, remote start with BMS frames, meter values, a
// fault, remote stop with its transaction record, reboot and reconnection.
func TestSimulatorAgainstServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{bms: map[byte]int{}}
	srv, err := ykc.Listen(ctx, ykc.Options{Addr: "127.0.0.1:0", Handler: rec, Frames: rec,
		Registered: func(_ context.Context, id string) bool { return id == "32010200000001" },
		BMS: func(_ string, _ time.Time, b ykc.Body) {
			rec.mu.Lock()
			rec.bms[b.FrameType()]++
			rec.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	cfg := Config{Addr: srv.Addr().String(), HeartbeatInterval: 50 * time.Millisecond, RealTimeInterval: 50 * time.Millisecond,
		BMSInterval: 50 * time.Millisecond, PowerKW: 3600}
	go func() { _ = Run(ctx, cfg, []string{"32010200000001", "32010200000099"}) }()
	eventually.True(t, 10*time.Second, "charger logged in", func() (bool, string) {
		return srv.Connected("32010200000001") && rec.has("heartbeat"), rec.String()
	})
	if srv.Connected("32010200000099") {
		t.Fatal("an unregistered charger logged in")
	}
	st, err := srv.RemoteStartTransaction(ctx, "32010200000001", 1, "CARD1", nil)
	if err != nil || st != types.RemoteStartStopStatusAccepted {
		t.Fatalf("remote start: %v %v", st, err)
	}
	eventually.True(t, 10*time.Second, "BMS frames and meter values", func() (bool, string) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.bms[ykc.TypeHandshake] == 1 && rec.bms[ykc.TypeBMSDemand] > 0 && rec.bms[ykc.TypeBMSStatus] > 0,
			fmt.Sprint(rec.bms)
	})
	eventually.True(t, 10*time.Second, "meter values", func() (bool, string) { return rec.has("meter"), "" })
	st, err = srv.RemoteStopTransaction(ctx, "32010200000001", 7)
	if err != nil || st != types.RemoteStartStopStatusAccepted {
		t.Fatalf("remote stop: %v %v", st, err)
	}
	eventually.True(t, 10*time.Second, "transaction record closes the transaction", func() (bool, string) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.stopWh > 0, fmt.Sprint(len(rec.calls), " calls")
	})
	if _, err := srv.SyncTime(ctx, "32010200000001", time.Now()); err != nil {
		t.Fatal(err)
	}
	ok, err := srv.Reboot(ctx, "32010200000001", 1)
	if err != nil || !ok {
		t.Fatalf("reboot: %v %v", ok, err)
	}
	eventually.True(t, 10*time.Second, "offline after the reboot, then back", func() (bool, string) {
		return rec.has("disconnected 32010200000001") && srv.Connected("32010200000001"), ""
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.frames < 10 {
		t.Fatalf("%d frames logged", rec.frames)
	}
}

// TestSilentChargerGoesOffline: a charger that logs in and then says
// nothing is dropped after heartbeat interval + grace and goes offline.
func TestSilentChargerGoesOffline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{bms: map[byte]int{}}
	srv, err := ykc.Listen(ctx, ykc.Options{Addr: "127.0.0.1:0", Handler: rec,
		Registered:        func(context.Context, string) bool { return true },
		HeartbeatInterval: 100 * time.Millisecond, Grace: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = nc.Close() }()
	f, err := ykc.NewFrame(0, &ykc.Login{Charger: "32010200000007", Guns: 1, ProtocolVersion: 0x10})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := f.Marshal()
	if _, err := nc.Write(out); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 5*time.Second, "logged in, then offline when silent", func() (bool, string) {
		return rec.has("connected 32010200000007") && rec.has("disconnected 32010200000007") && !srv.Connected("32010200000007"), rec.String()
	})
}
