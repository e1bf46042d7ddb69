package parser

import (
	"reflect"
	"testing"
)

func TestSplitSetStatement(t *testing.T) {
	for _, c := range []struct {
		sql  string
		want SetStatement
		ok   bool
	}{
		{"SET STATEMENT max_statement_time=1 FOR SELECT * FROM t",
			SetStatement{Names: []string{"max_statement_time"}, Assigns: []string{"max_statement_time=1"}, Stmt: "SELECT * FROM t"}, true},
		{"/* c */ set statement SQL_MODE = 'ANSI,NO_ZERO_DATE', div_precision_increment := (2+1) for\n update t set a = 1",
			SetStatement{Names: []string{"sql_mode", "div_precision_increment"}, Assigns: []string{"SQL_MODE = 'ANSI,NO_ZERO_DATE'", "div_precision_increment := (2+1)"}, Stmt: "update t set a = 1"}, true},
		{"SET STATEMENT a = 'x FOR y', b = CONCAT('a', 'b') FOR SELECT 1",
			SetStatement{Names: []string{"a", "b"}, Assigns: []string{"a = 'x FOR y'", "b = CONCAT('a', 'b')"}, Stmt: "SELECT 1"}, true},
		{"SET STATEMENT a = 1 FOR", SetStatement{}, false},           // no statement
		{"SET STATEMENT FOR SELECT 1", SetStatement{}, false},        // no assignment
		{"SET STATEMENT a = 1, FOR SELECT 1", SetStatement{}, false}, // empty one
		{"SET STATEMENT @a = 1 FOR SELECT 1", SetStatement{}, false}, // not a system variable
		{"SET STATEMENT a FOR SELECT 1", SetStatement{}, false},
		{"SET STATEMENT a = 1; SELECT 1", SetStatement{}, false},
		{"SET sql_mode = '' ", SetStatement{}, false},
		{"SELECT 1", SetStatement{}, false},
	} {
		got, ok := SplitSetStatement(c.sql)
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v %v, want %+v %v", c.sql, got, ok, c.want, c.ok)
		}
	}
}
