//go:build integration

package integration

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestMultibyteClients: in gbk, big5, sjis and cp932 some characters have
// an ASCII second byte (gbk's 乗 is 0x81 0x5C, a backslash to a byte-wise
// reader; 乣 is 0x81 0x60, a backquote). The server reads them as one
// character; the proxy read them byte by byte, so a string holding one
// ended elsewhere for it: statements the server runs were refused (1064),
// and a subquery over another database hidden, to the proxy, inside such
// a "string" ran without the proxy's schema check. The proxy now reads
// these texts as the server does: in a pass-through schema they are
// forwarded (checked as any other), and where the proxy would plan or
// answer a statement from its text (a sharded schema, USE, SAVEPOINT) it
// refuses it (1235).
func TestMultibyteClients(t *testing.T) {
	ctx := context.Background()
	p := PassThrough(t, 4, 50)
	for _, c := range []struct{ charset, bs, bq string }{
		{"gbk", "\x81\x5c", "\x81\x60"},
		{"big5", "\xa4\x5c", "\xa4\x60"},
		{"sjis", "\x97\x5c", "\x93\x60"},
		{"cp932", "\x97\x5c", "\x93\x60"},
	} {
		pc := Conn(t, Open(t, DSN("gotest", "gotest", p.Addr, "itest", "charset="+c.charset)))
		dc := Conn(t, Open(t, DSN("sg", "sg", dh0Primary, "itest_phys", "charset="+c.charset)))
		tb := "mb_" + c.charset
		MustExec(t, dc, "DROP TABLE IF EXISTS "+tb, "CREATE TABLE "+tb+" (id INT PRIMARY KEY, s VARCHAR(20)) CHARSET "+c.charset)
		// Written through the proxy, read on the server and through the proxy.
		MustExec(t, pc, "INSERT INTO "+tb+" VALUES (1, '"+c.bs+"'), (2, 'a"+c.bs+"b'), (3, '"+c.bq+"')")
		agree(t, pc, dc, "SELECT id, s, HEX(s) FROM "+tb+" ORDER BY id")
		agree(t, pc, dc, "SELECT id FROM "+tb+" WHERE s = '"+c.bs+"' OR id = 3 ORDER BY id")
		agree(t, pc, dc, "SELECT COUNT(*) FROM "+tb+" WHERE s = '"+c.bs+"' -- ' OR id > 0")
		agree(t, pc, dc, "SELECT '"+c.bs+"' AS `"+c.bq+"`, \""+c.bs+"\" AS b")
		agree(t, pc, dc, "SELECT id FROM "+tb+" WHERE s = ? OR s = '"+c.bs+"' ORDER BY id", "a"+c.bs+"b")
		// A subquery over a database the user may not read is refused as
		// it is without the character before it.
		plain := runQuery(pc, "SELECT (SELECT COUNT(*) FROM mysql.user)")
		hidden := runQuery(pc, "SELECT '"+c.bs+"', (SELECT COUNT(*) FROM mysql.user)")
		if ErrCode(plain.Err) == 0 || ErrCode(hidden.Err) != ErrCode(plain.Err) {
			t.Errorf("%s: mysql.user after %q: %v (%v); without it: %v", c.charset, c.bs, hidden.Err, fmtRows(hidden), plain.Err)
		}
		// What the proxy answers or keeps from the text is refused.
		for _, q := range []string{"USE `" + c.bq + "`", "SAVEPOINT `" + c.bs + "`", "SHOW DATABASES LIKE '" + c.bs + "'"} {
			if _, err := pc.ExecContext(ctx, q); !isRefusal(err) || !strings.Contains(err.Error(), c.charset) {
				t.Errorf("%s %q: %v, want 1235 naming %s", c.charset, q, err, c.charset)
			}
		}
		// The connection goes on.
		if got := QueryString(t, pc, "SELECT COUNT(*) FROM "+tb); got != "3" {
			t.Errorf("%s: %s rows", c.charset, got)
		}
	}

	// A sharded schema: the proxy plans from the text, so a statement
	// holding such a character is refused; others are answered.
	pc, oc := limPair(t, "cp_mbcs", "gbk", "gbk", "(1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')")
	if _, err := pc.ExecContext(ctx, "UPDATE lim SET s = '\x81\x5c' WHERE id = 1"); !isRefusal(err) || !strings.Contains(err.Error(), "gbk") {
		t.Errorf("sharded: %v, want 1235 naming gbk", err)
	}
	if _, err := pc.ExecContext(ctx, "UPDATE lim SET s = '\x81\x5c' WHERE id = ?", 1); !isRefusal(err) || !strings.Contains(err.Error(), "gbk") {
		t.Errorf("sharded, prepared: %v, want 1235 naming gbk", err)
	}
	agree(t, pc, oc, "UPDATE lim SET s = '\xd6\xd0' WHERE id IN (1, 2)")
	agree(t, pc, oc, "SELECT id, s, HEX(s) FROM lim WHERE s = '\xd6\xd0' ORDER BY id")
}

// TestIntroducedLiterals: a string written _utf8mb4'...' keeps its
// introducer in what the proxy sends the shards. It did not: on a utf8mb3
// connection, _utf8mb4'a' COLLATE utf8mb4_bin was refused by the servers
// (1253), and an emoji written so was stored as '?'.
func TestIntroducedLiterals(t *testing.T) {
	pc, oc := limPair(t, "cp_intro", "utf8mb4", "utf8mb3", "(1, 'a'), (2, 'A'), (3, 'b'), (4, 'a')")
	// Reads run twice: the second from the plan cache.
	for range 2 {
		agree(t, pc, oc, "SELECT COUNT(*) FROM lim WHERE s = _utf8mb4'a' COLLATE utf8mb4_bin")
		agree(t, pc, oc, "SELECT id FROM lim WHERE s = _utf8mb4'a' COLLATE utf8mb4_bin AND id > ? ORDER BY id", 1)
	}
	agree(t, pc, oc, "INSERT INTO lim VALUES (5, _utf8mb4'\U0001F600'), (6, _utf8mb4'x')")
	agree(t, pc, oc, "UPDATE lim SET s = CONCAT(s, _utf8mb4'\U0001F600') WHERE id IN (1, 2)")
	agree(t, pc, oc, "SELECT id, HEX(s) FROM lim ORDER BY id")
}

// limPair starts a proxy of copyConfig's sharded schema with a table lim
// (id, s in character set tableCS) holding rows, makes the same table in
// the oracle's database db, and returns a connection of character set
// connCS to each.
func limPair(t *testing.T, db, tableCS, connCS, rows string) (pc, oc *sql.Conn) {
	t.Helper()
	p := StartProxy(t, copyConfig())
	copySchema(t, p, db, "DROP TABLE IF EXISTS lim", "CREATE TABLE lim (id INT PRIMARY KEY, s VARCHAR(20)) CHARSET "+tableCS,
		"INSERT INTO lim VALUES "+rows)
	pc = Conn(t, Open(t, DSN("app", "app", p.Addr, "cp", "charset="+connCS)))
	oc = Conn(t, Open(t, DSN("sg", "sg", oracleAddr, db, "charset="+connCS)))
	return pc, oc
}

// agree runs q through the proxy and on the oracle: both must answer it,
// with the same rows.
func agree(t *testing.T, pc, oc *sql.Conn, q string, args ...any) {
	t.Helper()
	got, want := runQuery(pc, q, args...), runQuery(oc, q, args...)
	if got.Err != nil || want.Err != nil || fmtRows(got) != fmtRows(want) {
		t.Errorf("%q:\nproxy  %s %v\noracle %s %v", q, fmtRows(got), got.Err, fmtRows(want), want.Err)
	}
}
