package main

import (
	"os"

	smsacts "github.com/voltflow/voltflow/activities/sms"
	"github.com/voltflow/voltflow/store"
)

// smsActivities builds the SMS sender from VOLTFLOW_SMS_* (see
// sms.ConfigFromEnv); without configuration it is the local outbox.
func smsActivities(db *store.DB) (*smsacts.Activities, error) {
	cfg, err := smsacts.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	providers, err := cfg.Build()
	if err != nil {
		return nil, err
	}
	return &smsacts.Activities{DB: db, Providers: providers, Templates: cfg.Templates,
		PerNumberPerHour: cfg.PerNumberPerHour, Inbox: cfg.OutboxInbox}, nil
}
