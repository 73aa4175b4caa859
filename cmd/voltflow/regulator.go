package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
)

const regulatorUsage = `usage: voltflow regulator credentials set --operator-id X [--regulator R] [--secrets-file F] [--overlap 24h]
       voltflow regulator credentials show [--regulator R]
The four secrets (OperatorSecret, DataSecret, DataSecretIV, SigSecret) come from the file or standard input,
as JSON or as four lines in that order, never from the command line`

// runRegulator is `voltflow regulator credentials set|show` (R5): it
// installs the credentials the regulator issued, sealed with the master key
// (VOLTFLOW_MASTER_KEY), rotating the older set out after an overlap, and
// shows what is installed as fingerprints only. out receives the listing.
func runRegulator(ctx context.Context, log *slog.Logger, args []string, stdin io.Reader, out io.Writer) error {
	if len(args) < 2 || args[0] != "credentials" || (args[1] != "set" && args[1] != "show") {
		return errors.New(regulatorUsage)
	}
	fs := flag.NewFlagSet("regulator credentials "+args[1], flag.ContinueOnError)
	regulator := fs.String("regulator", push.DefaultRegulator, "the regulator the credentials are for")
	operatorID := fs.String("operator-id", "", "OperatorID the regulator assigned (9 characters)")
	secretsFile := fs.String("secrets-file", "", "file with the four secrets (default: standard input)")
	overlap := fs.Duration("overlap", 24*time.Hour, "how long the older set still opens incoming requests (0: ends now)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		return err
	}
	if mk.Dev {
		log.Warn("regulator credentials sealed with the dev master key: set " + keys.EnvMasterKey + " (a production start refuses it)")
	}
	_, db, err := openMigrated(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()
	ks := &keys.Store{DB: db, Key: mk}
	if args[1] == "set" {
		if *operatorID == "" {
			return errors.New("regulator credentials set: --operator-id is required")
		}
		in := stdin
		if *secretsFile != "" {
			f, err := os.Open(*secretsFile)
			if err != nil {
				return fmt.Errorf("regulator credentials set: %w", err)
			}
			defer func() { _ = f.Close() }() // read only
			in = f
		}
		sec, err := keys.ReadSecrets(in, *operatorID)
		if err != nil {
			return fmt.Errorf("regulator credentials set: %w", err)
		}
		if err := ks.Install(ctx, *regulator, sec, *overlap); err != nil {
			return fmt.Errorf("regulator credentials set: %w", err)
		}
		log.Info("regulator credentials installed", "regulator", *regulator, "operatorId", *operatorID, "overlap", *overlap)
	}
	list, err := ks.List(ctx, *regulator)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"regulator": *regulator, "items": list})
}
