package router

import (
	"math"
	"math/big"
	"strconv"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
)

func dec(s string) Num {
	r, _ := new(big.Rat).SetString(s)
	scale := 0
	for i := range s {
		if s[i] == '.' {
			scale = len(s) - i - 1
		}
	}
	return Num{R: r, Scale: scale}
}

// TestDivDecimal checks quotients against MariaDB 10.11's answers.
func TestDivDecimal(t *testing.T) {
	for _, c := range []struct {
		l, r string
		incr int
		want string // as MariaDB shows it
	}{
		{"11653", "2114", 4, "5.5123"},
		{"11653", "2114", 0, "5"}, // truncated at 0 words, not rounded to 6
		{"11", "2", 0, "5"},
		{"11653", "2114", 8, "5.51229896"},
		{"11653", "2114", 9, "5.512298959"},
		{"1062018.46", "2114", 0, "502.37"},
		{"11653", "2.5", 9, "4661.200000000"},
		{"1062018.46", "0.7", 5, "1517169.2285714"},
		{"-11653", "7", 4, "-1664.7143"},
		{"1062018.46", "1.23456789012", 4, "860234.960345"},
	} {
		got := divDecimal(dec(c.l), dec(c.r), c.incr)
		if s := got.R.FloatString(got.Scale); s != c.want {
			t.Errorf("%s / %s at %d: %s, want %s", c.l, c.r, c.incr, s, c.want)
		}
	}
	// A quotient keeps its hidden digits for the next division:
	// (11653 / 2114) / 3 is 1.83743299, not 5.5123 / 3 = 1.83743333.
	q := divDecimal(divDecimal(dec("11653"), dec("2114"), 4), dec("3"), 4)
	if s := q.R.FloatString(q.Scale); s != "1.83743299" {
		t.Errorf("chained quotient: %s, want 1.83743299", s)
	}
}

func TestRounding(t *testing.T) {
	for _, c := range []struct {
		v        string
		d        int
		truncate bool
		want     string
	}{
		{"1062018.46", -2, false, "1062000"},
		{"1062018.46", -2, true, "1062000"},
		{"151716.92285", -1, false, "151720"},
		{"1.2399", 2, true, "1.23"},
		{"-1.005", 2, false, "-1.01"},
		{"1.005", 2, false, "1.01"},
		{"-1062018.46", -3, true, "-1062000"},
		{"-155", -1, false, "-160"},
	} {
		got := shiftRound(dec(c.v).R, c.d, c.truncate)
		if s := got.FloatString(max(c.d, 0)); s != c.want {
			t.Errorf("%s to %d (truncate %v): %s, want %s", c.v, c.d, c.truncate, s, c.want)
		}
	}
	for _, c := range []struct {
		v        float64
		d        int
		truncate bool
		want     float64
	}{
		{2.5, 0, false, 2}, // rint: halves to even, as MariaDB
		{-2.5, 0, false, -2},
		{3.5, 0, false, 4},
		{0.125, 2, false, 0.12},
		{0.129, 2, true, 0.12},
		{92351.25, -2, false, 92400},
		{92351.25, -1, true, 92350},
	} {
		if got := roundDouble(c.v, c.d, c.truncate); got != c.want {
			t.Errorf("double %v to %d (truncate %v): %v, want %v", c.v, c.d, c.truncate, got, c.want)
		}
	}
}

// TestCaseResults evaluates IF, CASE, NULLIF, GREATEST and LEAST over
// merged columns a, b (numbers) and s (a string column) as the proxy does
// after a merge.
func TestCaseResults(t *testing.T) {
	cols := map[string]int{"a": 0, "b": 1, "s": 2}
	compiler := &exprCompiler{
		agg: func(*ast.AggregateFuncExpr) (Expr, error) { return nil, errUnsupported("aggregate") },
		column: func(x *ast.ColumnNameExpr) (Expr, error) {
			return &colExpr{col: Col{Index: cols[x.Name.Name.L]}, helper: -1}, nil
		},
	}
	row := []Num{dec("12"), dec("2.50"), StringNum("7kg")}
	get := func(c Col) Num { return row[c.Index] }
	isString := func(c Col) bool { return c.Index == 2 }
	compile := func(expr string) Expr {
		stmts, err := parser.Parse("SELECT " + expr)
		if err != nil {
			t.Fatal(err)
		}
		e, err := compiler.compile(stmts[0].(*ast.SelectStmt).Fields.Fields[0].Expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return e
	}
	show := func(n Num) string {
		switch {
		case n.Null:
			return "NULL"
		case n.IsStr:
			return "'" + n.Str + "'"
		case n.Float:
			return strconv.FormatFloat(n.F, 'g', -1, 64)
		}
		return n.R.FloatString(n.Scale)
	}
	for _, c := range []struct{ expr, want string }{
		{"IF(a > 10, 'many', 'few')", "'many'"},
		{"IF(a > 20, 'many', 'few')", "'few'"},
		{"IF(NULL, 1, 2)", "2"},
		{"CASE WHEN a < 5 THEN 'lo' WHEN a < 15 THEN 'mid' ELSE 'hi' END", "'mid'"},
		{"CASE WHEN a < 5 THEN 'lo' END", "NULL"},
		{"CASE a WHEN 11 THEN 1 WHEN 12 THEN b END", "2.50"},
		{"CASE NULL WHEN NULL THEN 1 ELSE 0 END", "0"}, // NULL equals no WHEN
		{"NULLIF(a, 12)", "NULL"},
		{"NULLIF(a, 13)", "12"},
		{"GREATEST(a, b, 3)", "12"},
		{"LEAST(a, b, 3)", "2.50"},
		{"GREATEST(a, NULL)", "NULL"},
		{"IF(a > 10, a, NULL) + 1", "13"},
		// A string and a number compare and add as doubles.
		{"s + 1", "8"},
		{"IF(s > 5, s, 'none')", "'7kg'"},
		{"a > '11.5'", "1"},
		{"COALESCE(NULL, s)", "'7kg'"},
	} {
		e := compile(c.expr)
		if ComparesStrings(e, isString) {
			t.Errorf("%s: compares strings", c.expr)
		}
		if got := show(e.Eval(get)); got != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got, c.want)
		}
	}
	// Two strings compare by collation: the executor refuses these.
	for _, expr := range []string{"s = 'x'", "IF(a > 1, s, 'x') < 'y'", "GREATEST(s, 1)", "CASE s WHEN 'a' THEN 1 END", "NOT (COALESCE(s, 'z') <=> 'y')"} {
		if !ComparesStrings(compile(expr), isString) {
			t.Errorf("%s: does not compare strings; want it to", expr)
		}
	}
	stmts, err := parser.Parse("SELECT IF(a > 1, 'Renée', 'x')")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := compiler.compile(stmts[0].(*ast.SelectStmt).Fields.Fields[0].Expr); err == nil {
		t.Errorf("a string beyond ASCII compiled; want refused")
	}
}

// A string column in an expression computed after a merge reads as
// MySQL reads it: the double of its longest numeric prefix.
func TestStringNumber(t *testing.T) {
	for _, c := range []struct {
		s    string
		want float64
	}{
		{"1x", 1}, {"abc", 0}, {"", 0}, {"  -2.5e2kg", -250}, {"\t7", 7}, {".5", 0.5}, {"5.", 5},
		{"1e", 1}, {"1e+", 1}, {"+3", 3}, {"-", 0}, {"0x1A", 0}, {"1e999", math.MaxFloat64},
	} {
		if got := StringNumber(c.s); got != c.want {
			t.Errorf("StringNumber(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}
