package appcontent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	appcontentdom "github.com/voltflow/voltflow/domain/appcontent"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	appcontentstore "github.com/voltflow/voltflow/store/appcontent"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/customer"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

const station = "44030000000000000001"

func setup(t *testing.T) (*store.DB, string) {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = []int{1}, 1, bcrypt.MinCost
	o.Operators = o.Operators[:1]
	l, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, l.ProjectID); err != nil {
		t.Fatal(err)
	}
	return db, l.ProjectID
}

func driver(t *testing.T, db *store.DB, projectID, name string) appcontentstore.Driver {
	t.Helper()
	c, err := customer.Create(context.Background(), db, projectID, customer.Customer{Name: name, Kind: "person"})
	if err != nil {
		t.Fatal(err)
	}
	return appcontentstore.Driver{ProjectID: projectID, CustomerID: c.ID, Name: name}
}

func TestServedPostsKeepTheWindow(t *testing.T) {
	ctx := context.Background()
	db, pid := setup(t)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return now.Add(time.Duration(h) * time.Hour) }
	ptr := func(t time.Time) *time.Time { return &t }
	posts := []appcontentdom.Post{
		{Kind: appcontentdom.Banner, Title: "current, second", Position: 2, PublishFrom: at(-1), PublishTo: ptr(at(1))},
		{Kind: appcontentdom.Banner, Title: "current, first", Position: 1, PublishFrom: at(-5)},
		{Kind: appcontentdom.Banner, Title: "expired", Position: 0, PublishFrom: at(-5), PublishTo: ptr(now)},
		{Kind: appcontentdom.Banner, Title: "future", Position: 0, PublishFrom: at(1)},
		{Kind: appcontentdom.News, Title: "news", PublishFrom: at(-1)},
	}
	for _, p := range posts {
		if _, err := appcontentstore.SavePost(ctx, db, pid, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := appcontentstore.ServedPosts(ctx, db, pid, appcontentdom.Banner, now, 50)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, p := range got {
		titles = append(titles, p.Title)
	}
	if len(titles) != 2 || titles[0] != "current, first" || titles[1] != "current, second" {
		t.Fatalf("served banners %q, want [current, first; current, second]", titles)
	}
	all, err := appcontentstore.ListPosts(ctx, db, pid, "", appcontentstore.Page{Limit: 10})
	if err != nil || len(all) != 5 {
		t.Fatalf("operator list: %d posts, %v; want 5", len(all), err)
	}
	bad := appcontentdom.Post{Kind: appcontentdom.Banner, Title: "x", PublishFrom: now, PublishTo: ptr(now)}
	if _, err := appcontentstore.SavePost(ctx, db, pid, bad); !errors.Is(err, appcontentdom.ErrInvalid) {
		t.Fatalf("empty window: %v, want ErrInvalid", err)
	}
}

func TestGroupMessageReachesExactlyTheGroup(t *testing.T) {
	ctx := context.Background()
	db, pid := setup(t)
	a, b, c := driver(t, db, pid, "A"), driver(t, db, pid, "B"), driver(t, db, pid, "C")
	g, err := chargeorderstore.SaveGroup(ctx, db, pid, chargeorderstore.Group{Name: "fleet", Kind: "person",
		Customers: []string{a.CustomerID, b.CustomerID}})
	if err != nil {
		t.Fatal(err)
	}
	toGroup, err := appcontentstore.SendMessage(ctx, db, pid, appcontentdom.Message{Audience: appcontentdom.ToGroup, GroupID: g.ID, Title: "group"})
	if err != nil {
		t.Fatal(err)
	}
	if toGroup.Recipients != 2 {
		t.Fatalf("group message reached %d, want 2", toGroup.Recipients)
	}
	if _, err := appcontentstore.SendMessage(ctx, db, pid, appcontentdom.Message{Audience: appcontentdom.ToCustomer, CustomerID: c.CustomerID, Title: "c only"}); err != nil {
		t.Fatal(err)
	}
	if _, err := appcontentstore.SendMessage(ctx, db, pid, appcontentdom.Message{Audience: appcontentdom.ToAll, Title: "all"}); err != nil {
		t.Fatal(err)
	}
	// Joining the group later does not bring its earlier messages.
	if _, err := chargeorderstore.SaveGroup(ctx, db, pid, chargeorderstore.Group{Name: "fleet", Kind: "person",
		Customers: []string{a.CustomerID, b.CustomerID, c.CustomerID}}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{a.Name: {"all", "group"}, b.Name: {"all", "group"}, c.Name: {"all", "c only"}}
	for _, d := range []appcontentstore.Driver{a, b, c} {
		ms, err := appcontentstore.DriverMessages(ctx, db, d, false, appcontentstore.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var titles []string
		for _, m := range ms {
			titles = append(titles, m.Title)
		}
		if len(titles) != len(want[d.Name]) || titles[0] != want[d.Name][0] || titles[1] != want[d.Name][1] {
			t.Errorf("%s got %q, want %q", d.Name, titles, want[d.Name])
		}
	}
	if _, err := appcontentstore.MarkRead(ctx, db, c, toGroup.ID); !errors.Is(err, appcontentstore.ErrNotFound) {
		t.Fatalf("C marks the group's message read: %v, want ErrNotFound", err)
	}
	m, err := appcontentstore.MarkRead(ctx, db, a, toGroup.ID)
	if err != nil || m.ReadAt == nil {
		t.Fatalf("A marks read: %+v, %v", m, err)
	}
	unread, err := appcontentstore.DriverMessages(ctx, db, a, true, appcontentstore.Page{Limit: 10})
	if err != nil || len(unread) != 1 || unread[0].Title != "all" {
		t.Fatalf("A unread after marking: %+v, %v", unread, err)
	}
}

func TestFeedbackThread(t *testing.T) {
	ctx := context.Background()
	db, pid := setup(t)
	a, b := driver(t, db, pid, "A"), driver(t, db, pid, "B")
	f, err := appcontentstore.CreateFeedback(ctx, db, a, "slow charger", "connector 3 stops at 20 kW")
	if err != nil || f.Status != appcontentdom.Open || len(f.Posts) != 1 {
		t.Fatalf("create: %+v, %v", f, err)
	}
	if _, err := appcontentstore.GetFeedback(ctx, db, pid, b.CustomerID, f.ID); !errors.Is(err, appcontentstore.ErrNotFound) {
		t.Fatalf("another driver reads it: %v, want ErrNotFound", err)
	}
	var opID string
	if err := db.QueryRow(ctx, `select id::text from operators limit 1`).Scan(&opID); err != nil {
		t.Fatal(err)
	}
	f, err = appcontentstore.PostFeedback(ctx, db, pid, "", f.ID, appcontentdom.ByOperator, opID, "we sent a technician")
	if err != nil || f.Status != appcontentdom.Answered || len(f.Posts) != 2 || f.Posts[1].Operator == "" {
		t.Fatalf("reply: %+v, %v", f, err)
	}
	f, err = appcontentstore.PostFeedback(ctx, db, pid, a.CustomerID, f.ID, appcontentdom.ByDriver, "", "still slow")
	if err != nil || f.Status != appcontentdom.Open {
		t.Fatalf("driver again: %+v, %v", f, err)
	}
	if f, err = appcontentstore.CloseFeedback(ctx, db, pid, f.ID); err != nil || f.Status != appcontentdom.Closed {
		t.Fatalf("close: %+v, %v", f, err)
	}
	if _, err := appcontentstore.PostFeedback(ctx, db, pid, a.CustomerID, f.ID, appcontentdom.ByDriver, "", "hello?"); !errors.Is(err, appcontentdom.ErrClosed) {
		t.Fatalf("post to closed: %v, want ErrClosed", err)
	}
	mine, err := appcontentstore.ListFeedback(ctx, db, pid, b.CustomerID, "", appcontentstore.Page{Limit: 10})
	if err != nil || len(mine) != 0 {
		t.Fatalf("B's list: %+v, %v", mine, err)
	}
}

func TestHiddenCommentIsNotServed(t *testing.T) {
	ctx := context.Background()
	db, pid := setup(t)
	a := driver(t, db, pid, "A")
	keep, err := appcontentstore.AddComment(ctx, db, a, station, 5, "fast and clean")
	if err != nil {
		t.Fatal(err)
	}
	rude, err := appcontentstore.AddComment(ctx, db, a, station, 1, "rude words")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := appcontentstore.AddComment(ctx, db, a, "44039999999999999999", 3, ""); !errors.Is(err, appcontentstore.ErrNotFound) {
		t.Fatalf("unknown station: %v", err)
	}
	var opID string
	if err := db.QueryRow(ctx, `select id::text from operators limit 1`).Scan(&opID); err != nil {
		t.Fatal(err)
	}
	if k, err := appcontentstore.Moderate(ctx, db, pid, rude.ID, opID, true); err != nil || !k.Hidden || k.ModeratedBy == "" {
		t.Fatalf("hide: %+v, %v", k, err)
	}
	served, err := appcontentstore.ListComments(ctx, db, pid, appcontentstore.CommentFilter{StationID: station, Visible: true}, appcontentstore.Page{Limit: 10})
	if err != nil || len(served) != 1 || served[0].ID != keep.ID {
		t.Fatalf("served: %+v, %v; want only %s", served, err, keep.ID)
	}
	all, err := appcontentstore.ListComments(ctx, db, pid, appcontentstore.CommentFilter{}, appcontentstore.Page{Limit: 10})
	if err != nil || len(all) != 2 {
		t.Fatalf("operator list: %d, %v", len(all), err)
	}
	if _, err := appcontentstore.Moderate(ctx, db, pid, rude.ID, opID, false); err != nil {
		t.Fatal(err)
	}
	served, _ = appcontentstore.ListComments(ctx, db, pid, appcontentstore.CommentFilter{StationID: station, Visible: true}, appcontentstore.Page{Limit: 10})
	if len(served) != 2 {
		t.Fatalf("shown again: %d served, want 2", len(served))
	}
	// Paging: one at a time, newest first, no repeats.
	first, _ := appcontentstore.ListComments(ctx, db, pid, appcontentstore.CommentFilter{}, appcontentstore.Page{Limit: 1})
	next, _ := appcontentstore.ListComments(ctx, db, pid, appcontentstore.CommentFilter{}, appcontentstore.Page{Limit: 1, Before: &first[0].CreatedAt, BeforeID: first[0].ID})
	if len(first) != 1 || len(next) != 1 || first[0].ID == next[0].ID {
		t.Fatalf("paging: %+v then %+v", first, next)
	}
}

func TestDriverToken(t *testing.T) {
	ctx := context.Background()
	db, pid := setup(t)
	a := driver(t, db, pid, "A")
	id, err := appcontentstore.IssueToken(ctx, db, pid, a.CustomerID, []byte("hash-a"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := appcontentstore.DriverByToken(ctx, db, []byte("hash-a"))
	if err != nil || d != a {
		t.Fatalf("by token: %+v, %v; want %+v", d, err, a)
	}
	if err := appcontentstore.RevokeToken(ctx, db, pid, id); err != nil {
		t.Fatal(err)
	}
	if _, err := appcontentstore.DriverByToken(ctx, db, []byte("hash-a")); !errors.Is(err, appcontentstore.ErrNotFound) {
		t.Fatalf("revoked: %v", err)
	}
	if _, err := appcontentstore.IssueToken(ctx, db, pid, "00000000-0000-0000-0000-000000000000", []byte("x")); !errors.Is(err, appcontentstore.ErrNotFound) {
		t.Fatalf("unknown customer: %v", err)
	}
}
