package harness

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/child"
	"github.com/voltflow/voltflow/internal/eventually"
)

// The merchant the payment tests configure against the simulator.
const (
	PayMchID     = "1900000009"
	PayAppID     = "wxpaytest"
	PayAPIv3Key  = "e2e-apiv3-key-0123456789abcdefgh"
	PayAlipayApp = "2021000000000009"
)

// Payments is online payment on the stack: the payment provider simulator
// (`voltflow sim pay`, its own platform key) and an API and a worker
// process configured against it with a merchant key of the test's.
type Payments struct {
	API, Sim string // base URLs
}

// StartPayments starts them once per stack; the stack's own worker, which
// knows no payment provider, is replaced by the payment worker.
func (s *Stack) StartPayments(t testing.TB) *Payments {
	t.Helper()
	s.payOnce.Do(func() { s.payments, s.payErr = s.startPayments(t) })
	if s.payErr != nil {
		t.Fatal(s.payErr)
	}
	return s.payments
}

type paymentsState struct {
	payOnce  sync.Once
	payments *Payments
	payErr   error
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// startProcess runs a voltflow subcommand until the stack stops; the
// kernel ends it should the test process die first.
func (s *Stack) startProcess(env []string, args ...string) error {
	cmd := exec.Command(s.Binary(), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	p, err := child.Start(cmd, syscall.SIGTERM)
	if err != nil {
		return err
	}
	s.OnStop(func() { _ = p.Stop(syscall.SIGTERM, 15*time.Second) })
	return nil
}

func (s *Stack) startPayments(t testing.TB) (*Payments, error) {
	dir := filepath.Join(s.tmpDir, "pay")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(dir, "merchant.pem"), "PRIVATE KEY", der); err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(dir, "merchant.pub.pem"), "PUBLIC KEY", pub); err != nil {
		return nil, err
	}
	platform := filepath.Join(dir, "platform.pub.pem")
	simAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if err := s.startProcess([]string{"VOLTFLOW_LOG_LEVEL=warn"}, "sim", "pay", "--addr", simAddr, "--mchid", PayMchID,
		"--appid", PayAppID, "--apiv3-key", PayAPIv3Key, "--merchant-public-key", filepath.Join(dir, "merchant.pub.pem"),
		"--platform-key-out", platform, "--alipay-appid", PayAlipayApp, "--alipay-key-out", filepath.Join(dir, "alipay.pub.pem")); err != nil {
		return nil, err
	}
	eventually.True(t, 30*time.Second, "payment simulator's platform key", func() (bool, string) {
		_, err := os.Stat(platform)
		return err == nil, fmt.Sprint(err)
	})
	env := append([]string{"DATABASE_URL=" + s.DBURL, "TEMPORAL_ADDRESS=" + s.TemporalAddr, "VOLTFLOW_LOG_LEVEL=warn",
		"VOLTFLOW_HTTP_ADDR=" + apiAddr, "VOLTFLOW_DISPATCH_WINDOW=" + s.opts.DispatchWindow.String(), "VOLTFLOW_UPDATE_TIMEOUT=30s",
		"VOLTFLOW_PAYMENT_QUERY_AFTER=2s",
		"VOLTFLOW_WECHATPAY_URL=http://" + simAddr, "VOLTFLOW_WECHATPAY_MCHID=" + PayMchID, "VOLTFLOW_WECHATPAY_APPID=" + PayAppID,
		"VOLTFLOW_WECHATPAY_SERIAL=MERCHANT-1", "VOLTFLOW_WECHATPAY_APIV3_KEY=" + PayAPIv3Key,
		"VOLTFLOW_WECHATPAY_PRIVATE_KEY=" + filepath.Join(dir, "merchant.pem"), "VOLTFLOW_WECHATPAY_PLATFORM_KEY=" + platform,
		"VOLTFLOW_WECHATPAY_NOTIFY_URL=http://" + apiAddr + "/api/v1/payments/wechat/notify",
		"VOLTFLOW_ALIPAY_URL=http://" + simAddr + "/gateway.do", "VOLTFLOW_ALIPAY_APPID=" + PayAlipayApp,
		"VOLTFLOW_ALIPAY_PRIVATE_KEY=" + filepath.Join(dir, "merchant.pem"), "VOLTFLOW_ALIPAY_PUBLIC_KEY=" + filepath.Join(dir, "alipay.pub.pem"),
		"VOLTFLOW_ALIPAY_NOTIFY_URL=http://" + apiAddr + "/api/v1/payments/alipay/notify",
		"VOLTFLOW_SMS_OUTBOX_INBOX=" + s.SMSInbox()}, s.env...)
	s.StopWorker()
	if err := s.startProcess(env, "worker", "--queues", "main,devices"); err != nil {
		return nil, err
	}
	if err := s.startProcess(env, "api"); err != nil {
		return nil, err
	}
	base := "http://" + apiAddr
	eventually.True(t, 60*time.Second, "payment API ready", func() (bool, string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	return &Payments{API: base, Sim: "http://" + simAddr}, nil
}
