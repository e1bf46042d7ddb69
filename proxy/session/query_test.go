package session

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/wire"
)

// checkMulti goes over a query's statements once each: scanning all the
// rest at each one made 16,000 statements take 15 s (the firewall's
// screen did the same); 400,000 would take hours, past the test binary's
// timeout, where they take a fraction of a second now.
func TestCheckMultiManyStatements(t *testing.T) {
	sql := strings.Repeat("DO 1;", 400000) + "SET GLOBAL max_connections = 1"
	var sum parser.Summary
	parser.Scan(sql, &sum)
	if e := checkMulti(sql, &sum); e == nil || e.Code != mysql.ER_NOT_SUPPORTED_YET && e.Code != mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR {
		t.Fatalf("SET GLOBAL after 400,000 statements: %v, want it refused", e)
	}
}

// A multi-statement query whose first statement answers OK (DO, SET) in a
// sharded schema: the relay took the client's "more results" flag, which
// it writes into that OK, for the server's, and waited for a result the
// server never sends.
func TestMultiStatementAfterOK(t *testing.T) {
	p := newBenchProxy(t, "shop", benchClientCaps)
	p.begin(mysql.COM_QUERY)
	p.cmd = append(p.cmd, "DO 1; SELECT c FROM sbtest1 WHERE id = 1"...)
	done := make(chan error, 1)
	go func() { done <- p.dispatch(t) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer after the first statement's OK")
	}
	out := p.cc.out
	if n := int(out[0]) | int(out[1])<<8 | int(out[2])<<16; out[4] != wire.OKHeader ||
		binary.LittleEndian.Uint16(out[7:])&mysql.SERVER_MORE_RESULTS_EXISTS == 0 || len(out) < 4+n+5 || out[4+n+4] != 1 {
		t.Fatalf("answer %q: want an OK saying more results follow, then a result set of one column", out)
	}
}
