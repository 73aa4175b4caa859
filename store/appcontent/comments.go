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

// Comment is a driver's comment on a station (电站评论).
type Comment struct {
	ID           string     `json:"id"`
	StationID    string     `json:"stationId"`
	CustomerID   string     `json:"customerId,omitempty"`
	CustomerName string     `json:"customerName"`
	Rating       int        `json:"rating"`
	Body         string     `json:"body"`
	Hidden       bool       `json:"hidden"`
	ModeratedBy  string     `json:"moderatedBy,omitempty"`
	ModeratedAt  *time.Time `json:"moderatedAt,omitempty"`
	CreatedAt    time.Time  `json:"createdAt"`
}

// AddComment stores a driver's comment on a station of its project.
func AddComment(ctx context.Context, db *store.DB, d Driver, stationID string, rating int, body string) (Comment, error) {
	if err := appcontentdom.CheckRating(rating); err != nil {
		return Comment{}, err
	}
	if len([]rune(body)) > 2000 {
		return Comment{}, fmt.Errorf("%w: body must be at most 2000 characters", appcontentdom.ErrInvalid)
	}
	id := uuid.NewString()
	tag, err := db.Exec(ctx, `insert into station_comments (id, project_id, station_id, customer_id, rating, body)
		select $1, $2, s.station_id, $4, $5, $6 from charging_stations s where s.station_id=$3 and s.project_id=$2`,
		id, d.ProjectID, stationID, d.CustomerID, rating, body)
	if err != nil {
		return Comment{}, err
	}
	if tag.RowsAffected() == 0 {
		return Comment{}, fmt.Errorf("station %s: %w", stationID, ErrNotFound)
	}
	return getComment(ctx, db, d.ProjectID, id)
}

const commentCols = `k.id::text, trim(k.station_id), k.customer_id::text, c.name, k.rating, k.body, k.hidden,
	coalesce(o.username,''), k.moderated_at, k.created_at`

const commentFrom = ` from station_comments k join customers c on c.id=k.customer_id
	left join operators o on o.id=k.moderated_by`

func scanComment(r pgx.CollectableRow) (Comment, error) {
	var k Comment
	return k, r.Scan(&k.ID, &k.StationID, &k.CustomerID, &k.CustomerName, &k.Rating, &k.Body, &k.Hidden,
		&k.ModeratedBy, &k.ModeratedAt, &k.CreatedAt)
}

func getComment(ctx context.Context, db *store.DB, projectID, id string) (Comment, error) {
	rows, err := db.Query(ctx, `select `+commentCols+commentFrom+` where k.id::text=$1 and k.project_id=$2`, id, projectID)
	if err != nil {
		return Comment{}, err
	}
	k, err := pgx.CollectExactlyOneRow(rows, scanComment)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, fmt.Errorf("comment %s: %w", id, ErrNotFound)
	}
	return k, err
}

// CommentFilter narrows a list of comments.
type CommentFilter struct {
	StationID string // "" for every station of the project
	// Visible keeps only comments not hidden: what drivers are served.
	Visible bool
	Hidden  *bool // operator filter on the moderation state
}

// ListComments is the project's comments, newest first.
func ListComments(ctx context.Context, db *store.DB, projectID string, f CommentFilter, p Page) ([]Comment, error) {
	var hidden any
	if f.Hidden != nil {
		hidden = *f.Hidden
	}
	rows, err := db.Query(ctx, `select `+commentCols+commentFrom+`
		where k.project_id=$1 and ($2='' or k.station_id=$2) and (not $3 or not k.hidden)
		  and ($4::boolean is null or k.hidden=$4)`+keyset("k.created_at", "k.id", 5)+`
		order by k.created_at desc, k.id desc limit $7`,
		projectID, f.StationID, f.Visible, hidden, p.Before, p.BeforeID, p.limit())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanComment)
}

// Moderate hides or shows a comment of the project, recording who did it.
func Moderate(ctx context.Context, db *store.DB, projectID, id, operatorID string, hidden bool) (Comment, error) {
	tag, err := db.Exec(ctx, `update station_comments set hidden=$3, moderated_by=$4, moderated_at=now()
		where id::text=$1 and project_id=$2`, id, projectID, hidden, operatorID)
	if err != nil {
		return Comment{}, err
	}
	if tag.RowsAffected() == 0 {
		return Comment{}, fmt.Errorf("comment %s: %w", id, ErrNotFound)
	}
	return getComment(ctx, db, projectID, id)
}
