package router

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// Env is what the planner knows about the session and the rules.
type Env struct {
	// Schema is the session's logical schema ("" when none).
	Schema string
	// HomeSchema, when Schema is none of ours ("", information_schema),
	// is the schema whose node answers a statement that names no table
	// (the user's first).
	HomeSchema string
	// Rules returns a logical schema's rules, nil if there is no such schema.
	Rules func(schema string) *shardrules.SchemaRules
	// NodeDB returns a data node's physical database.
	NodeDB func(node string) string
	// CanUse says whether the session's user may use a logical schema.
	CanUse func(schema string) bool
	// User and Host name the session's account in error 1044 (access to a
	// database denied), as a server names them.
	User, Host string
	// Columns returns a table's columns in order (for INSERT without a
	// column list); nil when unknown.
	Columns func(schema, table string) ([]string, error)
	// Keys returns a table's primary key columns (nil: none), for moving
	// rows between shards.
	Keys func(schema, table string) ([]string, error)
	// Session values shown instead of the backend's (DATABASE(), CONNECTION_ID()).
	Values parser.SessionValues
	// Mode is the session's sql_mode as it affects SQL text.
	Mode parser.Mode
	// DivPrecision is the session's div_precision_increment (MySQL's
	// default is 4): the digits a DECIMAL quotient the proxy computes
	// after merging (SUM(a) / COUNT(*)) adds to its dividend's.
	DivPrecision int
	// InTransaction is set inside a transaction: reads must see the session's writes,
	// so no replica.
	InTransaction bool
	// KeyColumnType returns a table's column's DATA_TYPE and collation
	// ("binary" for none), lower case, as "varchar utf8mb4_general_ci"; ""
	// when unknown; nil: never known. The hash algorithms place a value by
	// its folded text, which is how a string column of some collations
	// compares strings; but the server compares a number with a string
	// column, or a string with a number column, as numbers ('42abc' = 42,
	// 'abc' = 0), and other collations call other strings equal.
	KeyColumnType func(schema, table, column string) string
	// ForeignCharset is the session's character_set_client when its text is
	// not UTF-8 (latin1, ...); "" for UTF-8 (and ASCII, binary). The
	// algorithms read text keys as UTF-8, so such text beyond ASCII has no
	// place of its own.
	ForeignCharset string
	// ResultsCharset is the session's character_set_results: "utf8mb4",
	// "utf8mb3" or another. When the rows' strings come as UTF-8, the merge
	// orders a column of a collation it implements itself (see
	// merge.Collation) instead of by the shards' WEIGHT_STRING.
	ResultsCharset string
	// RowsCharset is the session's character_set_results as the server
	// names it (utf8 as utf8mb3), "binary" when the rows come unconverted
	// (NULL or binary), "" when not known.
	RowsCharset string
	// Locks are the session's LOCK TABLES in a sharded schema (nil: none
	// held): a statement may name no other table.
	Locks []TableLock
}

// tableInfo is a table reference resolved against the rules.
type tableInfo struct {
	ref    *parser.TableRef
	schema string
	rules  *shardrules.SchemaRules
	rule   *shardrules.TableRule
	system bool // information_schema, mysql, performance_schema, sys
	// key is the sharding column as the server compares it, read once a
	// statement when a text-placing algorithm places a value (see shardOf).
	key     keyColumn
	keyRead bool
}

func (t *tableInfo) sharded() bool {
	return t.rule != nil && (t.rule.Kind == shardrules.Sharded || t.rule.Kind == shardrules.Child)
}

// routingColumn is the column whose value picks the shard: a sharded
// table's column, or a child's column when it maps through the root's
// algorithm directly.
func (t *tableInfo) routingColumn() string {
	if t.rule == nil {
		return ""
	}
	switch t.rule.Kind {
	case shardrules.Sharded:
		return t.rule.Column
	case shardrules.Child:
		if t.rule.ChildRoutesByValue() {
			return t.rule.Column
		}
	}
	return ""
}

func (t *tableInfo) algorithm() shardrules.Algorithm { return t.rule.Root.Algorithm }

// anchor names what an equality on col pins: two references with equal
// anchors on an equality are on the same shard.
func (t *tableInfo) anchor(col string) string {
	if !t.sharded() {
		return ""
	}
	r := t.rule
	if rc := t.routingColumn(); rc != "" && strings.EqualFold(col, rc) {
		return "root:" + r.Root.Name
	}
	if r.Kind == shardrules.Child && strings.EqualFold(col, r.Column) {
		return "row:" + r.Parent.Name + "." + strings.ToLower(r.ParentColumn)
	}
	// A column children reference identifies the parent row they follow.
	for _, c := range t.rules.Tables {
		if c.Kind == shardrules.Child && c.Parent == r && strings.EqualFold(c.ParentColumn, col) {
			return "row:" + r.Name + "." + strings.ToLower(col)
		}
	}
	return ""
}

// placedBy says col places t's rows: its sharding column, or an ER
// child's column naming its parent row (not a key children follow).
func (t *tableInfo) placedBy(col string) bool {
	if rc := t.routingColumn(); rc != "" && strings.EqualFold(col, rc) {
		return true
	}
	return t.sharded() && t.rule.Kind == shardrules.Child && strings.EqualFold(col, t.rule.Column)
}

type builder struct {
	env          *Env
	foundRows    bool       // SELECT SQL_CALC_FOUND_ROWS over several shards (Plan.FoundRows)
	routingIndex int        // INSERT: position of the routing column in a row
	fkTable      *tableInfo // DDL: the table whose foreign keys follow its shard
	fkShard      int
	// zipPass is set for one pass of a Zip: only DISTINCT aggregates over
	// onlyDistinct are computed exactly, the others are placeholders.
	zipPass      bool
	onlyDistinct string
	stmt         ast.StmtNode
	names        *parser.Names
	tables       []*tableInfo
	// params lists the parameter markers whose values placed the
	// statement (see template.go); constPlaced says a value that is not a
	// marker (NULL, IS NULL, an untemplated constant) placed it too.
	params      []paramUse
	constPlaced bool
	// unplaced says a value compared with a sharding column had no shard
	// (see conds.point): the plan reads every shard for it.
	unplaced bool
	// markerHidden: a marker stood where a literal would have placed the
	// statement (-?): its template would not place it alike.
	markerHidden bool
	// scatterUnits are the units of the last multi-shard SELECT planned,
	// for a template to print them again (see compileScatter).
	scatterUnits []unit
	// cteBodies are the WITH queries read as derived tables (markCTERows).
	cteBodies []*ast.SelectStmt
}

func errUnsupported(format string, args ...any) *mysql.MyError {
	return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support "+fmt.Sprintf(format, args...))
}

// ErrUnknownPosition is the server's answer to ORDER BY n or GROUP BY n
// past the select list (clause "ORDER BY" or "GROUP BY", as MariaDB names
// it): a merge must not sort by a helper column the rewrite appended there.
func ErrUnknownPosition(n int, clause string) *mysql.MyError {
	return mysql.NewDefaultError(mysql.ER_BAD_FIELD_ERROR, strconv.Itoa(n), clause)
}

var systemSchemas = map[string]bool{"information_schema": true, "mysql": true, "performance_schema": true, "sys": true}

// resolve looks every table reference up in the rules.
func (b *builder) resolve() error {
	b.names = parser.CollectNamesIn(b.stmt, b.env.Schema)
	cte := cteNames(b.stmt)
	for _, r := range b.names.Refs {
		t := &tableInfo{ref: r, schema: r.Schema}
		if t.schema == "" {
			if cte[strings.ToLower(r.Name)] {
				t.system = true // a CTE name: nothing to rename
				b.tables = append(b.tables, t)
				continue
			}
			t.schema = b.env.Schema
			if t.schema == "" {
				return mysql.NewDefaultError(mysql.ER_NO_DB_ERROR)
			}
		}
		if systemSchemas[strings.ToLower(t.schema)] {
			// information_schema is answered per node; the server's own
			// databases are not the client's to read with the proxy's account.
			if !strings.EqualFold(t.schema, "information_schema") {
				return mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, b.env.User, b.env.Host, t.schema)
			}
			t.system = true
			b.tables = append(b.tables, t)
			continue
		}
		if b.env.Locks != nil && !Allows(b.env.Locks, t.schema, r.Name, r.Alias) {
			return ErrNotLocked(r.Name, r.Alias)
		}
		t.rules = b.env.Rules(t.schema)
		if t.rules == nil {
			return mysql.NewDefaultError(mysql.ER_BAD_DB_ERROR, t.schema)
		}
		if b.env.CanUse != nil && !b.env.CanUse(t.schema) {
			return mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, b.env.User, b.env.Host, t.schema)
		}
		t.rule = t.rules.Lookup(r.Name)
		if t.rule == nil {
			return mysql.NewDefaultError(mysql.ER_NO_SUCH_TABLE, t.schema, r.Name)
		}
		b.tables = append(b.tables, t)
	}
	b.markCTERows()
	return nil
}

// withOf returns a statement's WITH clause, nil without one.
func withOf(stmt ast.Node) *ast.WithClause {
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		return s.With
	case *ast.SetOprStmt:
		return s.With
	}
	return nil
}

// cteNames lists the names of common table expressions.
func cteNames(stmt ast.Node) map[string]bool {
	out := map[string]bool{}
	if with := withOf(stmt); with != nil {
		for _, c := range with.CTEs {
			out[strings.ToLower(c.Name.O)] = true
		}
	}
	return out
}

// markCTERows reads a WITH query named once, in the FROM of a SELECT whose
// rows make up the statement's, as a derived table there: its rows are
// the statement's (its WHERE prunes shards), and like a derived table's
// they must be complete on each shard (checkDerived). Other WITH queries
// are subqueries: over several shards, refused (place).
func (b *builder) markCTERows() {
	with := withOf(b.stmt)
	if with == nil || with.IsRecursive {
		return
	}
	for _, c := range with.CTEs {
		body, ok := c.Query.Query.(*ast.SelectStmt)
		if !ok {
			continue
		}
		refs, fromRows := 0, true
		for i, t := range b.tables {
			if t.system && t.schema == "" && strings.EqualFold(t.ref.Name, c.Name.O) {
				refs++
				fromRows = fromRows && b.givesRows(i)
			}
		}
		if refs != 1 || !fromRows {
			continue
		}
		for i := range b.names.Scopes {
			if b.names.Scopes[i].Select == body {
				b.names.Scopes[i].Rows = true
				b.cteBodies = append(b.cteBodies, body)
			}
		}
	}
}

// resolveColumn finds the reference a column belongs to, as far as routing
// needs: a qualified column by its qualifier, an unqualified one by being
// the routing column of exactly one reference in the scope.
func (b *builder) resolveColumn(cn *ast.ColumnName, scope int) int {
	if cn.Table.O != "" {
		return b.names.Resolve(cn.Schema.O, cn.Table.O)
	}
	found := -1
	for i, t := range b.tables {
		if t.ref.Scope != scope || t.rule == nil {
			continue
		}
		if rc := t.routingColumn(); rc != "" && strings.EqualFold(rc, cn.Name.O) {
			if found >= 0 {
				return -1 // ambiguous
			}
			found = i
		}
	}
	return found
}

// unit is one physical execution of the statement: a node and the
// physical table each reference uses there.
type unit struct {
	node  string
	shard int // the sharded group's shard index, -1 without one
	phys  []shardrules.Placement
}

// place decides where the statement runs. where holds the statement's
// outer conditions (WHERE and inner-join ON), used to prune shards.
func (b *builder) place(where []ast.ExprNode, write bool) ([]unit, error) {
	// Group sharded references that are joined on their shard-deciding
	// columns: each group's rows for one shard index live together.
	parent := make([]int, len(b.tables))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, e := range b.equalities() {
		ta, tb := b.tables[e.a], b.tables[e.b]
		if !ta.sharded() || !tb.sharded() || ta.rule.Root != tb.rule.Root {
			continue
		}
		if x := ta.anchor(e.colA); x != "" && x == tb.anchor(e.colB) {
			parent[find(e.a)] = find(e.b)
		}
	}
	groups := map[int][]int{}
	var order []int
	for i, t := range b.tables {
		if t.sharded() {
			r := find(i)
			if _, ok := groups[r]; !ok {
				order = append(order, r)
			}
			groups[r] = append(groups[r], i)
		}
	}

	// Prune: each SELECT's conditions restrict its own references. Those
	// of scopes whose rows make up the result prune the shards; a
	// subquery's only place that subquery. Null-extended (outer-joined)
	// references are never used.
	restr, own, err := b.restrictions(where)
	if err != nil {
		return nil, err
	}
	// The node every single-node and default-node table needs.
	fixedNode := ""
	for _, t := range b.tables {
		if t.rule == nil || (t.rule.Kind != shardrules.Single && t.rule.Kind != shardrules.Default) {
			continue
		}
		if fixedNode != "" && fixedNode != t.rule.Node {
			return nil, errUnsupported("a statement over tables on different data nodes (%s on %s, another on %s): cross-node joins", t.rule.Name, t.rule.Node, fixedNode)
		}
		fixedNode = t.rule.Node
	}

	switch len(order) {
	case 0:
		return b.placeUnsharded(fixedNode, write)
	case 1:
	default:
		// Several groups: only if each resolves to one shard on one node.
		return b.placeSingletons(groups, order, own, fixedNode)
	}
	members := groups[order[0]]
	root := b.tables[members[0]].rule
	set := fullSet(root.Shards)
	if !slices.ContainsFunc(members, b.givesRows) {
		// Met only in subqueries: run on several shards, each would answer
		// them from its own rows alone, and the outer rows would come once
		// a shard. One shard holding all the rows they can read will do.
		for _, m := range members {
			if r, ok := own[m]; ok {
				set = set.and(r)
			}
		}
		if set.count() > 1 {
			return nil, errUnsupported("a subquery (or a WITH query read in one, or twice) over several shards of %s in a statement whose rows come from elsewhere (each shard would answer it from its own rows): cross-shard subqueries", root.Name)
		}
	}
	for _, m := range members {
		if r, ok := restr[m]; ok {
			set = set.and(r)
		}
	}
	if len(b.names.Scopes) > 0 && (b.outerJoinsCopies() || b.outerJoinsDerivedCopies()) {
		if set.count() > 1 {
			return nil, errUnsupported("an outer join that keeps every row of a global or single-node table (or of a derived table that reads no sharded one) and adds a sharded table's rows: each shard would repeat the kept rows")
		}
	}
	shards := set.list()
	if len(shards) == 0 {
		// Contradictory conditions: any one shard gives the empty answer.
		shards = []int{0}
	}
	var units []unit
	for _, s := range shards {
		node := root.Shard(s).Node
		if fixedNode != "" && node != fixedNode {
			return nil, errUnsupported("joining %s (on %s) with shards of %s on other nodes: cross-node joins", b.nameOfNode(fixedNode), fixedNode, root.Root.Name)
		}
		units = append(units, b.unitFor(node, s))
	}
	return units, nil
}

// restrictions computes, per reference, the shards its scope's conditions
// allow: rows holds those of scopes that make up the result, own every
// reference's own. where, when given, is scope 0's conditions.
func (b *builder) restrictions(where []ast.ExprNode) (rows, own restriction, err error) {
	rows, own = restriction{}, restriction{}
	add := func(r restriction, k int, v shardSet) {
		if old, ok := r[k]; ok {
			r[k] = old.and(v)
		} else {
			r[k] = v
		}
	}
	for id, sc := range b.names.Scopes {
		var exprs []ast.ExprNode
		switch {
		case id == 0 && where != nil:
			exprs = where
		case sc.Select != nil:
			exprs = append(exprs, sc.Select.Where)
			if sc.Select.From != nil {
				exprs = append(exprs, innerOns(sc.Select.From.TableRefs)...)
			}
		}
		c := &conds{b: b, scope: id}
		exprs = append(exprs[:len(exprs):len(exprs)], c.implied(exprs)...)
		for _, e := range exprs {
			for k, v := range c.restrict(e) {
				t := b.tables[k].ref
				if t.Scope != id || t.Outer {
					continue
				}
				add(own, k, v)
				if sc.Rows {
					add(rows, k, v)
				}
			}
		}
	}
	if len(b.names.Scopes) == 0 && where != nil {
		c := &conds{b: b}
		for _, e := range append(where[:len(where):len(where)], c.implied(where)...) {
			for k, v := range c.restrict(e) {
				if !b.tables[k].ref.Outer {
					add(own, k, v)
					add(rows, k, v)
				}
			}
		}
	}
	return rows, own, nil
}

// givesRows reports whether reference i is in a SELECT whose rows make up
// the statement's (or is the target of a write), not in a subquery.
func (b *builder) givesRows(i int) bool {
	sc := b.tables[i].ref.Scope
	return sc >= len(b.names.Scopes) || b.names.Scopes[sc].Rows
}

// outerJoinsCopies reports an outer join whose kept side is a global or
// single-node table and whose other side is sharded.
func (b *builder) outerJoinsCopies() bool {
	keptCopy, nullSharded := false, false
	for _, t := range b.tables {
		if t.rule == nil {
			continue
		}
		if t.sharded() && t.ref.Outer {
			nullSharded = true
		}
		if !t.sharded() && !t.ref.Outer && t.ref.Scope == 0 {
			keptCopy = true
		}
	}
	return keptCopy && nullSharded
}

// outerJoinsDerivedCopies reports an outer join whose kept side has a
// derived table that reads no sharded table ((SELECT 5 AS id) u LEFT JOIN
// orders o: every shard would give u's row, NULL-extended) and whose
// other side reads a sharded one.
func (b *builder) outerJoinsDerivedCopies() bool {
	found := false
	b.stmt.Accept(visitFunc(func(n ast.Node) bool {
		j, ok := n.(*ast.Join)
		if !ok || found || j.Right == nil {
			return !found
		}
		kept, nullable := j.Left, j.Right
		switch j.Tp {
		case ast.LeftJoin:
		case ast.RightJoin:
			kept, nullable = j.Right, j.Left
		default:
			return true
		}
		found = b.readsShardsIn(nullable) && b.derivedCopyIn(kept)
		return !found
	}))
	return found
}

// readsShardsIn reports a sharded table under n.
func (b *builder) readsShardsIn(n ast.Node) bool {
	found := false
	n.Accept(visitFunc(func(x ast.Node) bool {
		if tn, ok := x.(*ast.TableName); ok {
			for _, t := range b.tables {
				if t.ref.Node == tn && t.sharded() {
					found = true
				}
			}
		}
		return !found
	}))
	return found
}

// derivedCopyIn reports a derived table under n (not inside another)
// that reads no sharded table: each shard gives all its rows.
func (b *builder) derivedCopyIn(n ast.Node) bool {
	found := false
	n.Accept(visitFunc(func(x ast.Node) bool {
		ts, ok := x.(*ast.TableSource)
		if !ok || found {
			return !found
		}
		switch ts.Source.(type) {
		case *ast.SelectStmt, *ast.SetOprStmt:
			found = !b.readsShardsIn(ts.Source)
			return false
		}
		return true
	}))
	return found
}

func (b *builder) nameOfNode(node string) string {
	for _, t := range b.tables {
		if t.rule != nil && t.rule.Node == node {
			return t.rule.Name
		}
	}
	return node
}

// placeSingletons handles several unjoined sharded groups: fine when every
// group is pinned to one shard and all of them sit on one node.
func (b *builder) placeSingletons(groups map[int][]int, order []int, restr restriction, fixedNode string) ([]unit, error) {
	node := fixedNode
	shardOf := map[int]int{}
	for _, g := range order {
		members := groups[g]
		rule := b.tables[members[0]].rule
		set := fullSet(rule.Shards)
		for _, m := range members {
			if r, ok := restr[m]; ok {
				set = set.and(r)
			}
		}
		if set.count() != 1 {
			other := order[0]
			if other == g {
				other = order[1]
			}
			return nil, errUnsupported("a join or subquery across shards of %s and %s that is not on their sharding keys: cross-shard joins", rule.Name, b.tables[groups[other][0]].rule.Name)
		}
		s := set.list()[0]
		n := rule.Shard(s).Node
		if node != "" && n != node {
			return nil, errUnsupported("a statement whose tables live on different data nodes (%s and %s): cross-node joins", node, n)
		}
		node = n
		for _, m := range members {
			shardOf[m] = s
		}
	}
	u := b.unitFor(node, -1)
	for m, s := range shardOf {
		u.phys[m] = b.tables[m].rule.Shard(s)
	}
	return []unit{u}, nil
}

// placeUnsharded places a statement without sharded tables.
func (b *builder) placeUnsharded(fixedNode string, write bool) ([]unit, error) {
	if fixedNode != "" {
		return []unit{b.unitFor(fixedNode, -1)}, nil
	}
	globals := b.globalNodes()
	if len(globals) == 0 {
		// No table of ours: the schema's default node answers.
		return []unit{b.unitFor(b.anyNode(), -1)}, nil
	}
	if write {
		units := make([]unit, len(globals))
		for i, n := range globals {
			units[i] = b.unitFor(n, -1)
		}
		return units, nil
	}
	// A read of global tables: the default node if it has a copy.
	pick := globals[0]
	if rs := b.env.Rules(b.env.Schema); rs != nil {
		for _, n := range globals {
			if n == rs.DefaultNode {
				pick = n
			}
		}
	}
	return []unit{b.unitFor(pick, -1)}, nil
}

// globalNodes lists the nodes holding every global table of the statement.
func (b *builder) globalNodes() []string {
	var nodes []string
	first := true
	for _, t := range b.tables {
		if t.rule == nil || t.rule.Kind != shardrules.Global {
			continue
		}
		if first {
			nodes = append([]string(nil), t.rules.Nodes...)
			first = false
			continue
		}
		nodes = intersect(nodes, t.rules.Nodes)
	}
	return nodes
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

// anyNode is where a statement touching no table of ours runs.
func (b *builder) anyNode() string {
	rs := b.env.Rules(b.env.Schema)
	if rs == nil { // no schema, or information_schema
		rs = b.env.Rules(b.env.HomeSchema)
	}
	if rs != nil {
		if rs.DefaultNode != "" {
			return rs.DefaultNode
		}
		if len(rs.Nodes) > 0 {
			return rs.Nodes[0]
		}
	}
	return ""
}

// unitFor builds the physical tables for one node and shard index.
func (b *builder) unitFor(node string, shard int) unit {
	u := unit{node: node, shard: shard, phys: make([]shardrules.Placement, len(b.tables))}
	for i, t := range b.tables {
		switch {
		case t.rule == nil:
			u.phys[i] = shardrules.Placement{Node: node, Table: t.ref.Name}
		case t.sharded():
			if shard >= 0 {
				u.phys[i] = t.rule.Shard(shard)
			}
		case t.rule.Kind == shardrules.Global:
			u.phys[i] = shardrules.Placement{Node: node, Table: t.rule.Name}
		default:
			u.phys[i] = shardrules.Placement{Node: t.rule.Node, Table: t.rule.Name}
		}
	}
	return u
}

// render prints the statement for a unit with physical names.
func (b *builder) render(u unit) (string, error) {
	b.names.Rename(func(i int, r *parser.TableRef) (string, string) {
		t := b.tables[i]
		if t.system || t.rule == nil {
			return r.Schema, r.Name
		}
		p := u.phys[i]
		schema := ""
		if r.Schema != "" || t.schema != b.env.Schema {
			schema = b.env.NodeDB(p.Node)
		}
		return schema, p.Table
	})
	if b.fkTable != nil {
		b.names.RenameFK(b.fkRename)
	}
	return parser.RestoreMode([]ast.StmtNode{b.stmt}, b.env.Mode)
}

// equality is a column = column condition joining two references.
type equality struct {
	a, b       int
	colA, colB string
}

// equalities collects the conjunctive column equalities of the whole
// statement (WHERE and ON clauses at any depth, and IN (SELECT col ...)
// semi-joins): they say which references are joined on what.
func (b *builder) equalities() []equality {
	v := &eqCollector{b: b}
	b.stmt.Accept(v)
	return v.out
}

type eqCollector struct {
	b   *builder
	out []equality
}

func (v *eqCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SelectStmt:
		v.conj(x.Where)
	case *ast.UpdateStmt:
		v.conj(x.Where)
	case *ast.DeleteStmt:
		v.conj(x.Where)
	case *ast.Join:
		if x.On != nil {
			v.conj(x.On.Expr)
		}
		for _, col := range x.Using {
			v.using(x, col)
		}
	}
	return n, false
}

// using pairs the tables on both sides of JOIN ... USING (col).
func (v *eqCollector) using(j *ast.Join, col *ast.ColumnName) {
	left, right := v.sideRefs(j.Left), v.sideRefs(j.Right)
	for _, a := range left {
		for _, b := range right {
			v.out = append(v.out, equality{a: a, b: b, colA: col.Name.O, colB: col.Name.O})
		}
	}
}

// sideRefs lists the references a join side holds directly.
func (v *eqCollector) sideRefs(n ast.ResultSetNode) []int {
	var out []int
	if n == nil {
		return nil
	}
	n.Accept(visitFunc(func(x ast.Node) bool {
		if ts, ok := x.(*ast.TableSource); ok {
			if tn, ok := ts.Source.(*ast.TableName); ok {
				for i, t := range v.b.tables {
					if t.ref.Node == tn {
						out = append(out, i)
					}
				}
			}
			return false
		}
		_, sub := x.(*ast.SubqueryExpr)
		return !sub
	}))
	return out
}

func (v *eqCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func (v *eqCollector) conj(e ast.ExprNode) {
	for _, c := range conjuncts(e) {
		switch x := c.(type) {
		case *ast.BinaryOperationExpr:
			if x.Op == opcode.EQ || x.Op == opcode.NullEQ {
				v.pair(x.L, x.R)
			}
		case *ast.PatternInExpr:
			if x.Not || x.Sel == nil {
				continue
			}
			if sq, ok := x.Sel.(*ast.SubqueryExpr); ok {
				if sel, ok := sq.Query.(*ast.SelectStmt); ok && sel.Fields != nil && len(sel.Fields.Fields) == 1 {
					v.pair(x.Expr, sel.Fields.Fields[0].Expr)
				}
			}
		}
	}
}

func (v *eqCollector) pair(l, r ast.ExprNode) {
	lc, ok1 := l.(*ast.ColumnNameExpr)
	rc, ok2 := r.(*ast.ColumnNameExpr)
	if !ok1 || !ok2 {
		return
	}
	a := v.b.columnRef(lc.Name)
	bb := v.b.columnRef(rc.Name)
	if a < 0 || bb < 0 || a == bb {
		return
	}
	v.out = append(v.out, equality{a: a, b: bb, colA: lc.Name.Name.O, colB: rc.Name.Name.O})
}

// columnRef resolves a column to a reference for join analysis: by its
// qualifier, or when unqualified, to the only sharded reference whose
// anchor columns include it.
func (b *builder) columnRef(cn *ast.ColumnName) int {
	if cn.Table.O != "" {
		return b.names.Resolve(cn.Schema.O, cn.Table.O)
	}
	found := -1
	for i, t := range b.tables {
		if t.anchor(cn.Name.O) != "" {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// conjuncts splits an AND chain.
func conjuncts(e ast.ExprNode) []ast.ExprNode {
	switch x := e.(type) {
	case nil:
		return nil
	case *ast.ParenthesesExpr:
		return conjuncts(x.Expr)
	case *ast.BinaryOperationExpr:
		if x.Op == opcode.LogicAnd {
			return append(conjuncts(x.L), conjuncts(x.R)...)
		}
	}
	return []ast.ExprNode{e}
}

// innerOns returns the ON conditions of inner joins in a FROM clause.
func innerOns(r ast.ResultSetNode) []ast.ExprNode {
	j, ok := r.(*ast.Join)
	if !ok || j == nil {
		return nil
	}
	var out []ast.ExprNode
	if j.Tp != ast.LeftJoin && j.Tp != ast.RightJoin && j.On != nil {
		out = append(out, j.On.Expr)
	}
	if j.Tp != ast.RightJoin {
		out = append(out, innerOns(j.Left)...)
	}
	if j.Right != nil && j.Tp != ast.LeftJoin {
		out = append(out, innerOns(j.Right)...)
	}
	return out
}

// routesFor groups units by node, one statement per shard (see Route).
func routesFor(units []unit, sqls []string, readable bool) []*Route {
	byNode := map[string]*Route{}
	var nodes []string
	for i, u := range units {
		r := byNode[u.node]
		if r == nil {
			r = &Route{Node: u.node, Readable: readable}
			byNode[u.node] = r
			nodes = append(nodes, u.node)
		}
		r.SQL = append(r.SQL, sqls[i])
		if u.shard >= 0 {
			if r.Shard != "" {
				r.Shard += ","
			}
			r.Shard += fmt.Sprint(u.shard)
		}
	}
	sort.Strings(nodes)
	out := make([]*Route, len(nodes))
	for i, n := range nodes {
		out[i] = byNode[n]
	}
	return out
}
