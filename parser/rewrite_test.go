package parser

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

func TestRewriteSession(t *testing.T) {
	v := &SessionValues{ConnectionID: 42, Database: "app", Schemas: map[string]string{"app": "app_0"}, User: "u@10.0.0.1", Account: "u@%"}
	cases := []struct{ in, want string }{
		{"SELECT DATABASE()", "SELECT 'app' AS `DATABASE()`"},
		{"select connection_id() as id", "select 42 as id"},
		{"SELECT * FROM app.t JOIN other.u", "SELECT * FROM `app_0`.t JOIN other.u"},
		{"select schema(), 1", "select 'app' AS `schema()`, 1"},
		{"SELECT * FROM app_x.t WHERE app = 'app.x'", "SELECT * FROM app_x.t WHERE app = 'app.x'"},
		{"SELECT a || b FROM `app`.t", "SELECT a || b FROM `app_0`.t"},
		{"SHOW TABLES FROM app", "SHOW TABLES FROM `app_0`"},
		{"SELECT f(DATABASE()), x FROM t", "SELECT f('app'), x FROM t"},
		{"SELECT USER(), current_user()", "SELECT 'u@10.0.0.1' AS `USER()`, 'u@%' AS `current_user()`"},
		{"CREATE PROCEDURE app.p() BEGIN SELECT DATABASE() INTO @d; END", "CREATE PROCEDURE `app_0`.p() BEGIN SELECT 'app' AS `DATABASE()` INTO @d; END"},
	}
	for _, c := range cases {
		if got := RewriteSession(c.in, v); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	diag := &SessionValues{Diagnostics: true, Warnings: 3, Errors: 1}
	for in, want := range map[string]string{
		"SELECT @@warning_count":                             "SELECT (3|0) AS `@@warning_count`",
		"select @@session.error_count AS e, @@WARNING_COUNT": "select (1|0) AS e, (3|0) AS `@@WARNING_COUNT`",
		"SELECT @@local.warning_count + 1, @@sql_mode":       "SELECT (3|0) + 1, @@sql_mode",
		"SELECT @@global.warning_count":                      "SELECT @@global.warning_count",
		"SELECT * FROM t WHERE @@warning_count = 0 LIMIT 1":  "SELECT * FROM t WHERE (3|0) = 0 LIMIT 1",
	} {
		if got := RewriteSession(in, diag); got != want {
			t.Errorf("%s:\n got %s\nwant %s", in, got, want)
		}
	}
	if got := RewriteSession("SELECT DATABASE()", &SessionValues{}); got != "SELECT NULL AS `DATABASE()`" {
		t.Errorf("no database: %q", got)
	}
}

func TestRestoreCheckForMariaDB(t *testing.T) {
	for in, want := range map[string]string{
		"CREATE TABLE t (a INT CHECK (a > 0), b INT, CONSTRAINT c CHECK (b < 'ENFORCED'))": "CREATE TABLE `t` (`a` INT CHECK(`a` > 0),`b` INT,CONSTRAINT `c` CHECK(`b` < 'ENFORCED'))",
		"ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)":                                     "ALTER TABLE `t` ADD CONSTRAINT `c` CHECK(`a` > 0)",
	} {
		stmts, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Restore(stmts)
		if err != nil || got != want {
			t.Errorf("%s:\n got %s\nwant %s (%v)", in, got, want, err)
		}
	}
}

// TestParseConcurrent parses from many goroutines and checks that each
// syntax tree still prints its own statement after the others parsed:
// trees point into their parser's buffers, so a parser shared or pooled
// too early hands one session another's values (seen once as a
// half-applied distributed transaction).
func TestParseConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				sql := fmt.Sprintf("UPDATE `accounts` SET `balance`=`balance` - %d WHERE `id`=%d AND `note`='g%d-%d'", i, g, g, i)
				stmts, err := Parse(sql)
				if err != nil {
					errs <- err.Error()
					return
				}
				runtime.Gosched()
				got, err := Restore(stmts)
				want := fmt.Sprintf("- %d WHERE `id` = %d AND `note` = 'g%d-%d'", i, g, g, i)
				if err != nil || !strings.Contains(got, want) {
					errs <- fmt.Sprintf("parsed %q, printed %q (%v)", sql, got, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestColumnName(t *testing.T) {
	for in, want := range map[string]string{
		"hex('🌀')":           "hex('?')",
		"CONCAT('x', 'a𝌆b')": "CONCAT('x', 'a?b')",
		"naïve ✓":            "naïve ✓", // three bytes and less stay
	} {
		if got := ColumnName(in); got != want {
			t.Errorf("ColumnName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCastInt: MariaDB's CAST(x AS INT) and CONVERT(x, INTEGER) parse as
// SIGNED, and a select field keeps the client's text for its name.
func TestCastInt(t *testing.T) {
	for _, c := range []struct{ sql, restored, field string }{
		{"SELECT CAST(a AS INT) FROM t", "SELECT CAST(`a` AS SIGNED) FROM `t`", "CAST(a AS INT)"},
		{"select convert(a, Integer), 'AS INT)' from t", "SELECT CONVERT(`a`, SIGNED),'AS INT)' FROM `t`", "convert(a, Integer)"},
		{"SELECT CAST(CAST(a AS int) AS INTEGER) FROM t WHERE CAST(b AS INT) > 1", "SELECT CAST(CAST(`a` AS SIGNED) AS SIGNED) FROM `t` WHERE CAST(`b` AS SIGNED) > 1", "CAST(CAST(a AS int) AS INTEGER)"},
		{"SELECT CAST(a AS SIGNED INT) FROM t", "SELECT CAST(`a` AS SIGNED) FROM `t`", "CAST(a AS SIGNED INT)"},
	} {
		stmts, err := Parse(c.sql)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		got, err := Restore(stmts)
		if err != nil || got != c.restored {
			t.Errorf("%s: restored %q %v, want %q", c.sql, got, err, c.restored)
		}
		f := stmts[0].(*ast.SelectStmt).Fields.Fields[0]
		if name := strings.TrimSpace(f.Text()); name != c.field {
			t.Errorf("%s: field %q, want %q", c.sql, name, c.field)
		}
	}
	// Other syntax errors stay the parser's.
	if _, err := Parse("SELECT CAST(a AS INT(3)) FROM t"); err == nil || !strings.Contains(err.Error(), "INT(3))") {
		t.Errorf("CAST(a AS INT(3)): %v, want the syntax error near INT(3))", err)
	}
}

// TestFetchFirst: OFFSET n ROWS and FETCH FIRST n ROWS ONLY read as LIMIT;
// WITH TIES has no such writing.
func TestFetchFirst(t *testing.T) {
	for _, c := range []struct{ sql, restored string }{
		{"SELECT a FROM t ORDER BY a OFFSET 2 ROWS FETCH FIRST 3 ROWS ONLY", "SELECT `a` FROM `t` ORDER BY `a` LIMIT 2,3"},
		{"SELECT a FROM t ORDER BY a fetch next row only", "SELECT `a` FROM `t` ORDER BY `a` LIMIT 1"},
		{"SELECT a FROM t ORDER BY a OFFSET 1 ROW", "SELECT `a` FROM `t` ORDER BY `a` LIMIT 1,18446744073709551615"},
		{"SELECT (SELECT b FROM u ORDER BY b FETCH FIRST 1 ROWS ONLY) FROM t ORDER BY a OFFSET ? ROWS FETCH FIRST ? ROWS ONLY",
			"SELECT (SELECT `b` FROM `u` ORDER BY `b` LIMIT 1) FROM `t` ORDER BY `a` LIMIT ?,?"},
	} {
		stmts, err := Parse(c.sql)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		if got, err := Restore(stmts); err != nil || got != c.restored {
			t.Errorf("%s: restored %q %v, want %q", c.sql, got, err, c.restored)
		}
	}
	const sub = "(SELECT b FROM u ORDER BY b OFFSET 1 ROWS FETCH FIRST 1 ROWS ONLY)"
	stmts, err := Parse("SELECT " + sub + " FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if name := strings.TrimSpace(stmts[0].(*ast.SelectStmt).Fields.Fields[0].Text()); name != sub {
		t.Errorf("field %q, want %q", name, sub)
	}
	var unread *UnreadError
	if _, err := Parse("SELECT a FROM t ORDER BY a FETCH FIRST 2 ROWS WITH TIES"); !errors.As(err, &unread) || unread.What != "FETCH ... WITH TIES" {
		t.Errorf("WITH TIES: %v, want an UnreadError", err)
	}
	if _, err := Parse("SELECT a FROM t LIMIT 1 FETCH FIRST 1 ROWS ONLY"); err == nil {
		t.Errorf("LIMIT and FETCH: no error")
	}
}

func TestJoinStrings(t *testing.T) {
	for _, c := range []struct {
		sql  string
		mode Mode
		want string // "": unchanged
	}{
		{sql: "SELECT _latin1'x' 'y' FROM t", want: "SELECT _latin1'xy' FROM t"},
		{sql: `SELECT N'a' "b" 'c', 1`, want: "SELECT N'abc', 1"},
		{sql: `SELECT _utf8mb4 'it''s' "a""b'c"`, want: `SELECT _utf8mb4 'it''sa"b''c'`},
		{sql: `SELECT n'a\'' "b\"c"`, want: `SELECT n'a\'b\"c'`},
		{sql: "SELECT _latin1'x' /* c */ 'y', _binary'a' 'b' 'c'", want: "SELECT _latin1'xy', _binary'abc'"},
		{sql: `SELECT _latin1'x' "y"`, mode: ModeANSIQuotes}, // "y" names the column
		{sql: `SELECT N'a' "b" 'c'`, mode: ModeANSIQuotes},
		{sql: "SELECT 'a' 'b', _latin1'x', 'y'"},
		{sql: "SELECT X'41' 'b'"},
		{sql: "SELECT _latin1 X'41' 'b', _binary b'1000001' 'c'"}, // numbers: 'b' and 'c' name them
		{sql: "SELECT id FROM t WHERE status = 'paid' AND tag <> 'x'"},
		{sql: `SELECT N'a\' 'b'`, mode: ModeNoBackslashEscapes},
	} {
		got, ok := joinStrings(c.sql, c.mode)
		want := c.want
		if want == "" {
			want = c.sql
		}
		if got != want || ok != (c.want != "") {
			t.Errorf("joinStrings(%q) = %q, %v; want %q", c.sql, got, ok, want)
		}
	}
}
