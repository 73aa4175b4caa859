// Package driverapp tests the driver app's content end to end (issue 23
// section 3, C12) over real HTTP on the harness stack, every exchange
// checked against api/openapi.json: an operator manages news, banners,
// messages, feedback and comment moderation; drivers call with driver
// tokens bound to charging customers. Done when: a banner outside its
// window is not served; a hidden comment is not served; a message to a
// group reaches exactly that group.
package driverapp

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "driverapp", harness.Options{Gateways: 1, MetersPerGW: 1}, &stack)
}

const station = "44030000000000000001"

// world is an admin and three drivers A, B (in the group "fleet") and C.
type world struct {
	admin   *harness.Client
	drivers map[string]*harness.Client
	ids     map[string]string // driver name → customer id
	groupID string
}

func setup(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	// The demo station and its chargers (what `make run` loads with the OCPP server).
	if err := registry.LoadDemo(ctx, stack.DB); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, stack.DB, stack.ProjectID); err != nil {
		t.Fatal(err)
	}
	w := &world{admin: stack.Login(t, "admin", "admin"), drivers: map[string]*harness.Client{}, ids: map[string]string{}}
	suffix := time.Now().Format("150405.000000")
	for i, name := range []string{"A", "B", "C"} {
		var c struct{ ID string }
		if code := w.admin.Do(t, "POST", "/api/v1/projects/demo/customers",
			map[string]string{"name": "driver " + name + " " + suffix, "phone": fmt.Sprintf("1390000000%d", i), "kind": "person"}, &c); code != http.StatusCreated {
			t.Fatalf("customer %s: %d", name, code)
		}
		var tok struct{ Token string }
		if code := w.admin.Do(t, "POST", "/api/v1/projects/demo/customers/"+c.ID+"/driver-tokens", nil, &tok); code != http.StatusCreated || tok.Token == "" {
			t.Fatalf("driver token %s: %d", name, code)
		}
		w.ids[name] = c.ID
		w.drivers[name] = stack.Bearer(tok.Token)
	}
	var g struct{ ID string }
	if code := w.admin.Do(t, "POST", "/api/v1/customer-groups", map[string]any{"projectId": stack.ProjectID,
		"name": "fleet " + suffix, "kind": "person", "customerIds": []string{w.ids["A"], w.ids["B"]}}, &g); code != http.StatusCreated {
		t.Fatalf("group: %d", code)
	}
	w.groupID = g.ID
	return w
}

type post struct {
	ID, Title string
}

func TestBannerOutsideItsWindowIsNotServed(t *testing.T) {
	w := setup(t)
	now := time.Now().UTC()
	rfc := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	tag := fmt.Sprint(now.UnixNano())
	banners := []map[string]any{
		{"kind": "banner", "title": "current second " + tag, "position": 2, "publishFrom": rfc(-time.Hour), "publishTo": rfc(time.Hour)},
		{"kind": "banner", "title": "current first " + tag, "position": 1, "publishFrom": rfc(-time.Hour)},
		{"kind": "banner", "title": "expired " + tag, "position": 0, "publishFrom": rfc(-2 * time.Hour), "publishTo": rfc(-time.Hour)},
		{"kind": "banner", "title": "future " + tag, "position": 0, "publishFrom": rfc(time.Hour)},
		{"kind": "news", "title": "news " + tag, "publishFrom": rfc(-time.Minute), "body": "新站开业"},
	}
	ids := map[string]string{}
	for _, b := range banners {
		var p post
		if code := w.admin.Do(t, "POST", "/api/v1/projects/demo/app/posts", b, &p); code != http.StatusCreated {
			t.Fatalf("post %v: %d", b["title"], code)
		}
		ids[p.Title] = p.ID
	}
	served := func() []string {
		var out struct{ Items []post }
		if code := w.drivers["C"].Do(t, "GET", "/api/v1/driver/posts?kind=banner", nil, &out); code != http.StatusOK {
			t.Fatalf("driver banners: %d", code)
		}
		var titles []string
		for _, p := range out.Items {
			titles = append(titles, p.Title)
		}
		return titles
	}
	want := []string{"current first " + tag, "current second " + tag}
	if got := served(); !slices.Equal(got, want) {
		t.Fatalf("served banners %q, want %q (expired and future ones withheld, by position)", got, want)
	}
	// The operator sees every post; moving the expired one's window brings it back.
	var all struct{ Items []post }
	w.admin.Do(t, "GET", "/api/v1/projects/demo/app/posts?kind=banner&limit=500", nil, &all)
	if len(all.Items) < 4 {
		t.Fatalf("operator list has %d banners, want at least 4", len(all.Items))
	}
	if code := w.admin.Do(t, "PUT", "/api/v1/projects/demo/app/posts/"+ids["expired "+tag], map[string]any{"kind": "banner",
		"title": "expired " + tag, "position": 0, "publishFrom": rfc(-2 * time.Hour), "publishTo": rfc(time.Hour)}, nil); code != http.StatusOK {
		t.Fatalf("extend window: %d", code)
	}
	if got := served(); !slices.Equal(got, append([]string{"expired " + tag}, want...)) {
		t.Fatalf("after extending: %q", got)
	}
	// An empty window is refused with a problem; drivers cannot write posts.
	code, _, ct := w.admin.DoRaw(t, "POST", "/api/v1/projects/demo/app/posts", map[string]any{"kind": "banner", "title": "x",
		"publishFrom": rfc(0), "publishTo": rfc(-time.Hour)})
	if code != http.StatusUnprocessableEntity || ct != "application/problem+json" {
		t.Fatalf("empty window: %d %s", code, ct)
	}
	if code := w.drivers["A"].Do(t, "GET", "/api/v1/projects/demo/app/posts", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("driver token on an operator route: %d, want 401", code)
	}
	if code := w.admin.Do(t, "GET", "/api/v1/driver/posts", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("operator token on a driver route: %d, want 401", code)
	}
}

type message struct {
	ID, Title  string
	Recipients int
	ReadAt     *time.Time
}

func TestMessageToAGroupReachesExactlyThatGroup(t *testing.T) {
	w := setup(t)
	tag := fmt.Sprint(time.Now().UnixNano())
	var sent message
	if code := w.admin.Do(t, "POST", "/api/v1/projects/demo/app/messages", map[string]any{"audience": "group",
		"groupId": w.groupID, "title": "group " + tag, "body": "充电站维护通知"}, &sent); code != http.StatusCreated {
		t.Fatalf("send to group: %d", code)
	}
	if sent.Recipients != 2 {
		t.Fatalf("group message reached %d drivers, want 2", sent.Recipients)
	}
	if code := w.admin.Do(t, "POST", "/api/v1/projects/demo/app/messages", map[string]any{"audience": "customer",
		"customerId": w.ids["C"], "title": "c only " + tag}, nil); code != http.StatusCreated {
		t.Fatalf("send to C: %d", code)
	}
	if code := w.admin.Do(t, "POST", "/api/v1/projects/demo/app/messages", map[string]any{"audience": "group",
		"title": "no group"}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("group message without a group: %d, want 422", code)
	}
	inbox := func(name, query string) []string {
		var out struct{ Items []message }
		if code := w.drivers[name].Do(t, "GET", "/api/v1/driver/messages"+query, nil, &out); code != http.StatusOK {
			t.Fatalf("%s inbox: %d", name, code)
		}
		var titles []string
		for _, m := range out.Items {
			titles = append(titles, m.Title)
		}
		return titles
	}
	for name, want := range map[string][]string{"A": {"group " + tag}, "B": {"group " + tag}, "C": {"c only " + tag}} {
		if got := inbox(name, ""); !slices.Equal(got, want) {
			t.Errorf("%s received %q, want exactly %q", name, got, want)
		}
	}
	// C is not in the group: its message is not C's to read.
	if code := w.drivers["C"].Do(t, "POST", "/api/v1/driver/messages/"+sent.ID+"/read", nil, nil); code != http.StatusNotFound {
		t.Fatalf("C marks the group's message: %d, want 404", code)
	}
	var read message
	if code := w.drivers["A"].Do(t, "POST", "/api/v1/driver/messages/"+sent.ID+"/read", nil, &read); code != http.StatusOK || read.ReadAt == nil {
		t.Fatalf("A marks read: %d %+v", code, read)
	}
	if got := inbox("A", "?unread=true"); len(got) != 0 {
		t.Fatalf("A unread after reading: %q", got)
	}
	if got := inbox("B", "?unread=true"); !slices.Equal(got, []string{"group " + tag}) {
		t.Fatalf("B unread: %q (A's read is A's only)", got)
	}
}

type comment struct {
	ID     string
	Hidden bool
	Body   string
}

func TestHiddenCommentIsNotServed(t *testing.T) {
	w := setup(t)
	tag := fmt.Sprint(time.Now().UnixNano())
	var keep, rude comment
	if code := w.drivers["A"].Do(t, "POST", "/api/v1/driver/stations/"+station+"/comments",
		map[string]any{"rating": 5, "body": "fast " + tag}, &keep); code != http.StatusCreated {
		t.Fatalf("comment: %d", code)
	}
	if code := w.drivers["B"].Do(t, "POST", "/api/v1/driver/stations/"+station+"/comments",
		map[string]any{"rating": 1, "body": "rude " + tag}, &rude); code != http.StatusCreated {
		t.Fatalf("comment: %d", code)
	}
	if code := w.drivers["B"].Do(t, "POST", "/api/v1/driver/stations/"+station+"/comments",
		map[string]any{"rating": 9}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("rating 9: %d, want 422", code)
	}
	var hidden comment
	if code := w.admin.Do(t, "POST", "/api/v1/projects/demo/app/comments/"+rude.ID+"/hide", nil, &hidden); code != http.StatusOK || !hidden.Hidden {
		t.Fatalf("hide: %d %+v", code, hidden)
	}
	served := func() []string {
		var out struct{ Items []comment }
		if code := w.drivers["C"].Do(t, "GET", "/api/v1/driver/stations/"+station+"/comments?limit=500", nil, &out); code != http.StatusOK {
			t.Fatalf("comments: %d", code)
		}
		var ids []string
		for _, k := range out.Items {
			ids = append(ids, k.ID)
		}
		return ids
	}
	if got := served(); slices.Contains(got, rude.ID) || !slices.Contains(got, keep.ID) {
		t.Fatalf("served %q: want %s and not the hidden %s", got, keep.ID, rude.ID)
	}
	var mod struct{ Items []comment }
	w.admin.Do(t, "GET", "/api/v1/projects/demo/app/comments?hidden=true&limit=500", nil, &mod)
	if !slices.ContainsFunc(mod.Items, func(k comment) bool { return k.ID == rude.ID }) {
		t.Fatalf("the operator's hidden list misses %s", rude.ID)
	}
	if code := w.admin.Do(t, "POST", "/api/v1/projects/demo/app/comments/"+rude.ID+"/show", nil, nil); code != http.StatusOK {
		t.Fatalf("show: %d", code)
	}
	if got := served(); !slices.Contains(got, rude.ID) {
		t.Fatalf("shown again, but not served: %q", got)
	}
	var audit struct {
		Items []struct{ Action, Subject string }
	}
	w.admin.Do(t, "GET", "/api/v1/audit-log?action=app.comment.hide&limit=10", nil, &audit)
	if !slices.ContainsFunc(audit.Items, func(a struct{ Action, Subject string }) bool { return a.Subject == "station-comment/"+rude.ID }) {
		t.Fatalf("hide not audited: %+v", audit.Items)
	}
}

type feedback struct {
	ID, Status string
	Posts      []struct{ Author, Body string }
}

func TestFeedbackThread(t *testing.T) {
	w := setup(t)
	var f feedback
	if code := w.drivers["A"].Do(t, "POST", "/api/v1/driver/feedback", map[string]any{"subject": "枪头故障",
		"body": "connector 3 stops at 20 kW"}, &f); code != http.StatusCreated || f.Status != "open" {
		t.Fatalf("feedback: %d %+v", code, f)
	}
	if code := w.drivers["B"].Do(t, "GET", "/api/v1/driver/feedback/"+f.ID, nil, nil); code != http.StatusNotFound {
		t.Fatalf("B reads A's feedback: %d, want 404", code)
	}
	if code := w.admin.Do(t, "POST", "/api/v1/projects/demo/app/feedback/"+f.ID+"/replies", map[string]any{"body": "technician sent"}, &f); code != http.StatusOK || f.Status != "answered" {
		t.Fatalf("reply: %d %+v", code, f)
	}
	if code := w.drivers["A"].Do(t, "GET", "/api/v1/driver/feedback/"+f.ID, nil, &f); code != http.StatusOK || len(f.Posts) != 2 || f.Posts[1].Author != "operator" {
		t.Fatalf("A reads the thread: %d %+v", code, f)
	}
	if code := w.admin.Do(t, "POST", "/api/v1/projects/demo/app/feedback/"+f.ID+"/close", nil, &f); code != http.StatusOK || f.Status != "closed" {
		t.Fatalf("close: %d %+v", code, f)
	}
	code, _, ct := w.drivers["A"].DoRaw(t, "POST", "/api/v1/driver/feedback/"+f.ID+"/posts", map[string]any{"body": "still slow"})
	if code != http.StatusConflict || ct != "application/problem+json" {
		t.Fatalf("post to a closed thread: %d %s, want 409 problem", code, ct)
	}
}
