//go:build integration

package integration

import (
	"bytes"
	"context"
	"database/sql"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

func lockConfig() string {
	return `
listen: {{LISTEN}}
users:
  - {name: app, password: app, schemas: [lk, lkp]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: ` + dh0Primary + `, replicas: [{addr: ` + dh0Replica + `}]}
  - {name: dh1, user: sg, password: sg, primary: ` + dh1Primary + `, replicas: [{addr: ` + dh1Replica + `}]}
data_nodes:
  - {name: l0, host: dh0, database: lk_0}
  - {name: l1, host: dh1, database: lk_1}
  - {name: lp, host: dh1, database: lk_plain}
schemas:
  - name: lk
    default_node: l0
    tables:
      ord:  {column: uid, algorithm: mod, shards: 4, nodes: [l0, l1]}
      item: {parent: ord, column: oid, parent_column: id}
      glob: {global: true}
  - name: lkp                     # no rules: relayed whole
    default_node: lp
`
}

var lockSchema = []string{
	"DROP TABLE IF EXISTS item", "DROP TABLE IF EXISTS ord", "DROP TABLE IF EXISTS glob", "DROP TABLE IF EXISTS plain",
	"CREATE TABLE ord (id INT PRIMARY KEY, uid INT NOT NULL, v INT)",
	"CREATE TABLE item (id INT PRIMARY KEY, oid INT NOT NULL, q INT)",
	"CREATE TABLE glob (id INT PRIMARY KEY, name VARCHAR(20))",
	"CREATE TABLE plain (id INT PRIMARY KEY, note VARCHAR(20))",
	"INSERT INTO ord VALUES (1, 1, 10), (2, 2, 20), (3, 3, 30), (4, 4, 40), (5, 5, 50), (6, 6, NULL)",
	"INSERT INTO item VALUES (1, 1, 1), (2, 1, 2), (3, 2, 3), (4, 5, 4)",
	"INSERT INTO glob VALUES (1, 'one'), (2, 'two')",
	"INSERT INTO plain VALUES (1, 'p')",
}

// startLockSchema starts a proxy on lockConfig and loads lockSchema through
// it and into the oracle's lk_oracle.
func startLockSchema(t *testing.T) (p *Proxy, proxy, oracle *sql.DB) {
	t.Helper()
	p = StartProxy(t, lockConfig())
	proxy = Open(t, DSN("app", "app", p.Addr, "lk"))
	MustExec(t, proxy, lockSchema...)
	MustExec(t, Open(t, DSN("sg", "sg", oracleAddr, "")), "CREATE DATABASE IF NOT EXISTS lk_oracle")
	oracle = Open(t, DSN("sg", "sg", oracleAddr, "lk_oracle"))
	MustExec(t, oracle, lockSchema...)
	return p, proxy, oracle
}

// TestLockTables: LOCK TABLES in a sharded schema holds the locks on every
// server with a physical table, and the session then answers as one
// server does: only the locked tables under the names they were locked
// with (1100), no writes to tables locked READ (1099), a table locked twice
// under one name 1066; LOCK TABLES, UNLOCK TABLES and START TRANSACTION
// release them. Writes over several shards stay atomic under the locks.
func TestLockTables(t *testing.T) {
	p, proxy, oracle := startLockSchema(t)
	pc, oc := Conn(t, proxy), Conn(t, oracle)

	same := func(q string) {
		t.Helper()
		// (1146 names the schema, which is the oracle's own there.)
		sameAnswer(t, pc, oc, q, true, !strings.Contains(q, "nosuch"))
	}
	for _, q := range []string{
		"LOCK TABLES ord READ, glob WRITE",
		"SELECT * FROM ord ORDER BY id",
		"SELECT uid, SUM(v) FROM ord GROUP BY uid ORDER BY uid",
		"SELECT * FROM glob ORDER BY id",
		"SELECT * FROM plain",                    // 1100
		"SELECT * FROM ord o",                    // 1100 'o'
		"SELECT * FROM item WHERE oid = 1",       // 1100
		"INSERT INTO ord VALUES (100, 100, 1)",   // 1099
		"UPDATE ord SET v = v + 1 WHERE uid = 2", // 1099
		"INSERT INTO glob VALUES (3, 'three')",
		"SELECT * FROM glob ORDER BY id",
		// A second LOCK TABLES releases the first.
		"LOCK TABLES ord WRITE, item WRITE, plain AS p READ LOCAL, glob AS g WRITE",
		"SELECT * FROM glob", // 1100: locked as g
		"SELECT * FROM glob AS g ORDER BY id",
		"UPDATE glob g SET name = UPPER(name) WHERE id = 1",
		"SELECT COUNT(*) FROM ord",
		"SELECT COUNT(*) FROM ord AS o", // 1100 'o'
		"UPDATE ord SET v = v + 1 WHERE uid IN (1, 2, 3)",
		"INSERT INTO item VALUES (5, 3, 5), (6, 4, 6)", // (the parents are read to place them)
		"SELECT * FROM item ORDER BY id",
		"SELECT * FROM plain", // 1100
		"SELECT * FROM plain p",
		"UPDATE plain p SET note = 'x'", // 1099
		// Over several shards, all or nothing: the duplicate on one shard
		// undoes the row on the other.
		"INSERT INTO ord VALUES (7, 7, 70), (2, 2, 0)",
		"SELECT id, uid, v FROM ord ORDER BY id",
		// Found reading the statement: the locks stay.
		"LOCK TABLES ord READ, ord READ",
		"LOCK TABLES ord AS x READ, glob AS x READ",
		"SELECT * FROM glob g",
		// A table that does not exist: the locks are gone.
		"LOCK TABLES nosuch READ",
		"SELECT * FROM glob ORDER BY id",
		"UNLOCK TABLES",
		// The InnoDB way: autocommit off, then the locks; COMMIT and
		// ROLLBACK end transactions under them.
		"SET autocommit = 0",
		"LOCK TABLES ord WRITE",
		"INSERT INTO ord VALUES (8, 8, 80), (9, 9, 90)",
		"ROLLBACK",
		"SELECT COUNT(*) FROM ord",
		"INSERT INTO ord VALUES (10, 10, 100), (11, 11, 110)",
		"COMMIT",
		"SELECT @@autocommit, @@in_transaction",
		"UNLOCK TABLES",
		"SET autocommit = 1",
		"SELECT id FROM ord WHERE id > 7 ORDER BY id",
		// START TRANSACTION releases the locks.
		"LOCK TABLES ord READ",
		"START TRANSACTION",
		"SELECT * FROM plain ORDER BY id",
		"COMMIT",
		"LOCK TABLES ord WRITE",
		"INSERT INTO ord VALUES (12, 12, 120), (13, 13, 130)",
		"SELECT @@autocommit, @@in_transaction",
		"UNLOCK TABLES",
		"SELECT * FROM ord ORDER BY id",
	} {
		same(q)
	}

	// A maintenance statement's table not locked: one server's rows and
	// warning.
	for _, c := range []*sql.Conn{pc, oc} {
		MustExec(t, c, "LOCK TABLES ord READ")
		if got := runQuery(c, "CHECK TABLE plain, ord"); got.Err != nil || len(got.Rows) != 3 ||
			got.Rows[0][3] != "Table 'plain' was not locked with LOCK TABLES" || got.Rows[2][3] != "OK" {
			t.Errorf("CHECK TABLE plain, ord under LOCK TABLES ord READ: %v %v", got.Rows, got.Err)
		}
		MustExec(t, c, "CHECKSUM TABLE plain")
	}
	same("SHOW WARNINGS")
	MustExec(t, oc, "UNLOCK TABLES")

	// A sharded table under an alias, where a host holds two of its
	// shards: refused (a server locks one table under an alias), the locks
	// held kept.
	MustExec(t, pc, "LOCK TABLES ord READ")
	if _, err := pc.ExecContext(t.Context(), "LOCK TABLES ord AS o READ"); !isRefusal(err) {
		t.Errorf("LOCK TABLES ord AS o READ: %v, want the proxy's refusal", err)
	}
	if _, err := pc.ExecContext(t.Context(), "SELECT * FROM glob"); code(err) != 1100 {
		t.Errorf("after a refused LOCK TABLES, a table not locked: %v, want 1100", err)
	}

	// Prepared: the same checks.
	MustExec(t, pc, "LOCK TABLES ord READ")
	var n int
	if err := pc.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM ord WHERE uid = ?", 1).Scan(&n); err != nil || n != 1 {
		t.Errorf("prepared read of a locked table: %d, %v", n, err)
	}
	if _, err := pc.ExecContext(t.Context(), "SELECT * FROM plain WHERE id = ?", 1); code(err) != 1100 {
		t.Errorf("prepared read of a table not locked: %v, want 1100", err)
	}
	// Reads under the locks go to the primary that holds them, not to a
	// replica as without them.
	const where = "SELECT @@server_id FROM ord WHERE uid = 1" // (shard 1, on dh1)
	if got := QueryString(t, pc, where); got != "3" {
		t.Errorf("a read under LOCK TABLES ran on server_id %s, want 3, dh1's primary", got)
	}
	MustExec(t, pc, "UNLOCK TABLES")
	if got := QueryString(t, pc, where); got != "4" {
		t.Errorf("a read without LOCK TABLES ran on server_id %s, want 4, dh1's replica", got)
	}

	// The locks are the servers': another session waits for them.
	other := Conn(t, Open(t, DSN("app", "app", p.Addr, "lk")))
	MustExec(t, other, "SET SESSION lock_wait_timeout = 1")
	MustExec(t, pc, "LOCK TABLES ord READ")
	if _, err := other.ExecContext(t.Context(), "UPDATE ord SET v = v WHERE uid = 3"); code(err) != 1205 {
		t.Errorf("a write to a table another session locked READ: %v, want 1205 (lock wait timeout)", err)
	}
	if got := QueryString(t, other, "SELECT COUNT(*) FROM ord WHERE uid = 3 LOCK IN SHARE MODE"); got != "1" {
		t.Errorf("a read of a table another session locked READ: %s rows, want 1", got)
	}
	MustExec(t, pc, "UNLOCK TABLES", "LOCK TABLES glob WRITE")
	if _, err := other.ExecContext(t.Context(), "SELECT * FROM glob FOR UPDATE"); code(err) != 1205 {
		t.Errorf("a read of a global table another session locked WRITE: %v, want 1205", err)
	}
	// A session's end releases its locks (the proxy learns of it soon
	// after the client closes: the write waits until then).
	pc.Close()
	proxy.Close()
	MustExec(t, other, "SET SESSION lock_wait_timeout = 60", "UPDATE glob SET name = name")

	// A schema relayed whole while the locks are held: its tables are not
	// locked; its UNLOCK TABLES releases them.
	c := other
	MustExec(t, c, "USE lkp", "DROP TABLE IF EXISTS pt", "CREATE TABLE pt (id INT)", "INSERT INTO pt VALUES (1)",
		"USE lk", "LOCK TABLES ord READ")
	if _, err := c.ExecContext(t.Context(), "SELECT * FROM information_schema.tables WHERE table_name = 'ord'"); err != nil {
		t.Errorf("information_schema under LOCK TABLES: %v", err)
	}
	MustExec(t, c, "USE lkp", "SELECT 1")
	if _, err := c.ExecContext(t.Context(), "SELECT * FROM pt"); code(err) != 1100 {
		t.Errorf("a relayed schema's table under LOCK TABLES: %v, want 1100", err)
	}
	MustExec(t, c, "UNLOCK TABLES", "SELECT * FROM pt", "USE lk", "SELECT * FROM glob")
}

// TestDumpAndRestore: mariadb-dump of a sharded schema through the proxy
// (LOCK TABLES ... READ LOCAL over every table, as by default) gives the
// oracle's rows, and the dump read back through the proxy (LOCK TABLES
// ... WRITE, then INSERTs over every shard) restores them.
func TestDumpAndRestore(t *testing.T) {
	p, proxy, oracle := startLockSchema(t)
	host, port, _ := net.SplitHostPort(p.Addr)
	ohost, oport, _ := net.SplitHostPort(oracleAddr)
	// Parents before their children: a child's row is placed by its parent's.
	tables := []string{"ord", "item", "glob", "plain"}
	dump := func(host, port, user, db string) string {
		t.Helper()
		args := append([]string{"-h", host, "-P", port, "-u" + user, "-p" + user, "--skip-extended-insert", "--order-by-primary", db}, tables...)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "mariadb-dump", args...).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("mariadb-dump %s: %v %s", db, err, stderr)
		}
		return string(out)
	}
	rows := regexp.MustCompile("(?m)^INSERT INTO .*$")
	proxyDump, oracleDump := dump(host, port, "app", "lk"), dump(ohost, oport, "sg", "lk_oracle")
	got, want := rows.FindAllString(proxyDump, -1), rows.FindAllString(oracleDump, -1)
	if len(want) != 13 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the dump through the proxy has rows\n%s\nthe oracle's\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(proxyDump, "LOCK TABLES `ord` WRITE") {
		t.Errorf("the dump locks no table for its restore")
	}
	// Restore: the tables dropped and created again, their rows inserted
	// under LOCK TABLES ... WRITE.
	MustExec(t, proxy, "DELETE FROM item", "DELETE FROM ord", "DELETE FROM glob", "DELETE FROM plain")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mariadb", "-h", host, "-P", port, "-uapp", "-papp", "lk")
	cmd.Stdin = strings.NewReader(proxyDump)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("restoring the dump through the proxy: %v %s", err, stderr.String())
	}
	for _, q := range []string{"SELECT * FROM ord ORDER BY id", "SELECT * FROM item ORDER BY id", "SELECT * FROM glob ORDER BY id", "SELECT * FROM plain"} {
		if d := compareResults(runQuery(proxy, q), runQuery(oracle, q), true); d != "" {
			t.Errorf("after the restore, %s: %s", q, d)
		}
	}
	copies := func(q string) []string {
		a := runQuery(Open(t, DSN("sg", "sg", dh0Primary, "lk_0")), q)
		b := runQuery(Open(t, DSN("sg", "sg", dh1Primary, "lk_1")), q)
		return []string{fmtRows(a), fmtRows(b)}
	}
	if c := copies("SELECT * FROM glob ORDER BY id"); c[0] != c[1] {
		t.Errorf("after the restore the copies of glob differ: %s / %s", c[0], c[1])
	}
}

func fmtRows(r result) string {
	var b strings.Builder
	for _, row := range r.Rows {
		b.WriteString(strings.Join(row, ",") + ";")
	}
	if r.Err != nil {
		b.WriteString(r.Err.Error())
	}
	return b.String()
}
