package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"

	smsacts "github.com/voltflow/voltflow/activities/sms"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/production"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/operator"
)

// envAllowOutbox=1 says on purpose that SMS and mail stay in the local
// outbox in production (e.g. a site without an SMS contract yet).
const envAllowOutbox = "VOLTFLOW_ALLOW_OUTBOX"

// isProduction reports the production switch (package production), warning
// once when only its deprecated spelling is set.
func isProduction(log *slog.Logger, getenv func(string) string) bool {
	on, deprecated := production.Enabled(getenv)
	if deprecated {
		log.Warn(production.DeprecatedEnv + "=1 is deprecated: set " + production.Env + "=" + production.Value)
	}
	return on
}

// readiness lists, one line each, what stops a production start: default
// passwords, the demo regulator credentials or dev master key, and SMS or
// mail left on the local outbox (unless VOLTFLOW_ALLOW_OUTBOX=1).
func readiness(ctx context.Context, db *store.DB, getenv func(string) string) ([]string, error) {
	var lines []string
	weak, err := defaultPasswords(ctx, db)
	if err != nil {
		return nil, err
	}
	if len(weak) > 0 {
		lines = append(lines, fmt.Sprintf("operators %s still have a default password: change it (POST /api/v1/auth/password) or disable them",
			strings.Join(weak, ", ")))
	}
	line, err := regulatorReadiness(ctx, db)
	if err != nil {
		return nil, err
	}
	if line != "" {
		lines = append(lines, line)
	}
	if getenv(envAllowOutbox) != "1" {
		sms, err := smsacts.ConfigFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		if len(sms.Providers) == 0 || slices.Contains(sms.Providers, smsacts.Outbox{}.Name()) {
			lines = append(lines, "SMS goes to the local outbox: set VOLTFLOW_SMS_PROVIDERS (aliyun, tencent), or "+envAllowOutbox+"=1 to keep the outbox on purpose")
		}
		if getenv("VOLTFLOW_SMTP_ADDR") == "" {
			lines = append(lines, "mail goes to the local outbox: set VOLTFLOW_SMTP_ADDR, or "+envAllowOutbox+"=1 to keep the outbox on purpose")
		}
	}
	return lines, nil
}

// defaultPasswords lists the operators whose password is their username or
// one of the demo's published passwords.
func defaultPasswords(ctx context.Context, db *store.DB) ([]string, error) {
	creds, err := operator.Credentials(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("check default passwords: %w", err)
	}
	var published []string
	for _, o := range demo.Defaults().Operators {
		published = append(published, o.Password)
	}
	var weak []string
	for _, c := range creds {
		for _, p := range append([]string{c.Username}, published...) {
			if bcrypt.CompareHashAndPassword([]byte(c.PasswordHash), []byte(p)) == nil {
				weak = append(weak, c.Username)
				break
			}
		}
	}
	return weak, nil
}

// regulatorReadiness is the regulator exchange's line: the dev master key,
// no credentials, or the demo credentials ("" when ready).
func regulatorReadiness(ctx context.Context, db *store.DB) (string, error) {
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		return "", err
	}
	if mk.Dev {
		return "regulator exchange uses the dev master key: set " + keys.EnvMasterKey + " or " + keys.EnvMasterKeyFile, nil
	}
	sec, err := (&keys.Store{DB: db, Key: mk}).Current(ctx, push.DefaultRegulator)
	if err != nil {
		return "regulator exchange has no credentials for " + push.DefaultRegulator + ": store the ones the regulator issued", nil
	}
	if keys.IsDev(sec) {
		return "regulator exchange uses the demo regulator credentials: store the ones the regulator issued", nil
	}
	return "", nil
}

// refuseUnready is the production start's gate: every readiness problem is
// logged on its own line and the start fails.
func refuseUnready(ctx context.Context, log *slog.Logger, db *store.DB, getenv func(string) string) error {
	lines, err := readiness(ctx, db, getenv)
	if err != nil {
		return err
	}
	for _, l := range lines {
		log.Error("production start refused: " + l)
	}
	if len(lines) > 0 {
		return errors.New("production start refused:\n  " + strings.Join(lines, "\n  "))
	}
	return nil
}

// refuseDefaultPasswords is the default-password check alone.
func refuseDefaultPasswords(ctx context.Context, db *store.DB) error {
	weak, err := defaultPasswords(ctx, db)
	if err != nil {
		return err
	}
	if len(weak) > 0 {
		return fmt.Errorf("production start refused: operators %v still have their default password", weak)
	}
	return nil
}
