package router

import (
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// Expr is an expression the proxy evaluates itself over merged rows:
// HAVING after groups were merged across shards, and select-list
// expressions over aggregates (MAX(a) - MIN(a)). Values are numbers, with
// MySQL's two kinds of arithmetic: exact (integers and DECIMAL, kept as
// big.Rat with their scale) and approximate (DOUBLE). Strings are refused
// at planning: comparing them depends on a collation only servers apply.
type Expr interface {
	Eval(get func(Col) Num) Num
	resolve(m *merger)
}

// Num is a number or NULL.
type Num struct {
	Null  bool
	Float bool     // approximate: F holds it
	F     float64  //
	R     *big.Rat // exact: R holds it
	Scale int      // exact: digits after the point MySQL gives it
	// Frac, when more than Scale, is the digits R holds: a DECIMAL
	// quotient keeps its internal digits (MySQL rounds it to Scale only
	// to show it), which a comparison or another division sees.
	Frac int
	// IsStr: the value is the string Str (a string column or literal),
	// shown as itself; F holds its number (StringNumber), which
	// arithmetic and comparisons with numbers use.
	IsStr bool
	Str   string
	// HasF: exact, but what it gives in a DOUBLE context is F, not R's
	// nearest double (AVG: its sums' quotient in floating point).
	HasF bool
}

// frac is the DECIMAL value's digits after the point.
func (n Num) frac() int { return max(n.Scale, n.Frac) }

// Bool reports a condition's truth: NULL and 0 are false.
func (n Num) Bool() bool {
	if n.Null {
		return false
	}
	if n.Float {
		return n.F != 0
	}
	return n.R.Sign() != 0
}

// Rat returns the value as a rational (a float converted).
func (n Num) Rat() *big.Rat {
	if n.Float {
		r := new(big.Rat)
		if r.SetFloat64(n.F) == nil {
			return new(big.Rat)
		}
		return r
	}
	return n.R
}

// Float64 returns the value as a float.
func (n Num) Float64() float64 {
	if n.Float || n.HasF {
		return n.F
	}
	f, _ := n.R.Float64()
	return f
}

var null = Num{Null: true}

func exact(r *big.Rat, scale int) Num { return Num{R: r, Scale: scale} }
func approx(f float64) Num            { return Num{Float: true, F: f} }

func boolNum(b bool) Num {
	if b {
		return exact(big.NewRat(1, 1), 0)
	}
	return exact(new(big.Rat), 0)
}

type constExpr struct{ v Num }

func (c *constExpr) Eval(func(Col) Num) Num { return c.v }
func (c *constExpr) resolve(*merger)        {}

type colExpr struct {
	col    Col
	helper int // helper ordinal, -1 for a visible column
}

func (c *colExpr) Eval(get func(Col) Num) Num { return get(c.col) }
func (c *colExpr) resolve(m *merger) {
	if c.helper >= 0 {
		c.col = m.helperCol(c.helper)
	}
}

type binExpr struct {
	op   opcode.Op
	l, r Expr
	// divScale is the session's div_precision_increment: a DECIMAL
	// quotient has the dividend's scale plus this many digits.
	divScale int
}

func (e *binExpr) Eval(get func(Col) Num) Num {
	l := e.l.Eval(get)
	switch e.op {
	case opcode.LogicAnd:
		if !l.Null && !l.Bool() {
			return boolNum(false)
		}
		r := e.r.Eval(get)
		if !r.Null && !r.Bool() {
			return boolNum(false)
		}
		if l.Null || r.Null {
			return null
		}
		return boolNum(true)
	case opcode.LogicOr:
		if !l.Null && l.Bool() {
			return boolNum(true)
		}
		r := e.r.Eval(get)
		if !r.Null && r.Bool() {
			return boolNum(true)
		}
		if l.Null || r.Null {
			return null
		}
		return boolNum(false)
	}
	r := e.r.Eval(get)
	if e.op == opcode.NullEQ {
		if l.Null || r.Null {
			return boolNum(l.Null && r.Null)
		}
		return boolNum(cmpNum(l, r) == 0)
	}
	if l.Null || r.Null {
		return null
	}
	switch e.op {
	case opcode.EQ:
		return boolNum(cmpNum(l, r) == 0)
	case opcode.NE:
		return boolNum(cmpNum(l, r) != 0)
	case opcode.LT:
		return boolNum(cmpNum(l, r) < 0)
	case opcode.LE:
		return boolNum(cmpNum(l, r) <= 0)
	case opcode.GT:
		return boolNum(cmpNum(l, r) > 0)
	case opcode.GE:
		return boolNum(cmpNum(l, r) >= 0)
	}
	if l.Float || r.Float {
		a, b := l.Float64(), r.Float64()
		switch e.op {
		case opcode.Plus:
			return approx(a + b)
		case opcode.Minus:
			return approx(a - b)
		case opcode.Mul:
			return approx(a * b)
		case opcode.Div:
			if b == 0 {
				return null
			}
			return approx(a / b)
		case opcode.Mod:
			if b == 0 {
				return null
			}
			return approx(math.Mod(a, b))
		case opcode.IntDiv:
			if b == 0 {
				return null
			}
			return exact(new(big.Rat).SetFloat64(math.Trunc(a/b)), 0)
		}
		return null
	}
	switch e.op {
	case opcode.Plus:
		return Num{R: new(big.Rat).Add(l.R, r.R), Scale: max(l.Scale, r.Scale), Frac: max(l.frac(), r.frac())}
	case opcode.Minus:
		return Num{R: new(big.Rat).Sub(l.R, r.R), Scale: max(l.Scale, r.Scale), Frac: max(l.frac(), r.frac())}
	case opcode.Mul:
		return Num{R: new(big.Rat).Mul(l.R, r.R), Scale: l.Scale + r.Scale, Frac: l.frac() + r.frac()}
	case opcode.Div:
		if r.R.Sign() == 0 {
			return null
		}
		return divDecimal(l, r, e.divScale)
	case opcode.IntDiv:
		if r.R.Sign() == 0 {
			return null
		}
		q := new(big.Rat).Quo(l.R, r.R)
		return exact(new(big.Rat).SetInt(new(big.Int).Quo(q.Num(), q.Denom())), 0)
	case opcode.Mod:
		if r.R.Sign() == 0 {
			return null
		}
		q := new(big.Rat).Quo(l.R, r.R)
		t := new(big.Rat).SetInt(new(big.Int).Quo(q.Num(), q.Denom()))
		return exact(new(big.Rat).Sub(l.R, t.Mul(t, r.R)), max(l.Scale, r.Scale))
	}
	return null
}

func (e *binExpr) resolve(m *merger) { e.l.resolve(m); e.r.resolve(m) }

// avgExpr is AVG(x) over merged groups, from their SUM(x) and COUNT(x),
// as MariaDB's Item_sum_avg gives it to an expression: a DECIMAL quotient
// kept to whole 9-digit words of decimals (val_decimal; only shown
// rounded to its scale), so AVG(v) * 1000000 keeps digits the shown value
// lacks; in a DOUBLE context, the sums' quotient in floating point
// (val_real).
type avgExpr struct {
	sum, cnt Expr
	divScale int
}

func (e *avgExpr) Eval(get func(Col) Num) Num {
	sum, cnt := e.sum.Eval(get), e.cnt.Eval(get)
	switch {
	case sum.Null || cnt.Null || cnt.Float64() == 0:
		return null
	case sum.Float || cnt.Float:
		return approx(sum.Float64() / cnt.Float64())
	}
	q := divDecimal(sum, cnt, e.divScale)
	q.F, q.HasF = sum.Float64()/cnt.Float64(), true
	return q
}

func (e *avgExpr) resolve(m *merger) { e.sum.resolve(m); e.cnt.resolve(m) }

func cmpNum(a, b Num) int {
	if a.Float || b.Float {
		x, y := a.Float64(), b.Float64()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return a.R.Cmp(b.R)
}

// divDecimal is MariaDB's DECIMAL quotient (strings/decimal.c, do_div_mod):
// computed to whole 9-digit words of decimals, as many as the operands'
// words plus the increment the words leave unused, and truncated there.
// It shows the dividend's scale plus incr (div_precision_increment, at
// most 38) digits, rounded half away from zero: with incr 0, 11 / 2 is 5.
func divDecimal(l, r Num, incr int) Num {
	words := func(digits int) int { return (digits + 8) / 9 }
	f1, f2 := l.frac(), r.frac()
	frac1, frac2 := words(f1)*9, words(f2)*9
	extra := max(0, incr-(frac1-f1)-(frac2-f2))
	internal := words(frac1+frac2+extra) * 9
	return Num{R: shiftRound(new(big.Rat).Quo(l.R, r.R), internal, true), Scale: min(l.Scale+incr, 38), Frac: internal}
}

// shiftRound rounds r to d digits after the point (before it when d is
// negative): toward zero when truncate, else halves away from zero.
func shiftRound(r *big.Rat, d int, truncate bool) *big.Rat {
	unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(d))), nil)
	num, den := new(big.Int).Set(r.Num()), new(big.Int).Set(r.Denom())
	if d >= 0 {
		num.Mul(num, unit)
	} else {
		den.Mul(den, unit)
	}
	q, m := new(big.Int).QuoRem(num, den, new(big.Int)) // toward zero
	if !truncate && m.Sign() != 0 {
		if m.Abs(m).Lsh(m, 1).Cmp(den) >= 0 { // |remainder| >= half
			q.Add(q, big.NewInt(int64(num.Sign())))
		}
	}
	if d >= 0 {
		return new(big.Rat).SetFrac(q, unit)
	}
	return new(big.Rat).SetInt(q.Mul(q, unit))
}

func abs(x int) int { return max(x, -x) }

// roundDouble is MariaDB's ROUND/TRUNCATE of a DOUBLE (my_double_round):
// scaled by a power of ten, then rint (halves to even) or toward zero.
func roundDouble(v float64, d int, truncate bool) float64 {
	p := math.Pow10(abs(d))
	x := v * p
	if d < 0 {
		x = v / p
	}
	switch {
	case d < 0 && math.IsInf(p, 0):
		return 0
	case d >= 0 && math.IsInf(x, 0):
		return v
	case truncate:
		x = math.Trunc(x)
	default:
		x = math.RoundToEven(x)
	}
	if d < 0 {
		return x * p
	}
	return x / p
}

type unaryExpr struct {
	op opcode.Op
	e  Expr
}

func (u *unaryExpr) Eval(get func(Col) Num) Num {
	v := u.e.Eval(get)
	if v.Null {
		return null
	}
	switch u.op {
	case opcode.Not, opcode.Not2:
		return boolNum(!v.Bool())
	case opcode.Minus:
		if v.Float {
			return approx(-v.F)
		}
		return Num{R: new(big.Rat).Neg(v.R), Scale: v.Scale, Frac: v.Frac}
	}
	return v
}
func (u *unaryExpr) resolve(m *merger) { u.e.resolve(m) }

type isNullExpr struct {
	e   Expr
	not bool
}

func (n *isNullExpr) Eval(get func(Col) Num) Num {
	return boolNum(n.e.Eval(get).Null != n.not)
}
func (n *isNullExpr) resolve(m *merger) { n.e.resolve(m) }

// caseExpr is CASE, IF and NULLIF: the result of the first condition that
// holds (with value, of the first when equal to it), else orElse.
type caseExpr struct {
	value  Expr // nil: whens are conditions
	whens  []Expr
	thens  []Expr
	orElse Expr // nil: NULL
}

func (c *caseExpr) Eval(get func(Col) Num) Num {
	var v Num
	if c.value != nil {
		if v = c.value.Eval(get); v.Null {
			return c.otherwise(get) // NULL equals no WHEN
		}
	}
	for i, w := range c.whens {
		wv := w.Eval(get)
		if c.value != nil {
			if !wv.Null && cmpNum(v, wv) == 0 {
				return c.thens[i].Eval(get)
			}
		} else if wv.Bool() {
			return c.thens[i].Eval(get)
		}
	}
	return c.otherwise(get)
}

func (c *caseExpr) otherwise(get func(Col) Num) Num {
	if c.orElse == nil {
		return null
	}
	return c.orElse.Eval(get)
}

func (c *caseExpr) resolve(m *merger) {
	for _, e := range [][]Expr{{c.value, c.orElse}, c.whens, c.thens} {
		for _, x := range e {
			if x != nil {
				x.resolve(m)
			}
		}
	}
}

// funcExpr is one of the numeric functions the proxy evaluates.
type funcExpr struct {
	name string
	args []Expr
}

func (f *funcExpr) resolve(m *merger) {
	for _, a := range f.args {
		a.resolve(m)
	}
}

func (f *funcExpr) Eval(get func(Col) Num) Num {
	switch f.name {
	case "ifnull", "coalesce":
		for _, a := range f.args {
			if v := a.Eval(get); !v.Null {
				return v
			}
		}
		return null
	case "greatest", "least":
		var best Num
		for i, a := range f.args {
			v := a.Eval(get)
			if v.Null {
				return null // any NULL argument makes it NULL
			}
			if i == 0 {
				best = v
			} else if c := cmpNum(v, best); f.name == "greatest" && c > 0 || f.name == "least" && c < 0 {
				best = v
			}
		}
		return best
	}
	v := f.args[0].Eval(get)
	if v.Null {
		return null
	}
	switch f.name {
	case "abs":
		if v.Float {
			return approx(math.Abs(v.F))
		}
		return exact(new(big.Rat).Abs(v.R), v.Scale)
	case "floor", "ceil", "ceiling":
		if v.Float {
			if f.name == "floor" {
				return approx(math.Floor(v.F))
			}
			return approx(math.Ceil(v.F))
		}
		q := new(big.Int).Quo(v.R.Num(), v.R.Denom()) // truncated
		t := new(big.Rat).SetInt(q)
		if f.name == "floor" && t.Cmp(v.R) > 0 {
			t.Sub(t, big.NewRat(1, 1))
		} else if f.name != "floor" && t.Cmp(v.R) < 0 {
			t.Add(t, big.NewRat(1, 1))
		}
		return exact(t, 0)
	case "round", "truncate":
		d := 0
		if len(f.args) > 1 {
			dv := f.args[1].Eval(get)
			if dv.Null {
				return null
			}
			d = int(dv.Float64())
		}
		if v.Float {
			return approx(roundDouble(v.F, d, f.name == "truncate"))
		}
		return exact(shiftRound(v.R, d, f.name == "truncate"), max(d, 0))
	}
	return null
}

// compile turns an expression over merged columns into an Expr. agg
// resolves aggregate calls and column references to merged columns.
type exprCompiler struct {
	agg    func(*ast.AggregateFuncExpr) (Expr, error)
	column func(*ast.ColumnNameExpr) (Expr, error)
	// field finds an expression the SELECT list computes (nil: none).
	field    func(ast.ExprNode) Expr
	divScale int // div_precision_increment
}

func (c *exprCompiler) compile(e ast.ExprNode) (Expr, error) {
	switch e.(type) {
	case *ast.BinaryOperationExpr, *ast.UnaryOperationExpr, *ast.FuncCallExpr:
		// MySQL reads such a SELECT-list expression's stored value, shown
		// with its scale (a quotient loses its hidden digits there).
		if c.field != nil {
			if f := c.field(e); f != nil {
				return f, nil
			}
		}
	}
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return c.compile(x.Expr)
	case *test_driver.ParamMarkerExpr:
		return c.compile(&x.ValueExpr)
	case *parser.WrittenValue: // a decimal literal keeps its text
		return c.compile(x.ValueExpr)
	case *test_driver.ValueExpr:
		v := x.Datum.GetValue()
		if v == nil {
			return &constExpr{null}, nil
		}
		if str, ok := v.(string); ok {
			if !shardrules.PrintableASCII(str) {
				// Shown, its bytes would be the client's character set's,
				// where MySQL converts them to the results' set.
				return nil, errUnsupported("a string beyond printable ASCII in an expression the proxy evaluates after merging shards")
			}
			return &constExpr{StringNum(str)}, nil
		}
		n, ok := numOf(v)
		if !ok {
			return nil, errUnsupported("the literal %s in an expression the proxy evaluates after merging shards", exprText(x))
		}
		return &constExpr{n}, nil
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd, opcode.LogicOr, opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE,
			opcode.NullEQ, opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.IntDiv, opcode.Mod:
		default:
			return nil, errUnsupported("operator %s after merging shards", x.Op)
		}
		lr, err := c.compileAll(x.L, x.R)
		if err != nil {
			return nil, err
		}
		return &binExpr{op: x.Op, l: lr[0], r: lr[1], divScale: c.divScale}, nil
	case *ast.UnaryOperationExpr:
		in, err := c.compile(x.V)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case opcode.Not, opcode.Not2, opcode.Minus, opcode.Plus:
			return &unaryExpr{op: x.Op, e: in}, nil
		}
	case *ast.IsNullExpr:
		in, err := c.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		return &isNullExpr{e: in, not: x.Not}, nil
	case *ast.BetweenExpr:
		e, err := c.compileAll(x.Expr, x.Left, x.Right)
		if err != nil {
			return nil, err
		}
		v, lo, hi := e[0], e[1], e[2]
		var in Expr = &binExpr{op: opcode.LogicAnd, l: &binExpr{op: opcode.GE, l: v, r: lo}, r: &binExpr{op: opcode.LE, l: v, r: hi}}
		if x.Not {
			in = &unaryExpr{op: opcode.Not, e: in}
		}
		return in, nil
	case *ast.CaseExpr:
		return c.caseOf(x)
	case *ast.FuncCallExpr:
		name := x.FnName.L
		switch name {
		case "if", "nullif":
			return c.ifOf(x)
		case "abs", "floor", "ceil", "ceiling", "round", "truncate", "ifnull", "coalesce", "greatest", "least":
		default:
			return nil, errUnsupported("%s() over aggregates across shards", strings.ToUpper(name))
		}
		args, err := c.compileAll(x.Args...)
		if err != nil {
			return nil, err
		}
		f := &funcExpr{name: name, args: args}
		if len(f.args) == 0 || (name == "truncate" && len(f.args) != 2) || (name == "greatest" || name == "least") && len(f.args) < 2 {
			return nil, errUnsupported("%s() with these arguments across shards", strings.ToUpper(name))
		}
		return f, nil
	case *ast.AggregateFuncExpr:
		return c.agg(x)
	case *ast.ColumnNameExpr:
		return c.column(x)
	}
	return nil, errUnsupported("this expression after merging shards (%s)", exprText(e))
}

// StringNumber is MySQL's double of a string: its longest prefix that is
// a number after leading spaces, 0 when there is none.
func StringNumber(s string) float64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	end := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			end = j
		}
	}
	f, err := strconv.ParseFloat(s[start:end], 64)
	if err != nil { // out of range: ParseFloat gives ±Inf
		return math.Copysign(math.MaxFloat64, f)
	}
	return f
}

// StringNum is a string in an expression: its number (StringNumber) for
// arithmetic and for comparing with numbers, its text to show.
func StringNum(s string) Num {
	return Num{Float: true, F: StringNumber(s), IsStr: true, Str: s}
}

// compileAll compiles each expression.
func (c *exprCompiler) compileAll(es ...ast.ExprNode) ([]Expr, error) {
	out := make([]Expr, len(es))
	for i, e := range es {
		var err error
		if out[i], err = c.compile(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ifOf compiles IF(cond, a, b) and NULLIF(a, b) as CASE.
func (c *exprCompiler) ifOf(x *ast.FuncCallExpr) (Expr, error) {
	name := strings.ToUpper(x.FnName.L)
	if name == "IF" && len(x.Args) != 3 || name == "NULLIF" && len(x.Args) != 2 {
		return nil, errUnsupported("%s() with these arguments across shards", name)
	}
	args, err := c.compileAll(x.Args...)
	if err != nil {
		return nil, err
	}
	if name == "NULLIF" {
		return &caseExpr{whens: []Expr{&binExpr{op: opcode.EQ, l: args[0], r: args[1]}}, thens: []Expr{&constExpr{null}}, orElse: args[0]}, nil
	}
	return &caseExpr{whens: args[:1], thens: args[1:2], orElse: args[2]}, nil
}

// caseOf compiles CASE [value] WHEN ... THEN ... [ELSE ...] END.
func (c *exprCompiler) caseOf(x *ast.CaseExpr) (Expr, error) {
	ce := &caseExpr{}
	var err error
	if x.Value != nil {
		if ce.value, err = c.compile(x.Value); err != nil {
			return nil, err
		}
	}
	for _, w := range x.WhenClauses {
		pair, err := c.compileAll(w.Expr, w.Result)
		if err != nil {
			return nil, err
		}
		ce.whens, ce.thens = append(ce.whens, pair[0]), append(ce.thens, pair[1])
	}
	if x.ElseClause != nil {
		if ce.orElse, err = c.compile(x.ElseClause); err != nil {
			return nil, err
		}
	}
	return ce, nil
}

// ComparesStrings reports whether e compares two values that may be
// strings (isString says which merged columns are): MySQL compares those
// by their collation, which the proxy does not. A string and a number
// compare as doubles, as the proxy does.
func ComparesStrings(e Expr, isString func(Col) bool) bool {
	may := func(x Expr) bool { return mayBeString(x, isString) }
	switch x := e.(type) {
	case *binExpr:
		switch x.op {
		case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE, opcode.NullEQ:
			if may(x.l) && may(x.r) {
				return true
			}
		}
		return ComparesStrings(x.l, isString) || ComparesStrings(x.r, isString)
	case *unaryExpr:
		return ComparesStrings(x.e, isString)
	case *isNullExpr:
		return ComparesStrings(x.e, isString)
	case *funcExpr:
		if x.name == "greatest" || x.name == "least" {
			// With a string among them MySQL compares them all as strings.
			if slices.ContainsFunc(x.args, may) {
				return true
			}
		}
		return slices.ContainsFunc(x.args, func(a Expr) bool { return ComparesStrings(a, isString) })
	case *caseExpr:
		if x.value != nil && may(x.value) && slices.ContainsFunc(x.whens, may) {
			return true
		}
		for _, list := range [][]Expr{{x.value, x.orElse}, x.whens, x.thens} {
			for _, a := range list {
				if a != nil && ComparesStrings(a, isString) {
					return true
				}
			}
		}
	}
	return false
}

// mayBeString reports whether e's value may be a string.
func mayBeString(e Expr, isString func(Col) bool) bool {
	may := func(x Expr) bool { return x != nil && mayBeString(x, isString) }
	switch x := e.(type) {
	case *colExpr:
		return isString(x.col)
	case *constExpr:
		return x.v.IsStr
	case *caseExpr:
		return slices.ContainsFunc(x.thens, may) || may(x.orElse)
	case *funcExpr:
		switch x.name {
		case "ifnull", "coalesce", "greatest", "least":
			return slices.ContainsFunc(x.args, may)
		}
	}
	return false
}

// numOf converts a literal.
func numOf(v any) (Num, bool) {
	switch x := v.(type) {
	case int64:
		return exact(new(big.Rat).SetInt64(x), 0), true
	case uint64:
		return exact(new(big.Rat).SetUint64(x), 0), true
	case float64:
		return approx(x), true
	case *test_driver.MyDecimal:
		s := x.String()
		r, ok := new(big.Rat).SetString(s)
		scale := 0
		if i := strings.IndexByte(s, '.'); i >= 0 {
			scale = len(s) - i - 1
		}
		return exact(r, scale), ok
	}
	return Num{}, false
}

type pendingAgg struct {
	f                 AggFunc
	col, wt, sum, cnt int
}

func (p *pendingAgg) resolve(m *merger) {
	p.f.Col = m.helperCol(p.col)
	if p.wt >= 0 {
		p.f.Weight, p.f.HasWeight = m.helperCol(p.wt), true
	}
	if p.sum >= 0 {
		p.f.Sum, p.f.Count = m.helperCol(p.sum), m.helperCol(p.cnt)
	}
}

// havingCompiler compiles HAVING, ORDER BY and select-list expressions
// over merged groups; aggregates the SELECT list lacks become helpers.
type havingCompiler struct {
	b     *builder
	sel   *ast.SelectStmt
	m     *merger
	agg   *Aggregate
	funcs []*pendingAgg
	// visible is how many SELECT fields the client sees.
	visible int
	// afterSelect: compiling HAVING, which reads the SELECT list's values.
	afterSelect bool
}

func (c *havingCompiler) compile(e ast.ExprNode) (Expr, error) {
	ec := &exprCompiler{agg: c.value, column: c.column, divScale: c.b.env.DivPrecision}
	if c.afterSelect {
		ec.field = c.field
	}
	return ec.compile(e)
}

// value is an aggregate's value in an expression: AVG from its SUM and
// COUNT, the value one server computes, not the one rounded to AVG's
// scale that it shows (avgExpr), unless the groups are Stored; the others
// their column (aggregate).
func (c *havingCompiler) value(x *ast.AggregateFuncExpr) (Expr, error) {
	if !strings.EqualFold(x.F, "avg") || c.agg.Stored {
		return c.aggregate(x)
	}
	sum, err := c.aggregate(&ast.AggregateFuncExpr{F: "sum", Args: x.Args, Distinct: x.Distinct})
	if err != nil {
		return nil, err
	}
	cnt, err := c.aggregate(&ast.AggregateFuncExpr{F: "count", Args: x.Args, Distinct: x.Distinct})
	if err != nil {
		return nil, err
	}
	return &avgExpr{sum: sum, cnt: cnt, divScale: c.b.env.DivPrecision}, nil
}

// aggregate finds an aggregate's column among the visible columns, or
// adds it.
func (c *havingCompiler) aggregate(x *ast.AggregateFuncExpr) (Expr, error) {
	text := exprText(x)
	for i := 0; i < c.visible; i++ {
		f := c.sel.Fields.Fields[i]
		if f.Expr != nil && exprText(f.Expr) == text {
			return &colExpr{col: Col{Index: i}, helper: -1}, nil
		}
	}
	for _, p := range c.funcs {
		if exprText(fieldExpr(c.sel, p.col)) == text {
			return &colExpr{helper: p.col}, nil
		}
	}
	if x.Distinct && (len(x.Args) != 1 || !c.b.isLocalColumn(x.Args[0])) {
		return nil, errUnsupported("DISTINCT aggregates in expressions across shards unless on a sharding column")
	}
	p := &pendingAgg{col: c.m.addHelper(c.sel, x), wt: -1, sum: -1, cnt: -1}
	switch strings.ToLower(x.F) {
	case "count":
		p.f.Kind = AggCount
	case "sum":
		p.f.Kind = AggSum
	case "min", "max":
		p.f.Kind = AggMin
		if strings.EqualFold(x.F, "max") {
			p.f.Kind = AggMax
		}
		p.wt = c.m.addHelper(c.sel, weightString(x))
	case "avg":
		p.f.Kind = AggAvg
		p.sum = c.m.addHelper(c.sel, &ast.AggregateFuncExpr{F: "sum", Args: x.Args, Distinct: x.Distinct})
		p.cnt = c.m.addHelper(c.sel, &ast.AggregateFuncExpr{F: "count", Args: x.Args, Distinct: x.Distinct})
	default:
		return nil, errUnsupported("%s() in expressions across shards", strings.ToUpper(x.F))
	}
	c.funcs = append(c.funcs, p)
	return &colExpr{helper: p.col}, nil
}

// field finds e among the visible SELECT fields.
func (c *havingCompiler) field(e ast.ExprNode) Expr {
	text := exprText(e)
	for i := 0; i < c.visible; i++ {
		if f := c.sel.Fields.Fields[i]; f.Expr != nil && exprText(f.Expr) == text {
			return &colExpr{col: Col{Index: i}, helper: -1}
		}
	}
	return nil
}

// column resolves a column: a SELECT alias or a selected expression.
func (c *havingCompiler) column(x *ast.ColumnNameExpr) (Expr, error) {
	for i := 0; i < c.visible; i++ {
		f := c.sel.Fields.Fields[i]
		if x.Name.Table.O == "" && f.AsName.O != "" && strings.EqualFold(f.AsName.O, x.Name.Name.O) {
			return &colExpr{col: Col{Index: i}, helper: -1}, nil
		}
	}
	if f := c.field(x); f != nil {
		return f, nil
	}
	return nil, errUnsupported("%s in an expression after merging groups across shards unless it is in the SELECT list", exprText(x))
}
