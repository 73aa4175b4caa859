package sweep_test

import (
	"bytes"
	"context"
	"testing"

	sweepstore "github.com/voltflow/voltflow/store/sweep"
)

// The readings' numerics go to PostgreSQL in its binary format: what the
// server makes of them, read back as text, is the register value scaled.
func TestBinaryNumericsAsPostgreSQLReadsThem(t *testing.T) {
	cases := []struct {
		v      int64
		places int
		want   string
	}{
		{0, 2, "0.00"}, {0, 0, "0"}, {0, 3, "0.000"}, {5, 2, "0.05"}, {-5, 2, "-0.05"}, {12345, 2, "123.45"},
		{-12345, 3, "-12.345"}, {2200, 1, "220.0"}, {10, 3, "0.010"}, {1005, 3, "1.005"}, {1050, 3, "1.050"},
		{-1, 1, "-0.1"}, {7, 0, "7"}, {-7, 0, "-7"}, {100, 2, "1.00"}, {10000, 0, "10000"}, {10000, 2, "100.00"},
		{4294967295, 2, "42949672.95"}, {123456789012, 3, "123456789.012"}, {-99999999, 4, "-9999.9999"},
	}
	ctx := context.Background()
	db := pg.NewDB(t)
	conn, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `create temp table numerics (i serial, n numeric)`); err != nil {
		t.Fatal(err)
	}
	var vs []int64
	var places []int
	for _, c := range cases {
		vs, places = append(vs, c.v), append(places, c.places)
	}
	if _, err := conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(sweepstore.NumericCopy(vs, places)),
		"copy numerics (n) from stdin with (format binary)"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `select n::text from numerics order by i`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for i := 0; rows.Next(); i++ {
		var got string
		if err := rows.Scan(&got); err != nil {
			t.Fatal(err)
		}
		if c := cases[i]; got != c.want {
			t.Errorf("%d×10^-%d reads back as %s, want %s", c.v, c.places, got, c.want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
