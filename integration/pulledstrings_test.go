//go:build integration

package integration

import (
	"testing"
)

// TestPulledSubqueryStrings: a subquery the proxy runs first (its rows
// are on several shards) is written back into the statement as literals.
// A string there was a literal in the connection's collation, so
// 'ABC' = (SELECT MAX(code_bin) ...) compared case-blind and matched
// where one server, comparing in utf8mb4_bin, matches nothing. A string
// now keeps its column's collation; what it is compared with decides
// whether that is exact (a literal, a column of the same collation, one
// the server converts to it), else the statement is refused. Clients in
// utf8mb4, utf8mb3 and latin1.
func TestPulledSubqueryStrings(t *testing.T) {
	p := StartProxy(t, copyConfig())
	schema := []string{"DROP TABLE IF EXISTS lim", "DROP TABLE IF EXISTS keyed",
		"CREATE TABLE lim (id INT PRIMARY KEY, code VARCHAR(10) COLLATE utf8mb4_bin, l VARCHAR(10) CHARACTER SET latin1, " +
			"u VARCHAR(10) COLLATE utf8mb4_unicode_ci, g VARCHAR(10))",
		"INSERT INTO lim VALUES (1, 'abc', 'é', 'ß', 'x'), (2, 'ABD', 'b', 'ss', 'y'), (3, 'Abc', 'zé', 'Straße', NULL), " +
			"(6, 'b', 'a', 'é', 'é'), (9, 'q', 'q', 'q', 'ABC')",
		"CREATE TABLE keyed (k VARCHAR(10) PRIMARY KEY, v INT)",
		"INSERT INTO keyed VALUES ('abc', 1), ('ABD', 2), ('b', 3), ('é', 4), ('zé', 5)"}
	proxy, oracle := copySchema(t, p, "cp_pulledstrings", schema...)
	pc, oc := Conn(t, proxy), Conn(t, oracle)
	maxCode := "(SELECT MAX(code) FROM lim WHERE id IN (1, 2))" // 'abc' in utf8mb4_bin, from two shards
	queries := []string{
		// a literal: the subquery's collation (utf8mb4_bin)
		"SELECT id FROM lim WHERE 'ABC' = " + maxCode + " ORDER BY id",
		"SELECT id FROM lim WHERE 'ABC' IN (SELECT code FROM lim WHERE id < 3) ORDER BY id",
		"SELECT id FROM lim WHERE 'ABC' NOT IN (SELECT code FROM lim WHERE id < 3) ORDER BY id",
		// a column of the same collation
		"SELECT id FROM lim WHERE code IN (SELECT code FROM lim WHERE id < 3) ORDER BY id",
		"SELECT v FROM keyed WHERE k IN (SELECT g FROM lim WHERE id > 5) ORDER BY v",
		"SELECT id FROM lim WHERE (g, id) IN (SELECT g, id FROM lim WHERE id > 5) ORDER BY id",
		// utf8mb4_bin against utf8mb4_general_ci: the server picks _bin
		"SELECT id FROM lim WHERE g = " + maxCode + " ORDER BY id",
		"SELECT id FROM lim WHERE g LIKE " + maxCode + " ORDER BY id",
		// an expression, described by the probe statement
		"SELECT id FROM lim WHERE CONCAT(g, '') = " + maxCode + " ORDER BY id",
		"SELECT id FROM lim WHERE CONCAT(g, '') IN (SELECT g FROM lim WHERE id > 5) ORDER BY id",
		// latin1 against utf8mb4: the server converts to utf8mb4
		"SELECT id FROM lim WHERE l IN (SELECT g FROM lim WHERE id > 2) ORDER BY id",
		// numbers compare as numbers
		"SELECT id FROM lim WHERE id = " + maxCode + " ORDER BY id",
		// the value is not compared
		"DO (SELECT MAX(code) FROM lim)",
		// a function of a column of a default collation (IMPLICIT, exact anywhere)
		"SELECT id FROM lim WHERE LENGTH((SELECT MAX(g) FROM lim WHERE id IN (1, 2))) = 1 ORDER BY id",
		"SELECT id FROM lim WHERE CONCAT((SELECT MAX(l) FROM lim WHERE id IN (1, 2)), g) = 'éx' ORDER BY id",
	}
	for _, names := range []string{"utf8mb4", "utf8mb3", "latin1"} {
		runSteps(t, pc, oc, []varStep{{sql: "SET NAMES " + names}}, queries...)
	}
	// Rows in another character set than the client's (they were refused):
	// the subquery's are read unconverted anyway.
	for _, results := range []string{"NULL", "latin1"} {
		runSteps(t, pc, oc, []varStep{{sql: "SET NAMES utf8mb4, character_set_results = " + results}}, queries...)
	}
	// Keys read first (UPDATE ... ORDER BY ... LIMIT across shards) are
	// compared with their own column.
	runSteps(t, pc, oc, []varStep{{sql: "UPDATE keyed SET v = v + 10 ORDER BY k LIMIT 2"}}, "SELECT k, v FROM keyed ORDER BY v")
	MustExec(t, pc, "SET NAMES utf8mb4")
	// utf8mb4_unicode_ci against utf8mb4_general_ci: one server fails, so
	// does the statement with the values in (IMPLICIT both).
	q := "SELECT id FROM lim WHERE u IN (SELECT g FROM lim WHERE id > 5)"
	if r := runQuery(pc, q); code(r.Err) != 1267 && code(r.Err) != 1270 {
		t.Errorf("%s: %q %v, want an illegal mix of collations", q, r.Rows, r.Err)
	}
	// A literal in the subquery takes the column's collation (the
	// connection's is utf8mb4_bin, not the default).
	runSteps(t, pc, oc, []varStep{{sql: "SET collation_connection = utf8mb4_bin"}},
		"SELECT id FROM lim WHERE g IN (SELECT 'abc' FROM lim WHERE id < 3) ORDER BY id",
		"SELECT id FROM lim WHERE 'ABC' = (SELECT MAX(code) FROM lim WHERE id IN (1, 2)) ORDER BY id")
	MustExec(t, pc, "SET NAMES utf8mb4")
	for _, q := range []string{
		// a string whose use the proxy cannot see, of a collation that is
		// not its character set's default (LENGTH of a default one is asked
		// above)
		"SELECT id FROM lim WHERE LENGTH(" + maxCode + ") = 3",
	} {
		if r := runQuery(pc, q); !isRefusal(r.Err) {
			t.Errorf("%s: %q %v, want the proxy's refusal", q, r.Rows, r.Err)
		}
	}
}
