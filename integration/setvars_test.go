//go:build integration

package integration

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestSetFromSubqueriesAcrossShards: a SET or DO whose value is a subquery
// over several shards reads it first and writes its value in (it was
// refused); the variables then hold what the oracle's hold, on every node.
// A string value keeps its column's character set and collation (it was
// refused): the proxy reads it unconverted. User variables assigned on
// one node keep their bytes and collation on the others (they were read
// back converted to the client's charset, with its collation).
func TestSetFromSubqueriesAcrossShards(t *testing.T) {
	p := StartProxy(t, copyConfig())
	schema := []string{"DROP TABLE IF EXISTS lim",
		"CREATE TABLE lim (id INT PRIMARY KEY, amount DECIMAL(10,2), score DOUBLE, d DATETIME, v VARCHAR(20) COLLATE utf8mb4_unicode_ci, " +
			"l VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_bin)",
		"INSERT INTO lim VALUES (1, 10.25, 1.5, '2024-01-02 03:04:05', 'é', 'é'), (2, 20.50, NULL, '2025-03-01 00:00:00', 'b', 'b'), " +
			"(3, NULL, 2.25e10, NULL, 'Z', 'Z'), (4, 0.01, -3, '2023-12-31 23:59:59', NULL, NULL), (7, 5, 0.1, '2024-06-01 12:00:00', 'x', 'x')"}
	proxy, oracle := copySchema(t, p, "cp_setvars", schema...)
	pc, oc := Conn(t, proxy), Conn(t, oracle)
	// Read on two nodes: shard 1 (c1) and shard 2 (c0).
	read := []string{
		"SELECT @n, @a, @s, @d, COLLATION(@d), @z, @a / 7, @s * 2, @@sql_select_limit FROM lim WHERE id = 1",
		"SELECT @n, @a, @s, @d, COLLATION(@d), @z, @a / 7, @s * 2, @@sql_select_limit FROM lim WHERE id = 2",
		"SELECT @w, COLLATION(@w), HEX(@w), @l, COLLATION(@l), HEX(@l) FROM lim WHERE id = 1",
		"SELECT @w, COLLATION(@w), HEX(@w), @l, COLLATION(@l), HEX(@l) FROM lim WHERE id = 2",
		"SELECT @v, COLLATION(@v), HEX(@v), COERCIBILITY(@v), @v = 'Z', @g, COLLATION(@g), @q, HEX(@q), COLLATION(@q) FROM lim WHERE id = 1",
		"SELECT @v, COLLATION(@v), HEX(@v), COERCIBILITY(@v), @v = 'Z', @g, COLLATION(@g), @q, HEX(@q), COLLATION(@q) FROM lim WHERE id = 2",
		// Over every shard: reading two variables is not assigning them
		// (it was refused as INTO's list).
		"SELECT id, @n, @a FROM lim ORDER BY id",
	}
	runSteps(t, pc, oc, []varStep{
		{sql: "SET @n = (SELECT COUNT(*) FROM lim), @a = (SELECT SUM(amount) FROM lim), @s = (SELECT MAX(score) FROM lim), " +
			"@d = (SELECT MAX(d) FROM lim), @z = (SELECT id FROM lim WHERE id < 0)"},
		{sql: "SET SESSION sql_select_limit = (SELECT COUNT(*) FROM lim WHERE id > 1)"},
		{sql: "DO (SELECT COUNT(*) FROM lim), (SELECT MAX(v) FROM lim)"},
		{sql: "SET @x = (SELECT id FROM lim)"}, // 1242 on both
		{sql: "SET @v = (SELECT MAX(v) FROM lim)"},
		{sql: "SET @g = (SELECT CONCAT(MAX(v), _utf8mb4 X'2D') FROM lim), @v = (SELECT MIN(v) FROM lim)"},
		{sql: "SET @q = (SELECT MAX(l) FROM lim), @v = (SELECT v FROM lim WHERE id > 2 ORDER BY id LIMIT 1)"},
		{sql: "SET @w = (SELECT v FROM lim WHERE id = 1), @l = _latin1 X'C3A9' COLLATE latin1_bin"},
	}, read...)
}

// varStep is a statement for the proxy and the oracle; refused: the proxy
// must refuse it (1235) where the oracle answers.
type varStep struct {
	sql     string
	refused bool
}

// runSteps runs each step on the proxy's connection pc and the oracle's
// oc: both give the same error, or none; after each step not refused,
// each of reads gives the same rows on both.
func runSteps(t *testing.T, pc, oc *sql.Conn, steps []varStep, reads ...string) {
	t.Helper()
	for _, step := range steps {
		_, perr := pc.ExecContext(t.Context(), step.sql)
		_, oerr := oc.ExecContext(t.Context(), step.sql)
		if step.refused {
			if !isRefusal(perr) || oerr != nil {
				t.Errorf("%s: proxy %v, oracle %v; want the proxy's refusal", step.sql, perr, oerr)
			}
			continue
		}
		if code(perr) != code(oerr) {
			t.Errorf("%s: proxy %v, oracle %v", step.sql, perr, oerr)
		}
		for _, q := range reads {
			got, want := runQuery(pc, q), runQuery(oc, q)
			if got.Err != nil || fmt.Sprint(got.Rows) != fmt.Sprint(want.Rows) {
				t.Errorf("after %s, %s:\n  proxy:  %q %v\n  oracle: %q %v", step.sql, q, got.Rows, got.Err, want.Rows, want.Err)
			}
		}
	}
}

// code is a MySQL error's number, 0 for none, 1 for another error.
func code(err error) uint16 {
	if err == nil {
		return 0
	}
	if me, ok := err.(*mysql.MySQLError); ok {
		return me.Number
	}
	return 1
}

// TestSelectIntoVariables: SELECT ... INTO @v in a sharded schema (TiDB's
// parser does not read it; it was refused). On one shard the server
// assigns; over several the proxy reads the one row. Rows, errors
// (1172, 1222) and warnings (1329 no row, 1287 INTO after FROM) are the
// oracle's; a string over several shards keeps its column's collation.
func TestSelectIntoVariables(t *testing.T) {
	p := StartProxy(t, copyConfig())
	schema := []string{"DROP TABLE IF EXISTS lim",
		"CREATE TABLE lim (id INT PRIMARY KEY, amount DECIMAL(10,2), d DATE, v VARCHAR(20) COLLATE utf8mb4_unicode_ci)",
		"INSERT INTO lim VALUES (1, 10.25, '2024-01-02', 'é'), (2, 20.50, NULL, 'b'), (3, NULL, '2025-03-01', 'Z'), (4, 0.01, '2023-12-31', NULL), " +
			"(9, 1, '2022-01-01', 'zz😀')"}
	proxy, oracle := copySchema(t, p, "cp_into", schema...)
	pc, oc := Conn(t, proxy), Conn(t, oracle)
	const show = "SELECT @n, @a, @d, COLLATION(@d), @v, COLLATION(@v), HEX(@v), @w FROM lim WHERE id = 2"
	runSteps(t, pc, oc, []varStep{
		{sql: "SELECT COUNT(*), SUM(amount), MAX(d) INTO @n, @a, @d FROM lim"},
		{sql: "SELECT v INTO @v FROM lim WHERE id = 1"},
		{sql: "SELECT id FROM lim WHERE id = 3 FOR UPDATE INTO @w"},
		{sql: "SELECT MIN(id) FROM lim WHERE id > 1 INTO @w"},
		{sql: "SELECT id INTO @w FROM lim WHERE id > 10"},
		{sql: "SELECT id INTO @w FROM lim WHERE id = 100"},
		{sql: "SELECT id INTO @w FROM lim ORDER BY id DESC"}, // 1172, the first row's value assigned
		{sql: "SELECT id, v INTO @w FROM lim WHERE id = 1"},
		{sql: "SELECT id, amount INTO @w FROM lim ORDER BY id LIMIT 1"},
		{sql: "SELECT v INTO @v FROM lim ORDER BY id LIMIT 1"},
		{sql: "SELECT MAX(v), COUNT(*) INTO @v, @w FROM lim"},
		// The rows come to the client in utf8mb3, where 😀 is '?': the
		// variable keeps the column's bytes.
		{sql: "SET NAMES utf8mb3"},
		{sql: "SELECT v INTO @v FROM lim ORDER BY id DESC LIMIT 1"},
		{sql: "SET @v = (SELECT MAX(v) FROM lim)"},
		// A variable keeps every digit of a quotient (AVG's, a division's).
		{sql: "SELECT AVG(amount), AVG(id) INTO @a, @n FROM lim"},
		{sql: "SET @a = (SELECT AVG(amount) FROM lim WHERE id > 1), @n = (SELECT AVG(id) FROM lim)"},
		{sql: "SELECT AVG(id) INTO @n FROM lim GROUP BY id > 2 ORDER BY id > 2 LIMIT 1"},
		{sql: "SELECT SUM(amount) / 3, SUM(id) / 7 * 2 INTO @a, @n FROM lim"},
		{sql: "SET @a = (SELECT AVG(amount) * 3 FROM lim)"},
	}, "SHOW WARNINGS", show)
}
