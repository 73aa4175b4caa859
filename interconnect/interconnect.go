// Package interconnect wires the regulator exchange (DB4403/T 77-2020) for
// a Voltflow process: the credentials store, the handler the regulator
// calls (/shevcs/v1/...), and the push activities and workflow starter.
//
//	interconnect/envelope   §10 envelope crypto
//	interconnect/keys       credentials sealed under the master key
//	interconnect/registry   stations, equipment, connectors, status (tables 1–10),
//	                        alarms, events, BMS, statistics, distribution, video (11–22, appendix B)
//	interconnect/serve      what the regulator queries (§9, appendix C)
//	interconnect/regclient  our calls to the regulator (token, retry classes)
//	interconnect/push       outbox, regulator-pump/<regulator> workflow and its pump
//	interconnect/regsim     the regulator simulator (voltflow sim regulator)
package interconnect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/regclient"
	"github.com/voltflow/voltflow/interconnect/serve"
	"github.com/voltflow/voltflow/production"
	"github.com/voltflow/voltflow/store"
)

// Environment.
const (
	EnvRegulatorURL = "VOLTFLOW_REGULATOR_URL" // push target, default the simulator
	// EnvProduction is the deprecated spelling of the production switch
	// (package production: VOLTFLOW_ENV=production); both refuse dev keys
	// and dev credentials.
	EnvProduction = production.DeprecatedEnv
)

// Wiring is the regulator exchange of one process.
type Wiring struct {
	Keys       *keys.Store
	Client     *regclient.Client
	Activities *push.Activities
	Handler    *serve.Handler
	Starter    *push.Starter
}

// FromEnv builds the wiring from the environment. It seeds the dev
// credentials on a fresh database unless in production, where the dev
// master key and the demo secrets are refused.
func FromEnv(ctx context.Context, db *store.DB, tc client.Client, log *slog.Logger) (*Wiring, error) {
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		return nil, err
	}
	prod, _ := production.Enabled(os.Getenv)
	ks := &keys.Store{DB: db, Key: mk}
	if prod {
		if mk.Dev {
			return nil, errors.New("interconnect: production start refuses the dev master key; set " + keys.EnvMasterKey)
		}
		sec, err := ks.Current(ctx, push.DefaultRegulator)
		if err != nil {
			return nil, fmt.Errorf("interconnect: production needs regulator credentials: %w", err)
		}
		if keys.IsDev(sec) {
			return nil, errors.New("interconnect: production start refuses the demo regulator credentials")
		}
	} else if err := ks.EnsureDev(ctx, push.DefaultRegulator); err != nil {
		return nil, err
	}
	url := os.Getenv(EnvRegulatorURL)
	if url == "" {
		url = regclient.DefaultURL
	}
	w := &Wiring{Keys: ks}
	w.Client = &regclient.Client{BaseURL: url, Secrets: func(ctx context.Context) (envelope.Secrets, error) {
		return ks.Current(ctx, push.DefaultRegulator)
	}}
	w.Activities = &push.Activities{DB: db, Client: w.Client, Regulator: push.DefaultRegulator}
	w.Starter = &push.Starter{Temporal: tc}
	w.Handler = serve.New(serve.Config{DB: db, Keys: ks, Log: log,
		OnFrequency: func(ctx context.Context, _ string, seconds int) {
			if err := w.Starter.SetFrequency(ctx, db, seconds); err != nil {
				log.Warn("signal push cadence", "error", err)
			}
		}})
	return w, nil
}
