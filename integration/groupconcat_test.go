//go:build integration

package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestGroupConcat: GROUP_CONCAT() without ORDER BY or DISTINCT across
// shards joins the shards' results (MySQL's order is any then): each
// group's items are the oracle's, as multisets. A result that reaches
// group_concat_max_len, where one server would have cut it elsewhere, is
// refused. With ORDER BY or DISTINCT inside, the table is read first and
// one server answers.
func TestGroupConcat(t *testing.T) {
	p := StartProxy(t, copyConfig())
	schema := []string{"DROP TABLE IF EXISTS lim", "CREATE TABLE lim (id INT PRIMARY KEY, u INT, v VARCHAR(20), b VARBINARY(8))",
		"INSERT INTO lim VALUES (1, 1, 'é', 'x'), (2, 2, NULL, NULL), (3, 0, 'a,b', 'y'), (4, 1, '', ''), (5, 2, 'Ü', NULL), " +
			"(6, 0, 'z', 'w'), (8, 1, NULL, 'v'), (12, 0, 'long text', 'u'), (13, 3, NULL, NULL)"}
	proxy, oracle := copySchema(t, p, "cp_gc", schema...)

	// Each query's last column is a GROUP_CONCAT() with separator sep.
	queries := []struct{ sql, sep string }{
		{"SELECT GROUP_CONCAT(v) FROM lim", ","},
		{"SELECT u, GROUP_CONCAT(v SEPARATOR ';') FROM lim GROUP BY u", ";"},
		{"SELECT u, COUNT(*), GROUP_CONCAT(id, ':', v SEPARATOR ' ') FROM lim WHERE id > 1 GROUP BY u ORDER BY u DESC", " "},
		{"SELECT GROUP_CONCAT(b SEPARATOR '|') FROM lim", "|"},
		{"SELECT GROUP_CONCAT(v) FROM lim WHERE id > 100", ","},
		{"SELECT u, GROUP_CONCAT(v) AS g FROM lim GROUP BY u HAVING COUNT(*) > 1 ORDER BY u", ","},
	}
	for _, q := range queries {
		got, want := groupConcatRows(t, proxy, q.sql, q.sep), groupConcatRows(t, oracle, q.sql, q.sep)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n  proxy:  %q\n  oracle: %q", q.sql, got, want)
		}
	}

	// ORDER BY or DISTINCT inside it, sorting by it: the table is read
	// first and one server answers (the order inside is then MariaDB's).
	for _, q := range []string{
		"SELECT GROUP_CONCAT(v ORDER BY v DESC SEPARATOR '|') FROM lim",
		"SELECT GROUP_CONCAT(DISTINCT u) FROM lim",
		"SELECT u, GROUP_CONCAT(v ORDER BY id) g FROM lim GROUP BY u ORDER BY g, u",
	} {
		got, want := runQuery(proxy, q), runQuery(oracle, q)
		if got.Err != nil || fmt.Sprint(got.Rows) != fmt.Sprint(want.Rows) {
			t.Errorf("%s:\n  proxy:  %q %v\n  oracle: %q", q, got.Rows, got.Err, want.Rows)
		}
	}

	// Refused: the limit reached, where one server would have cut it elsewhere.
	for _, q := range []string{
		"SET SESSION group_concat_max_len = 12; SELECT GROUP_CONCAT(v) FROM lim",
	} {
		c := Conn(t, proxy)
		stmts := strings.Split(q, "; ")
		MustExec(t, c, stmts[:len(stmts)-1]...)
		rows, err := c.QueryContext(t.Context(), stmts[len(stmts)-1])
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if !isRefusal(err) {
			t.Errorf("%s: %v, want error 1235", q, err)
		}
		c.Close()
	}
	// Under the limit it is answered.
	c := Conn(t, proxy)
	defer c.Close()
	MustExec(t, c, "SET SESSION group_concat_max_len = 40")
	var g string
	if err := c.QueryRowContext(t.Context(), "SELECT GROUP_CONCAT(v) FROM lim").Scan(&g); err != nil {
		t.Fatal(err)
	}
	if items := strings.Split(g, ","); len(items) != 7 {
		t.Errorf("under group_concat_max_len: %q, want 7 items", g)
	}

	// A latin1 client gets é and Ü in one byte each, where the limit
	// counts two: 'é,Ü,z' is 7 bytes there and comes as 5. Under a limit
	// of 6 one server cuts it; the proxy refuses.
	pc, oc := Conn(t, proxy), Conn(t, oracle)
	defer pc.Close()
	defer oc.Close()
	MustExec(t, pc, "SET NAMES latin1")
	MustExec(t, oc, "SET NAMES latin1")
	for _, q := range queries[:4] {
		got, want := groupConcatRows(t, pc, q.sql, q.sep), groupConcatRows(t, oc, q.sql, q.sep)
		if !slices.Equal(got, want) {
			t.Errorf("latin1: %s:\n  proxy:  %q\n  oracle: %q", q.sql, got, want)
		}
	}
	MustExec(t, pc, "SET SESSION group_concat_max_len = 6")
	if err := pc.QueryRowContext(t.Context(), "SELECT GROUP_CONCAT(v) FROM lim WHERE id IN (1, 5, 6)").Scan(&g); !isRefusal(err) {
		t.Errorf("latin1, cut where the limit counts: %q, %v; want error 1235", g, err)
	}
}

// groupConcatRows runs q and returns its rows, the last column's items
// sorted (their order is any).
func groupConcatRows(t *testing.T, db queryer, q, sep string) []string {
	t.Helper()
	r := runQuery(db, q)
	if r.Err != nil {
		t.Fatalf("%s: %v", q, r.Err)
	}
	var out []string
	for _, row := range r.Rows {
		last := row[len(row)-1]
		if last != nullCell {
			items := strings.Split(last, sep)
			slices.Sort(items)
			last = strings.Join(items, sep)
		}
		out = append(out, fmtRow(append(row[:len(row)-1:len(row)-1], last)))
	}
	if !strings.Contains(strings.ToUpper(q), "ORDER BY") {
		slices.Sort(out)
	}
	return out
}
