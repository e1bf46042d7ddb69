package parser

import "testing"

func TestRestoreInternalFuncNames(t *testing.T) {
	cases := []struct{ sql, want string }{
		{"SELECT CHAR(9)", "SELECT CHAR(9)"},
		{"SELECT CHAR(65, 66, NULL) FROM t", "SELECT CHAR(65, 66, NULL) FROM `t`"},
		{"SELECT CHAR(0xC3A9 USING utf8mb4)", "SELECT CHAR(0xC3A9 USING `utf8mb4`)"},
		{"SELECT CONCAT(a, CHAR(a + 1, 66 using latin1)) FROM t WHERE b = CHAR(9)",
			"SELECT CONCAT(`a`, CHAR(`a` + 1, 66 USING `latin1`)) FROM `t` WHERE `b` = CHAR(9)"},
		{"SELECT INSERT('txs', 2, 1, CHAR(104, 105)) FROM t", "SELECT INSERT('txs', 2, 1, CHAR(104, 105)) FROM `t`"},
		// MariaDB knows LOCK IN SHARE MODE, not FOR SHARE.
		{"SELECT a FROM t WHERE b = 'FOR SHARE' LOCK IN SHARE MODE", "SELECT `a` FROM `t` WHERE `b` = 'FOR SHARE' LOCK IN SHARE MODE"},
		{"SELECT a FROM t FOR SHARE NOWAIT", "SELECT `a` FROM `t` LOCK IN SHARE MODE NOWAIT"},
		{"SELECT a FROM t FOR SHARE SKIP LOCKED", "SELECT `a` FROM `t` LOCK IN SHARE MODE SKIP LOCKED"},
		{"SELECT a FROM t WHERE a IN (SELECT CHAR(65) FROM u LOCK IN SHARE MODE) FOR UPDATE",
			"SELECT `a` FROM `t` WHERE `a` IN (SELECT CHAR(65) FROM `u` LOCK IN SHARE MODE) FOR UPDATE"},
		{"SELECT b FROM t WHERE b = 'FOR SHARE'", "SELECT `b` FROM `t` WHERE `b` = 'FOR SHARE'"},
	}
	for _, c := range cases {
		stmts, err := Parse(c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		// Twice: the first print must leave the tree as the parser made it.
		for range 2 {
			got, err := Restore(stmts)
			if err != nil || got != c.want {
				t.Errorf("%s:\n got %q, %v\nwant %q", c.sql, got, err, c.want)
			}
		}
		if e := RestoreExpr(stmts[0]); e != c.want {
			t.Errorf("RestoreExpr(%s) = %q", c.sql, e)
		}
	}
}
