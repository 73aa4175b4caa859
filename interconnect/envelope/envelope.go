package envelope

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Request is the request body of §10.3.4.1 (table 80).
type Request struct {
	OperatorID string `json:"OperatorID"`
	Data       string `json:"Data"`
	TimeStamp  string `json:"TimeStamp"`
	Seq        string `json:"Seq"`
	Sig        string `json:"Sig"`
}

// Response is the response body of §10.3.4.2. Data is empty when there is no
// payload (typically on errors).
type Response struct {
	Ret  Ret    `json:"Ret"`
	Msg  string `json:"Msg"`
	Data string `json:"Data"`
	Sig  string `json:"Sig"`
}

// Stamp is a TimeStamp/Seq pair, as produced by SeqGenerator.Next.
type Stamp struct {
	TimeStamp string
	Seq       string
}

// marshal encodes v without HTML escaping so the plaintext matches what other
// implementations (typically Java) produce for the same value.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// SealRequest marshals v to JSON, encrypts and signs it as this codec's operator.
func (c *Codec) SealRequest(v any, st Stamp) (Request, error) {
	plain, err := marshal(v)
	if err != nil {
		return Request{}, fmt.Errorf("envelope: marshal request payload: %w", err)
	}
	return c.SealRawRequest(plain, st)
}

// SealRawRequest is SealRequest for an already-encoded JSON plaintext, which
// is sent byte for byte (json.Marshal would re-compact a json.RawMessage).
func (c *Codec) SealRawRequest(plaintext []byte, st Stamp) (Request, error) {
	if err := checkStamp(st.TimeStamp, st.Seq); err != nil {
		return Request{}, err
	}
	r := Request{
		OperatorID: c.operatorID,
		Data:       c.Encrypt(plaintext),
		TimeStamp:  st.TimeStamp,
		Seq:        st.Seq,
	}
	r.Sig = c.SignRequest(r.OperatorID, r.Data, r.TimeStamp, r.Seq)
	return r, nil
}

// DecodeRequest parses a request body and checks the envelope shape without
// any key: all five fields present and non-empty, TimeStamp as
// yyyyMMddHHmmss and Seq as four digits. Failures carry RetEnvelope (4003).
//
// A server holding keys for several operators calls DecodeRequest, selects
// the Codec by OperatorID and then calls VerifyRequest.
func DecodeRequest(body []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(body, &r); err != nil {
		return Request{}, &Error{Ret: RetEnvelope, Msg: "malformed request body", Err: fmt.Errorf("envelope: request body: %w: %w", ErrMalformed, err)}
	}
	if err := checkRequest(r); err != nil {
		return Request{}, err
	}
	return r, nil
}

// checkRequest is the key-less part of DecodeRequest, also applied by
// VerifyRequest for callers that build a Request themselves.
func checkRequest(r Request) error {
	for _, f := range [...]struct{ name, val string }{
		{"OperatorID", r.OperatorID},
		{"Data", r.Data},
		{"TimeStamp", r.TimeStamp},
		{"Seq", r.Seq},
		{"Sig", r.Sig},
	} {
		// Empty counts as missing: no valid envelope has an empty field.
		if f.val == "" {
			return &Error{Ret: RetEnvelope, Msg: "missing " + f.name, Err: fmt.Errorf("envelope: %s: %w", f.name, ErrMissingField)}
		}
	}
	return checkStamp(r.TimeStamp, r.Seq)
}

func checkStamp(ts, seq string) error {
	if _, err := ParseTimeStamp(ts); err != nil {
		return &Error{Ret: RetEnvelope, Msg: "invalid TimeStamp", Err: err}
	}
	if !isDigits(seq, 4) {
		return &Error{Ret: RetEnvelope, Msg: "invalid Seq", Err: fmt.Errorf("envelope: Seq %q is not 4 digits: %w", seq, ErrMalformed)}
	}
	return nil
}

// VerifyRequest checks the envelope shape (4003) and the signature (4001) and
// decrypts Data (4003 on failure), returning the JSON plaintext.
//
// The signature is checked before decryption so that unauthenticated input
// never reaches the padding check. VerifyRequest does not compare
// r.OperatorID with the codec's: choosing the right codec is the caller's job.
func (c *Codec) VerifyRequest(r Request) ([]byte, error) {
	if err := checkRequest(r); err != nil {
		return nil, err
	}
	if !verify(c.SignRequest(r.OperatorID, r.Data, r.TimeStamp, r.Seq), r.Sig) {
		return nil, &Error{Ret: RetSignature, Err: fmt.Errorf("envelope: request from %q: %w", r.OperatorID, ErrSignature)}
	}
	plain, err := c.Decrypt(r.Data)
	if err != nil {
		return nil, &Error{Ret: RetEnvelope, Msg: "invalid Data", Err: err}
	}
	return plain, nil
}

// OpenRequest decodes, verifies and decrypts body and unmarshals the
// plaintext into v (skipped when v is nil). Payload JSON errors carry
// RetBusinessInvalid (4004). The Request is returned for replay checks and
// logging; it is zero when the error is an envelope or signature error.
//
// Run ReplayGuard.Check only after OpenRequest succeeds, so that forged
// envelopes cannot fill the guard or block genuine Seq values.
func (c *Codec) OpenRequest(body []byte, v any) (Request, error) {
	r, err := DecodeRequest(body)
	if err != nil {
		return Request{}, err
	}
	plain, err := c.VerifyRequest(r)
	if err != nil {
		return Request{}, err
	}
	if err := unmarshalPayload(plain, v); err != nil {
		return r, err
	}
	return r, nil
}

func unmarshalPayload(plain []byte, v any) error {
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return &Error{Ret: RetBusinessInvalid, Err: fmt.Errorf("envelope: payload: %w: %w", ErrPayload, err)}
	}
	return nil
}

// SealResponse marshals v (no Data when v is nil), encrypts and signs a
// response. Msg is sent and signed as given, an empty one too (the
// standard's published examples carry "Msg": ""); callers wanting the
// standard's "success message" pass DefaultMsg(ret).
func (c *Codec) SealResponse(ret Ret, msg string, v any) (Response, error) {
	if v == nil {
		return c.SealRawResponse(ret, msg, nil), nil
	}
	plain, err := marshal(v)
	if err != nil {
		return Response{}, fmt.Errorf("envelope: marshal response payload: %w", err)
	}
	return c.SealRawResponse(ret, msg, plain), nil
}

// SealRawResponse is SealResponse for an encoded JSON plaintext; nil means
// no Data.
func (c *Codec) SealRawResponse(ret Ret, msg string, plaintext []byte) Response {
	r := Response{Ret: ret, Msg: jsonString(msg)}
	if plaintext != nil {
		r.Data = c.Encrypt(plaintext)
	}
	r.Sig = c.SignResponse(r.Ret, r.Msg, r.Data)
	return r
}

// jsonString returns s as encoding/json will transmit it: each invalid UTF-8
// byte becomes U+FFFD. Signing the raw bytes instead would produce a Sig the
// peer can never verify (found by FuzzRoundTrip).
func jsonString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// SealError builds the signed error response for err, using RetOf and MsgOf
// so that internal detail is not sent to the peer.
func (c *Codec) SealError(err error) Response {
	return c.SealRawResponse(RetOf(err), MsgOf(err), nil)
}

// responseWire detects missing Ret/Msg, which Response cannot express.
type responseWire struct {
	Ret  *Ret    `json:"Ret"`
	Msg  *string `json:"Msg"`
	Data string  `json:"Data"`
	Sig  string  `json:"Sig"`
}

// OpenResponse decodes a response body. For Ret 0 it requires Msg and Sig,
// verifies the signature (4001), decrypts Data if present (4003) and
// unmarshals it into v (4004; skipped when v is nil).
//
// For any other Ret it returns the Response and an *Error carrying the
// peer's Ret and Msg and wrapping ErrRemote, without checking the signature
// or decrypting: a peer that rejects an envelope (e.g. unknown OperatorID)
// may be unable to sign, and hiding its real code behind 4001 would not help
// anyone. Such Msg text is therefore unauthenticated.
func (c *Codec) OpenResponse(body []byte, v any) (Response, error) {
	var w responseWire
	if err := json.Unmarshal(body, &w); err != nil {
		return Response{}, &Error{Ret: RetEnvelope, Msg: "malformed response body", Err: fmt.Errorf("envelope: response body: %w: %w", ErrMalformed, err)}
	}
	if w.Ret == nil {
		return Response{}, &Error{Ret: RetEnvelope, Msg: "missing Ret", Err: fmt.Errorf("envelope: Ret: %w", ErrMissingField)}
	}
	r := Response{Ret: *w.Ret, Data: w.Data, Sig: w.Sig}
	if w.Msg != nil {
		r.Msg = *w.Msg
	}
	if r.Ret != RetOK {
		return r, &Error{Ret: r.Ret, Msg: r.Msg, Err: fmt.Errorf("envelope: response: %w", ErrRemote)}
	}
	if w.Msg == nil {
		return r, &Error{Ret: RetEnvelope, Msg: "missing Msg", Err: fmt.Errorf("envelope: Msg: %w", ErrMissingField)}
	}
	if r.Sig == "" {
		return r, &Error{Ret: RetEnvelope, Msg: "missing Sig", Err: fmt.Errorf("envelope: Sig: %w", ErrMissingField)}
	}
	if !verify(c.SignResponse(r.Ret, r.Msg, r.Data), r.Sig) {
		return r, &Error{Ret: RetSignature, Err: fmt.Errorf("envelope: response: %w", ErrSignature)}
	}
	if r.Data == "" {
		return r, nil
	}
	plain, err := c.Decrypt(r.Data)
	if err != nil {
		return r, &Error{Ret: RetEnvelope, Msg: "invalid Data", Err: err}
	}
	return r, unmarshalPayload(plain, v)
}
