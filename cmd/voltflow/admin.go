package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store/operator"
)

// runAdmin is `voltflow admin create --username U [--password-file F]`:
// the first platform administrator of a fresh installation. The password is
// read from the file or standard input, never from the command line (where
// ps and shell history would keep it).
func runAdmin(ctx context.Context, log *slog.Logger, args []string, stdin io.Reader) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: voltflow admin create --username U [--password-file F] (password on standard input otherwise)")
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	username := fs.String("username", "", "login name of the platform administrator")
	displayName := fs.String("display-name", "", "name shown in the console (default: the username)")
	passwordFile := fs.String("password-file", "", "file whose first line is the password (default: standard input)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("admin create: --username is required")
	}
	in := stdin
	if *passwordFile != "" {
		f, err := os.Open(*passwordFile)
		if err != nil {
			return fmt.Errorf("admin create: %w", err)
		}
		defer func() { _ = f.Close() }() // read only
		in = f
	}
	password, err := readPassword(in)
	if err != nil {
		return err
	}
	if err := access.CheckPassword(*username, password); err != nil {
		return fmt.Errorf("admin create: %w", err)
	}
	_, db, err := openMigrated(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	name := *displayName
	if name == "" {
		name = *username
	}
	if _, err := operator.Create(ctx, db, operator.New{Username: *username, DisplayName: name,
		PasswordHash: string(hash), PlatformAdmin: true}); err != nil {
		return fmt.Errorf("admin create: %w", err)
	}
	log.Info("platform administrator created", "username", *username)
	return nil
}

// readPassword is the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("admin create: no password on standard input or in --password-file")
	}
	return line, nil
}
