//go:build integration

package integration

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestDeadlockAcrossHosts: two transactions that lock rows on two data
// hosts in opposite orders deadlock where no server sees it; one server
// answers the one that closes the cycle with 1213 at once. Through the
// proxy both waited innodb_lock_wait_timeout (50 s) and got 1205; now the
// proxy stops the statement that closed the cycle, which answers 1213
// with its transaction rolled back on both hosts, and the other goes on.
func TestDeadlockAcrossHosts(t *testing.T) {
	p := StartProxy(t, copyConfig())
	t.Run("text", func(t *testing.T) { deadlockAcrossHosts(t, p, false) })
	// The statements with arguments: prepared, each on its one shard.
	t.Run("prepared", func(t *testing.T) { deadlockAcrossHosts(t, p, true) })
}

func deadlockAcrossHosts(t *testing.T, p *Proxy, prepared bool) {
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	update := func(c *sql.Conn, v, id int) error {
		if prepared {
			_, err := c.ExecContext(context.Background(), "UPDATE lim SET v = ? WHERE id = ?", v, id)
			return err
		}
		_, err := c.ExecContext(context.Background(), fmt.Sprintf("UPDATE lim SET v = %d WHERE id = %d", v, id))
		return err
	}
	// ids 1 and 2 live on different data hosts (shards 1 and 2).
	MustExec(t, db, "DROP TABLE IF EXISTS lim", "CREATE TABLE lim (id INT PRIMARY KEY, v INT)", "INSERT INTO lim VALUES (1, 0), (2, 0)")
	a, b := Conn(t, db), Conn(t, db)
	MustExec(t, a, "BEGIN")
	MustExec(t, b, "BEGIN")
	if err := update(a, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := update(b, 2, 2); err != nil {
		t.Fatal(err)
	}
	aDone := make(chan error, 1)
	go func() { aDone <- update(a, 1, 2) }() // waits for b
	// (a waits before b closes the cycle. InnoDB refreshes what
	// information_schema shows of its locks when it was not read for
	// 100 ms.)
	waits := "SELECT COUNT(*) FROM information_schema.innodb_lock_waits"
	dh0, dh1 := Open(t, DSN("sg", "sg", dh0Primary, "")), Open(t, DSN("sg", "sg", dh1Primary, ""))
	for i := 0; QueryString(t, dh0, waits) == "0" && QueryString(t, dh1, waits) == "0"; i++ {
		if i == 100 {
			t.Fatal("a's UPDATE never waited")
		}
		time.Sleep(200 * time.Millisecond)
	}
	errB := update(b, 2, 1) // waits for a: a cycle
	if ErrCode(errB) != 1213 {
		t.Fatalf("the statement that closed the cycle: %v, want error 1213 (the other's: %v)\n%s", errB, <-aDone, p.Log())
	}
	if err := <-aDone; err != nil {
		t.Fatalf("the other transaction's statement: %v, want it to go on once the victim rolled back", err)
	}
	// b's transaction is over, rolled back on both hosts: its row 2 is
	// a's now, and what b does next is not part of it.
	if got := QueryString(t, b, "SELECT @@in_transaction"); got != "0" {
		t.Errorf("after the deadlock, b's @@in_transaction = %s, want 0", got)
	}
	MustExec(t, b, "BEGIN", "COMMIT")
	MustExec(t, a, "COMMIT")
	if got := QueryString(t, db, "SELECT GROUP_CONCAT(id, ':', v ORDER BY id) FROM lim"); got != "1:1,2:1" {
		t.Errorf("rows after a committed: %s, want 1:1,2:1", got)
	}
	if !strings.Contains(p.Log(), "deadlock across data hosts") {
		t.Errorf("the proxy's log does not say it broke a deadlock:\n%s", p.Log())
	}
}
