//go:build integration

package integration

// TestInsertSelectBound: an INSERT ... SELECT the proxy copies holds its
// rows until they are written, at most exec.MaxCopyBytes (32 MiB) of
// them: a bigger one is refused with 1235 and writes nothing, in an
// autocommit statement and in a transaction, which goes on.

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func copyConfig() string {
	return `
listen: {{LISTEN}}
users:
  - {name: app, password: app, schemas: [cp]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: ` + dh0Primary + `}
  - {name: dh1, user: sg, password: sg, primary: ` + dh1Primary + `}
data_nodes:
  - {name: c0, host: dh0, database: cp_0}
  - {name: c1, host: dh1, database: cp_1}
schemas:
  - name: cp
    tables:
      big:  {column: id, algorithm: mod, shards: 4, nodes: [c0, c1]}
      copy: {column: id, algorithm: mod, shards: 4, nodes: [c0, c1]}
      small: {column: id, algorithm: mod, shards: 4, nodes: [c0, c1]}
      lim: {column: id, algorithm: mod, shards: 4, nodes: [c0, c1]}
      wide: {column: c, algorithm: mod, shards: 4, nodes: [c0, c1]}
      glob: {global: true}
      daily: {column: d, algorithm: date, shards: 4, nodes: [c0, c1], options: {unit: day, start: '2026-01-01', per_shard: 1, wrap: true}}
      keyed: {column: k, algorithm: hash, shards: 4, nodes: [c0, c1]}
`
}

// copiesAgree reads a global table of copyConfig's schema on both its
// nodes (q): the copies hold the same rows, want of them.
func copiesAgree(t *testing.T, q string, want int) {
	t.Helper()
	a := runQuery(Open(t, DSN("sg", "sg", dh0Primary, "cp_0")), q)
	b := runQuery(Open(t, DSN("sg", "sg", dh1Primary, "cp_1")), q)
	if a.Err != nil || b.Err != nil {
		t.Fatalf("reading the copies: %v, %v", a.Err, b.Err)
	}
	if len(a.Rows) != want {
		t.Errorf("%s: the copy on dh0 has %d rows, want %d", q, len(a.Rows), want)
	}
	if d := compareResults(a, b, true); d != "" {
		t.Errorf("the copies of a global table differ (\"proxy\" = dh0, \"oracle\" = dh1): %s", d)
	}
}

// copySchema runs schema through proxy p in its schema cp and on the
// oracle in database db (created if need be), and returns both handles.
func copySchema(t *testing.T, p *Proxy, db string, schema ...string) (proxy, oracle *sql.DB) {
	t.Helper()
	proxy = Open(t, DSN("app", "app", p.Addr, "cp"))
	MustExec(t, proxy, schema...)
	MustExec(t, Open(t, DSN("sg", "sg", oracleAddr, "")), "CREATE DATABASE IF NOT EXISTS "+db)
	oracle = Open(t, DSN("sg", "sg", oracleAddr, db))
	MustExec(t, oracle, schema...)
	return proxy, oracle
}

func TestInsertSelectBound(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	MustExec(t, db, "DROP TABLE IF EXISTS big", "DROP TABLE IF EXISTS copy",
		"CREATE TABLE big (id INT PRIMARY KEY, body LONGTEXT NOT NULL)",
		"CREATE TABLE copy (id INT PRIMARY KEY, body LONGTEXT NOT NULL)")
	// 40 rows of 1 MiB: 40 MiB to copy.
	for i := 0; i < 40; i++ {
		MustExec(t, db, fmt.Sprintf("INSERT INTO big VALUES (%d, REPEAT('%c', 1048576))", i, 'a'+i%26))
	}
	c := Conn(t, db)
	ctx := context.Background()
	_, err := c.ExecContext(ctx, "INSERT INTO copy SELECT id + 1, body FROM big")
	if !isRefusal(err) || !strings.Contains(err.Error(), "32 MiB") {
		t.Errorf("a 40 MiB copy: got %v, want 1235 naming the 32 MiB bound", err)
	}
	if got := QueryString(t, c, "SELECT COUNT(*) FROM copy"); got != "0" {
		t.Errorf("the refused copy left %s rows", got)
	}
	// In a transaction: refused, nothing written, the transaction goes on.
	MustExec(t, c, "BEGIN", "INSERT INTO copy VALUES (100, 'before')")
	if _, err := c.ExecContext(ctx, "INSERT INTO copy SELECT id + 1, body FROM big"); !isRefusal(err) {
		t.Errorf("a 40 MiB copy in a transaction: got %v, want 1235", err)
	}
	MustExec(t, c, "INSERT INTO copy SELECT id + 1, LEFT(body, 10) FROM big WHERE id < 20", "COMMIT")
	if got := QueryString(t, c, "SELECT COUNT(*) FROM copy"); got != "21" {
		t.Errorf("after the transaction: %s rows, want 21 (one, then a copy of 20)", got)
	}
	// In parts under the bound, it copies.
	MustExec(t, c, "DELETE FROM copy", "INSERT INTO copy SELECT id + 1, body FROM big WHERE id < 20", "INSERT INTO copy SELECT id + 1, body FROM big WHERE id >= 20")
	if got, want := QueryString(t, c, "SELECT SUM(CRC32(body) + id) FROM copy"), QueryString(t, c, "SELECT SUM(CRC32(body) + id + 1) FROM big"); got != want {
		t.Errorf("copied in two parts: checksum %s, want %s", got, want)
	}
}

// TestSelectLimitInternal: sql_select_limit limits what a SELECT returns
// to the client, never a write, and never the proxy's own reads. A write
// that reads rows first (an UPDATE that moves them, an INSERT ... SELECT)
// must see them all; and a session's setting must not reach the queries
// the proxy runs for every session on pooled connections (a table's
// column list, once cut to one column, refused every INSERT without one).
func TestSelectLimitInternal(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	var rows []string
	for i := 0; i < 40; i++ {
		rows = append(rows, fmt.Sprintf("(%d, 'r%d')", i, i))
	}
	MustExec(t, db, "DROP TABLE IF EXISTS small", "DROP TABLE IF EXISTS copy", "DROP TABLE IF EXISTS wide",
		"CREATE TABLE small (id INT PRIMARY KEY, body VARCHAR(20) NOT NULL)",
		"CREATE TABLE copy (id INT PRIMARY KEY, body LONGTEXT NOT NULL)",
		"CREATE TABLE wide (id INT PRIMARY KEY, a INT, b INT, c INT NOT NULL)",
		"INSERT INTO small VALUES "+strings.Join(rows, ", "))
	limited := Conn(t, db)
	MustExec(t, limited, "SET sql_select_limit = 1")
	// Pooled connections on both hosts now carry the setting.
	for _, id := range []string{"0", "1", "2", "3"} {
		if got := QueryString(t, limited, "SELECT id FROM small WHERE id = "+id); got != id {
			t.Fatalf("point select %s: %q", id, got)
		}
	}
	// Another session's INSERT without a column list needs wide's columns:
	// the sharding column is the fourth.
	other := Conn(t, db)
	MustExec(t, other, "INSERT INTO wide VALUES (1, 2, 3, 4), (2, 3, 4, 5)")
	if got := QueryString(t, other, "SELECT COUNT(*) FROM wide WHERE c IN (4, 5)"); got != "2" {
		t.Errorf("rows inserted without a column list after a session set sql_select_limit: %s found by key, want 2", got)
	}
	// The limited session's writes see every row.
	if _, err := limited.ExecContext(context.Background(), "INSERT INTO copy SELECT id + 1001, body FROM small"); err != nil {
		t.Fatal(err)
	}
	res, err := limited.ExecContext(context.Background(), "UPDATE small SET id = id + 1001 WHERE id < 20")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 20 {
		t.Errorf("UPDATE moving rows under sql_select_limit = 1: %d rows affected, want 20", n)
	}
	MustExec(t, limited, "SET sql_select_limit = DEFAULT")
	if got := QueryString(t, limited, "SELECT COUNT(*) FROM copy"); got != "40" {
		t.Errorf("INSERT ... SELECT under sql_select_limit = 1 copied %s rows, want 40", got)
	}
	if got := QueryString(t, limited, "SELECT COUNT(*) FROM small WHERE id > 1000"); got != "20" {
		t.Errorf("UPDATE under sql_select_limit = 1 moved %s rows, want 20", got)
	}
}

// TestGlobalCopiesAgree: every copy of a global table gets the same values
// from a write that computes them: NOW() and a column defaulting to the
// time agree (one @@timestamp for all copies, also after the session set
// its own), an INSERT ... SELECT computes its rows once, and functions
// that would differ per copy (UUID(), RAND()) are refused.
func TestGlobalCopiesAgree(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	c := Conn(t, db)
	MustExec(t, c, "DROP TABLE IF EXISTS glob",
		"CREATE TABLE glob (id INT PRIMARY KEY, name VARCHAR(40), at DATETIME(6), ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))")
	for i := 0; i < 20; i++ {
		MustExec(t, c, fmt.Sprintf("INSERT INTO glob (id, name, at) VALUES (%d, 'n', NOW(6))", i))
	}
	MustExec(t, c, "UPDATE glob SET name = CONCAT(name, '+'), at = CURRENT_TIMESTAMP(6) WHERE id < 10",
		"INSERT INTO glob (id, name, at) SELECT 100 + id, 'copied', NOW(6) FROM glob WHERE id < 5",
		"SET timestamp = 1000000000", "INSERT INTO glob (id, name, at) VALUES (200, 'fixed', NOW(6))", "SET timestamp = DEFAULT")
	for _, q := range []string{"INSERT INTO glob (id, name) VALUES (300, UUID())", "UPDATE glob SET name = RAND() WHERE id = 1", "UPDATE glob SET at = SYSDATE(6) WHERE id = 1"} {
		if _, err := c.ExecContext(context.Background(), q); !isRefusal(err) {
			t.Errorf("%s: got %v, want 1235 (each copy would get another value)", q, err)
		}
	}
	copiesAgree(t, "SELECT id, name, at, ts FROM glob ORDER BY id", 26)
	if got := QueryString(t, c, "SELECT at FROM glob WHERE id = 200"); !strings.HasPrefix(got, "2001-09-09") {
		t.Errorf("after SET timestamp, NOW() gave %s, want 2001-09-09 ...", got)
	}
}

// TestSessionStatementSubqueries: SET and DO run on the schema's default
// node, but a subquery of theirs reads the tables where they are: on the
// one shard its conditions allow (the variable then holds that answer for
// the session's later statements), else, when it is the whole value, read
// first and written in; a string so read is refused with a reason (instead
// of the default node's "table doesn't exist").
func TestSessionStatementSubqueries(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	var rows []string
	for i := 0; i < 40; i++ {
		rows = append(rows, fmt.Sprintf("(%d, 'r%d')", i, i%3))
	}
	MustExec(t, db, "DROP TABLE IF EXISTS small", "CREATE TABLE small (id INT PRIMARY KEY, body VARCHAR(20) NOT NULL)",
		"INSERT INTO small VALUES "+strings.Join(rows, ", "))
	c := Conn(t, db)
	MustExec(t, c, "SET @b = (SELECT body FROM small WHERE id = 5), @n = (SELECT COUNT(*) FROM small WHERE id IN (1, 5, 9))", "DO (SELECT 1 FROM small WHERE id = 2)")
	if got := QueryString(t, c, "SELECT CONCAT(@b, ':', @n)"); got != "r2:3" {
		t.Errorf("SET from a subquery on one shard: @b:@n = %q, want r2:3", got)
	}
	// Read on another shard's connection: the proxy carries the variable.
	if got := QueryString(t, c, "SELECT CONCAT(id, @b) FROM small WHERE id = 6"); got != "6r2" {
		t.Errorf("the variable on another shard: %q, want 6r2", got)
	}
	MustExec(t, c, "SET @all = (SELECT COUNT(*) FROM small)")
	if got := QueryString(t, c, "SELECT CONCAT(id, ':', @all) FROM small WHERE id = 7"); got != "7:40" {
		t.Errorf("SET from a subquery over every shard: %q, want 7:40", got)
	}
	MustExec(t, c, "SET @s = (SELECT MAX(body) FROM small)")
	if got := QueryString(t, c, "SELECT CONCAT(id, @s, COLLATION(@s)) FROM small WHERE id = 8"); got != "8r2utf8mb4_general_ci" {
		t.Errorf("SET of a string from a subquery over every shard: %q, want 8r2utf8mb4_general_ci", got)
	}
}

// TestExplainAndMaintenance: EXPLAIN runs where the statement would (each
// shard's plan in turn), and ANALYZE / OPTIMIZE TABLE reach every
// physical table (they went to the default node under the logical name,
// which has no such table) and answer one server's rows (TestMaintenance
// compares them with the oracle's).
func TestExplainAndMaintenance(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	MustExec(t, db, "DROP TABLE IF EXISTS small", "CREATE TABLE small (id INT PRIMARY KEY, body VARCHAR(20) NOT NULL)",
		"INSERT INTO small VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')")
	for _, c := range []struct {
		sql  string
		rows int
	}{
		{"EXPLAIN SELECT * FROM small WHERE id = 5", 1},
		{"EXPLAIN SELECT COUNT(*) FROM small", 4},
		{"EXPLAIN DELETE FROM small WHERE id = 2", 1},
		{"ANALYZE TABLE small", 1},
	} {
		r := runQuery(db, c.sql)
		if r.Err != nil {
			t.Errorf("%s: %v", c.sql, r.Err)
			continue
		}
		if len(r.Rows) != c.rows {
			t.Errorf("%s: %d rows, want %d: %v", c.sql, len(r.Rows), c.rows, r.Rows)
		}
		for _, row := range r.Rows {
			if strings.HasPrefix(c.sql, "ANALYZE") && (row[0] != "cp.small" || row[2] != "status" || row[3] != "OK") {
				t.Errorf("%s: %v, want cp.small's status OK", c.sql, row)
			}
		}
	}
	r := runQuery(db, "OPTIMIZE TABLE small")
	if r.Err != nil || len(r.Rows) == 0 {
		t.Errorf("OPTIMIZE TABLE small: %v, %d rows", r.Err, len(r.Rows))
	}
	for _, row := range r.Rows {
		if row[0] != "cp.small" || row[2] == "Error" {
			t.Errorf("OPTIMIZE TABLE small: %v", row)
		}
	}
	// Every shard was analyzed: each has its columns' statistics (which
	// DROP TABLE removed).
	if r := runQuery(db, "ANALYZE TABLE small PERSISTENT FOR ALL"); r.Err != nil {
		t.Fatalf("ANALYZE TABLE small PERSISTENT FOR ALL: %v", r.Err)
	}
	for _, node := range [][2]string{{dh0Primary, "cp_0"}, {dh1Primary, "cp_1"}} {
		n := QueryString(t, Open(t, DSN("sg", "sg", node[0], node[1])),
			"SELECT COUNT(DISTINCT table_name) FROM mysql.column_stats WHERE db_name = '"+node[1]+"' AND table_name LIKE 'small\\_%'")
		if n != "2" {
			t.Errorf("%s: %s shards of small have statistics, want 2", node[1], n)
		}
	}
}

// TestUserVariableAssignments: a statement that assigns user variables on
// one shard hands them to the session, so that the next statement, on
// another shard's connection, reads them (they stayed on the shard's
// connection); one that runs on several shards is refused, as each shard
// would assign its own value (n counted 1, 2, 3, 1, 1 over five rows).
func TestUserVariableAssignments(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	MustExec(t, db, "DROP TABLE IF EXISTS small", "CREATE TABLE small (id INT PRIMARY KEY, body VARCHAR(20) NOT NULL)",
		"INSERT INTO small VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e'), (9, 'i')")
	c := Conn(t, db)
	MustExec(t, c, "SET @r = 0")
	if r := runQuery(c, "SELECT @r := @r + 1, body FROM small WHERE id IN (1, 5, 9) ORDER BY id"); r.Err != nil || len(r.Rows) != 3 {
		t.Fatalf("assigning on one shard: %v %v", r.Err, r.Rows)
	}
	if got := QueryString(t, c, "SELECT CONCAT(@r, body) FROM small WHERE id = 2"); got != "3b" {
		t.Errorf("after a SELECT assigned @r on one shard, another shard reads %q, want 3b", got)
	}
	MustExec(t, c, "UPDATE small SET body = (@b := CONCAT(body, '!')) WHERE id = 3")
	if got := QueryString(t, c, "SELECT CONCAT(@b, body) FROM small WHERE id = 4"); got != "c!d" {
		t.Errorf("after an UPDATE assigned @b: %q, want c!d", got)
	}
	// Prepared, in a transaction.
	MustExec(t, c, "BEGIN")
	var got string
	if err := c.QueryRowContext(context.Background(), "SELECT @p := body FROM small WHERE id = ?", 5).Scan(&got); err != nil || got != "e" {
		t.Fatalf("prepared assignment: %q %v", got, err)
	}
	if got := QueryString(t, c, "SELECT CONCAT(@p, body) FROM small WHERE id = 2"); got != "eb" {
		t.Errorf("after a prepared SELECT assigned @p: %q, want eb", got)
	}
	MustExec(t, c, "COMMIT")
	for _, q := range []string{
		"SELECT @r := @r + 1, id FROM small ORDER BY id",
		"SELECT id FROM small WHERE id IN (1, 2) AND (@x := id) > 0",
		"UPDATE small SET body = (@u := body)",
	} {
		if _, err := c.ExecContext(context.Background(), q); !isRefusal(err) {
			t.Errorf("%s: got %v, want 1235", q, err)
		}
	}
	if got := QueryString(t, c, "SELECT @r"); got != "3" {
		t.Errorf("@r after the refusals: %q, want 3", got)
	}
	// SELECT ... INTO on one shard: the server assigns, the session carries it.
	MustExec(t, c, "SELECT body INTO @z FROM small WHERE id = 1")
	if got := QueryString(t, c, "SELECT CONCAT(@z, body) FROM small WHERE id = 2"); got != "ab" {
		t.Errorf("after SELECT ... INTO @z on one shard: %q, want ab", got)
	}
}

// TestKillScatter: KILL QUERY stops a statement on every shard it runs on
// (it stopped one shard's, and the client waited for the others), and the
// session goes on.
func TestKillScatter(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	var rows []string
	for i := 0; i < 40; i++ {
		rows = append(rows, fmt.Sprintf("(%d, 'k')", i))
	}
	MustExec(t, db, "DROP TABLE IF EXISTS small", "CREATE TABLE small (id INT PRIMARY KEY, body VARCHAR(20) NOT NULL)",
		"INSERT INTO small VALUES "+strings.Join(rows, ", "))
	victim, killer := Conn(t, db), Conn(t, db)
	id := QueryString(t, victim, "SELECT CONNECTION_ID()")
	done := make(chan error, 1)
	go func() {
		// Ten seconds a shard.
		_, err := victim.ExecContext(context.Background(), "SELECT COUNT(*) FROM small WHERE SLEEP(1) = 0")
		done <- err
	}()
	const running = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(1)%' AND INFO NOT LIKE '%PROCESSLIST%'"
	sleeping := func() int {
		n := 0
		for _, h := range []string{"dh0-primary", "dh1-primary"} {
			k, _ := strconv.Atoi(Root(t, h, running))
			n += k
		}
		return n
	}
	for i := 0; sleeping() < 4; i++ {
		if i == 100 {
			t.Fatal("the four shards' statements never ran")
		}
		time.Sleep(50 * time.Millisecond)
	}
	MustExec(t, killer, "KILL QUERY "+id)
	select {
	case err := <-done:
		if ErrCode(err) != 1317 {
			t.Fatalf("the killed statement: %v, want 1317", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("KILL QUERY did not stop the statement on every shard")
	}
	if n := sleeping(); n != 0 {
		t.Errorf("%d shard statements still run after the client got 1317", n)
	}
	if got := QueryString(t, victim, "SELECT COUNT(*) FROM small"); got != "40" {
		t.Errorf("the victim's session after KILL QUERY: %q", got)
	}
}

// TestComputedShardingKeys: an INSERT's sharding value may be an
// expression without columns (CURDATE(), UUID(), @v, 1 + 2,
// LAST_INSERT_ID()): the server computes it, once a row, and the row goes
// where that value belongs, so a lookup by the value finds it. Ones that
// read tables or assign variables are refused.
func TestComputedShardingKeys(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	MustExec(t, db, "DROP TABLE IF EXISTS daily", "DROP TABLE IF EXISTS keyed", "DROP TABLE IF EXISTS small",
		"CREATE TABLE daily (d DATE NOT NULL, n INT NOT NULL, PRIMARY KEY (d, n))",
		"CREATE TABLE keyed (k CHAR(36) NOT NULL PRIMARY KEY, v INT NOT NULL)",
		"CREATE TABLE small (id INT PRIMARY KEY, body VARCHAR(20) NOT NULL)")
	c := Conn(t, db)
	MustExec(t, c, "INSERT INTO daily VALUES (CURDATE(), 1), (CURDATE() - INTERVAL 1 DAY, 2), (DATE_ADD('2026-03-01', INTERVAL 9 DAY), 3)",
		"INSERT INTO keyed VALUES (UUID(), 1), (UUID(), 2), (UUID(), 3)",
		"SET @u = 7", "INSERT INTO small VALUES (@u, 'u'), (1 + 2 * 10, 'e')",
		"DO LAST_INSERT_ID(42)", "INSERT INTO small VALUES (LAST_INSERT_ID(), 'l')")
	if _, err := c.ExecContext(context.Background(), "INSERT INTO small VALUES (? + 100, ?)", 5, "p"); err != nil {
		t.Fatalf("prepared: %v", err)
	}
	for q, want := range map[string]string{
		"SELECT n FROM daily WHERE d = CURDATE()":                  "1",
		"SELECT n FROM daily WHERE d = CURDATE() - INTERVAL 1 DAY": "2",
		"SELECT n FROM daily WHERE d = '2026-03-10'":               "3",
		"SELECT body FROM small WHERE id = 7":                      "u",
		"SELECT body FROM small WHERE id = 21":                     "e",
		"SELECT body FROM small WHERE id = 42":                     "l",
		"SELECT body FROM small WHERE id = 105":                    "p",
		"SELECT COUNT(*) FROM keyed WHERE k LIKE '%-%-%-%-%'":      "3",
		"SELECT COUNT(DISTINCT k) FROM keyed":                      "3",
	} {
		if got := QueryString(t, c, q); got != want {
			t.Errorf("%s: %q, want %q (the row is not where its value belongs)", q, got, want)
		}
	}
	// Each UUID's row is on the shard its value picks.
	rows := runQuery(c, "SELECT k FROM keyed")
	for _, r := range rows.Rows {
		if got := QueryString(t, c, "SELECT v FROM keyed WHERE k = '"+r[0]+"'"); got == "" {
			t.Errorf("keyed row %s is not on its shard", r[0])
		}
	}
	// The session's own values: the proxy's connection id.
	MustExec(t, c, "INSERT INTO small VALUES (CONNECTION_ID(), 'c')")
	if got := QueryString(t, c, "SELECT body FROM small WHERE id = CONNECTION_ID()"); got != "c" {
		t.Errorf("CONNECTION_ID() as the key: %q", got)
	}
	for _, q := range []string{
		"INSERT INTO small VALUES ((SELECT MAX(id) FROM glob), 'g')",
		"INSERT INTO small VALUES (@w := 8, 'w')",
	} {
		if _, err := c.ExecContext(context.Background(), q); !isRefusal(err) {
			t.Errorf("%s: got %v, want 1235", q, err)
		}
	}
}
