package charger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/card"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// ErrCardNotFound is returned for a card number unknown in the caller's projects.
var ErrCardNotFound = errors.New("card not found")

// Card is a charging card with its prepaid balance.
type Card struct {
	CardNo    string       `json:"cardNo"`
	ProjectID string       `json:"projectId"`
	Status    card.Status  `json:"status"`
	Holder    string       `json:"holder"`
	AccountNo string       `json:"accountNo,omitempty"`
	Balance   money.Amount `json:"balance"`
	UpdatedAt time.Time    `json:"updatedAt"`
}

// GetCard loads a card among the given projects, with its wallet balance.
func GetCard(ctx context.Context, db *store.DB, projects []string, cardNo string) (Card, error) {
	var c Card
	var accountNo *string
	err := db.QueryRow(ctx, `select c.card_no, c.project_id::text, c.status, c.holder, a.account_no, c.updated_at
		from cards c left join prepaid_accounts a on a.id=c.account_id
		where c.card_no=$1 and c.project_id::text = any($2)`, cardNo, projects).
		Scan(&c.CardNo, &c.ProjectID, &c.Status, &c.Holder, &accountNo, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Card{}, fmt.Errorf("card %s: %w", cardNo, ErrCardNotFound)
	}
	if err != nil {
		return Card{}, fmt.Errorf("card %s: %w", cardNo, err)
	}
	c.Balance = money.Zero
	if accountNo != nil {
		c.AccountNo = *accountNo
		if c.Balance, err = ledgerstore.Balance(ctx, db, c.ProjectID, ledgerdom.CustomerWallet(*accountNo)); err != nil {
			return Card{}, err
		}
	}
	return c, nil
}

// StatusChange asks for a card's status to become To.
type StatusChange struct {
	CardNo     string
	Projects   []string // the caller may act in these
	To         card.Status
	OperatorID string // who asks (empty: the system)
	Reason     string
}

// SetCardStatus changes a card's status under the rules of domain/card and
// records the change in card_events. Asking for the status a card already
// has changes nothing and is not an error. The charge points learn of it at
// the card's next Authorize or StartTransaction, which read the status.
func SetCardStatus(ctx context.Context, db *store.DB, ch StatusChange) (Card, error) {
	var projectID string
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var from card.Status
		err := tx.QueryRow(ctx, `select status, project_id::text from cards where card_no=$1 and project_id::text = any($2)
			for update`, ch.CardNo, ch.Projects).Scan(&from, &projectID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("card %s: %w", ch.CardNo, ErrCardNotFound)
		}
		if err != nil {
			return err
		}
		changed, err := card.Change(from, ch.To)
		if err != nil {
			return fmt.Errorf("card %s: %w", ch.CardNo, err)
		}
		if !changed {
			return nil
		}
		if _, err := tx.Exec(ctx, `update cards set status=$2, updated_at=now() where card_no=$1`, ch.CardNo, string(ch.To)); err != nil {
			return err
		}
		var op any
		if ch.OperatorID != "" {
			op = ch.OperatorID
		}
		_, err = tx.Exec(ctx, `insert into card_events (card_no, from_status, to_status, operator_id, reason)
			values ($1,$2,$3,$4,$5)`, ch.CardNo, string(from), string(ch.To), op, ch.Reason)
		return err
	})
	if err != nil {
		return Card{}, err
	}
	return GetCard(ctx, db, []string{projectID}, ch.CardNo)
}

// NewCard is a card to issue.
type NewCard struct {
	ProjectID string
	CardNo    string
	Holder    string
	Phone     string
	Opening   money.Amount
}

// IssueCard issues an active card to a new customer with a prepaid account
// and books the opening balance into the account's wallet (cash in), in one
// transaction. Issuing a card number that exists changes nothing.
func IssueCard(ctx context.Context, db *store.DB, n NewCard) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from cards where card_no=$1)`, n.CardNo).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		customerID, accountID := uuid.NewString(), uuid.NewString()
		accountNo := "C-" + n.CardNo
		if _, err := tx.Exec(ctx, `insert into customers (id, project_id, name, phone) values ($1,$2,$3,$4)`,
			customerID, n.ProjectID, n.Holder, n.Phone); err != nil {
			return fmt.Errorf("card %s customer: %w", n.CardNo, err)
		}
		if _, err := tx.Exec(ctx, `insert into prepaid_accounts (id, project_id, customer_id, account_no) values ($1,$2,$3,$4)`,
			accountID, n.ProjectID, customerID, accountNo); err != nil {
			return fmt.Errorf("card %s account: %w", n.CardNo, err)
		}
		if _, err := tx.Exec(ctx, `insert into cards (card_no, project_id, status, holder, customer_id, account_id)
			values ($1,$2,'active',$3,$4,$5)`, n.CardNo, n.ProjectID, n.Holder, customerID, accountID); err != nil {
			return fmt.Errorf("card %s: %w", n.CardNo, err)
		}
		if _, err := tx.Exec(ctx, `insert into card_events (card_no, to_status, reason) values ($1,'active','issued')`, n.CardNo); err != nil {
			return err
		}
		if n.Opening.IsZero() {
			return nil
		}
		e := ledgerdom.Transfer("card-topup/"+n.CardNo+"/opening", "card-topup", "opening balance of card "+n.CardNo,
			ledgerdom.Posting{Account: ledgerdom.CustomerWallet(accountNo), Kind: ledgerdom.Liability},
			ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}, n.Opening)
		_, err := ledgerstore.BookTx(ctx, tx, n.ProjectID, e)
		return err
	})
}
