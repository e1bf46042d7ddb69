package parser

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// TableRef is one place a statement names a table: FROM, JOIN, a subquery,
// a derived table's inside, or the target of INSERT/UPDATE/DELETE/DDL.
type TableRef struct {
	Node   *ast.TableName
	Schema string // as written ("" when unqualified)
	Name   string // as written
	Alias  string // "" when none
	// Scope numbers the SELECT the reference belongs to (0 = the outer
	// statement); columns resolve within their scope first.
	Scope int
	// Outer is set for the inner side of a LEFT/RIGHT JOIN: conditions in
	// its ON clause do not restrict the other side.
	Outer bool
}

// Names is every table name in a statement, with the places that repeat a
// table's name (qualified columns, t.* wildcards, foreign-key references),
// so the statement can be printed again with physical names, once per shard.
type Names struct {
	Refs []*TableRef
	cols []colQualifier
	wild []wildQualifier
	fks  []fkRef
	// targets are multi-table DELETE targets named by table name.
	targets []target
	// Aliases maps lower-cased alias → ref index.
	aliases map[string]int
	// Scopes describes each SELECT, by scope number.
	Scopes []Scope
	// Default is the statement's default database: a table written
	// without one is in it, so db.t.col names FROM t when db is it.
	Default string
}

// Scope is one SELECT of a statement.
type Scope struct {
	Select *ast.SelectStmt // nil for a set operation's own scope
	// Rows says the scope's rows make up the statement's rows: the outer
	// SELECT, a UNION branch, or a derived table in FROM of such a scope.
	// Its WHERE then restricts which shards can contribute; a subquery's
	// WHERE only restricts the subquery.
	Rows bool
}

type fkRef struct {
	node          *ast.TableName
	schema, table string // as written
}

type wildQualifier struct {
	node      *ast.WildCardField
	ref       int
	hadSchema bool
}

type target struct {
	node *ast.TableName
	ref  int
}

type colQualifier struct {
	col    *ast.ColumnName
	ref    int // the ref it qualifies by table name (not alias)
	schema string
	table  string
}

// CollectNames finds every table name in stmt.
func CollectNames(stmt ast.Node) *Names { return CollectNamesIn(stmt, "") }

// CollectNamesIn is CollectNames for a statement whose default database
// is db (see Names.Default).
func CollectNamesIn(stmt ast.Node, db string) *Names {
	c := &nameCollector{n: &Names{aliases: map[string]int{}, Default: db}}
	switch stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
	default:
		// INSERT/UPDATE/DELETE/DDL: the statement itself is scope 0.
		c.next = 1
		c.n.Scopes = []Scope{{Rows: true}}
		c.kinds = []bool{false}
	}
	stmt.Accept(c)
	n := c.n
	// Columns and wildcards qualified by a table's own name (not an alias)
	// must follow that table's physical name.
	for _, q := range c.quals {
		if i := n.byName(q.Schema.O, q.Table.O); i >= 0 {
			n.cols = append(n.cols, colQualifier{col: q, ref: i, schema: q.Schema.O, table: q.Table.O})
		}
	}
	for _, w := range c.wilds {
		if i := n.byName(w.Schema.O, w.Table.O); i >= 0 {
			n.wild = append(n.wild, wildQualifier{node: w, ref: i, hadSchema: w.Schema.O != ""})
		}
	}
	for _, t := range c.targets {
		if i := n.byName(t.Schema.O, t.Name.O); i >= 0 {
			n.targets = append(n.targets, target{node: t, ref: i})
		}
	}
	return n
}

// byName finds the reference a qualifier names: by alias first, then by
// table name when that table has no alias.
func (n *Names) byName(schema, table string) int {
	if table == "" {
		return -1
	}
	if schema == "" {
		if _, ok := n.aliases[strings.ToLower(table)]; ok {
			return -1 // an alias: unchanged by renaming
		}
	}
	for i, r := range n.Refs {
		if r.Alias == "" && r.Name == table && (schema == "" || schema == r.Schema || r.Schema == "" && schema == n.Default) {
			return i
		}
	}
	return -1
}

// Resolve returns the index of the table reference a column qualifier
// (alias or table name, optionally schema-qualified) denotes, or -1.
func (n *Names) Resolve(schema, table string) int {
	if schema == "" {
		if i, ok := n.aliases[strings.ToLower(table)]; ok {
			return i
		}
	}
	for i, r := range n.Refs {
		if r.Alias == "" && strings.EqualFold(r.Name, table) && (schema == "" || strings.EqualFold(schema, r.Schema) || r.Schema == "" && strings.EqualFold(schema, n.Default)) {
			return i
		}
	}
	return -1
}

// Rename sets the physical names used by the next restore: fn gets each
// reference and returns the schema qualifier (kept "" when the reference
// was unqualified and the physical database is the connection's own) and
// table name to print.
func (n *Names) Rename(fn func(i int, r *TableRef) (schema, table string)) {
	phys := make([][2]string, len(n.Refs))
	for i, r := range n.Refs {
		s, t := fn(i, r)
		phys[i] = [2]string{s, t}
		r.Node.Schema = ast.NewCIStr(s)
		r.Node.Name = ast.NewCIStr(t)
	}
	for _, q := range n.cols {
		p := phys[q.ref]
		if q.schema != "" {
			q.col.Schema = ast.NewCIStr(p[0])
		}
		q.col.Table = ast.NewCIStr(p[1])
	}
	for _, t := range n.targets {
		p := phys[t.ref]
		if t.node.Schema.O != "" {
			t.node.Schema = ast.NewCIStr(p[0])
		}
		t.node.Name = ast.NewCIStr(p[1])
	}
	for _, w := range n.wild {
		p := phys[w.ref]
		if w.hadSchema {
			w.node.Schema = ast.NewCIStr(p[0])
		}
		w.node.Table = ast.NewCIStr(p[1])
	}
}

// Unqualify drops the database from the columns and wildcards that name
// r by its qualified name (db.t.col): rows of a derived table named t take
// its place, and no database holds them.
func (n *Names) Unqualify(r *TableRef) {
	i := slices.Index(n.Refs, r)
	for k, q := range n.cols {
		if q.ref == i && q.schema != "" {
			q.col.Schema = ast.NewCIStr("")
			n.cols[k].schema = ""
		}
	}
	for k, w := range n.wild {
		if w.ref == i && w.hadSchema {
			w.node.Schema = ast.NewCIStr("")
			n.wild[k].hadSchema = false
		}
	}
}

// RenameFK renames foreign-key references (CREATE/ALTER TABLE): fn gets
// each reference as written.
func (n *Names) RenameFK(fn func(schema, table string) (string, string)) {
	for _, f := range n.fks {
		s, name := fn(f.schema, f.table)
		f.node.Schema, f.node.Name = ast.NewCIStr(s), ast.NewCIStr(name)
	}
}

type nameCollector struct {
	n       *Names
	derived bool   // the next SELECT is a derived table's
	kinds   []bool // per open scope: is it a set operation
	quals   []*ast.ColumnName
	targets []*ast.TableName // multi-table DELETE targets: names or aliases
	wilds   []*ast.WildCardField
	scope   int
	next    int
	scopes  []int
	outer   int // >0 while inside the null-extended side of an outer join
}

func (c *nameCollector) Enter(in ast.Node) (ast.Node, bool) {
	switch x := in.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		// Each SELECT is a scope; the first one met is scope 0, shared
		// with an INSERT/UPDATE/DELETE target around it.
		rows := c.next == 0
		if len(c.kinds) > 0 {
			parentRows := c.n.Scopes[c.scope].Rows
			parentSet := c.kinds[len(c.kinds)-1]
			rows = parentRows && (parentSet || c.derived)
		}
		c.derived = false
		sel, _ := in.(*ast.SelectStmt)
		_, isSet := in.(*ast.SetOprStmt)
		c.scopes = append(c.scopes, c.scope)
		c.scope = c.next
		c.next++
		c.n.Scopes = append(c.n.Scopes, Scope{Select: sel, Rows: rows})
		c.kinds = append(c.kinds, isSet)
	case *ast.ExplainStmt:
		// The statement explained is the one whose rows count.
		c.derived = true
	case *ast.OptimizeTableStmt:
		// (Its Accept does not visit its tables.)
		for _, tn := range x.Tables {
			c.addRef(tn, "")
		}
	case *ast.DeleteTableList:
		c.targets = append(c.targets, x.Tables...)
		return in, true
	case *ast.Join:
		if x.Tp == ast.LeftJoin && x.Right != nil {
			// Visit the children ourselves so we know which side is outer.
			x.Left.Accept(c)
			c.outer++
			x.Right.Accept(c)
			c.outer--
			if x.On != nil {
				x.On.Accept(c)
			}
			return in, true
		}
		if x.Tp == ast.RightJoin && x.Right != nil {
			c.outer++
			x.Left.Accept(c)
			c.outer--
			x.Right.Accept(c)
			if x.On != nil {
				x.On.Accept(c)
			}
			return in, true
		}
	case *ast.TableSource:
		if tn, ok := x.Source.(*ast.TableName); ok {
			c.addRef(tn, x.AsName.O)
			return in, true
		}
		switch x.Source.(type) {
		case *ast.SelectStmt, *ast.SetOprStmt:
			c.derived = true
		}
	case *ast.ReferenceDef:
		if x.Table != nil {
			c.n.fks = append(c.n.fks, fkRef{node: x.Table, schema: x.Table.Schema.O, table: x.Table.Name.O})
		}
		return in, true
	case *ast.TableName:
		c.addRef(x, "")
	case *ast.ColumnName:
		if x.Table.O != "" {
			c.quals = append(c.quals, x)
		}
	case *ast.SelectField:
		// SelectField does not visit its wildcard.
		if w := x.WildCard; w != nil && w.Table.O != "" {
			c.wilds = append(c.wilds, w)
		}
	}
	return in, false
}

func (c *nameCollector) addRef(tn *ast.TableName, alias string) {
	r := &TableRef{Node: tn, Schema: tn.Schema.O, Name: tn.Name.O, Alias: alias, Scope: c.scope, Outer: c.outer > 0}
	if alias != "" {
		c.n.aliases[strings.ToLower(alias)] = len(c.n.Refs)
	}
	c.n.Refs = append(c.n.Refs, r)
}

func (c *nameCollector) Leave(in ast.Node) (ast.Node, bool) {
	switch in.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		if n := len(c.scopes); n > 0 {
			c.scope = c.scopes[n-1]
			c.scopes = c.scopes[:n-1]
			c.kinds = c.kinds[:len(c.kinds)-1]
		}
	}
	return in, true
}
