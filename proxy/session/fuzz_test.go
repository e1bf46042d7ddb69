package session

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/wire"
)

// fuzzPackets reads a fuzz input as commands: each is a length byte and
// that many bytes (the command byte and its payload); a short tail is one
// last command.
func fuzzPackets(data []byte) [][]byte {
	var cmds [][]byte
	for len(data) > 0 {
		n := int(data[0])
		data = data[1:]
		n = min(n, len(data))
		cmds = append(cmds, data[:n])
		data = data[n:]
	}
	return cmds
}

// fuzzInput is the inverse of fuzzPackets, for the seed corpus.
func fuzzInput(cmds ...[]byte) []byte {
	var b []byte
	for _, c := range cmds {
		b = append(b, byte(len(c)))
		b = append(b, c...)
	}
	return b
}

func cmdOf(cmd byte, payload ...[]byte) []byte {
	return append([]byte{cmd}, bytes.Join(payload, nil)...)
}

// executeOf is a COM_STMT_EXECUTE of statement id with the given
// flags, parameter block (NULL bitmap, bound flag, types, values).
func executeOf(id uint32, flags byte, params []byte) []byte {
	p := binary.LittleEndian.AppendUint32([]byte{mysql.COM_STMT_EXECUTE}, id)
	p = append(p, flags, 1, 0, 0, 0)
	return append(p, params...)
}

// FuzzCommands sends a session any sequence of command packets, as a
// client with a broken driver or a hostile one could: the proxy answers
// each with a well-framed answer, keeps the connection (but for COM_QUIT),
// and never reaches its panic guard.
// The seeds, run by go test, are the malformed shapes worth keeping:
// truncated executes, parameters for statements that have none, long
// data for unknown statements, fetches without cursors, commands with
// no payload.
func FuzzCommands(f *testing.F) {
	le := binary.LittleEndian
	point := cmdOf(mysql.COM_STMT_PREPARE, []byte("SELECT c FROM sbtest1 WHERE id=?"))
	two := cmdOf(mysql.COM_STMT_PREPARE, []byte("SELECT c FROM sbtest1 WHERE id IN (?, ?) ORDER BY c"))
	plain := cmdOf(mysql.COM_STMT_PREPARE, []byte("SELECT 1"))
	longlong := append([]byte{0, 1, mysql.MYSQL_TYPE_LONGLONG, 0}, le.AppendUint64(nil, 7)...)
	seeds := [][][]byte{
		{point, executeOf(1, 0, longlong)},
		{point, executeOf(1, 0, longlong[:6])},                                             // values cut short
		{point, executeOf(1, 0, nil)},                                                      // no parameter block
		{point, executeOf(1, 0, []byte{0, 0})},                                             // types not sent on the first execute
		{point, executeOf(1, 0, []byte{1, 1, mysql.MYSQL_TYPE_LONGLONG, 0})},               // NULL
		{point, executeOf(1, 0, []byte{0, 1, mysql.MYSQL_TYPE_VAR_STRING, 0, 0xfc, 0xff})}, // length beyond the packet
		{point, executeOf(1, 0, []byte{0, 1, mysql.MYSQL_TYPE_DATETIME, 0, 11, 1})},
		{point, executeOf(1, 0, []byte{0, 1, mysql.MYSQL_TYPE_TIME, 0, 12, 1, 0})},
		{point, executeOf(1, 0, []byte{0, 1, mysql.MYSQL_TYPE_NEWDECIMAL, 0, 3, '1', 'e', '9'})},
		{point, executeOf(1, 0, []byte{0, 1, 0xf5, 0, 1, 'x'})}, // JSON
		{point, executeOf(1, 0, []byte{0, 1, 0x42, 0, 1})},      // no such type
		{point, executeOf(1, 1, longlong)},                      // a read-only cursor
		{point, executeOf(1, 1, longlong), cmdOf(mysql.COM_STMT_FETCH, le.AppendUint32(nil, 1), le.AppendUint32(nil, 0xffffffff))},
		{point, cmdOf(mysql.COM_STMT_FETCH, le.AppendUint32(nil, 1), le.AppendUint32(nil, 1))},
		{point, cmdOf(mysql.COM_STMT_FETCH, []byte{1})},
		{point, cmdOf(mysql.COM_STMT_SEND_LONG_DATA, le.AppendUint32(nil, 1), []byte{0, 0}, []byte("abc")), executeOf(1, 0, []byte{0, 1, mysql.MYSQL_TYPE_BLOB, 0})},
		{point, cmdOf(mysql.COM_STMT_SEND_LONG_DATA, le.AppendUint32(nil, 1), []byte{9, 0}, []byte("abc")), executeOf(1, 0, longlong)},
		{cmdOf(mysql.COM_STMT_SEND_LONG_DATA, le.AppendUint32(nil, 5), []byte{0, 0})},
		{cmdOf(mysql.COM_STMT_SEND_LONG_DATA, []byte{1})},
		{point, cmdOf(mysql.COM_STMT_RESET, le.AppendUint32(nil, 1)), executeOf(1, 0, []byte{0, 0})},
		{point, cmdOf(mysql.COM_STMT_CLOSE, le.AppendUint32(nil, 1)), executeOf(1, 0, longlong)},
		{cmdOf(mysql.COM_STMT_CLOSE), cmdOf(mysql.COM_STMT_RESET), cmdOf(mysql.COM_STMT_EXECUTE)},
		{two, executeOf(1, 0, append([]byte{2, 1, mysql.MYSQL_TYPE_LONG, 0, mysql.MYSQL_TYPE_LONG, 0}, le.AppendUint32(nil, 3)...))},
		{two, executeOf(1, 0, []byte{0, 1, mysql.MYSQL_TYPE_LONG, 0})}, // one type for two parameters
		{plain, executeOf(1, 0, longlong)}, // parameters for a statement without
		{plain, executeOf(1, 0, nil), executeOf(1, 0, nil)},
		{cmdOf(mysql.COM_STMT_PREPARE), cmdOf(mysql.COM_QUERY), cmdOf(mysql.COM_INIT_DB)},
		{cmdOf(mysql.COM_QUERY, []byte("SELECT c FROM sbtest1 WHERE id=1; SELECT 2"))},
		{cmdOf(mysql.COM_QUERY, []byte("BEGIN")), cmdOf(mysql.COM_QUERY, []byte("SELECT c FROM sbtest1 WHERE id=\x00")), cmdOf(mysql.COM_QUERY, []byte("COMMIT"))},
		{cmdOf(mysql.COM_FIELD_LIST, []byte("sbtest1\x00")), cmdOf(mysql.COM_FIELD_LIST)},
		{cmdOf(mysql.COM_SET_OPTION), cmdOf(mysql.COM_SET_OPTION, []byte{1, 0}), cmdOf(mysql.COM_SET_OPTION, []byte{7, 0})},
		{cmdOf(mysql.COM_PROCESS_KILL), cmdOf(mysql.COM_PROCESS_KILL, []byte{1, 0, 0, 0})},
		{cmdOf(mysql.COM_CHANGE_USER), cmdOf(mysql.COM_CHANGE_USER, []byte("app\x00\x14"))},
		{cmdOf(mysql.COM_RESET_CONNECTION), cmdOf(mysql.COM_STATISTICS), cmdOf(mysql.COM_DEBUG), {0xfa}, {0x1f}},
		{cmdOf(mysql.COM_INIT_DB, []byte("plain")), plain, executeOf(1, 0, nil)},
		{cmdOf(mysql.COM_STMT_PREPARE, []byte("DELETE FROM sbtest1 WHERE id = ? RETURNING c")), executeOf(1, 0, longlong)},
		{cmdOf(mysql.COM_STMT_PREPARE, []byte("SET STATEMENT max_statement_time = 1 FOR SELECT c FROM sbtest1 WHERE id = ?")), executeOf(1, 0, longlong)},
		{cmdOf(mysql.COM_STMT_PREPARE, []byte("OPTIMIZE TABLE sbtest1")), executeOf(1, 0, nil)},
	}
	// Sharded reads whose merge expects more columns than the fake's one
	// (as shards part-way through an ALTER TABLE answer).
	for _, q := range []string{
		"SELECT c, id FROM sbtest1 ORDER BY id",
		"SELECT c, COUNT(*), MAX(id) FROM sbtest1 GROUP BY c ORDER BY 2 DESC LIMIT 2",
		"SELECT DISTINCT c, k FROM sbtest1 WHERE id IN (1, 2)",
		"SELECT SUM(k), AVG(k), GROUP_CONCAT(c ORDER BY id) FROM sbtest1",
		"SELECT * FROM sbtest1 WHERE id > 3 ORDER BY 2 LIMIT 1, 2",
		"SELECT c FROM sbtest1 UNION SELECT c FROM sbtest1 ORDER BY 1",
		"SELECT COUNT(DISTINCT c) FROM sbtest1 WITH ROLLUP",
		// MariaDB's syntax the proxy reads itself
		"SET STATEMENT max_statement_time = 1, sql_select_limit = 2 FOR SELECT c FROM sbtest1 ORDER BY id",
		"DELETE FROM sbtest1 WHERE id IN (1, 2) RETURNING c, id",
		"INSERT INTO sbtest1 (id, k, c, pad) VALUES (1, 1, 'a', 'b'), (2, 2, 'c', 'd') RETURNING id; SELECT 2",
		"SELECT AVG(k) * 1000 INTO @a FROM sbtest1",
		"CHECKSUM TABLE sbtest1, nosuch; CHECK TABLE sbtest1 EXTENDED",
		"ANALYZE TABLE sbtest1 PERSISTENT FOR ALL",
		"LOAD DATA LOCAL INFILE 'f' INTO TABLE sbtest1 FIELDS TERMINATED BY ',' ENCLOSED BY '\"' IGNORE 1 LINES (id, k, c, pad)",
		"SELECT CAST(k AS INT), id FROM sbtest1 ORDER BY id OFFSET 1 ROWS FETCH FIRST 2 ROWS ONLY",
		"LOCK TABLES sbtest1 WRITE; INSERT INTO sbtest1 (id, k, c, pad) VALUES (1, 1, 'a', 'b'), (2, 2, 'c', 'd'); SELECT * FROM sbtest1 s; UNLOCK TABLES",
		"SET autocommit = 0; LOCK TABLES sbtest1 READ LOCAL; SELECT COUNT(*) FROM sbtest1; START TRANSACTION; COMMIT",
		"SELECT * FROM plain_t FOR SYSTEM_TIME ALL LIMIT ROWS EXAMINED 3; VALUES (1), (2)",
	} {
		seeds = append(seeds, [][]byte{cmdOf(mysql.COM_QUERY, []byte(q))})
	}
	for _, s := range seeds {
		f.Add(fuzzInput(s...))
	}
	tables := map[string]string{"shop_0": "sbtest1_0", "shop_1": "sbtest1_1", "plain": "sbtest1"}
	backs := []*fakeBackend{startFakeBackend(f, tables), startFakeBackend(f, tables)}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := newBenchProxyOn(t, backs, "shop", benchClientCaps)
		p.sess.env.Auth = fuzzAuth{p.sess.user}
		for _, cmd := range fuzzPackets(data) {
			if len(cmd) == 0 {
				continue
			}
			p.begin(cmd[0])
			p.cmd = append(p.cmd, cmd[1:]...)
			err := p.dispatch(t)
			checkFraming(t, cmd, p.cc.out)
			if err != nil {
				if err != ErrQuit {
					t.Logf("ENDS %q: %v", cmd, err)
				}
				return
			}
		}
	})
}

// checkFraming fails if an answer is not whole packets numbered from 1, or
// is the panic guard's error (Dispatch).
func checkFraming(t *testing.T, cmd, out []byte) {
	t.Helper()
	seq := byte(1)
	for len(out) > 0 {
		if len(out) < 4 {
			t.Fatalf("command %q: answer ends inside a packet header", cmd)
		}
		n := int(out[0]) | int(out[1])<<8 | int(out[2])<<16
		if out[3] != seq {
			t.Fatalf("command %q: packet numbered %d, want %d", cmd, out[3], seq)
		}
		if len(out) < 4+n {
			t.Fatalf("command %q: answer ends inside a packet", cmd)
		}
		pk := out[4 : 4+n]
		if n > 0 && pk[0] == wire.ErrHeader {
			if e := wire.ParseErr(pk); strings.HasPrefix(e.Message, "shardgate internal error:") {
				t.Fatalf("command %q: %s", cmd, e.Message)
			}
		}
		out, seq = out[4+n:], seq+1
	}
}

// fuzzAuth lets COM_CHANGE_USER to "app" in (the server's parsing of the
// payload has its own fuzz test) and refuses any other user.
type fuzzAuth struct{ app *conf.User }

func (a fuzzAuth) ChangeUser(s *Session, p []byte) (*conf.User, string, uint16, error) {
	if !bytes.HasPrefix(p[1:], []byte("app\x00")) {
		return nil, "", 0, mysql.NewDefaultError(mysql.ER_ACCESS_DENIED_ERROR, "x", "127.0.0.1", "YES")
	}
	return a.app, "shop", 45, nil
}
