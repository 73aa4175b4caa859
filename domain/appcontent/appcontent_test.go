package appcontent

import (
	"errors"
	"testing"
	"time"
)

func TestServed(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(48 * time.Hour)
	tests := []struct {
		name string
		to   *time.Time
		now  time.Time
		want bool
	}{
		{"before the window", &to, from.Add(-time.Second), false},
		{"at its start", &to, from, true},
		{"inside", &to, from.Add(time.Hour), true},
		{"at its end (exclusive)", &to, to, false},
		{"after", &to, to.Add(time.Hour), false},
		{"open-ended", nil, from.Add(1000 * time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Post{Kind: Banner, Title: "x", PublishFrom: from, PublishTo: tt.to}
			if got := p.Served(tt.now); got != tt.want {
				t.Fatalf("Served(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func TestAfterPost(t *testing.T) {
	tests := []struct {
		status, author, want string
		err                  error
	}{
		{Open, ByOperator, Answered, nil},
		{Answered, ByDriver, Open, nil},
		{Answered, ByOperator, Answered, nil},
		{Closed, ByDriver, Closed, ErrClosed},
		{Closed, ByOperator, Closed, ErrClosed},
	}
	for _, tt := range tests {
		got, err := AfterPost(tt.status, tt.author)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("AfterPost(%s, %s) = %s, %v; want %s, %v", tt.status, tt.author, got, err, tt.want, tt.err)
		}
	}
}

func TestValidate(t *testing.T) {
	from := time.Now()
	before := from.Add(-time.Hour)
	bad := []error{
		Post{Kind: "ad", Title: "x", PublishFrom: from}.Validate(),
		Post{Kind: News, Title: " ", PublishFrom: from}.Validate(),
		Post{Kind: News, Title: "x"}.Validate(),
		Post{Kind: News, Title: "x", PublishFrom: from, PublishTo: &before}.Validate(),
		Message{Audience: ToGroup, Title: "x"}.Validate(),
		Message{Audience: ToAll, Title: "x", CustomerID: "c"}.Validate(),
		Message{Audience: "some", Title: "x"}.Validate(),
		CheckRating(0), CheckRating(6),
	}
	for i, err := range bad {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d: %v, want ErrInvalid", i, err)
		}
	}
	if err := (Message{Audience: ToCustomer, Title: "x", CustomerID: "c"}).Validate(); err != nil {
		t.Error(err)
	}
}
