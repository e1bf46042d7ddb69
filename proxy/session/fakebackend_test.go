package session

import (
	"bytes"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

// fakeBackend is a loopback MySQL server for in-process benchmarks: it
// does the handshake (any user, any password), answers SET, USE and the
// like with OK, and every SELECT (text or prepared) with one canned result
// set of `rows` rows of one VARCHAR column `c`, as a sysbench point select
// gets. Answers are built once per (database, rows, protocol) and written
// from that buffer: serving a query allocates nothing, so a benchmark's
// allocations are the proxy's.
type fakeBackend struct {
	ln     net.Listener
	tables map[string]string // database -> the physical table its answers name
	rows   atomic.Int64      // rows in each result set
	served atomic.Int64      // SELECTs and executes answered
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

// fakeValue is the value of column c in every row: 119 characters, like
// sysbench's CHAR(120) column.
var fakeValue = bytes.Repeat([]byte("68487932199-"), 10)[:119]

func startFakeBackend(tb testing.TB, tables map[string]string) *fakeBackend {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f := &fakeBackend{ln: ln, tables: tables}
	f.rows.Store(1)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, nc)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer nc.Close()
				_ = (&fakeConn{f: f, nc: nc}).serve()
			}()
		}
	}()
	tb.Cleanup(f.close)
	return f
}

func (f *fakeBackend) addr() string { return f.ln.Addr().String() }

func (f *fakeBackend) close() {
	_ = f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

const fakeCaps = mysql.CLIENT_LONG_PASSWORD | mysql.CLIENT_FOUND_ROWS | mysql.CLIENT_LONG_FLAG |
	mysql.CLIENT_CONNECT_WITH_DB | mysql.CLIENT_LOCAL_FILES | mysql.CLIENT_PROTOCOL_41 |
	mysql.CLIENT_TRANSACTIONS | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_MULTI_STATEMENTS |
	mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_PLUGIN_AUTH |
	mysql.CLIENT_CONNECT_ATTRS | mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
	mysql.CLIENT_SESSION_TRACK | mysql.CLIENT_DEPRECATE_EOF

type answerKey struct {
	db     string
	rows   int
	binary bool
}

// fakeConn is one connection's state.
type fakeConn struct {
	f         *fakeBackend
	nc        net.Conn
	deprecate bool // the client negotiated CLIENT_DEPRECATE_EOF
	db        string
	buf       []byte // read buffer: unread bytes are buf[pos:end]
	pos, end  int
	answers   map[answerKey][]byte
	okPacket  []byte
	prepared  []byte // answer to COM_STMT_PREPARE (one parameter, one column)
}

func (c *fakeConn) serve() error {
	// Greeting: protocol 10, mysql_native_password; the password is not checked.
	g := []byte{10}
	g = append(g, "5.5.5-10.11.0-MariaDB-fake"...)
	g = append(g, 0, 1, 0, 0, 0)
	g = append(g, "abcdefgh"...)
	caps := uint32(fakeCaps)
	g = append(g, 0, byte(caps), byte(caps>>8), 45, 2, 0, byte(caps>>16), byte(caps>>24), 21)
	g = append(g, make([]byte, 10)...)
	g = append(g, "ijklmnopqrst"...)
	g = append(g, 0)
	g = append(g, "mysql_native_password"...)
	g = append(g, 0)
	if err := c.write(packet(nil, 0, g)); err != nil {
		return err
	}
	p, err := c.read()
	if err != nil {
		return err
	}
	caps = binary.LittleEndian.Uint32(p)
	c.deprecate = caps&mysql.CLIENT_DEPRECATE_EOF != 0
	c.okPacket = packet(nil, 1, okPayload(mysql.SERVER_STATUS_AUTOCOMMIT))
	if err := c.write(packet(nil, 2, okPayload(mysql.SERVER_STATUS_AUTOCOMMIT))); err != nil {
		return err
	}
	c.answers = map[answerKey][]byte{}
	for {
		p, err := c.read()
		if err != nil {
			return err
		}
		if len(p) == 0 {
			continue
		}
		switch p[0] {
		case mysql.COM_QUIT:
			return nil
		case mysql.COM_STMT_CLOSE, mysql.COM_STMT_SEND_LONG_DATA:
			continue // no answer
		case mysql.COM_INIT_DB:
			c.db = string(p[1:])
			err = c.write(c.okPacket)
		case mysql.COM_QUERY:
			err = c.write(c.queryAnswer(p[1:]))
		case mysql.COM_STMT_PREPARE:
			err = c.write(c.prepareAnswer(p[1:]))
		case mysql.COM_STMT_EXECUTE:
			c.f.served.Add(1)
			err = c.write(c.answer(true))
		case mysql.COM_FIELD_LIST:
			err = c.write(c.fieldList())
		default:
			err = c.write(c.okPacket)
		}
		if err != nil {
			return err
		}
	}
}

// read reads one packet (no split packets here) through a reused buffer:
// one read system call per command, as a server's buffered reader does.
func (c *fakeConn) read() ([]byte, error) {
	if err := c.fill(4); err != nil {
		return nil, err
	}
	h := c.buf[c.pos:]
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	if err := c.fill(4 + n); err != nil {
		return nil, err
	}
	p := c.buf[c.pos+4 : c.pos+4+n]
	c.pos += 4 + n
	return p, nil
}

// fill makes n bytes available at c.buf[c.pos:c.end].
func (c *fakeConn) fill(n int) error {
	if c.end-c.pos >= n {
		return nil
	}
	if c.buf == nil || c.pos+n > len(c.buf) {
		nb := c.buf
		if len(nb) < max(n, 16<<10) {
			nb = make([]byte, max(n, 16<<10))
		}
		copy(nb, c.buf[c.pos:c.end])
		c.buf, c.end, c.pos = nb, c.end-c.pos, 0
	}
	for c.end-c.pos < n {
		m, err := c.nc.Read(c.buf[c.end:])
		c.end += m
		if err != nil && c.end-c.pos < n {
			return err
		}
	}
	return nil
}

func (c *fakeConn) write(b []byte) error {
	_, err := c.nc.Write(b)
	return err
}

// answer is the canned result set for the connection's database.
func (c *fakeConn) answer(bin bool) []byte {
	k := answerKey{c.db, int(c.f.rows.Load()), bin}
	if a, ok := c.answers[k]; ok {
		return a
	}
	table := c.f.tables[c.db]
	var out []byte
	seq := byte(1)
	add := func(p []byte) { out = packet(out, seq, p); seq++ }
	add([]byte{1})
	add(columnDef(c.db, table, "c"))
	if !c.deprecate {
		add(eofPayload())
	}
	for i := 0; i < k.rows; i++ {
		var row []byte
		if bin {
			row = append(row, 0, 0) // header, NULL bitmap (offset 2, one column)
		}
		add(wire.AppendLenEncBytes(row, fakeValue))
	}
	add(c.endPayload())
	c.answers[k] = out
	return out
}

// queryAnswer answers a query: the canned result set for a SELECT, else OK.
// Statements the proxy sends ahead at the head of the packet (a
// transaction's start, "...; ") get an OK each, flagged more results.
func (c *fakeConn) queryAnswer(sql []byte) []byte {
	var out []byte
	seq := byte(0)
	for {
		i := bytes.Index(sql, []byte("; "))
		if i < 0 {
			break
		}
		seq++
		out = packet(out, seq, okPayload(mysql.SERVER_STATUS_AUTOCOMMIT|mysql.SERVER_MORE_RESULTS_EXISTS))
		sql = sql[i+2:]
	}
	a := c.okPacket
	if len(sql) > 6 && bytes.EqualFold(sql[:6], []byte("SELECT")) {
		c.f.served.Add(1)
		a = c.answer(false)
	}
	if seq == 0 {
		return a // the cached answer, as it is
	}
	for len(a) > 0 { // renumbered after the OKs
		n := int(a[0]) | int(a[1])<<8 | int(a[2])<<16
		seq++
		out = packet(out, seq, a[4:4+n])
		a = a[4+n:]
	}
	return out
}

// fieldList answers COM_FIELD_LIST: column c, then the end of the list.
func (c *fakeConn) fieldList() []byte {
	return packet(packet(nil, 1, columnDef(c.db, c.f.tables[c.db], "c")), 2, c.endPayload())
}

// endPayload ends a list of rows or columns: an OK with the EOF header for
// a CLIENT_DEPRECATE_EOF client, else an EOF.
func (c *fakeConn) endPayload() []byte {
	if c.deprecate {
		return append([]byte{0xfe}, okPayload(mysql.SERVER_STATUS_AUTOCOMMIT)[1:]...)
	}
	return eofPayload()
}

// prepareAnswer describes a statement with one parameter and one column.
func (c *fakeConn) prepareAnswer(sql []byte) []byte {
	params := bytes.Count(sql, []byte("?"))
	var out []byte
	seq := byte(1)
	add := func(p []byte) { out = packet(out, seq, p); seq++ }
	ok := []byte{0, 1, 0, 0, 0, 1, 0, byte(params), byte(params >> 8), 0, 0, 0}
	add(ok)
	for i := 0; i < params; i++ {
		add(columnDef("", "", "?"))
	}
	if params > 0 && !c.deprecate {
		add(eofPayload())
	}
	add(columnDef(c.db, c.f.tables[c.db], "c"))
	if !c.deprecate {
		add(eofPayload())
	}
	return out
}

func packet(b []byte, seq byte, p []byte) []byte {
	b = append(b, byte(len(p)), byte(len(p)>>8), byte(len(p)>>16), seq)
	return append(b, p...)
}

// okPayload is an OK packet for a CLIENT_SESSION_TRACK client (empty info).
func okPayload(status uint16) []byte {
	return []byte{0, 0, 0, byte(status), byte(status >> 8), 0, 0, 0}
}

func eofPayload() []byte {
	return []byte{0xfe, 0, 0, byte(mysql.SERVER_STATUS_AUTOCOMMIT), 0}
}

func columnDef(db, table, name string) []byte {
	return wire.AppendColumnDef(nil, &wire.Column{
		Schema: db, Table: table, OrgTable: table, Name: name, OrgName: name,
		Charset: 45, Length: 480, Type: mysql.MYSQL_TYPE_VAR_STRING,
	})
}
