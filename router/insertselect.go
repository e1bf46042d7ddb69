package router

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// An INSERT ... SELECT that no one server can run (the SELECT reads other
// nodes or shards than the rows go to, or the target is sharded or has
// copies) is copied by the proxy: the executor runs the SELECT as a read
// plan, holds its rows (bounded), renders each as a VALUES tuple and
// inserts it where its key places it, in the statement's transaction.
// Like MySQL, it reads every row before writing any, so a table may be
// copied into itself.

// InsertSelect is such an INSERT.
type InsertSelect struct {
	Table string // logical name, for messages
	// Columns is how many columns the INSERT names, which the SELECT's
	// must match (0: unknown, the servers check).
	Columns int
	Source  Primitive // the SELECT, as a read plan
	// Targets are where rows go: by shard index for a sharded table or an
	// ER child, every copy of a global table (Broadcast), or one node.
	Targets   []InsertTarget
	Broadcast bool
	// Key is the placing column's index among the columns (-1: one target,
	// or every target).
	Key int
	// Owner gives a row's shard from its key (nil: NULL; numeric says the
	// SELECT's column is a number); nil when the parent must be asked: then
	// Lookup builds the query, as for MoveRows.
	Owner  func(v []byte, numeric bool) (int, error)
	Lookup func(keys []string) *Scatter
	// Escapes: backslash escapes in string literals (no NO_BACKSLASH_ESCAPES).
	Escapes bool
}

// InsertTarget is one physical table rows go to: the INSERT is
// Head + tuples joined by ", " + Tail.
type InsertTarget struct {
	Node, Table string
	Head, Tail  string
}

func (p *InsertSelect) explain(b *strings.Builder, d int) {
	how := "by key"
	switch {
	case p.Broadcast:
		how = "to every copy"
	case p.Key < 0:
		how = "to one node"
	case p.Lookup != nil:
		how = "by parent"
	}
	line(b, d, "InsertSelect %s %s", p.Table, how)
	for _, t := range p.Targets {
		line(b, d+1, "%s %s: %s(...)%s", t.Node, t.Table, t.Head, t.Tail)
	}
	p.Source.explain(b, d+1)
}

// rowsMarker stands for the tuples while the INSERT's head is rendered.
const rowsMarker = "`__sg_rows__`"

// planInsertSelect plans an INSERT ... SELECT the proxy copies.
func (b *builder) planInsertSelect(ins *ast.InsertStmt, at int) (Primitive, error) {
	target := b.tables[at]
	src, ok := ins.Select.(ast.StmtNode)
	if !ok {
		return nil, errUnsupported("INSERT ... SELECT of this form across shards")
	}
	rule := target.rule
	placed := rule.Kind == shardrules.Sharded || rule.Kind == shardrules.Child
	var cols []string
	if placed || len(ins.Columns) > 0 || b.env.Columns != nil {
		var err error
		if cols, err = b.insertColumns(ins, target); err != nil {
			return nil, err
		}
	}
	if len(ins.OnDuplicate) > 0 {
		if err := b.checkDuplicateUpdate(ins, target); err != nil {
			return nil, err
		}
	}
	source, err := Build(src, b.env)
	if err != nil {
		return nil, err
	}
	p := &InsertSelect{Table: rule.Name, Columns: len(cols), Source: source.Root, Key: -1, Escapes: b.env.Mode&parser.ModeNoBackslashEscapes == 0}
	var units []unit
	switch rule.Kind {
	case shardrules.Global:
		p.Broadcast = true
		for _, n := range target.rules.Nodes {
			units = append(units, b.unitFor(n, -1))
		}
	case shardrules.Sharded, shardrules.Child:
		for i := range rule.AllPlacements() {
			units = append(units, b.unitFor(rule.Shard(i).Node, i))
		}
		for i, c := range cols {
			if strings.EqualFold(c, rule.Column) {
				p.Key = i
			}
		}
		if p.Key < 0 {
			return nil, errUnsupported("INSERT into %s without its sharding column %s", rule.Name, rule.Column)
		}
		if rule.Kind == shardrules.Sharded || rule.ChildRoutesByValue() {
			p.Owner = b.rowOwner(target, "copying")
		} else {
			p.Lookup = func(keys []string) *Scatter { return b.lookupParents(rule, keys) }
		}
	default:
		units = []unit{b.unitFor(rule.Node, -1)}
	}
	// Render the INSERT without its SELECT, a marker for its rows.
	sel, lists, names := ins.Select, ins.Lists, ins.Columns
	defer func() { ins.Select, ins.Lists, ins.Columns = sel, lists, names }()
	ins.Select = nil
	ins.Lists = [][]ast.ExprNode{{&ast.ColumnNameExpr{Name: &ast.ColumnName{Name: ast.NewCIStr("__sg_rows__")}}}}
	if len(names) == 0 && len(cols) > 0 {
		ins.Columns = make([]*ast.ColumnName, len(cols))
		for i, c := range cols {
			ins.Columns[i] = &ast.ColumnName{Name: ast.NewCIStr(c)}
		}
	}
	for _, u := range units {
		sql, err := b.render(u)
		if err != nil {
			return nil, err
		}
		head, tail, ok := strings.Cut(sql, "("+rowsMarker+")")
		if !ok {
			return nil, errUnsupported("INSERT ... SELECT of this form across shards")
		}
		p.Targets = append(p.Targets, InsertTarget{Node: u.node, Table: u.phys[at].Table, Head: head, Tail: tail})
	}
	return p, nil
}

// checkDuplicateUpdate refuses an ON DUPLICATE KEY UPDATE that reads the
// SELECT's columns: the rows arrive as VALUES, where only the table's own
// columns and VALUES(col) have a meaning. It also refuses changing a
// column that places rows.
func (b *builder) checkDuplicateUpdate(ins *ast.InsertStmt, target *tableInfo) error {
	if err := b.checkAssignments(ins.OnDuplicate, 0); err != nil {
		return err
	}
	if b.env.Columns == nil {
		return errUnsupported("ON DUPLICATE KEY UPDATE in an INSERT ... SELECT across shards: the columns of %s are unknown", target.rule.Name)
	}
	all, err := b.env.Columns(target.schema, target.rule.Name)
	if err != nil {
		return err
	}
	own := map[string]bool{}
	for _, c := range all {
		own[strings.ToLower(c)] = true
	}
	var bad string
	for _, a := range ins.OnDuplicate {
		a.Expr.Accept(visitFunc(func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.ValuesExpr:
				return false
			case *ast.ColumnNameExpr:
				q := x.Name.Table.L
				if (q != "" && q != strings.ToLower(target.ref.Name)) || !own[x.Name.Name.L] {
					if bad == "" {
						bad = x.Name.String()
					}
				}
			}
			return bad == ""
		}))
	}
	if bad != "" {
		return errUnsupported("ON DUPLICATE KEY UPDATE reading %s, a column of the SELECT, in an INSERT ... SELECT across shards: use VALUES(column)", bad)
	}
	return nil
}

// rowOwner gives a row's shard from the value of t's placing column, as a
// result prints it (nil: NULL; numeric: a number type). doing names the
// statement in errors.
func (b *builder) rowOwner(t *tableInfo, doing string) func(v []byte, numeric bool) (int, error) {
	rule := t.rule
	return func(v []byte, numeric bool) (int, error) {
		val := shardrules.NullValue()
		switch {
		case v == nil:
		case numeric:
			val = shardrules.DecimalValue(string(v))
		default:
			val = shardrules.BytesValue(v)
		}
		s, err := b.shardOf(t, val, true)
		if err != nil {
			return 0, errUnsupported("%s a %s row: %v", doing, rule.Name, err)
		}
		return s, nil
	}
}
