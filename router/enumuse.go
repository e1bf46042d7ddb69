package router

import (
	"slices"
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
	return enumUsesAsText(stmt, d, column, false)
}

// EnumSortedAsText is EnumUsesAsText for an ENUM column that
// EnumByPosition has made the statement sort as the column sorts: it may
// also be grouped (GROUP BY, PARTITION BY: equal labels are equal
// positions) and be in the outer SELECT's list however that is sorted.
func EnumSortedAsText(stmt ast.StmtNode, d *Derived, column string) bool {
	return enumUsesAsText(stmt, d, column, true)
}

func enumUsesAsText(stmt ast.StmtNode, d *Derived, column string, sorted bool) bool {
	u := &enumUses{top: stmt, table: d.Name(), column: column, sorted: sorted, ok: true}
	if sel, ok := stmt.(*ast.SelectStmt); ok && sorted {
		// Where the outer SELECT names the column's field by an alias, the
		// alias is the column too.
		for _, f := range sel.Fields.Fields {
			if f.AsName.L != "" && f.Expr != nil && u.is(f.Expr) {
				u.aliases = append(u.aliases, f.AsName.L)
			}
		}
	}
	stmt.Accept(u)
	return u.ok
}

// EnumByPosition rewrites stmt (its tables read first replaced by their
// marks) to sort column of d, an ENUM whose values come back as their
// text, as the column sorts: by its label's position in labels (written
// in the client's character set). Each ORDER BY item that is the column,
// or the position or alias of a field of its SELECT that is, in a
// SELECT, a window (but one framed by a RANGE offset, which wants a
// number) or GROUP_CONCAT, becomes IF(col IS NULL, NULL, FIELD(col,
// labels...)); a SELECT grouped by the column with no ORDER BY (MariaDB
// returns groups in order) gets that order written, but WITH ROLLUP, which
// takes no ORDER BY. What it leaves, EnumSortedAsText refuses.
func EnumByPosition(stmt ast.StmtNode, d *Derived, column string, labels []string) {
	stmt.Accept(&enumSort{table: d.Name(), column: column, labels: labels})
}

type enumSort struct {
	table, column string
	labels        []string
	selects       []*ast.SelectStmt // the SELECTs around the node visited
}

func (s *enumSort) Enter(n ast.Node) (ast.Node, bool) {
	var fields *ast.FieldList // (a window's ORDER BY may name a field's alias)
	if len(s.selects) > 0 {
		fields = s.selects[len(s.selects)-1].Fields
	}
	switch x := n.(type) {
	case *ast.SelectStmt:
		s.selects = append(s.selects, x)
		s.sel(x)
	case *ast.WindowFuncExpr:
		s.window(&x.Spec, fields)
	case *ast.AggregateFuncExpr:
		if x.Order != nil {
			s.order(x.Order.Items, nil)
		}
	}
	return n, false
}

func (s *enumSort) Leave(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*ast.SelectStmt); ok {
		s.selects = s.selects[:len(s.selects)-1]
	}
	return n, true
}

func (s *enumSort) is(e ast.ExprNode) bool { return namesColumn(e, s.table, s.column) }

// position is IF(col IS NULL, NULL, FIELD(col, labels...)): NULL first
// as the column's NULLs, then the empty string (a value not among the
// labels, position 0).
func (s *enumSort) position(col ast.ExprNode) ast.ExprNode {
	c := *unparen(col).(*ast.ColumnNameExpr)
	args := []ast.ExprNode{&ast.ColumnNameExpr{Name: c.Name}}
	for _, l := range s.labels {
		args = append(args, ast.NewValueExpr(l, "", ""))
	}
	return &ast.FuncCallExpr{FnName: ast.NewCIStr("IF"), Args: []ast.ExprNode{
		&ast.IsNullExpr{Expr: &ast.ColumnNameExpr{Name: c.Name}},
		ast.NewValueExpr(nil, "", ""),
		&ast.FuncCallExpr{FnName: ast.NewCIStr("FIELD"), Args: args},
	}}
}

// order rewrites the items that sort by the column, and reports whether
// there were any; fields (a SELECT's list, or nil) resolve positions and
// aliases.
func (s *enumSort) order(items []*ast.ByItem, fields *ast.FieldList) (rewritten bool) {
	for _, it := range items {
		if s.is(it.Expr) {
			it.Expr, rewritten = s.position(it.Expr), true
			continue
		}
		if fields == nil {
			continue
		}
		var f *ast.SelectField
		switch x := unparen(it.Expr).(type) {
		case *ast.PositionExpr:
			if x.P == nil && x.N >= 1 && x.N <= len(fields.Fields) {
				f = fields.Fields[x.N-1]
			}
		case *ast.ColumnNameExpr:
			if x.Name.Table.L == "" {
				for _, g := range fields.Fields {
					if g.AsName.L == x.Name.Name.L && g.AsName.L != "" {
						f = g
						break
					}
				}
			}
		}
		if f != nil && f.Expr != nil && s.is(f.Expr) {
			it.Expr, rewritten = s.position(f.Expr), true
		}
	}
	return rewritten
}

func (s *enumSort) sel(x *ast.SelectStmt) {
	if x.OrderBy != nil {
		s.order(x.OrderBy.Items, x.Fields)
	} else if x.GroupBy != nil && !x.GroupBy.Rollup {
		// The order of the groups, which MariaDB gives (each GROUP BY item
		// as ORDER BY would sort it, ascending).
		items := make([]*ast.ByItem, len(x.GroupBy.Items))
		for i, it := range x.GroupBy.Items {
			items[i] = &ast.ByItem{Expr: it.Expr, Desc: it.Desc}
		}
		if s.order(items, x.Fields) {
			x.OrderBy = &ast.OrderByClause{Items: items}
		}
	}
	for i := range x.WindowSpecs {
		s.window(&x.WindowSpecs[i], x.Fields)
	}
}

func (s *enumSort) window(w *ast.WindowSpec, fields *ast.FieldList) {
	if w.OrderBy == nil {
		return
	}
	if f := w.Frame; f != nil && f.Type == ast.Ranges && (offset(f.Extent.Start) || offset(f.Extent.End)) {
		return // (RANGE n PRECEDING wants a number to sort by)
	}
	s.order(w.OrderBy.Items, fields)
}

func offset(b ast.FrameBound) bool { return !b.UnBounded && b.Type != ast.CurrentRow }

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
	sorted        bool     // EnumByPosition has rewritten what sorts by it
	aliases       []string // (sorted) the outer SELECT's aliases of it
	stack         []ast.Node
	ok            bool
}

func (u *enumUses) is(e ast.ExprNode) bool { return namesColumn(e, u.table, u.column) }

// namesColumn reports whether e is column of table, or unqualified.
func namesColumn(e ast.ExprNode, table, column string) bool {
	c, ok := unparen(e).(*ast.ColumnNameExpr)
	return ok && c.Name.Schema.L == "" && (c.Name.Table.L == table || c.Name.Table.L == "") && c.Name.Name.L == column
}

func (u *enumUses) Enter(n ast.Node) (ast.Node, bool) {
	u.stack = append(u.stack, n)
	if f, isField := n.(*ast.SelectField); isField && f.WildCard != nil && u.ok {
		// A star gives the column too: only to the outer SELECT's list,
		// where nothing orders or groups it.
		u.ok = u.inTopList(len(u.stack) - 1)
	}
	if f, isField := n.(*ast.SelectField); isField && u.sorted && f.AsName.L == u.column && (f.Expr == nil || !u.is(f.Expr)) {
		// Another field by the column's name: ORDER BY may mean it by that
		// name, which EnumByPosition took for the column.
		u.ok = false
	}
	if c, isCol := n.(*ast.ColumnNameExpr); isCol && u.ok && (u.is(c) ||
		c.Name.Schema.L == "" && c.Name.Table.L == "" && slices.Contains(u.aliases, c.Name.Name.L)) {
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
		if u.sorted && u.stack[0] == u.top && i == 2 {
			// (What sorts by it, by position too, sorts as the column.)
			return true
		}
		return u.inTopList(i)
	case *ast.ByItem:
		// Grouped by it: equal labels are equal positions.
		return u.sorted && i > 0 && u.grouping(i-1)
	case *ast.FuncCallExpr:
		return textFunc(p, ref)
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
		// (Not MIN and MAX: by an index on the column the server reads
		// them by position.)
		return strings.EqualFold(p.F, ast.AggFuncCount) || strings.EqualFold(p.F, ast.AggFuncGroupConcat)
	}
	return false
}

// grouping reports whether stack[i] is a GROUP BY (not WITH ROLLUP,
// whose order EnumByPosition cannot write) or PARTITION BY.
func (u *enumUses) grouping(i int) bool {
	switch g := u.stack[i].(type) {
	case *ast.GroupByClause:
		return !g.Rollup
	case *ast.PartitionByClause:
		return true
	}
	return false
}

// textArgs lists functions that read an ENUM argument as its text, and
// return a string or a number of it (what follows sees no ENUM): where
// given, only those arguments (LEFT(col, n), not LEFT('abc', col)).
var textArgs = map[string][]int{
	"concat": nil, "concat_ws": nil, "lower": nil, "lcase": nil, "upper": nil, "ucase": nil,
	"length": nil, "char_length": nil, "character_length": nil, "octet_length": nil,
	"reverse": nil, "trim": nil, "ltrim": nil, "rtrim": nil, "replace": nil, "instr": nil,
	"left": {0}, "right": {0}, "substring": {0}, "substr": {0}, "mid": {0},
	"lpad": {0, 2}, "rpad": {0, 2}, "locate": {0, 1},
	// (the others string literals: see textFunc)
	"field": {0}, "coalesce": nil, "ifnull": nil,
}

// textFunc reports whether the function call f reads its argument ref as
// its text. FIELD compares it as a string with strings; COALESCE and
// IFNULL of it and string literals (or NULL) are strings.
func textFunc(f *ast.FuncCallExpr, ref ast.Node) bool {
	at, ok := textArgs[f.FnName.L]
	if !ok {
		return false
	}
	i := slices.IndexFunc(f.Args, func(a ast.ExprNode) bool { return a == ref })
	if i < 0 || at != nil && !slices.Contains(at, i) {
		return false
	}
	switch f.FnName.L {
	case "field", "coalesce", "ifnull":
		for j, a := range f.Args {
			if v, isValue := unparen(a).(*test_driver.ValueExpr); j != i && !stringLiteral(a) && !(isValue && v.Datum.Kind() == test_driver.KindNull) {
				return false
			}
		}
	}
	return true
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

// EnumLabels reads an ENUM column's labels from its COLUMN_TYPE in
// information_schema, enum('a','b'), where a quote in a label is doubled;
// false for another type, or a label with a backslash (whose escaping the
// type's text leaves unclear).
func EnumLabels(columnType string) ([]string, bool) {
	rest, ok := strings.CutPrefix(columnType, "enum(")
	if !ok || !strings.HasSuffix(rest, ")") || strings.Contains(rest, "\\") {
		return nil, false
	}
	rest = rest[:len(rest)-1]
	var labels []string
	for {
		if !strings.HasPrefix(rest, "'") {
			return nil, false
		}
		var b strings.Builder
		i := 1
		for ; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return nil, false
		}
		labels = append(labels, b.String())
		rest = rest[i+1:]
		if rest == "" {
			return labels, true
		}
		if rest, ok = strings.CutPrefix(rest, ","); !ok {
			return nil, false
		}
	}
}
