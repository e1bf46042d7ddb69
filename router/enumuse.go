package router

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// An ENUM or SET column read first comes back into the statement as a
// string literal. It then compares with strings as the column does (the
// server compares an ENUM with a string constant as strings, under the
// column's collation, which the literal keeps), but it sorts and groups
// by its text where the column sorts by its position, and as a number it
// is 0 where the column is its position. EnumUsesAsText reports whether
// the statement (its tables read first already replaced by their marks)
// uses column of d only where the column and its text behave alike: in
// the outer SELECT's list, with no ORDER BY, GROUP BY, HAVING or window
// there that could name it; IS NULL; compared with string literals (=,
// <>, <, IN, BETWEEN, LIKE); COUNT. An unqualified column of that name
// counts as d's.
func EnumUsesAsText(stmt ast.StmtNode, d *Derived, column string) bool {
	u := &enumUses{top: stmt, table: d.Name(), column: column, ok: true}
	stmt.Accept(u)
	return u.ok
}

// Name is the name the statement reads the table read first by.
func (d *Derived) Name() string {
	switch {
	case d.cte != nil:
		return d.cte.Name.L
	case d.alias != "":
		return d.alias
	case d.ts != nil:
		return d.ts.AsName.L
	}
	return ""
}

type enumUses struct {
	top           ast.StmtNode
	table, column string
	stack         []ast.Node
	ok            bool
}

func (u *enumUses) Enter(n ast.Node) (ast.Node, bool) {
	u.stack = append(u.stack, n)
	if f, isField := n.(*ast.SelectField); isField && f.WildCard != nil && u.ok {
		// A star gives the column too: only to the outer SELECT's list,
		// where nothing orders or groups it.
		u.ok = u.inTopList(len(u.stack) - 1)
	}
	if c, isCol := n.(*ast.ColumnNameExpr); isCol && u.ok && c.Name.Schema.L == "" &&
		(c.Name.Table.L == u.table || c.Name.Table.L == "") && c.Name.Name.L == u.column {
		u.ok = u.asText(len(u.stack) - 1)
	}
	return n, !u.ok
}

func (u *enumUses) Leave(n ast.Node) (ast.Node, bool) {
	u.stack = u.stack[:len(u.stack)-1]
	return n, true
}

// asText reports whether the reference at stack[i] is used alike as an
// ENUM and as its text.
func (u *enumUses) asText(i int) bool {
	ref := u.stack[i]
	for i--; i >= 0; i-- { // (parentheses change nothing)
		p, isParen := u.stack[i].(*ast.ParenthesesExpr)
		if !isParen {
			break
		}
		ref = p
	}
	if i < 0 {
		return false
	}
	switch p := u.stack[i].(type) {
	case *ast.SelectField:
		return u.inTopList(i)
	case *ast.IsNullExpr:
		return true
	case *ast.BinaryOperationExpr:
		switch p.Op {
		case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE, opcode.NullEQ:
			other := p.L
			if other == ref {
				other = p.R
			}
			return stringLiteral(other)
		}
	case *ast.PatternInExpr:
		if p.Expr != ref || p.Sel != nil {
			return false
		}
		for _, e := range p.List {
			if !stringLiteral(e) {
				return false
			}
		}
		return true
	case *ast.BetweenExpr:
		return p.Expr == ref && stringLiteral(p.Left) && stringLiteral(p.Right)
	case *ast.PatternLikeOrIlikeExpr:
		return p.Expr == ref
	case *ast.AggregateFuncExpr:
		return strings.EqualFold(p.F, ast.AggFuncCount)
	}
	return false
}

// inTopList reports whether the select field at stack[i] is in the outer
// SELECT's list, where nothing orders or groups it.
func (u *enumUses) inTopList(i int) bool {
	sel, isTop := u.top.(*ast.SelectStmt)
	return isTop && i == 2 && u.stack[0] == u.top && sel.OrderBy == nil && sel.GroupBy == nil &&
		sel.Having == nil && sel.WindowSpecs == nil && !hasWindow(sel)
}

// stringLiteral: a quoted string (not a number, a hex or bit literal, or
// a marker).
func stringLiteral(e ast.ExprNode) bool {
	v, ok := unparen(e).(*test_driver.ValueExpr)
	if !ok {
		return false
	}
	_, isString := v.Datum.GetValue().(string)
	return isString
}
