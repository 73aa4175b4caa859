package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/regsim"
)

// runRegulatorSim runs the regulator simulator (voltflow sim regulator) with
// the dev credentials of contracts.md unless flags override them.
func runRegulatorSim(ctx context.Context, log *slog.Logger, args []string) error {
	dev := keys.DevSecrets()
	fs := flag.NewFlagSet("sim regulator", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9400", "listen address")
	op := fs.String("operator-id", dev.OperatorID, "OperatorID of the platform pushing to us")
	opSecret := fs.String("operator-secret", dev.OperatorSecret, "OperatorSecret (query_token)")
	dataSecret := fs.String("data-secret", dev.DataSecret, "DataSecret (AES-128 key, 16 bytes)")
	dataIV := fs.String("data-secret-iv", dev.DataSecretIV, "DataSecretIV (16 bytes)")
	sigSecret := fs.String("sig-secret", dev.SigSecret, "SigSecret (HMAC-MD5 key)")
	ttl := fs.Duration("token-ttl", 2*time.Hour, "lifetime of issued tokens")
	platform := fs.String("platform", "http://127.0.0.1:8080/shevcs/v1", "the platform's /shevcs/v1 base to backfill from after an outage (empty: no backfill)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return regsim.Run(ctx, regsim.Config{Addr: *addr, TokenTTL: *ttl, Log: log, PlatformURL: *platform,
		Secrets: envelope.Secrets{OperatorID: *op, OperatorSecret: *opSecret, DataSecret: *dataSecret,
			DataSecretIV: *dataIV, SigSecret: *sigSecret}})
}
