package router

import (
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// planInsert splits a sharded INSERT into one INSERT per shard holding its
// rows, broadcasts an INSERT into a global table, and sends anything else
// to the node that holds the table.
func (b *builder) planInsert(ins *ast.InsertStmt) (Primitive, error) {
	parser.ReplaceSessionFuncs(b.stmt, &b.env.Values)
	at := b.insertTarget(ins)
	target := b.tables[at]
	if target.system {
		return nil, errUnsupported("writing to %s.%s through the proxy", target.schema, target.ref.Name)
	}
	if ins.Select != nil {
		// One server runs it when the rows it reads and writes are there;
		// otherwise the proxy copies them.
		units, err := b.place(nil, true)
		if err == nil && len(units) == 1 && (target.rule.Kind != shardrules.Global || len(target.rules.Nodes) == 1) {
			return b.renderRoutes(units)
		}
		return b.planInsertSelect(ins, at)
	}
	switch target.rule.Kind {
	case shardrules.Global:
		if err := b.checkGlobalReads(); err != nil {
			return nil, err
		}
		if err := b.checkSameOnEveryCopy(); err != nil {
			return nil, err
		}
		units, err := b.place(nil, true)
		if err != nil {
			return nil, err
		}
		routes, err := b.renderAll(units)
		if err != nil {
			return nil, err
		}
		return &Broadcast{Routes: routes}, nil
	case shardrules.Single, shardrules.Default:
		units, err := b.place(nil, true)
		if err != nil {
			return nil, err
		}
		return b.renderRoutes(units)
	}
	if err := b.checkAssignments(ins.OnDuplicate, 0); err != nil {
		return nil, err
	}
	if err := b.checkValuesReads(at); err != nil {
		return nil, err
	}
	cols, err := b.insertColumns(ins, target)
	if err != nil {
		return nil, err
	}
	rows := ins.Lists // INSERT ... SET is parsed into Columns and one row too
	rule := target.rule
	col := rule.Column
	idx := -1
	for i, c := range cols {
		if strings.EqualFold(c, col) {
			idx = i
		}
	}
	if idx < 0 {
		return nil, errUnsupported("INSERT into %s without its sharding column %s", rule.Name, col)
	}
	keys := make([]shardrules.Value, len(rows))
	for i, row := range rows {
		if idx >= len(row) {
			return nil, mysql.NewDefaultError(mysql.ER_WRONG_VALUE_COUNT_ON_ROW, i+1)
		}
		v, ok := b.literal(row[idx], len(rows) == 1, notBound)
		if !ok {
			return nil, errUnsupported("an INSERT whose sharding column %s.%s is not a constant (%s)", rule.Name, col, exprText(row[idx]))
		}
		keys[i] = v
	}
	if rule.Kind == shardrules.Child && !rule.ChildRoutesByValue() {
		b.routingIndex = idx
		return b.childInsert(ins, rows, keys)
	}
	shardOf := make([]int, len(rows))
	for i, k := range keys {
		s, err := b.shardOf(target, k, true)
		if noPlace(err) {
			return nil, errUnsupported("a row of %s whose sharding key has no place of its own: %v", rule.Name, err)
		}
		if err != nil {
			return nil, mysql.NewError(mysql.ER_WRONG_VALUE_FOR_TYPE, "shardgate: table "+rule.Name+": "+err.Error())
		}
		shardOf[i] = s
	}
	return b.insertByShard(ins, rows, shardOf)
}

// insertKind classifies an INSERT of rows (VALUES or SET).
func insertKind(ins *ast.InsertStmt) InsertKind {
	switch {
	case len(ins.Lists) < 2 || ins.Select != nil:
		return NotInsert
	case ins.IsReplace:
		return InsertReplace
	case len(ins.OnDuplicate) > 0:
		return InsertUpsert
	case ins.IgnoreErr:
		return InsertIgnore
	}
	return InsertPlain
}

// checkValuesReads refuses an INSERT into a sharded table whose values
// read a sharded table (a subquery): each shard's INSERT would read only
// its own shard of it. A single-node table they read must be on every
// node the rows go to; a global one is.
func (b *builder) checkValuesReads(at int) error {
	target := b.tables[at].rule
	for i, t := range b.tables {
		switch {
		case i == at || t.rule == nil || t.rule.Kind == shardrules.Global:
		case t.sharded():
			return errUnsupported("an INSERT into sharded table %s whose values read sharded table %s: each shard would read only its own part", target.Name, t.rule.Name)
		default:
			for _, p := range target.AllPlacements() {
				if p.Node != t.rule.Node {
					return errUnsupported("an INSERT into sharded table %s whose values read %s, which is on %s only: cross-node joins", target.Name, t.rule.Name, t.rule.Node)
				}
			}
		}
	}
	return nil
}

// insertTarget finds the reference an INSERT writes (an INSERT ... SELECT
// lists the SELECT's tables too).
func (b *builder) insertTarget(ins *ast.InsertStmt) int {
	if ts, ok := ins.Table.TableRefs.Left.(*ast.TableSource); ok {
		for i, t := range b.tables {
			if t.ref.Node == ts.Source {
				return i
			}
		}
	}
	return 0
}

// insertByShard renders one INSERT per shard with that shard's rows.
func (b *builder) insertByShard(ins *ast.InsertStmt, rows [][]ast.ExprNode, shardOf []int) (Primitive, error) {
	rule := b.tables[0].rule
	byShard := map[int][][]ast.ExprNode{}
	numbers := map[int][]int{} // the client's row numbers, by shard
	var order []int
	for i, s := range shardOf {
		if _, ok := byShard[s]; !ok {
			order = append(order, s)
		}
		byShard[s] = append(byShard[s], rows[i])
		numbers[s] = append(numbers[s], i+1)
	}
	var units []unit
	var sqls []string
	for _, s := range order {
		ins.Lists = byShard[s]
		u := b.unitFor(rule.Shard(s).Node, s)
		sql, err := b.render(u)
		if err != nil {
			return nil, err
		}
		units = append(units, u)
		sqls = append(sqls, sql)
	}
	routes := routesFor(units, sqls, false)
	if len(order) > 1 {
		for i, s := range order {
			for _, r := range routes {
				if r.Node == units[i].node {
					r.RowNumbers = append(r.RowNumbers, numbers[s])
				}
			}
		}
	}
	if len(routes) == 1 {
		return routes[0], nil
	}
	return &Scatter{Routes: routes}, nil
}

// childInsert plans an INSERT into an ER child whose parent key is not the
// parent's sharding column: the parent rows are looked up on every shard.
func (b *builder) childInsert(ins *ast.InsertStmt, rows [][]ast.ExprNode, keys []shardrules.Value) (Primitive, error) {
	rule := b.tables[0].rule
	parent := rule.Parent
	var in []string
	seen := map[string]bool{}
	idx := b.routingIndex
	for i, k := range keys {
		if k.IsNull() {
			return nil, mysql.NewError(mysql.ER_NO_REFERENCED_ROW_2, "shardgate: cannot place a "+rule.Name+" row with NULL "+rule.Column+": it has no "+parent.Name+" row")
		}
		lit := parser.RestoreExpr(rows[i][idx])
		if !seen[lit] {
			seen[lit] = true
			in = append(in, lit)
		}
	}
	lookup := b.lookupParents(rule, in)
	return &ChildInsert{
		Lookup: lookup,
		Place: func(owner map[string]int) (Primitive, error) {
			shardOf := make([]int, len(rows))
			for i, k := range keys {
				s, ok := owner[keyText(k)]
				if !ok {
					return nil, mysql.NewError(mysql.ER_NO_REFERENCED_ROW_2, "shardgate: cannot place a "+rule.Name+" row: no "+parent.Name+" row has "+rule.ParentColumn+" = "+k.String())
				}
				shardOf[i] = s
			}
			return b.insertByShard(ins, rows, shardOf)
		},
	}, nil
}

// keyText is a value as a server prints it in a result.
func keyText(v shardrules.Value) string { return v.Text() }

func quote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// insertColumns returns the INSERT's column list, or the table's columns.
func (b *builder) insertColumns(ins *ast.InsertStmt, t *tableInfo) ([]string, error) {
	if len(ins.Columns) > 0 {
		out := make([]string, len(ins.Columns))
		for i, c := range ins.Columns {
			out[i] = c.Name.O
		}
		return out, nil
	}
	if b.env.Columns == nil {
		return nil, errUnsupported("INSERT into sharded table %s without a column list", t.rule.Name)
	}
	cols, err := b.env.Columns(t.schema, t.rule.Name)
	if err != nil {
		return nil, err
	}
	return cols, nil
}

// checkAssignments refuses changing a column that decides where rows live:
// a sharding column, or a parent key children follow.
func (b *builder) checkAssignments(list []*ast.Assignment, scope int) error {
	for _, a := range list {
		ref := -1
		if a.Column.Table.O != "" {
			ref = b.names.Resolve(a.Column.Schema.O, a.Column.Table.O)
		} else {
			for i, t := range b.tables {
				if t.ref.Scope == scope && t.anchor(a.Column.Name.O) != "" {
					ref = i
					break
				}
			}
		}
		if ref < 0 {
			continue
		}
		t := b.tables[ref]
		if t.anchor(a.Column.Name.O) != "" {
			// Assigning the column to itself changes nothing.
			if cn, ok := a.Expr.(*ast.ColumnNameExpr); ok && strings.EqualFold(cn.Name.Name.O, a.Column.Name.O) {
				continue
			}
			// The value the row would have been inserted with places it
			// where the row it updates lives: the INSERT went there.
			if v, ok := a.Expr.(*ast.ValuesExpr); ok && v.Column != nil && strings.EqualFold(v.Column.Name.Name.O, a.Column.Name.O) && t.placedBy(a.Column.Name.O) {
				continue
			}
			return errUnsupported("changing %s.%s: in INSERT ... ON DUPLICATE KEY UPDATE: it decides which shard the row (or its child rows) lives on (an UPDATE statement can change it)", t.rule.Name, a.Column.Name.O)
		}
	}
	return nil
}

// planUpdate and planDelete route by the WHERE clause; several shards run
// the statement each, affected rows summed.
func (b *builder) planUpdate(up *ast.UpdateStmt) (Primitive, error) {
	a, t, err := b.placingAssignment(up)
	if err != nil {
		return nil, err
	}
	if a != nil {
		return b.planMove(up, a, t)
	}
	where := append([]ast.ExprNode{up.Where}, innerOns(up.TableRefs.TableRefs)...)
	return b.planWrite(where, &up.Limit, up.Order != nil)
}

func (b *builder) planDelete(del *ast.DeleteStmt) (Primitive, error) {
	where := append([]ast.ExprNode{del.Where}, innerOns(del.TableRefs.TableRefs)...)
	return b.planWrite(where, &del.Limit, del.Order != nil)
}

// planWrite plans an UPDATE or DELETE; limit points at its LIMIT clause
// (nil inside: none), ordered says it has ORDER BY.
func (b *builder) planWrite(where []ast.ExprNode, limit **ast.Limit, ordered bool) (Primitive, error) {
	parser.ReplaceSessionFuncs(b.stmt, &b.env.Values)
	for _, t := range b.tables {
		if t.system && t.ref.Scope == 0 {
			return nil, errUnsupported("writing to %s.%s through the proxy", t.schema, t.ref.Name)
		}
	}
	units, err := b.place(where, true)
	if err != nil {
		return nil, err
	}
	if len(units) > 1 && *limit != nil {
		switch {
		case b.writesGlobal() && b.orderedByPrimaryKey():
			// Every copy changes the same rows: the broadcast below.
		case b.writesGlobal():
			return nil, errUnsupported("UPDATE/DELETE with LIMIT on a global table unless ordered by its primary key (its copies could each change other rows)")
		case ordered:
			// Without LIMIT, ORDER BY only orders the changes, which each shard does.
			return nil, errUnsupported("UPDATE/DELETE with ORDER BY and LIMIT across shards (the first rows in that order may be on any shard)")
		default:
			return b.planLimitedWrite(units, limit)
		}
	}
	if b.writesGlobal() {
		if b.anySharded() {
			return nil, errUnsupported("a write to a global table that also reads sharded tables (a table whose SET column has no table name counts as written)")
		}
		if err := b.checkGlobalReads(); err != nil {
			return nil, err
		}
		if err := b.checkSameOnEveryCopy(); err != nil {
			return nil, err
		}
		routes, err := b.renderAll(units)
		if err != nil {
			return nil, err
		}
		if len(routes) > 1 {
			return &Broadcast{Routes: routes}, nil
		}
		return routes[0], nil
	}
	return b.renderRoutes(units)
}

// orderedByPrimaryKey reports an UPDATE or DELETE of one table ordered by
// plain columns among which is its whole primary key: a total order, the
// same on every copy of a global table.
func (b *builder) orderedByPrimaryKey() bool {
	var order *ast.OrderByClause
	switch s := b.stmt.(type) {
	case *ast.UpdateStmt:
		order = s.Order
	case *ast.DeleteStmt:
		order = s.Order
	}
	if order == nil || len(b.tables) != 1 || b.env.Keys == nil {
		return false
	}
	keys, err := b.env.Keys(b.tables[0].schema, b.tables[0].ref.Name)
	if err != nil || len(keys) == 0 {
		return false
	}
	named := map[string]bool{}
	for _, it := range order.Items {
		c, ok := unparen(it.Expr).(*ast.ColumnNameExpr)
		if !ok {
			return false
		}
		named[c.Name.Name.L] = true
	}
	for _, k := range keys {
		if !named[strings.ToLower(k)] {
			return false
		}
	}
	return true
}

// checkGlobalReads refuses a write to a global table that reads a
// single-node table: only that node's copy could run it, and the others
// would miss the change.
func (b *builder) checkGlobalReads() error {
	copies := b.globalNodes()
	for _, t := range b.tables {
		if t.rule == nil || (t.rule.Kind != shardrules.Single && t.rule.Kind != shardrules.Default) {
			continue
		}
		if slices.ContainsFunc(copies, func(n string) bool { return n != t.rule.Node }) {
			return errUnsupported("a write to a global table that reads %s, which is on %s only: the copies on other nodes cannot read it", t.rule.Name, t.rule.Node)
		}
	}
	return nil
}

// checkSameOnEveryCopy refuses a write to several copies of a global table
// that calls a function giving each copy another value. (NOW() and the
// like agree: the executor gives every copy the same @@timestamp.)
func (b *builder) checkSameOnEveryCopy() error {
	if len(b.globalNodes()) < 2 {
		return nil
	}
	var bad string
	b.stmt.Accept(visitFunc(func(n ast.Node) bool {
		if f, ok := n.(*ast.FuncCallExpr); ok && bad == "" {
			switch f.FnName.L {
			case "uuid", "uuid_short", "sys_guid", "random_bytes", "sysdate":
				bad = f.FnName.O
			case "rand":
				if len(f.Args) == 0 {
					bad = f.FnName.O
				}
			}
		}
		return bad == ""
	}))
	if bad != "" {
		return errUnsupported("%s() in a write to a global table: each copy would get another value (for the time, NOW() gives every copy the same)", strings.ToUpper(bad))
	}
	return nil
}

// writesGlobal reports whether an UPDATE or DELETE changes a global table:
// one whose columns its SET names, or a DELETE's target. (A global table
// it only reads is read from each node's copy, where the sharded rows
// it changes are.) An unqualified column among several tables counts
// them all.
func (b *builder) writesGlobal() bool {
	var own []int // the statement's tables, not its subqueries'
	for i, t := range b.tables {
		if t.ref.Scope == 0 {
			own = append(own, i)
		}
	}
	written := own
	switch s := b.stmt.(type) {
	case *ast.UpdateStmt:
		if len(own) > 1 {
			written = nil
			for _, a := range s.List {
				r := -1
				if a.Column.Table.O != "" {
					r = b.names.Resolve(a.Column.Schema.O, a.Column.Table.O)
				}
				if r < 0 {
					written = own
					break
				}
				written = append(written, r)
			}
		}
	case *ast.DeleteStmt:
		if s.IsMultiTable && s.Tables != nil {
			written = nil
			for _, tn := range s.Tables.Tables {
				r := b.names.Resolve(tn.Schema.O, tn.Name.O)
				if r < 0 {
					written = own
					break
				}
				written = append(written, r)
			}
		}
	}
	for _, i := range written {
		if t := b.tables[i]; t.rule != nil && t.rule.Kind == shardrules.Global {
			return true
		}
	}
	return false
}

func (b *builder) anySharded() bool {
	for _, t := range b.tables {
		if t.sharded() {
			return true
		}
	}
	return false
}

// renderAll renders the statement once per unit, grouped per node.
func (b *builder) renderAll(units []unit) ([]*Route, error) {
	sqls := make([]string, len(units))
	for i, u := range units {
		var err error
		if sqls[i], err = b.render(u); err != nil {
			return nil, err
		}
	}
	return routesFor(units, sqls, false), nil
}

// renderRoutes is renderAll as a single Route or a Scatter.
// planLimitedWrite plans an UPDATE or DELETE with LIMIT n and no ORDER BY
// over several shards: the server changes any n rows that match, so the
// shards take turns, each limited to what the ones before left.
func (b *builder) planLimitedWrite(units []unit, limit **ast.Limit) (Primitive, error) {
	l := *limit
	n, ok := l.Count.(ast.ValueExpr)
	if !ok || l.Offset != nil {
		return nil, errUnsupported("UPDATE/DELETE with this LIMIT across shards")
	}
	var count uint64
	switch v := n.GetValue().(type) {
	case int64:
		if v < 0 {
			return nil, errUnsupported("UPDATE/DELETE with this LIMIT across shards")
		}
		count = uint64(v)
	case uint64:
		count = v
	default:
		return nil, errUnsupported("UPDATE/DELETE with this LIMIT across shards")
	}
	*limit = nil // each shard's statement gets its own
	defer func() { *limit = l }()
	routes, err := b.renderAll(units)
	if err != nil {
		return nil, err
	}
	return &LimitedWrite{Routes: routes, Limit: count}, nil
}

func (b *builder) renderRoutes(units []unit) (Primitive, error) {
	routes, err := b.renderAll(units)
	if err != nil {
		return nil, err
	}
	if len(routes) == 1 {
		return routes[0], nil
	}
	return &Scatter{Routes: routes}, nil
}
