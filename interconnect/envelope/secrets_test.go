package envelope

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretsNeverPrinted(t *testing.T) {
	s := Secrets{OperatorID: "123456789", OperatorSecret: "opsecret-AAAA", DataSecret: "datasecret-BBBB", DataSecretIV: "iv-CCCC-CCCC-CC", SigSecret: "sigsecret-DDDD"}
	c := mustCodec(t, Secrets{OperatorID: "123456789", DataSecret: "datasecret-BBBB1", DataSecretIV: "iv-CCCC-CCCC-CC1", SigSecret: "sigsecret-DDDD"})
	leaks := []string{"opsecret", "datasecret", "iv-CCCC", "sigsecret", "AAAA", "BBBB", "CCCC", "DDDD"}

	var outs []string
	for _, v := range []any{s, &s, c, struct{ S Secrets }{s}, struct{ c *Codec }{c}, []Secrets{s}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(h).Info("x", "secrets", s, "codec", c, "ptr", &s)
	}
	outs = append(outs, buf.String())
	j, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(j))

	for _, out := range outs {
		for _, l := range leaks {
			if strings.Contains(out, l) {
				t.Errorf("secret %q leaked in %s", l, out)
			}
		}
	}
	if !strings.Contains(buf.String(), "123456789") || !strings.Contains(s.String(), "123456789") {
		t.Error("OperatorID should stay visible")
	}
	// Loading from config must still work.
	var back Secrets
	if err := json.Unmarshal([]byte(`{"OperatorID":"1","SigSecret":"k"}`), &back); err != nil || back.SigSecret != "k" {
		t.Fatalf("Unmarshal: %+v %v", back.OperatorID, err)
	}
}
