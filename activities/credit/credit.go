// Package credit is the Temporal face of store/credit: enterprise
// recharges, credit applications, consumption on credit and bills, each
// step through the store's functions; bills and reminders are mailed
// through activities/mail. Each activity is idempotent.
package credit

import (
	"context"

	mailacts "github.com/voltflow/voltflow/activities/mail"
	"github.com/voltflow/voltflow/store"
	creditstore "github.com/voltflow/voltflow/store/credit"
)

// Activities run on the main queue.
type Activities struct {
	DB   *store.DB
	Mail *mailacts.Activities // bills and reminders go out through it
}

// The store's types, so workflows and their histories keep the same names
// and JSON as before the store moved out.
type (
	ApplicationStatusInput = creditstore.ApplicationStatusInput
	ApplyLimitInput        = creditstore.ApplyLimitInput
	ApplyLimitResult       = creditstore.ApplyLimitResult
	CloseInput             = creditstore.CloseInput
	Bill                   = creditstore.Bill
	BillInput              = creditstore.BillInput
	EscalateInput          = creditstore.EscalateInput
	Escalated              = creditstore.Escalated
	ConsumeInput           = creditstore.ConsumeInput
	Consumption            = creditstore.Consumption
	RechargeStatusInput    = creditstore.RechargeStatusInput
	BookRechargeInput      = creditstore.BookRechargeInput
)

// SetApplicationStatus writes the status the API shows.
func (a *Activities) SetApplicationStatus(ctx context.Context, in ApplicationStatusInput) error {
	return creditstore.SetApplicationStatus(ctx, a.DB, in)
}

// ApplyCreditLimit opens the credit account or changes its limit, checking
// the application again.
func (a *Activities) ApplyCreditLimit(ctx context.Context, in ApplyLimitInput) (ApplyLimitResult, error) {
	return creditstore.ApplyCreditLimit(ctx, a.DB, in)
}

// CloseCycle produces the cycle's bill; closing it again returns the bill.
func (a *Activities) CloseCycle(ctx context.Context, in CloseInput) (Bill, error) {
	return creditstore.CloseCycle(ctx, a.DB, in)
}

// EmailBill sends the bill to the enterprise's address once.
func (a *Activities) EmailBill(ctx context.Context, in BillInput) error {
	return creditstore.EmailBill(ctx, a.DB, in, a.send)
}

// Escalate reminds overdue bills (催款) and suspends credit when a bill is
// still unpaid after its grace.
func (a *Activities) Escalate(ctx context.Context, in EscalateInput) (Escalated, error) {
	return creditstore.Escalate(ctx, a.DB, in, a.send)
}

// Consume is the activity form of creditstore.Consume, for workflows that
// charge to credit.
func (a *Activities) Consume(ctx context.Context, in ConsumeInput) (Consumption, error) {
	c, _, err := creditstore.Consume(ctx, a.DB, in)
	return c, err
}

// SetEnterpriseRechargeStatus writes the status the API shows.
func (a *Activities) SetEnterpriseRechargeStatus(ctx context.Context, in RechargeStatusInput) error {
	return creditstore.SetEnterpriseRechargeStatus(ctx, a.DB, in)
}

// BookEnterpriseRecharge books cash into the enterprise's wallet (记账) and
// completes the recharge in one transaction.
func (a *Activities) BookEnterpriseRecharge(ctx context.Context, in BookRechargeInput) error {
	return creditstore.BookEnterpriseRecharge(ctx, a.DB, in)
}

// send mails a bill step's message through the mail activities.
func (a *Activities) send(ctx context.Context, m creditstore.Mail) error {
	mailer := a.Mail
	if mailer == nil {
		mailer = &mailacts.Activities{DB: a.DB}
	}
	return mailer.SendMail(ctx, mailacts.SendInput{ProjectID: m.ProjectID, Ref: m.Ref,
		Message: mailacts.Message{To: m.To, Subject: m.Subject, Body: m.Body}})
}
