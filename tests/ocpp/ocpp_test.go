// Package ocpp drives the OCPP central system through the HTTP API: real
// PostgreSQL, the API handler over a real HTTP server, the central system on
// a real port, and simulated charge points over real WebSockets. Temporal
// plays no part here (status pushes land in the regulator outbox).
package ocpp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/voltflow/voltflow/activities/centralsystem"
	"github.com/voltflow/voltflow/api"
	"github.com/voltflow/voltflow/devices/chargersim"
	"github.com/voltflow/voltflow/devices/ocpp"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

const cp1 = "4403000000000000000001"

type stack struct {
	db      *store.DB
	api     *httptest.Server
	cs      *ocpp.Server
	project string
}

func start(t *testing.T, heartbeat, grace time.Duration) *stack {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.GatewayPorts, o.BcryptCost = 1, []int{15020}, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, p.ProjectID); err != nil {
		t.Fatal(err)
	}
	msgs := centralsystem.NewMessageLog(ctx, db, nil)
	cs, err := ocpp.Listen(ctx, ocpp.Options{Addr: "127.0.0.1:0", HeartbeatInterval: heartbeat, Grace: grace,
		Handler: &centralsystem.Service{DB: db}, Frames: msgs})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{DB: db}))
	t.Cleanup(func() { srv.Close(); _ = cs.Close(); msgs.Close() })
	return &stack{db: db, api: srv, cs: cs, project: p.ProjectID}
}

type client struct {
	base, token string
}

func (s *stack) login(t *testing.T, user string) *client {
	t.Helper()
	c := &client{base: s.api.URL}
	var out struct{ Token string }
	if code := c.do(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"username": user, "password": user}, &out); code != 200 {
		t.Fatalf("login %s: %d", user, code)
	}
	c.token = out.Token
	return c
}

func (c *client) do(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// A card frozen from the API is refused (Blocked) at the charger's next
// Authorize; unfrozen, it is accepted again. Only roles that sell may
// freeze; the card's balance stays.
func TestFreezeFromAPI(t *testing.T) {
	s := start(t, 60*time.Second, 30*time.Second)
	c, err := chargersim.Connect(context.Background(), chargersim.Config{URL: s.cs.URL(), Password: charger.DemoPassword}, cp1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, _ := c.Authorize(charger.DemoCard); st != types.AuthorizationStatusAccepted {
		t.Fatalf("before: %s", st)
	}
	var problem api.Problem
	if code := s.login(t, "approver").do(t, http.MethodPost, "/api/v1/cards/"+charger.DemoCard+"/freeze", nil, &problem); code != 404 || problem.Code != api.CodeNotFound {
		t.Fatalf("approver freeze = %d %+v, want 404 not_found", code, problem)
	}
	cashier := s.login(t, "cashier")
	var card charger.Card
	if code := cashier.do(t, http.MethodPost, "/api/v1/cards/"+charger.DemoCard+"/freeze", map[string]string{"reason": "reported lost"}, &card); code != 200 ||
		card.Status != "frozen" || card.Balance.String() != "200.00" {
		t.Fatalf("freeze = %d %+v", code, card)
	}
	if st, _ := c.Authorize(charger.DemoCard); st != types.AuthorizationStatusBlocked {
		t.Fatalf("after freeze: %s, want Blocked", st)
	}
	if code := cashier.do(t, http.MethodPost, "/api/v1/cards/"+charger.DemoCard+"/freeze", nil, &card); code != 200 || card.Status != "frozen" {
		t.Fatalf("second freeze = %d %+v", code, card)
	}
	if code := cashier.do(t, http.MethodPost, "/api/v1/cards/NOSUCH/freeze", nil, &problem); code != 404 {
		t.Fatalf("unknown card = %d", code)
	}
	if code := cashier.do(t, http.MethodPost, "/api/v1/cards/"+charger.DemoCard+"/unfreeze", nil, &card); code != 200 || card.Status != "active" {
		t.Fatalf("unfreeze = %d %+v", code, card)
	}
	if st, _ := c.Authorize(charger.DemoCard); st != types.AuthorizationStatusAccepted {
		t.Fatalf("after unfreeze: %s", st)
	}
	var audited int
	if err := s.db.QueryRow(context.Background(), `select count(*) from audit_log where action in ('card.freeze','card.unfreeze')
		and status=200`).Scan(&audited); err != nil || audited != 3 {
		t.Fatalf("audited card changes = %d, %v", audited, err)
	}
}

type messagePage struct {
	Items []struct {
		ID          int64     `json:"id"`
		Direction   string    `json:"direction"`
		MessageType int       `json:"messageType"`
		Action      string    `json:"action"`
		Frame       string    `json:"frame"`
		At          time.Time `json:"at"`
	} `json:"items"`
	NextCursor string `json:"nextCursor"`
}

// The device message log through the API, by charger and time, paged; and
// a charger killed without closing its socket shown offline within
// heartbeat interval + grace.
func TestMessagesAndOffline(t *testing.T) {
	heartbeat, grace := time.Second, 1500*time.Millisecond
	s := start(t, heartbeat, grace)
	before := time.Now()
	c, err := chargersim.Connect(context.Background(), chargersim.Config{URL: s.cs.URL(), Password: charger.DemoPassword}, cp1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.DataTransfer(centralsystem.DataTransferVendor, "ping", "hello"); err != nil {
		t.Fatal(err)
	}
	admin := s.login(t, "admin")
	path := "/api/v1/chargers/" + cp1 + "/messages?from=" + url.QueryEscape(before.Add(-time.Second).Format(time.RFC3339Nano))
	var page messagePage
	eventually.True(t, 3*time.Second, "DataTransfer logged", func() (bool, string) {
		admin.do(t, http.MethodGet, path, nil, &page)
		for _, m := range page.Items {
			if m.Action == "DataTransfer" && m.Direction == "out" && m.MessageType == 3 {
				return true, ""
			}
		}
		return false, fmt.Sprint(len(page.Items), " frames")
	})
	if page.Items[0].Action != "BootNotification" || page.Items[0].Direction != "in" {
		t.Fatalf("first frame = %+v", page.Items[0])
	}
	var frame []any
	if err := json.Unmarshal([]byte(page.Items[0].Frame), &frame); err != nil || frame[2] != "BootNotification" {
		t.Fatalf("frame kept as sent = %s, %v", page.Items[0].Frame, err)
	}
	// Paging walks the same frames two at a time.
	var walked int
	cursor := ""
	for i := 0; i < 100; i++ {
		var p messagePage
		q := path + "&limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		if code := admin.do(t, http.MethodGet, q, nil, &p); code != 200 {
			t.Fatalf("page: %d", code)
		}
		walked += len(p.Items)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if walked < len(page.Items) {
		t.Fatalf("paging saw %d frames, the full list %d", walked, len(page.Items))
	}
	// A window before the charger connected is empty.
	var empty messagePage
	admin.do(t, http.MethodGet, "/api/v1/chargers/"+cp1+"/messages?to="+url.QueryEscape(before.Add(-time.Minute).Format(time.RFC3339)), nil, &empty)
	if len(empty.Items) != 0 {
		t.Fatalf("frames before connecting: %d", len(empty.Items))
	}
	var problem api.Problem
	if code := admin.do(t, http.MethodGet, "/api/v1/chargers/"+cp1+"/messages?from=yesterday", nil, &problem); code != 400 || problem.Field != "from" {
		t.Fatalf("bad from = %d %+v", code, problem)
	}
	if code := admin.do(t, http.MethodGet, "/api/v1/chargers/NOSUCH/messages", nil, &problem); code != 404 || problem.Code != api.CodeNotFound {
		t.Fatalf("unknown charger = %d %+v", code, problem)
	}

	var ch struct {
		Online     bool `json:"online"`
		Connectors []struct {
			ConnectorID string `json:"connectorId"`
			Status      int    `json:"status"`
		} `json:"connectors"`
	}
	if code := admin.do(t, http.MethodGet, "/api/v1/chargers/"+cp1, nil, &ch); code != 200 || !ch.Online || len(ch.Connectors) != 12 || ch.Connectors[0].Status != registry.StatusIdle {
		t.Fatalf("charger = %d %+v", code, ch)
	}
	c.Hang()
	hung := time.Now()
	eventually.True(t, heartbeat+grace+2*time.Second, "offline in the API", func() (bool, string) {
		admin.do(t, http.MethodGet, "/api/v1/chargers/"+cp1, nil, &ch)
		return !ch.Online, "online"
	})
	took := time.Since(hung)
	if took > heartbeat+grace+time.Second {
		t.Fatalf("offline after %v, limit %v", took, heartbeat+grace)
	}
	for _, k := range ch.Connectors {
		if k.Status != registry.StatusOffline {
			t.Fatalf("connector %s status %d after the charger went silent", k.ConnectorID, k.Status)
		}
	}
	t.Logf("offline in the API %v after the charger went silent (interval %v + grace %v)", took.Round(10*time.Millisecond), heartbeat, grace)
}

// The fleet runner holds many charge points (ids of registry.AddStations)
// and reconnects them; the central system counts them all.
func TestFleet(t *testing.T) {
	s := start(t, 60*time.Second, 30*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 40
	if _, err := registry.AddStations(ctx, s.db, n/2, 2, 12); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, n)
	for i := range n {
		id := fmt.Sprintf("44%08d%012d", 1000+i/2, i%2+1)
		if err := charger.Enroll(ctx, s.db, id, s.project, "fleet-secret"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	done := make(chan error, 1)
	go func() {
		done <- chargersim.Run(ctx, chargersim.Config{URL: s.cs.URL(), Password: "fleet-secret"}, ids)
	}()
	eventually.True(t, 20*time.Second, "fleet connected", func() (bool, string) {
		c := s.cs.Connections()
		return c == n, fmt.Sprint(c, " connections")
	})
	var online int
	eventually.True(t, 5*time.Second, "fleet online", func() (bool, string) {
		_ = s.db.QueryRow(ctx, `select count(*) from ocpp_charge_points where online and equipment_id = any($1)`, ids).Scan(&online)
		return online == n, fmt.Sprint(online, " online")
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 5*time.Second, "fleet gone", func() (bool, string) {
		c := s.cs.Connections()
		return c == 0, fmt.Sprint(c, " connections")
	})
}
