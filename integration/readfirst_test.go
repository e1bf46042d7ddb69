//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
)

// TestReadFirstBound: a statement answered by reading its tables first
// reads at most 1 MiB of rows; past it, the statement's own refusal
// stands and says so. Within it, the answer is the oracle's, text and
// prepared, and the session's character set does not change the rows'
// bytes on the way.
func TestReadFirstBound(t *testing.T) {
	p := StartProxy(t, copyConfig())
	schema := []string{"DROP TABLE IF EXISTS wide",
		"CREATE TABLE wide (c INT PRIMARY KEY, s VARCHAR(400) NOT NULL, k INT NOT NULL) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"}
	var rows []string
	for i := 0; i < 4000; i++ {
		// 4000 rows of 300 bytes: 1.2 MB, some with characters latin1 lacks.
		rows = append(rows, fmt.Sprintf("(%d, CONCAT(REPEAT('%c', 290), '%s'), %d)", i, 'a'+i%26, []string{"é", "😀", "Ω", "z"}[i%4], i%7))
	}
	for len(rows) > 0 {
		n := min(len(rows), 500)
		schema = append(schema, "INSERT INTO wide VALUES "+strings.Join(rows[:n], ", "))
		rows = rows[n:]
	}
	proxy, oracle := copySchema(t, p, "cp_readfirst", schema...)

	// Window functions across shards: the table is read first.
	within := "SELECT c, k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) AS rn, RIGHT(s, 1) AS last FROM wide WHERE c < 1000 ORDER BY k, rn"
	if diff := compareResults(runQuery(proxy, within), runQuery(oracle, within), true); diff != "" {
		t.Errorf("%s: %s", within, diff)
	}
	// The same with a utf8mb3 client (the emoji come as '?' to it either way)
	// and prepared.
	c3, o3 := Conn(t, proxy), Conn(t, oracle)
	MustExec(t, c3, "SET NAMES utf8mb3")
	MustExec(t, o3, "SET NAMES utf8mb3")
	if diff := compareResults(runQuery(c3, within), runQuery(o3, within), true); diff != "" {
		t.Errorf("utf8mb3: %s", diff)
	}
	// A latin1 client, and a derived table read first whose column is named
	// by its expression, with text beyond ASCII in it: the name comes back
	// as UTF-8, and the statement that reads it names it in latin1 (it was
	// refused with 1054, the name converted twice).
	MustExec(t, c3, "SET NAMES latin1")
	MustExec(t, o3, "SET NAMES latin1")
	named := "SELECT t.k, t.`COUNT(CASE WHEN s > 'é' THEN 1 END)` FROM (SELECT k, COUNT(CASE WHEN s > 'é' THEN 1 END) FROM wide WHERE c < 200 GROUP BY k LIMIT 5) AS t ORDER BY t.k"
	if diff := compareResults(runQuery(c3, named), runQuery(o3, named), true); diff != "" {
		t.Errorf("latin1, a column named with text beyond ASCII: %s", diff)
	}
	prepared := "SELECT c, k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) AS rn FROM wide WHERE c < ? ORDER BY k, rn"
	if diff := compareResults(runQuery(proxy, prepared, 500), runQuery(oracle, prepared, 500), true); diff != "" {
		t.Errorf("prepared: %s", diff)
	}

	// All 4000 rows are past the bound: refused, with the reason and the bound.
	_, err := proxy.Exec("SELECT c, ROW_NUMBER() OVER (ORDER BY s) FROM wide")
	if !isRefusal(err) || !strings.Contains(err.Error(), "window functions") || !strings.Contains(err.Error(), "1024 KiB") {
		t.Errorf("past the bound: %v, want 1235 naming window functions and 1024 KiB", err)
	}
}
