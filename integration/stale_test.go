//go:build integration

package integration

import (
	"strings"
	"testing"
	"time"
)

// TestServerClosedIdleConnections: connections the server closed while
// they sat in the pool (a restart, wait_timeout, a DBA's KILL) are not
// handed to the next statement, which failed with "lost connection to
// backend" although it never reached a live server.
func TestServerClosedIdleConnections(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	MustExec(t, db, "DROP TABLE IF EXISTS small", "CREATE TABLE small (id INT PRIMARY KEY, body VARCHAR(20) NOT NULL)")
	// Every shard written once: the pools of both hosts hold connections.
	MustExec(t, db, "INSERT INTO small VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')")
	for _, addr := range []string{dh0Primary, dh1Primary} {
		srv := Conn(t, Open(t, DSN("sg", "sg", addr, "")))
		ids := QueryColumn(t, srv, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'sg' AND DB LIKE 'cp\\_%' AND COMMAND = 'Sleep' AND ID <> CONNECTION_ID()")
		if len(ids) == 0 {
			t.Fatalf("no idle proxy connection on %s", addr)
		}
		for _, id := range ids {
			MustExec(t, srv, "KILL CONNECTION "+id)
		}
	}
	// Looked at only after idling a second (backend.checkIdleAfter).
	time.Sleep(1100 * time.Millisecond)
	c := Conn(t, db)
	MustExec(t, c, "UPDATE small SET body = 'x' WHERE id = 1", "UPDATE small SET body = 'y' WHERE id = 2")
	if got := strings.Join(QueryColumn(t, c, "SELECT body FROM small ORDER BY id"), ","); got != "x,y,c,d" {
		t.Errorf("rows after the servers closed the pooled connections: %s", got)
	}
}

// TestShardsDisagreeOnColumns: while a table is altered shard by shard
// (or after an ALTER that failed on some shards), its shards answer a
// statement with other columns. Relayed or merged as they came, rows went
// out under column definitions they did not match (an extra value per
// row, a merge sorting by the wrong column, binary rows the client cannot
// decode); now such a statement gets error 1412, and one reading a single
// shard is answered as before.
func TestShardsDisagreeOnColumns(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	MustExec(t, db, "DROP TABLE IF EXISTS small", "CREATE TABLE small (id INT PRIMARY KEY, body VARCHAR(20) NOT NULL)",
		"INSERT INTO small VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')")
	shard1 := Open(t, DSN("sg", "sg", dh1Primary, "cp_1")) // holds small_1 (id 1)
	// Each statement runs as text (? as 0) and prepared (0 bound to ?).
	refused := func(change string, queries ...string) {
		t.Helper()
		for _, q := range queries {
			_, err := db.Exec(strings.ReplaceAll(q, "?", "0"))
			if ErrCode(err) != 1412 {
				t.Errorf("after %s, %s: %v, want error 1412", change, q, err)
			}
			rows, err := db.Query(q, 0)
			if err == nil {
				err = rows.Close()
			}
			if ErrCode(err) != 1412 {
				t.Errorf("after %s, prepared %s: %v, want error 1412", change, q, err)
			}
		}
	}
	MustExec(t, shard1, "ALTER TABLE small_1 ADD COLUMN extra INT DEFAULT 7")
	refused("a column added on one shard", "SELECT * FROM small WHERE id > ?", "SELECT * FROM small WHERE id > ? ORDER BY id",
		"SELECT * FROM small WHERE id IN (1, 2) AND id > ? ORDER BY id DESC LIMIT 1")
	// In a transaction a node's shards answer on its one connection, one
	// result after another: the later ones are checked as they are read.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query("SELECT * FROM small")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
	}
	if ErrCode(err) != 1412 {
		t.Errorf("after a column added on one shard, in a transaction: %v, want error 1412", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Errorf("rollback after the refusal: %v", err)
	}
	if got := QueryString(t, db, "SELECT CONCAT_WS(',', id, body) FROM small WHERE id = 2"); got != "2,b" {
		t.Errorf("one shard's row: %s", got)
	}
	MustExec(t, shard1, "ALTER TABLE small_1 DROP COLUMN extra", "ALTER TABLE small_1 MODIFY id BIGINT NOT NULL")
	refused("a column's type changed on one shard", "SELECT id FROM small WHERE id > ?", "SELECT id, body FROM small WHERE id > ? ORDER BY body")
	MustExec(t, shard1, "ALTER TABLE small_1 MODIFY id INT NOT NULL")
	if got := strings.Join(QueryColumn(t, db, "SELECT body FROM small ORDER BY id"), ","); got != "a,b,c,d" {
		t.Errorf("after the shards agree again: %s", got)
	}
}
