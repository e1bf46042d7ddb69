package router

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// DDL through the proxy reaches every physical table of the logical one:
// each shard, each copy of a global table, or the one table on its node.

// planTableDDL plans a statement about one table (the first reference):
// CREATE/ALTER/TRUNCATE TABLE, CREATE/DROP INDEX.
func (b *builder) planTableDDL() (Primitive, error) {
	if len(b.tables) == 0 {
		return nil, errUnsupported("this statement")
	}
	t := b.tables[0]
	if t.system {
		return nil, errUnsupported("DDL on %s.%s through the proxy", t.schema, t.ref.Name)
	}
	if alter, ok := b.stmt.(*ast.AlterTableStmt); ok && t.sharded() {
		for _, spec := range alter.Specs {
			if spec.Tp == ast.AlterTableRenameTable {
				return nil, errUnsupported("renaming sharded table %s (its rule names it)", t.rule.Name)
			}
		}
	}
	if ct, ok := b.stmt.(*ast.CreateTableStmt); ok {
		if ct.Select != nil && (t.sharded() || t.rule.Kind == shardrules.Global) {
			return nil, errUnsupported("CREATE TABLE ... SELECT for a sharded or global table")
		}
		if err := b.checkKeyCollation(ct, t); err != nil {
			return nil, err
		}
	}
	var units []unit
	for i, p := range t.rule.AllPlacements() {
		u := unit{node: p.Node, shard: -1, phys: make([]shardrules.Placement, len(b.tables))}
		if t.sharded() {
			u.shard = i
		}
		for j, o := range b.tables {
			switch {
			case j == 0:
				u.phys[j] = p
			case o.rule == nil:
				u.phys[j] = shardrules.Placement{Node: p.Node, Table: o.ref.Name}
			case o.sharded() && t.sharded() && o.rule.Root == t.rule.Root:
				u.phys[j] = o.rule.Shard(i) // LIKE or FOREIGN KEY within the same family
			case o.rule.Kind == shardrules.Global:
				u.phys[j] = shardrules.Placement{Node: p.Node, Table: o.rule.Name}
			case o.sharded():
				return nil, errUnsupported("referring to sharded table %s from %s", o.rule.Name, t.rule.Name)
			default:
				if o.rule.Node != p.Node {
					return nil, errUnsupported("referring to %s (on %s) from %s on %s: cross-node", o.rule.Name, o.rule.Node, t.rule.Name, p.Node)
				}
				u.phys[j] = shardrules.Placement{Node: o.rule.Node, Table: o.rule.Name}
			}
		}
		units = append(units, u)
	}
	b.renameForeignKeys(t)
	sqls := make([]string, len(units))
	for i, u := range units {
		b.fkShard = u.shard
		var err error
		if sqls[i], err = b.render(u); err != nil {
			return nil, err
		}
	}
	return scatterOrRoute(routesFor(units, sqls, false)), nil
}

// renameForeignKeys makes FOREIGN KEY ... REFERENCES follow the shard: a
// reference to a table of the same family names that shard's table.
func (b *builder) renameForeignKeys(t *tableInfo) {
	b.fkTable = t
}

// render hook for foreign keys, set per unit.
func (b *builder) fkRename(schema, table string) (string, string) {
	t := b.fkTable
	if t == nil || t.rules == nil {
		return schema, table
	}
	r := t.rules.Lookup(table)
	if r == nil {
		return schema, table
	}
	if (r.Kind == shardrules.Sharded || r.Kind == shardrules.Child) && t.sharded() && r.Root == t.rule.Root && b.fkShard >= 0 {
		return "", r.Shard(b.fkShard).Table
	}
	return schema, table
}

// planDropTable drops every physical table of each named table.
func (b *builder) planDropTable(d *ast.DropTableStmt) (Primitive, error) {
	var units []unit
	var sqls []string
	all := d.Tables
	for i, t := range b.tables {
		if t.system {
			return nil, errUnsupported("dropping %s.%s through the proxy", t.schema, t.ref.Name)
		}
		for _, p := range t.rule.AllPlacements() {
			d.Tables = []*ast.TableName{all[i]}
			schema := ""
			if t.ref.Schema != "" || t.schema != b.env.Schema {
				schema = b.env.NodeDB(p.Node)
			}
			all[i].Schema, all[i].Name = ast.NewCIStr(schema), ast.NewCIStr(p.Table)
			sql, err := parser.RestoreMode([]ast.StmtNode{d}, b.env.Mode)
			if err != nil {
				return nil, err
			}
			units = append(units, unit{node: p.Node, shard: -1})
			sqls = append(sqls, sql)
		}
	}
	d.Tables = all
	return scatterOrRoute(routesFor(units, sqls, false)), nil
}

// planRename allows RENAME TABLE only for tables on one node that no rule
// names: the rules name sharded, global and single tables.
func (b *builder) planRename() (Primitive, error) {
	for _, t := range b.tables {
		if t.rule != nil && t.rule.Kind != shardrules.Default {
			return nil, errUnsupported("renaming %s: a table rule names it (edit the rules instead)", t.rule.Name)
		}
	}
	units, err := b.place(nil, true)
	if err != nil {
		return nil, err
	}
	return b.renderRoutes(units)
}

func scatterOrRoute(routes []*Route) Primitive {
	if len(routes) == 1 {
		return routes[0]
	}
	return &Scatter{Routes: routes}
}
