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

// Feedback is a driver's feedback (反馈) with its thread.
type Feedback struct {
	ID           string         `json:"id"`
	CustomerID   string         `json:"customerId"`
	CustomerName string         `json:"customerName"`
	Subject      string         `json:"subject"`
	Status       string         `json:"status"` // open | answered | closed
	CreatedAt    time.Time      `json:"createdAt"`
	UpdatedAt    time.Time      `json:"updatedAt"`
	Posts        []FeedbackPost `json:"posts,omitempty"`
}

// FeedbackPost is one entry of a feedback thread.
type FeedbackPost struct {
	ID        string    `json:"id"`
	Author    string    `json:"author"` // driver | operator
	Operator  string    `json:"operator,omitempty"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
}

// CreateFeedback opens a thread for the driver with its first post.
func CreateFeedback(ctx context.Context, db *store.DB, d Driver, subject, body string) (Feedback, error) {
	if err := appcontentdom.CheckText("subject", subject, 200); err != nil {
		return Feedback{}, err
	}
	if err := appcontentdom.CheckText("body", body, 4000); err != nil {
		return Feedback{}, err
	}
	id := uuid.NewString()
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `insert into app_feedback (id, project_id, customer_id, subject, status)
			values ($1,$2,$3,$4,'open')`, id, d.ProjectID, d.CustomerID, subject); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `insert into app_feedback_posts (id, feedback_id, author, body) values ($1,$2,'driver',$3)`,
			uuid.NewString(), id, body)
		return err
	})
	if err != nil {
		return Feedback{}, err
	}
	return GetFeedback(ctx, db, d.ProjectID, d.CustomerID, id)
}

// PostFeedback adds a post to a thread of the project (customerID set: only
// that driver's thread) and moves its status (domain/appcontent.AfterPost).
func PostFeedback(ctx context.Context, db *store.DB, projectID, customerID, id, author, operatorID, body string) (Feedback, error) {
	if err := appcontentdom.CheckText("body", body, 4000); err != nil {
		return Feedback{}, err
	}
	var op any
	if operatorID != "" {
		op = operatorID
	}
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `select status from app_feedback where id::text=$1 and project_id=$2
			and ($3='' or customer_id::text=$3) for update`, id, projectID, customerID).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("feedback %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		next, err := appcontentdom.AfterPost(status, author)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `insert into app_feedback_posts (id, feedback_id, author, operator_id, body)
			values ($1,$2,$3,$4,$5)`, uuid.NewString(), id, author, op, body); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `update app_feedback set status=$2, updated_at=now() where id=$1`, id, next)
		return err
	})
	if err != nil {
		return Feedback{}, err
	}
	return GetFeedback(ctx, db, projectID, customerID, id)
}

// CloseFeedback closes a thread of the project (closing twice is fine).
func CloseFeedback(ctx context.Context, db *store.DB, projectID, id string) (Feedback, error) {
	if _, err := db.Exec(ctx, `update app_feedback set status='closed', updated_at=now()
		where id::text=$1 and project_id=$2 and status<>'closed'`, id, projectID); err != nil {
		return Feedback{}, err
	}
	return GetFeedback(ctx, db, projectID, "", id)
}

const feedbackCols = `f.id::text, f.customer_id::text, c.name, f.subject, f.status, f.created_at, f.updated_at`

func scanFeedback(r pgx.CollectableRow) (Feedback, error) {
	var f Feedback
	return f, r.Scan(&f.ID, &f.CustomerID, &f.CustomerName, &f.Subject, &f.Status, &f.CreatedAt, &f.UpdatedAt)
}

// GetFeedback is a thread of the project with its posts (customerID set:
// only that driver's).
func GetFeedback(ctx context.Context, db *store.DB, projectID, customerID, id string) (Feedback, error) {
	rows, err := db.Query(ctx, `select `+feedbackCols+` from app_feedback f join customers c on c.id=f.customer_id
		where f.id::text=$1 and f.project_id=$2 and ($3='' or f.customer_id::text=$3)`, id, projectID, customerID)
	if err != nil {
		return Feedback{}, err
	}
	f, err := pgx.CollectExactlyOneRow(rows, scanFeedback)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, fmt.Errorf("feedback %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return f, err
	}
	rows, err = db.Query(ctx, `select p.id::text, p.author, coalesce(o.username,''), p.body, p.created_at
		from app_feedback_posts p left join operators o on o.id=p.operator_id
		where p.feedback_id=$1 order by p.created_at, p.id`, f.ID)
	if err != nil {
		return f, err
	}
	f.Posts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeedbackPost, error) {
		var p FeedbackPost
		return p, r.Scan(&p.ID, &p.Author, &p.Operator, &p.Body, &p.CreatedAt)
	})
	return f, err
}

// ListFeedback is the project's threads, newest first, without posts
// (customerID set: that driver's; status "" for every status).
func ListFeedback(ctx context.Context, db *store.DB, projectID, customerID, status string, p Page) ([]Feedback, error) {
	rows, err := db.Query(ctx, `select `+feedbackCols+` from app_feedback f join customers c on c.id=f.customer_id
		where f.project_id=$1 and ($2='' or f.customer_id::text=$2) and ($3='' or f.status=$3)`+
		keyset("f.created_at", "f.id", 4)+` order by f.created_at desc, f.id desc limit $6`,
		projectID, customerID, status, p.Before, p.BeforeID, p.limit())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanFeedback)
}
