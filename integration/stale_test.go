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
