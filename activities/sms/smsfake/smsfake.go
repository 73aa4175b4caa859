// Package smsfake is a local stand-in for Aliyun SMS (Dysms SendSms) and
// Tencent Cloud SMS (SendSms, API 3.0) for tests: it checks every request's
// signature with its own code (written from the providers' documentation,
// sharing nothing with the clients under test) and answers as the provider
// does, errors included.
package smsfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Received is one message the fake accepted or refused.
type Received struct {
	Phone        string
	TemplateCode string
	Params       []string // values in order (Aliyun: sorted by name)
	Ref          string   // OutId / SessionContext
	MessageID    string   // empty when refused
	Code         string   // the answer's code
	At           time.Time
}

// Server is one fake provider on a real socket.
type Server struct {
	URL string

	mu           sync.Mutex
	received     []Received
	throttle     int
	badTemplates map[string]bool
	sigFailures  int
	seq          int
	queries      int
	hold         chan struct{} // non-nil: requests wait until Release
	holdAnswers  bool          // Hold waits after the request was handled
	waiting      int
	dropped      int
	close        func()
}

// Hold makes requests wait (after their body is read) until Release. A
// request whose client goes away while it waits — a killed worker — is
// dropped unanswered and unrecorded: the provider never accepted it.
func (s *Server) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
}

// HoldAnswers is Hold after the provider acted: a message is accepted and
// recorded, only its answer waits. A client that goes away meanwhile — a
// killed worker — never learns that the message was sent.
func (s *Server) HoldAnswers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
	s.holdAnswers = true
}

// Release lets waiting and later requests through.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	s.holdAnswers = false
}

// Waiting counts requests held now.
func (s *Server) Waiting() int { s.mu.Lock(); defer s.mu.Unlock(); return s.waiting }

// Dropped counts held requests whose client went away.
func (s *Server) Dropped() int { s.mu.Lock(); defer s.mu.Unlock(); return s.dropped }

// Close stops the server (servers made by the Start functions).
func (s *Server) Close() {
	if s.close != nil {
		s.close()
	}
}

// gate holds a request while Hold is on; false: the client left, drop it.
func (s *Server) gate(r *http.Request) bool {
	s.mu.Lock()
	hold := s.hold
	if hold != nil {
		s.waiting++
	}
	s.mu.Unlock()
	if hold == nil {
		return true
	}
	var ok bool
	select {
	case <-hold:
		ok = true
	case <-r.Context().Done():
	}
	s.mu.Lock()
	s.waiting--
	if !ok {
		s.dropped++
	}
	s.mu.Unlock()
	return ok
}

// Throttle makes the next n messages fail with the provider's rate-limit code.
func (s *Server) Throttle(n int) { s.mu.Lock(); s.throttle = n; s.mu.Unlock() }

// RejectTemplate makes messages with this template code fail as a bad template.
func (s *Server) RejectTemplate(code string) {
	s.mu.Lock()
	s.badTemplates[code] = true
	s.mu.Unlock()
}

// Received lists the messages in arrival order, refused ones included.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Accepted lists only the accepted messages.
func (s *Server) Accepted() []Received {
	var out []Received
	for _, r := range s.Received() {
		if r.MessageID != "" {
			out = append(out, r)
		}
	}
	return out
}

// SignatureFailures counts requests whose signature did not verify.
func (s *Server) SignatureFailures() int { s.mu.Lock(); defer s.mu.Unlock(); return s.sigFailures }

// decide records a message and returns the outcome the script asks for:
// "" (accept), "throttle" or "template".
func (s *Server) decide(r Received, prefix string) (Received, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	outcome := ""
	switch {
	case s.throttle > 0:
		s.throttle--
		outcome = "throttle"
	case s.badTemplates[r.TemplateCode]:
		outcome = "template"
	default:
		s.seq++
		r.MessageID = fmt.Sprintf("%s-%06d", prefix, s.seq)
	}
	r.At = time.Now()
	s.received = append(s.received, r)
	return r, outcome
}

// Queries counts the look-ups answered (QuerySendDetails,
// PullSmsSendStatusByPhoneNumber).
func (s *Server) Queries() int { s.mu.Lock(); defer s.mu.Unlock(); return s.queries }

// sentTo lists the accepted messages to phone, counting a query.
func (s *Server) sentTo(phone string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries++
	var out []Received
	for _, r := range s.received {
		if r.MessageID != "" && r.Phone == phone {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) sigFailed() { s.mu.Lock(); s.sigFailures++; s.mu.Unlock() }

func newServer(t testing.TB, h func(*Server) http.Handler) *Server {
	s := start(h)
	t.Cleanup(s.Close)
	return s
}

func start(h func(*Server) http.Handler) *Server {
	s := &Server{badTemplates: map[string]bool{}}
	inner := h(s)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does net/http notice a client
		// that goes away (the request context is cancelled).
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		after := s.holdAnswers
		s.mu.Unlock()
		if after {
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, r)
			if !s.gate(r) {
				return
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		if !s.gate(r) {
			return
		}
		inner.ServeHTTP(w, r)
	}))
	s.URL, s.close = ts.URL, ts.Close
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ---------- Aliyun (RPC, HMAC-SHA1) ----------

// NewAliyun starts a fake Dysms endpoint knowing one AccessKey pair.
func NewAliyun(t testing.TB, keyID, keySecret string) *Server {
	s := StartAliyun(keyID, keySecret)
	t.Cleanup(s.Close)
	return s
}

// StartAliyun is NewAliyun for a TestMain: the caller closes it.
func StartAliyun(keyID, keySecret string) *Server {
	return start(func(s *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err != nil {
				writeJSON(w, 400, map[string]string{"Code": "MissingParameter", "Message": err.Error()})
				return
			}
			params := map[string]string{}
			for k, v := range r.Form {
				params[k] = v[0]
			}
			reqID := fmt.Sprintf("FAKE-%d", time.Now().UnixNano())
			if params["AccessKeyId"] != keyID {
				s.sigFailed()
				writeJSON(w, 404, map[string]string{"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found.", "RequestId": reqID})
				return
			}
			if !aliyunVerify(r.Method, params, keySecret) {
				s.sigFailed()
				writeJSON(w, 400, map[string]string{"Code": "SignatureDoesNotMatch",
					"Message": "Specified signature is not matched with our calculation.", "RequestId": reqID})
				return
			}
			if params["Action"] == "QuerySendDetails" && params["Version"] == "2017-05-25" {
				aliyunQuery(s, w, params, reqID)
				return
			}
			if params["Action"] != "SendSms" || params["Version"] != "2017-05-25" {
				writeJSON(w, 400, map[string]string{"Code": "InvalidAction.NotFound", "Message": "action " + params["Action"], "RequestId": reqID})
				return
			}
			var tp map[string]string
			if err := json.Unmarshal([]byte(params["TemplateParam"]), &tp); err != nil {
				writeJSON(w, 200, map[string]string{"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法", "RequestId": reqID})
				return
			}
			names := make([]string, 0, len(tp))
			for k := range tp {
				names = append(names, k)
			}
			sort.Strings(names)
			rec := Received{Phone: params["PhoneNumbers"], TemplateCode: params["TemplateCode"], Ref: params["OutId"]}
			for _, n := range names {
				rec.Params = append(rec.Params, tp[n])
			}
			rec, outcome := s.decide(rec, "aliyun")
			switch outcome {
			case "throttle":
				s.setCode(len(s.Received())-1, "isv.BUSINESS_LIMIT_CONTROL")
				writeJSON(w, 200, map[string]string{"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1", "RequestId": reqID})
			case "template":
				s.setCode(len(s.Received())-1, "isv.SMS_TEMPLATE_ILLEGAL")
				writeJSON(w, 200, map[string]string{"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板", "RequestId": reqID})
			default:
				s.setCode(len(s.Received())-1, "OK")
				writeJSON(w, 200, map[string]string{"Code": "OK", "Message": "OK", "BizId": rec.MessageID, "RequestId": reqID})
			}
		})
	})
}

// beijing is the zone of Aliyun's SendDate and the record times.
var beijing = time.FixedZone("CST", 8*3600)

// aliyunQuery answers QuerySendDetails: the accepted messages to one
// number on one day (yyyyMMdd, Beijing), 1–50 a page, newest first, as
// SmsSendDetailDTOs.SmsSendDetailDTO (no BizId, as the provider's records).
func aliyunQuery(s *Server, w http.ResponseWriter, params map[string]string, reqID string) {
	bad := func(msg string) {
		writeJSON(w, 400, map[string]string{"Code": "isv.INVALID_PARAMETERS", "Message": msg, "RequestId": reqID})
	}
	var size, page int
	if _, err := fmt.Sscan(params["PageSize"], &size); err != nil || size < 1 || size > 50 {
		bad("PageSize must be 1-50")
		return
	}
	page = 1
	if v := params["CurrentPage"]; v != "" {
		if _, err := fmt.Sscan(v, &page); err != nil || page < 1 {
			bad("CurrentPage")
			return
		}
	}
	day, err := time.ParseInLocation("20060102", params["SendDate"], beijing)
	if err != nil || params["PhoneNumber"] == "" {
		bad("SendDate (yyyyMMdd) and PhoneNumber are required")
		return
	}
	var match []Received
	for _, r := range s.sentTo(params["PhoneNumber"]) {
		if at := r.At.In(beijing); !at.Before(day) && at.Before(day.AddDate(0, 0, 1)) &&
			(params["BizId"] == "" || params["BizId"] == r.MessageID) {
			match = append([]Received{r}, match...)
		}
	}
	dtos := []map[string]any{}
	for i := (page - 1) * size; i < len(match) && i < page*size; i++ {
		r := match[i]
		dtos = append(dtos, map[string]any{"PhoneNum": r.Phone, "SendStatus": 3, "ErrCode": "DELIVERED",
			"TemplateCode": r.TemplateCode, "Content": strings.Join(r.Params, " "), "OutId": r.Ref,
			"SendDate": r.At.In(beijing).Format(time.DateTime), "ReceiveDate": r.At.In(beijing).Format(time.DateTime)})
	}
	writeJSON(w, 200, map[string]any{"Code": "OK", "Message": "OK", "RequestId": reqID, "TotalCount": len(match),
		"SmsSendDetailDTOs": map[string]any{"SmsSendDetailDTO": dtos}})
}

func (s *Server) setCode(i int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= 0 && i < len(s.received) {
		s.received[i].Code = code
	}
}

// aliyunVerify recomputes the RPC signature: StringToSign =
// Method & enc("/") & enc(canonical query), key = secret + "&".
func aliyunVerify(method string, params map[string]string, secret string) bool {
	if params["SignatureMethod"] != "HMAC-SHA1" || params["SignatureVersion"] != "1.0" || params["SignatureNonce"] == "" {
		return false
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", params["Timestamp"])
	if err != nil || time.Since(ts).Abs() > 15*time.Minute {
		return false
	}
	var pairs []string
	for k, v := range params {
		if k != "Signature" {
			pairs = append(pairs, rfc3986(k)+"="+rfc3986(v))
		}
	}
	sort.Strings(pairs) // keys are unique, so sorting pairs sorts by key
	sts := method + "&" + rfc3986("/") + "&" + rfc3986(strings.Join(pairs, "&"))
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(sts))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(params["Signature"]))
}

// rfc3986 percent-encodes every byte outside A-Z a-z 0-9 - _ . ~ as %XX.
func rfc3986(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// ---------- Tencent (API 3.0, TC3-HMAC-SHA256) ----------

// NewTencent starts a fake sms.tencentcloudapi.com knowing one secret pair.
func NewTencent(t testing.TB, secretID, secretKey string) *Server {
	return newServer(t, func(s *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reqID := fmt.Sprintf("fake-%d", time.Now().UnixNano())
			fail := func(code, msg string) {
				writeJSON(w, 200, map[string]any{"Response": map[string]any{
					"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": reqID}})
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				fail("InvalidParameter", err.Error())
				return
			}
			if code, msg := tc3Verify(r, body, secretID, secretKey); code != "" {
				s.sigFailed()
				fail(code, msg)
				return
			}
			if r.Header.Get("X-TC-Action") == "PullSmsSendStatusByPhoneNumber" && r.Header.Get("X-TC-Version") == "2021-01-11" {
				var q struct {
					BeginTime, EndTime, Offset, Limit *int64
					PhoneNumber, SmsSdkAppId          string
				}
				if err := json.Unmarshal(body, &q); err != nil || q.BeginTime == nil || q.Offset == nil || q.Limit == nil ||
					*q.Limit < 1 || *q.Limit > 100 || q.PhoneNumber == "" || q.SmsSdkAppId == "" {
					fail("InvalidParameter", "BeginTime, Offset, Limit (1-100), PhoneNumber and SmsSdkAppId are required")
					return
				}
				set := []map[string]any{}
				for _, m := range s.sentTo(q.PhoneNumber) {
					if m.At.Unix() < *q.BeginTime || (q.EndTime != nil && m.At.Unix() > *q.EndTime) || int64(len(set)) >= *q.Limit {
						continue
					}
					// The fake's handsets receive at once: the report is in.
					set = append(set, map[string]any{"UserReceiveTime": m.At.Unix(), "CountryCode": "86",
						"SubscriberNumber": strings.TrimPrefix(m.Phone, "+86"), "PhoneNumber": m.Phone, "SerialNo": m.MessageID,
						"ReportStatus": "SUCCESS", "Description": "DELIVRD", "SessionContext": m.Ref})
				}
				writeJSON(w, 200, map[string]any{"Response": map[string]any{"PullSmsSendStatusSet": set, "RequestId": reqID}})
				return
			}
			if r.Header.Get("X-TC-Action") != "SendSms" || r.Header.Get("X-TC-Version") != "2021-01-11" {
				fail("InvalidAction", "action "+r.Header.Get("X-TC-Action")+" version "+r.Header.Get("X-TC-Version"))
				return
			}
			var in struct {
				PhoneNumberSet   []string
				SmsSdkAppId      string
				SignName         string
				TemplateId       string
				TemplateParamSet []string
				SessionContext   string
			}
			if err := json.Unmarshal(body, &in); err != nil || len(in.PhoneNumberSet) == 0 || in.SmsSdkAppId == "" {
				fail("InvalidParameter", "bad body")
				return
			}
			var statuses []map[string]any
			for _, phone := range in.PhoneNumberSet {
				rec, outcome := s.decide(Received{Phone: phone, TemplateCode: in.TemplateId, Params: in.TemplateParamSet, Ref: in.SessionContext}, "tencent")
				switch outcome {
				case "template":
					s.setCode(len(s.Received())-1, "FailedOperation.TemplateIncorrectOrUnapproved")
					fail("FailedOperation.TemplateIncorrectOrUnapproved", "template is not approved or request content does not match the approved template content.")
					return
				case "throttle":
					s.setCode(len(s.Received())-1, "LimitExceeded.PhoneNumberThirtySecondLimit")
					statuses = append(statuses, map[string]any{"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "SessionContext": in.SessionContext,
						"Code": "LimitExceeded.PhoneNumberThirtySecondLimit", "Message": "the number of SMS messages sent from a single mobile number within 30 seconds exceeds the upper limit", "IsoCode": "CN"})
				default:
					s.setCode(len(s.Received())-1, "Ok")
					statuses = append(statuses, map[string]any{"SerialNo": rec.MessageID, "PhoneNumber": phone, "Fee": 1, "SessionContext": in.SessionContext,
						"Code": "Ok", "Message": "send success", "IsoCode": "CN"})
				}
			}
			writeJSON(w, 200, map[string]any{"Response": map[string]any{"SendStatusSet": statuses, "RequestId": reqID}})
		})
	})
}

// tc3Verify checks a TC3-HMAC-SHA256 Authorization header; it returns the
// provider's error code and message, or "" when the signature holds.
func tc3Verify(r *http.Request, body []byte, secretID, secretKey string) (string, string) {
	auth := r.Header.Get("Authorization")
	alg, rest, ok := strings.Cut(auth, " ")
	if !ok || alg != "TC3-HMAC-SHA256" {
		return "AuthFailure.InvalidAuthorization", "Authorization header is not TC3-HMAC-SHA256"
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 4 || cred[2] != "sms" || cred[3] != "tc3_request" {
		return "AuthFailure.InvalidAuthorization", "bad Credential " + fields["Credential"]
	}
	if cred[0] != secretID {
		return "AuthFailure.SecretIdNotFound", "The SecretId is not found"
	}
	var unix int64
	if _, err := fmt.Sscan(r.Header.Get("X-TC-Timestamp"), &unix); err != nil {
		return "AuthFailure.InvalidAuthorization", "bad X-TC-Timestamp"
	}
	ts := time.Unix(unix, 0).UTC()
	if time.Since(ts).Abs() > 5*time.Minute {
		return "AuthFailure.SignatureExpire", "Signature expired"
	}
	date := ts.Format("2006-01-02")
	if cred[1] != date {
		return "AuthFailure.SignatureFailure", "credential date does not match the timestamp"
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	var canonHeaders strings.Builder
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		canonHeaders.WriteString(h + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	payload := sha256.Sum256(body)
	query := ""
	if r.Method == http.MethodGet {
		query = r.URL.RawQuery
	}
	canon := strings.Join([]string{r.Method, r.URL.Path, query, canonHeaders.String(), fields["SignedHeaders"], hex.EncodeToString(payload[:])}, "\n")
	ch := sha256.Sum256([]byte(canon))
	scope := date + "/sms/tc3_request"
	sts := "TC3-HMAC-SHA256\n" + r.Header.Get("X-TC-Timestamp") + "\n" + scope + "\n" + hex.EncodeToString(ch[:])
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	k := mac(mac(mac([]byte("TC3"+secretKey), date), "sms"), "tc3_request")
	want := hex.EncodeToString(mac(k, sts))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return "AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct."
	}
	return "", ""
}
