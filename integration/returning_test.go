//go:build integration

package integration

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestReturning: MariaDB's INSERT, REPLACE and DELETE ... RETURNING in a
// sharded schema (TiDB's parser does not read RETURNING: it was a syntax
// error). The rows are the oracle's: an INSERT's in the order of its
// VALUES, also over several shards; a global table's once. Errors and
// what the tables hold after are the oracle's too; text and prepared.
func TestReturning(t *testing.T) {
	p := StartProxy(t, copyConfig())
	proxy, oracle := copySchema(t, p, "cp_returning", "DROP TABLE IF EXISTS small", "DROP TABLE IF EXISTS glob",
		"CREATE TABLE small (id INT PRIMARY KEY, v INT, s VARCHAR(10))",
		"CREATE TABLE glob (id INT PRIMARY KEY, name VARCHAR(10))")
	pc, oc := Conn(t, proxy), Conn(t, oracle)
	ctx := context.Background()
	same := func(q string, ordered bool) {
		t.Helper()
		sameAnswer(t, pc, oc, q, ordered, true)
	}
	for _, q := range []string{
		"INSERT INTO small VALUES (1, 10, 'a') RETURNING id, v * 2, s",
		"INSERT INTO small VALUES (2, 20, 'b'), (3, 30, 'c'), (6, 60, 'f'), (5, 50, 'e'), (4, 40, 'd') RETURNING *",
		"INSERT INTO small (id, v) VALUES (8, 80), (9, 90) RETURNING id, s, CONCAT(id, '-', v) AS c",
		"REPLACE INTO small VALUES (2, 21, 'B'), (7, 70, 'g') RETURNING id, v",
		"INSERT INTO small VALUES (7, 0, 'x'), (11, 110, 'k') ON DUPLICATE KEY UPDATE v = v + 1 RETURNING id, v",
		"DELETE FROM small WHERE id = 3 RETURNING id, s",
		"DELETE FROM small WHERE id = 333 RETURNING id",
		"INSERT INTO glob VALUES (1, 'x'), (2, 'y') RETURNING id, name",
		"DELETE FROM glob WHERE id = 1 RETURNING name",
		// errors: one shard's, and a row of another shard is not kept
		"INSERT INTO small VALUES (1, 1, 'dup') RETURNING id",
		"INSERT INTO small VALUES (20, 1, 'x'), (1, 1, 'dup') RETURNING id",
		"INSERT INTO small VALUES (21, 1, 'far too long') RETURNING id",
		"INSERT INTO small VALUES (22, 1, 'ok'), (24, 1, 'ok'), (23, 1, 'far too long') RETURNING id",
		"DELETE FROM small WHERE id = 8 RETURNING nosuch",
	} {
		same(q, true)
	}
	// Rows of several shards deleted: in no order on one server either.
	same("DELETE FROM small WHERE v > 60 RETURNING id, v", false)
	// Inside a transaction, undone by its ROLLBACK.
	for _, conn := range []struct{ name string }{{"proxy"}, {"oracle"}} {
		c := pc
		if conn.name == "oracle" {
			c = oc
		}
		MustExec(t, c, "BEGIN")
		if r := runQuery(c, "INSERT INTO small VALUES (30, 1, 'r'), (31, 1, 's') RETURNING id"); r.Err != nil || len(r.Rows) != 2 {
			t.Errorf("%s: in a transaction: %q %v", conn.name, r.Rows, r.Err)
		}
		MustExec(t, c, "ROLLBACK")
	}
	// In a transaction, a failed statement is undone whole, and the
	// transaction goes on.
	for _, c := range []*sql.Conn{pc, oc} {
		MustExec(t, c, "BEGIN")
		MustExec(t, c, "INSERT INTO small VALUES (40, 1, 't')")
	}
	same("INSERT INTO small VALUES (41, 1, 'u'), (42, 1, 'v'), (1, 1, 'dup') RETURNING id", true)
	same("INSERT INTO small VALUES (43, 1, 'w'), (44, 1, 'x') RETURNING id, s", true)
	for _, c := range []*sql.Conn{pc, oc} {
		MustExec(t, c, "COMMIT")
	}
	same("SELECT * FROM small ORDER BY id", true)
	same("SELECT * FROM glob ORDER BY id", true)
	copiesAgree(t, "SELECT id, name FROM glob ORDER BY id", 1)
	// What the shards' servers cannot answer as one server.
	for _, q := range []string{
		"DELETE FROM small WHERE id = 1 RETURNING small.id",
		"DELETE FROM small WHERE id = 1 RETURNING (SELECT COUNT(*) FROM small)",
		"DELETE FROM small WHERE id = 1 RETURNING DATABASE()",
		"DELETE FROM small ORDER BY v RETURNING id",
	} {
		if _, err := pc.ExecContext(ctx, q); !isRefusal(err) {
			t.Errorf("%s: %v, want a refusal", q, err)
		}
	}
	if _, err := pc.PrepareContext(ctx, "INSERT INTO small VALUES (?, 1, 'p') RETURNING id, ?"); !isRefusal(err) {
		t.Errorf("a marker in a prepared RETURNING list: %v, want a refusal", err)
	}
	// Prepared (the driver prepares on the server when given values).
	for _, c := range []struct {
		q       string
		args    []any
		ordered bool
	}{
		{"INSERT INTO small VALUES (?, 1, 'p') RETURNING id, s", []any{60}, true},
		{"INSERT INTO small VALUES (?, 1, 'p'), (?, ?, 'q'), (?, 3, ?) RETURNING id, v, s", []any{63, 61, 2, 62, "r"}, true},
		{"INSERT INTO small VALUES (?, 1, 'p') RETURNING id", []any{60}, true}, // a duplicate
		{"DELETE FROM small WHERE id IN (?, ?, ?) RETURNING id, s", []any{60, 61, 62}, false},
		{"DELETE FROM small WHERE id = ? RETURNING v", []any{63}, true},
	} {
		got, want := runQuery(pc, c.q, c.args...), runQuery(oc, c.q, c.args...)
		if code(got.Err) != code(want.Err) {
			t.Errorf("prepared %s %v: proxy %v, oracle %v", c.q, c.args, got.Err, want.Err)
		} else if d := compareResults(got, want, c.ordered); d != "" {
			t.Errorf("prepared %s %v: %s", c.q, c.args, d)
		}
	}
	same("SELECT * FROM small ORDER BY id", true)
	// In a text of several statements.
	multi := Open(t, DSN("app", "app", p.Addr, "cp", "multiStatements=true"))
	rows, err := multi.QueryContext(ctx, "INSERT INTO small VALUES (50, 5, 'm'), (51, 5, 'n') RETURNING s; DELETE FROM small WHERE id IN (50, 51) RETURNING v")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if !rows.NextResultSet() {
			break
		}
	}
	if err := rows.Err(); err != nil || strings.Join(got, ",") != "m,n,5,5" {
		t.Errorf("RETURNING in a multi-statement text: %q %v, want m,n,5,5", got, err)
	}
	rows.Close()
}

// sameAnswer runs q on the proxy's connection pc and the oracle's oc: the
// same rows (in order if ordered), or the same error (and message, with
// messages).
func sameAnswer(t *testing.T, pc, oc *sql.Conn, q string, ordered, messages bool) {
	t.Helper()
	got, want := runQuery(pc, q), runQuery(oc, q)
	if code(got.Err) != code(want.Err) || messages && got.Err != nil && got.Err.Error() != want.Err.Error() {
		t.Errorf("%s: proxy %v, oracle %v", q, got.Err, want.Err)
		return
	}
	if d := compareResults(got, want, ordered); got.Err == nil && d != "" {
		t.Errorf("%s: %s", q, d)
	}
}
