//go:build integration

package integration

import (
	"context"
	"database/sql"
	"net"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// abortDialer hands out TCP connections and remembers the last one, so a
// test can cut it the way a crashing client does (RST, unread data left).
type abortDialer struct {
	mu   sync.Mutex
	last *net.TCPConn
}

func (d *abortDialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.last = c.(*net.TCPConn)
	d.mu.Unlock()
	return c, nil
}

func (d *abortDialer) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	_ = d.last.SetLinger(0)
	_ = d.last.Close()
}

// A client that dies in the middle of a large result (the proxy blocked
// writing to it) costs the proxy nothing: the next clients are served, the
// result is whole for them, and the backend connection it held does not
// leak.
func TestClientAbortsMidResult(t *testing.T) {
	p := PassThrough(t, 4, 100)
	admin := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	MustExec(t, admin,
		"DROP TABLE IF EXISTS abort_big",
		"CREATE TABLE abort_big (id INT PRIMARY KEY, pad VARCHAR(2000))",
		"INSERT INTO abort_big SELECT seq, REPEAT('x', 2000) FROM seq_1_to_4000") // 8 MB: more than the sockets hold
	d := &abortDialer{}
	mysql.RegisterDialContext("abortnet", d.dial)
	for i := 0; i < 5; i++ {
		db, err := sql.Open("mysql", "gotest:gotest@abortnet("+p.Addr+")/gotest")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query("SELECT id, pad FROM abort_big")
		if err != nil {
			t.Fatal(err)
		}
		if !rows.Next() {
			t.Fatalf("no first row: %v", rows.Err())
		}
		d.cut()
		rows.Close()
		db.Close()
		if got := QueryString(t, admin, "SELECT COUNT(*) FROM (SELECT id, pad FROM abort_big) x"); got != "4000" {
			t.Fatalf("after abort %d: %s rows, want 4000", i, got)
		}
	}
	// The whole result still streams to a client that reads it.
	n := 0
	rows, err := admin.Query("SELECT id, pad FROM abort_big")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		n++
	}
	if err := rows.Close(); err != nil || n != 4000 {
		t.Fatalf("full read: %d rows, err %v", n, err)
	}
	// Pool max 4: had the aborted sessions leaked their backend
	// connections, these would wait and time out.
	for i := 0; i < 8; i++ {
		if got := QueryString(t, admin, "SELECT COUNT(*) FROM abort_big"); got != "4000" {
			t.Fatalf("count %s", got)
		}
	}
	MustExec(t, admin, "DROP TABLE abort_big")
}
