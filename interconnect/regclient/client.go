// Package regclient calls the regulator's interfaces (DB4403/T 77-2020 §9,
// "充电运营商平台主动上报"): it seals requests with our credentials, keeps a
// query_token token and refreshes it before it expires, and sorts failures
// into retryable (Ret -1, 500, HTTP 5xx, network) and final (4001, 4003,
// 4004).
package regclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/internal/clock"
)

// DefaultURL is the simulator of contracts.md.
const DefaultURL = "http://127.0.0.1:9400/shevcs/v1"

// ErrRetryable marks failures worth retrying later: the regulator is busy,
// down or unreachable, or our token was refused.
var ErrRetryable = errors.New("regulator unavailable")

// ErrRejected marks answers that retrying cannot change (4001, 4003, 4004).
var ErrRejected = errors.New("regulator rejected the request")

// Client is safe for concurrent use; one per regulator per process.
type Client struct {
	// BaseURL is http(s)://host/shevcs/v1 (VOLTFLOW_REGULATOR_URL).
	BaseURL string
	// Secrets returns our current credentials for this regulator.
	Secrets func(ctx context.Context) (envelope.Secrets, error)
	// HTTP is the transport (a 10 s timeout client when nil).
	HTTP *http.Client
	// Clock is the time source; the zero Clock is the real clock.
	Clock clock.Clock
	// RefreshBefore renews a token this long before it expires (default 5 min,
	// capped at half the token's lifetime).
	RefreshBefore time.Duration
	// SecretsMaxAge is how long credentials from Secrets are reused before
	// being asked for again (default 10 s; negative: ask on every call). At
	// thousands of pushes a second a database read and unseal per call is
	// the busiest statement of all; a rotation has an overlap window far
	// longer than this.
	SecretsMaxAge time.Duration

	httpOnce sync.Once
	http     *http.Client

	secMu    sync.Mutex
	sec      envelope.Secrets
	codec    *envelope.Codec
	secUntil time.Time

	seqOnce sync.Once
	seq     *envelope.SeqGenerator

	mu      sync.Mutex
	token   string
	expires time.Time
}

// maxIdlePerHost keeps a connection per concurrent push open: Go's default
// of 2 idle connections per host makes most concurrent calls dial anew.
const maxIdlePerHost = 256

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	c.httpOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = maxIdlePerHost, maxIdlePerHost
		c.http = &http.Client{Timeout: 10 * time.Second, Transport: t}
	})
	return c.http
}

// credentials returns our secrets and their codec, cached for SecretsMaxAge.
func (c *Client) credentials(ctx context.Context) (envelope.Secrets, *envelope.Codec, error) {
	age := c.SecretsMaxAge
	if age == 0 {
		age = 10 * time.Second
	}
	c.secMu.Lock()
	defer c.secMu.Unlock()
	if c.codec != nil && age > 0 && c.Clock.Now().Before(c.secUntil) {
		return c.sec, c.codec, nil
	}
	sec, err := c.Secrets(ctx)
	if err != nil {
		return envelope.Secrets{}, nil, fmt.Errorf("regulator credentials: %w: %w", ErrRetryable, err)
	}
	codec, err := envelope.NewCodec(sec)
	if err != nil {
		return envelope.Secrets{}, nil, fmt.Errorf("regulator credentials: %w: %w", ErrRejected, err)
	}
	c.sec, c.codec, c.secUntil = sec, codec, c.Clock.Now().Add(age)
	return sec, codec, nil
}

// Call seals payload, posts it to name, and opens the answer into out
// (skipped when out is nil). Errors wrap ErrRetryable or ErrRejected.
func (c *Client) Call(ctx context.Context, name string, payload, out any) error {
	sec, codec, err := c.credentials(ctx)
	if err != nil {
		return err
	}
	token, err := c.Token(ctx, codec, sec)
	if err != nil {
		return err
	}
	err = c.post(ctx, codec, name, token, payload, out)
	if envelope.RetOf(err) == envelope.RetToken {
		// Revoked or expired early: forget it so the next attempt fetches one.
		c.invalidate(token)
	}
	return err
}

// OperatorID is the OperatorID of our current credentials.
func (c *Client) OperatorID(ctx context.Context) (string, error) {
	sec, _, err := c.credentials(ctx)
	return sec.OperatorID, err
}

// Token returns a valid token, fetching a new one through query_token when
// none is held or the held one is about to expire.
func (c *Client) Token(ctx context.Context, codec *envelope.Codec, sec envelope.Secrets) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.Clock.Now().Before(c.expires) {
		return c.token, nil
	}
	var ans struct {
		OperatorID         string
		SuccStat           int
		AccessToken        string
		TokenAvailableTime int
		FailReason         int
	}
	if err := c.post(ctx, codec, "query_token", "", map[string]string{
		"OperatorID": sec.OperatorID, "OperatorSecret": sec.OperatorSecret}, &ans); err != nil {
		return "", fmt.Errorf("query_token: %w", err)
	}
	if ans.SuccStat != 0 || ans.AccessToken == "" {
		// Wrong credentials may be fixed by an operator: keep retrying.
		return "", fmt.Errorf("query_token refused, FailReason %d: %w", ans.FailReason, ErrRetryable)
	}
	life := time.Duration(ans.TokenAvailableTime) * time.Second
	early := c.RefreshBefore
	if early <= 0 {
		early = 5 * time.Minute
	}
	early = min(early, life/2)
	c.token, c.expires = ans.AccessToken, c.Clock.Now().Add(life-early)
	return c.token, nil
}

func (c *Client) invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}

func (c *Client) post(ctx context.Context, codec *envelope.Codec, name, token string, payload, out any) error {
	c.seqOnce.Do(func() { c.seq = envelope.NewSeqGenerator(c.Clock) })
	st, err := c.seq.Next()
	if err != nil {
		return fmt.Errorf("%s: %w: %w", name, ErrRetryable, err)
	}
	req, err := codec.SealRequest(payload, st)
	if err != nil {
		return fmt.Errorf("%s: seal: %w: %w", name, ErrRejected, err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+"/"+name, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w: %w", name, ErrRejected, err)
	}
	hr.Header.Set("Content-Type", "application/json;charset=utf-8")
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.httpClient().Do(hr)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", name, ErrRetryable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w: %w", name, ErrRetryable, err)
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("%s: HTTP %d: %w", name, resp.StatusCode, ErrRetryable)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %w", name, resp.StatusCode, ErrRejected)
	}
	if _, err := codec.OpenResponse(raw, out); err != nil {
		switch envelope.RetOf(err) {
		case envelope.RetBusy, envelope.RetSystem, envelope.RetToken:
			return fmt.Errorf("%s: %w: %w", name, ErrRetryable, err)
		default:
			return fmt.Errorf("%s: %w: %w", name, ErrRejected, err)
		}
	}
	return nil
}
