package router

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	tidbmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// Build plans one parsed statement.
func Build(stmt ast.StmtNode, env *Env) (*Plan, error) {
	_, p, err := build(stmt, env)
	return p, err
}

func build(stmt ast.StmtNode, env *Env) (*builder, *Plan, error) {
	b := &builder{env: env, stmt: stmt}
	if err := b.resolve(); err != nil {
		return nil, nil, err
	}
	KeepFieldNames(stmt)
	var root Primitive
	var err error
	write := true
	kind := NotInsert
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		write = false
		root, err = b.planSelect(s)
	case *ast.SetOprStmt:
		write = false
		root, err = b.planUnion(s)
	case *ast.InsertStmt:
		kind = insertKind(s) // before planning splits its rows
		root, err = b.planInsert(s)
	case *ast.UpdateStmt:
		root, err = b.planUpdate(s)
	case *ast.DeleteStmt:
		root, err = b.planDelete(s)
	case *ast.CreateTableStmt, *ast.AlterTableStmt, *ast.TruncateTableStmt, *ast.CreateIndexStmt, *ast.DropIndexStmt:
		root, err = b.planTableDDL()
	case *ast.DropTableStmt:
		if s.IsView {
			root, err = b.planWhole()
		} else {
			root, err = b.planDropTable(s)
		}
	case *ast.RenameTableStmt:
		root, err = b.planRename()
	case *ast.ExplainStmt:
		write = false
		root, err = b.planExplain(s)
	case *ast.LoadDataStmt:
		root, err = b.planLoad(s)
	case *ast.ShowStmt:
		if s.Tp == ast.ShowOpenTables {
			// They would name every database's physical tables.
			return nil, nil, errUnsupported("SHOW OPEN TABLES in a sharded schema: the servers' table caches hold physical tables")
		}
		root, err = b.planWhole()
	default:
		root, err = b.planWhole()
	}
	if err != nil {
		return nil, nil, err
	}
	p := &Plan{Root: root, Write: write, Insert: kind, FoundRows: b.foundRows}
	if _, one := root.(*Route); !write && !one {
		p.SameTime = ReadsClock(stmt)
	}
	for _, t := range b.tables {
		if t.rule != nil {
			p.Tables = append(p.Tables, t.rule.Name)
		}
	}
	return b, p, nil
}

// clockFunctions are the functions that read the statement's time
// (@@timestamp); SYSDATE() reads the clock at each call, on one server too.
var clockFunctions = map[string]bool{"now": true, "current_timestamp": true, "localtime": true, "localtimestamp": true,
	"curdate": true, "current_date": true, "curtime": true, "current_time": true, "utc_date": true, "utc_time": true,
	"utc_timestamp": true, "unix_timestamp": true}

// ReadsClock reports whether a statement calls a clockFunctions one.
func ReadsClock(stmt ast.Node) bool {
	found := false
	stmt.Accept(visitFunc(func(n ast.Node) bool {
		if f, ok := n.(*ast.FuncCallExpr); ok && clockFunctions[f.FnName.L] {
			found = true
		}
		return !found
	}))
	return found
}

// FirstShardSQL prints a statement for the node of its first shard, each
// table renamed to its first physical table: a prepared statement's
// column and parameter metadata comes from preparing it there.
func FirstShardSQL(stmt ast.StmtNode, env *Env) (node, sql string, err error) {
	node, sql, _, err = firstShardSQL(stmt, env, false)
	return node, sql, err
}

// PrepareSQL is FirstShardSQL for a prepared statement's metadata. Its
// tables on one node each that are on other nodes are twins: the server
// there describes the statement once it has an empty temporary table of
// each one's definition. Refused when another table is not on that node.
func PrepareSQL(stmt ast.StmtNode, env *Env) (node, sql string, twins []shardrules.Placement, err error) {
	return firstShardSQL(stmt, env, true)
}

func firstShardSQL(stmt ast.StmtNode, env *Env, whole bool) (node, sql string, twins []shardrules.Placement, err error) {
	b := &builder{env: env, stmt: stmt}
	if err := b.resolve(); err != nil {
		return "", "", nil, err
	}
	KeepFieldNames(stmt)
	// A table on one node decides; sharded tables take a shard there.
	node = ""
	for _, t := range b.tables {
		if t.rule != nil && (t.rule.Kind == shardrules.Single || t.rule.Kind == shardrules.Default) {
			node = t.rule.Node
			break
		}
	}
	shard := 0
	for _, t := range b.tables {
		if !t.sharded() {
			continue
		}
		if node == "" {
			node = t.rule.Shard(0).Node
			break
		}
		for i := 0; i < t.rule.Shards; i++ {
			if t.rule.Shard(i).Node == node {
				shard = i
				break
			}
		}
		break
	}
	if node == "" {
		node = b.anyNode()
		if gs := b.globalNodes(); len(gs) > 0 {
			node = gs[0]
		}
	}
	twins, apart := b.twins(node)
	if whole && apart != "" {
		if dup := DerivedDuplicate(stmt); dup != nil {
			return "", "", nil, dup // the server's error comes first
		}
		return "", "", nil, errUnsupported("a prepared statement over tables on different data nodes (%s is not on %s): run it as a text query", apart, node)
	}
	sql, err = b.render(b.unitFor(node, shard))
	return node, sql, twins, err
}

// twins lists the statement's tables on one node each that are not on
// node, each once (see PrepareSQL); apart names another table not there:
// a global table not copied there or a sharded table without a shard
// there ("" when none).
func (b *builder) twins(node string) (twins []shardrules.Placement, apart string) {
	for _, t := range b.tables {
		switch {
		case t.on(node):
		case t.rule.Kind == shardrules.Single || t.rule.Kind == shardrules.Default:
			p := shardrules.Placement{Node: t.rule.Node, Table: t.rule.AllPlacements()[0].Table}
			if !slices.Contains(twins, p) {
				twins = append(twins, p)
			}
		default:
			return twins, t.ref.Name
		}
	}
	return twins, ""
}

// on reports whether the table is on node: a single-node or default-node
// table there, a global table copied there, a sharded table with a shard
// there (or not one of the rules' tables).
func (t *tableInfo) on(node string) bool {
	switch {
	case t.rule == nil:
	case t.rule.Kind == shardrules.Single || t.rule.Kind == shardrules.Default:
		return t.rule.Node == node
	case t.rule.Kind == shardrules.Global:
		return slices.Contains(t.rules.Nodes, node)
	case t.sharded():
		for i := 0; i < t.rule.Shards; i++ {
			if t.rule.Shard(i).Node == node {
				return true
			}
		}
		return false
	}
	return true
}

// KeepFieldNames gives every computed select field its original text as
// alias: printing the statement again normalizes expressions (COUNT(*)
// becomes COUNT(1)), and the client must see the column names it would
// get from one MySQL.
func KeepFieldNames(stmt ast.Node) {
	stmt.Accept(visitFunc(func(n ast.Node) bool {
		if w, ok := n.(*ast.WithClause); ok {
			nameLongExpressions(w)
		}
		f, ok := n.(*ast.SelectField)
		if !ok || f.WildCard != nil || f.AsName.O != "" || f.Expr == nil {
			return true
		}
		e, set := f.Expr, func(v ast.ExprNode) { f.Expr = v }
		for p, ok := e.(*ast.ParenthesesExpr); ok; p, ok = e.(*ast.ParenthesesExpr) {
			e, set = p.Expr, func(v ast.ExprNode) { p.Expr = v }
		}
		t := strings.TrimSpace(f.Text())
		switch x := e.(type) {
		case *ast.ColumnNameExpr:
			return true // named by the column
		case ast.ValueExpr:
			// A string is named by its value. A number is named and typed
			// by its text, which printing may change (0.001e+1 becomes
			// 1e-02, 00065536 a 65536 typed INT, not BIGINT): it goes as
			// written, its token in the field's text (which runs on over
			// comments, and starts at the parentheses around it).
			if isNumber(x) {
				l := parser.NewLexer(t)
				tok := l.Next()
				for tok.Kind != parser.TokNumber && tok.Kind != parser.TokEOF {
					tok = l.Next()
				}
				if tok.Kind == parser.TokNumber {
					set(parser.KeepText(x, t[tok.Start:tok.End]))
				}
			}
			return true
		case *ast.UnaryOperationExpr:
			// MariaDB names +5 as 5.
			if v, ok := x.V.(ast.ValueExpr); ok && x.Op == opcode.Plus && isNumber(v) {
				t = strings.TrimSpace(strings.TrimPrefix(t, "+"))
			}
		}
		if t != "" {
			f.AsName = ast.NewCIStr(parser.ColumnName(t))
		}
		return true
	}))
}

// nameLongExpressions names as MariaDB does the columns of WITH queries
// that it would name by text longer than 64 characters: Name_exp_N, N
// the column's position. (A derived table keeps the text.)
func nameLongExpressions(w *ast.WithClause) {
	for _, cte := range w.CTEs {
		if cte.Query == nil || len(cte.ColNameList) > 0 {
			continue
		}
		sel := firstSelect(cte.Query.Query)
		if sel == nil || sel.Fields == nil {
			continue
		}
		for i, f := range sel.Fields.Fields {
			if f.WildCard != nil {
				break // (positions after a * count its columns)
			}
			if _, col := f.Expr.(*ast.ColumnNameExpr); col || f.AsName.O != "" {
				continue
			}
			text := strings.TrimSpace(f.Text())
			if v, ok := f.Expr.(ast.ValueExpr); ok {
				if str, isStr := v.GetValue().(string); isStr {
					text = str
				}
			}
			if utf8.RuneCountInString(parser.ColumnName(text)) > 64 {
				f.AsName = ast.NewCIStr(fmt.Sprintf("Name_exp_%d", i+1))
			}
		}
	}
}

// isNumber reports whether a literal is a number (not a string, NULL or
// boolean word).
func isNumber(v ast.ValueExpr) bool {
	switch v.GetValue().(type) {
	case int64, uint64, float64, *test_driver.MyDecimal:
		return v.GetType().GetFlag()&tidbmysql.IsBooleanFlag == 0
	}
	return false
}

// planWhole sends a statement as it is to the one node its tables live on
// (views, procedures, DO, CALL, statements without tables).
func (b *builder) planWhole() (Primitive, error) {
	units, err := b.place(nil, true)
	if err != nil {
		return nil, err
	}
	if len(units) != 1 {
		if b.anySharded() {
			return nil, errUnsupported("this statement on sharded tables")
		}
		if _, ok := b.stmt.(ast.DDLNode); !ok {
			return nil, errUnsupported("this statement on global tables")
		}
	}
	return b.renderRoutes(units)
}

// planExplain runs EXPLAIN where the statement would run: on each of its
// shards, their plans one after another.
func (b *builder) planExplain(s *ast.ExplainStmt) (Primitive, error) {
	var where []ast.ExprNode // an UPDATE's or DELETE's (a SELECT's are its scope's)
	switch x := s.Stmt.(type) {
	case *ast.UpdateStmt:
		where = append([]ast.ExprNode{x.Where}, innerOns(x.TableRefs.TableRefs)...)
	case *ast.DeleteStmt:
		where = append([]ast.ExprNode{x.Where}, innerOns(x.TableRefs.TableRefs)...)
	}
	units, err := b.place(where, false)
	if err != nil {
		return nil, err
	}
	routes, err := b.renderAll(units)
	if err != nil {
		return nil, err
	}
	return scatterOrRoute(routes), nil
}

// planUnion plans UNION: whole on one node when everything lives there;
// across shards, UNION ALL parts are planned one by one and concatenated,
// and plain parts can also be merged: sorted on every column to drop
// duplicates (UNION DISTINCT), with the outer ORDER BY and LIMIT.
func (b *builder) planUnion(s *ast.SetOprStmt) (Primitive, error) {
	units, err := b.place(nil, false)
	if err == nil && len(units) == 1 {
		parser.ReplaceSessionFuncs(b.stmt, &b.env.Values)
		return b.renderRoutes(units)
	}
	var parts []*ast.SelectStmt
	lastDistinct := -1 // the last part joined by UNION DISTINCT
	ownLimit := false  // a part orders or limits its own rows
	var setOp *SetOp   // INTERSECT or EXCEPT
	for _, sel := range s.SelectList.Selects {
		st, ok := sel.(*ast.SelectStmt)
		if list, isList := sel.(*ast.SetOprSelectList); isList && len(list.Selects) == 1 {
			// A part in parentheses: (SELECT ...) UNION (SELECT ...).
			if inner, one := list.Selects[0].(*ast.SelectStmt); one {
				inner.IsInBraces, inner.AfterSetOperator = false, list.AfterSetOperator
				st, ok = inner, true
				ownLimit = ownLimit || inner.OrderBy != nil || inner.Limit != nil
			}
		}
		if !ok {
			return nil, errUnsupported("nested set operations across shards")
		}
		if st.AfterSetOperator != nil {
			switch *st.AfterSetOperator {
			case ast.UnionAll:
			case ast.Union:
				lastDistinct = len(parts)
			default:
				op := *st.AfterSetOperator
				if len(s.SelectList.Selects) != 2 {
					return nil, errUnsupported("INTERSECT/EXCEPT with other set operations across shards")
				}
				setOp = &SetOp{Except: op == ast.Except || op == ast.ExceptAll, All: op == ast.ExceptAll || op == ast.IntersectAll}
			}
		}
		parts = append(parts, st)
	}
	if s.With != nil {
		return nil, errUnsupported("WITH ... UNION across shards")
	}
	if setOp != nil {
		if ownLimit {
			return nil, errUnsupported("an INTERSECT/EXCEPT part with its own ORDER BY or LIMIT across shards")
		}
		return b.mergeUnion(s, parts, true, setOp)
	}
	if ownLimit && (lastDistinct >= 0 || s.OrderBy != nil || s.Limit != nil) {
		return nil, errUnsupported("a UNION part with its own ORDER BY or LIMIT in a UNION that removes duplicates, orders or limits across shards")
	}
	// UNION DISTINCT removes the duplicates of every part to its left, even
	// those joined by UNION ALL; the parts after the last one are appended
	// as they come.
	mixed := lastDistinct >= 0 && lastDistinct < len(parts)-1
	if mixed && (s.OrderBy != nil || s.Limit != nil) {
		return nil, errUnsupported("UNION ALL after UNION DISTINCT with ORDER BY or LIMIT across shards")
	}
	if lastDistinct < 0 && s.OrderBy == nil && s.Limit == nil || mixed {
		var prims []Primitive
		if mixed {
			p, err := b.mergeUnion(&ast.SetOprStmt{}, parts[:lastDistinct+1], true, nil)
			if err != nil {
				return nil, err
			}
			prims, parts = append(prims, p), parts[lastDistinct+1:]
		}
		for _, st := range parts {
			st.AfterSetOperator = nil
			sub := &builder{env: b.env, stmt: st}
			if err := sub.resolve(); err != nil {
				return nil, err
			}
			p, err := sub.planSelect(st)
			if err != nil {
				return nil, err
			}
			prims = append(prims, p)
		}
		return &Concat{Inputs: prims}, nil
	}
	return b.mergeUnion(s, parts, lastDistinct >= 0, nil)
}

// mergeUnion merges plain parts: every shard of every part sorts by the
// outer ORDER BY then (DISTINCT) every column, with weight strings. For
// INTERSECT and EXCEPT (setOp, two parts, distinct) each part's rows also
// say which part they come from, which the merge sorts last, the right
// part's first.
func (b *builder) mergeUnion(s *ast.SetOprStmt, parts []*ast.SelectStmt, distinct bool, setOp *SetOp) (Primitive, error) {
	width := -1
	for _, st := range parts {
		if st.GroupBy != nil || st.Having != nil || st.Distinct || st.OrderBy != nil || st.Limit != nil || hasAggregateFields(st) {
			return nil, errUnsupported("a UNION part with GROUP BY, DISTINCT, aggregates, ORDER BY or LIMIT across shards")
		}
		for _, f := range st.Fields.Fields {
			if f.WildCard != nil {
				return nil, errUnsupported("SELECT * in a UNION across shards")
			}
		}
		if width >= 0 && len(st.Fields.Fields) != width {
			return nil, mysql.NewDefaultError(mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT)
		}
		width = len(st.Fields.Fields)
	}
	// Sort positions: the outer ORDER BY, then every column for DISTINCT.
	type key struct {
		pos  int
		desc bool
	}
	var keys []key
	if s.OrderBy != nil {
		for _, it := range s.OrderBy.Items {
			pos := -1
			switch e := it.Expr.(type) {
			case *ast.PositionExpr:
				if e.N < 1 || e.N > width {
					return nil, ErrUnknownPosition(e.N, "ORDER BY")
				}
				pos = e.N - 1
			case *ast.ColumnNameExpr:
				for i, f := range parts[0].Fields.Fields {
					name := f.AsName.L
					if name == "" {
						if cn, ok := f.Expr.(*ast.ColumnNameExpr); ok {
							name = cn.Name.Name.L
						}
					}
					if name == e.Name.Name.L {
						pos = i
					}
				}
			}
			if pos < 0 || pos >= width {
				return nil, errUnsupported("this ORDER BY of a UNION across shards (use a column position or name)")
			}
			keys = append(keys, key{pos, it.Desc})
		}
	}
	if distinct {
		for i := 0; i < width; i++ {
			keys = append(keys, key{pos: i})
		}
	}
	m := &merger{shardLimit: -1, count: -1}
	if s.Limit != nil {
		if err := b.limitOf(&ast.SelectStmt{Limit: s.Limit}, m); err != nil {
			return nil, err
		}
	}
	var routes []*Route
	var helperCount int
	for part, st := range parts {
		st.AfterSetOperator = nil
		sub := &builder{env: b.env, stmt: st}
		if err := sub.resolve(); err != nil {
			return nil, err
		}
		where := []ast.ExprNode{st.Where}
		if st.From != nil {
			where = append(where, innerOns(st.From.TableRefs)...)
		}
		units, err := sub.place(where, false)
		if err != nil {
			return nil, err
		}
		parser.ReplaceSessionFuncs(st, &b.env.Values)
		pm := &merger{}
		var order []*ast.ByItem
		for _, k := range keys {
			pm.addHelper(st, weightString(st.Fields.Fields[k.pos].Expr))
			order = append(order, &ast.ByItem{Expr: &ast.PositionExpr{N: k.pos + 1}, Desc: k.desc})
		}
		if setOp != nil {
			pm.addHelper(st, ast.NewValueExpr(part, "", ""))
		}
		st.OrderBy = &ast.OrderByClause{Items: order}
		if !distinct && m.count >= 0 {
			setLimit(st, m.offset+m.count)
		}
		helperCount = pm.helpers
		sqls := make([]string, len(units))
		for i, u := range units {
			if sqls[i], err = sub.render(u); err != nil {
				return nil, err
			}
		}
		routes = append(routes, routesFor(units, sqls, true)...)
	}
	m.helpers = helperCount
	for i, k := range keys {
		m.keys = append(m.keys, SortKey{Col: Col{Index: k.pos}, Desc: k.desc, Weight: m.helperCol(i), HasWeight: true})
	}
	switch {
	case setOp != nil:
		setOp.Keys, setOp.Part = m.keys[len(m.keys)-width:], m.helperCol(len(keys))
		m.keys = append(m.keys, SortKey{Col: setOp.Part, Desc: true})
		m.setOp = setOp
	case distinct:
		m.distinct = m.keys[len(m.keys)-width:]
	}
	return m.build(&Scatter{Routes: routes, Union: true}), nil
}

func hasAggregateFields(sel *ast.SelectStmt) bool {
	for _, f := range sel.Fields.Fields {
		if f.Expr != nil && hasAggregate(f.Expr) {
			return true
		}
	}
	return false
}
