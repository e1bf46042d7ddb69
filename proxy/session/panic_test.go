package session

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
)

// A bug that panics while a statement is answered costs the client that
// statement (error 1105), not its connection, unless a transaction was
// open: giving back its connections ended it, and only a closed
// connection tells the client so.
func TestPanicKeepsConnection(t *testing.T) {
	p := newBenchProxy(t, "shop", benchClientCaps)
	good := p.sess.env.Snap
	broken := new(snapshot.Holder) // no snapshot: routing dereferences nil

	dispatch := func(sql string) error {
		p.begin(mysql.COM_QUERY)
		p.cmd = append(p.cmd, sql...)
		return p.dispatch(t)
	}
	answerCode := func() uint16 {
		out := p.cc.out
		if len(out) < 5 || out[4] != wire.ErrHeader {
			t.Fatalf("answer %x is not an error", out)
		}
		return wire.ParseErr(out[4:]).Code
	}

	p.sess.env.Snap = broken
	if err := dispatch("SELECT c FROM sbtest1 WHERE id=1"); err != nil {
		t.Fatalf("connection closed after a panic outside a transaction: %v", err)
	}
	if code := answerCode(); code != mysql.ER_UNKNOWN_ERROR {
		t.Fatalf("error %d, want 1105", code)
	}
	p.sess.env.Snap = good
	p.query(t, pointSelect, 7)
	if n := p.rows(t); n != 1 {
		t.Fatalf("after the panic: %d rows, want 1", n)
	}

	if err := dispatch("BEGIN"); err != nil {
		t.Fatal(err)
	}
	p.sess.env.Snap = broken
	if err := dispatch("SELECT c FROM sbtest1 WHERE id=1"); err == nil {
		t.Fatal("connection kept after a panic inside a transaction")
	}
	if code := answerCode(); code != mysql.ER_UNKNOWN_ERROR {
		t.Fatalf("error %d, want 1105", code)
	}
	p.sess.env.Snap = good
}
