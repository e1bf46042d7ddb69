package router

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// Counting a derived table across shards. ORMs and pagers count a query's
// rows by wrapping it: SELECT COUNT(*) FROM (SELECT DISTINCT ...) t
// (Django, Rails, jOOQ), SELECT count(0) FROM (...) tmp_count (MyBatis
// PageHelper). Run per shard, a derived table with GROUP BY, DISTINCT or
// LIMIT would give each shard's own groups; so the derived table runs
// once, planned and merged as the statement it is, and the proxy counts
// its merged rows.

// countedDerived returns the derived table of sel when sel only counts
// its rows: SELECT COUNT(*) [, COUNT(1) ...] FROM (...) [AS] t [LIMIT n],
// or WITH t AS (...) SELECT COUNT(*) FROM t; each COUNT of a star or a
// constant that is not NULL, nothing else.
func countedDerived(sel *ast.SelectStmt) (ast.ResultSetNode, bool) {
	if !oneRowOfAggregates(sel) || sel.Where != nil {
		return nil, false
	}
	j := sel.From.TableRefs
	if j == nil || j.Right != nil {
		return nil, false
	}
	ts, ok := j.Left.(*ast.TableSource)
	if !ok {
		return nil, false
	}
	inner := ts.Source
	if w := sel.With; w != nil {
		// The one WITH query, read here: its body is the derived table.
		tn, ok := ts.Source.(*ast.TableName)
		if !ok || w.IsRecursive || len(w.CTEs) != 1 || tn.Schema.O != "" || !strings.EqualFold(tn.Name.O, w.CTEs[0].Name.O) ||
			len(w.CTEs[0].ColNameList) > 0 {
			return nil, false
		}
		inner = w.CTEs[0].Query.Query
	}
	switch inner.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
	default:
		return nil, false
	}
	for _, f := range sel.Fields.Fields {
		fn, ok := unparen(f.Expr).(*ast.AggregateFuncExpr)
		if f.WildCard != nil || !ok || !strings.EqualFold(fn.F, ast.AggFuncCount) || fn.Distinct || len(fn.Args) != 1 {
			return nil, false
		}
		if v, ok := fn.Args[0].(ast.ValueExpr); !ok || v.GetValue() == nil {
			return nil, false
		}
	}
	return inner, true
}

// oneRowOfAggregates: a plain SELECT ... FROM whose one row is its select
// list (no GROUP BY, HAVING, ORDER BY, window, lock, INTO, DISTINCT or
// SQL_CALC_FOUND_ROWS), which the caller checks holds only aggregates.
func oneRowOfAggregates(sel *ast.SelectStmt) bool {
	return sel.Kind == ast.SelectStmtKindSelect && sel.From != nil && sel.GroupBy == nil && sel.Having == nil &&
		sel.OrderBy == nil && sel.WindowSpecs == nil && sel.LockInfo == nil && sel.SelectIntoOpt == nil && !sel.Distinct &&
		(sel.SelectStmtOpts == nil || !sel.SelectStmtOpts.CalcFoundRows)
}

// derivedRefused reports whether a derived table (or WITH query read
// once) would give other rows run per shard than run once.
func (b *builder) derivedRefused(inner ast.ResultSetNode) bool {
	switch x := inner.(type) {
	case *ast.SelectStmt:
		return b.checkDerivedSelect(x) != nil || b.checkDerived(x) != nil
	case *ast.SetOprStmt:
		return b.checkDerivedUnion(x) != nil
	}
	return false
}

// distinctTuples returns, for SELECT COUNT(DISTINCT a, b) FROM ... WHERE w
// (the select list that one COUNT, maybe repeated, of two expressions or
// more; no GROUP BY), the SELECT of the tuples it counts: SELECT DISTINCT
// a, b FROM ... WHERE (w) AND a IS NOT NULL AND b IS NOT NULL. The merge
// knows one distinct value a column, not a tuple: the proxy counts the
// merged rows of that SELECT instead.
func distinctTuples(sel *ast.SelectStmt) (*ast.SelectStmt, bool) {
	if !oneRowOfAggregates(sel) || sel.With != nil {
		return nil, false
	}
	var args []ast.ExprNode
	text := ""
	for _, f := range sel.Fields.Fields {
		fn, ok := unparen(f.Expr).(*ast.AggregateFuncExpr)
		if f.WildCard != nil || !ok || !strings.EqualFold(fn.F, ast.AggFuncCount) || !fn.Distinct || len(fn.Args) < 2 {
			return nil, false
		}
		t := ""
		for _, a := range fn.Args {
			t += exprText(a) + ","
		}
		if args != nil && t != text {
			return nil, false
		}
		args, text = fn.Args, t
	}
	where := sel.Where
	if where != nil {
		where = &ast.ParenthesesExpr{Expr: where}
	}
	fields := make([]*ast.SelectField, len(args))
	for i, a := range args {
		if hasAggregate(a) {
			return nil, false
		}
		fields[i] = &ast.SelectField{Expr: a, AsName: ast.NewCIStr(fmt.Sprintf("__sg_%d", i))}
		notNull := &ast.IsNullExpr{Expr: a, Not: true}
		if where == nil {
			where = notNull
		} else {
			where = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: where, R: notNull}
		}
	}
	return &ast.SelectStmt{
		SelectStmtOpts: sel.SelectStmtOpts, Kind: ast.SelectStmtKindSelect, Distinct: true,
		From: sel.From, Where: where, Fields: &ast.FieldList{Fields: fields}, TableHints: sel.TableHints,
	}, true
}

// planCountRows plans sel, which counts the rows of the derived table
// inner: inner is planned as a statement of its own, under CountRows.
func (b *builder) planCountRows(sel *ast.SelectStmt, inner ast.ResultSetNode) (Primitive, error) {
	if err := derivedColumnsUnique(inner); err != nil {
		return nil, err
	}
	sub := &builder{env: b.env, stmt: inner.(ast.StmtNode)}
	if err := sub.resolve(); err != nil {
		return nil, err
	}
	var in Primitive
	var err error
	switch x := inner.(type) {
	case *ast.SelectStmt:
		if x.Limit == nil {
			x.OrderBy = nil // (without LIMIT a derived table's order means nothing)
		}
		in, err = sub.planSelect(x)
	case *ast.SetOprStmt:
		if x.Limit == nil {
			x.OrderBy = nil
		}
		in, err = sub.planUnion(x)
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, len(sel.Fields.Fields))
	for i, f := range sel.Fields.Fields {
		names[i] = f.AsName.O // (KeepFieldNames gave each its text)
	}
	var p Primitive = &CountRows{Names: names, Input: in}
	if sel.Limit != nil {
		offset, count, err := limitValues(sel.Limit)
		if err != nil {
			return nil, err
		}
		p = &Limit{Offset: offset, Count: count, Input: p}
	}
	return p, nil
}

// derivedColumnsUnique fails as the server does (1060) when a derived
// table would have two columns of one name. A star beside other columns
// or over several tables could hide such a pair: refused.
func derivedColumnsUnique(inner ast.ResultSetNode) error {
	first := firstSelect(inner)
	if first == nil {
		return nil
	}
	dup, hidden := duplicateColumn(first)
	switch {
	case hidden:
		return errUnsupported("a derived table counted across shards whose * may name a column twice: list its columns")
	case dup != "":
		return mysql.NewError(mysql.ER_DUP_FIELDNAME, fmt.Sprintf(mysql.MySQLErrName[mysql.ER_DUP_FIELDNAME], dup))
	}
	return nil
}

// firstSelect is the SELECT that names a query's columns: itself, or a
// set operation's first.
func firstSelect(q ast.Node) *ast.SelectStmt {
	for {
		switch y := q.(type) {
		case *ast.SelectStmt:
			return y
		case *ast.SetOprStmt:
			if y.SelectList == nil || len(y.SelectList.Selects) == 0 {
				return nil
			}
			q = y.SelectList.Selects[0]
		case *ast.SetOprSelectList:
			if len(y.Selects) == 0 {
				return nil
			}
			q = y.Selects[0]
		default:
			return nil
		}
	}
}

// duplicateColumn returns a column name sel gives twice (its fields named
// by KeepFieldNames), and whether a star beside other columns or over
// several tables may hide one.
func duplicateColumn(sel *ast.SelectStmt) (dup string, hidden bool) {
	fields := sel.Fields.Fields
	seen := map[string]bool{}
	for _, f := range fields {
		name := f.AsName.O
		switch {
		case f.WildCard != nil:
			hidden = hidden || len(fields) > 1 || sel.From == nil || sel.From.TableRefs.Right != nil
			continue
		case name == "":
			if c, ok := unparen(f.Expr).(*ast.ColumnNameExpr); ok {
				name = c.Name.Name.O
			}
		}
		if name == "" {
			continue
		}
		key := ast.NewCIStr(name).L
		if seen[key] && dup == "" {
			dup = name
		}
		seen[key] = true
	}
	return dup, hidden
}

// DerivedDuplicate is the server's error (1060) for a derived table or
// WITH query of stmt that names a column twice, which a refusal must not
// hide: nil when none does (or a star may). (Where the proxy can run the
// statement's parts, the servers give their errors in their order: 1055
// of ONLY_FULL_GROUP_BY before 1060.)
func DerivedDuplicate(stmt ast.Node) error {
	var err error
	check := func(q ast.Node) {
		if sel := firstSelect(q); sel != nil && err == nil {
			if dup, _ := duplicateColumn(sel); dup != "" {
				err = mysql.NewError(mysql.ER_DUP_FIELDNAME, fmt.Sprintf(mysql.MySQLErrName[mysql.ER_DUP_FIELDNAME], dup))
			}
		}
	}
	stmt.Accept(visitFunc(func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.TableSource:
			switch x.Source.(type) {
			case *ast.SelectStmt, *ast.SetOprStmt:
				check(x.Source)
			}
		case *ast.CommonTableExpression:
			if len(x.ColNameList) == 0 && x.Query != nil {
				check(x.Query.Query)
			}
		}
		return err == nil
	}))
	return err
}
