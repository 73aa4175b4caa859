package main

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/store"
)

// production reports whether this is a production start (VOLTFLOW_ENV=production).
func production() bool { return os.Getenv("VOLTFLOW_ENV") == "production" }

// refuseDefaultPasswords stops a production start while any operator still
// has the demo password (its username, e.g. admin/admin).
func refuseDefaultPasswords(ctx context.Context, db *store.DB) error {
	rows, err := db.Query(ctx, `select username, password_hash from operators`)
	if err != nil {
		return fmt.Errorf("check default passwords: %w", err)
	}
	defer rows.Close()
	var weak []string
	for rows.Next() {
		var user, hash string
		if err := rows.Scan(&user, &hash); err != nil {
			return err
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(user)) == nil {
			weak = append(weak, user)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(weak) > 0 {
		return fmt.Errorf("production start refused: operators %v still have their default password", weak)
	}
	return nil
}
