//go:build integration

package integration

import (
	"testing"
)

// TestServerExprStrings: an expression over aggregates that a server
// computes after the merge gets each string argument in its own character
// set and collation, as one server has it (it got a literal in the
// connection's: LENGTH(MAX(latin1 column)) counted UTF-8 bytes, and
// COLLATION() named the connection's), for clients in utf8mb4, utf8mb3
// and latin1. What a named collation would change, and strings that may
// have lost characters on the way to the proxy, are refused.
func TestServerExprStrings(t *testing.T) {
	p := StartProxy(t, copyConfig())
	schema := []string{"DROP TABLE IF EXISTS lim",
		"CREATE TABLE lim (id INT PRIMARY KEY, code VARCHAR(10) COLLATE utf8mb4_bin, l VARCHAR(10) CHARACTER SET latin1, " +
			"u VARCHAR(10) COLLATE utf8mb4_unicode_ci, g VARCHAR(10))",
		"INSERT INTO lim VALUES (1, 'abc', 'é', 'ß', 'x'), (2, 'ABD', 'b', 'ss', 'y'), (3, 'Abc', 'zé', 'Straße', NULL), (6, 'b', 'a', 'é', 'é')"}
	proxy, oracle := copySchema(t, p, "cp_serverexpr", schema...)
	pc, oc := Conn(t, proxy), Conn(t, oracle)
	everywhere := []string{
		"SELECT LENGTH(MAX(l)), HEX(MAX(l)), COLLATION(MAX(l)), COERCIBILITY(MAX(l)), COLLATION(MAX(code)) FROM lim",
		"SELECT CONCAT(MAX(code), MIN(l)), CONCAT(MAX(code), MIN(code)), REPLACE(MAX(l), 'z', 'y'), CONCAT(MAX(g), '-', COUNT(*)) FROM lim",
		"SELECT id % 2 AS k, HEX(MAX(l)), LENGTH(MIN(code)) FROM lim GROUP BY k ORDER BY k",
	}
	utf8 := []string{ // (u's ß and é are '?' for a latin1 client)
		"SELECT HEX(MIN(u)), COLLATION(MIN(u)), UPPER(MAX(l)) FROM lim",
		"SELECT id % 2 AS k, CHAR_LENGTH(MAX(u)), HEX(MAX(u)) FROM lim GROUP BY k ORDER BY k",
	}
	for _, names := range []string{"utf8mb4", "utf8mb3", "latin1"} {
		queries := everywhere
		if names != "latin1" {
			queries = append(queries, utf8...)
		}
		runSteps(t, pc, oc, []varStep{{sql: "SET NAMES " + names}}, queries...)
	}
	MustExec(t, pc, "SET NAMES utf8mb4")
	for _, q := range []string{
		"SELECT COERCIBILITY(MAX(code)) FROM lim",   // utf8mb4_bin is named: EXPLICIT
		"SELECT CONCAT(MAX(code), MIN(u)) FROM lim", // one server: illegal mix of collations
	} {
		if r := runQuery(pc, q); !isRefusal(r.Err) {
			t.Errorf("%s: %q %v, want the proxy's refusal", q, r.Rows, r.Err)
		}
	}
	// A latin1 client gets utf8mb4 strings with ß as '?'.
	MustExec(t, pc, "SET NAMES latin1")
	if r := runQuery(pc, "SELECT HEX(MIN(u)) FROM lim"); !isRefusal(r.Err) {
		t.Errorf("HEX(MAX(u)) for a latin1 client: %q %v, want the proxy's refusal", r.Rows, r.Err)
	}
}
