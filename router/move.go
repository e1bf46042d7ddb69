package router

import (
	"sort"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/shardrules"
)

// An UPDATE that changes the column placing its rows (a sharding column,
// or an ER child's parent key) moves the rows that land elsewhere: the
// executor finds the matched rows (locking them), updates in place those
// that stay, and for the others applies the update in place, copies the
// updated row to its new shard and deletes it from the old one — all in
// the statement's transaction, which the proxy makes atomic.

// MoveRows is such an UPDATE.
type MoveRows struct {
	Table string   // logical name, for messages
	Keys  []string // the table's primary key columns
	// Units are the shards the WHERE may match, with their statements.
	Units []MoveUnit
	// Shards are the table's physical tables by shard index (targets).
	Shards []shardrules.Placement
	// Owner gives a row's shard from the new value of its placing column
	// (nil for NULL; numeric says the column is a number). Nil when the
	// parent must be asked: then Lookup builds the query.
	Owner func(v []byte, numeric bool) (int, error)
	// Lookup asks every shard of the parent which of the keys (SQL
	// literals) it holds; the routes list shards in order, as for ChildInsert.
	Lookup func(keys []string) *Scatter
	// Children are the ER child tables that follow a row by a column of
	// it (not the sharding column): a moved row's child rows move with
	// it. Find's fields end with each child's parent column.
	Children []MoveChild
}

// MoveChild is a child table whose rows follow the moved rows.
type MoveChild struct {
	Table  string                 // logical name, for messages
	Column string                 // the child's column holding the parent's
	Shards []shardrules.Placement // by shard index, as the parent's
}

// MoveUnit is one shard the UPDATE may touch.
type MoveUnit struct {
	Node, Table string
	Shard       int
	// Find selects the matched rows, locked: their keys, their keys after
	// the update, and the placing column's new value.
	Find string
	// Update is the UPDATE for this shard with its WHERE replaced by
	// RowsFilter, which the executor replaces by a key list.
	Update string
}

// RowsFilter stands for the executor's "(keys) IN (...)" in MoveUnit.Update.
const RowsFilter = "`__sg_rows__`"

func (m *MoveRows) explain(b *strings.Builder, d int) {
	line(b, d, "MoveRows %s by (%s)", m.Table, strings.Join(m.Keys, ", "))
	for _, ch := range m.Children {
		line(b, d+1, "with %s by %s", ch.Table, ch.Column)
	}
	for _, u := range m.Units {
		line(b, d+1, "%s %s: %s", u.Node, u.Table, u.Find)
		line(b, d+1, "%s %s: %s", u.Node, u.Table, u.Update)
	}
}

// placingAssignment returns the assignment of a column that places the
// UPDATE's rows, and the table, or nil when rows stay where they are. An
// UPDATE that changes what children follow is refused.
func (b *builder) placingAssignment(up *ast.UpdateStmt) (*ast.Assignment, *tableInfo, error) {
	for _, a := range up.List {
		ref := -1
		if a.Column.Table.O != "" {
			ref = b.names.Resolve(a.Column.Schema.O, a.Column.Table.O)
		} else {
			for i, t := range b.tables {
				if t.ref.Scope == 0 && t.anchor(a.Column.Name.O) != "" {
					ref = i
					break
				}
			}
		}
		if ref < 0 {
			continue
		}
		t := b.tables[ref]
		if t.anchor(a.Column.Name.O) == "" {
			continue
		}
		// Assigning the column to itself changes nothing.
		if cn, ok := a.Expr.(*ast.ColumnNameExpr); ok && strings.EqualFold(cn.Name.Name.O, a.Column.Name.O) {
			continue
		}
		placing := strings.EqualFold(a.Column.Name.O, t.rule.Column)
		if !placing {
			return nil, nil, errUnsupported("changing %s.%s: child rows follow it to their shard", t.rule.Name, a.Column.Name.O)
		}
		return a, t, nil
	}
	return nil, nil, nil
}

// planMove plans an UPDATE whose assignment a changes where rows of t live.
func (b *builder) planMove(up *ast.UpdateStmt, a *ast.Assignment, t *tableInfo) (Primitive, error) {
	if len(b.tables) != 1 || up.MultipleTable {
		return nil, errUnsupported("a multiple-table UPDATE that changes %s.%s (which shard rows live on)", t.rule.Name, a.Column.Name.O)
	}
	if b.env.Keys == nil {
		return nil, errUnsupported("changing %s.%s: the table's primary key is unknown", t.rule.Name, a.Column.Name.O)
	}
	keys, err := b.env.Keys(t.schema, t.ref.Name)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errUnsupported("changing %s.%s (which shard rows live on) in a table without a primary key", t.rule.Name, a.Column.Name.O)
	}
	// Assignments see the columns assigned before them (MySQL evaluates
	// them in order); the new keys and placing value are computed from the
	// old row, so they must not read a column assigned earlier.
	assigned := map[string]*ast.Assignment{}
	for _, x := range up.List {
		name := strings.ToLower(x.Column.Name.O)
		if _, twice := assigned[name]; twice {
			// (The rows would be placed by the first value, and keep the last.)
			return nil, errUnsupported("an UPDATE that moves rows between shards and assigns %s twice", x.Column.Name.O)
		}
		for col := range assigned {
			if mentions(x.Expr, col) {
				return nil, errUnsupported("an UPDATE that moves rows between shards where the value given to %s reads %s, assigned before it", x.Column.Name.O, col)
			}
		}
		assigned[name] = x
	}
	fields := make([]*ast.SelectField, 0, 2*len(keys)+1)
	col := func(name string) ast.ExprNode {
		return &ast.ColumnNameExpr{Name: &ast.ColumnName{Name: ast.NewCIStr(name)}}
	}
	for _, k := range keys {
		fields = append(fields, &ast.SelectField{Expr: col(k)})
	}
	for _, k := range keys {
		e := col(k)
		if x, ok := assigned[strings.ToLower(k)]; ok {
			e = x.Expr
		}
		fields = append(fields, &ast.SelectField{Expr: e})
	}
	fields = append(fields, &ast.SelectField{Expr: a.Expr})
	children, err := b.followers(t)
	if err != nil {
		return nil, err
	}
	for _, ch := range children {
		fields = append(fields, &ast.SelectField{Expr: col(ch.ParentColumn)})
	}
	find := &ast.SelectStmt{
		SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		Kind:           ast.SelectStmtKindSelect,
		Fields:         &ast.FieldList{Fields: fields},
		From:           up.TableRefs,
		Where:          up.Where,
		OrderBy:        up.Order,
		Limit:          up.Limit,
		LockInfo:       &ast.SelectLockInfo{LockType: ast.SelectLockForUpdate},
	}
	units, err := b.place([]ast.ExprNode{up.Where}, true)
	if err != nil {
		return nil, err
	}
	if len(units) > 1 && up.Limit != nil {
		return nil, errUnsupported("UPDATE/DELETE with LIMIT across shards")
	}
	m := &MoveRows{Table: t.rule.Name, Keys: keys, Shards: t.rule.AllPlacements()}
	for _, ch := range children {
		m.Children = append(m.Children, MoveChild{Table: ch.Name, Column: ch.Column, Shards: ch.AllPlacements()})
	}
	where, order, limit := up.Where, up.Order, up.Limit
	defer func() { up.Where, up.Order, up.Limit = where, order, limit }()
	for _, u := range units {
		stmt := b.stmt
		b.stmt = find
		f, err := b.render(u)
		b.stmt = stmt
		if err != nil {
			return nil, err
		}
		up.Where, up.Order, up.Limit = col("__sg_rows__"), nil, nil
		upd, err := b.render(u)
		up.Where, up.Order, up.Limit = where, order, limit
		if err != nil {
			return nil, err
		}
		m.Units = append(m.Units, MoveUnit{Node: u.node, Table: u.phys[0].Table, Shard: u.shard, Find: f, Update: upd})
	}
	rule := t.rule
	if rule.Kind == shardrules.Sharded || rule.ChildRoutesByValue() {
		m.Owner = b.rowOwner(t, "moving")
	} else {
		m.Lookup = func(keys []string) *Scatter { return b.lookupParents(rule, keys) }
	}
	return m, nil
}

// followers lists the child tables whose rows follow a row of moved by a
// column that is not its sharding column (the others place their rows by
// their own value of it). Their own followers would have to move too:
// refused.
func (b *builder) followers(moved *tableInfo) ([]*shardrules.TableRule, error) {
	rule := moved.rule
	var out []*shardrules.TableRule
	for _, t := range moved.rules.Tables {
		if t.Kind != shardrules.Child || t.Parent != rule || t.ChildRoutesByValue() {
			continue
		}
		for _, g := range moved.rules.Tables {
			if g.Kind == shardrules.Child && g.Parent == t && !g.ChildRoutesByValue() {
				return nil, errUnsupported("moving %s rows: their %s rows would follow, and those rows' %s rows too", rule.Name, t.Name, g.Name)
			}
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// lookupParents asks each shard of a child's parent which of the keys
// (SQL literals) it holds in the parent column.
func (b *builder) lookupParents(rule *shardrules.TableRule, keys []string) *Scatter {
	var units []unit
	var sqls []string
	for i, p := range rule.Parent.AllPlacements() {
		units = append(units, unit{node: p.Node, shard: i})
		sqls = append(sqls, "SELECT "+quote(rule.ParentColumn)+" FROM "+quote(b.env.NodeDB(p.Node))+"."+quote(p.Table)+
			" WHERE "+quote(rule.ParentColumn)+" IN ("+strings.Join(keys, ", ")+")")
	}
	// Each shard's SELECT stays a separate statement, and Route.Shard
	// lists them in order: the executor learns which shard holds which key.
	return &Scatter{Routes: routesFor(units, sqls, false)}
}

// mentions reports whether e reads column col (lower case).
func mentions(e ast.ExprNode, col string) bool {
	v := &columnFinder{col: col}
	e.Accept(v)
	return v.found
}

type columnFinder struct {
	col   string
	found bool
}

func (v *columnFinder) Enter(n ast.Node) (ast.Node, bool) {
	if c, ok := n.(*ast.ColumnNameExpr); ok && strings.EqualFold(c.Name.Name.O, v.col) {
		v.found = true
	}
	return n, v.found
}

func (v *columnFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }
