package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/voltflow/voltflow/interconnect/keys"
)

// TestRegulatorCredentials: a platform administrator installs and rotates
// the regulator's credentials; nobody reads a secret back, only
// fingerprints; other operators are refused; the change is audited.
func TestRegulatorCredentials(t *testing.T) {
	t.Setenv(keys.EnvMasterKey, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	srv, db, admin, other := reportsAPI(t)
	const path = "/api/v1/regulators/shenzhen/credentials"
	body := `{"operatorId":"MA59J8YL8","operatorSecret":"Op3r4t0rS3cr3t!!","dataSecret":"D4t4S3cr3tK3y!!!",` +
		`"dataSecretIV":"D4t4S3cr3tIV!!!!","sigSecret":"S1gS3cr3tK3y!!!!","overlap":"2h"}`
	if code, b := send(t, srv, other, "PUT", path, body); code != 403 {
		t.Fatalf("viewer PUT: %d %s", code, b)
	}
	if code, b := send(t, srv, other, "GET", path, ""); code != 403 {
		t.Fatalf("viewer GET: %d %s", code, b)
	}
	for _, bad := range []string{
		strings.Replace(body, `"D4t4S3cr3tK3y!!!"`, `"short"`, 1),
		strings.Replace(body, `"2h"`, `"soon"`, 1),
		strings.Replace(body, `"MA59J8YL8"`, `"MA59J8YL8TOOLONG"`, 1),
	} {
		if code, b := send(t, srv, admin, "PUT", path, bad); code != 422 {
			t.Fatalf("bad PUT: %d %s", code, b)
		}
	}
	if code, b := send(t, srv, admin, "PUT", path, body); code != 200 {
		t.Fatalf("PUT: %d %s", code, b)
	}
	rotated := strings.NewReplacer("Op3r4t0r", "0th3rOpr", "D4t4S3cr3tK3y", "0th3rD4t4S3cr").Replace(body)
	code, b := send(t, srv, admin, "PUT", path, rotated)
	if code != 200 {
		t.Fatalf("rotate: %d %s", code, b)
	}
	code, got := send(t, srv, admin, "GET", path, "")
	if code != 200 || string(got) != string(b) {
		t.Fatalf("GET: %d %s\nPUT answered %s", code, got, b)
	}
	for _, secret := range []string{"Op3r4t0r", "0th3rOpr", "D4t4S3cr3t", "S1gS3cr3t"} {
		if strings.Contains(string(got), secret) {
			t.Fatalf("a secret came back: %s", got)
		}
	}
	var creds struct {
		Items []struct {
			OperatorID   string
			Fingerprints map[string]string
			ValidUntil   *string
		}
	}
	if err := json.Unmarshal(got, &creds); err != nil || len(creds.Items) != 2 {
		t.Fatalf("credentials %s %v", got, err)
	}
	cur, old := creds.Items[0], creds.Items[1]
	if cur.ValidUntil != nil || old.ValidUntil == nil || cur.Fingerprints["dataSecret"] == old.Fingerprints["dataSecret"] ||
		cur.Fingerprints["dataSecretIV"] != old.Fingerprints["dataSecretIV"] || len(cur.Fingerprints["sigSecret"]) != 16 {
		t.Fatalf("current %+v, old %+v", cur, old)
	}
	var audited int
	if err := db.QueryRow(t.Context(), `select count(*) from audit_log where action='regulator.credentials' and status=200`).Scan(&audited); err != nil || audited != 2 {
		t.Fatalf("audited %d %v", audited, err)
	}
}
