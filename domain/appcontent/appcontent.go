// Package appcontent holds the rules of the driver app's content (issue 23
// section 3, C12; seed 000 "App管理"): news and banners (新闻, 轮播图) served
// only inside their publish window, system messages (系统消息) addressed to
// all drivers, a customer group (私信组) or one driver, feedback threads
// (反馈) and station comments (电站评论). No I/O here.
package appcontent

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrInvalid is content that cannot be stored.
var ErrInvalid = errors.New("invalid app content")

// ErrClosed is a post to a closed feedback thread.
var ErrClosed = errors.New("feedback is closed")

// Post kinds.
const (
	News   = "news"
	Banner = "banner"
)

// Post is a news item or a banner of a project.
type Post struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"` // news | banner
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	ImageURL    string     `json:"imageUrl"`
	LinkURL     string     `json:"linkUrl"`
	Position    int        `json:"position"` // ascending: lower first
	PublishFrom time.Time  `json:"publishFrom"`
	PublishTo   *time.Time `json:"publishTo,omitempty"` // nil: open-ended
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// Validate checks a post before it is stored.
func (p Post) Validate() error {
	switch {
	case p.Kind != News && p.Kind != Banner:
		return fmt.Errorf("%w: kind must be news or banner", ErrInvalid)
	case strings.TrimSpace(p.Title) == "" || utf8.RuneCountInString(p.Title) > 200:
		return fmt.Errorf("%w: title must be 1..200 characters", ErrInvalid)
	case p.Position < -1000000 || p.Position > 1000000:
		return fmt.Errorf("%w: position must be within ±1000000", ErrInvalid)
	case p.PublishFrom.IsZero():
		return fmt.Errorf("%w: publishFrom is required", ErrInvalid)
	case p.PublishTo != nil && !p.PublishTo.After(p.PublishFrom):
		return fmt.Errorf("%w: publishTo must be after publishFrom", ErrInvalid)
	}
	return nil
}

// Served reports whether a driver sees the post at now: inside
// [PublishFrom, PublishTo).
func (p Post) Served(now time.Time) bool {
	return !now.Before(p.PublishFrom) && (p.PublishTo == nil || now.Before(*p.PublishTo))
}

// Message audiences.
const (
	ToAll      = "all"
	ToGroup    = "group"
	ToCustomer = "customer"
)

// Message is a system message to drivers.
type Message struct {
	ID         string    `json:"id"`
	Audience   string    `json:"audience"` // all | group | customer
	GroupID    string    `json:"groupId,omitempty"`
	CustomerID string    `json:"customerId,omitempty"`
	Recipients int       `json:"recipients"` // for group and customer: how many it reached
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"createdAt"`
	// ReadAt is when the asking driver read it (driver side only).
	ReadAt *time.Time `json:"readAt,omitempty"`
}

// Validate checks a message before it is sent.
func (m Message) Validate() error {
	switch {
	case strings.TrimSpace(m.Title) == "" || utf8.RuneCountInString(m.Title) > 200:
		return fmt.Errorf("%w: title must be 1..200 characters", ErrInvalid)
	case m.Audience == ToAll && (m.GroupID != "" || m.CustomerID != ""):
		return fmt.Errorf("%w: a message to all names no group or customer", ErrInvalid)
	case m.Audience == ToGroup && (m.GroupID == "" || m.CustomerID != ""):
		return fmt.Errorf("%w: a message to a group names groupId only", ErrInvalid)
	case m.Audience == ToCustomer && (m.CustomerID == "" || m.GroupID != ""):
		return fmt.Errorf("%w: a message to one driver names customerId only", ErrInvalid)
	case m.Audience != ToAll && m.Audience != ToGroup && m.Audience != ToCustomer:
		return fmt.Errorf("%w: audience must be all, group or customer", ErrInvalid)
	}
	return nil
}

// Feedback statuses.
const (
	Open     = "open"
	Answered = "answered"
	Closed   = "closed"
)

// Authors of feedback posts.
const (
	ByDriver   = "driver"
	ByOperator = "operator"
)

// AfterPost is the status of a feedback thread after a post by author:
// an operator's reply answers it, a driver's post opens it again; a closed
// thread takes no post.
func AfterPost(status, author string) (string, error) {
	if status == Closed {
		return status, ErrClosed
	}
	if author == ByOperator {
		return Answered, nil
	}
	return Open, nil
}

// CheckText checks a required free text of at most max characters.
func CheckText(field, v string, max int) error {
	if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > max {
		return fmt.Errorf("%w: %s must be 1..%d characters", ErrInvalid, field, max)
	}
	return nil
}

// CheckRating checks a station comment's rating (1..5 stars).
func CheckRating(r int) error {
	if r < 1 || r > 5 {
		return fmt.Errorf("%w: rating must be 1..5", ErrInvalid)
	}
	return nil
}
