package router

import (
	"math/bits"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/shardrules"
)

// shardSet is a set of shard indexes.
type shardSet []uint64

func fullSet(n int) shardSet {
	s := make(shardSet, (n+63)/64)
	for i := 0; i < n; i++ {
		s[i/64] |= 1 << (i % 64)
	}
	return s
}

func setOf(n int, shards []int) shardSet {
	s := make(shardSet, (n+63)/64)
	for _, i := range shards {
		if i >= 0 && i < n {
			s[i/64] |= 1 << (i % 64)
		}
	}
	return s
}

func (s shardSet) and(o shardSet) shardSet {
	out := make(shardSet, len(s))
	for i := range s {
		out[i] = s[i] & o[i]
	}
	return out
}

func (s shardSet) or(o shardSet) shardSet {
	out := make(shardSet, len(s))
	for i := range s {
		out[i] = s[i] | o[i]
	}
	return out
}

func (s shardSet) list() []int {
	var out []int
	for w, word := range s {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			out = append(out, w*64+b)
			word &^= 1 << b
		}
	}
	return out
}

func (s shardSet) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// restriction maps a table reference (index into the statement's refs) to
// the shards a condition allows for it. A reference that is absent is not
// restricted.
type restriction map[int]shardSet

// conds works out which shards conditions allow, per table reference.
type conds struct {
	b *builder
	// scope limits column resolution to the outer statement.
	scope int
}

// restrict analyses a condition: AND intersects, OR unites (only for
// references restricted on both sides), anything else restricts nothing.
func (c *conds) restrict(e ast.ExprNode) restriction {
	switch x := e.(type) {
	case nil:
		return nil
	case *ast.ParenthesesExpr:
		return c.restrict(x.Expr)
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd:
			l, r := c.restrict(x.L), c.restrict(x.R)
			for k, v := range r {
				if lv, ok := l[k]; ok {
					l[k] = lv.and(v)
				} else {
					if l == nil {
						l = restriction{}
					}
					l[k] = v
				}
			}
			return l
		case opcode.LogicOr:
			l, r := c.restrict(x.L), c.restrict(x.R)
			out := restriction{}
			for k, v := range l {
				if rv, ok := r[k]; ok {
					out[k] = v.or(rv)
				}
			}
			return out
		case opcode.EQ, opcode.NullEQ:
			if ref, col, ok := c.column(x.L); ok {
				if v, ok := c.b.literal(x.R, true, notBound); ok {
					return c.point(ref, col, []shardrules.Value{v})
				}
			}
			if ref, col, ok := c.column(x.R); ok {
				if v, ok := c.b.literal(x.L, true, notBound); ok {
					return c.point(ref, col, []shardrules.Value{v})
				}
			}
		case opcode.LT, opcode.LE, opcode.GT, opcode.GE:
			op := x.Op
			ref, col, ok := c.column(x.L)
			other := x.R
			if !ok {
				if ref, col, ok = c.column(x.R); !ok {
					return nil
				}
				other = x.L
				op = flip(op)
			}
			v, ok := c.b.literal(other, false, notBound)
			if !ok {
				return nil
			}
			switch op {
			case opcode.LT:
				return c.rangeOf(ref, col, nil, &v, false, false)
			case opcode.LE:
				return c.rangeOf(ref, col, nil, &v, false, true)
			case opcode.GT:
				return c.rangeOf(ref, col, &v, nil, false, false)
			default:
				return c.rangeOf(ref, col, &v, nil, true, false)
			}
		}
	case *ast.PatternInExpr:
		if x.Not || x.Sel != nil {
			return nil
		}
		ref, col, ok := c.column(x.Expr)
		if !ok {
			return nil
		}
		vals := make([]shardrules.Value, 0, len(x.List))
		for _, item := range x.List {
			v, ok := c.b.literal(item, len(x.List) == 1, notBound)
			if !ok {
				return nil
			}
			vals = append(vals, v)
		}
		return c.point(ref, col, vals)
	case *ast.BetweenExpr:
		if x.Not {
			return nil
		}
		ref, col, ok := c.column(x.Expr)
		if !ok {
			return nil
		}
		lo, ok1 := c.b.literal(x.Left, false, lowerBound)
		hi, ok2 := c.b.literal(x.Right, false, upperBound)
		if !ok1 || !ok2 {
			return nil
		}
		return c.rangeOf(ref, col, &lo, &hi, true, true)
	case *ast.IsNullExpr:
		if x.Not {
			return nil
		}
		if ref, col, ok := c.column(x.Expr); ok {
			c.b.constPlaced = true
			return c.point(ref, col, []shardrules.Value{shardrules.NullValue()})
		}
	}
	return nil
}

func flip(op opcode.Op) opcode.Op {
	switch op {
	case opcode.LT:
		return opcode.GT
	case opcode.LE:
		return opcode.GE
	case opcode.GT:
		return opcode.LT
	}
	return opcode.LE
}

// column resolves e to a table reference whose routing column it is.
func (c *conds) column(e ast.ExprNode) (ref int, col string, ok bool) {
	if p, isParen := e.(*ast.ParenthesesExpr); isParen {
		return c.column(p.Expr)
	}
	cn, isCol := e.(*ast.ColumnNameExpr)
	if !isCol {
		return 0, "", false
	}
	ref = c.b.resolveColumn(cn.Name, c.scope)
	if ref < 0 {
		return 0, "", false
	}
	t := c.b.tables[ref]
	rc := t.routingColumn()
	if rc == "" || !strings.EqualFold(rc, cn.Name.Name.O) {
		return 0, "", false
	}
	return ref, rc, true
}

func (c *conds) point(ref int, _ string, vals []shardrules.Value) restriction {
	t := c.b.tables[ref]
	var shards []int
	for _, v := range vals {
		s, err := c.b.shardOf(t, v, false)
		if err != nil {
			// A value the algorithm cannot place (42.5 or '7abc' for an
			// integer column, a string whose place depends on the
			// collation) may still equal stored values as the server
			// compares them (MariaDB finds user_id 43 for user_id = 42.5
			// through an index): look on every shard.
			c.b.unplaced = true
			return nil
		}
		shards = append(shards, s)
	}
	return restriction{ref: setOf(t.rule.Shards, shards)}
}

func (c *conds) rangeOf(ref int, _ string, lo, hi *shardrules.Value, loIncl, hiIncl bool) restriction {
	t := c.b.tables[ref]
	shards, ok := t.algorithm().Range(lo, hi, loIncl, hiIncl)
	if !ok {
		return nil
	}
	return restriction{ref: setOf(t.rule.Shards, shards)}
}

// Constant reports whether the router reads e as a sharding value itself
// (a literal, a marker, a negated one): others are computed first.
func Constant(e ast.ExprNode) bool {
	_, ok := literal(e)
	return ok
}

// literal turns a constant expression into a sharding value.
func literal(e ast.ExprNode) (shardrules.Value, bool) {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return literal(x.Expr)
	case ast.ValueExpr:
		// A literal, or a prepared statement's parameter bound for this
		// execution.
		return valueOf(x.GetValue())
	case *ast.UnaryOperationExpr:
		if x.Op != opcode.Minus {
			return shardrules.Value{}, false
		}
		if v, ok := x.V.(ast.ValueExpr); ok {
			if n, ok := negate(v.GetValue()); ok {
				return valueOf(n)
			}
		}
	}
	return shardrules.Value{}, false
}

// negate applies a unary minus to a numeric literal's value.
func negate(v any) (any, bool) {
	switch x := v.(type) {
	case int64:
		return -x, true
	case uint64:
		if x <= 1<<63 {
			return -int64(x), true
		}
	case float64:
		return -x, true
	case *test_driver.MyDecimal:
		s := x.String()
		if strings.HasPrefix(s, "-") {
			return shardrules.DecimalValue(s[1:]), true
		}
		return shardrules.DecimalValue("-" + s), true
	}
	return nil, false
}

func valueOf(v any) (shardrules.Value, bool) {
	switch x := v.(type) {
	case nil:
		return shardrules.NullValue(), true
	case int64:
		return shardrules.IntValue(x), true
	case uint64:
		return shardrules.UintValue(x), true
	case float64:
		return shardrules.FloatValue(x), true
	case float32:
		return shardrules.FloatValue(float64(x)), true
	case string:
		return shardrules.StringValue(x), true
	case []byte:
		return shardrules.BytesValue(x), true
	case *test_driver.MyDecimal:
		return shardrules.DecimalValue(x.String()), true
	case shardrules.Value:
		return x, true
	case test_driver.BinaryLiteral:
		return shardrules.BytesValue([]byte(x)), true
	}
	return shardrules.Value{}, false
}

// colKey names a column of a table reference.
type colKey struct {
	ref int
	col string // lower case
}

// implied returns the equalities the conjuncts of exprs imply through
// equal columns: u.id = 7 AND u.id = o.user_id give o.user_id = 7, which
// places o (a join of a table with a sharded one on its key). Only exact
// numbers travel so: a string's equality depends on each comparison's
// collation, and a marker's placement would not follow a later value.
func (c *conds) implied(exprs []ast.ExprNode) []ast.ExprNode {
	type edge struct {
		a, b   colKey
		ea, eb *ast.ColumnNameExpr
	}
	var edges []edge
	var lits map[colKey]ast.ExprNode // made at the first number: most statements have none
	note := func(k colKey, v ast.ExprNode) {
		if lits == nil {
			lits = map[colKey]ast.ExprNode{}
		}
		lits[k] = v
	}
	var walk func(e ast.ExprNode)
	walk = func(e ast.ExprNode) {
		switch x := e.(type) {
		case *ast.ParenthesesExpr:
			walk(x.Expr)
		case *ast.BinaryOperationExpr:
			switch x.Op {
			case opcode.LogicAnd:
				walk(x.L)
				walk(x.R)
			case opcode.EQ:
				l, le, lok := c.anyColumn(x.L)
				r, re, rok := c.anyColumn(x.R)
				switch {
				case lok && rok:
					edges = append(edges, edge{l, r, le, re})
				case lok && exactNumber(x.R):
					note(l, x.R)
				case rok && exactNumber(x.L):
					note(r, x.L)
				}
			}
		}
	}
	for _, e := range exprs {
		walk(e)
	}
	if lits == nil || edges == nil {
		return nil
	}
	var out []ast.ExprNode
	for changed := true; changed; {
		changed = false
		for _, e := range edges {
			for _, d := range [2][2]colKey{{e.a, e.b}, {e.b, e.a}} {
				v, from := lits[d[0]]
				if _, has := lits[d[1]]; !from || has {
					continue
				}
				lits[d[1]] = v
				col := e.eb
				if d[1] == e.a {
					col = e.ea
				}
				out = append(out, &ast.BinaryOperationExpr{Op: opcode.EQ, L: col, R: v})
				changed = true
			}
		}
	}
	return out
}

// anyColumn resolves e to a column of a table reference.
func (c *conds) anyColumn(e ast.ExprNode) (colKey, *ast.ColumnNameExpr, bool) {
	cn, ok := unparen(e).(*ast.ColumnNameExpr)
	if !ok {
		return colKey{}, nil, false
	}
	ref := c.b.resolveColumn(cn.Name, c.scope)
	if ref < 0 {
		return colKey{}, nil, false
	}
	return colKey{ref, cn.Name.Name.L}, cn, true
}

// exactNumber reports an integer or decimal literal (not a marker).
func exactNumber(e ast.ExprNode) bool {
	e = unparen(e)
	if u, ok := e.(*ast.UnaryOperationExpr); ok && u.Op == opcode.Minus {
		e = unparen(u.V)
	}
	v, ok := e.(*test_driver.ValueExpr)
	if !ok {
		return false
	}
	switch v.Datum.GetValue().(type) {
	case int64, uint64, *test_driver.MyDecimal:
		return true
	}
	return false
}
