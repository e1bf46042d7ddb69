package router

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/router/merge"
	"github.com/shardgate/shardgate/shardrules"
)

// Derived tables the proxy reads first. A derived table (or WITH query)
// with GROUP BY, DISTINCT, LIMIT or a UNION that removes duplicates would
// give each shard's own rows if run per shard. The session runs it once
// instead, planned and merged as the statement it is, and writes its rows
// into the statement as a table of literals:
//
//	SELECT t.status, t.n FROM (SELECT status, COUNT(*) n FROM orders GROUP BY status) t WHERE t.n > 100
//	SELECT t.status, t.n FROM (SELECT 'new' AS `status`, 275 AS `n` UNION ALL SELECT ...) t WHERE t.n > 100
//
// One server then answers the statement whole: its WHERE, ORDER BY,
// joins with tables on that node, aggregates. Each literal is typed as
// its column (numbers as printed, a DOUBLE with an exponent, dates and
// times typed, binary strings in hex, other strings converted to the
// column's character set, and given its collation when that is not the
// character set's default). The client sees the column definitions the
// statement gets with each such table limited to no rows, on one node:
// a literal's own type (VARCHAR(3) for 'new') is not the column's.

// Derived is a derived table or WITH query whose rows the proxy reads
// before its statement.
type Derived struct {
	// Query is its SELECT or UNION.
	Query ast.ResultSetNode
	ts    *ast.TableSource
	cte   *ast.CommonTableExpression
	// alias, for a table on a node of its own read first (a join with
	// shards on other nodes): the name the statement reads it by.
	alias string
}

// Materializable returns the derived tables of a SELECT's FROM (the
// outermost ones) and its WITH queries that run per shard would give
// other rows than once, and its tables on a node of their own joined with
// shards elsewhere (see nodeTables); with all, its sharded tables too,
// for a statement no shard can answer (window functions over several,
// GROUP_CONCAT(... ORDER BY ...)): one server then answers it whole.
// None for other statements, a locking read or SELECT ... INTO.
func Materializable(stmt ast.StmtNode, env *Env, all bool) []*Derived {
	sel, ok := stmt.(*ast.SelectStmt)
	if !ok || sel.Kind != ast.SelectStmtKindSelect || sel.SelectIntoOpt != nil ||
		sel.LockInfo != nil && sel.LockInfo.LockType != ast.SelectLockNone {
		return nil
	}
	b := &builder{env: env, stmt: stmt}
	if b.resolve() != nil {
		return nil
	}
	if !slices.ContainsFunc(b.tables, (*tableInfo).sharded) {
		// Without shards one node answers the whole statement, derived
		// tables too, once the tables off it are read first.
		return b.nodeTables(sel, all)
	}
	var out []*Derived
	if w := sel.With; w != nil && !w.IsRecursive {
		for _, c := range w.CTEs {
			// (With all: any that reads shards, one read in a subquery
			// or twice too.)
			if b.derivedRefused(c.Query.Query) || all && b.readsShardsIn(c.Query.Query) {
				out = append(out, &Derived{Query: c.Query.Query, cte: c})
			}
		}
	}
	var walk func(n ast.ResultSetNode)
	walk = func(n ast.ResultSetNode) {
		switch x := n.(type) {
		case *ast.Join:
			walk(x.Left)
			if x.Right != nil {
				walk(x.Right)
			}
		case *ast.TableSource:
			switch x.Source.(type) {
			case *ast.SelectStmt, *ast.SetOprStmt:
				// (With all: any that reads shards, whole groups too.)
				if b.derivedRefused(x.Source) || all && b.readsShardsIn(x.Source) {
					out = append(out, &Derived{Query: x.Source, ts: x})
				}
			case *ast.Join:
				walk(x.Source)
			}
		}
	}
	if sel.From != nil {
		walk(sel.From.TableRefs)
	}
	return append(out, b.nodeTables(sel, all)...)
}

// nodeTables returns, for a SELECT that joins sharded tables with tables
// on one node each (single-node or default-node tables), those tables as
// queries to read first: SELECT * FROM users AS u WHERE (the conditions
// of its SELECT's WHERE on u alone). Their rows then join the shards on
// every node as a global table's would, in the statement's FROM or in its
// subqueries. Not in derived tables or WITH queries (read first whole, or
// planned alike), nor on the inner side of an outer join. With all, the
// sharded tables too (their rows merged from every shard), anywhere.
//
// Without sharded tables, for a SELECT over tables on one node each on
// several nodes, the tables off the node that holds the most of them
// (the first one's, on a tie): that node answers the statement, as one
// server would, outer joins included (a table on their inner side is read
// whole).
func (b *builder) nodeTables(sel *ast.SelectStmt, all bool) []*Derived {
	sharded := false
	singles := map[*ast.TableName]*tableInfo{}
	var onOne []*tableInfo // tables on one node each
	for _, t := range b.tables {
		switch {
		case t.rule == nil:
		case t.sharded():
			sharded = true
			if all {
				singles[t.ref.Node] = t
			}
		case t.rule.Kind == shardrules.Single || t.rule.Kind == shardrules.Default:
			onOne = append(onOne, t)
		}
	}
	if sharded {
		for _, t := range onOne {
			if !t.ref.Outer || all {
				singles[t.ref.Node] = t
			}
		}
	} else {
		home := homeNode(onOne)
		for _, t := range onOne {
			if t.rule.Node != home {
				singles[t.ref.Node] = t
			}
		}
	}
	if len(singles) == 0 {
		return nil
	}
	v := &nodeTableFinder{singles: singles, inside: !sharded, names: b.names}
	v.columns, v.columnsKnown = qualifiedColumns(sel)
	sel.Accept(v)
	return v.found
}

// WriteTables returns, for a multi-table UPDATE or DELETE, the tables it
// reads but does not write that are on one node each, apart from the node
// or shards of the tables it writes: queries to read first (with the
// conditions of its WHERE on each alone), whose rows then join the write
// as literal rows. None when what it writes is not on one node or one
// sharded table's shards, or it assigns a column it does not qualify. For
// an INSERT ... SELECT, what its SELECT reads first (Materializable): the
// proxy then copies the rows one node's SELECT gives.
func WriteTables(stmt ast.StmtNode, env *Env) []*Derived {
	written := map[string]bool{} // by alias, lower case
	var where ast.ExprNode
	switch x := stmt.(type) {
	case *ast.InsertStmt:
		if sel, ok := x.Select.(*ast.SelectStmt); ok {
			return Materializable(sel, env, false)
		}
		return nil
	case *ast.UpdateStmt:
		if x.TableRefs == nil || x.TableRefs.TableRefs.Right == nil {
			return nil // (one table: MultipleTable is not set for a JOIN)
		}
		for _, a := range x.List {
			if a.Column.Table.L == "" {
				return nil
			}
			written[a.Column.Table.L] = true
		}
		where = x.Where
	case *ast.DeleteStmt:
		if !x.IsMultiTable || x.Tables == nil {
			return nil
		}
		for _, t := range x.Tables.Tables {
			written[t.Name.L] = true
		}
		where = x.Where
	default:
		return nil
	}
	b := &builder{env: env, stmt: stmt}
	if b.resolve() != nil {
		return nil
	}
	node, sharded := "", false
	var read []*tableInfo
	for _, t := range b.tables {
		if t.ref.Scope != 0 || t.rule == nil {
			continue // (a subquery's: pulled out, if need be)
		}
		alias := t.ref.Alias
		if alias == "" {
			alias = t.ref.Name
		}
		switch {
		case !written[strings.ToLower(alias)]:
			if t.rule.Kind == shardrules.Single || t.rule.Kind == shardrules.Default {
				read = append(read, t)
			}
		case t.sharded():
			sharded = true
		case t.rule.Kind == shardrules.Single || t.rule.Kind == shardrules.Default:
			if node != "" && node != t.rule.Node {
				return nil
			}
			node = t.rule.Node
		default:
			return nil // (a global table's copies)
		}
	}
	if sharded == (node != "") {
		return nil
	}
	singles := map[*ast.TableName]*tableInfo{}
	for _, t := range read {
		if sharded || t.rule.Node != node {
			singles[t.ref.Node] = t
		}
	}
	if len(singles) == 0 {
		return nil
	}
	v := &nodeTableFinder{singles: singles, where: where, write: true, names: b.names}
	v.columns, v.columnsKnown = qualifiedColumns(stmt)
	stmt.Accept(v)
	return v.found
}

// homeNode is the node holding the most of the tables (the first one's on
// a tie).
func homeNode(tables []*tableInfo) string {
	count := map[string]int{}
	home := ""
	for _, t := range tables {
		n := t.rule.Node
		if count[n]++; home == "" || count[n] > count[home] {
			home = n
		}
	}
	return home
}

// qualifiedColumns returns the columns a statement names of each table
// (by alias, lower case), when every column it names is qualified by a
// table named once in it, and it has no * or USING: then a table read
// first needs only those. Else known is false.
func qualifiedColumns(stmt ast.Node) (cols map[string][]string, known bool) {
	cols, aliases, known := map[string][]string{}, map[string]int{}, true
	stmt.Accept(visitFunc(func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.ColumnNameExpr:
			if x.Name.Table.O == "" || x.Name.Schema.O != "" {
				known = false
				break
			}
			t, c := x.Name.Table.L, x.Name.Name.O
			if !slices.ContainsFunc(cols[t], func(have string) bool { return strings.EqualFold(have, c) }) {
				cols[t] = append(cols[t], c)
			}
		case *ast.SelectField:
			// (A SelectField's walk does not visit its wildcard.)
			known = known && x.WildCard == nil
		case *ast.WildCardField:
			known = false
		case *ast.Join:
			known = known && x.Using == nil && !x.NaturalJoin
		case *ast.TableSource:
			name := x.AsName.L
			if tn, ok := x.Source.(*ast.TableName); ok && name == "" {
				name = tn.Name.L
			}
			aliases[name]++
			known = known && aliases[name] == 1
		}
		return known
	}))
	return cols, known
}

// nodeTableFinder walks a statement for nodeTables, knowing the SELECT
// each table is read in.
type nodeTableFinder struct {
	singles map[*ast.TableName]*tableInfo
	// columns the statement names of each table, when known: a table is
	// read with those only (not an ENUM it does not read, fewer bytes).
	columns      map[string][]string
	columnsKnown bool
	// inside: in derived tables and WITH queries too, where one node
	// answers the whole statement.
	inside bool
	// where is a write's WHERE, for its tables outside any SELECT.
	where   ast.ExprNode
	write   bool
	selects []*ast.SelectStmt
	found   []*Derived
	names   *parser.Names
}

func (f *nodeTableFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.WithClause:
		return n, !f.inside
	case *ast.SelectStmt:
		f.selects = append(f.selects, x)
	case *ast.TableSource:
		switch src := x.Source.(type) {
		case *ast.SelectStmt, *ast.SetOprStmt:
			return n, !f.inside
		case *ast.TableName:
			t, ok := f.singles[src]
			if !ok || len(f.selects) == 0 && !f.write {
				break
			}
			alias := t.ref.Alias
			if alias == "" {
				// Rows named by the table's name: db.t.col becomes t.col.
				alias = t.ref.Name
				f.names.Unqualify(t.ref)
			}
			// On the inner side of an outer join, a WHERE tests the
			// joined rows, NULL-extended ones too: the table is read whole.
			var where ast.ExprNode
			if !t.ref.Outer {
				w := f.where
				if len(f.selects) > 0 {
					w = f.selects[len(f.selects)-1].Where
				}
				where = conditionsOn(w, alias, f.sole())
			}
			fields := []*ast.SelectField{{WildCard: &ast.WildCardField{}}}
			if cols := f.columns[strings.ToLower(alias)]; f.columnsKnown && len(cols) > 0 {
				fields = fields[:0]
				for _, c := range cols {
					fields = append(fields, &ast.SelectField{Expr: &ast.ColumnNameExpr{Name: &ast.ColumnName{Name: ast.NewCIStr(c)}}})
				}
			}
			q := &ast.SelectStmt{
				Kind:           ast.SelectStmtKindSelect,
				SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
				Fields:         &ast.FieldList{Fields: fields},
				From:           &ast.TableRefsClause{TableRefs: &ast.Join{Left: &ast.TableSource{Source: src, AsName: ast.NewCIStr(alias)}}},
				Where:          where,
			}
			f.found = append(f.found, &Derived{Query: q, ts: x, alias: alias})
		}
	}
	return n, false
}

// sole reports that the SELECT at hand is the statement itself, reading
// one table: its unqualified columns are that table's.
func (f *nodeTableFinder) sole() bool {
	if len(f.selects) != 1 || f.selects[0].From == nil {
		return false
	}
	j := f.selects[0].From.TableRefs
	_, one := j.Left.(*ast.TableSource)
	return one && j.Right == nil
}

func (f *nodeTableFinder) Leave(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*ast.SelectStmt); ok {
		f.selects = f.selects[:len(f.selects)-1]
	}
	return n, true
}

// conditionsOn returns the conjuncts of where that read only columns
// qualified by alias (or unqualified ones, when the table is sole), with
// nothing that would run otherwise on their own (subqueries, functions,
// variables): nil when none.
func conditionsOn(where ast.ExprNode, alias string, sole bool) ast.ExprNode {
	var out ast.ExprNode
	var walk func(e ast.ExprNode)
	walk = func(e ast.ExprNode) {
		if b, ok := e.(*ast.BinaryOperationExpr); ok && b.Op == opcode.LogicAnd {
			walk(b.L)
			walk(b.R)
			return
		}
		if !onlyColumnsOf(e, alias, sole) {
			return
		}
		if out == nil {
			out = e
		} else {
			out = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: out, R: e}
		}
	}
	if where != nil {
		walk(where)
	}
	return out
}

// onlyColumnsOf: e compares columns of alias with constants, nothing else.
func onlyColumnsOf(e ast.ExprNode, alias string, sole bool) bool {
	ok, cols := true, 0
	e.Accept(visitFunc(func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.ColumnNameExpr:
			cols++
			ok = ok && (strings.EqualFold(x.Name.Table.O, alias) || sole && x.Name.Table.O == "") && x.Name.Schema.O == ""
		case *ast.ColumnName, *ast.BinaryOperationExpr, *ast.UnaryOperationExpr, *ast.ParenthesesExpr,
			*ast.PatternInExpr, *ast.BetweenExpr, *ast.IsNullExpr, *ast.PatternLikeOrIlikeExpr, ast.ValueExpr:
		default:
			ok = false
		}
		return ok
	}))
	return ok && cols > 0
}

// SQL prints the derived table's query as a statement of its own.
func (d *Derived) SQL(mode parser.Mode) (string, error) {
	return parser.RestoreMode([]ast.StmtNode{d.Query.(ast.StmtNode)}, mode)
}

// limitZero makes the query return no rows (its columns only), and
// returns what puts its LIMIT back.
func (d *Derived) limitZero() (undo func()) {
	zero := &ast.Limit{Count: ast.NewValueExpr(0, "", "")}
	switch x := d.Query.(type) {
	case *ast.SelectStmt:
		was := x.Limit
		x.Limit = zero
		return func() { x.Limit = was }
	case *ast.SetOprStmt:
		was := x.Limit
		x.Limit = zero
		return func() { x.Limit = was }
	}
	return func() {}
}

// noRows makes the query return no rows. The server reads a derived
// table with groups, DISTINCT, LIMIT or a set operation into a temporary
// table, whose columns' types and flags the client sees: a WHERE it knows
// false would let it skip that table, so such a query gets one it cannot
// know before it runs (RAND() < 0). A query it merges into the statement
// reading it gets a constant false, as RAND() would make it a temporary
// table where the statement has none (NULLIF over a CHAR column is CHAR
// merged, VARCHAR in a temporary table).
func (d *Derived) noRows() {
	var never ast.ExprNode = &ast.BinaryOperationExpr{Op: opcode.LT, L: &ast.FuncCallExpr{FnName: ast.NewCIStr("RAND")}, R: ast.NewValueExpr(0, "", "")}
	if sel, ok := d.Query.(*ast.SelectStmt); ok && merged(sel) {
		never = ast.NewValueExpr(0, "", "")
	}
	var add func(n ast.Node)
	add = func(n ast.Node) {
		switch x := n.(type) {
		case *ast.SelectStmt:
			if x.Where == nil {
				x.Where = never
			} else {
				x.Where = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: &ast.ParenthesesExpr{Expr: x.Where}, R: never}
			}
		case *ast.SetOprStmt:
			if x.SelectList != nil {
				for _, part := range x.SelectList.Selects {
					add(part)
				}
			}
		case *ast.SetOprSelectList:
			for _, part := range x.Selects {
				add(part)
			}
		}
	}
	add(d.Query)
}

// merged reports whether the server merges a derived table of sel into
// the statement that reads it, rather than reading it into a temporary
// table: no groups, aggregates, windows, DISTINCT or LIMIT.
func merged(sel *ast.SelectStmt) bool {
	if sel.GroupBy != nil || sel.Having != nil || sel.Distinct || sel.Limit != nil || sel.WindowSpecs != nil ||
		hasAggregateFields(sel) || hasWindow(sel) {
		return false
	}
	if sel.OrderBy != nil {
		for _, it := range sel.OrderBy.Items {
			if hasAggregate(it.Expr) {
				return false
			}
		}
	}
	return true
}

// DescribeSQL is the statement whose column definitions the client sees:
// stmt with each of ds (from Materializable(stmt)) giving no rows, for
// the node of its first shard, with the twins it needs there (see
// PrepareSQL).
func DescribeSQL(stmt ast.StmtNode, ds []*Derived, env *Env) (node, sql string, twins []shardrules.Placement, err error) {
	tables := false
	for _, d := range ds {
		if d.alias != "" {
			tables = true
		} else {
			d.noRows()
		}
	}
	if tables {
		// The statement reads its tables there as they are, no rows.
		(&Derived{Query: stmt.(ast.ResultSetNode)}).noRows()
	}
	return firstShardSQL(stmt, env, false)
}

// CollationSQL asks one node for the collation of each named column of
// d (its result's column names), from a row of NULLs, with the twins it
// needs there (see PrepareSQL). d is left as it was.
func (d *Derived) CollationSQL(names []string, env *Env) (node, sql string, twins []shardrules.Placement, err error) {
	defer d.limitZero()()
	node, inner, twins, err := firstShardSQL(d.Query.(ast.StmtNode), env, false)
	if err != nil {
		return "", "", nil, err
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("COLLATION(`__sg_t`." + quoteName(n) + ")")
	}
	b.WriteString(" FROM (SELECT 1) AS `__sg_d` LEFT JOIN (" + inner + ") AS `__sg_t` ON 1")
	return node, b.String(), twins, nil
}

func quoteName(n string) string { return "`" + strings.ReplaceAll(n, "`", "``") + "`" }

// DerivedColumn is how a column of a materialized derived table is
// written: its result field, and for a string its collation and whether
// that is its character set's default.
type DerivedColumn struct {
	Field     *merge.Field
	Name      string // Field's name as the statement writes it (ClientName)
	Collation string
	Default   bool
}

// DerivedRows writes a derived table's rows (values as text, strings
// unconverted, in their columns' character sets; nil for NULL) as a query
// of literals with the columns' names.
func DerivedRows(cols []DerivedColumn, rows [][][]byte) (string, error) {
	var b strings.Builder
	if len(rows) == 0 {
		b.WriteString("SELECT ")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("NULL AS " + quoteName(c.Name))
		}
		b.WriteString(" FROM DUAL WHERE 0")
		return b.String(), nil
	}
	for r, row := range rows {
		if r > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT ")
		for i, v := range row {
			if i > 0 {
				b.WriteString(", ")
			}
			lit, err := derivedLiteral(&cols[i], v)
			if err != nil {
				return "", err
			}
			b.WriteString(lit)
			if r == 0 {
				b.WriteString(" AS " + quoteName(cols[i].Name))
			}
		}
		if b.Len() > MaxPulledBytes {
			return "", ErrDerivedTooBig
		}
	}
	return b.String(), nil
}

// ErrDerivedTooBig refuses a derived table whose literals pass
// MaxPulledBytes.
var ErrDerivedTooBig = errUnsupported("rows the proxy reads first (a derived table across shards, a table joined across nodes) past %d KiB: it writes them into the statement as literals", MaxPulledBytes>>10)

// derivedLiteral writes one value of a derived table's column: a string
// as its bytes converted to its character set (the rows came
// unconverted), given its collation when that is not the default; an
// ENUM or SET as its text (see EnumUsesAsText).
func derivedLiteral(c *DerivedColumn, v []byte) (string, error) {
	f := c.Field
	switch {
	case v == nil:
		return "NULL", nil
	case f.Flags&mysql.UNSIGNED_FLAG != 0 && isIntegerType(f.Type):
		return "CAST(" + string(v) + " AS UNSIGNED)", nil
	case StringType(f.Type):
		if c.Collation == "binary" {
			return "X'" + hex.EncodeToString(v) + "'", nil
		}
		cs, _, _ := strings.Cut(c.Collation, "_")
		if !PlainName(cs) || !PlainName(c.Collation) {
			return "", errUnsupported("a string column (%s) whose collation the proxy could not learn, in rows it reads first", f.Name)
		}
		s := "CONVERT(X'" + hex.EncodeToString(v) + "' USING " + cs + ")"
		if !c.Default {
			s += " COLLATE " + c.Collation
		}
		return s, nil
	}
	return PulledLiteral(f, v, false, parser.Mode(0))
}

// PlainName: a character set or collation name as the server gives it.
func PlainName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return s != ""
}

func isIntegerType(t byte) bool {
	switch t {
	case mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_TINY:
		return true
	}
	return false
}

// StringType: a column whose values are text (or bytes, with the
// binary collation).
func StringType(t byte) bool {
	switch t {
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_TINY_BLOB,
		mysql.MYSQL_TYPE_MEDIUM_BLOB, mysql.MYSQL_TYPE_LONG_BLOB, mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_JSON:
		return true
	}
	return false
}

// Materialize prints stmt (whose Materializable are ds) with each derived
// table's query replaced by texts[i] (from DerivedRows).
func Materialize(stmt ast.StmtNode, ds []*Derived, texts []string, mode parser.Mode) (string, error) {
	Mark(ds)
	text, err := parser.RestoreMode([]ast.StmtNode{stmt}, mode)
	if err != nil {
		return "", err
	}
	return fillMarks(text, "SELECT '", texts, "a derived table's place")
}

// Mark puts a mark where each of ds is in its statement, which
// Materialize fills with its rows; what rewrites the rest of the
// statement then leaves the tables read first alone.
func Mark(ds []*Derived) {
	for i, d := range ds {
		mark := &ast.SelectStmt{Kind: ast.SelectStmtKindSelect, SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true}, Fields: &ast.FieldList{Fields: []*ast.SelectField{
			{Expr: ast.NewValueExpr(pullMark(i), "", "")}}}}
		switch {
		case d.cte != nil:
			d.cte.Query.Query = mark
		case d.alias != "":
			d.ts.Source, d.ts.AsName = mark, ast.NewCIStr(d.alias)
		default:
			d.ts.Source = mark
		}
	}
}

// DefaultCollationSQL asks a server for the default collation of each
// character set, in order.
func DefaultCollationSQL(charsets []string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, cs := range charsets {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("COLLATION(CONVERT('' USING " + cs + ")) AS `c" + strconv.Itoa(i) + "`")
	}
	return b.String()
}
