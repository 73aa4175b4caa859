// Package appcontent is where the driver app's content is read and written
// (issue 23 section 3, C12): driver tokens, news and banners, system
// messages, feedback threads and station comments. The rules are in
// domain/appcontent; private-message groups are the customer groups of
// store/chargeorder (C5).
package appcontent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	appcontentdom "github.com/voltflow/voltflow/domain/appcontent"
	"github.com/voltflow/voltflow/store"
)

// ErrNotFound is a row unknown in the project (or not the driver's).
var ErrNotFound = errors.New("appcontent: not found")

// Page is a keyset page, newest first: rows before (Before, BeforeID).
type Page struct {
	Limit    int
	Before   *time.Time
	BeforeID string
}

func (p Page) limit() int {
	if p.Limit <= 0 || p.Limit > 500 {
		return 50
	}
	return p.Limit
}

// keyset is the SQL condition of p on the columns at and id, as parameters
// n and n+1 (true when the page is the first).
func keyset(at, id string, n int) string {
	return fmt.Sprintf(` and ($%d::timestamptz is null or (%s, %s::text) < ($%d, $%d))`, n, at, id, n, n+1)
}

// Driver is the caller of the driver app: a charging customer of a project.
type Driver struct {
	ProjectID  string `json:"projectId"`
	CustomerID string `json:"customerId"`
	Name       string `json:"name"`
}

// IssueToken stores a driver token's hash for a customer of the project.
func IssueToken(ctx context.Context, db *store.DB, projectID, customerID string, hash []byte) (string, error) {
	id := uuid.NewString()
	tag, err := db.Exec(ctx, `insert into driver_tokens (id, project_id, customer_id, token_hash)
		select $1, $2, c.id, $4 from customers c where c.id::text=$3 and c.project_id=$2`, id, projectID, customerID, hash)
	if err != nil {
		return "", fmt.Errorf("issue driver token for %s: %w", customerID, err)
	}
	if tag.RowsAffected() == 0 {
		return "", fmt.Errorf("customer %s: %w", customerID, ErrNotFound)
	}
	return id, nil
}

// RevokeToken ends a driver token of the project.
func RevokeToken(ctx context.Context, db *store.DB, projectID, id string) error {
	tag, err := db.Exec(ctx, `update driver_tokens set revoked_at=coalesce(revoked_at, now())
		where id::text=$1 and project_id=$2`, id, projectID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("driver token %s: %w", id, ErrNotFound)
	}
	return nil
}

// DriverByToken is the driver a live token hash belongs to.
func DriverByToken(ctx context.Context, db *store.DB, hash []byte) (Driver, error) {
	var d Driver
	err := db.QueryRow(ctx, `select t.project_id::text, t.customer_id::text, c.name
		from driver_tokens t join customers c on c.id=t.customer_id
		where t.token_hash=$1 and t.revoked_at is null`, hash).Scan(&d.ProjectID, &d.CustomerID, &d.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	return d, err
}

const postCols = `id::text, kind, title, body, image_url, link_url, position, publish_from, publish_to, created_at, updated_at`

func scanPost(r pgx.CollectableRow) (appcontentdom.Post, error) {
	var p appcontentdom.Post
	return p, r.Scan(&p.ID, &p.Kind, &p.Title, &p.Body, &p.ImageURL, &p.LinkURL, &p.Position,
		&p.PublishFrom, &p.PublishTo, &p.CreatedAt, &p.UpdatedAt)
}

// SavePost creates a post (ID empty) or replaces one of the project.
func SavePost(ctx context.Context, db *store.DB, projectID string, p appcontentdom.Post) (appcontentdom.Post, error) {
	if err := p.Validate(); err != nil {
		return p, err
	}
	var rows pgx.Rows
	var err error
	if p.ID == "" {
		rows, err = db.Query(ctx, `insert into app_posts (id, project_id, kind, title, body, image_url, link_url,
			position, publish_from, publish_to) values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) returning `+postCols,
			uuid.NewString(), projectID, p.Kind, p.Title, p.Body, p.ImageURL, p.LinkURL, p.Position, p.PublishFrom, p.PublishTo)
	} else {
		rows, err = db.Query(ctx, `update app_posts set kind=$3, title=$4, body=$5, image_url=$6, link_url=$7,
			position=$8, publish_from=$9, publish_to=$10, updated_at=now()
			where id::text=$1 and project_id=$2 returning `+postCols,
			p.ID, projectID, p.Kind, p.Title, p.Body, p.ImageURL, p.LinkURL, p.Position, p.PublishFrom, p.PublishTo)
	}
	if err != nil {
		return p, err
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanPost)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("post %s: %w", p.ID, ErrNotFound)
	}
	return out, err
}

// DeletePost removes a post of the project.
func DeletePost(ctx context.Context, db *store.DB, projectID, id string) error {
	tag, err := db.Exec(ctx, `delete from app_posts where id::text=$1 and project_id=$2`, id, projectID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("post %s: %w", id, ErrNotFound)
	}
	return nil
}

// ListPosts is every post of the project (kind "" for both), newest
// created first, whatever their window: the operator's list.
func ListPosts(ctx context.Context, db *store.DB, projectID, kind string, p Page) ([]appcontentdom.Post, error) {
	rows, err := db.Query(ctx, `select `+postCols+` from app_posts
		where project_id=$1 and ($2='' or kind=$2)`+keyset("created_at", "id", 3)+`
		order by created_at desc, id desc limit $5`, projectID, kind, p.Before, p.BeforeID, p.limit())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanPost)
}

// ServedPosts is what a driver sees at now: the posts of the project inside
// their publish window, in the operator's order (position, then the newest
// publication first). The window is applied here, in SQL, so that a banner
// outside it never leaves the database. The list is short and ordered by
// position, not time, so it is one bounded page (limit, at most 500).
func ServedPosts(ctx context.Context, db *store.DB, projectID, kind string, now time.Time, limit int) ([]appcontentdom.Post, error) {
	rows, err := db.Query(ctx, `select `+postCols+` from app_posts
		where project_id=$1 and ($2='' or kind=$2)
		  and publish_from <= $3 and (publish_to is null or publish_to > $3)
		order by position, publish_from desc, id limit $4`, projectID, kind, now, Page{Limit: limit}.limit())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanPost)
}
