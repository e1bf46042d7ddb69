//go:build integration

package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestClientThatStopsReading: a client that stops reading a result is cut
// once a write to it has waited net_write_timeout (the session's, else the
// servers'), as MariaDB cuts it; the proxy held its session and
// connections until it read again or TCP gave up. One that pauses for less
// reads the whole result.
func TestClientThatStopsReading(t *testing.T) {
	p := StartProxy(t, copyConfig())
	db := Open(t, DSN("app", "app", p.Addr, "cp"))
	values := make([]string, 2000)
	for i := range values {
		values[i] = fmt.Sprintf("(%d)", i+1)
	}
	MustExec(t, db, "DROP TABLE IF EXISTS lim", "CREATE TABLE lim (id INT PRIMARY KEY)", "INSERT INTO lim VALUES "+strings.Join(values, ", "))
	// 2000 rows of 100 kB from the 4 shards: far more than the sockets' buffers hold.
	const big = "SELECT id, REPEAT('x', 100000) FROM lim"
	read := func(timeout string, pause time.Duration) (sessionGone bool, rows int, err error) {
		t.Helper()
		c := Conn(t, db)
		defer c.Close()
		if timeout != "" {
			MustExec(t, c, "SET net_write_timeout = "+timeout)
		}
		id := QueryString(t, c, "SELECT CONNECTION_ID()")
		rs, err := c.QueryContext(context.Background(), big)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		rs.Next()
		time.Sleep(pause)
		list := runQuery(db, "SHOW PROCESSLIST")
		if list.Err != nil {
			t.Fatal(list.Err)
		}
		sessionGone = !slices.ContainsFunc(list.Rows, func(r []string) bool { return r[0] == id })
		for rows = 1; rs.Next(); rows++ {
		}
		return sessionGone, rows, rs.Err()
	}
	if gone, rows, err := read("", 3*time.Second); gone || rows != 2000 || err != nil {
		t.Errorf("a 3 s pause under the default timeout: session gone %v, %d rows, %v; want all 2000 rows", gone, rows, err)
	}
	if gone, rows, err := read("1", 4*time.Second); !gone || rows == 2000 || err == nil {
		t.Errorf("a 4 s pause with net_write_timeout = 1: session gone %v, %d rows, %v; want the session cut", gone, rows, err)
	}
	if got := QueryString(t, db, "SELECT 1"); got != "1" {
		t.Errorf("the proxy after cutting a client: %s", got)
	}
}
