package router

import (
	"math/big"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Expr is a condition the proxy evaluates itself: HAVING after groups were
// merged across shards. Values are numbers (exact, as big.Rat) or NULL;
// strings are refused at planning because their comparison depends on a
// collation only the servers apply.
type Expr interface {
	Eval(get func(Col) (*big.Rat, bool)) (*big.Rat, bool)
	resolve(m *merger)
}

type constExpr struct{ v *big.Rat } // nil v: NULL

func (c *constExpr) Eval(func(Col) (*big.Rat, bool)) (*big.Rat, bool) { return c.v, c.v != nil }
func (c *constExpr) resolve(*merger)                                  {}

type colExpr struct {
	col    Col
	helper int // helper ordinal, -1 for a visible column
}

func (c *colExpr) Eval(get func(Col) (*big.Rat, bool)) (*big.Rat, bool) { return get(c.col) }
func (c *colExpr) resolve(m *merger) {
	if c.helper >= 0 {
		c.col = m.helperCol(c.helper)
	}
}

type binExpr struct {
	op   opcode.Op
	l, r Expr
}

var one = big.NewRat(1, 1)
var zero = new(big.Rat)

func boolRat(b bool) (*big.Rat, bool) {
	if b {
		return one, true
	}
	return zero, true
}

func (e *binExpr) Eval(get func(Col) (*big.Rat, bool)) (*big.Rat, bool) {
	l, lok := e.l.Eval(get)
	switch e.op {
	case opcode.LogicAnd:
		if lok && l.Sign() == 0 {
			return zero, true
		}
		r, rok := e.r.Eval(get)
		if rok && r.Sign() == 0 {
			return zero, true
		}
		if !lok || !rok {
			return nil, false
		}
		return one, true
	case opcode.LogicOr:
		if lok && l.Sign() != 0 {
			return one, true
		}
		r, rok := e.r.Eval(get)
		if rok && r.Sign() != 0 {
			return one, true
		}
		if !lok || !rok {
			return nil, false
		}
		return zero, true
	}
	r, rok := e.r.Eval(get)
	if e.op == opcode.NullEQ {
		if !lok || !rok {
			return boolRat(!lok && !rok)
		}
		return boolRat(l.Cmp(r) == 0)
	}
	if !lok || !rok {
		return nil, false
	}
	switch e.op {
	case opcode.EQ:
		return boolRat(l.Cmp(r) == 0)
	case opcode.NE:
		return boolRat(l.Cmp(r) != 0)
	case opcode.LT:
		return boolRat(l.Cmp(r) < 0)
	case opcode.LE:
		return boolRat(l.Cmp(r) <= 0)
	case opcode.GT:
		return boolRat(l.Cmp(r) > 0)
	case opcode.GE:
		return boolRat(l.Cmp(r) >= 0)
	case opcode.Plus:
		return new(big.Rat).Add(l, r), true
	case opcode.Minus:
		return new(big.Rat).Sub(l, r), true
	case opcode.Mul:
		return new(big.Rat).Mul(l, r), true
	case opcode.Div:
		if r.Sign() == 0 {
			return nil, false
		}
		return new(big.Rat).Quo(l, r), true
	}
	return nil, false
}

func (e *binExpr) resolve(m *merger) { e.l.resolve(m); e.r.resolve(m) }

type notExpr struct{ e Expr }

func (n *notExpr) Eval(get func(Col) (*big.Rat, bool)) (*big.Rat, bool) {
	v, ok := n.e.Eval(get)
	if !ok {
		return nil, false
	}
	return boolRat(v.Sign() == 0)
}
func (n *notExpr) resolve(m *merger) { n.e.resolve(m) }

type negExpr struct{ e Expr }

func (n *negExpr) Eval(get func(Col) (*big.Rat, bool)) (*big.Rat, bool) {
	v, ok := n.e.Eval(get)
	if !ok {
		return nil, false
	}
	return new(big.Rat).Neg(v), true
}
func (n *negExpr) resolve(m *merger) { n.e.resolve(m) }

type isNullExpr struct {
	e   Expr
	not bool
}

func (n *isNullExpr) Eval(get func(Col) (*big.Rat, bool)) (*big.Rat, bool) {
	_, ok := n.e.Eval(get)
	return boolRat(ok == n.not)
}
func (n *isNullExpr) resolve(m *merger) { n.e.resolve(m) }

// planHaving compiles HAVING into an Expr over merged columns; aggregates
// it names that the SELECT list lacks become helper columns, merged too.
func (b *builder) planHaving(sel *ast.SelectStmt, m *merger, agg *Aggregate) error {
	c := &havingCompiler{b: b, sel: sel, m: m, agg: agg}
	e, err := c.compile(sel.Having.Expr)
	if err != nil {
		return err
	}
	e.resolve(m)
	for _, f := range c.funcs {
		f.resolve(m)
		agg.Funcs = append(agg.Funcs, f.f)
	}
	m.having = e
	m.havingText = exprText(sel.Having.Expr)
	sel.Having = nil
	return nil
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

type havingCompiler struct {
	b     *builder
	sel   *ast.SelectStmt
	m     *merger
	agg   *Aggregate
	funcs []*pendingAgg
}

func (c *havingCompiler) compile(e ast.ExprNode) (Expr, error) {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return c.compile(x.Expr)
	case *test_driver.ValueExpr:
		v := x.Datum.GetValue()
		if v == nil {
			return &constExpr{}, nil
		}
		r, ok := ratOf(v)
		if !ok {
			return nil, errUnsupported("HAVING with a non-numeric value across shards (string comparisons depend on the collation)")
		}
		return &constExpr{v: r}, nil
	case *ast.BinaryOperationExpr:
		l, err := c.compile(x.L)
		if err != nil {
			return nil, err
		}
		r, err := c.compile(x.R)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case opcode.LogicAnd, opcode.LogicOr, opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE,
			opcode.NullEQ, opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div:
			return &binExpr{op: x.Op, l: l, r: r}, nil
		}
	case *ast.UnaryOperationExpr:
		in, err := c.compile(x.V)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case opcode.Not, opcode.Not2:
			return &notExpr{in}, nil
		case opcode.Minus:
			return &negExpr{in}, nil
		case opcode.Plus:
			return in, nil
		}
	case *ast.IsNullExpr:
		in, err := c.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		return &isNullExpr{e: in, not: x.Not}, nil
	case *ast.BetweenExpr:
		v, err := c.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		lo, err := c.compile(x.Left)
		if err != nil {
			return nil, err
		}
		hi, err := c.compile(x.Right)
		if err != nil {
			return nil, err
		}
		var in Expr = &binExpr{op: opcode.LogicAnd, l: &binExpr{op: opcode.GE, l: v, r: lo}, r: &binExpr{op: opcode.LE, l: v, r: hi}}
		if x.Not {
			in = &notExpr{in}
		}
		return in, nil
	case *ast.AggregateFuncExpr:
		return c.aggregate(x)
	case *ast.ColumnNameExpr:
		return c.column(x)
	}
	return nil, errUnsupported("this HAVING condition across shards (%s)", exprText(e))
}

// aggregate finds an aggregate among the visible columns, or adds it.
func (c *havingCompiler) aggregate(x *ast.AggregateFuncExpr) (Expr, error) {
	text := exprText(x)
	for i, f := range c.sel.Fields.Fields {
		if i >= len(c.sel.Fields.Fields)-c.m.helpers {
			break
		}
		if f.Expr != nil && exprText(f.Expr) == text {
			return &colExpr{col: Col{Index: i}, helper: -1}, nil
		}
	}
	if x.Distinct {
		return nil, errUnsupported("DISTINCT aggregates in HAVING across shards")
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
	case "avg":
		p.f.Kind = AggAvg
		p.sum = c.m.addHelper(c.sel, &ast.AggregateFuncExpr{F: "sum", Args: x.Args})
		p.cnt = c.m.addHelper(c.sel, &ast.AggregateFuncExpr{F: "count", Args: x.Args})
	default:
		return nil, errUnsupported("%s() in HAVING across shards", strings.ToUpper(x.F))
	}
	c.funcs = append(c.funcs, p)
	return &colExpr{helper: p.col}, nil
}

// column resolves a HAVING column: a SELECT alias or a grouped column.
func (c *havingCompiler) column(x *ast.ColumnNameExpr) (Expr, error) {
	visible := len(c.sel.Fields.Fields) - c.m.helpers
	for i := 0; i < visible; i++ {
		f := c.sel.Fields.Fields[i]
		if x.Name.Table.O == "" && f.AsName.O != "" && strings.EqualFold(f.AsName.O, x.Name.Name.O) {
			return &colExpr{col: Col{Index: i}, helper: -1}, nil
		}
	}
	text := exprText(x)
	for i := 0; i < visible; i++ {
		if f := c.sel.Fields.Fields[i]; f.Expr != nil && exprText(f.Expr) == text {
			return &colExpr{col: Col{Index: i}, helper: -1}, nil
		}
	}
	return nil, errUnsupported("HAVING on %s across shards unless it is in the SELECT list", text)
}

func ratOf(v any) (*big.Rat, bool) {
	switch x := v.(type) {
	case int64:
		return new(big.Rat).SetInt64(x), true
	case uint64:
		return new(big.Rat).SetUint64(x), true
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(x) == nil {
			return nil, false
		}
		return r, true
	case *test_driver.MyDecimal:
		r, ok := new(big.Rat).SetString(x.String())
		return r, ok
	}
	return nil, false
}
