package parser

import (
	"strings"
	"testing"
)

func TestCutInto(t *testing.T) {
	for _, c := range []struct {
		sql, sel, vars string
		after, ok      bool
		physical, put  string // a printed form of sel, and it with INTO put back
	}{
		{sql: "SELECT a, b INTO @x, @`y z` FROM t WHERE c = 1", sel: "SELECT a, b   FROM t WHERE c = 1", vars: "x|y z", ok: true,
			physical: "SELECT `a`,`b` FROM `t_1` WHERE `c`=1", put: "SELECT `a`,`b` INTO @x, @`y z` FROM `t_1` WHERE `c`=1"},
		{sql: "SELECT COUNT(*) FROM t WHERE a IN (1, @c) INTO @n", sel: "SELECT COUNT(*) FROM t WHERE a IN (1, @c)  ", vars: "n", after: true, ok: true,
			physical: "SELECT COUNT(1) FROM `t_0`", put: "SELECT COUNT(1) FROM `t_0` INTO @n"},
		{sql: "SELECT EXTRACT(YEAR FROM d) INTO @y FROM t FOR UPDATE", sel: "SELECT EXTRACT(YEAR FROM d)   FROM t FOR UPDATE", vars: "y", ok: true,
			physical: "SELECT EXTRACT(YEAR FROM `d`) FROM `t` FOR UPDATE", put: "SELECT EXTRACT(YEAR FROM `d`) INTO @y FROM `t` FOR UPDATE"},
		{sql: "SELECT 1 INTO @one", sel: "SELECT 1  ", vars: "one", ok: true, physical: "SELECT 1", put: "SELECT 1 INTO @one"},
		// Not a SELECT ... INTO @v this handles.
		{sql: "SELECT a FROM t"},
		{sql: "SELECT a INTO OUTFILE '/tmp/x' FROM t"},
		{sql: "SELECT a FROM t WHERE b = (SELECT c INTO @x FROM u)"},
		{sql: "SELECT a INTO @x, @y INTO @z FROM t"},
		{sql: "SELECT a INTO @x, b FROM t"},
		{sql: "SELECT a INTO @x FROM t; SELECT 2"},
	} {
		sel, into, ok := CutInto(c.sql)
		if ok != c.ok {
			t.Errorf("%s: ok %v, want %v", c.sql, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		if sel != c.sel || strings.Join(into.Vars, "|") != c.vars || into.AfterFrom != c.after {
			t.Errorf("%s: %q %q after %v, want %q %q after %v", c.sql, sel, into.Vars, into.AfterFrom, c.sel, c.vars, c.after)
		}
		if got := PutInto(c.physical, into); got != c.put {
			t.Errorf("%s: put back %q, want %q", c.sql, got, c.put)
		}
	}
}
