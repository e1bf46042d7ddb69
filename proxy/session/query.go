package session

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/snapshot"
)

// comQuery answers COM_QUERY. p is the whole payload (command byte first);
// it is valid until the next read from the client.
func (s *Session) comQuery(p []byte) error {
	sql := unsafe.String(unsafe.SliceData(p[1:]), len(p)-1)
	text, masked := s.readable(sql) // what the proxy reads of sql
	if parser.HasExecutableComment(text) {
		if masked {
			return s.writeErr(s.maskedRefusal(maskedComment))
		}
		sql = s.expandComments(sql)
		text = sql
		p = append([]byte{mysql.COM_QUERY}, sql...)
	}
	sum := &s.sum
	parser.Scan(text, sum)
	s.beginDiagnostics(sum)
	if sum.Next != 0 && !s.multiStatements {
		return s.writeErr(syntaxError(sql[sum.Next:]))
	}
	s.setQuery(sql)
	defer s.setQuery("")
	snap := s.env.Snap.Load()
	s.cli.Names = snap.Names
	if s.sharded(snap) {
		if masked {
			return s.writeErr(s.maskedRefusal(maskedSharded))
		}
		return s.runSharded(sql, sum, snap)
	}
	s.nextStatement(sum)
	if e := s.relayUnderLocks(sum); e != nil {
		return s.writeErr(e)
	}
	if sum.Next == 0 {
		if masked && s.keepsText(text, sum) {
			return s.writeErr(s.maskedRefusal("a " + strings.ToUpper(sum.Kind.String()) + " statement"))
		}
		if done, err := s.local(text, sum); done {
			return err
		}
	} else if e := checkMulti(text, sum); e != nil {
		return s.writeErr(e)
	}
	var parsed []ast.StmtNode
	if namesOtherDB(sum) {
		var e *mysql.MyError
		if parsed, e = s.checkSchemas(text, snap); e != nil {
			return s.writeErr(e)
		}
	}
	if sum.Next == 0 && (s.schema == "information_schema" || sum.Flags&parser.FlagQualified != 0 && mentionsVirtual(text)) {
		if masked {
			return s.writeErr(s.maskedRefusal("a query of information_schema"))
		}
		var stmt ast.StmtNode
		if len(parsed) == 1 {
			stmt = parsed[0]
		}
		if done, err := s.virtualTables(sql, stmt, snap); done {
			return err
		}
	}
	if out, e := s.passThroughText(text, sum, snap); e != nil {
		return s.writeErr(e)
	} else if out != text {
		if masked {
			return s.writeErr(s.maskedRefusal(maskedRewritten))
		}
		p = append([]byte{mysql.COM_QUERY}, out...)
	}
	rt, e := s.target(snap)
	if e != nil {
		return s.writeErr(e)
	}
	return s.forward(p, sum, rt)
}

// localShow is the session's own answer to a SHOW about databases,
// accounts or connections, nil when a server answers it: a server's would
// show its physical databases, the proxy's account and every client's
// connections.
func (s *Session) localShow(sql string, sum *parser.Summary) func() error {
	if sum.Kind != parser.KindShow {
		return nil
	}
	switch sum.Second {
	case "DATABASES", "SCHEMAS":
		return func() error { return s.showDatabases(sql) }
	case "GRANTS":
		return func() error { return s.showGrants(sql) }
	case "PROCESSLIST":
		return func() error { return s.showProcesslist(false) }
	case "FULL":
		if thirdWordIs(sql, "PROCESSLIST") {
			return func() error { return s.showProcesslist(true) }
		}
	}
	if pattern, ok := sslStatusQuery(sql); ok {
		return func() error { return s.showSSLStatus(pattern) }
	}
	return nil
}

// local answers statements about the session itself: USE, KILL, SHOW
// DATABASES, database DDL, transactions, and refuses SET that would break
// the proxy. It reports whether it answered. (keepsText lists what it
// answers or keeps from the text: keep the two in step.)
func (s *Session) local(sql string, sum *parser.Summary) (bool, error) {
	if priv := parser.ServerWide(sql, sum); priv != "" {
		return true, s.writeErr(mysql.NewDefaultError(mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, priv))
	}
	if sum.Kind == parser.KindShow && isDiagnosticsStatement(sum) {
		if done, err := s.showDiagnostics(sql); done {
			return true, err
		}
	}
	switch sum.Kind {
	case parser.KindUse:
		if e := s.use(sum.Arg); e != nil {
			return true, s.writeErr(e)
		}
		return true, s.writeOK(0, 0, "")
	case parser.KindKill:
		id, err := strconv.ParseUint(sum.Arg, 10, 32)
		if err != nil {
			return true, s.writeErr(syntaxError(sum.Arg))
		}
		return true, s.kill(uint32(id), sum.KillQuery)
	case parser.KindShow:
		if answer := s.localShow(sql, sum); answer != nil {
			return true, answer()
		}
	case parser.KindCreate, parser.KindDrop, parser.KindAlter:
		if sum.Second == "DATABASE" || sum.Second == "SCHEMA" {
			return true, s.databaseDDL(sql)
		}
	case parser.KindSet:
		if sum.Flags&parser.FlagSessionTrack != 0 {
			return true, s.writeErr(unsupported("changing session_track_* variables: the proxy relies on them to follow the session's state"))
		}
		if sum.Flags&parser.FlagGlobal != 0 {
			return true, s.writeErr(unsupported("SET GLOBAL through the proxy: it would change one backend server only; set it on the servers"))
		}
	case parser.KindOther:
		if isPreview(sql) {
			return true, s.preview(sql)
		}
	}
	return s.handleTx(sql, sum)
}

// checkMulti refuses, in a multi-statement text forwarded whole, what the
// proxy must answer itself or refuses alone: USE, server-wide statements.
func checkMulti(sql string, sum *parser.Summary) *mysql.MyError {
	var sub parser.Summary
	for off := 0; off < len(sql); {
		parser.ScanOne(sql[off:], &sub)
		if sub.Kind == parser.KindUse {
			return unsupported("USE inside a multi-statement query; send it on its own")
		}
		if priv := parser.ServerWide(sql[off:], &sub); priv != "" {
			return mysql.NewDefaultError(mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, priv)
		}
		if sub.Kind == parser.KindSet && sub.Flags&(parser.FlagGlobal|parser.FlagSessionTrack) != 0 {
			return unsupported("SET GLOBAL or session_track_* inside a multi-statement query")
		}
		if sub.Next == 0 {
			return nil
		}
		off += sub.Next
	}
	return nil
}

// passThroughText is the text a pass-through statement runs as: a SHOW
// about every database's objects restricted to the user's
// (restrictedShow), the session's values and physical names written in
// (rewrite). It is sql itself when nothing changes.
func (s *Session) passThroughText(sql string, sum *parser.Summary, snap *snapshot.Snapshot) (string, *mysql.MyError) {
	if sum.Kind == parser.KindShow && sum.Next == 0 {
		text, e := s.restrictedShow(sql, snap)
		if e != nil {
			return "", e
		}
		if text != "" {
			sql = text
		}
	}
	if s.needsRewrite(sql, sum) {
		sql = s.rewrite(sql)
	}
	return sql, nil
}

// namesOtherDB reports whether a pass-through statement may name another
// database: a qualified name, or SHOW ... FROM db.
func namesOtherDB(sum *parser.Summary) bool {
	return sum.Flags&parser.FlagQualified != 0 || sum.Kind == parser.KindShow
}

// checkSchemas refuses a pass-through statement naming a database that is
// not one of the user's schemas: the proxy's backend account could read
// it, the client may not. It returns the parsed statements (nil: unparsed).
func (s *Session) checkSchemas(sql string, snap *snapshot.Snapshot) ([]ast.StmtNode, *mysql.MyError) {
	allowed := func(db string) bool {
		if strings.EqualFold(db, "information_schema") {
			return true
		}
		return snap.Schemas[db] != nil && snapshot.CanUse(s.user, db)
	}
	stmts, err := parser.ParseMode(sql, s.mode())
	if err != nil {
		// Unparsed: refuse qualifiers that name a database the user may
		// not use: system databases and other schemas' physical ones.
		l := parser.NewLexer(sql)
		for t := l.Next(); t.Kind != parser.TokEOF; t = l.Next() {
			if t.Kind != parser.TokIdent && t.Kind != parser.TokQuotedIdent {
				continue
			}
			name := parser.UnquoteIdent(l.Text(t))
			if s.forbiddenDB(name, snap) && nextDot(&l) {
				return nil, mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, s.user.Name, s.host, name)
			}
		}
		return nil, nil
	}
	for _, st := range stmts {
		names := parser.CollectNames(st)
		for _, r := range names.Refs {
			if r.Schema != "" && !allowed(r.Schema) {
				return nil, mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, s.user.Name, s.host, r.Schema)
			}
		}
		if sh, ok := st.(*ast.ShowStmt); ok && sh.DBName != "" && !allowed(sh.DBName) {
			return nil, mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, s.user.Name, s.host, sh.DBName)
		}
	}
	return stmts, nil
}

// forbiddenDB: a system database, or a physical database of a schema the
// user may not use.
func (s *Session) forbiddenDB(name string, snap *snapshot.Snapshot) bool {
	switch strings.ToLower(name) {
	case "mysql", "performance_schema", "sys":
		return true
	}
	for _, dn := range snap.Cluster.Nodes {
		if dn.Database == name {
			for schema, ls := range snap.Schemas {
				if ls.DefaultNode == dn && snapshot.CanUse(s.user, schema) {
					return false
				}
			}
			return true
		}
	}
	return false
}

func nextDot(l *parser.Lexer) bool {
	save := *l
	t := save.Next()
	return t.Kind == parser.TokOp && save.Text(t) == "."
}

func syntaxError(near string) *mysql.MyError {
	if len(near) > 80 {
		near = near[:80]
	}
	return mysql.NewError(mysql.ER_PARSE_ERROR, "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '"+near+"' at line 1")
}

// route is where a pass-through statement runs.
type route struct {
	node   *backend.DataNode
	schema string // physical database the connection must have selected
}

// target picks the data node for the session's current schema: its
// default node, else its first (which serves statements about the
// session: SET, DO...). With no schema of ours selected ("",
// information_schema) the user's first schema's, as plans place
// statements that name no table (router.Env.HomeSchema).
func (s *Session) target(snap *snapshot.Snapshot) (route, *mysql.MyError) {
	name := s.schema
	if name == "" || name == "information_schema" {
		if len(s.user.Schemas) == 0 {
			return route{}, mysql.NewDefaultError(mysql.ER_NO_DB_ERROR)
		}
		if dn := schemaNode(snap, s.user.Schemas[0]); dn != nil {
			return route{node: dn, schema: name}, nil
		}
		return route{}, mysql.NewDefaultError(mysql.ER_NO_DB_ERROR)
	}
	if snap.Schemas[name] == nil {
		return route{}, mysql.NewDefaultError(mysql.ER_BAD_DB_ERROR, name)
	}
	if dn := schemaNode(snap, name); dn != nil {
		return route{node: dn, schema: dn.Database}, nil
	}
	return route{}, mysql.NewDefaultError(mysql.ER_NO_DB_ERROR)
}

// forwardText runs a statement the proxy wrote on the session's node
// (target) and relays the result.
func (s *Session) forwardText(text string, snap *snapshot.Snapshot) error {
	rt, e := s.target(snap)
	if e != nil {
		return s.writeErr(e)
	}
	var sum parser.Summary
	parser.Scan(text, &sum)
	return s.forward(append([]byte{mysql.COM_QUERY}, text...), &sum, rt)
}

// forward runs a statement whole on one node and relays the result.
func (s *Session) forward(p []byte, sum *parser.Summary, rt route) error {
	if s.cli.StmtVars != "" && len(p) > 0 && p[0] == mysql.COM_QUERY {
		p = append([]byte{mysql.COM_QUERY}, s.withStmtVars(string(p[1:]))...)
	}
	for attempt := 0; ; attempt++ {
		srv, err := s.forwardOnce(p, sum, rt)
		if err != nil && s.retryRead(sum, srv, err, attempt) {
			continue
		}
		if err != nil {
			return s.handleExecErr(err)
		}
		return s.flush()
	}
}

// forwardOnce sends a statement to the server that must answer it and
// relays the answer; it reports the server it tried.
func (s *Session) forwardOnce(p []byte, sum *parser.Summary, rt route) (*backend.Server, error) {
	be, err := s.acquireFor(rt.node.Host, sum)
	if err != nil {
		return nil, err
	}
	if err := s.prepareConn(be, rt.schema, sum); err != nil {
		s.release(be, sum, true)
		return be.Server(), err
	}
	text := ""
	if sum.Kind == parser.KindSet && len(p) > 0 && p[0] == mysql.COM_QUERY {
		text = string(p[1:])
	}
	s.beginTracking(sum, text)
	if sum.Flags&parser.FlagSetTransaction != 0 {
		be.ResetBeforeReuse = true // SET TRANSACTION sent as is: do not hand it on
	}
	if be.XA != "" && mayWrite(sum) {
		be.XAWrote = true
	}
	if err := be.WriteCommand(p); err != nil {
		be.MarkBroken()
		s.release(be, sum, true)
		return be.Server(), &exec.BackendError{Err: err}
	}
	out, err := exec.Result(&s.cli, be, s)
	s.endTracking(be, rt.schema, sum, err == nil && out.Err == nil)
	s.release(be, sum, err != nil)
	s.statementError(out.Err)
	return be.Server(), err
}

// flush sends the answer, unless more answers of a multi-statement
// query follow.
func (s *Session) flush() error {
	if s.cli.MoreResults {
		return nil
	}
	return s.c.Flush()
}

// use switches the session's schema (USE, COM_INIT_DB).
func (s *Session) use(name string) *mysql.MyError {
	snap := s.env.Snap.Load()
	if name == "" {
		return mysql.NewDefaultError(mysql.ER_NO_DB_ERROR)
	}
	if !strings.EqualFold(name, "information_schema") {
		if snap.Schemas[name] == nil {
			return mysql.NewDefaultError(mysql.ER_BAD_DB_ERROR, name)
		}
		if !snapshot.CanUse(s.user, name) {
			return mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, s.user.Name, s.host, name)
		}
	} else {
		name = "information_schema"
	}
	s.mu.Lock()
	s.schema = strings.Clone(name) // name may point into the read buffer
	s.mu.Unlock()
	return nil
}

// errKilled is ER_CONNECTION_KILLED (1927; go-mysql has no name for it),
// the answer in a connection being killed.
var errKilled = &mysql.MyError{Code: 1927, State: "70100", Message: "Connection was killed"}

// kill answers KILL [QUERY] id with the proxy's own connection ids.
func (s *Session) kill(id uint32, query bool) error {
	t := s.env.Registry.Get(id)
	if t == nil {
		return s.writeErr(mysql.NewDefaultError(mysql.ER_NO_SUCH_THREAD, id))
	}
	if t != s && t.User().Name != s.user.Name && !s.user.Admin {
		return s.writeErr(mysql.NewDefaultError(mysql.ER_KILL_DENIED_ERROR, id))
	}
	if t == s && !query {
		// Killing oneself: MySQL closes the connection after the error.
		_ = s.writeErr(errKilled)
		return ErrQuit
	}
	t.Kill(query)
	return s.writeOK(0, 0, "")
}

// needsRewrite says whether a pass-through statement shows something the
// backend would get wrong: its own connection id, or a physical database
// name where the client must see the logical one.
func (s *Session) needsRewrite(sql string, sum *parser.Summary) bool {
	if sum.Flags&(parser.FlagConnectionID|parser.FlagUser|parser.FlagDiagnostics) != 0 {
		return true
	}
	snap := s.env.Snap.Load()
	if sum.Flags&parser.FlagDatabase != 0 {
		if ls := snap.Schemas[s.schema]; ls != nil && ls.DefaultNode != nil && ls.DefaultNode.Database != ls.Name {
			return true
		}
	}
	for _, name := range snap.Renamed {
		if strings.Contains(sql, name) { // a cheap filter; the rewrite looks at tokens
			return true
		}
	}
	return false
}

// rewrite applies the session's values to a statement (see needsRewrite).
func (s *Session) rewrite(sql string) string {
	snap := s.env.Snap.Load()
	v := s.values()
	v.Schemas = map[string]string{}
	for _, name := range snap.Renamed {
		v.Schemas[name] = snap.Schemas[name].DefaultNode.Database
	}
	return parser.RewriteSession(sql, &v)
}

// values are what DATABASE(), CONNECTION_ID() and USER() must show.
func (s *Session) values() parser.SessionValues {
	return parser.SessionValues{
		ConnectionID: uint64(s.ID),
		Database:     s.logicalDB(),
		User:         s.user.Name + "@" + s.host,
		Account:      s.user.Name + "@%",
		Diagnostics:  true,
		Warnings:     s.diag.warnings,
		Errors:       s.diag.errors,
	}
}

// expandComments resolves a statement's executable comments (/*!NNNNN */,
// /*M!NNNNNN */) as the servers would, before the proxy reads it: the
// TiDB parser runs them all, and MariaDB does not.
func (s *Session) expandComments(sql string) string {
	return parser.ExpandComments(sql, s.env.Snap.Load().Info.VersionID(), s.mode()&parser.ModeNoBackslashEscapes == 0)
}
