package parser

import (
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Literals print back as MariaDB reads them.
func TestRestoreLiteralsAsWritten(t *testing.T) {
	long := strings.Repeat("9", 90)
	cases := []struct{ sql, want string }{
		{"SELECT 0x41 + 0, x'41' + 0, X'4142'", "SELECT 0x41 + 0,x'41' + 0,X'4142'"},
		{"SELECT _binary X'7E', b'0101', 0b11, _latin1 B'01111110'", "SELECT _binary X'7E',b'0101',0b11,_latin1 B'01111110'"},
		{"SELECT _latin1 0xE9, _binary 0x41", "SELECT _latin1 0xE9,_binary 0x41"},
		{"SELECT -0x10, CAST(0xFFFFFFFFFFFFFFFF AS UNSIGNED)", "SELECT -0x10,CAST(0xFFFFFFFFFFFFFFFF AS UNSIGNED)"},
		{"SELECT " + long + ", " + long + ".5 FROM t WHERE a < " + long,
			"SELECT " + long + "," + long + ".5 FROM `t` WHERE `a` < " + long},
		{"SELECT 1.50, 12345678901234567890, 1e3", "SELECT 1.50,12345678901234567890,1e+03"},
		// A utf8mb4 string keeps its introducer (the connection's may be
		// another character set); one written without has none.
		{"SELECT _utf8mb4'a' COLLATE utf8mb4_bin, 'b', _Utf8mb4 'c', _latin1'd'", "SELECT _UTF8MB4'a' COLLATE utf8mb4_bin,'b',_UTF8MB4'c',_LATIN1'd'"},
	}
	for _, c := range cases {
		stmts, err := Parse(c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		// A walk that replaces nodes by what it returns keeps the wrappers.
		stmts[0].Accept(passThrough{})
		if got, err := Restore(stmts); err != nil || got != c.want {
			t.Errorf("%s:\n got %q, %v\nwant %q", c.sql, got, err, c.want)
		}
	}
	if v := LiteralValue(long); v == nil {
		t.Errorf("LiteralValue(90 digits) = nil")
	}
	if v := LiteralValue(long + ".5"); v == nil {
		t.Errorf("LiteralValue(90 digits .5) = nil")
	}
}

type passThrough struct{}

func (passThrough) Enter(n ast.Node) (ast.Node, bool) { return n, false }
func (passThrough) Leave(n ast.Node) (ast.Node, bool) { return n, true }
