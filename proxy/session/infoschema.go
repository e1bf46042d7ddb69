package session

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/shardrules"
)

// information_schema queries about a sharded schema run on every data node
// of the user's schemas, each restricted to what that node holds of the
// logical tables (a sharded table by its first shard, so it appears once);
// physical names in the answers are mapped back and the rows combined.

// infoTables names, per information_schema table, its schema and table columns.
var infoTables = map[string][2]string{
	"TABLES":                  {"TABLE_SCHEMA", "TABLE_NAME"},
	"COLUMNS":                 {"TABLE_SCHEMA", "TABLE_NAME"},
	"STATISTICS":              {"TABLE_SCHEMA", "TABLE_NAME"},
	"KEY_COLUMN_USAGE":        {"TABLE_SCHEMA", "TABLE_NAME"},
	"TABLE_CONSTRAINTS":       {"TABLE_SCHEMA", "TABLE_NAME"},
	"PARTITIONS":              {"TABLE_SCHEMA", "TABLE_NAME"},
	"VIEWS":                   {"TABLE_SCHEMA", "TABLE_NAME"},
	"REFERENTIAL_CONSTRAINTS": {"CONSTRAINT_SCHEMA", "TABLE_NAME"},
	"CHECK_CONSTRAINTS":       {"CONSTRAINT_SCHEMA", "TABLE_NAME"},
	"TRIGGERS":                {"EVENT_OBJECT_SCHEMA", "EVENT_OBJECT_TABLE"},
}

// infoSchemaSelect recognizes a SELECT over one information_schema table.
func infoSchemaSelect(stmt ast.StmtNode) (*ast.SelectStmt, *parser.Names, bool) {
	sel, ok := stmt.(*ast.SelectStmt)
	if !ok || sel.From == nil {
		return nil, nil, false
	}
	names := parser.CollectNames(sel)
	if len(names.Refs) == 0 {
		return nil, nil, false
	}
	for _, r := range names.Refs {
		if !strings.EqualFold(r.Schema, "information_schema") {
			return nil, nil, false
		}
	}
	return sel, names, true
}

// fromFilesOnly reports a SELECT whose rows come from FILES alone.
func fromFilesOnly(sel *ast.SelectStmt) bool {
	if sel.From == nil || sel.From.TableRefs == nil || sel.From.TableRefs.Right != nil {
		return false
	}
	ts, ok := sel.From.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return false
	}
	tn, ok := ts.Source.(*ast.TableName)
	return ok && strings.EqualFold(tn.Name.O, "FILES")
}

// infoForwarded reports a SELECT over information_schema that any node
// answers as it is, names and all:
//   - one over FILES alone: MariaDB keeps FILES empty (it describes NDB's
//     files), so whatever its subqueries read no row comes out, and any
//     node gives the columns (mysqldump asks it for tablespaces);
//   - one over a table about no table (collations, variables...).
func infoForwarded(sel *ast.SelectStmt, names *parser.Names) bool {
	if fromFilesOnly(sel) {
		return true
	}
	for _, r := range names.Refs {
		if _, known := infoTables[strings.ToUpper(r.Name)]; known {
			return false
		}
	}
	return len(names.Scopes) == 1
}

// infoRefs lists the tables about tables a statement reads.
func infoRefs(names *parser.Names) []infoRef {
	var refs []infoRef
	for _, r := range names.Refs {
		if cols, known := infoTables[strings.ToUpper(r.Name)]; known {
			qual := r.Alias
			if qual == "" {
				qual = r.Name
			}
			refs = append(refs, infoRef{qual, cols, r.Outer})
		}
	}
	return refs
}

// joinedByTable reports whether the join conditions (WHERE and ON) equate
// the table columns of every table about tables read: then each row
// combination is about one table, which one node holds, and each node
// can join its own rows.
func joinedByTable(sel *ast.SelectStmt, refs []infoRef) bool {
	if len(refs) < 2 {
		return true
	}
	group := make([]int, len(refs)) // union-find over refs
	for i := range group {
		group[i] = i
	}
	find := func(i int) int {
		for group[i] != i {
			i = group[i]
		}
		return i
	}
	of := func(e ast.ExprNode) int {
		c, ok := e.(*ast.ColumnNameExpr)
		if !ok {
			return -1
		}
		for i, r := range refs {
			if strings.EqualFold(c.Name.Table.O, r.qual) && strings.EqualFold(c.Name.Name.O, r.cols[1]) {
				return i
			}
		}
		return -1
	}
	equate := func(e ast.ExprNode) {
		if x, ok := e.(*ast.BinaryOperationExpr); ok && x.Op == opcode.EQ {
			if a, b := of(x.L), of(x.R); a >= 0 && b >= 0 {
				group[find(a)] = find(b)
			}
		}
	}
	eachConjunct(sel.Where, equate)
	var ons func(rs ast.ResultSetNode)
	ons = func(rs ast.ResultSetNode) {
		if j, ok := rs.(*ast.Join); ok {
			if j.On != nil {
				eachConjunct(j.On.Expr, equate)
			}
			ons(j.Left)
			ons(j.Right)
		}
	}
	if sel.From != nil {
		ons(sel.From.TableRefs)
	}
	for i := range refs {
		if find(i) != find(0) {
			return false
		}
	}
	return true
}

// eachConjunct calls fn with each condition that e, a WHERE or ON,
// requires (the operands of its top-level ANDs, out of parentheses).
func eachConjunct(e ast.ExprNode, fn func(ast.ExprNode)) {
	switch x := e.(type) {
	case nil:
	case *ast.ParenthesesExpr:
		eachConjunct(x.Expr, fn)
	case *ast.BinaryOperationExpr:
		if x.Op == opcode.LogicAnd {
			eachConjunct(x.L, fn)
			eachConjunct(x.R, fn)
			return
		}
		fn(e)
	default:
		fn(e)
	}
}

// infoRef is a table about tables read by an information_schema query: its
// qualifier in the statement and its schema and table columns.
type infoRef struct {
	qual  string
	cols  [2]string
	outer bool // the inner side of a LEFT/RIGHT JOIN: restricted in its ON
}

// infoSchema answers a SELECT over information_schema in a sharded schema
// (rows in the binary protocol if s.cli.BinaryRows).
func (s *Session) infoSchema(sql string, sel *ast.SelectStmt, names *parser.Names, snap *snapshot.Snapshot) error {
	if infoForwarded(sel, names) {
		rt, e := s.target(snap)
		if e != nil {
			return s.writeErr(e)
		}
		return s.forward(append([]byte{mysql.COM_QUERY}, sql...), &parser.Summary{}, rt)
	}
	// Each node joins its own tables: every table about tables is
	// restricted to what the node holds of the logical tables.
	refs := infoRefs(names)
	counts, err := countOnly(sel)
	if err != nil || len(names.Scopes) != 1 || !joinedByTable(sel, refs) || sel.GroupBy != nil || sel.Having != nil || sel.Distinct {
		// Rows of one node would meet rows of another (a join of
		// different tables, groups, aggregates, subqueries): one server
		// answers over all of them.
		return s.infoSchemaGathered(sel, names, snap)
	}
	orderBy, limit, offset := sel.OrderBy, sel.Limit, int64(0)
	count := int64(-1)
	if limit != nil {
		var ok bool
		if count, ok = intValue(limit.Count); !ok {
			return s.infoSchemaGathered(sel, names, snap)
		}
		if limit.Offset != nil {
			if offset, ok = intValue(limit.Offset); !ok {
				return s.infoSchemaGathered(sel, names, snap)
			}
		}
	}
	sel.OrderBy, sel.Limit = nil, nil
	router.KeepFieldNames(sel)
	// ORDER BY items that are not selected travel as hidden columns.
	visible := len(sel.Fields.Fields)
	var keys []sortKey
	if orderBy != nil {
		var e *mysql.MyError
		if keys, e = orderKeys(orderBy, sel); e != nil {
			return s.writeErr(e)
		}
	}
	hidden := len(sel.Fields.Fields) - visible

	res, e := s.infoRows(sel, refs, snap)
	if e != nil {
		return s.handleExecErr(e)
	}
	if counts {
		res.rows = sumRows(res.rows)
	}
	// A * shows its columns only now: the hidden ones follow them.
	shown := len(res.defs) - hidden
	for i := range keys {
		if k := &keys[i]; k.hidden >= 0 {
			k.col = shown + k.hidden
		} else if k.col >= shown {
			return s.writeErr(router.ErrUnknownPosition(k.col+1, "ORDER BY"))
		}
	}
	sortRows(res.rows, keys)
	if hidden > 0 {
		res.defs = res.defs[:shown]
		for i := range res.rows {
			res.rows[i] = res.rows[i][:shown]
		}
	}
	if offset > 0 || count >= 0 {
		rows := res.rows
		if offset > int64(len(rows)) {
			offset = int64(len(rows))
		}
		rows = rows[offset:]
		if count >= 0 && count < int64(len(rows)) {
			rows = rows[:count]
		}
		res.rows = rows
	}
	res.write(s)
	return s.flush()
}

// infoRows runs a SELECT over information_schema on every node of the
// user's schemas, each restricted to its share of the logical tables
// (infoQuery), physical names in the rows mapped back to logical ones,
// and puts the rows together.
func (s *Session) infoRows(sel *ast.SelectStmt, refs []infoRef, snap *snapshot.Snapshot) (*nodeResult, error) {
	var stats *tableStats
	if readsTables(sel) {
		var err error
		if stats, err = s.shardedStats(snap); err != nil {
			return nil, err
		}
	}
	var res *nodeResult
	for _, dn := range s.userNodes(snap) {
		logical, rules := s.schemaOfNode(snap, dn)
		first, all := placementsOn(rules, dn.Name)
		tables := ""
		if stats != nil {
			cols, err := s.infoColumnNames(dn, "TABLES")
			if err != nil {
				return nil, err
			}
			if tables, err = stats.standIn(dn, cols, s.mode()); err != nil {
				return nil, err
			}
		}
		text, err := infoQuery(sel, refs, dn, logical, rules, first, all, s.schema, tables)
		if err != nil {
			return nil, unsupported("this information_schema query in a sharded schema: " + err.Error())
		}
		r, err := s.nodeQuery(dn, text)
		if err != nil {
			return nil, err
		}
		back := map[string]string{dn.Database: logical}
		for phys, t := range first {
			back[phys] = t
		}
		for _, row := range r.rows {
			for i, v := range row {
				if l, ok := back[string(v)]; ok && v != nil {
					row[i] = []byte(l)
				}
			}
		}
		if res == nil {
			res = r
		} else {
			res.rows = append(res.rows, r.rows...)
		}
	}
	if res == nil {
		return nil, mysql.NewDefaultError(mysql.ER_NO_DB_ERROR)
	}
	return res, nil
}

// userNodes lists the data nodes of the user's schemas.
func (s *Session) userNodes(snap *snapshot.Snapshot) []*backend.DataNode {
	seen := map[string]bool{}
	var out []*backend.DataNode
	for _, name := range s.user.Schemas {
		rules := snap.Rules[name]
		if rules == nil {
			continue
		}
		nodes := append([]string(nil), rules.Nodes...)
		if len(nodes) == 0 && rules.DefaultNode != "" {
			nodes = []string{rules.DefaultNode}
		}
		for _, n := range nodes {
			if !seen[n] {
				seen[n] = true
				out = append(out, snap.Cluster.Nodes[n])
			}
		}
	}
	return out
}

// schemaOfNode finds the user's logical schema a data node belongs to.
func (s *Session) schemaOfNode(snap *snapshot.Snapshot, dn *backend.DataNode) (string, *shardrules.SchemaRules) {
	for _, name := range s.user.Schemas {
		rules := snap.Rules[name]
		if rules == nil {
			continue
		}
		if rules.DefaultNode == dn.Name {
			return name, rules
		}
		for _, n := range rules.Nodes {
			if n == dn.Name {
				return name, rules
			}
		}
	}
	return dn.Database, nil
}

// placementsOn returns, for one node, the physical name of each logical
// table whose first copy or shard lives there (physical → logical), and
// every physical table of a rule there.
func placementsOn(rules *shardrules.SchemaRules, node string) (first map[string]string, all []string) {
	first = map[string]string{}
	if rules == nil {
		return first, nil
	}
	for _, t := range rules.Tables {
		ps := t.AllPlacements()
		if ps[0].Node == node {
			first[ps[0].Table] = t.Name
		}
		for _, p := range ps {
			if p.Node == node {
				all = append(all, p.Table)
			}
		}
	}
	return first, all
}

// infoQuery rewrites the query for one node: logical names in literals and
// DATABASE() become the node's physical ones, a condition keeps the
// node's share of the logical tables, and TABLES reads the query tables
// (tableStats.standIn) if there is one.
func infoQuery(sel *ast.SelectStmt, refs []infoRef, dn *backend.DataNode, logical string,
	rules *shardrules.SchemaRules, first map[string]string, all []string, current, tables string) (string, error) {
	physOf := map[string]string{}
	for phys, t := range first {
		physOf[t] = phys
	}
	stmts, err := parser.Parse(parser.RestoreExpr(sel))
	if err != nil {
		return "", err
	}
	copySel := stmts[0].(*ast.SelectStmt)
	copySel.Accept(&literalRewriter{schema: logical, db: dn.Database, tables: physOf, current: current})
	var keep, quotedAll []string
	for phys := range first {
		keep = append(keep, backend.QuoteString(phys))
	}
	sort.Strings(keep)
	for _, a := range all {
		quotedAll = append(quotedAll, backend.QuoteString(a))
	}
	var conds []string
	for _, r := range refs {
		q := backend.QuoteIdent(r.qual)
		cond := q + "." + r.cols[0] + " = " + backend.QuoteString(dn.Database)
		part := "FALSE"
		if len(keep) > 0 {
			part = q + "." + r.cols[1] + " IN (" + strings.Join(keep, ", ") + ")"
		}
		if rules != nil && rules.DefaultNode == dn.Name {
			other := "TRUE"
			if len(quotedAll) > 0 {
				other = q + "." + r.cols[1] + " NOT IN (" + strings.Join(quotedAll, ", ") + ")"
			}
			part = "(" + part + " OR " + other + ")"
		}
		if !r.outer {
			conds = append(conds, cond+" AND "+part)
			continue
		}
		// In the WHERE clause it would drop the rows its join keeps
		// without a match.
		on, err := parseCondition(cond + " AND " + part)
		if err != nil {
			return "", err
		}
		if !restrictJoin(copySel.From.TableRefs, r.qual, on) {
			return "", errors.New("an outer join of " + r.qual + " this way")
		}
	}
	if len(conds) > 0 {
		w, err := parseCondition(strings.Join(conds, " AND "))
		if err != nil {
			return "", err
		}
		copySel.Where = and(copySel.Where, w)
	}
	if tables != "" {
		if err := replaceSources(tablesSources(copySel), "SELECT * FROM ("+tables+") AS `TABLES`"); err != nil {
			return "", err
		}
		// A derived table's column is named as it names it, the table's
		// as the client wrote it.
		copySel.Accept(&columnNamer{})
	}
	return parser.Restore([]ast.StmtNode{copySel})
}

func parseCondition(cond string) (ast.ExprNode, error) {
	stmts, err := parser.Parse("SELECT 1 FROM t WHERE " + cond)
	if err != nil {
		return nil, err
	}
	return stmts[0].(*ast.SelectStmt).Where, nil
}

// and joins two conditions (a nil one holds).
func and(a, b ast.ExprNode) ast.ExprNode {
	if a == nil {
		return b
	}
	return &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: &ast.ParenthesesExpr{Expr: a}, R: b}
}

// restrictJoin adds cond to the ON clause of the outer join whose inner
// side is the table qual, reporting whether it found it.
func restrictJoin(j *ast.Join, qual string, cond ast.ExprNode) bool {
	if j == nil {
		return false
	}
	inner := j.Right
	if j.Tp == ast.RightJoin {
		inner = j.Left
	}
	if ts, ok := inner.(*ast.TableSource); ok && j.Tp != ast.CrossJoin {
		if tn, ok := ts.Source.(*ast.TableName); ok && (strings.EqualFold(ts.AsName.O, qual) || ts.AsName.O == "" && strings.EqualFold(tn.Name.O, qual)) {
			if j.On == nil {
				j.On = &ast.OnCondition{}
			}
			j.On.Expr = and(j.On.Expr, cond)
			return true
		}
	}
	for _, side := range []ast.ResultSetNode{j.Left, j.Right} {
		if sub, ok := side.(*ast.Join); ok && restrictJoin(sub, qual, cond) {
			return true
		}
	}
	return false
}

// literalRewriter maps logical names in string literals to physical ones.
type literalRewriter struct {
	schema, db, current string
	tables              map[string]string
}

func (r *literalRewriter) Enter(n ast.Node) (ast.Node, bool) { return n, false }

func (r *literalRewriter) Leave(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *test_driver.ValueExpr:
		if v, ok := x.Datum.GetValue().(string); ok {
			switch {
			case v == r.schema:
				x.Datum.SetString(r.db)
			case r.tables[v] != "":
				x.Datum.SetString(r.tables[v])
			}
		}
	case *ast.FuncCallExpr:
		if (x.FnName.L == "database" || x.FnName.L == "schema") && len(x.Args) == 0 {
			db := r.current
			if db == r.schema {
				db = r.db
			}
			return ast.NewValueExpr(db, "utf8mb4", "utf8mb4_general_ci"), true
		}
	}
	return n, true
}

// countOnly reports a select list of COUNT(...) only: the nodes' counts add up.
func countOnly(sel *ast.SelectStmt) (bool, *mysql.MyError) {
	aggs, others := 0, 0
	for _, f := range sel.Fields.Fields {
		if fn, ok := f.Expr.(*ast.AggregateFuncExpr); ok && strings.EqualFold(fn.F, "count") && !fn.Distinct {
			aggs++
			continue
		}
		if f.Expr != nil && hasAggregateExpr(f.Expr) {
			return false, unsupported("aggregates other than COUNT over information_schema in a sharded schema")
		}
		others++
	}
	if aggs > 0 && others > 0 {
		return false, unsupported("COUNT with other columns over information_schema in a sharded schema")
	}
	return aggs > 0, nil
}

func hasAggregateExpr(e ast.Node) bool {
	found := false
	e.Accept(aggVisitor{&found})
	return found
}

type aggVisitor struct{ found *bool }

func (v aggVisitor) Enter(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*ast.AggregateFuncExpr); ok {
		*v.found = true
	}
	return n, false
}
func (v aggVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// sumRows adds up the nodes' count rows.
func sumRows(rows [][][]byte) [][][]byte {
	if len(rows) == 0 {
		return rows
	}
	out := make([]uint64, len(rows[0]))
	for _, r := range rows {
		for i, v := range r {
			n, _ := strconv.ParseUint(string(v), 10, 64)
			out[i] += n
		}
	}
	row := make([][]byte, len(out))
	for i, n := range out {
		row[i] = []byte(strconv.FormatUint(n, 10))
	}
	return [][][]byte{row}
}

type sortKey struct {
	col    int // a column the client sees, counted as the rows show them
	hidden int // or the number of a hidden column appended for it; -1 if not
	desc   bool
}

// orderKeys resolves ORDER BY items to select-list columns, adding hidden
// columns for the others. After a *, where a name stands in the rows is
// not known yet, so every name travels as a hidden column.
func orderKeys(ob *ast.OrderByClause, sel *ast.SelectStmt) ([]sortKey, *mysql.MyError) {
	fields := sel.Fields.Fields
	wildcard := false
	for _, f := range fields {
		wildcard = wildcard || f.WildCard != nil
	}
	var keys []sortKey
	for _, it := range ob.Items {
		k := sortKey{col: -1, hidden: -1, desc: it.Desc}
		expr := it.Expr
		switch e := it.Expr.(type) {
		case *ast.PositionExpr:
			if e.P != nil || e.N < 1 || (!wildcard && e.N > len(fields)) {
				return nil, router.ErrUnknownPosition(e.N, "ORDER BY")
			}
			k.col = e.N - 1
		case *ast.ColumnNameExpr:
			for i, f := range fields {
				if f.AsName.L == e.Name.Name.L {
					k.col, expr = i, f.Expr
				} else if cn, ok := f.Expr.(*ast.ColumnNameExpr); ok && f.AsName.L == "" && cn.Name.Name.L == e.Name.Name.L {
					k.col = i
				}
			}
			if wildcard {
				k.col = -1
			}
		}
		if k.col < 0 {
			k.hidden = len(sel.Fields.Fields) - len(fields)
			sel.Fields.Fields = append(sel.Fields.Fields, &ast.SelectField{Expr: expr, AsName: ast.NewCIStr("__sg_order" + strconv.Itoa(k.hidden))})
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// sortRows orders combined rows: numbers numerically, text as
// utf8_general_ci does (ASCII case folded).
func sortRows(rows [][][]byte, keys []sortKey) {
	if len(keys) == 0 {
		return
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for _, k := range keys {
			if k.col >= len(rows[i]) {
				continue
			}
			c := compareText(rows[i][k.col], rows[j][k.col])
			if c != 0 {
				if k.desc {
					return c > 0
				}
				return c < 0
			}
		}
		return false
	})
}

func compareText(a, b []byte) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	x, e1 := strconv.ParseInt(string(a), 10, 64)
	y, e2 := strconv.ParseInt(string(b), 10, 64)
	if e1 == nil && e2 == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(strings.ToUpper(string(a)), strings.ToUpper(string(b)))
}

func intValue(e ast.ExprNode) (int64, bool) {
	v, ok := e.(*test_driver.ValueExpr)
	if !ok {
		return 0, false
	}
	switch x := v.Datum.GetValue().(type) {
	case int64:
		return x, true
	case uint64:
		return int64(min(x, 1<<62)), true
	}
	return 0, false
}
