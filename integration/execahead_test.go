//go:build integration

package integration

import (
	"context"
	"strings"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
)

// TestExecAheadOnMariaDB checks, on a real server, what the proxy relies on
// when a transaction's start rides in the packet of the statement after it
// (backend.Conn.ExecAhead): MariaDB runs nothing after a statement that
// fails, so a write never runs outside its transaction. The start is made
// to fail with an XA id that another connection holds prepared (1440).
func TestExecAheadOnMariaDB(t *testing.T) {
	text := strings.NewReplacer("{{LISTEN}}", "127.0.0.1:0", "{{MAXCONN}}", "10", "{{POOLMAX}}", "4",
		"{{POOLWAIT}}", "10s").Replace(passThroughConfig)
	cfg, err := conf.Parse("ahead.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cl := backend.NewCluster(cfg)
	defer cl.Close()
	pool := cl.Hosts["dh0"].Primary().Pool

	db := Open(t, DSN("sg", "sg", dh0Primary, "gotest"))
	MustExec(t, db, "DROP TABLE IF EXISTS ahead", "CREATE TABLE ahead (id INT PRIMARY KEY)")
	db.Exec("XA ROLLBACK 'sg-ahead-dup'") // a leftover of an interrupted run
	holder := Conn(t, db)
	MustExec(t, holder, "XA START 'sg-ahead-dup'", "XA END 'sg-ahead-dup'", "XA PREPARE 'sg-ahead-dup'")
	t.Cleanup(func() { MustExec(t, holder, "XA ROLLBACK 'sg-ahead-dup'") })
	count := func(id string) string {
		return QueryString(t, db, "SELECT COUNT(*) FROM ahead WHERE id = "+id)
	}

	for _, tc := range []struct {
		name, xid, id string
		send          func(c *backend.Conn, sql string) error
		wantErr       uint16 // the answer's error code; 0: OK
	}{
		{"query", "sg-ahead-1", "1", func(c *backend.Conn, sql string) error {
			return c.WriteCommandStr(gomysql.COM_QUERY, sql)
		}, 0},
		{"query, start fails", "sg-ahead-dup", "2", func(c *backend.Conn, sql string) error {
			return c.WriteCommandStr(gomysql.COM_QUERY, sql)
		}, 1440},
		{"client packet, start fails", "sg-ahead-dup", "3", func(c *backend.Conn, sql string) error {
			return c.WriteCommand(append([]byte{gomysql.COM_QUERY}, sql...))
		}, 1440},
		{"prepare, start fails", "sg-ahead-dup", "4", func(c *backend.Conn, sql string) error {
			return c.WriteCommandStr(gomysql.COM_STMT_PREPARE, sql)
		}, 1440},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := pool.Get(context.Background(), backend.Plain, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Put(c)
			c.ExecAhead("XA START '"+tc.xid+"'", "SAVEPOINT a")
			if err := tc.send(c, "INSERT INTO gotest.ahead VALUES ("+tc.id+")"); err != nil {
				t.Fatal(err)
			}
			p, err := c.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != 0 {
				if p[0] != wire.ErrHeader || wire.ParseErr(p).Code != tc.wantErr {
					t.Fatalf("answer %q, want error %d", p, tc.wantErr)
				}
				if !c.Broken() {
					t.Fatal("a connection whose transaction failed to start is reused")
				}
				if n := count(tc.id); n != "0" {
					t.Fatalf("the insert ran although its transaction did not start (%s rows)", n)
				}
				return
			}
			if p[0] != wire.OKHeader {
				t.Fatalf("answer %q, want OK", p)
			}
			if c.Status&gomysql.SERVER_STATUS_IN_TRANS == 0 {
				t.Fatalf("status %#x: not in the transaction", c.Status)
			}
			// The insert ran inside the XA transaction: rolling it back undoes it.
			if n := count(tc.id); n != "0" {
				t.Fatalf("the insert is visible before its transaction ended (%s rows)", n)
			}
			if _, err := c.Exec("XA END '" + tc.xid + "'; XA ROLLBACK '" + tc.xid + "'"); err != nil {
				t.Fatal(err)
			}
			if n := count(tc.id); n != "0" {
				t.Fatalf("the insert outlived its rolled-back transaction (%s rows)", n)
			}
		})
	}
}
