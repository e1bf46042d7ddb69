package session

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/stats"
	"github.com/shardgate/shardgate/proxy/wire"
)

// The whole proxy path in one process: a Session built as proxy/server
// builds one, a client on an in-memory connection, backends on loopback
// TCP (fakeBackend). Each operation writes one command, lets the session
// answer it as the server's command loop does, and reads the answer. The
// client side and the fake backends allocate nothing per query, so
// allocs/op are the proxy's.

// benchClientCaps are what a MySQL 8 connector negotiates.
const benchClientCaps = mysql.CLIENT_LONG_PASSWORD | mysql.CLIENT_LONG_FLAG | mysql.CLIENT_PROTOCOL_41 |
	mysql.CLIENT_TRANSACTIONS | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_MULTI_STATEMENTS |
	mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_PLUGIN_AUTH |
	mysql.CLIENT_SESSION_TRACK | mysql.CLIENT_DEPRECATE_EOF

// clientConn is the client's side of the session's connection, in memory:
// the session reads the pending command and its answer is appended to out.
type clientConn struct {
	in  []byte
	pos int
	out []byte
}

func (m *clientConn) Read(p []byte) (int, error) {
	if m.pos == len(m.in) {
		return 0, io.EOF
	}
	n := copy(p, m.in[m.pos:])
	m.pos += n
	return n, nil
}

func (m *clientConn) Write(p []byte) (int, error) { m.out = append(m.out, p...); return len(p), nil }

func (m *clientConn) Close() error                     { return nil }
func (m *clientConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (m *clientConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (m *clientConn) SetDeadline(time.Time) error      { return nil }
func (m *clientConn) SetReadDeadline(time.Time) error  { return nil }
func (m *clientConn) SetWriteDeadline(time.Time) error { return nil }

// benchProxy is a session over fake backends.
type benchProxy struct {
	backs []*fakeBackend
	sess  *Session
	c     *wire.Conn
	cc    *clientConn
	cmd   []byte // the command being built (header included)
	// The last answer read by rows.
	defs, got [][]byte
	last      []byte
}

// benchConfig: schema shop has sbtest1 sharded by id (mod, 2 shards over
// dn0 and dn1, one per data host); schema plain is pass-through on dh0.
const benchConfig = `users: [{name: app, password: app, schemas: [shop, plain]}]
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: "%s"}
  - {name: dh1, user: sg, password: sg, primary: "%s"}
data_nodes:
  - {name: dn0, host: dh0, database: shop_0}
  - {name: dn1, host: dh1, database: shop_1}
  - {name: pn, host: dh0, database: plain}
schemas:
  - name: shop
    default_node: dn0
    tables:
      sbtest1: {column: id, algorithm: mod, shards: 2, nodes: [dn0, dn1]}
      rtest: {column: id, algorithm: range, shards: 3, nodes: [dn0, dn1], options: {boundaries: [100, 200]}}
  - name: plain
    default_node: pn
`

// benchInfo is what Probe would learn from a MariaDB 10.11.
func benchInfo() *backend.ServerInfo {
	return &backend.ServerInfo{
		Version:          "10.11.6-MariaDB",
		DefaultCollation: 45,
		Collations: map[uint16]backend.Collation{
			45: {ID: 45, Charset: "utf8mb4", Name: "utf8mb4_general_ci", Default: true},
			46: {ID: 46, Charset: "utf8mb4", Name: "utf8mb4_bin"},
			63: {ID: 63, Charset: "binary", Name: "binary", Default: true},
		},
		MaxAllowedPacket: 16 << 20,
		SQLMode:          "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
		Pad:              map[string][]byte{"utf8mb4_general_ci": {0x00, 0x20}},
	}
}

func newBenchProxy(tb testing.TB, schema string, caps uint32) *benchProxy {
	tb.Helper()
	tables := map[string]string{"shop_0": "sbtest1_0", "shop_1": "sbtest1_1", "plain": "sbtest1"}
	return newBenchProxyOn(tb, []*fakeBackend{startFakeBackend(tb, tables), startFakeBackend(tb, tables)}, schema, caps)
}

// newBenchProxyOn is a session (and its cluster) over running fake backends.
func newBenchProxyOn(tb testing.TB, backs []*fakeBackend, schema string, caps uint32) *benchProxy {
	tb.Helper()
	cfg, err := conf.Parse("bench.yaml", fmt.Appendf(nil, benchConfig, backs[0].addr(), backs[1].addr()))
	if err != nil {
		tb.Fatal(err)
	}
	cl := backend.NewCluster(cfg)
	tb.Cleanup(cl.Close)
	snap, err := snapshot.New(cfg, cl, benchInfo())
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	snap.Stats = stats.New(log, cfg.SlowThreshold()) // on in production
	var holder snapshot.Holder
	holder.Store(snap)
	env := &Env{Snap: &holder, Registry: NewRegistry(), Log: log, Started: time.Now()}
	p := &benchProxy{backs: backs, cc: &clientConn{}}
	p.c = wire.NewConn(p.cc)
	p.c.MaxPacket = cfg.MaxAllowedPacket
	p.sess = New(env, 1, p.c, caps, snap.Users["app"], "127.0.0.1", schema, 45)
	env.Registry.Add(p.sess)
	tb.Cleanup(p.sess.Close)
	return p
}

func (p *benchProxy) setRows(n int) {
	for _, b := range p.backs {
		b.rows.Store(int64(n))
	}
}

// begin starts a command packet.
func (p *benchProxy) begin(cmd byte) {
	p.cmd = append(p.cmd[:0], 0, 0, 0, 0, cmd)
}

// run sends the command built since begin and lets the session answer it,
// as proxy/server's command loop does.
func (p *benchProxy) run(tb testing.TB) {
	if err := p.dispatch(tb); err != nil {
		tb.Fatal(err)
	}
	p.c.ShrinkBuffers()
}

// dispatch is run that returns the session's error (one that ends the
// connection) instead of failing.
func (p *benchProxy) dispatch(tb testing.TB) error {
	n := len(p.cmd) - 4
	p.cmd[0], p.cmd[1], p.cmd[2], p.cmd[3] = byte(n), byte(n>>8), byte(n>>16), 0
	p.cc.in, p.cc.pos, p.cc.out = p.cmd, 0, p.cc.out[:0]
	p.c.ResetSeq()
	pkt, err := p.c.ReadPacket()
	if err != nil {
		tb.Fatal(err)
	}
	p.c.SyncSeqAfterRead()
	return p.sess.Dispatch(pkt)
}

// query runs a COM_QUERY of prefix followed by the number id.
func (p *benchProxy) query(tb testing.TB, prefix string, id int64) {
	p.begin(mysql.COM_QUERY)
	p.cmd = append(p.cmd, prefix...)
	p.cmd = strconv.AppendInt(p.cmd, id, 10)
	p.run(tb)
}

// rows reads the answer to the last command: a result set (its row count)
// or an OK (-1). An ERR fails. The column definitions and rows are kept in
// p.defs and p.got (pointing into the client's buffer).
func (p *benchProxy) rows(tb testing.TB) int {
	out := p.cc.out
	next := func() []byte {
		if len(out) < 4 {
			tb.Fatalf("answer cut short")
		}
		n := int(out[0]) | int(out[1])<<8 | int(out[2])<<16
		pk := out[4 : 4+n]
		out = out[4+n:]
		return pk
	}
	p.defs, p.got = p.defs[:0], p.got[:0]
	first := next()
	switch first[0] {
	case wire.ErrHeader:
		tb.Fatalf("error: %s", wire.ParseErr(first).Error())
	case wire.OKHeader:
		return -1
	}
	cols, _, _ := wire.ReadLenEnc(first)
	for i := uint64(0); i < cols; i++ {
		p.defs = append(p.defs, next())
	}
	if p.sess.caps&mysql.CLIENT_DEPRECATE_EOF == 0 {
		next()
	}
	for {
		pk := next()
		if pk[0] == wire.ErrHeader {
			tb.Fatalf("error: %s", wire.ParseErr(pk).Error())
		}
		if wire.IsResultEnd(pk) && len(pk) < 9+8 {
			p.last = pk
			break
		}
		p.got = append(p.got, pk)
	}
	if len(out) != 0 {
		tb.Fatalf("%d bytes after the answer", len(out))
	}
	return len(p.got)
}

// prepare prepares a statement and returns its id.
func (p *benchProxy) prepare(tb testing.TB, sql string) uint32 {
	p.begin(mysql.COM_STMT_PREPARE)
	p.cmd = append(p.cmd, sql...)
	p.run(tb)
	if p.cc.out[4] != 0 {
		tb.Fatalf("prepare failed: %q", p.cc.out)
	}
	return binary.LittleEndian.Uint32(p.cc.out[5:])
}

// execute runs a prepared statement with one BIGINT parameter.
func (p *benchProxy) execute(tb testing.TB, id uint32, v int64) {
	p.begin(mysql.COM_STMT_EXECUTE)
	p.cmd = binary.LittleEndian.AppendUint32(p.cmd, id)
	p.cmd = append(p.cmd, 0, 1, 0, 0, 0)                      // no cursor, iteration count 1
	p.cmd = append(p.cmd, 0, 1, mysql.MYSQL_TYPE_LONGLONG, 0) // NULL bitmap, types bound
	p.cmd = binary.LittleEndian.AppendUint64(p.cmd, uint64(v))
	p.run(tb)
}

// cpuNanos is the process's CPU time (user and system, every thread, the
// fake backends' included). On a loaded machine CPU per query varies less
// than wall time, which waits for the scheduler.
func cpuNanos() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// reportCPU reports CPU time per operation since start.
func reportCPU(b *testing.B, start int64) {
	b.ReportMetric(float64(cpuNanos()-start)/float64(b.N), "cpu-ns/op")
}

// pointSelect is sysbench's point select with a changing id.
const pointSelect = "SELECT c FROM sbtest1 WHERE id="

// benchClients: a MySQL 8 connector (CLIENT_DEPRECATE_EOF) and one
// without it (MariaDB's, go-sql-driver): the result ends with EOF packets.
var benchClients = []struct {
	suffix string
	caps   uint32
}{{"", benchClientCaps}, {"-eof", benchClientCaps &^ mysql.CLIENT_DEPRECATE_EOF}}

// BenchmarkPointSelect: COM_QUERY of one row through the session, in a
// sharded schema (plan cache, template route) and a pass-through one.
func BenchmarkPointSelect(b *testing.B) {
	for _, cl := range benchClients {
		for _, schema := range []string{"shop", "plain"} {
			benchPointSelect(b, schema+cl.suffix, schema, cl.caps)
		}
	}
}

func benchPointSelect(b *testing.B, name, schema string, caps uint32) {
	b.Run(name, func(b *testing.B) {
		p := newBenchProxy(b, schema, caps)
		for i := int64(0); i < 4; i++ { // connections dialed, plan cached
			p.query(b, pointSelect, i)
		}
		b.ReportAllocs()
		id := int64(0)
		cpu := cpuNanos()
		for b.Loop() {
			id++
			p.query(b, pointSelect, id)
			if n := p.rows(b); n != 1 {
				b.Fatalf("%d rows", n)
			}
		}
		reportCPU(b, cpu)
	})
}

// BenchmarkPointSelectPrepared: the same with COM_STMT_EXECUTE.
func BenchmarkPointSelectPrepared(b *testing.B) {
	for _, schema := range []string{"shop", "plain"} {
		b.Run(schema, func(b *testing.B) {
			p := newBenchProxy(b, schema, benchClientCaps)
			id := p.prepare(b, "SELECT c FROM sbtest1 WHERE id=?")
			execute := func(v int64) {
				p.execute(b, id, v)
				if n := p.rows(b); n != 1 {
					b.Fatalf("%d rows", n)
				}
			}
			for i := int64(0); i < 4; i++ {
				execute(i)
			}
			b.ReportAllocs()
			v := int64(0)
			cpu := cpuNanos()
			for b.Loop() {
				v++
				execute(v)
			}
			reportCPU(b, cpu)
		})
	}
}

// relayCases are the results BenchmarkRelayRows relays: a pass-through
// schema's, one shard's (relayed as they come), and both shards' of a
// sharded table read without its sharding column (streams merged).
var relayCases = []struct {
	name, schema, query string
	shards              int // results that make the answer
}{
	{"plain", "plain", pointSelect, 1},
	{"shop", "shop", pointSelect, 1},
	{"shop-scatter", "shop", "SELECT c FROM sbtest1 WHERE k=", 2},
}

// BenchmarkRelayRows: results of 10 and 1000 rows (a shard each): allocs/op
// must not grow with the rows (TestRelayRowsAllocs checks it).
func BenchmarkRelayRows(b *testing.B) {
	for _, rc := range relayCases {
		for _, rows := range []int{10, 1000} {
			b.Run(fmt.Sprintf("%s/rows=%d", rc.name, rows), func(b *testing.B) {
				p := newBenchProxy(b, rc.schema, benchClientCaps)
				p.setRows(rows)
				for i := int64(0); i < 4; i++ {
					p.query(b, rc.query, i)
				}
				b.ReportAllocs()
				id := int64(0)
				cpu := cpuNanos()
				for b.Loop() {
					id++
					p.query(b, rc.query, id)
					if n := p.rows(b); n != rows*rc.shards {
						b.Fatalf("%d rows", n)
					}
				}
				reportCPU(b, cpu)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows*rc.shards), "ns/row")
			})
		}
	}
}

// TestBenchProxy checks that the benchmarks measure real answers: the
// shard picked by the id, logical names in the column definitions, the
// row as the backend sent it (text or binary).
func TestBenchProxy(t *testing.T) {
	for _, schema := range []string{"shop", "plain"} {
		p := newBenchProxy(t, schema, benchClientCaps)
		for id := int64(1); id <= 4; id++ {
			before := [2]int64{p.backs[0].served.Load(), p.backs[1].served.Load()}
			p.query(t, pointSelect, id)
			if n := p.rows(t); n != 1 {
				t.Fatalf("%s: %d rows", schema, n)
			}
			want := 0 // pass-through: the default node, on dh0
			if schema == "shop" {
				want = int(id % 2) // mod 2: shard i on dn<i>, on dh<i>
			}
			if p.backs[want].served.Load() != before[want]+1 || p.backs[1-want].served.Load() != before[1-want] {
				t.Fatalf("%s id %d: not answered by data host %d alone", schema, id, want)
			}
			col, err := wire.ParseColumnDef(p.defs[0])
			if err != nil || string(col.Schema) != schema || string(col.Table) != "sbtest1" || string(col.OrgTable) != "sbtest1" || string(col.Name) != "c" {
				t.Fatalf("%s: column %q.%q (%q) %q: %v", schema, col.Schema, col.Table, col.OrgTable, col.Name, err)
			}
			if v, _, _ := wire.ReadLenEncBytes(p.got[0]); string(v) != string(fakeValue) {
				t.Fatalf("%s: row %q", schema, p.got[0])
			}
			if p.last[0] != wire.EOFHeader {
				t.Fatalf("%s: ends with %q", schema, p.last)
			}
		}
		id := p.prepare(t, "SELECT c FROM sbtest1 WHERE id=?")
		for v := int64(1); v <= 4; v++ {
			before := [2]int64{p.backs[0].served.Load(), p.backs[1].served.Load()}
			p.execute(t, id, v)
			if n := p.rows(t); n != 1 {
				t.Fatalf("%s: execute: %d rows", schema, n)
			}
			want := 0
			if schema == "shop" {
				want = int(v % 2)
			}
			if p.backs[want].served.Load() != before[want]+1 || p.backs[1-want].served.Load() != before[1-want] {
				t.Fatalf("%s: execute with %d: not answered by data host %d alone", schema, v, want)
			}
			if r := p.got[0]; r[0] != 0 || r[1] != 0 || string(r[3:]) != string(fakeValue) {
				t.Fatalf("%s: binary row %q", schema, r)
			}
		}
	}
}
