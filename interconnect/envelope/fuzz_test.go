package envelope

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/clock"
)

// Seed inputs shared by the fuzz targets.
var fuzzBodies = []string{
	`{"OperatorID":"123456789","Data":"` + vecData + `","TimeStamp":"20180120165755","Seq":"0001","Sig":"` + vecSig + `"}`,
	`{"OperatorID":"123456789","Data":"AAAAAAAAAAAAAAAAAAAAAA==","TimeStamp":"20180120165755","Seq":"0001","Sig":"x"}`,
	`{"OperatorID":"123456789","Data":"!!","TimeStamp":"20181320165755","Seq":"00a1","Sig":""}`,
	`{"operatorid":"1","data":"","timestamp":"","seq":"","sig":""}`,
	`{"OperatorID":1,"Data":{},"TimeStamp":null,"Seq":[],"Sig":true}`,
	`{"Ret":0,"Msg":"ok","Data":"` + vecData + `","Sig":"00"}`,
	`{"Ret":4002,"Msg":"token","Data":"","Sig":""}`,
	`{"Ret":99999999999999999999,"Msg":null}`,
	`{}`, `[]`, `null`, ``, `{"OperatorID":"\ud800"}`,
}

func addBodies(f *testing.F) {
	for _, b := range fuzzBodies {
		f.Add([]byte(b))
	}
}

// checkEnvelopeErr insists that every failure is an *Error with a
// request-side code, so a server can always answer with a proper Ret.
func checkEnvelopeErr(t *testing.T, err error, allowed ...Ret) {
	t.Helper()
	if err == nil {
		return
	}
	if _, ok := errors.AsType[*Error](err); !ok {
		t.Fatalf("error without Ret: %v", err)
	}
	for _, r := range allowed {
		if RetOf(err) == r {
			return
		}
	}
	t.Fatalf("Ret %v not in %v: %v", RetOf(err), allowed, err)
}

func FuzzDecodeRequest(f *testing.F) {
	addBodies(f)
	now := mustParse(f, vecTimeStamp)
	clk := clock.Fixed(now)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeRequest(body)
		checkEnvelopeErr(t, err, RetEnvelope)
		if err != nil {
			return
		}
		if r.OperatorID == "" || r.Data == "" || r.TimeStamp == "" || r.Seq == "" || r.Sig == "" {
			t.Fatalf("accepted empty field: %+v", r)
		}
		g := NewReplayGuard(time.Minute, 2, clk)
		first := g.Check(r)
		checkEnvelopeErr(t, first, RetEnvelope)
		if first == nil {
			if err := g.Check(r); !errors.Is(err, ErrReplay) {
				t.Fatalf("second Check = %v", err)
			}
		}
	})
}

func FuzzOpenRequest(f *testing.F) {
	addBodies(f)
	c := mustCodec(f, vecSecrets())
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := c.OpenRequest(body, &map[string]any{})
		checkEnvelopeErr(t, err, RetEnvelope, RetSignature, RetBusinessInvalid)

		// Random bytes almost never carry a valid Sig, so re-sign whatever
		// parses to reach decryption and payload decoding.
		var r Request
		if json.Unmarshal(body, &r) != nil {
			return
		}
		r = resign(c, r)
		for _, v := range []any{nil, &map[string]any{}, &tokenQuery{}, &[]int{}} {
			got, err := c.OpenRequest(mustJSON(t, r), v)
			checkEnvelopeErr(t, err, RetEnvelope, RetBusinessInvalid)
			if err == nil && got != r {
				t.Fatalf("OpenRequest = %+v, want %+v", got, r)
			}
		}
	})
}

func FuzzOpenResponse(f *testing.F) {
	addBodies(f)
	c := mustCodec(f, vecSecrets())
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := c.OpenResponse(body, &map[string]any{})
		if err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("error without Ret: %v", err)
			}
			if r.Ret != RetOK && err != nil && !errors.Is(err, ErrRemote) {
				t.Fatalf("non-zero Ret %v without ErrRemote: %v", r.Ret, err)
			}
			return
		}
		if r.Ret != RetOK {
			t.Fatalf("accepted Ret %v", r.Ret)
		}
		// Re-sign to reach decryption.
		var w Response
		if json.Unmarshal(body, &w) != nil {
			return
		}
		w.Ret = RetOK
		w.Sig = c.SignResponse(w.Ret, w.Msg, w.Data)
		_, err = c.OpenResponse(mustJSON(t, w), &map[string]any{})
		checkEnvelopeErr(t, err, RetEnvelope, RetBusinessInvalid)
	})
}

func FuzzDecrypt(f *testing.F) {
	for _, s := range []string{vecData, "", "AAAA", "AAAAAAAAAAAAAAAAAAAAAA==", "mYvf\r\nfpNo", "====", "\x00"} {
		f.Add(s)
	}
	c := mustCodec(f, vecSecrets())
	f.Fuzz(func(t *testing.T, data string) {
		p, err := c.Decrypt(data)
		if err != nil {
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("error not ErrDecrypt: %v", err)
			}
			return
		}
		if len(p) >= len(data) {
			t.Fatalf("plaintext %d bytes from %d base64 chars", len(p), len(data))
		}
		if back, err := c.Decrypt(c.Encrypt(p)); err != nil || string(back) != string(p) {
			t.Fatalf("re-encrypt round trip: %q, %v", back, err)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(vecPlain), "20180120165755", "0001")
	f.Add([]byte(""), "99991231235959", "9999")
	f.Add([]byte{0xff, 0, 16}, "2018012016575", "1")
	f.Add([]byte("\xe8"), "00001001000000", "0000") // invalid UTF-8 Msg broke the response Sig
	c := mustCodec(f, vecSecrets())
	f.Fuzz(func(t *testing.T, plain []byte, ts, seq string) {
		r, err := c.SealRawRequest(plain, Stamp{TimeStamp: ts, Seq: seq})
		if err != nil {
			checkEnvelopeErr(t, err, RetEnvelope)
			return
		}
		got, err := c.VerifyRequest(r)
		if err != nil || string(got) != string(plain) {
			t.Fatalf("VerifyRequest = %q, %v", got, err)
		}
		back, err := c.OpenRequest(mustJSON(t, r), nil)
		if err != nil || back != r {
			t.Fatalf("OpenRequest = %+v, %v", back, err)
		}
		resp := c.SealRawResponse(RetOK, string(plain), plain)
		if _, err := c.OpenResponse(mustJSON(t, resp), nil); err != nil {
			t.Fatalf("OpenResponse: %v", err)
		}
	})
}
