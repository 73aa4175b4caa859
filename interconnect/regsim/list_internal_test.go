package regsim

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/keys"
)

// TestReceivedReportsEncodingError: GET /received answers the encoding
// error and the offending push (not an empty body) when a stored push's
// Data is not valid JSON, and the list as JSON otherwise.
func TestReceivedReportsEncodingError(t *testing.T) {
	s, err := Start(Config{Addr: "127.0.0.1:0", Secrets: keys.DevSecrets(), TokenTTL: time.Hour, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	get := func() (int, []byte) {
		resp, err := http.Get("http://" + s.Addr() + "/received")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	s.record(Received{Interface: "notification_eventInfo", Seq: "0001", Data: json.RawMessage(`{"ok":1}`)})
	if code, b := get(); code != 200 || !strings.Contains(string(b), `"ok":1`) {
		t.Fatalf("valid list: %d %s", code, b)
	}
	s.record(Received{Interface: "notification_bmsInfo", Seq: "0002", Data: json.RawMessage(`{"bad`)})
	code, b := get()
	var le ListError
	if err := json.Unmarshal(b, &le); err != nil || code != 500 || le.Error == "" || len(le.Invalid) != 1 ||
		le.Invalid[0].Index != 1 || le.Invalid[0].Interface != "notification_bmsInfo" || le.Invalid[0].Seq != "0002" {
		t.Fatalf("invalid push: %d %s (%v)", code, b, err)
	}
}
