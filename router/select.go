package router

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/router/merge"
)

// planSelect plans a SELECT. One unit runs as it is; several units run the
// statement on every shard, rewritten so the results can be merged
// exactly: sort keys and weight strings as helper columns, AVG split into
// SUM and COUNT, LIMIT widened to offset+count.
func (b *builder) planSelect(sel *ast.SelectStmt) (Primitive, error) {
	where := []ast.ExprNode{sel.Where}
	if sel.From != nil {
		where = append(where, innerOns(sel.From.TableRefs)...)
	}
	units, err := b.place(where, false)
	if inner, ok := countedDerived(sel); ok && (Refused(err) || err == nil && len(units) > 1 && b.derivedRefused(inner)) {
		// Only the derived table's own plan can tell its rows.
		return b.planCountRows(sel, inner)
	}
	if tuples, ok := distinctTuples(sel); ok && err == nil && len(units) > 1 {
		return b.planCountRows(sel, tuples)
	}
	if err != nil {
		return nil, err
	}
	parser.ReplaceSessionFuncs(b.stmt, &b.env.Values)
	readable := sel.LockInfo == nil
	if len(units) > 1 && !b.zipPass {
		if texts := b.distinctPasses(sel); texts != nil {
			return b.planZip(sel, texts)
		}
	}
	if len(units) == 1 {
		sql, err := b.render(units[0])
		if err != nil {
			return nil, err
		}
		return routesFor(units, []string{sql}, readable)[0], nil
	}
	m, err := b.mergeSelect(sel, units)
	if err != nil {
		return nil, err
	}
	sqls := make([]string, len(units))
	for i, u := range units {
		if sqls[i], err = b.render(u); err != nil {
			return nil, err
		}
	}
	// Each shard's statement is a stream of its own (a node with several
	// shards answers on several connections), so every column keeps the
	// exact type one MySQL gives it.
	sc := &Scatter{Routes: routesFor(units, sqls, readable)}
	b.scatterUnits = units
	return m.build(sc), nil
}

// distinctPasses returns the DISTINCT arguments that need a pass of their
// own (with "" first: the pass for everything else), or nil when one pass
// does: at most one non-local DISTINCT argument and nothing else distinct.
func (b *builder) distinctPasses(sel *ast.SelectStmt) []string {
	var nonLocal []string
	local := false
	seen := map[string]bool{}
	for _, f := range sel.Fields.Fields {
		fn, ok := f.Expr.(*ast.AggregateFuncExpr)
		if !ok || !fn.Distinct || len(fn.Args) != 1 {
			continue
		}
		if b.isLocalColumn(fn.Args[0]) {
			local = true
			continue
		}
		if t := exprText(fn.Args[0]); !seen[t] {
			seen[t] = true
			nonLocal = append(nonLocal, t)
		}
	}
	if len(nonLocal) == 0 || (len(nonLocal) == 1 && !local) {
		return nil
	}
	return append([]string{""}, nonLocal...)
}

// planZip plans one pass per DISTINCT argument over a fresh copy of the
// statement and joins their single rows.
func (b *builder) planZip(sel *ast.SelectStmt, texts []string) (Primitive, error) {
	if sel.GroupBy != nil || sel.Having != nil {
		return nil, errUnsupported("DISTINCT aggregates over different expressions together with GROUP BY or HAVING across shards")
	}
	text, err := parser.RestoreMode([]ast.StmtNode{sel}, b.env.Mode)
	if err != nil {
		return nil, err
	}
	z := &Zip{Source: make([]int, len(sel.Fields.Fields))}
	for pass, only := range texts {
		stmts, err := parser.ParseMode(text, b.env.Mode)
		if err != nil {
			return nil, err
		}
		st := stmts[0].(*ast.SelectStmt)
		sub := &builder{env: b.env, stmt: st, zipPass: true, onlyDistinct: only}
		if err := sub.resolve(); err != nil {
			return nil, err
		}
		p, err := sub.planSelect(st)
		if err != nil {
			return nil, err
		}
		z.Inputs = append(z.Inputs, p)
		if only == "" {
			continue
		}
		for i, f := range st.Fields.Fields {
			if fn, ok := f.Expr.(*ast.AggregateFuncExpr); ok && fn.Distinct && len(fn.Args) == 1 && exprText(fn.Args[0]) == only {
				z.Source[i] = pass
			}
		}
	}
	return z, nil
}

// merger is the merge part of a multi-shard SELECT plan.
type merger struct {
	keys       []SortKey // MergeSort keys (empty: concatenate)
	shardLimit int64     // LIMIT every shard gets, -1 none
	offset     int64
	count      int64 // -1: no LIMIT
	agg        *Aggregate
	distinct   []SortKey
	setOp      *SetOp
	memSort    []SortKey
	having     Expr
	havingText string
	compute    *Compute
	helpers    int
	lastPos    int            // the largest ORDER BY position after a * (Project.LastPosition)
	weights    map[string]int // column text → its WEIGHT_STRING helper
}

func (m *merger) build(sc *Scatter) Primitive {
	var p Primitive = sc
	if len(m.keys) > 0 {
		p = &MergeSort{Keys: m.keys, Input: sc}
	}
	if m.agg != nil {
		m.agg.Input = p
		p = m.agg
	}
	if m.compute != nil {
		m.compute.Input = p
		p = m.compute
	}
	if m.having != nil {
		p = &Filter{Pred: m.having, Text: m.havingText, Input: p}
	}
	if m.distinct != nil {
		p = &Distinct{Keys: m.distinct, Input: p}
	}
	if m.setOp != nil {
		m.setOp.Input = p
		p = m.setOp
	}
	if m.memSort != nil {
		limit := int64(-1)
		if m.count >= 0 {
			limit = m.offset + m.count
		}
		p = &MemorySort{Keys: m.memSort, Limit: limit, Input: p}
	}
	if m.count >= 0 || m.offset > 0 {
		p = &Limit{Offset: m.offset, Count: m.count, Input: p}
	}
	if m.helpers > 0 {
		p = &Project{HelperCount: m.helpers, LastPosition: m.lastPos, Input: p}
	}
	return p
}

const helperPrefix = "__sg_"

// selectShape is what the SELECT list holds.
type selectShape struct {
	wildcard  bool // a * or t.* (column positions unknown until results arrive)
	aggs      bool
	visible   int // fields written in the statement
	fieldExpr []ast.ExprNode
}

func shapeOf(sel *ast.SelectStmt) selectShape {
	var s selectShape
	for _, f := range sel.Fields.Fields {
		s.visible++
		if f.WildCard != nil {
			s.wildcard = true
			s.fieldExpr = append(s.fieldExpr, nil)
			continue
		}
		s.fieldExpr = append(s.fieldExpr, f.Expr)
		if hasAggregate(f.Expr) {
			s.aggs = true
		}
	}
	return s
}

// mergeSelect rewrites a multi-shard SELECT for merging and returns how
// the results combine.
func (b *builder) mergeSelect(sel *ast.SelectStmt, units []unit) (*merger, error) {
	if sel.SelectIntoOpt != nil {
		return nil, errUnsupported("SELECT ... INTO across shards")
	}
	if hasWindow(sel) {
		return nil, errUnsupported("window functions across shards")
	}
	if sel.GroupBy != nil && sel.GroupBy.Rollup {
		return nil, errUnsupported("GROUP BY ... WITH ROLLUP across shards")
	}
	unsorted := orderByNull(sel)
	if unsorted {
		// ORDER BY NULL asks for no order (to skip GROUP BY's sort): the
		// merge's order is as good as any.
		sel.OrderBy = nil
	}
	if err := b.checkDerived(sel); err != nil {
		return nil, err
	}
	for _, body := range b.cteBodies {
		if err := b.checkDerivedSelect(body); err != nil {
			return nil, err
		}
		if err := b.checkDerived(body); err != nil {
			return nil, err
		}
	}
	shape := shapeOf(sel)
	lastPos, err := checkPositions(sel, &shape)
	if err != nil {
		return nil, err
	}
	m := &merger{shardLimit: -1, count: -1, lastPos: lastPos}
	if err := b.limitOf(sel, m); err != nil {
		return nil, err
	}
	local := b.groupIsLocal(sel)
	whole := local || (!shape.aggs && sel.GroupBy == nil && !sel.Distinct)
	if sel.SelectStmtOpts != nil && sel.SelectStmtOpts.CalcFoundRows {
		// Each shard counts its own rows (or groups): they add up only
		// when every row is whole on one shard.
		if !whole {
			return nil, errUnsupported("SQL_CALC_FOUND_ROWS with aggregates, GROUP BY or DISTINCT across shards")
		}
		b.foundRows = true
	}
	switch {
	case whole:
		// Every result row is complete on one shard: merge-sort the rows.
		if sel.OrderBy == nil && sel.GroupBy != nil && !unsorted {
			// MariaDB sorts GROUP BY's groups (ASC or DESC as written)
			// unless told otherwise, and clients rely on it, LIMIT too:
			// the shards' sorted groups are merged so.
			sel.OrderBy = &ast.OrderByClause{}
			for _, it := range sel.GroupBy.Items {
				sel.OrderBy.Items = append(sel.OrderBy.Items, &ast.ByItem{Expr: it.Expr, Desc: it.Desc})
			}
		}
		if err := b.orderRows(sel, &shape, m); err != nil {
			return nil, err
		}
		groupByHelpers(sel)
		if m.count >= 0 {
			m.shardLimit = m.offset + m.count
			setLimit(sel, m.shardLimit)
		} else if m.offset > 0 {
			setLimit(sel, -1) // every shard sends all; the merge skips
		}
	case sel.Distinct && !shape.aggs && sel.GroupBy == nil:
		if err := b.planDistinct(sel, &shape, m); err != nil {
			return nil, err
		}
	default:
		if err := b.planAggregate(sel, &shape, m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// groupByHelpers makes the shards group by the helper columns that sort
// by a grouped expression too (by alias): under ONLY_FULL_GROUP_BY the
// server refuses CONCAT(..., WEIGHT_STRING(a DIV 8)) for a GROUP BY of
// a DIV 8 (its column a is not grouped), and takes the copy's alias.
// Grouping by a function of a grouped expression splits no group.
func groupByHelpers(sel *ast.SelectStmt) {
	if sel.GroupBy == nil {
		return
	}
	var copies []string
	for _, it := range sel.GroupBy.Items {
		if _, col := unparen(it.Expr).(*ast.ColumnNameExpr); !col {
			copies = append(copies, exprText(weightString(it.Expr)), exprText(positionWeight(it.Expr)))
		}
	}
	if len(copies) == 0 {
		return
	}
	for _, f := range sel.Fields.Fields {
		if strings.HasPrefix(f.AsName.O, helperPrefix) && slices.Contains(copies, exprText(f.Expr)) {
			sel.GroupBy.Items = append(sel.GroupBy.Items, &ast.ByItem{Expr: &ast.ColumnNameExpr{Name: &ast.ColumnName{Name: f.AsName}}})
		}
	}
}

// groupIsLocal reports whether GROUP BY or DISTINCT includes a column that
// decides the shard: then every group (or distinct row) lives whole on one
// shard and needs no merging.
func (b *builder) groupIsLocal(sel *ast.SelectStmt) bool {
	var items []ast.ExprNode
	if sel.GroupBy != nil {
		for _, it := range sel.GroupBy.Items {
			items = append(items, it.Expr)
		}
	} else if sel.Distinct {
		for _, f := range sel.Fields.Fields {
			if f.Expr != nil {
				items = append(items, f.Expr)
			}
		}
	} else {
		return false
	}
	for _, e := range items {
		if cn, ok := e.(*ast.ColumnNameExpr); ok {
			if r := b.columnRef(cn.Name); r >= 0 && b.tables[r].anchor(cn.Name.Name.O) != "" && !b.tables[r].ref.Outer {
				return true
			}
		}
	}
	return false
}

// limitOf reads LIMIT; the shards get offset+count.
func (b *builder) limitOf(sel *ast.SelectStmt, m *merger) error {
	if sel.Limit == nil {
		return nil
	}
	var err error
	m.offset, m.count, err = limitValues(sel.Limit)
	return err
}

// limitValues reads a LIMIT of numbers; count -1 is all the rest (LIMIT
// 18446744073709551615).
func limitValues(l *ast.Limit) (offset, count int64, err error) {
	count, ok := intLiteral(l.Count)
	if !ok {
		return 0, 0, errUnsupported("a LIMIT that is not a number across shards")
	}
	if count >= 1<<62 {
		count = -1
	}
	if l.Offset != nil {
		if offset, ok = intLiteral(l.Offset); !ok {
			return 0, 0, errUnsupported("an OFFSET that is not a number across shards")
		}
	}
	return offset, count, nil
}

func intLiteral(e ast.ExprNode) (int64, bool) {
	v, ok := e.(*test_driver.ValueExpr)
	if !ok {
		return 0, false
	}
	switch x := v.Datum.GetValue().(type) {
	case int64:
		return x, x >= 0
	case uint64:
		if x >= 1<<62 {
			return 1 << 62, true
		}
		return int64(x), true
	}
	return 0, false
}

// orderByNull reports an ORDER BY of NULL literals only.
func orderByNull(sel *ast.SelectStmt) bool {
	if sel.OrderBy == nil {
		return false
	}
	for _, it := range sel.OrderBy.Items {
		v, ok := unparen(it.Expr).(*test_driver.ValueExpr)
		if !ok || v.Datum.GetValue() != nil {
			return false
		}
	}
	return true
}

// setLimit gives every shard LIMIT n (no offset), or none when n < 0.
func setLimit(sel *ast.SelectStmt, n int64) {
	if n < 0 {
		sel.Limit = nil
		return
	}
	sel.Limit = &ast.Limit{Count: ast.NewValueExpr(n, "", "")}
}

// addHelper appends a helper column and returns its position from the end
// once all helpers are added (fixed up by finishHelpers).
func (m *merger) addHelper(sel *ast.SelectStmt, e ast.ExprNode) int {
	name := fmt.Sprintf("%s%d", helperPrefix, m.helpers)
	sel.Fields.Fields = append(sel.Fields.Fields, &ast.SelectField{Expr: e, AsName: ast.NewCIStr(name)})
	m.helpers++
	return m.helpers - 1
}

// addWeight adds the helper WEIGHT_STRING(e). A column's weight asked
// for twice (DISTINCT c ORDER BY c) is sent once: each copy costs the
// shard a call and the wire its bytes.
func (m *merger) addWeight(sel *ast.SelectStmt, e ast.ExprNode) int {
	if _, ok := e.(*ast.ColumnNameExpr); !ok {
		return m.addHelper(sel, weightString(e))
	}
	text := exprText(e)
	if k, seen := m.weights[text]; seen {
		return k
	}
	if m.weights == nil {
		m.weights = map[string]int{}
	}
	m.weights[text] = m.helpers
	return m.addHelper(sel, weightString(e))
}

// helperCol turns a helper's ordinal into a Col counted from the end.
func (m *merger) helperCol(k int) Col { return Col{Index: m.helpers - k, FromEnd: true} }

// orderKey is one ORDER BY item, resolved.
type orderKey struct {
	expr     ast.ExprNode // the expression to sort by
	position int          // ORDER BY n: the visible column (0-based), -1 otherwise
	desc     bool
}

// checkPositions answers ORDER BY n and GROUP BY n past the select list
// as the server does, ORDER BY first: the merge would otherwise sort by a
// helper column the rewrite appends there. A GROUP BY position naming an
// aggregate is the server's 1056. After a *, the columns are known when
// the rows come: it returns the largest ORDER BY position for exec to check.
func checkPositions(sel *ast.SelectStmt, shape *selectShape) (int, error) {
	last := 0
	check := func(by *ast.ByItem, clause string) error {
		p, ok := by.Expr.(*ast.PositionExpr)
		if !ok || p.P != nil {
			return nil
		}
		if shape.wildcard && p.N >= 1 {
			last = max(last, p.N)
			return nil
		}
		if p.N < 1 || p.N > len(shape.fieldExpr) {
			return ErrUnknownPosition(p.N, clause)
		}
		if f := sel.Fields.Fields[p.N-1]; clause == "GROUP BY" && hasAggregate(f.Expr) {
			name := f.AsName.O
			if name == "" {
				name = strings.TrimSpace(f.Text())
			}
			return mysql.NewDefaultError(mysql.ER_WRONG_GROUP_FIELD, name)
		}
		return nil
	}
	if sel.OrderBy != nil {
		for _, it := range sel.OrderBy.Items {
			if err := check(it, "ORDER BY"); err != nil {
				return 0, err
			}
		}
	}
	lastOrder := last
	if sel.GroupBy != nil {
		for _, it := range sel.GroupBy.Items {
			if err := check(it, "GROUP BY"); err != nil {
				return 0, err
			}
		}
	}
	return lastOrder, nil
}

// orderItems resolves ORDER BY items: positions stay positions, aliases
// become their expressions.
func orderItems(sel *ast.SelectStmt, shape *selectShape) ([]orderKey, error) {
	if sel.OrderBy == nil {
		return nil, nil
	}
	var out []orderKey
	for _, it := range sel.OrderBy.Items {
		k := orderKey{expr: it.Expr, position: -1, desc: it.Desc}
		switch e := it.Expr.(type) {
		case *ast.PositionExpr:
			if e.P != nil {
				return nil, errUnsupported("ORDER BY a parameter position")
			}
			if e.N > 1<<20 {
				return nil, errUnsupported("ORDER BY position %d", e.N)
			}
			k.position = e.N - 1
			if k.position < len(shape.fieldExpr) && !wildcardBefore(shape, k.position) {
				k.expr = shape.fieldExpr[k.position]
			} else {
				k.expr = nil
			}
		case *ast.ColumnNameExpr:
			if e.Name.Table.O == "" {
				for i, f := range sel.Fields.Fields {
					if f.AsName.O != "" && strings.EqualFold(f.AsName.O, e.Name.Name.O) {
						k.expr = f.Expr
						if !wildcardBefore(shape, i) {
							k.position = i
						}
						break
					}
				}
			}
			if k.expr == it.Expr {
				// A column the list shows as it is: the shards sort by it
				// and the merge reads it there, with no copy as a helper.
				k.position = selectedColumn(sel, shape, e.Name)
			}
		}
		out = append(out, k)
	}
	return out, nil
}

// selectedColumn returns the position of the one visible field that is
// column n itself (an unqualified name matches any qualifier), or -1 when
// none is or several are (then the name is left to the shards to resolve).
func selectedColumn(sel *ast.SelectStmt, shape *selectShape, n *ast.ColumnName) int {
	found := -1
	for i := 0; i < shape.visible; i++ {
		c, ok := shape.fieldExpr[i].(*ast.ColumnNameExpr)
		if !ok || !strings.EqualFold(c.Name.Name.O, n.Name.O) {
			continue
		}
		if n.Table.O != "" && (!strings.EqualFold(c.Name.Table.O, n.Table.O) || !strings.EqualFold(c.Name.Schema.O, n.Schema.O)) {
			continue
		}
		if found >= 0 {
			return -1
		}
		found = i
	}
	if found >= 0 && wildcardBefore(shape, found) {
		return -1
	}
	return found
}

func wildcardBefore(shape *selectShape, i int) bool {
	for j := 0; j <= i && j < len(shape.fieldExpr); j++ {
		if shape.fieldExpr[j] == nil {
			return true
		}
	}
	return false
}

// sortKeysFor adds helper columns for ORDER BY items (the value and its
// WEIGHT_STRING) and returns merge keys plus the node-union ORDER BY text.
func (b *builder) sortKeysFor(sel *ast.SelectStmt, items []orderKey, m *merger) ([]SortKey, []string, error) {
	type pending struct {
		key      SortKey
		val, wt  int // helper ordinals, -1 none
		position int
	}
	var ps []pending
	for _, it := range items {
		p := pending{val: -1, wt: -1, position: it.position, key: SortKey{Desc: it.desc}}
		if it.expr == nil {
			if it.position < 0 {
				return nil, nil, errUnsupported("this ORDER BY across shards")
			}
			// A position inside a *: compare the column as it is; the
			// executor refuses a case-insensitive string column.
			p.key.Col = Col{Index: it.position}
			ps = append(ps, p)
			continue
		}
		if it.position >= 0 {
			p.key.Col = Col{Index: it.position}
		} else {
			p.val = m.addHelper(sel, it.expr)
		}
		p.wt, p.key.Position, p.key.Collation = b.sortKey(sel, it.expr, m)
		ps = append(ps, p)
	}
	keys := make([]SortKey, len(ps))
	var order []string
	for i, p := range ps {
		k := p.key
		if p.val >= 0 {
			k.Col = m.helperCol(p.val)
		}
		if p.wt >= 0 {
			k.Weight, k.HasWeight = m.helperCol(p.wt), true
		}
		keys[i] = k
		// A node's union sorts by the value itself (its type and
		// collation), which the weight string only mirrors for strings.
		var item string
		switch {
		case k.Position: // the union's type is no ENUM
			item = fmt.Sprintf("%s%d", helperPrefix, p.wt)
		case p.val >= 0:
			item = fmt.Sprintf("%s%d", helperPrefix, p.val)
		default:
			item = strconv.Itoa(p.position + 1)
		}
		if k.Desc {
			item += " DESC"
		}
		order = append(order, item)
	}
	return keys, order, nil
}

// weightString is the helper the merge compares strings by:
// CONCAT(COLLATION(e), ':', WEIGHT_STRING(e)), the collation's sort key
// after its name. The rows share the prefix, so the values compare as the
// keys do; the name tells the merge whether the collation pads with spaces
// and what a space weighs. The rows' column type cannot: it names the
// result charset, not the expression's collation (a utf8mb4_unicode_ci
// column comes as utf8mb4_general_ci). NULL stays NULL, and so do numbers,
// whose weight string is NULL.
func weightString(e ast.ExprNode) ast.ExprNode {
	fn := func(name string, args ...ast.ExprNode) ast.ExprNode {
		return &ast.FuncCallExpr{FnName: ast.NewCIStr(name), Args: args}
	}
	return fn("CONCAT", fn("COLLATION", e), ast.NewValueExpr(":", "", ""), fn("WEIGHT_STRING", e))
}

// positionWeight is the helper an ENUM or SET column sorts by: its
// position (SET: its bits), e + 0, as zero-padded digits that compare as
// the numbers do, after the "collation" binary (no padding).
func positionWeight(e ast.ExprNode) ast.ExprNode {
	fn := func(name string, args ...ast.ExprNode) ast.ExprNode {
		return &ast.FuncCallExpr{FnName: ast.NewCIStr(name), Args: args}
	}
	plus := &ast.BinaryOperationExpr{Op: opcode.Plus, L: e, R: ast.NewValueExpr(0, "", "")}
	return fn("CONCAT", ast.NewValueExpr("binary:", "", ""), fn("LPAD", plus, ast.NewValueExpr(20, "", ""), ast.NewValueExpr("0", "", "")))
}

// columnType returns Env.KeyColumnType's "data_type collation" when e is a
// column of one of the statement's sharded tables, else "".
func (b *builder) columnType(e ast.ExprNode) string {
	col, ok := unparen(e).(*ast.ColumnNameExpr)
	if !ok || b.env.KeyColumnType == nil {
		return ""
	}
	typ := ""
	for _, t := range b.tables {
		if t.rule == nil || t.system || t.ref.Scope != 0 {
			continue
		}
		if q := col.Name.Table.O; q != "" && !strings.EqualFold(q, t.ref.Alias) && (t.ref.Alias != "" || !strings.EqualFold(q, t.ref.Name)) {
			continue
		}
		if ct := b.env.KeyColumnType(t.schema, t.rule.Name, col.Name.Name.O); ct != "" {
			if typ != "" {
				return "" // ambiguous: the server says so
			}
			typ = ct
		}
	}
	return typ
}

// sortsByPosition reports whether a column of type typ (columnType) is an
// ENUM or SET: the server sorts and groups those by position, not by label
// (MIN and MAX compare labels).
func sortsByPosition(typ string) bool {
	return strings.HasPrefix(typ, "enum ") || strings.HasPrefix(typ, "set ")
}

// mergeCompares returns the collation by which the merge compares the
// values of a column of type typ (columnType) as the server does, with no
// helper; ok without one when they are no strings (numbers and temporal
// values compare as such, binary strings byte by byte). Strings need a
// collation the merge implements and to come as UTF-8
// (character_set_results utf8mb4, or utf8mb3 for a utf8mb3 column).
func (b *builder) mergeCompares(typ string) (coll *merge.Collation, ok bool) {
	typ, name, _ := strings.Cut(typ, " ")
	switch typ {
	case "tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double",
		"date", "datetime", "timestamp", "time", "year",
		"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return nil, name == "binary"
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		if typ == "char" && strings.Contains(name, "_nopad_") {
			// PAD_CHAR_TO_FULL_LENGTH sends CHAR values padded, which a
			// NO PAD collation would count.
			return nil, false
		}
		utf8 := b.env.ResultsCharset == "utf8mb4" ||
			b.env.ResultsCharset == "utf8mb3" && strings.HasPrefix(name, "utf8mb3_")
		coll = merge.CollationNamed(name)
		return coll, utf8 && coll != nil
	}
	return nil, false
}

// sortWeight adds the helper e's rows compare by (ORDER BY, GROUP BY and
// DISTINCT aggregate keys): its position for an ENUM or SET column, else
// its weight string (a column's sent once).
func (b *builder) sortWeight(sel *ast.SelectStmt, e ast.ExprNode, m *merger) (helper int, position bool) {
	return b.weigh(sel, e, b.columnType(e), m)
}

func (b *builder) weigh(sel *ast.SelectStmt, e ast.ExprNode, typ string, m *merger) (helper int, position bool) {
	if sortsByPosition(typ) {
		return m.addHelper(sel, positionWeight(e)), true
	}
	return m.addWeight(sel, e), false
}

// sortKey says how the merge compares the values of an ORDER BY or GROUP
// BY key e: by a collation it implements (coll, helper -1; nil coll for
// values that are no strings), or by the helper sortWeight adds.
func (b *builder) sortKey(sel *ast.SelectStmt, e ast.ExprNode, m *merger) (helper int, position bool, coll *merge.Collation) {
	typ := b.columnType(e)
	if coll, ok := b.mergeCompares(typ); ok {
		return -1, false, coll
	}
	helper, position = b.weigh(sel, e, typ, m)
	return helper, position, nil
}

// orderRows plans complete rows: merge-sort by ORDER BY, if any.
func (b *builder) orderRows(sel *ast.SelectStmt, shape *selectShape, m *merger) error {
	items, err := orderItems(sel, shape)
	if err != nil || len(items) == 0 {
		return err
	}
	m.keys, _, err = b.sortKeysFor(sel, items, m)
	return err
}

// planDistinct: shards return their distinct rows sorted by the ORDER BY
// keys then every column; equal rows meet in the merge and are dropped.
func (b *builder) planDistinct(sel *ast.SelectStmt, shape *selectShape, m *merger) error {
	if shape.wildcard {
		return errUnsupported("SELECT DISTINCT * across shards")
	}
	items, err := orderItems(sel, shape)
	if err != nil {
		return err
	}
	keys, order, err := b.sortKeysFor(sel, items, m)
	if err != nil {
		return err
	}
	var visible []orderKey
	for i := 0; i < shape.visible; i++ {
		visible = append(visible, orderKey{expr: shape.fieldExpr[i], position: i})
	}
	// Every visible column (with its weight) decides equality.
	before := m.helpers
	distinct, order2, err := b.sortKeysFor(sel, visible, m)
	if err != nil {
		return err
	}
	// The ORDER BY keys count helpers from the end: the ones just added
	// (weights of expressions) come after them.
	for i := range keys {
		keys[i].fromEndShift(m.helpers - before)
	}
	m.distinct = distinct
	// The shards sort by the ORDER BY keys, then by the columns not
	// already among them.
	for i, k := range distinct {
		if !slices.ContainsFunc(keys, k.sameColumn) {
			keys = append(keys, k)
			order = append(order, order2[i])
		}
	}
	m.keys = keys
	b.replaceOrder(sel, order)
	// Duplicates across shards: a shard cannot stop early, nor skip the
	// OFFSET (the merge does both).
	m.shardLimit = -1
	setLimit(sel, -1)
	return nil
}

// replaceOrder makes the shards sort by the helper columns the merge reads.
func (b *builder) replaceOrder(sel *ast.SelectStmt, order []string) {
	var items []*ast.ByItem
	for _, o := range order {
		desc := strings.HasSuffix(o, " DESC")
		name := strings.TrimSuffix(o, " DESC")
		var e ast.ExprNode
		if n, err := strconv.Atoi(name); err == nil {
			e = &ast.PositionExpr{N: n}
		} else {
			e = &ast.ColumnNameExpr{Name: &ast.ColumnName{Name: ast.NewCIStr(name)}}
		}
		items = append(items, &ast.ByItem{Expr: e, Desc: desc})
	}
	sel.OrderBy = &ast.OrderByClause{Items: items}
}

// hasAggregate reports whether an expression contains an aggregate function
// (not looking into subqueries).
func hasAggregate(e ast.Node) bool {
	v := &aggFinder{}
	e.Accept(v)
	return v.found
}

type aggFinder struct {
	found bool
	depth int
}

func (v *aggFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.AggregateFuncExpr:
		v.found = true
		return n, true
	case *ast.SubqueryExpr:
		return n, true
	}
	return n, false
}

func (v *aggFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func hasWindow(sel *ast.SelectStmt) bool {
	found := false
	sel.Fields.Accept(visitFunc(func(n ast.Node) bool {
		if _, ok := n.(*ast.WindowFuncExpr); ok {
			found = true
		}
		_, sub := n.(*ast.SubqueryExpr)
		return !sub
	}))
	return found
}

// visitFunc adapts a function to ast.Visitor; fn returns whether to descend.
type visitFunc func(ast.Node) bool

func (f visitFunc) Enter(n ast.Node) (ast.Node, bool) { return n, !f(n) }
func (f visitFunc) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// checkDerived refuses derived tables whose result depends on rows from
// several shards (aggregates, DISTINCT, LIMIT) unless grouped by a column
// that decides the shard: run per shard they would give partial answers.
func (b *builder) checkDerived(sel *ast.SelectStmt) error {
	if sel.From == nil {
		return nil
	}
	var bad error
	sel.From.TableRefs.Accept(visitFunc(func(n ast.Node) bool {
		ts, ok := n.(*ast.TableSource)
		if !ok || bad != nil {
			return bad == nil
		}
		switch inner := ts.Source.(type) {
		case *ast.SelectStmt:
			bad = b.checkDerivedSelect(inner)
		case *ast.SetOprStmt:
			bad = b.checkDerivedUnion(inner)
		}
		return true
	}))
	return bad
}

func (b *builder) checkDerivedSelect(inner *ast.SelectStmt) error {
	shape := shapeOf(inner)
	// Groups within shards are whole on each, but a LIMIT keeps the first
	// rows of all of them: per shard it would keep each shard's first.
	if (shape.aggs || inner.GroupBy != nil || inner.Distinct) && !b.groupIsLocal(inner) || inner.Limit != nil {
		return errUnsupported("a derived table with aggregates, DISTINCT or LIMIT across shards (its result would be per shard)")
	}
	// A window numbers or sums the rows of every shard; ROLLUP's totals
	// add up all groups.
	if hasWindow(inner) || inner.GroupBy != nil && inner.GroupBy.Rollup {
		return errUnsupported("a derived table with window functions or WITH ROLLUP across shards (its result would be per shard)")
	}
	return nil
}

// checkDerivedUnion refuses a derived UNION that run per shard would give
// other rows than once: one that removes duplicates (each shard would
// remove only its own), or a part without a sharded table (each shard
// would give its rows again).
func (b *builder) checkDerivedUnion(u *ast.SetOprStmt) error {
	if u.Limit != nil {
		return errUnsupported("a derived UNION with LIMIT across shards (its result would be per shard)")
	}
	if u.SelectList == nil || constantRows(u) {
		// (Rows of constants are on every shard alike, as a global
		// table's are: outerJoinsDerivedCopies refuses them kept by an
		// outer join.)
		return nil
	}
	for i, part := range u.SelectList.Selects {
		if i > 0 {
			if op := setOprOf(part); op == nil || *op != ast.UnionAll {
				return errUnsupported("a derived UNION, INTERSECT or EXCEPT that removes duplicates across shards (each shard would remove only its own)")
			}
		}
		sel, ok := part.(*ast.SelectStmt)
		if !ok {
			return errUnsupported("a derived UNION of nested set operations across shards")
		}
		if !b.readsShards(sel) {
			return errUnsupported("a derived UNION ALL with a part that reads no sharded table, across shards (every shard would give its rows again)")
		}
		if err := b.checkDerivedSelect(sel); err != nil {
			return err
		}
	}
	return nil
}

// constantRows reports a UNION ALL of SELECTs that read no table.
func constantRows(u *ast.SetOprStmt) bool {
	for i, part := range u.SelectList.Selects {
		sel, ok := part.(*ast.SelectStmt)
		if !ok || sel.From != nil || i > 0 && (sel.AfterSetOperator == nil || *sel.AfterSetOperator != ast.UnionAll) {
			return false
		}
	}
	sub := false
	u.Accept(visitFunc(func(n ast.Node) bool {
		_, isSub := n.(*ast.SubqueryExpr)
		sub = sub || isSub
		return !sub
	}))
	return !sub
}

// setOprOf returns how a part joins the ones before it in a set operation.
func setOprOf(n ast.Node) *ast.SetOprType {
	switch x := n.(type) {
	case *ast.SelectStmt:
		return x.AfterSetOperator
	case *ast.SetOprSelectList:
		return x.AfterSetOperator
	}
	return nil
}

// readsShards reports whether a SELECT's FROM names a sharded table.
func (b *builder) readsShards(sel *ast.SelectStmt) bool {
	return sel.From != nil && b.readsShardsIn(sel.From.TableRefs)
}
