//go:build integration

package integration

import (
	"context"
	"testing"
)

// TestSetStatement: MariaDB's SET STATEMENT a = x, ... FOR stmt in a
// sharded schema. It went whole to the default node (an UPDATE of a
// global table changed one copy; of a sharded table, named a table no
// node has), or failed to parse when it read a table. Now stmt runs as any
// statement with the variables set for each part the proxy sends (and
// for the merge: sql_select_limit, div_precision_increment, timestamp...),
// then the session's again. Checked against the oracle: rows, errors,
// the session after.
func TestSetStatement(t *testing.T) {
	p := StartProxy(t, copyConfig())
	proxy, oracle := copySchema(t, p, "cp_setstatement", "DROP TABLE IF EXISTS small", "DROP TABLE IF EXISTS glob",
		"CREATE TABLE small (id INT PRIMARY KEY, v DECIMAL(10,2), s VARCHAR(20), at DATETIME(6))",
		"INSERT INTO small VALUES (1, 1.5, 'a', NULL), (2, 2.25, 'b', NULL), (3, 3, 'c', NULL), (4, 4.75, 'd', NULL), "+
			"(5, 5, 'e', NULL), (6, 6.5, 'f', NULL), (7, 7, 'g', NULL), (8, 8.01, 'h', NULL)",
		"CREATE TABLE glob (id INT PRIMARY KEY, name VARCHAR(40), at DATETIME(6))",
		"INSERT INTO glob VALUES (1, 'one', NULL), (2, 'two', NULL)")
	pc, oc := Conn(t, proxy), Conn(t, oracle)
	reads := []string{
		"SELECT id, v, s, at FROM small ORDER BY id",
		"SELECT id, name, at FROM glob ORDER BY id",
		"SELECT @@sql_select_limit, @@div_precision_increment, @@max_statement_time, @@sql_mode = @@global.sql_mode",
		"SELECT @a, @b",
	}
	steps := []varStep{
		// reads over several shards, under variables the merge follows
		{sql: "SET STATEMENT sql_select_limit = 3 FOR SELECT id FROM small ORDER BY id"},
		{sql: "SET STATEMENT div_precision_increment = 8, max_statement_time = 10 FOR SELECT AVG(v), SUM(v) / 7 FROM small"},
		{sql: "SET STATEMENT timestamp = 1700000000.25 FOR SELECT id, NOW(6) FROM small ORDER BY id"},
		// the statement is parsed before the assignments apply, as on one server
		{sql: "SET STATEMENT sql_mode = 'ANSI' FOR SELECT 'a' || 'b', COUNT(*) FROM small"},
		{sql: "SET STATEMENT sql_mode = 'ANSI_QUOTES' FOR SELECT \"s\", COUNT(*) FROM small GROUP BY 1"},
		// writes: every shard and every copy of a global table
		{sql: "SET STATEMENT timestamp = 1700000000 FOR UPDATE small SET at = NOW(6)"},
		{sql: "SET STATEMENT max_statement_time = 10, timestamp = 1600000000 FOR UPDATE glob SET at = NOW(6), name = CONCAT(name, '!')"},
		{sql: "SET STATEMENT sql_mode = '' FOR INSERT INTO small (id, v, s) VALUES (9, 9.999, 'far too long for the column')"},
		{sql: "SET STATEMENT sql_mode = 'STRICT_ALL_TABLES' FOR INSERT INTO small (id, v, s) VALUES (10, 1, 'far too long for the column')"},
		{sql: "SET STATEMENT max_statement_time = 10 FOR DELETE FROM small WHERE id IN (2, 9)"},
		{sql: "SET STATEMENT max_statement_time = 10 FOR REPLACE INTO glob VALUES (3, 'three', NULL)"},
		// rows moved to other shards (the proxy runs it in steps)
		{sql: "SET STATEMENT timestamp = 1500000000 FOR UPDATE small SET id = id + 100, at = NOW(6) WHERE id IN (4, 5)"},
		{sql: "UPDATE small SET id = id - 100 WHERE id > 100"},
		// session statements
		{sql: "SET STATEMENT max_statement_time = 10 FOR SET @a = (SELECT SUM(v) FROM small)"},
		{sql: "SET STATEMENT max_statement_time = 10 FOR SET @b = 'x'"},
		{sql: "SET STATEMENT max_statement_time = 10 FOR DO (SELECT COUNT(*) FROM small)"},
		// errors the server gives
		{sql: "SET STATEMENT no_such_variable = 1 FOR SELECT COUNT(*) FROM small"},
		{sql: "SET STATEMENT sql_select_limit = 'x' FOR SELECT COUNT(*) FROM small"},
		{sql: "SET STATEMENT max_statement_time = 'x' FOR SELECT COUNT(*) FROM small"},
		{sql: "SET STATEMENT collation_connection = utf8mb4_bin FOR SELECT COUNT(*) FROM small"},
		{sql: "SET STATEMENT max_statement_time = 10 FOR SELECT COUNT(*) FROM no_such_table"},
		// a session setting stays what it was around it
		{sql: "SET sql_select_limit = 5"},
		{sql: "SET STATEMENT sql_select_limit = 2 FOR SELECT id FROM small ORDER BY id"},
		{sql: "SET sql_select_limit = DEFAULT"},
		// what shardgate cannot do as one server would
		{sql: "SET STATEMENT insert_id = 100 FOR SELECT COUNT(*) FROM small", refused: true},
		{sql: "SET STATEMENT max_statement_time = 10 FOR SHOW TABLES", refused: true},
		// (one server keeps the inner one's assignments alone)
		{sql: "SET STATEMENT max_statement_time = 10 FOR SET STATEMENT sql_select_limit = 2 FOR SELECT id FROM small", refused: true},
	}
	runSteps(t, pc, oc, steps, reads...)
	// Reads give the oracle's rows (runSteps compares errors only).
	for _, q := range []string{
		"SET STATEMENT sql_select_limit = 3 FOR SELECT id FROM small ORDER BY id",
		"SET STATEMENT sql_select_limit = 3 FOR SELECT id FROM small ORDER BY id LIMIT 5",
		"SET STATEMENT div_precision_increment = 8, max_statement_time = 10 FOR SELECT AVG(v), SUM(v) / 7 FROM small",
		"SET STATEMENT timestamp = 1700000000.25 FOR SELECT id, NOW(6) FROM small ORDER BY id",
		"SET STATEMENT timestamp = 1700000000.25 FOR SELECT COUNT(*) FROM small WHERE at < NOW() AND v < (SELECT MAX(v) FROM small)",
		"SET STATEMENT sql_mode = 'ANSI' FOR SELECT 'a' || 'b', COUNT(*) FROM small",
		"SET STATEMENT sql_mode = 'ANSI_QUOTES' FOR SELECT \"s\", COUNT(*) FROM small GROUP BY 1",
		"SET STATEMENT max_statement_time = 10 FOR SELECT @@max_statement_time, COUNT(*) FROM small",
		"/* c */ set statement MAX_STATEMENT_TIME := 20 for select @@max_statement_time, s from small where id = 3",
	} {
		got, want := runQuery(pc, q), runQuery(oc, q)
		if d := compareResults(got, want, true); d != "" {
			t.Errorf("%s: %s", q, d)
		}
	}
	// Every copy of the global table took the write.
	copiesAgree(t, "SELECT id, name, at FROM glob ORDER BY id", 3)
	// A statement the server stops: max_statement_time reaches every shard.
	slow := "SET STATEMENT max_statement_time = 0.01 FOR SELECT COUNT(*) FROM small WHERE SLEEP(0.02) = 0"
	if _, err := pc.ExecContext(context.Background(), slow); code(err) != 1969 {
		t.Errorf("%s: got %v, want 1969 (max_statement_time exceeded)", slow, err)
	}
	if got := QueryString(t, pc, "SELECT COUNT(*) FROM small"); got != "7" {
		t.Errorf("after the interrupted statement: %s rows, want 7", got)
	}
	// Prepared.
	for _, q := range []string{
		"SET STATEMENT max_statement_time = 10 FOR SELECT @@max_statement_time, s FROM small WHERE id = ?",
		"SET STATEMENT max_statement_time = 10, div_precision_increment = 7 FOR SELECT @@div_precision_increment, AVG(v) FROM small WHERE id > ?",
		"SET STATEMENT timestamp = 1700000000 FOR SELECT NOW(), COUNT(*) FROM small WHERE id > ?",
	} {
		got, want := runQuery(pc, q, 3), runQuery(oc, q, 3)
		if d := compareResults(got, want, true); d != "" {
			t.Errorf("prepared %s: %s (proxy: %v)", q, d, got.Err)
		}
	}
}
