package session

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/router"
)

// information_schema tables about databases and threads show the proxy's:
// a server's SCHEMATA lists every physical database behind every schema,
// its PROCESSLIST every client's connections.

// mentionsVirtual is a cheap filter: sql may name SCHEMATA or PROCESSLIST,
// or other information_schema tables (filtered in a pass-through schema).
func mentionsVirtual(sql string) bool {
	return containsFold(sql, "SCHEMATA") || containsFold(sql, "PROCESSLIST") || containsFold(sql, "INFORMATION_SCHEMA")
}

// filteredInfo names the information_schema tables about databases'
// objects by the column naming the database. In a pass-through schema the
// statement reads them restricted to the user's databases: with the
// proxy's account a server listed every database's tables, columns,
// routines and privileges.
var filteredInfo = map[string]string{
	"TABLES": "TABLE_SCHEMA", "COLUMNS": "TABLE_SCHEMA", "STATISTICS": "TABLE_SCHEMA",
	"KEY_COLUMN_USAGE": "TABLE_SCHEMA", "TABLE_CONSTRAINTS": "TABLE_SCHEMA", "PARTITIONS": "TABLE_SCHEMA",
	"VIEWS": "TABLE_SCHEMA", "REFERENTIAL_CONSTRAINTS": "CONSTRAINT_SCHEMA", "CHECK_CONSTRAINTS": "CONSTRAINT_SCHEMA",
	"TRIGGERS": "TRIGGER_SCHEMA", "ROUTINES": "ROUTINE_SCHEMA", "PARAMETERS": "SPECIFIC_SCHEMA",
	"EVENTS": "EVENT_SCHEMA", "SCHEMA_PRIVILEGES": "TABLE_SCHEMA", "TABLE_PRIVILEGES": "TABLE_SCHEMA",
	"COLUMN_PRIVILEGES": "TABLE_SCHEMA", "TABLE_STATISTICS": "TABLE_SCHEMA", "INDEX_STATISTICS": "TABLE_SCHEMA",
}

// containsFold reports whether s holds upper, ignoring ASCII case.
func containsFold(s, upper string) bool {
	for i := 0; i+len(upper) <= len(s); i++ {
		if parser.EqualFold(s[i:i+len(upper)], upper) {
			return true
		}
	}
	return false
}

// virtualTables answers a statement that reads information_schema.SCHEMATA
// or PROCESSLIST (see virtualSQL). stmt is the parsed statement, or nil to
// parse sql.
func (s *Session) virtualTables(sql string, stmt ast.StmtNode, snap *snapshot.Snapshot) (bool, error) {
	text, ok, err := s.virtualSQL(sql, stmt, snap)
	if !ok {
		return false, nil
	}
	if err != nil {
		return true, s.handleExecErr(err)
	}
	return true, s.forwardText(text, snap)
}

// virtualSQL rewrites a statement that reads information_schema.SCHEMATA
// to read the user's schemas instead: a derived table of them, over which
// any server runs it (text or prepared). In a pass-through schema it also
// reads the tables of filteredInfo through derived tables restricted to
// the user's databases (visibleDatabases, infoColumns). PROCESSLIST is
// refused: SHOW PROCESSLIST answers. ok is false when the statement reads
// none of them, or in a sharded schema does not parse (the server reports
// that); in a pass-through one, a statement naming information_schema
// that does not parse is refused with the parse error.
func (s *Session) virtualSQL(sql string, stmt ast.StmtNode, snap *snapshot.Snapshot) (text string, ok bool, err error) {
	filter := !s.sharded(snap)
	if stmt == nil {
		stmts, err := parser.ParseMode(sql, s.mode())
		if err != nil && filter && containsFold(sql, "INFORMATION_SCHEMA") {
			// Unread, it could not be restricted to the user's databases.
			return "", true, parseError(err, nil)
		}
		if err != nil || len(stmts) != 1 {
			return "", false, nil
		}
		stmt = stmts[0]
	}
	f := &virtualFinder{session: s.schema, filter: filter}
	stmt.Accept(f)
	if f.processlist {
		return "", true, unsupported("information_schema.PROCESSLIST through the proxy: the servers list every client's connections; SHOW PROCESSLIST lists the proxy's sessions")
	}
	if f.refused != nil {
		return "", true, f.refused
	}
	if len(f.schemata) == 0 && len(f.filtered) == 0 {
		return "", false, nil
	}
	if len(f.schemata) > 0 {
		derived, err := s.schemataRows(snap)
		if err != nil {
			return "", true, err
		}
		if err := replaceSources(f.schemata, "SELECT * FROM ("+derived+") AS `SCHEMATA`"); err != nil {
			return "", true, err
		}
	}
	if len(f.filtered) > 0 {
		v, e := s.visibleDatabases(snap)
		if e != nil {
			return "", true, e
		}
		for _, ts := range f.filtered {
			name := strings.ToUpper(ts.Source.(*ast.TableName).Name.O)
			cols, err := s.infoColumns(v, name)
			if err != nil {
				return "", true, err
			}
			q := "SELECT * FROM (SELECT " + cols + " FROM information_schema.`" + name + "` WHERE `" + filteredInfo[name] + "` IN (" + v.in + ")) AS `" + name + "`"
			if err := replaceSources([]*ast.TableSource{ts}, q); err != nil {
				return "", true, err
			}
		}
	}
	if sel, ok := stmt.(*ast.SelectStmt); ok {
		router.KeepFieldNames(sel) // COUNT(*) restored is COUNT(1): keep the name the client wrote
		// A derived table's column is named as the derived table names it
		// (TABLE_SCHEMA), the table's as the client wrote it.
		stmt.Accept(&columnNamer{})
	}
	if text, err = parser.RestoreMode([]ast.StmtNode{stmt}, s.mode()); err != nil {
		return "", true, unsupported("this statement over information_schema: " + err.Error())
	}
	var sum parser.Summary
	parser.Scan(text, &sum)
	return s.rewriteFuncs(text, &sum), true, nil
}

// replaceSources makes each table source read the derived table of
// query (SELECT * FROM (...) AS x), under the name it had.
func replaceSources(sources []*ast.TableSource, query string) error {
	for _, ts := range sources {
		parsed, err := parser.Parse(query)
		if err != nil {
			return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: "+err.Error())
		}
		if ts.AsName.O == "" {
			ts.AsName = ast.NewCIStr(ts.Source.(*ast.TableName).Name.O)
		}
		ts.Source = parsed[0].(*ast.SelectStmt).From.TableRefs.Left.(*ast.TableSource).Source
	}
	return nil
}

// visible are the databases a pass-through session's information_schema
// queries show: information_schema and the user's pass-through schemas'
// on the server that answers the session.
type visible struct {
	node    *backend.DataNode // the session's node
	in      string            // the databases, quoted for an IN list
	renamed [][2]string       // physical database, logical schema: where they differ
}

func (s *Session) visibleDatabases(snap *snapshot.Snapshot) (visible, *mysql.MyError) {
	rt, e := s.target(snap)
	if e != nil {
		return visible{}, e
	}
	v := visible{node: rt.node, in: "'information_schema'"}
	for _, name := range s.user.Schemas {
		if ls := snap.Schemas[name]; ls != nil && ls.PassThrough && ls.DefaultNode != nil && ls.DefaultNode.Host == rt.node.Host {
			v.in += ", " + backend.QuoteString(ls.DefaultNode.Database)
			if ls.DefaultNode.Database != name {
				v.renamed = append(v.renamed, [2]string{ls.DefaultNode.Database, name})
			}
		}
	}
	return v, nil
}

// infoColumns is the select list that reads an information_schema table
// for the derived table standing in for it: * when no database is
// renamed, else every column, those naming a database (..._SCHEMA)
// mapped to the logical schema's name, so that the client's WHERE
// TABLE_SCHEMA = DATABASE() compares what it means.
func (s *Session) infoColumns(v visible, table string) (string, error) {
	if len(v.renamed) == 0 {
		return "*", nil
	}
	cols, err := s.infoColumnNames(v.node, table)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		q := backend.QuoteIdent(c)
		if !strings.HasSuffix(strings.ToUpper(c), "_SCHEMA") {
			b.WriteString(q)
			continue
		}
		b.WriteString("CASE " + q)
		for _, r := range v.renamed {
			b.WriteString(" WHEN " + backend.QuoteString(r[0]) + " THEN " + backend.QuoteString(r[1]))
		}
		b.WriteString(" ELSE " + q + " END AS " + q)
	}
	return b.String(), nil
}

// infoColumnNames lists an information_schema table's columns as dn's
// server has them (cached per host).
func (s *Session) infoColumnNames(dn *backend.DataNode, table string) ([]string, error) {
	key := [3]string{"information_schema", table, "columns on " + dn.Host.Name}
	if cols, ok := s.env.columns.get(key); ok {
		return cols, nil
	}
	res, err := s.nodeQuery(dn, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = "+backend.QuoteString(table)+" ORDER BY ORDINAL_POSITION")
	if err != nil {
		return nil, err
	}
	var cols []string
	for _, r := range res.rows {
		cols = append(cols, string(r[0]))
	}
	s.env.columns.put(key, cols)
	return cols, nil
}

// schemataRows is a SELECT of SCHEMATA's columns: information_schema's
// row, then one for each schema the user may use, with its default (else
// first) node's database's character set, collation and comment.
func (s *Session) schemataRows(snap *snapshot.Snapshot) (string, error) {
	const cols = "CATALOG_NAME, SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME, SQL_PATH, SCHEMA_COMMENT"
	var b strings.Builder
	b.WriteString("SELECT " + cols + " FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'information_schema'")
	for _, name := range s.user.Schemas {
		dn := schemaNode(snap, name)
		if dn == nil {
			continue
		}
		res, err := s.nodeQuery(dn, "SELECT "+cols+" FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = "+backend.QuoteString(dn.Database))
		if err != nil {
			return "", err
		}
		for _, row := range res.rows {
			row[1] = []byte(name)
			b.WriteString(" UNION ALL SELECT ")
			for i, v := range row {
				if i > 0 {
					b.WriteString(", ")
				}
				if v == nil {
					b.WriteString("NULL")
				} else {
					b.WriteString(backend.QuoteString(string(v)))
				}
			}
		}
	}
	return b.String(), nil
}

// schemaNode is the node a schema's database-level facts come from.
func schemaNode(snap *snapshot.Snapshot, name string) *backend.DataNode {
	if ls := snap.Schemas[name]; ls != nil && ls.DefaultNode != nil {
		return ls.DefaultNode
	}
	if rules := snap.Rules[name]; rules != nil && len(rules.Nodes) > 0 {
		return snap.Cluster.Nodes[rules.Nodes[0]]
	}
	return nil
}

// virtualFinder collects the table sources that read SCHEMATA and notes
// PROCESSLIST; with filter, it also collects those of filteredInfo and
// refuses the tables about the servers' accounts and InnoDB's internals.
type virtualFinder struct {
	session     string // the session's schema: unqualified names are in it
	filter      bool
	schemata    []*ast.TableSource
	filtered    []*ast.TableSource
	processlist bool
	refused     *mysql.MyError
}

func (f *virtualFinder) Enter(n ast.Node) (ast.Node, bool) {
	ts, ok := n.(*ast.TableSource)
	if !ok {
		return n, false
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return n, false
	}
	schema := tn.Schema.O
	if schema == "" {
		schema = f.session
	}
	if !strings.EqualFold(schema, "information_schema") {
		return n, false
	}
	name := strings.ToUpper(tn.Name.O)
	switch {
	case name == "SCHEMATA":
		f.schemata = append(f.schemata, ts)
	case name == "PROCESSLIST":
		f.processlist = true
	case !f.filter:
	case filteredInfo[name] != "":
		f.filtered = append(f.filtered, ts)
	case strings.HasPrefix(name, "INNODB_"):
		// As for a MariaDB account without PROCESS: they name every
		// database's tables.
		f.refused = mysql.NewDefaultError(mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, "PROCESS")
	case name == "USER_PRIVILEGES" || name == "USER_STATISTICS" || name == "CLIENT_STATISTICS":
		f.refused = unsupported("information_schema." + name + " through the proxy: it describes the servers' accounts; SHOW GRANTS lists the proxy's")
	}
	return n, true
}

func (f *virtualFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// qualifyInfoSchema names information_schema on a statement's unqualified
// tables (not its CTEs) when it is the session's database: the statement
// then reads the same tables on whichever node answers it.
func qualifyInfoSchema(stmt ast.StmtNode) {
	stmt.Accept(&infoQualifier{ctes: map[string]bool{}})
}

type infoQualifier struct{ ctes map[string]bool }

func (q *infoQualifier) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.WithClause:
		for _, c := range x.CTEs {
			q.ctes[c.Name.L] = true
		}
	case *ast.TableName:
		if x.Schema.O == "" && !q.ctes[x.Name.L] {
			x.Schema = ast.NewCIStr("information_schema")
		}
	}
	return n, false
}

func (q *infoQualifier) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// columnNamer gives each select field that is a bare column the name the
// client wrote as its alias.
type columnNamer struct{}

func (columnNamer) Enter(n ast.Node) (ast.Node, bool) {
	if f, ok := n.(*ast.SelectField); ok && f.AsName.O == "" {
		if c, ok := f.Expr.(*ast.ColumnNameExpr); ok {
			f.AsName = c.Name.Name
		}
	}
	return n, false
}

func (columnNamer) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// restrictedShow rewrites, in a pass-through schema, a SHOW that lists
// every database's objects (SHOW PROCEDURE, FUNCTION or PACKAGE [BODY]
// STATUS; SHOW OPEN TABLES without FROM) to list the user's databases'
// only, its LIKE or WHERE kept. It returns "" for any other statement.
func (s *Session) restrictedShow(sql string, snap *snapshot.Snapshot) (string, *mysql.MyError) {
	l := parser.NewLexer(sql)
	is := func(t parser.Token, w string) bool {
		return t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), w)
	}
	if !is(l.Next(), "SHOW") {
		return "", nil
	}
	col, like := "Db", "Name"
	switch t := l.Next(); {
	case is(t, "PROCEDURE"), is(t, "FUNCTION"):
		if !is(l.Next(), "STATUS") {
			return "", nil
		}
	case is(t, "PACKAGE"):
		t = l.Next()
		if is(t, "BODY") {
			t = l.Next()
		}
		if !is(t, "STATUS") {
			return "", nil
		}
	case is(t, "OPEN"):
		if !is(l.Next(), "TABLES") {
			return "", nil
		}
		col, like = "Database", "Table"
	default:
		return "", nil
	}
	rest := l.Next()
	if is(rest, "FROM") || is(rest, "IN") {
		return "", nil // SHOW OPEN TABLES FROM db: checked as a qualified name
	}
	v, e := s.visibleDatabases(snap)
	if e != nil {
		return "", e
	}
	head := strings.TrimRight(sql[:rest.Start], " \t\r\n") + " WHERE `" + col + "` IN (" + v.in + ")"
	tail := strings.TrimRight(strings.TrimSpace(sql[rest.End:]), ";")
	switch {
	case rest.Kind == parser.TokEOF || rest.Kind == parser.TokSemicolon:
		return head, nil
	case is(rest, "LIKE"):
		return head + " AND `" + like + "` LIKE " + tail, nil
	case is(rest, "WHERE"):
		return head + " AND (" + tail + ")", nil
	}
	return "", nil // the server's syntax error
}
