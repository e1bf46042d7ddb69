//go:build integration

package integration

import (
	"context"
	"database/sql/driver"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestIdleClientPastWaitTimeout: a client idle past its wait_timeout
// loses its connection, and its open transaction with it, as on MariaDB
// (the oracle shows the same). Through the proxy the session stayed, its
// client was told of a lost transaction only at its next statement, and
// idle clients held their sessions for good.
func TestIdleClientPastWaitTimeout(t *testing.T) {
	p := StartProxy(t, copyConfig())
	for _, target := range []struct{ name, dsn string }{
		{"oracle", DSN("sg", "sg", "127.0.0.1:13310", "")},
		{"proxy", DSN("app", "app", p.Addr, "cp")},
	} {
		t.Run(target.name, func(t *testing.T) {
			db := Open(t, target.dsn)
			if target.name == "oracle" {
				MustExec(t, db, "CREATE DATABASE IF NOT EXISTS idle_check")
				db = Open(t, DSN("sg", "sg", "127.0.0.1:13310", "idle_check"))
			}
			MustExec(t, db, "DROP TABLE IF EXISTS lim", "CREATE TABLE lim (id INT PRIMARY KEY, v INT)",
				"INSERT INTO lim VALUES (1, 0), (2, 0), (3, 0), (4, 0)")
			stays := Conn(t, db)
			stayID := QueryString(t, stays, "SELECT CONNECTION_ID()")
			idle := Conn(t, db)
			MustExec(t, idle, "SET SESSION wait_timeout = 2", "BEGIN", "UPDATE lim SET v = 1 WHERE id = 1")
			idleID := QueryString(t, idle, "SELECT CONNECTION_ID()")
			// Poll (a generous guard, not a measure) until the session is gone.
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				list := runQuery(db, "SHOW PROCESSLIST")
				if list.Err != nil {
					t.Fatal(list.Err)
				}
				if !slices.ContainsFunc(list.Rows, func(r []string) bool { return r[0] == idleID }) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("session %s idle past wait_timeout = 2 is still listed after 30 s", idleID)
				}
			}
			// Its lock went with it: another client updates the row at once.
			MustExec(t, db, "SET SESSION innodb_lock_wait_timeout = 5")
			other := Conn(t, db)
			MustExec(t, other, "SET SESSION innodb_lock_wait_timeout = 5", "UPDATE lim SET v = 2 WHERE id = 1")
			// The idle client learns it from a closed connection, not an error.
			_, err := idle.ExecContext(context.Background(), "UPDATE lim SET v = 3 WHERE id = 2")
			var me *mysql.MySQLError
			if err == nil || errors.As(err, &me) {
				t.Errorf("the idle client's next statement: %v, want its connection closed", err)
			} else if !errors.Is(err, driver.ErrBadConn) && !errors.Is(err, mysql.ErrInvalidConn) {
				t.Logf("the idle client's next statement: %v", err)
			}
			if got := QueryString(t, db, "SELECT GROUP_CONCAT(v ORDER BY id) FROM lim"); got != "2,0,0,0" {
				t.Errorf("rows after: %s, want 2,0,0,0 (the idle transaction rolled back)", got)
			}
			// A client under the default wait_timeout is kept.
			if got := QueryString(t, stays, "SELECT CONNECTION_ID()"); got != stayID {
				t.Errorf("the other client's connection id: %s, want %s", got, stayID)
			}
			MustExec(t, db, "DROP TABLE lim")
		})
	}
}
