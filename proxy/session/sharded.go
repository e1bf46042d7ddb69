package session

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/shardrules"
)

// Statements of a schema with table rules are parsed and planned by the
// router; the executor runs the plan over the nodes.

// sharded reports whether the session's schema has table rules.
func (s *Session) sharded(snap *snapshot.Snapshot) bool {
	name := s.schema
	if name == "" || name == "information_schema" {
		if len(s.user.Schemas) == 0 {
			return false
		}
		name = s.user.Schemas[0]
	}
	ls := snap.Schemas[name]
	return ls != nil && !ls.PassThrough
}

// runSharded answers a query text in a sharded schema, statement by
// statement when it holds several.
func (s *Session) runSharded(sql string, sum *parser.Summary, snap *snapshot.Snapshot) error {
	if sum.Next == 0 {
		return s.shardedStatement(sql, sum, snap, nil)
	}
	stmts, err := parser.ParseMode(sql, s.mode())
	var texts []string
	if err != nil {
		// MariaDB's syntax that TiDB's parser does not read (SET
		// STATEMENT, RETURNING, INTO @v), or an error: statement after
		// statement, each parsed when its turn comes, as the server does.
		texts = parser.SplitStatements(sql)
	}
	n := max(len(stmts), len(texts))
	var sub parser.Summary
	for i := 0; i < n; i++ {
		s.cli.MoreResults = i < n-1
		s.mark = s.c.Mark()
		var st ast.StmtNode
		var text string
		if texts != nil {
			text = texts[i]
		} else {
			st = stmts[i]
			text = st.Text()
		}
		parser.Scan(text, &sub)
		if i > 0 {
			s.beginDiagnostics(&sub)
		}
		if err := s.shardedStatement(text, &sub, snap, st); err != nil {
			s.cli.MoreResults = false
			return err
		}
		if s.cli.MoreResults == false && i < n-1 {
			return nil // an error ended the query
		}
	}
	s.cli.MoreResults = false
	return nil
}

// shardedStatement answers one statement; stmt is its AST when already parsed.
func (s *Session) shardedStatement(sql string, sum *parser.Summary, snap *snapshot.Snapshot, stmt ast.StmtNode) error {
	if sum.Kind == parser.KindSet && sum.Second == "STATEMENT" && stmt == nil {
		return s.setStatement(sql, snap)
	}
	if e := s.locksLost(""); e != nil {
		return s.writeErr(e)
	}
	if done, err := s.startStatement(sql, sum, snap, true); done {
		return err
	}
	if done, err := s.local(sql, sum); done {
		return err
	}
	switch sum.Kind {
	case parser.KindLock:
		return s.lockTables(sql, snap)
	case parser.KindUnlock:
		// (Without locks held, as in MySQL, no implicit commit.)
		if e := s.unlockTables(); e != nil {
			return s.writeErr(e)
		}
		return s.writeOK(0, 0, "")
	case parser.KindFlush:
		if sum.Flags&parser.FlagPin != 0 {
			return s.writeErr(unsupported("FLUSH ... WITH READ LOCK or FOR EXPORT in a sharded schema: the lock would hold one server of several"))
		}
		if s.tx.open {
			// FLUSH commits the transaction first, as in MySQL (a server
			// refuses it inside an XA branch).
			if e := s.endTransaction("COMMIT"); e != nil {
				return s.writeErr(e)
			}
		}
	}
	switch sum.Kind {
	case parser.KindSet, parser.KindEmpty, parser.KindDo, parser.KindCall, parser.KindFlush:
		// Session-level statements run on the default node; what they
		// change is tracked and replayed on the other nodes.
		rt, e := s.target(snap)
		if e != nil {
			return s.writeErr(e)
		}
		if (sum.Kind == parser.KindSet || sum.Kind == parser.KindDo) && sum.Flags&parser.FlagFrom != 0 {
			// A subquery reads the schema's tables: it runs where they are
			// (SET @n = (SELECT COUNT(*) FROM orders WHERE user_id = 5) on
			// that shard), or is refused when one server cannot answer it.
			var err error
			if sql, rt, err = s.placeSessionStatement(sql, stmt, snap); err != nil {
				return s.handleExecErr(err)
			}
		}
		if s.tx.implicit && sum.Kind == parser.KindSet && strings.Contains(strings.ToLower(sql), "autocommit") {
			// SET autocommit = 1 commits the transaction autocommit = 0 opened.
			if e := s.endTransaction("COMMIT"); e != nil {
				return s.writeErr(e)
			}
		}
		return s.forward(append([]byte{mysql.COM_QUERY}, s.rewriteFuncs(sql, sum)...), sum, rt)
	case parser.KindPrepare, parser.KindExecute, parser.KindDeallocate, parser.KindHandler, parser.KindXA:
		return s.writeErr(unsupported(strings.ToUpper(sum.Kind.String()) + " statements in a sharded schema"))
	}
	if sum.Kind == parser.KindOther {
		if m, ok := parser.ParseMaintenance(sql, s.mode()); ok {
			return s.maintenance(m, sum, snap)
		}
	}
	if stmt == nil && s.schema != "information_schema" && s.locks == nil { // (its names are qualified below; locks are checked by the router)
		if plan, ok := s.cachedPlan(sql, sum, snap); ok {
			return s.answerPlan(plan, nil, sum, 0)
		}
	}
	if stmt == nil {
		stmts, err := parser.ParseMode(sql, s.mode())
		if err != nil && sum.Flags&parser.FlagIntoVar != 0 {
			return s.selectInto(sql, sum, snap, err)
		}
		if err != nil && returningKind(sum.Kind) {
			if done, err := s.returning(sql, sum, snap); done {
				return err
			}
		}
		if err != nil {
			if done, err := s.unparsedOnOneNode(sql, sum, snap); done {
				return err
			}
			return s.writeErr(parseError(err, sum))
		}
		if len(stmts) == 0 {
			return s.writeErr(mysql.NewDefaultError(mysql.ER_EMPTY_QUERY))
		}
		stmt = stmts[0]
	}
	if s.schema == "information_schema" {
		qualifyInfoSchema(stmt)
	}
	if meta, ok := metadataStmt(stmt); ok {
		return s.metadata(stmt, meta, snap)
	}
	if mentionsVirtual(sql) {
		if done, err := s.virtualTables(sql, stmt, snap); done {
			return err
		}
	}
	if sel, names, ok := infoSchemaSelect(stmt); ok {
		return s.infoSchema(sql, sel, names, snap)
	}
	plan, firstID, err := s.planStatement(stmt, func() (ast.StmtNode, error) { return s.parseOne(sql) }, snap)
	if err != nil {
		return s.handleExecErr(err)
	}
	return s.answerPlan(plan, stmt, sum, firstID)
}

// answerPlan runs a planned statement and ends its answer; a server's
// error ends a multi-statement query.
func (s *Session) answerPlan(plan *router.Plan, stmt ast.StmtNode, sum *parser.Summary, firstID uint64) error {
	out, err := s.runPlan(plan, stmt, sum, firstID)
	if err != nil {
		return s.handleExecErr(err)
	}
	if out.Err != nil {
		s.cli.MoreResults = false
	}
	return s.flush()
}

// planStatement plans a parsed statement: the expressions that decide
// its shards evaluated, the ids the proxy generates filled in, and where
// the router refuses it, the ways around (subqueries or tables read
// first), from a fresh parse.
func (s *Session) planStatement(stmt ast.StmtNode, fresh func() (ast.StmtNode, error), snap *snapshot.Snapshot) (*router.Plan, uint64, error) {
	if err := s.evalKeyExprs(stmt, snap); err != nil {
		return nil, 0, err
	}
	firstID, err := s.fillIDs(stmt, snap)
	if err != nil {
		return nil, 0, err
	}
	plan, err := router.Build(stmt, s.routerEnv(snap))
	if err != nil {
		plan, err = s.around(fresh, snap, err, 0)
	}
	return plan, firstID, err
}

// placeSessionStatement plans a SET or DO whose subqueries read tables:
// the statement printed with physical names, and the node to run it on.
func (s *Session) placeSessionStatement(sql string, stmt ast.StmtNode, snap *snapshot.Snapshot) (string, route, error) {
	if stmt == nil {
		stmts, err := parser.ParseMode(sql, s.mode())
		if err != nil {
			return "", route{}, parseError(err, nil)
		}
		if len(stmts) == 0 {
			return "", route{}, mysql.NewDefaultError(mysql.ER_EMPTY_QUERY)
		}
		stmt = stmts[0]
	}
	plan, err := router.Build(stmt, s.routerEnv(snap))
	if err != nil {
		// A subquery over several shards is read first, and its rows
		// written into the statement: SET @n = (SELECT COUNT(*) FROM orders).
		plan, err = s.around(func() (ast.StmtNode, error) { return s.parseOne(sql) }, snap, err, 0)
	}
	if err != nil {
		return "", route{}, err
	}
	r, ok := plan.Root.(*router.Route)
	if !ok || len(r.SQL) != 1 {
		return "", route{}, unsupported("a SET or DO whose subqueries read several shards or nodes")
	}
	dn := snap.Cluster.Nodes[r.Node]
	return r.SQL[0], route{node: dn, schema: dn.Database}, nil
}

func isDDL(stmt ast.StmtNode) bool {
	_, ok := stmt.(ast.DDLNode)
	return ok
}

// rewriteFuncs shows DATABASE() and CONNECTION_ID() as the client must see them.
func (s *Session) rewriteFuncs(sql string, sum *parser.Summary) string {
	if sum.Flags&(parser.FlagDatabase|parser.FlagConnectionID|parser.FlagUser|parser.FlagDiagnostics) == 0 {
		return sql
	}
	v := s.values()
	return parser.RewriteSession(sql, &v)
}

// mode is the session's sql_mode as it affects parsing. It is asked for
// every statement: the answer is kept until the session's variables or
// the servers' defaults change (both are immutable, so pointers tell).
func (s *Session) mode() parser.Mode {
	info := s.env.Snap.Load().Info
	if m := &s.modeCache; m.vars == s.vars && m.info == info && m.vars != nil {
		return m.mode
	}
	var mode parser.Mode
	if v, ok := s.vars.Var("sql_mode"); ok {
		mode = parser.ModeOf(v)
	} else if info != nil {
		mode = parser.ModeOf(info.SQLMode)
	}
	div := 4
	if v, ok := s.vars.Var("div_precision_increment"); ok {
		if n, err := strconv.Atoi(strings.Trim(v, "'")); err == nil {
			div = n
		}
	} else if info != nil {
		div = info.DivPrecision
	}
	gcMax := 1 << 20
	if v, ok := s.vars.Var("group_concat_max_len"); ok {
		if n, err := strconv.Atoi(strings.Trim(v, "'")); err == nil {
			gcMax = n
		}
	} else if info != nil && info.GroupConcatMaxLen > 0 {
		gcMax = info.GroupConcatMaxLen
	}
	s.modeCache = modeCache{vars: s.vars, info: info, mode: mode, foreign: foreignCharset(s.vars), results: utf8Results(s.vars), div: div, gcMax: gcMax}
	return mode
}

// foreignCharset is the session's character_set_client when its text is
// not UTF-8 (see router.Env.ForeignCharset).
func (s *Session) foreignCharset() string {
	s.mode()
	return s.modeCache.foreign
}

func foreignCharset(vars *backend.State) string {
	cs, _ := vars.Var("character_set_client")
	switch strings.ToLower(cs) {
	case "", "utf8mb4", "utf8mb3", "utf8", "ascii", "binary":
		return ""
	}
	return cs
}

// utf8Results is the session's character_set_results when the rows'
// strings come as UTF-8: "utf8mb4" or "utf8mb3" (see router.Env.ResultsCharset).
func utf8Results(vars *backend.State) string {
	switch cs := rowsCharset(vars); cs {
	case "utf8mb4", "utf8mb3":
		return cs
	}
	return ""
}

// rowsCharset is the session's character_set_results as the server names
// it (router.Env.RowsCharset).
func rowsCharset(vars *backend.State) string {
	cs, ok := vars.Var("character_set_results")
	switch cs = strings.ToLower(strings.Trim(cs, "'\"`")); {
	case !ok:
		return ""
	case cs == "utf8":
		return "utf8mb3"
	case cs == "null" || cs == "binary" || cs == "":
		return "binary"
	}
	return cs
}

// modeCache is the session's sql_mode and client charset as mode computed
// them last.
type modeCache struct {
	vars    *backend.State
	info    *backend.ServerInfo
	mode    parser.Mode
	foreign string
	results string // character_set_results when UTF-8: utf8mb4 or utf8mb3
	div     int    // div_precision_increment
	gcMax   int    // group_concat_max_len
}

func (s *Session) logicalDB() string {
	if s.schema == "information_schema" {
		return ""
	}
	return s.schema
}

func parseError(err error, sum *parser.Summary) *mysql.MyError {
	if sum != nil && sum.Flags&parser.FlagIntoVar != 0 {
		// MariaDB reads it; the proxy's parser does not.
		return unsupported("SELECT ... INTO @variable here in a sharded schema (prepared, or in a UNION or a subquery): send it as a text query, or write SET @v = (SELECT ...)")
	}
	var unread *parser.UnreadError
	if errors.As(err, &unread) {
		return unsupported(unread.What + " in a sharded schema (its SQL parser does not read it)")
	}
	msg := err.Error()
	if i := strings.Index(msg, "near "); i >= 0 {
		// The server might take it: say whose reading this is.
		msg = "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use " +
			strings.TrimSpace(msg[i:]) + " (as shardgate's SQL parser reads it: statements on sharded schemas go through it)"
	}
	return mysql.NewError(mysql.ER_PARSE_ERROR, msg)
}

// routerEnv is what the router needs to know of the session.
func (s *Session) routerEnv(snap *snapshot.Snapshot) *router.Env {
	mode := s.mode() // and s.modeCache
	env := &router.Env{
		Schema: s.schema,
		Rules:  func(name string) *shardrules.SchemaRules { return snap.Rules[name] },
		NodeDB: func(node string) string {
			if n := snap.Cluster.Nodes[node]; n != nil {
				return n.Database
			}
			return ""
		},
		CanUse:  func(name string) bool { return snapshot.CanUse(s.user, name) },
		User:    s.user.Name,
		Host:    s.host,
		Columns: func(schema, table string) ([]string, error) { return s.tableColumns(snap, schema, table) },
		Keys:    func(schema, table string) ([]string, error) { return s.tableKeys(snap, schema, table) },
		KeyColumnType: func(schema, table, column string) string {
			return s.keyColumnType(snap, schema, table, column)
		},
		Values: parser.SessionValues{ConnectionID: uint64(s.ID), Database: s.logicalDB(),
			Diagnostics: true, Warnings: s.diag.warnings, Errors: s.diag.errors},
		Mode:           mode,
		DivPrecision:   s.modeCache.div,
		InTransaction:  s.inTransaction(),
		ForeignCharset: s.foreignCharset(),
		ResultsCharset: s.modeCache.results,
		RowsCharset:    rowsCharset(s.vars),
	}
	if len(s.user.Schemas) > 0 {
		env.HomeSchema = s.user.Schemas[0] // as target() answers outside plans
	}
	if s.locks != nil {
		env.Locks = s.locks.tables
	}
	return env
}

// Acquire implements exec.Conns: a connection to the node's primary, or
// for a plain read to one of its replicas, with the session's state and
// transaction.
func (s *Session) Acquire(node string) (*backend.Conn, error) {
	snap := s.env.Snap.Load()
	dn := snap.Cluster.Nodes[node]
	if node == "" {
		return nil, mysql.NewDefaultError(mysql.ER_NO_DB_ERROR) // no schema to run it in
	}
	if dn == nil {
		return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: no data node "+node)
	}
	sum := s.planSum
	c, err := s.acquireFor(dn.Host, sum)
	if err != nil {
		return nil, err
	}
	if sum == nil {
		sum = &parser.Summary{}
	}
	if err := s.prepareConn(c, dn.Database, sum); err != nil {
		s.release(c, sum, true)
		return nil, err
	}
	if s.planWrite && c.XA != "" {
		c.XAWrote = true
	}
	s.planMu.Lock()
	s.planConns = append(s.planConns, c)
	s.planMu.Unlock()
	return c, nil
}

// Release implements exec.Conns. The user variables a statement assigned
// (one statement on one connection: runPlan refuses others) are read back,
// so that the session's other connections get them too.
func (s *Session) Release(c *backend.Conn, failed bool) {
	s.planMu.Lock()
	if i := slices.Index(s.planConns, c); i >= 0 {
		s.planConns = slices.Delete(s.planConns, i, i+1)
	}
	s.planMu.Unlock()
	if !c.Broken() {
		c.State = s.wantState(c.State.Schema)
		if sum := s.planSum; !failed && sum != nil && sum.Flags&parser.FlagUserVarAssign != 0 {
			if err := s.readUserVars(c, sum.UserVars); err != nil {
				s.pinAll = true
			}
		}
	}
	s.release(c, s.planSum, failed)
}

// columnCache remembers tables' column lists (for INSERT without columns).
type columnCache struct {
	mu sync.Mutex
	m  map[[3]string][]string
}

func (c *columnCache) get(k [3]string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *columnCache) put(k [3]string, v []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[3]string][]string{}
	}
	c.m[k] = v
}

func (c *columnCache) forget() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// tableColumns asks the node of a table's first placement for its columns.
func (s *Session) tableColumns(snap *snapshot.Snapshot, schema, table string) ([]string, error) {
	cols, err := s.tableMeta(snap, schema, table, "columns", func(db, phys string) string {
		return "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " + backend.QuoteString(db) +
			" AND TABLE_NAME = " + backend.QuoteString(phys) + " ORDER BY ORDINAL_POSITION"
	})
	if err == nil && len(cols) == 0 {
		return nil, mysql.NewDefaultError(mysql.ER_NO_SUCH_TABLE, schema, table)
	}
	return cols, err
}

// keyColumnType returns the DATA_TYPE and collation of a table's column
// (see router.Env.KeyColumnType; "" when it cannot be read).
func (s *Session) keyColumnType(snap *snapshot.Snapshot, schema, table, column string) string {
	t, err := s.columnMeta(snap, schema, table, column, "LOWER(CONCAT(DATA_TYPE, ' ', IFNULL(COLLATION_NAME, 'binary')))")
	if err != nil {
		return ""
	}
	return t
}

// columnMeta reads one value (expr, over information_schema.COLUMNS) about
// a table's column, cached as tableMeta's.
func (s *Session) columnMeta(snap *snapshot.Snapshot, schema, table, column, expr string) (string, error) {
	v, err := s.tableMeta(snap, schema, table, expr+" "+strings.ToLower(column), func(db, phys string) string {
		return "SELECT " + expr + " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " + backend.QuoteString(db) +
			" AND TABLE_NAME = " + backend.QuoteString(phys) + " AND COLUMN_NAME = " + backend.QuoteString(column)
	})
	if err == nil && len(v) != 1 {
		err = mysql.NewDefaultError(mysql.ER_BAD_FIELD_ERROR, column, table)
	}
	if err != nil {
		return "", err
	}
	return v[0], nil
}

// tableKeys returns a table's primary key columns (none: nil).
func (s *Session) tableKeys(snap *snapshot.Snapshot, schema, table string) ([]string, error) {
	return s.tableMeta(snap, schema, table, "keys", func(db, phys string) string {
		return "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = " + backend.QuoteString(db) +
			" AND TABLE_NAME = " + backend.QuoteString(phys) + " AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX"
	})
}

// tableMeta runs an information_schema query about a table's first
// physical table, the answer cached until the next DDL.
func (s *Session) tableMeta(snap *snapshot.Snapshot, schema, table, what string, query func(db, phys string) string) ([]string, error) {
	key := [3]string{schema, table, what}
	if cols, ok := s.env.columns.get(key); ok {
		return cols, nil
	}
	rules := snap.Rules[schema]
	if rules == nil {
		return nil, mysql.NewDefaultError(mysql.ER_BAD_DB_ERROR, schema)
	}
	rule := rules.Lookup(table)
	if rule == nil {
		return nil, mysql.NewDefaultError(mysql.ER_NO_SUCH_TABLE, schema, table)
	}
	p := rule.AllPlacements()[0]
	dn := snap.Cluster.Nodes[p.Node]
	pool := dn.Host.Primary().Pool
	c, err := pool.Get(contextBackground(), backend.Plain, nil, 0)
	if err != nil {
		return nil, err
	}
	defer pool.Put(c)
	// Not under another session's variables (sql_select_limit cut the
	// column list that every session then used).
	if err := c.SyncDefaults(c.State.Schema); err != nil {
		c.MarkBroken()
		return nil, err
	}
	var out []string
	err = c.Query(query(dn.Database, p.Table), func(_ []wire.ColumnRef, v [][]byte) error {
		out = append(out, string(v[0]))
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	s.env.columns.put(key, out)
	return out, nil
}

// Pinned implements exec.Conns.
func (s *Session) Pinned(node string) (string, bool) {
	dn := s.env.Snap.Load().Cluster.Nodes[node]
	if dn == nil {
		return "", false
	}
	if s.tx.open || s.pinAll || s.locks != nil {
		return dn.Host.Name, true
	}
	for _, c := range s.pinned {
		if c.Server().Host() == dn.Host {
			return dn.Host.Name, true
		}
	}
	return "", false
}

// unparsedOnOneNode runs a statement TiDB's parser cannot read on the one
// node its tables are on, as written (see wholeOnOneNode).
func (s *Session) unparsedOnOneNode(sql string, sum *parser.Summary, snap *snapshot.Snapshot) (bool, error) {
	if sum.Next != 0 {
		return false, nil
	}
	dn, text, ok := s.wholeOnOneNode(sql, sum, snap)
	if !ok {
		return false, nil
	}
	return true, s.forward(append([]byte{mysql.COM_QUERY}, s.rewriteFuncs(text, sum)...), sum, route{node: dn, schema: dn.Database})
}

// wholeOnOneNode is the node and text for a statement TiDB's parser cannot
// read (router.OneNodeText): a read or a write of rows, not DDL (the
// proxy keeps tables' definitions), and not while LOCK TABLES holds locks
// the proxy checks itself.
func (s *Session) wholeOnOneNode(sql string, sum *parser.Summary, snap *snapshot.Snapshot) (*backend.DataNode, string, bool) {
	switch sum.Kind {
	case parser.KindSelect, parser.KindInsert, parser.KindReplace, parser.KindUpdate, parser.KindDelete:
	default:
		return nil, "", false
	}
	if s.locks != nil {
		return nil, "", false
	}
	node, text, ok := router.OneNodeText(sql, s.routerEnv(snap), sum.Kind != parser.KindSelect || sum.Flags&parser.FlagIntoVar != 0)
	dn := snap.Cluster.Nodes[node]
	return dn, text, ok && dn != nil
}
