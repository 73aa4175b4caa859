package envelope

import (
	"bytes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Test vector from the brief (T/CEC 102.4 style example).
const (
	vecOperatorID = "123456789"
	vecSecret     = "1234567890abcdef"
	vecTimeStamp  = "20180120165755"
	vecSeq        = "0001"
	vecPlain      = "{\"OperatorID\":\"123456789\",\n\"OperatorSecret\":\"1234567890abcdef\"}"
	vecData       = "mYvffpNoFf4E/ZTC1tOw41TC5OlkEobfAYCm5N8hEusaLUaUIqOrXtdbMrSck0DSmfM7mRuOGMoCQzH0nWPGuw=="
	vecSig        = "D2D584A14F3F284445DF85D0E8C0697C"
)

func vecSecrets() Secrets {
	return Secrets{
		OperatorID:     vecOperatorID,
		OperatorSecret: vecSecret,
		DataSecret:     vecSecret,
		DataSecretIV:   vecSecret,
		SigSecret:      vecSecret,
	}
}

func mustCodec(t testing.TB, s Secrets) *Codec {
	t.Helper()
	c, err := NewCodec(s)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	return c
}

func vecRequest() Request {
	return Request{OperatorID: vecOperatorID, Data: vecData, TimeStamp: vecTimeStamp, Seq: vecSeq, Sig: vecSig}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type tokenQuery struct {
	OperatorID     string
	OperatorSecret string
}

func TestVectorEncrypt(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	if got := c.Encrypt([]byte(vecPlain)); got != vecData {
		t.Fatalf("Encrypt = %s, want %s", got, vecData)
	}
}

func TestVectorDecrypt(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	got, err := c.Decrypt(vecData)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != vecPlain {
		t.Fatalf("Decrypt = %q, want %q", got, vecPlain)
	}
}

func TestVectorSign(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	if got := c.SignRequest(vecOperatorID, vecData, vecTimeStamp, vecSeq); got != vecSig {
		t.Fatalf("SignRequest = %s, want %s", got, vecSig)
	}
}

func TestVectorSealOpen(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	r, err := c.SealRawRequest([]byte(vecPlain), Stamp{TimeStamp: vecTimeStamp, Seq: vecSeq})
	if err != nil {
		t.Fatal(err)
	}
	if r != vecRequest() {
		t.Fatalf("SealRawRequest = %+v, want %+v", r, vecRequest())
	}
	body := mustJSON(t, r)
	if want := `{"OperatorID":"123456789","Data":"` + vecData + `","TimeStamp":"20180120165755","Seq":"0001","Sig":"` + vecSig + `"}`; string(body) != want {
		t.Fatalf("wire form = %s, want %s", body, want)
	}
	var q tokenQuery
	got, err := c.OpenRequest(body, &q)
	if err != nil {
		t.Fatal(err)
	}
	if got != r || q != (tokenQuery{vecOperatorID, vecSecret}) {
		t.Fatalf("OpenRequest = %+v, %+v", got, q)
	}
}

func TestSealRequestRoundTrip(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	in := map[string]any{"StationID": "0000000000000001", "Note": "<充电站&>", "Power": 3.3}
	r, err := c.SealRequest(in, Stamp{TimeStamp: vecTimeStamp, Seq: "0042"})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.VerifyRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	// HTML characters stay literal, as Java peers would send them.
	if !strings.Contains(string(plain), "<充电站&>") {
		t.Fatalf("plaintext %s was HTML-escaped", plain)
	}
	var out map[string]any
	if _, err := c.OpenRequest(mustJSON(t, r), &out); err != nil {
		t.Fatal(err)
	}
	if out["StationID"] != "0000000000000001" || out["Power"] != 3.3 {
		t.Fatalf("round trip = %v", out)
	}
	// Lower-case hex is accepted: the standard only asks senders for upper case.
	r.Sig = strings.ToLower(r.Sig)
	if _, err := c.VerifyRequest(r); err != nil {
		t.Fatalf("lower-case Sig rejected: %v", err)
	}
}

func TestSealRequestErrors(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	if _, err := c.SealRequest(func() {}, Stamp{TimeStamp: vecTimeStamp, Seq: vecSeq}); err == nil {
		t.Fatal("unmarshalable payload sealed")
	}
	if _, err := c.SealRequest(1, Stamp{TimeStamp: "2018", Seq: vecSeq}); RetOf(err) != RetEnvelope {
		t.Fatalf("bad TimeStamp: %v", err)
	}
	if _, err := c.SealRequest(1, Stamp{TimeStamp: vecTimeStamp, Seq: "1"}); RetOf(err) != RetEnvelope {
		t.Fatalf("bad Seq: %v", err)
	}
}

// resign recomputes Sig so a test reaches the step after signature checking.
func resign(c *Codec, r Request) Request {
	r.Sig = c.SignRequest(r.OperatorID, r.Data, r.TimeStamp, r.Seq)
	return r
}

func TestOpenRequestErrors(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	good := vecRequest()
	with := func(f func(*Request)) []byte {
		r := good
		f(&r)
		return mustJSON(t, r)
	}
	without := func(field string) []byte {
		var m map[string]any
		if err := json.Unmarshal(mustJSON(t, good), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, field)
		return mustJSON(t, m)
	}
	wrongData := mustCodec(t, Secrets{OperatorID: vecOperatorID, DataSecret: "fedcba0987654321", DataSecretIV: vecSecret, SigSecret: vecSecret})
	wrongSig := mustCodec(t, Secrets{OperatorID: vecOperatorID, DataSecret: vecSecret, DataSecretIV: vecSecret, SigSecret: "fedcba0987654321"})

	tests := []struct {
		name  string
		codec *Codec
		body  []byte
		v     any
		ret   Ret
		cause error
	}{
		{"missing OperatorID", c, without("OperatorID"), nil, RetEnvelope, ErrMissingField},
		{"missing Data", c, without("Data"), nil, RetEnvelope, ErrMissingField},
		{"missing TimeStamp", c, without("TimeStamp"), nil, RetEnvelope, ErrMissingField},
		{"missing Seq", c, without("Seq"), nil, RetEnvelope, ErrMissingField},
		{"missing Sig", c, without("Sig"), nil, RetEnvelope, ErrMissingField},
		{"empty Sig", c, with(func(r *Request) { r.Sig = "" }), nil, RetEnvelope, ErrMissingField},
		{"empty body", c, []byte(``), nil, RetEnvelope, ErrMalformed},
		{"not an object", c, []byte(`[]`), nil, RetEnvelope, ErrMalformed},
		{"null", c, []byte(`null`), nil, RetEnvelope, ErrMissingField},
		{"Seq as number", c, []byte(`{"OperatorID":"123456789","Data":"x","TimeStamp":"20180120165755","Seq":1,"Sig":"x"}`), nil, RetEnvelope, ErrMalformed},
		{"Data as object", c, []byte(`{"OperatorID":"123456789","Data":{},"TimeStamp":"20180120165755","Seq":"0001","Sig":"x"}`), nil, RetEnvelope, ErrMalformed},
		{"short TimeStamp", c, with(func(r *Request) { r.TimeStamp = "2018012016575" }), nil, RetEnvelope, ErrMalformed},
		{"impossible TimeStamp", c, with(func(r *Request) { r.TimeStamp = "20181320165755" }), nil, RetEnvelope, ErrMalformed},
		{"Seq not digits", c, with(func(r *Request) { r.Seq = "00a1" }), nil, RetEnvelope, ErrMalformed},
		{"tampered Sig", c, with(func(r *Request) { r.Sig = "D2D584A14F3F284445DF85D0E8C0697D" }), nil, RetSignature, ErrSignature},
		{"short Sig", c, with(func(r *Request) { r.Sig = "D2D5" }), nil, RetSignature, ErrSignature},
		{"tampered OperatorID", c, with(func(r *Request) { r.OperatorID = "123456780" }), nil, RetSignature, ErrSignature},
		{"tampered Data", c, with(func(r *Request) { r.Data = "n" + r.Data[1:] }), nil, RetSignature, ErrSignature},
		{"tampered TimeStamp", c, with(func(r *Request) { r.TimeStamp = "20180120165756" }), nil, RetSignature, ErrSignature},
		{"tampered Seq", c, with(func(r *Request) { r.Seq = "0002" }), nil, RetSignature, ErrSignature},
		{"wrong SigSecret", wrongSig, with(func(*Request) {}), nil, RetSignature, ErrSignature},
		{"bad base64", c, with(func(r *Request) { *r = resign(c, Request{r.OperatorID, "!!!!", r.TimeStamp, r.Seq, ""}) }), nil, RetEnvelope, ErrDecrypt},
		{"truncated ciphertext", c, with(func(r *Request) { *r = resign(c, Request{r.OperatorID, "AAAA", r.TimeStamp, r.Seq, ""}) }), nil, RetEnvelope, ErrDecrypt},
		{"bad padding", c, with(func(r *Request) {
			// A block of zeros decrypts to noise whose last byte is no valid pad.
			*r = resign(c, Request{r.OperatorID, base64.StdEncoding.EncodeToString(make([]byte, 16)), r.TimeStamp, r.Seq, ""})
		}), nil, RetEnvelope, ErrDecrypt},
		{"wrong DataSecret", wrongData, with(func(*Request) {}), nil, RetEnvelope, ErrDecrypt},
		{"payload not JSON", c, with(func(r *Request) {
			*r = resign(c, Request{r.OperatorID, c.Encrypt([]byte("not json")), r.TimeStamp, r.Seq, ""})
		}), &tokenQuery{}, RetBusinessInvalid, ErrPayload},
		{"payload wrong type", c, with(func(*Request) {}), &[]int{}, RetBusinessInvalid, ErrPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.codec.OpenRequest(tt.body, tt.v)
			if err == nil {
				t.Fatal("no error")
			}
			if got := RetOf(err); got != tt.ret {
				t.Errorf("Ret = %v, want %v (%v)", got, tt.ret, err)
			}
			if !errors.Is(err, tt.cause) {
				t.Errorf("err = %v, want cause %v", err, tt.cause)
			}
		})
	}
}

func TestVerifyRequestChecksFields(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	for _, f := range []func(*Request){
		func(r *Request) { r.OperatorID = "" },
		func(r *Request) { r.Data = "" },
		func(r *Request) { r.TimeStamp = "" },
		func(r *Request) { r.Seq = "" },
		func(r *Request) { r.Sig = "" },
	} {
		r := vecRequest()
		f(&r)
		if _, err := c.VerifyRequest(r); RetOf(err) != RetEnvelope || !errors.Is(err, ErrMissingField) {
			t.Errorf("VerifyRequest(%+v) = %v", r, err)
		}
	}
}

func TestDecrypt(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 100} {
		p := []byte(strings.Repeat("x", n))
		d := c.Encrypt(p)
		got, err := c.Decrypt(d)
		if err != nil || string(got) != string(p) {
			t.Fatalf("len %d: Decrypt = %q, %v", n, got, err)
		}
	}
	// Line-wrapped base64, as printed in the standard, still decodes.
	if got, err := c.Decrypt(vecData[:40] + "\r\n" + vecData[40:]); err != nil || string(got) != vecPlain {
		t.Fatalf("wrapped Data: %q, %v", got, err)
	}
	for _, bad := range []string{"", "!!", "mYvf", vecData[:len(vecData)-2], "AAAAAAAAAAAAAAAAAAAAAA=="} {
		if _, err := c.Decrypt(bad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Decrypt(%q) = %v, want ErrDecrypt", bad, err)
		}
	}
}

func TestNewCodecRejects(t *testing.T) {
	if c := mustCodec(t, vecSecrets()); c.OperatorID() != vecOperatorID {
		t.Fatalf("OperatorID() = %q", c.OperatorID())
	}
	for name, f := range map[string]func(*Secrets){
		"no OperatorID":   func(s *Secrets) { s.OperatorID = "" },
		"short key":       func(s *Secrets) { s.DataSecret = "123" },
		"AES-256 key":     func(s *Secrets) { s.DataSecret = vecSecret + vecSecret },
		"short IV":        func(s *Secrets) { s.DataSecretIV = "123" },
		"empty SigSecret": func(s *Secrets) { s.SigSecret = "" },
	} {
		s := vecSecrets()
		f(&s)
		if _, err := NewCodec(s); !errors.Is(err, ErrInvalidSecrets) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	type result struct{ Status int }
	r, err := c.SealResponse(RetOK, DefaultMsg(RetOK), result{Status: 7})
	if err != nil {
		t.Fatal(err)
	}
	if r.Msg != "success" || r.Sig != c.SignResponse(RetOK, "success", r.Data) {
		t.Fatalf("SealResponse = %+v", r)
	}
	// An empty Msg is sent and signed as the empty string (the standard's
	// published response examples), not replaced.
	empty, err := c.SealResponse(RetOK, "", result{Status: 7})
	if err != nil {
		t.Fatal(err)
	}
	if empty.Msg != "" || empty.Sig != c.SignResponse(RetOK, "", empty.Data) {
		t.Fatalf("SealResponse with empty Msg = %+v", empty)
	}
	raw, _ := json.Marshal(empty)
	var back result
	if got, err := c.OpenResponse(raw, &back); err != nil || got.Msg != "" || back.Status != 7 {
		t.Fatalf("OpenResponse(empty Msg) = %+v, %v (%s)", got, err, raw)
	}
	var out result
	got, err := c.OpenResponse(mustJSON(t, r), &out)
	if err != nil || got != r || out.Status != 7 {
		t.Fatalf("OpenResponse = %+v, %+v, %v", got, out, err)
	}
	// No payload: Data stays empty and is still signed (as "").
	r, err = c.SealResponse(RetOK, "ok", nil)
	if err != nil || r.Data != "" {
		t.Fatalf("SealResponse(nil) = %+v, %v", r, err)
	}
	if _, err := c.OpenResponse(mustJSON(t, r), &out); err != nil {
		t.Fatal(err)
	}
}

func TestResponseInvalidUTF8Msg(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	// json.Marshal turns each invalid byte into U+FFFD; the Sig must cover
	// what is actually sent.
	const raw = "a\xe8\xff\xe4\xb8b中\xed\xa0\x80"
	var wire string
	if err := json.Unmarshal(mustJSON(t, raw), &wire); err != nil {
		t.Fatal(err)
	}
	r := c.SealRawResponse(RetOK, raw, []byte(`{}`))
	if r.Msg != wire || r.Msg != "a\ufffd\ufffd\ufffd\ufffdb中\ufffd\ufffd\ufffd" {
		t.Fatalf("Msg = %q, json sends %q", r.Msg, wire)
	}
	if _, err := c.OpenResponse(mustJSON(t, r), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := NewCodec(Secrets{OperatorID: "\xff", DataSecret: vecSecret, DataSecretIV: vecSecret, SigSecret: vecSecret}); !errors.Is(err, ErrInvalidSecrets) {
		t.Fatalf("non-UTF-8 OperatorID: %v", err)
	}
}

func TestResponseSignatureOrder(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	// Ret is signed in decimal, then Msg, then Data (§10.5.1).
	if c.SignResponse(RetSignature, "m", "d") != c.sign("4001md") || c.SignResponse(RetBusy, "", "") != c.sign("-1") {
		t.Fatal("response signature is not over Ret+Msg+Data")
	}
}

func TestOpenResponseErrors(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	good := c.SealRawResponse(RetOK, "ok", []byte(`{"Status":0}`))
	with := func(f func(*Response)) []byte {
		r := good
		f(&r)
		return mustJSON(t, r)
	}
	resignResp := func(r *Response) { r.Sig = c.SignResponse(r.Ret, r.Msg, r.Data) }
	tests := []struct {
		name  string
		body  []byte
		v     any
		ret   Ret
		cause error
	}{
		{"not JSON", []byte(`{`), nil, RetEnvelope, ErrMalformed},
		{"Ret as string", []byte(`{"Ret":"0","Msg":"","Data":"","Sig":""}`), nil, RetEnvelope, ErrMalformed},
		{"missing Ret", []byte(`{"Msg":"ok","Data":"","Sig":"x"}`), nil, RetEnvelope, ErrMissingField},
		{"missing Msg", []byte(`{"Ret":0,"Data":"","Sig":"x"}`), nil, RetEnvelope, ErrMissingField},
		{"missing Sig", with(func(r *Response) { r.Sig = "" }), nil, RetEnvelope, ErrMissingField},
		{"tampered Sig", with(func(r *Response) { r.Sig = strings.Repeat("0", 32) }), nil, RetSignature, ErrSignature},
		{"tampered Msg", with(func(r *Response) { r.Msg = "OK" }), nil, RetSignature, ErrSignature},
		{"tampered Data", with(func(r *Response) { r.Data = c.Encrypt([]byte(`{"Status":1}`)) }), nil, RetSignature, ErrSignature},
		{"bad base64", with(func(r *Response) { r.Data = "%%%"; resignResp(r) }), nil, RetEnvelope, ErrDecrypt},
		{"bad padding", with(func(r *Response) { r.Data = "AAAAAAAAAAAAAAAAAAAAAA=="; resignResp(r) }), nil, RetEnvelope, ErrDecrypt},
		{"payload wrong type", with(func(*Response) {}), &[]int{}, RetBusinessInvalid, ErrPayload},
		// Peer errors surface with the peer's code even when unsigned.
		{"peer token error", []byte(`{"Ret":4002,"Msg":"token expired","Data":"","Sig":""}`), nil, RetToken, ErrRemote},
		{"peer busy", []byte(`{"Ret":-1,"Msg":"busy"}`), nil, RetBusy, ErrRemote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.OpenResponse(tt.body, tt.v)
			if RetOf(err) != tt.ret || !errors.Is(err, tt.cause) {
				t.Fatalf("err = %v (Ret %v), want Ret %v cause %v", err, RetOf(err), tt.ret, tt.cause)
			}
		})
	}
	_, err := c.OpenResponse([]byte(`{"Ret":4002,"Msg":"token expired"}`), nil)
	if MsgOf(err) != "token expired" {
		t.Fatalf("MsgOf(peer error) = %q", MsgOf(err))
	}
}

func TestRetOfMsgOf(t *testing.T) {
	if RetOf(nil) != RetOK || MsgOf(nil) != "success" {
		t.Fatal("nil")
	}
	plain := errors.New("db password=hunter2")
	if RetOf(plain) != RetSystem || MsgOf(plain) != "system error" {
		t.Fatal("foreign errors must map to 500 without leaking text")
	}
	wrapped := errors.Join(errors.New("ctx"), &Error{Ret: RetToken, Err: errors.New("expired")})
	if RetOf(wrapped) != RetToken || MsgOf(wrapped) != "token error" {
		t.Fatalf("wrapped: %v %q", RetOf(wrapped), MsgOf(wrapped))
	}
	e := &Error{Ret: RetSignature, Msg: "bad", Err: ErrSignature}
	if e.Error() != `signature mismatch (ret 4001 signature error, msg "bad")` {
		t.Fatalf("Error() = %s", e.Error())
	}
	if (&Error{Ret: RetBusy}).Error() != "envelope: ret -1 system busy" {
		t.Fatalf("Error() = %s", (&Error{Ret: RetBusy}).Error())
	}
	if Ret(123).String() != "123 unknown" {
		t.Fatal(Ret(123).String())
	}
}

func TestSealError(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	_, err := c.OpenRequest([]byte(`{}`), nil)
	r := c.SealError(err)
	if r.Ret != RetEnvelope || r.Msg != "missing OperatorID" || r.Data != "" || r.Sig != c.SignResponse(r.Ret, r.Msg, "") {
		t.Fatalf("SealError = %+v", r)
	}
}

// encryptNoPad CBC-encrypts p (a multiple of 16 bytes) without adding
// padding, to build ciphertexts with chosen, invalid padding.
func encryptNoPad(c *Codec, p []byte) string {
	buf := append([]byte(nil), p...)
	cipher.NewCBCEncrypter(c.block, c.iv).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

func TestDecryptPadding(t *testing.T) {
	c := mustCodec(t, vecSecrets())
	block := func(tail ...byte) []byte {
		b := bytes.Repeat([]byte{'a'}, 32)
		copy(b[len(b)-len(tail):], tail)
		return b
	}
	tests := []struct {
		name string
		p    []byte
		want string // "" means error
	}{
		{"pad 0", block(0), ""},
		{"pad 17", block(17), ""},
		{"pad 255", block(255), ""},
		{"inconsistent pad", block(3, 2, 3), ""},
		{"pad 3", block(3, 3, 3), strings.Repeat("a", 29)},
		{"full block pad", append(block(), bytes.Repeat([]byte{16}, 16)...), strings.Repeat("a", 32)},
	}
	for _, tt := range tests {
		got, err := c.Decrypt(encryptNoPad(c, tt.p))
		switch {
		case tt.want == "" && !errors.Is(err, ErrDecrypt):
			t.Errorf("%s: err = %v, want ErrDecrypt", tt.name, err)
		case tt.want != "" && (err != nil || string(got) != tt.want):
			t.Errorf("%s: got %q, %v", tt.name, got, err)
		}
	}
}
