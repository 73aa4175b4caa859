package main

import (
	"log/slog"
	"os"

	mailacts "github.com/voltflow/voltflow/activities/mail"
)

// mailProvider sends bills through SMTP when VOLTFLOW_SMTP_ADDR is set
// (VOLTFLOW_SMTP_FROM, VOLTFLOW_SMTP_USERNAME, VOLTFLOW_SMTP_PASSWORD), and
// otherwise keeps them in the local outbox (GET /api/v1/mail).
func mailProvider(log *slog.Logger) mailacts.Provider {
	addr := os.Getenv("VOLTFLOW_SMTP_ADDR")
	if addr == "" {
		return mailacts.Outbox{}
	}
	from := os.Getenv("VOLTFLOW_SMTP_FROM")
	if from == "" {
		from = "billing@voltflow.invalid"
	}
	log.Info("bills are e-mailed through SMTP", "addr", addr, "from", from)
	return &mailacts.SMTP{Addr: addr, From: from, Username: os.Getenv("VOLTFLOW_SMTP_USERNAME"), Password: os.Getenv("VOLTFLOW_SMTP_PASSWORD")}
}
