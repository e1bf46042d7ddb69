//go:build integration

package integration

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestMultiStatementsSharded: in a sharded schema, a query of several
// statements whose first answers OK (DO, SET) waited for ever: the relay
// took the "more results" flag it writes for the client for the server's.
func TestMultiStatementsSharded(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp", "multiStatements=true"))
	for q, want := range map[string]string{
		"DO 1; SELECT 2":                         "2",
		"SET @a = 5; SELECT @a":                  "5",
		"SELECT 1; DO 1; SELECT 3":               "1,3",
		"SET @b = 1; SET @c = 2; SELECT @b + @c": "3",
		// MariaDB's syntax TiDB's parser does not read: statement after
		// statement, as the server parses them
		"SET STATEMENT max_statement_time = 5 FOR SELECT @@max_statement_time; SELECT 2": "5,2",
		"SELECT 7 INTO @x; SELECT @x + 1":                                                "8",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			cancel()
			t.Fatalf("%s: %v", q, err)
		}
		var got []string
		for {
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				got = append(got, v)
			}
			if !rows.NextResultSet() {
				break
			}
		}
		err = rows.Err()
		rows.Close()
		cancel()
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("%s: %v, %v; want %s", q, got, err, want)
		}
	}
}
