// Package regcreds starts the platform in production with the regulator
// exchange on (R5): the credentials the regulator issued, installed with
// `voltflow regulator credentials set`, let `voltflow serve` start and
// answer /readyz; with only the demo credentials the start is refused
// with its readiness line.
package regcreds

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/storetest"
	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "regcreds", harness.Options{Production: true}, &stack)
}

func TestProductionStartWithInstalledCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	port, err := storetest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := []string{"VOLTFLOW_HTTP_ADDR=" + addr, "VOLTFLOW_OCPP_ADDR=off",
		// No regulator listens there: pushes wait and retry, the start does not.
		"VOLTFLOW_REGULATOR_URL=http://127.0.0.1:1/shevcs/v1"}

	// Only the demo credentials in force (the older set ends at once).
	const demo = "1234567890abcdef\n1234567890abcdef\n1234567890abcdef\n1234567890abcdef\n"
	if _, err := stack.CLI(ctx, demo, "regulator", "credentials", "set", "--operator-id", "123456789", "--overlap", "0s"); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	refused, err := stack.Serve(&log, env...)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- refused.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(log.String(), "regulator exchange uses the demo regulator credentials") {
			t.Fatalf("serve with the demo credentials: %v\n%s", err, log.String())
		}
	case <-time.After(60 * time.Second):
		_ = refused.Process.Kill()
		t.Fatal("serve with the demo credentials was not refused")
	}

	// The credentials the regulator issued, from standard input as JSON.
	issued := `{"OperatorSecret":"Op3r4t0rS3cr3t!!","DataSecret":"D4t4S3cr3tK3y!!!","DataSecretIV":"D4t4S3cr3tIV!!!!","SigSecret":"S1gS3cr3tK3y!!!!"}`
	out, err := stack.CLI(ctx, issued, "regulator", "credentials", "set", "--operator-id", "MA59J8YL8")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "S3cr3t") || !strings.Contains(string(out), "MA59J8YL8") {
		t.Fatalf("set printed %s", out)
	}
	srv, err := stack.Serve(nil, env...)
	if err != nil {
		t.Fatal(err)
	}
	defer harness.StopServe(srv)
	eventually.True(t, 90*time.Second, "readyz of the production start", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		defer func() { _ = resp.Body.Close() }()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}
