//go:build integration

package integration

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
)

// diagnosticsCases: statements whose warnings and errors a client reads
// next (SHOW WARNINGS, SHOW ERRORS, SHOW COUNT(*) ..., @@warning_count).
// The proxy ran them on pooled connections other sessions use next; what
// it shows must be what one MariaDB shows, whether one shard, several or
// none answered. The counts are exact. Warnings come from the shards in no
// set order: the lists are compared as multisets. A connection that ran
// several shards' statements in one go (a transaction's, or a session's
// kept one) shows the server's list for the last of them only: there the
// proxy's list may be shorter, never different.
var diagnosticsCases = []string{
	"SELECT id, amount / 0 FROM orders WHERE user_id = 7",                        // one shard
	"SELECT COUNT(*) FROM orders WHERE amount / 0 IS NULL AND id < 12",           // every shard
	"SELECT user_id, SUM(amount / 0) FROM orders WHERE id < 30 GROUP BY user_id", // merged
	"SELECT CAST('abc' AS SIGNED), 1 / 0",                                        // no table
	"SELECT id FROM orders WHERE user_id = 8 LIMIT 1",                            // none: clears
	"SELECT nosuch FROM orders",                                                  // a shard's error
	"SELECT id FROM orders WHERE user_id = 7 UNION SELECT id FROM nosuch",        // the proxy's or a shard's error
	"SELECT name FROM users WHERE id = 3 AND name = 1",                           // single-node table
	"DO 1 / 0",
	"INSERT IGNORE INTO regions (id, name) VALUES (1, 'dup')", // a global table: one copy's warnings
	"DROP TABLE IF EXISTS nosuch_table",
}

// diagnosticsReads are what a client asks after each case.
var diagnosticsReads = []string{
	"SHOW WARNINGS",
	"SHOW COUNT(*) WARNINGS",
	"SHOW ERRORS",
	"SHOW COUNT(*) ERRORS",
	"SELECT @@warning_count, @@session.error_count AS e",
	"SHOW WARNINGS LIMIT 1",
	"SHOW WARNINGS",
}

// diagnosticsPrepared run as prepared statements, with these arguments.
var diagnosticsPrepared = map[string][]any{
	"SELECT id, amount / ? FROM orders WHERE user_id = ?":  {0, 7},
	"SELECT COUNT(*) FROM orders WHERE amount / ? IS NULL": {0},
	"SELECT ? + 1": {1}, // no table: the last statement's warnings stay
}

func runDiagnostics(t *testing.T, proxy, oracle queryer, texts []string, prepared map[string][]any) {
	cases := append([]string(nil), texts...)
	for q := range prepared {
		cases = append(cases, q)
	}
	for _, q := range cases {
		run := func(db queryer) result { return runQuery(db, q) }
		if args, ok := prepared[q]; ok {
			run = func(db queryer) result { return runPrepared(db, q, args) }
		}
		got, want := run(proxy), run(oracle)
		if (got.Err == nil) != (want.Err == nil) {
			t.Errorf("%s: proxy error %v, oracle error %v", q, got.Err, want.Err)
			continue
		}
		// Each read as text, then as a prepared statement (reading changes
		// nothing).
		for i := 0; i < 2*len(diagnosticsReads); i++ {
			read, g, w := diagnosticsReads[i/2], result{}, result{}
			if i%2 == 0 {
				g, w = runQuery(proxy, read), runQuery(oracle, read)
			} else {
				g, w = runPrepared(proxy, read, nil), runPrepared(oracle, read, nil)
				read = "prepared " + read
			}
			if w.Err != nil {
				t.Fatalf("oracle: %s: %v", read, w.Err)
			}
			if g.Err != nil {
				t.Errorf("after %s\n  %s: %v", q, read, g.Err)
				continue
			}
			if strings.HasSuffix(read, "SHOW WARNINGS LIMIT 1") {
				// Which one comes first is the shards' order: just one.
				if len(g.Rows) != len(w.Rows) {
					t.Errorf("after %s\n  %s: %d rows, the oracle %d", q, read, len(g.Rows), len(w.Rows))
				}
				continue
			}
			if strings.HasSuffix(read, "SHOW WARNINGS") && len(g.Rows) < len(w.Rows) && len(g.Rows) > 0 {
				if extra := notIn(g.Rows, w.Rows); extra != nil {
					t.Errorf("after %s\n  %s: the proxy shows %q, which the oracle does not", q, read, extra)
				}
				continue
			}
			if d := compareResults(g, w, false); d != "" {
				t.Errorf("after %s\n  %s: %s", q, read, d)
			}
		}
	}
}

// testDiagnostics runs the cases on one connection each side, outside a
// transaction and then inside one.
func testDiagnostics(t *testing.T, proxy, oracle *sql.DB) {
	t.Run("autocommit", func(t *testing.T) {
		runDiagnostics(t, Conn(t, proxy), Conn(t, oracle), diagnosticsCases, diagnosticsPrepared)
	})
	t.Run("in-transaction", func(t *testing.T) {
		ptx, err := proxy.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer ptx.Rollback()
		otx, err := oracle.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer otx.Rollback()
		runDiagnostics(t, ptx, otx, diagnosticsCases, diagnosticsPrepared)
	})
}

// notIn returns a row of sub that is not in all (as multisets), or nil.
func notIn(sub, all [][]string) []string {
	left := map[string]int{}
	for _, r := range all {
		left[rowKey(r)]++
	}
	for _, r := range sub {
		if left[rowKey(r)] == 0 {
			return r
		}
		left[rowKey(r)]--
	}
	return nil
}

// TestDiagnosticsPassThrough: the same through a pass-through schema,
// against the server itself, and one session's warnings never show in
// another's, though their statements ran on the same pooled connection.
func TestDiagnosticsPassThrough(t *testing.T) {
	p := PassThrough(t, 1, 100) // one backend connection for everyone
	proxy := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	direct := Open(t, DSN("sg", "sg", dh0Primary, "gotest"))
	MustExec(t, direct, "DROP TABLE IF EXISTS diag_t",
		"CREATE TABLE diag_t (id INT PRIMARY KEY, a INT, s VARCHAR(8))",
		"INSERT INTO diag_t VALUES (1, 10, 'x'), (2, 20, 'y'), (3, 30, 'z')")
	t.Cleanup(func() { MustExec(t, direct, "DROP TABLE IF EXISTS diag_t") })
	runDiagnostics(t, Conn(t, proxy), Conn(t, direct), []string{
		"SELECT id, a / 0 FROM diag_t",
		"SELECT CAST(s AS SIGNED) FROM diag_t",
		"SELECT id FROM diag_t WHERE id = 1",
		"SELECT nosuch FROM diag_t",
		"INSERT IGNORE INTO diag_t VALUES (1, 1, 'dup')",
		"DROP TABLE IF EXISTS nosuch_table",
		"DO 1 / 0",
	}, map[string][]any{"SELECT id, a / ? FROM diag_t WHERE id > ?": {0, 1}, "SELECT ? + 1": {1}})

	a, b := Conn(t, proxy), Conn(t, proxy)
	if r := runQuery(a, "SELECT id, a / 0 FROM diag_t"); r.Err != nil {
		t.Fatal(r.Err)
	}
	if got := QueryString(t, b, "SHOW COUNT(*) WARNINGS"); got != "0" {
		t.Errorf("another session's SHOW COUNT(*) WARNINGS = %s, want 0", got)
	}
	if r := runQuery(b, "SHOW WARNINGS"); r.Err != nil || len(r.Rows) != 0 {
		t.Errorf("another session's SHOW WARNINGS: %v rows %v", r.Err, r.Rows)
	}
	if got := QueryString(t, a, "SELECT @@warning_count"); got != "3" {
		t.Errorf("the session's own @@warning_count = %s after the other's statements, want 3", got)
	}
}

// FLUSH TABLES WITH READ LOCK holds its connection for the session: it went
// back to the pool with the lock, and the next session's write there got
// 1223. The session's end releases it.
func TestReadLockStaysWithSession(t *testing.T) {
	p := PassThrough(t, 1, 100) // one backend connection for everyone
	direct := Open(t, DSN("sg", "sg", dh0Primary, "gotest"))
	MustExec(t, direct, "DROP TABLE IF EXISTS lock_t", "CREATE TABLE lock_t (id INT PRIMARY KEY)")
	t.Cleanup(func() { MustExec(t, direct, "DROP TABLE IF EXISTS lock_t") })
	locker := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	c := Conn(t, locker)
	MustExec(t, c, "FLUSH TABLES WITH READ LOCK")
	if _, err := c.ExecContext(context.Background(), "INSERT INTO lock_t VALUES (1)"); ErrCode(err) != 1223 {
		t.Errorf("a write under the session's own read lock: %v, want 1223", err)
	}
	c.Close()
	locker.Close()
	writer := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	MustExec(t, writer, "INSERT INTO lock_t VALUES (2)")
	if got := QueryString(t, direct, "SELECT COUNT(*) FROM lock_t"); got != "1" {
		t.Errorf("rows after the locker left: %s, want 1", got)
	}
}

// SHOW PROCESSLIST lists the proxy's sessions of the user (the ids KILL
// and CONNECTION_ID() give), SHOW GRANTS the proxy's grants: a backend
// listed every client's connections and its account's password hash. The
// same as prepared statements.
func TestProcesslistAndGrants(t *testing.T) {
	p := PassThrough(t, 4, 100)
	me, other := Conn(t, Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))), Conn(t, Open(t, DSN("other", "other", p.Addr, "itest")))
	mine, theirs := QueryString(t, me, "SELECT CONNECTION_ID()"), QueryString(t, other, "SELECT CONNECTION_ID()")
	for _, full := range []string{"", "FULL "} {
		rows, err := me.QueryContext(context.Background(), "SHOW "+full+"PROCESSLIST")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		if want := "Id User Host db Command Time State Info Progress"; strings.Join(cols, " ") != want {
			t.Errorf("SHOW %sPROCESSLIST columns %v, want %s", full, cols, want)
		}
		seen := map[string]string{}
		for rows.Next() {
			var id, user, command string
			var host, db, tm, state, info, progress sql.NullString
			if err := rows.Scan(&id, &user, &host, &db, &command, &tm, &state, &info, &progress); err != nil {
				t.Fatal(err)
			}
			seen[id] = user + " " + db.String + " " + info.String
		}
		rows.Close()
		if got, want := seen[mine], "gotest gotest SHOW "+full+"PROCESSLIST"; got != want {
			t.Errorf("SHOW %sPROCESSLIST: own session %s is %q, want %q", full, mine, got, want)
		}
		if _, ok := seen[theirs]; ok || len(seen) != 1 {
			t.Errorf("SHOW %sPROCESSLIST shows %v: want only the user's own session", full, seen)
		}
	}
	want := "GRANT USAGE ON *.* TO `gotest`@`%`|GRANT ALL PRIVILEGES ON `gotest`.* TO `gotest`@`%`|GRANT ALL PRIVILEGES ON `itest`.* TO `gotest`@`%`"
	for _, q := range []string{"SHOW GRANTS", "SHOW GRANTS FOR CURRENT_USER()", "SHOW GRANTS FOR 'gotest'@'%'"} {
		if got := QueryColumn(t, me, q); strings.Join(got, "|") != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
	if _, err := me.ExecContext(context.Background(), "SHOW GRANTS FOR other"); ErrCode(err) != 1044 {
		t.Errorf("another user's grants: %v, want 1044", err)
	}
	// Prepared, a server would answer them (its account, its connections,
	// its databases): the proxy answers them as it answers the text.
	for q, want := range map[string]string{
		"SHOW GRANTS":    want,
		"SHOW DATABASES": "gotest|information_schema|itest",
		"SELECT 1":       "1",
	} {
		r := runPrepared(me, q, nil)
		if r.Err != nil {
			t.Fatalf("prepared %s: %v", q, r.Err)
		}
		var got []string
		for _, row := range r.Rows {
			got = append(got, row[0])
		}
		if strings.Join(got, "|") != want {
			t.Errorf("prepared %s: %q, want %q", q, got, want)
		}
	}
	r := runPrepared(me, "SHOW FULL PROCESSLIST", nil)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	for _, row := range r.Rows {
		if row[0] != mine || row[1] != "gotest" {
			t.Errorf("prepared SHOW FULL PROCESSLIST lists %s of %s: want only the user's own session", row[0], row[1])
		}
	}
	n := len(r.Rows)
	// Their prepare tells the columns the execute brings, as MariaDB's does.
	gc, err := client.Connect(p.Addr, "gotest", "gotest", "gotest")
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	for q, want := range map[string]int{"SHOW GRANTS": 1, "SHOW WARNINGS": 3, "SHOW COUNT(*) ERRORS": 1, "SHOW FULL PROCESSLIST": 9} {
		st, err := gc.Prepare(q)
		if err != nil {
			t.Fatalf("prepare %s: %v", q, err)
		}
		res, err := st.Execute()
		if err != nil {
			t.Fatalf("execute %s: %v", q, err)
		}
		if st.ColumnNum() != want || len(res.Fields) != want {
			t.Errorf("%s: %d columns at prepare, %d at execute, want %d", q, st.ColumnNum(), len(res.Fields), want)
		}
		st.Close()
	}
	if n != 1 {
		t.Errorf("prepared SHOW FULL PROCESSLIST: %d rows, want 1", n)
	}
}

// information_schema.SCHEMATA lists the user's schemas, not the physical
// databases of the server answering; PROCESSLIST, every client's
// connections there, is refused; a session whose database is
// information_schema reads its tables unqualified in a sharded schema too.
func TestVirtualInformationSchema(t *testing.T) {
	p := PassThrough(t, 4, 100)
	c := Conn(t, Open(t, DSN("gotest", "gotest", p.Addr, "gotest")))
	schemata := func(c *sql.Conn, q string, args ...any) string {
		return strings.Join(QueryColumn(t, c, q, args...), " ")
	}
	if got, want := schemata(c, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1"), "gotest information_schema itest"; got != want {
		t.Errorf("pass-through SCHEMATA: %q, want %q", got, want)
	}
	// A parameter makes the driver prepare it: the binary protocol too.
	if got, want := schemata(c, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1", "i%"), "information_schema itest"; got != want {
		t.Errorf("pass-through SCHEMATA, prepared: %q, want %q", got, want)
	}
	if _, err := c.ExecContext(context.Background(), "SELECT * FROM information_schema.PROCESSLIST"); ErrCode(err) != 1235 {
		t.Errorf("information_schema.PROCESSLIST: %v, want 1235", err)
	}
	if _, err := c.QueryContext(context.Background(), "SELECT * FROM information_schema.PROCESSLIST WHERE ID > ?", 0); ErrCode(err) != 1235 {
		t.Errorf("information_schema.PROCESSLIST, prepared: %v, want 1235", err)
	}

	firstColumn := func(r result) string {
		t.Helper()
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		var out []string
		for _, row := range r.Rows {
			out = append(out, row[0])
		}
		return strings.Join(out, " ")
	}
	// Tables about tables list the user's databases only: with the
	// proxy's account a server listed every database's (mysql's, other
	// users' schemas'). SHOW ... FROM another database is refused.
	other := Conn(t, Open(t, DSN("other", "other", p.Addr, "itest")))
	for _, q := range []string{
		"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('information_schema', 'itest')",
		"SELECT COUNT(*) FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA IN ('mysql', 'gotest')",
		"SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA <> 'itest'",
		"SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql')",
	} {
		if got := QueryString(t, other, q); got != "0" {
			t.Errorf("%s: %s, want 0", q, got)
		}
	}
	// itest's database is itest_phys on the server: the rows name the
	// schema, as one MariaDB with a database itest would.
	itestDirect := Open(t, DSN("sg", "sg", dh0Primary, "itest_phys"))
	for q, want := range map[string]string{
		"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()":                                           "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
		"SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'itest'":                                             "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'itest_phys'",
		"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE '%phys'":                                           "SELECT 0",
		"SELECT GROUP_CONCAT(DISTINCT TABLE_SCHEMA) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA <> 'information_schema'": "SELECT IF(COUNT(*), 'itest', NULL) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'itest_phys'",
	} {
		if got, w := QueryString(t, other, q), QueryString(t, itestDirect, want); got != w {
			t.Errorf("renamed: %s: %s, want %s", q, got, w)
		}
	}
	direct := Open(t, DSN("sg", "sg", dh0Primary, "gotest"))
	for _, q := range []string{"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'gotest'",
		"SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"} {
		if got, want := QueryString(t, c, q), QueryString(t, direct, q); got != want {
			t.Errorf("the user's own database: %s: %s, want %s", q, got, want)
		}
	}
	rows, err := c.QueryContext(context.Background(), "SELECT table_name, t.Table_Type FROM information_schema.TABLES t WHERE table_schema = 'gotest' LIMIT 1")
	if err != nil {
		t.Fatal(err)
	}
	if cols, _ := rows.Columns(); strings.Join(cols, " ") != "table_name Table_Type" {
		t.Errorf("column names %v, want them as written", cols)
	}
	rows.Close()
	// So do the SHOW statements about every database's routines and open
	// tables (their first column is the database).
	for _, q := range []string{"SHOW PROCEDURE STATUS", "SHOW FUNCTION STATUS LIKE '%'",
		"SHOW PROCEDURE STATUS WHERE Type = 'PROCEDURE';", "SHOW OPEN TABLES", "SHOW OPEN TABLES LIKE '%'"} {
		for _, db := range strings.Fields(firstColumn(runQuery(other, q))) {
			if db != "itest_phys" {
				t.Errorf("%s lists database %s", q, db)
			}
		}
	}
	for q, code := range map[string]uint16{"SHOW TABLES FROM mysql": 1044, "SHOW TABLE STATUS FROM gotest": 1044,
		"SELECT * FROM information_schema.INNODB_SYS_TABLES": 1227, "SELECT * FROM information_schema.USER_PRIVILEGES": 1235} {
		if _, err := other.ExecContext(context.Background(), q); ErrCode(err) != code {
			t.Errorf("%s: %v, want %d", q, err, code)
		}
	}

	sp := StartProxy(t, copyConfig())
	ic := Conn(t, Open(t, DSN("app", "app", sp.Addr, "information_schema")))
	if got, want := schemata(ic, "SELECT SCHEMA_NAME FROM SCHEMATA ORDER BY 1"), "cp information_schema"; got != want {
		t.Errorf("sharded, unqualified SCHEMATA: %q, want %q", got, want)
	}
	if got, want := schemata(ic, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?", "c%"), "cp"; got != want {
		t.Errorf("sharded SCHEMATA, prepared: %q, want %q", got, want)
	}
	cp := Conn(t, Open(t, DSN("app", "app", sp.Addr, "cp")))
	for _, q := range []string{"SHOW TABLES", "SHOW CREATE DATABASE cp"} { // answered with logical names, as text
		if text, got := firstColumn(runQuery(cp, q)), firstColumn(runPrepared(cp, q, nil)); got != text || text == "" {
			t.Errorf("sharded, prepared %s: %q, as text %q", q, got, text)
		}
	}
	if got := QueryString(t, ic, "SELECT COUNT(*) FROM COLLATIONS WHERE COLLATION_NAME = 'utf8mb4_bin'"); got != "1" {
		t.Errorf("sharded, unqualified COLLATIONS: %s rows, want 1", got)
	}
}
