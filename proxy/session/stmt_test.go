package session

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
)

// binaryParam encodes one parameter of COM_STMT_EXECUTE: its type bytes
// and its value.
func binaryParam(v any) (types, value []byte) {
	switch x := v.(type) {
	case int64:
		return []byte{mysql.MYSQL_TYPE_LONGLONG, 0}, binary.LittleEndian.AppendUint64(nil, uint64(x))
	case uint64:
		return []byte{mysql.MYSQL_TYPE_LONGLONG, 0x80}, binary.LittleEndian.AppendUint64(nil, x)
	case int32:
		return []byte{mysql.MYSQL_TYPE_LONG, 0}, binary.LittleEndian.AppendUint32(nil, uint32(x))
	case int8:
		return []byte{mysql.MYSQL_TYPE_TINY, 0}, []byte{byte(x)}
	case float64:
		return []byte{mysql.MYSQL_TYPE_DOUBLE, 0}, binary.LittleEndian.AppendUint64(nil, math.Float64bits(x))
	case string:
		return []byte{mysql.MYSQL_TYPE_VAR_STRING, 0}, wire.AppendLenEncString(nil, x)
	}
	return []byte{mysql.MYSQL_TYPE_NULL, 0}, nil
}

// A prepared statement's template routes each execution where planning
// it would: same node, same text.
func TestTemplateRouteAsPlanned(t *testing.T) {
	p := newBenchProxy(t, "shop", benchClientCaps)
	s := p.sess
	snap := s.env.Snap.Load()
	for _, sql := range []string{
		"SELECT c FROM sbtest1 WHERE id=?",
		"SELECT c FROM sbtest1 WHERE k=? AND id=? ORDER BY c LIMIT 5",
		"UPDATE sbtest1 SET c=? WHERE id=?",
	} {
		st := &stmt{sql: sql, sharded: true}
		parser.Scan(st.sql, &st.sum)
		for _, c := range sql {
			if c == '?' {
				st.params++
			}
		}
		for _, v := range []any{int64(1), int64(2), int64(123456789), int64(-7), uint64(1 << 63), int32(5), int8(-3), "8", "x", float64(4)} {
			var types, values []byte
			nullMap := make([]byte, (st.params+7)/8)
			for i := 0; i < st.params; i++ {
				ty, val := binaryParam(v)
				types, values = append(types, ty...), append(values, val...)
			}
			st.types = types
			got, dn, ok := s.templateRoute(st, s.stmtTemplateFor(st, nullMap, values, snap), nullMap, values, snap)
			// As stmtExecuteSharded plans it without a template.
			params, err := decodeParams(st.params, types, nullMap, values, nil)
			if err != nil {
				t.Fatal(err)
			}
			stmts, err := parser.ParseMode(sql, s.mode())
			if err != nil {
				t.Fatal(err)
			}
			bindParams(stmts[0], params, false)
			plan, err := router.Build(stmts[0], s.routerEnv(snap))
			r, one := (*router.Route)(nil), false
			if err == nil {
				r, one = plan.Root.(*router.Route)
				one = one && len(r.SQL) == 1
			}
			if !ok {
				t.Logf("%s with %v: no template route (planned: one route %v)", sql, v, one)
				continue
			}
			if !one || got != r.SQL[0] || dn.Name != r.Node {
				t.Errorf("%s with %#v: template gives %s on %s; planned %+v (err %v)", sql, v, got, dn.Name, plan, err)
			}
		}
		if st.tpl.tpl == nil {
			t.Errorf("%s: no template", sql)
		}
	}
}

// A prepared statement over several shards gets, from its template, the
// plan the general way makes: the values written into every statement.
func TestTemplateScatterAsPlanned(t *testing.T) {
	p := newBenchProxy(t, "shop", benchClientCaps)
	s := p.sess
	snap := s.env.Snap.Load()
	cases := []struct {
		sql    string
		params [][]any
	}{
		{"SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c", [][]any{{int64(1), int64(100)}, {int64(5), int64(500)}, {"7", "900"}, {int64(3), int64(3)}}},
		{"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?", [][]any{{int64(1), int64(100)}, {int64(-50), int64(60)}, {float64(2.5), int64(99)}}},
		{"SELECT DISTINCT c FROM sbtest1 WHERE k = ? AND c <> ? ORDER BY c", [][]any{{int64(1), "a'b\\c"}, {int64(2), "x"}, {nil, "y"}}},
		// A range layout names the shards a range spans: the one-shard
		// template learns each span at its first execution, then serves it.
		{"SELECT c FROM rtest WHERE id BETWEEN ? AND ? ORDER BY c", [][]any{{int64(10), int64(20)}, {int64(90), int64(110)}, {int64(50), int64(150)}, {"95", int64(105)}, {int64(150), int64(250)}}},
	}
	for _, c := range cases {
		st := &stmt{sql: c.sql, sharded: true}
		parser.Scan(st.sql, &st.sum)
		served := 0
		for _, params := range c.params {
			st.params = len(params)
			var types, values []byte
			nullMap := make([]byte, (st.params+7)/8)
			for _, v := range params {
				ty, val := binaryParam(v)
				types, values = append(types, ty...), append(values, val...)
			}
			st.types = types
			decoded, err := decodeParams(st.params, types, nullMap, values, nil)
			if err != nil {
				t.Fatal(err)
			}
			tpl := s.stmtTemplateFor(st, nullMap, values, snap)
			got, ok := s.templateScatter(st.sql, tpl, decoded, snap)
			// The general way: values as literals, then the planner.
			stmts, err := parser.ParseMode(c.sql, s.mode())
			if err != nil {
				t.Fatal(err)
			}
			bindParams(stmts[0], decoded, true)
			want, err := router.Build(stmts[0], s.routerEnv(snap))
			if err != nil {
				t.Fatalf("%s with %v: %v", c.sql, params, err)
			}
			if !ok {
				t.Logf("%s with %v: no scatter template", c.sql, params)
				continue
			}
			served++
			if g, w := got.Explain(), want.Explain(); g != w {
				t.Errorf("%s with %v:\n--- template\n%s--- planner\n%s", c.sql, params, g, w)
			}
		}
		if served == 0 {
			t.Errorf("%s: no execution served by a scatter template", c.sql)
		}
	}
}

func TestParamValue(t *testing.T) {
	vals := []any{int64(-5), nil, uint64(7), "abc", int32(-9), int8(3), float64(2.5), nil, "x"}
	var types, values []byte
	nullMap := make([]byte, 2)
	for i, v := range vals {
		ty, val := binaryParam(v)
		if v == nil && i == 1 {
			nullMap[0] |= 1 << i // NULL by the bitmap; the other by its type
			ty = []byte{mysql.MYSQL_TYPE_LONG, 0}
		}
		types, values = append(types, ty...), append(values, val...)
	}
	all, err := decodeParams(len(vals), types, nullMap, values, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range vals {
		v, null, err := paramValue(i, types, nullMap, values)
		if err != nil || v != all[i] || null != (all[i] == nil) {
			t.Errorf("%d: %#v null=%v err=%v; decodeParams gives %#v", i, v, null, err, all[i])
		}
	}
	if _, _, err := paramValue(3, types, nullMap, values[:18]); err == nil {
		t.Error("a truncated value is an error")
	}
}

func TestTextStatement(t *testing.T) {
	for sql, want := range map[string]bool{
		"BEGIN":                           true,
		"START TRANSACTION READ ONLY":     true,
		"/* x */ COMMIT":                  true,
		"ROLLBACK TO SAVEPOINT a":         true,
		"RELEASE SAVEPOINT a":             true,
		"SAVEPOINT a":                     true,
		"SET autocommit = 0":              true,
		"SET GLOBAL max_connections = 10": true,
		"USE shop":                        true,
		"KILL QUERY 7":                    true,
		"LOCK TABLES t READ":              true,
		"UNLOCK TABLES":                   true,
		"XA START 'x'":                    true,
		"FLUSH TABLES":                    true,
		"DO SLEEP(0)":                     true,
		"CREATE DATABASE d":               true,
		"CREATE USER u":                   true,
		"GRANT SELECT ON *.* TO u":        true,
		"BEGIN NOT ATOMIC SELECT 1; END":  false, // a compound statement
		"SET STATEMENT max_statement_time = 1 FOR SELECT 1": false, // rows
		"XA RECOVER":                    false, // rows
		"SET @a = ?":                    false, // a marker
		"DO ?":                          false,
		"SELECT 1":                      false,
		"INSERT INTO t VALUES (1)":      false,
		"CREATE TABLE t (a INT)":        false,
		"CALL p()":                      false,
		"SHOW TABLES":                   false, // (metadata: decided where the schema is known)
		"SHOW WARNINGS":                 true,
		"SHOW COUNT(*) ERRORS":          true,
		"SELECT @@warning_count":        true,
		"SELECT @@warning_count + ?":    false,
		"SHOW DATABASES":                true,
		"SHOW GRANTS":                   true,
		"SHOW FULL PROCESSLIST":         true,
		"SHOW VARIABLES LIKE 'version'": false,
		"SHOW DATABASES\x00AAAA":        false, // the server's syntax error
	} {
		var sum parser.Summary
		parser.Scan(sql, &sum)
		if got := (&Session{}).textStatement(sql, &sum); got != want {
			t.Errorf("textStatement(%q) = %v, want %v", sql, got, want)
		}
	}
}

func TestTxSyntax(t *testing.T) {
	for sql, want := range map[string]int{
		"BEGIN": -1, "begin work;": -1, "START TRANSACTION": -1, "START TRANSACTION READ ONLY": -1,
		"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ WRITE": -1, "/* c */ COMMIT": -1,
		"COMMIT WORK AND NO CHAIN NO RELEASE": -1, "ROLLBACK AND CHAIN": -1, "ROLLBACK RELEASE": -1,
		"BEGIN foo": 6, "BEGIN\x00AAA": 5, "START TRANSACTION READ": 22, "START TRANSACTION READ ONLY,": 28,
		"START": 5, "COMMIT AND": 10, "COMMIT NO CHAIN": 10, "ROLLBACK WORK WORK": 14,
	} {
		if got := txSyntax(sql); got != want {
			t.Errorf("txSyntax(%q) = %d, want %d", sql, got, want)
		}
	}
}

// Long data past max_allowed_packet: MariaDB drops it and answers every
// execute with error 1105 until COM_STMT_RESET. The proxy kept every byte
// a client sent (a client could fill its memory) and sent it on.
func TestLongDataPastMaxAllowedPacket(t *testing.T) {
	for _, schema := range []string{"shop", "plain"} {
		p := newBenchProxy(t, schema, benchClientCaps)
		p.c.MaxPacket = 1000
		id := p.prepare(t, "SELECT c FROM sbtest1 WHERE id=?")
		long := func(n int) {
			p.begin(mysql.COM_STMT_SEND_LONG_DATA)
			p.cmd = binary.LittleEndian.AppendUint32(p.cmd, id)
			p.cmd = append(p.cmd, 0, 0)
			p.cmd = append(p.cmd, make([]byte, n)...)
			p.run(t)
		}
		long(700)
		long(700)
		if st := p.sess.stmts[id]; st.longData != nil {
			t.Errorf("%s: %d parameters' long data kept past the limit", schema, len(st.longData))
		}
		for i := 0; i < 2; i++ {
			p.execute(t, id, 1)
			if e := wire.ParseErr(p.cc.out[4:]); p.cc.out[4] != wire.ErrHeader || e.Code != mysql.ER_UNKNOWN_ERROR ||
				!strings.Contains(e.Message, "longer than 'max_allowed_packet'") {
				t.Fatalf("%s: execute %d: %q, want error 1105", schema, i, p.cc.out)
			}
		}
		p.begin(mysql.COM_STMT_RESET)
		p.cmd = binary.LittleEndian.AppendUint32(p.cmd, id)
		p.run(t)
		p.execute(t, id, 1)
		if n := p.rows(t); n != 1 {
			t.Fatalf("%s: after the reset: %d rows", schema, n)
		}
	}
}

// A session holds at most MariaDB's default max_prepared_stmt_count
// statements (they live in the proxy's memory); closing one makes room.
func TestPreparedStatementLimit(t *testing.T) {
	p := newBenchProxy(t, "shop", benchClientCaps)
	var last uint32
	for i := 0; i < maxSessionStmts; i++ {
		last = p.prepare(t, "SELECT c FROM sbtest1 WHERE id=?")
	}
	p.begin(mysql.COM_STMT_PREPARE)
	p.cmd = append(p.cmd, "SELECT 1"...)
	p.run(t)
	if e := wire.ParseErr(p.cc.out[4:]); p.cc.out[4] != wire.ErrHeader || e.Code != mysql.ER_MAX_PREPARED_STMT_COUNT_REACHED {
		t.Fatalf("prepare past the limit: %q, want error 1461", p.cc.out)
	}
	p.begin(mysql.COM_STMT_CLOSE)
	p.cmd = binary.LittleEndian.AppendUint32(p.cmd, last)
	p.run(t)
	p.prepare(t, "SELECT 1")
}
