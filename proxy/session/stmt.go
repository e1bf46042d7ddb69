package session

import (
	"encoding/binary"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/shardrules"
)

// Prepared statements: the client sees the proxy's statement ids. Each
// backend connection prepares a statement the first time it runs it and
// keeps it (Conn.Stmts, by SQL text), so any pooled connection can execute
// any session's statement. The proxy remembers the parameter types a client
// sends with its first execute and always sends them on, because the next
// execute may land on another connection.

// maxBackendStmts bounds the statements kept prepared per backend connection.
const maxBackendStmts = 512

// maxSessionStmts bounds a session's prepared statements, which live in
// the proxy's memory: MariaDB's default max_prepared_stmt_count, which a
// client holding more on one server would have met already.
const maxSessionStmts = 16382

type stmt struct {
	id       uint32
	sql      string
	params   int
	columns  int
	sum      parser.Summary
	types    []byte            // 2 bytes a parameter, once known
	longData map[uint16][]byte // COM_STMT_SEND_LONG_DATA, sent before the next execute
	// longDataErr answers executes until COM_STMT_RESET: a parameter's
	// long data grew past max_allowed_packet (and was dropped).
	longDataErr *mysql.MyError
	cursor      bool
	// cursorSQL is the text the backend prepared the open cursor's
	// statement as (a shard's, in a sharded schema), its key in Conn.Stmts.
	cursorSQL string
	// sharded statements are planned at each execute with its values,
	// or from their template (see templateRoute).
	sharded bool
	// whole: a sharded schema's statement TiDB's parser cannot read, run
	// as written on this data node (wholeOnOneNode).
	whole string
	tpl   stmtTemplate
	// spread: its last execution did not land on one shard, so the next
	// one skips planning with markers and goes the general way at once
	// (one parse and plan instead of two).
	spread bool
	// info: a SELECT over information_schema about the schema's tables,
	// answered at each execute as the text protocol answers it (logical
	// names, every node's tables).
	info bool
	// vars: the client's SET STATEMENT around the statement (in a sharded
	// schema, where sql is the statement alone), in force at each execute.
	vars *parser.SetStatement
	// returning: its RETURNING list (in a sharded schema, where sql is
	// the statement without it; see Session.returning).
	returning string
	// client: in a pass-through schema, the client's text of a statement
	// naming DATABASE(), written again at each execute into sql
	// (passThroughText): the value follows USE, as on the server.
	client string
	// query: a statement the proxy answers from the session
	// (textStatement), run at each execute as this COM_QUERY packet.
	query []byte
	// fpHash is the statistics' fingerprint hash of fpSQL, the last sql
	// it ran as.
	fpSQL  string
	fpHash uint64
}

// stmtTemplate is a sharded prepared statement's plan cache entry: planned
// once, its template gives each execution's shard and text from the value
// of the parameter compared with the sharding column. It holds while the
// rules, the schema, the user and the sql_mode it was planned under do.
type stmtTemplate struct {
	snap   *snapshot.Snapshot
	schema string
	user   *conf.User
	mode   parser.Mode
	utf8   string           // the session's modeCache.results then
	tpl    *router.Template // nil: planned at each execute
	marks  []string         // a "?" for each marker: executions keep them
}

func (s *Session) stmtPrepare(p []byte) error {
	if len(s.stmts) >= maxSessionStmts {
		return s.writeErr(mysql.NewDefaultError(mysql.ER_MAX_PREPARED_STMT_COUNT_REACHED, maxSessionStmts))
	}
	st := &stmt{sql: string(p[1:])}
	text, masked := s.readable(st.sql) // what the proxy reads of it (see comQuery)
	if parser.HasExecutableComment(text) {
		if masked {
			return s.writeErr(s.maskedRefusal(maskedComment))
		}
		st.sql = s.expandComments(st.sql)
		text = st.sql
	}
	parser.Scan(text, &st.sum)
	// As MariaDB: preparing SELECT 1 keeps the last statement's warnings.
	s.beginDiagnostics(&st.sum)
	st.sum.UserVars = append([]string(nil), st.sum.UserVars...)
	if s.textStatement(text, &st.sum) {
		if masked {
			return s.writeErr(s.maskedRefusal("a " + strings.ToUpper(st.sum.Kind.String()) + " statement"))
		}
		return s.prepareHere(st)
	}
	snap := s.env.Snap.Load()
	s.cli.Names = snap.Names
	// The statement is prepared on a backend for its metadata; in a
	// sharded schema, on its first shard with physical names.
	if s.localShow(text, &st.sum) != nil {
		// The proxy answers it itself, in the text protocol only; a
		// server would show its own (drivers prepare on the client then).
		return s.writeErr(mysql.NewDefaultError(mysql.ER_UNSUPPORTED_PS))
	}
	phys := st.sql
	var rt route
	var twins []shardrules.Placement // (see router.PrepareSQL)
	virtual := false
	if mentionsVirtual(text) {
		if masked {
			return s.writeErr(s.maskedRefusal("a query of information_schema"))
		}
		// Over information_schema.SCHEMATA: prepared whole, over the
		// user's schemas, on the node that answers the session.
		text, ok, err := s.virtualSQL(st.sql, nil, snap)
		if err != nil {
			return s.handleExecErr(err)
		}
		if virtual = ok; ok {
			st.sql, phys = text, text
			var e *mysql.MyError
			if rt, e = s.target(snap); e != nil {
				return s.writeErr(e)
			}
		}
	}
	switch {
	case virtual: // its text and node are set above
	case s.sharded(snap):
		if masked {
			return s.writeErr(s.maskedRefusal(maskedSharded))
		}
		if st.sum.Kind == parser.KindOther && !hasMarkers(st.sql) && isMaintenance(st.sql, s.mode()) {
			return s.prepareHere(st) // (each execute runs it as text: s.maintenance)
		}
		if _, _, ok := countSelect(st.sql); ok {
			// Each execute runs it as text: the proxy answers the count
			// it added up, or the previous statement's connection does.
			return s.prepareHere(st)
		}
		if st.sum.Kind == parser.KindSet && st.sum.Second == "STATEMENT" {
			vars, sum, e := splitSetStatement(st.sql)
			if e == nil && (sum.Kind == parser.KindSet || sum.Kind == parser.KindDo || sum.Kind == parser.KindCall) {
				e = unsupported("a prepared SET STATEMENT ... FOR " + strings.ToUpper(sum.Kind.String()) + " in a sharded schema")
			}
			if e != nil {
				return s.writeErr(e)
			}
			st.vars, st.sql = &vars, vars.Stmt
			parser.Scan(st.sql, &st.sum)
			st.sum.UserVars = append([]string(nil), st.sum.UserVars...)
		}
		stmts, err := parser.ParseMode(st.sql, s.mode())
		if text, list, ok := parser.CutReturning(st.sql); err != nil && ok && returningKind(st.sum.Kind) {
			if e := s.checkReturning(list); e != nil {
				return s.writeErr(e)
			}
			if hasMarkers(list) {
				return s.writeErr(unsupported("a parameter marker in a RETURNING list in a sharded schema"))
			}
			st.sql, st.returning = text, list
			stmts, err = parser.ParseMode(st.sql, s.mode())
		}
		if err != nil {
			dn, text, ok := s.wholeOnOneNode(st.sql, &st.sum, snap)
			if !ok {
				return s.writeErr(parseError(err, &st.sum))
			}
			st.sql, st.whole = text, dn.Name
			rt, phys, st.sharded = route{node: dn, schema: dn.Database}, text, true
			break
		}
		if len(stmts) != 1 {
			return s.writeErr(syntaxError(st.sql))
		}
		if _, ok := metadataStmt(stmts[0]); ok {
			// Answered with logical names, as the text protocol does.
			if hasMarkers(st.sql) {
				return s.writeErr(mysql.NewDefaultError(mysql.ER_UNSUPPORTED_PS))
			}
			return s.prepareHere(st)
		}
		if sel, names, ok := infoSchemaSelect(stmts[0]); ok && !infoForwarded(sel, names) {
			st.info = true // prepared below on the first shard for its columns
		}
		meta := stmts[0]
		if subs := router.Pullable(meta); len(subs) > 0 {
			// Subqueries the proxy may run first can read another node's
			// tables: the metadata comes without them (their markers kept).
			if text, err := router.Inline(meta, subs, router.Placeholders(subs), s.mode()); err == nil {
				if m, err := s.parseOne(text); err == nil {
					meta = m
				}
			}
		}
		var node, sql string
		node, sql, twins, err = router.PrepareSQL(meta, s.routerEnv(snap))
		if err != nil {
			return s.handleExecErr(err)
		}
		if st.returning != "" {
			sql += " RETURNING " + st.returning // (for its columns)
		}
		dn := snap.Cluster.Nodes[node]
		if dn == nil {
			return s.writeErr(mysql.NewDefaultError(mysql.ER_NO_DB_ERROR))
		}
		rt, phys, st.sharded = route{node: dn, schema: dn.Database}, sql, true
	default:
		if namesOtherDB(&st.sum) {
			// As the text protocol: no other database on the server.
			if _, e := s.checkSchemas(text, snap); e != nil {
				return s.writeErr(e)
			}
		}
		if st.sum.Flags&parser.FlagDatabase != 0 {
			st.client = st.sql
		}
		out, e := s.passThroughText(text, &st.sum, snap)
		switch {
		case e != nil:
			return s.writeErr(e)
		case out != text && masked:
			return s.writeErr(s.maskedRefusal(maskedRewritten))
		case out != text:
			st.sql, phys = out, out
		}
		if rt, e = s.target(snap); e != nil {
			return s.writeErr(e)
		}
	}
	return s.prepareAt(st, phys, rt, twins, snap)
}

// prepareAt prepares st on rt's server as phys (with twins, see
// router.PrepareSQL), again where a read would be tried again.
func (s *Session) prepareAt(st *stmt, phys string, rt route, twins []shardrules.Placement, snap *snapshot.Snapshot) error {
	for attempt := 0; ; attempt++ {
		err := s.withTwins(rt.node.Name, twins, s.routerEnv(snap), func() error {
			return s.prepareOnce(st, phys, rt, len(twins) > 0)
		})
		if err != nil && s.retryPrepare(err, attempt) {
			continue
		}
		if err != nil {
			return s.handleExecErr(err)
		}
		return s.c.Flush()
	}
}

// textStatement reports whether a statement to prepare is one the proxy
// answers from the session's own state, which each execute then runs as
// the text protocol runs it, its rows (if any) in the binary protocol:
//   - statements about the session (sessionStatement);
//   - SHOW WARNINGS, ERRORS and COUNT(*), and SELECTs of @@warning_count
//     or @@error_count: the session's list, not a pooled connection's;
//   - SHOW DATABASES, GRANTS, PROCESSLIST and the SSL status, which the
//     proxy answers (localShow).
//
// A statement with markers is prepared as any other.
func (s *Session) textStatement(sql string, sum *parser.Summary) bool {
	ok := sessionStatement(sql, sum)
	switch {
	case ok || sum.Next != 0:
	case sum.Kind == parser.KindShow:
		ok = isDiagnosticsStatement(sum) || s.localShow(sql, sum) != nil
	case sum.Kind == parser.KindSelect:
		ok = sum.Flags&parser.FlagDiagnostics != 0
	}
	// (A NUL byte, which the lexer may not see as the server does, leaves
	// the statement to the server's syntax check.)
	return ok && !hasMarkers(sql) && !strings.Contains(sql, "\x00")
}

// sessionStatement reports whether a statement to prepare is about the
// session: a transaction's start, end or savepoint, SET, USE, KILL, locks,
// XA, FLUSH, DO, database DDL and what needs a server-wide privilege. The
// text protocol answers these in the proxy (a transaction spans nodes and
// begins lazily, SET is replayed on every connection, some are refused);
// prepared on a backend, one would change that one connection only (a
// prepared BEGIN left the other nodes' writes outside the transaction).
// None returns rows.
func sessionStatement(sql string, sum *parser.Summary) bool {
	if sum.Next != 0 {
		return false
	}
	switch sum.Kind {
	case parser.KindBegin:
		return sum.Second != "NOT" // BEGIN NOT ATOMIC: a compound statement
	case parser.KindSet:
		return sum.Second != "STATEMENT" // SET STATEMENT ... FOR SELECT returns rows
	case parser.KindXA:
		return sum.Second != "RECOVER" // returns rows
	case parser.KindCommit, parser.KindRollback, parser.KindSavepoint, parser.KindUse, parser.KindKill,
		parser.KindLock, parser.KindUnlock, parser.KindFlush, parser.KindDo:
		return true
	case parser.KindCreate, parser.KindDrop, parser.KindAlter:
		if sum.Second == "DATABASE" || sum.Second == "SCHEMA" {
			return true
		}
	}
	return parser.ServerWide(sql, sum) != ""
}

// hasMarkers reports whether sql has a parameter marker.
func hasMarkers(sql string) bool {
	l := parser.NewLexer(sql)
	for t := l.Next(); t.Kind != parser.TokEOF; t = l.Next() {
		if t.Kind == parser.TokParam {
			return true
		}
	}
	return false
}

// prepareHere answers the prepare of a statement each execute runs as
// text: no parameters, and its columns where they are known before it
// runs (describedColumns); else none, as MariaDB answers for a CALL (the
// execute's result set brings its own).
func (s *Session) prepareHere(st *stmt) error {
	st.query = append([]byte{mysql.COM_QUERY}, st.sql...)
	s.nextStmt++
	st.id = s.nextStmt
	s.stmts[st.id] = st
	s.lastPrepared = st.id
	cols := s.describedColumns(st)
	var p [12]byte // OK, id, columns, parameters, filler, warnings
	binary.LittleEndian.PutUint32(p[1:], st.id)
	binary.LittleEndian.PutUint16(p[5:], uint16(len(cols)))
	s.c.WritePacket(p[:])
	for i := range cols {
		s.c.WritePacket(wire.AppendColumnDef(nil, &cols[i]))
	}
	if len(cols) > 0 && !s.cli.DeprecateEOF {
		s.c.WritePacket(wire.AppendEOF(nil, 0, s.ClientStatus()))
	}
	return s.c.Flush()
}

// describedColumns are the columns of a statement prepareHere answers
// that are known before it runs: SHOW WARNINGS, ERRORS and COUNT(*), SHOW
// GRANTS, SHOW [FULL] PROCESSLIST; nil for the others.
func (s *Session) describedColumns(st *stmt) []wire.Column {
	if st.sum.Kind != parser.KindShow {
		return nil
	}
	if q, ok := parseShowDiagnostics(st.sql); ok {
		return q.columns()
	}
	switch {
	case st.sum.Second == "GRANTS":
		return []wire.Column{s.grantsColumn()}
	case st.sum.Second == "PROCESSLIST", st.sum.Second == "FULL" && thirdWordIs(st.sql, "PROCESSLIST"):
		return processlistColumns()
	}
	return nil
}

// prepareOnce prepares a statement on a server of its node (where it would
// run, for its metadata) and relays the answer under a new proxy id.
func (s *Session) prepareOnce(st *stmt, phys string, rt route, forget bool) error {
	be, err := s.acquireFor(rt.node.Host, &st.sum)
	if err != nil {
		return err
	}
	if err := s.prepareConn(be, rt.schema, &st.sum); err != nil {
		s.release(be, nil, true)
		return err
	}
	id := s.nextStmt + 1
	s.nextStmt = id
	bs, errPkt, err := prepareOn(be, phys, s)
	if err == nil && errPkt == nil {
		st.id = id
		st.params, st.columns = bs.Params, bs.Columns
		s.stmts[st.id] = st
		s.lastPrepared = st.id
		if forget {
			// Prepared for its metadata, over temporary tables about to go.
			if be.CloseStmt(bs.ID) != nil {
				be.MarkBroken()
			}
			delete(be.Stmts, phys)
		}
	}
	s.release(be, nil, err != nil)
	if err != nil {
		return err
	}
	if errPkt != nil {
		return errPkt
	}
	return nil
}

// prepareOn prepares sql on a backend connection. With s set, the response
// is relayed to s's client under s's statement id (s.nextStmt); without,
// it is read and dropped.
func prepareOn(be *backend.Conn, sql string, s *Session) (*backend.Stmt, *mysql.MyError, error) {
	if err := be.WriteCommandStr(mysql.COM_STMT_PREPARE, sql); err != nil {
		be.MarkBroken()
		return nil, nil, &exec.BackendError{Err: err}
	}
	p, err := be.ReadPacket()
	if err != nil {
		be.MarkBroken()
		return nil, nil, &exec.BackendError{Err: err}
	}
	if p[0] == wire.ErrHeader {
		return nil, wire.ParseErr(p), nil
	}
	if p[0] != wire.OKHeader || len(p) < 12 {
		be.MarkBroken()
		return nil, nil, &exec.BackendError{Err: wire.ErrMalformed}
	}
	bs := &backend.Stmt{
		ID:      binary.LittleEndian.Uint32(p[1:]),
		Columns: int(binary.LittleEndian.Uint16(p[5:])),
		Params:  int(binary.LittleEndian.Uint16(p[7:])),
	}
	if s != nil {
		binary.LittleEndian.PutUint32(p[1:], s.nextStmt)
		s.c.WritePacket(p)
	}
	for _, n := range [2]int{bs.Params, bs.Columns} {
		if n == 0 {
			continue
		}
		for i := 0; i <= n; i++ { // n definitions and an EOF
			d, err := be.ReadPacket()
			if err != nil {
				be.MarkBroken()
				return nil, nil, &exec.BackendError{Err: err}
			}
			if s != nil && (i < n || !s.cli.DeprecateEOF) {
				s.c.WritePacket(s.cli.ColumnDef(d))
			}
		}
	}
	if be.Stmts == nil {
		be.Stmts = map[string]*backend.Stmt{}
	}
	if len(be.Stmts) >= maxBackendStmts {
		for k, old := range be.Stmts {
			_ = be.CloseStmt(old.ID)
			delete(be.Stmts, k)
			break
		}
	}
	be.Stmts[sql] = bs
	return bs, nil, nil
}

func (s *Session) lookupStmt(p []byte, cmd string) (*stmt, *mysql.MyError) {
	if len(p) < 5 {
		return nil, errf(mysql.ER_MALFORMED_PACKET, "Malformed communication packet")
	}
	id := binary.LittleEndian.Uint32(p[1:])
	if id == 0xffffffff { // MariaDB: the statement prepared last
		id = s.lastPrepared
	}
	st := s.stmts[id]
	if st == nil {
		return nil, mysql.NewDefaultError(mysql.ER_UNKNOWN_STMT_HANDLER, len(strconv.Itoa(int(id))), strconv.Itoa(int(id)), cmd)
	}
	return st, nil
}

func (s *Session) stmtExecute(p []byte) error {
	st, e := s.lookupStmt(p, "mysqld_stmt_execute")
	if e != nil {
		s.diag.clear()
		return s.writeErr(e)
	}
	if st.query == nil { // (comQuery begins its own)
		s.beginDiagnostics(&st.sum)
	}
	if len(p) < 10 {
		return s.writeErr(errf(mysql.ER_MALFORMED_PACKET, "Malformed communication packet"))
	}
	if st.longDataErr != nil {
		return s.writeErr(st.longDataErr) // until COM_STMT_RESET, as MariaDB
	}
	if st.query != nil {
		s.cli.BinaryRows = true
		defer func() { s.cli.BinaryRows = false }()
		return s.comQuery(st.query)
	}
	// Remember or restore the parameter types.
	body := p[10:]
	var nullMap, values []byte
	if st.params > 0 {
		nb := (st.params + 7) / 8
		if len(body) < nb+1 {
			return s.writeErr(mysql.NewDefaultError(mysql.ER_WRONG_ARGUMENTS, "mysqld_stmt_execute"))
		}
		nullMap = body[:nb]
		rest := body[nb+1:]
		if body[nb] == 1 {
			if len(rest) < 2*st.params {
				return s.writeErr(mysql.NewDefaultError(mysql.ER_WRONG_ARGUMENTS, "mysqld_stmt_execute"))
			}
			st.types = append(st.types[:0], rest[:2*st.params]...)
			rest = rest[2*st.params:]
		} else if st.types == nil {
			return s.writeErr(mysql.NewDefaultError(mysql.ER_WRONG_ARGUMENTS, "mysqld_stmt_execute"))
		}
		values = rest
	}
	snap := s.env.Snap.Load()
	s.cli.Names = snap.Names
	if st.sharded {
		if st.vars != nil {
			leave, err := s.enterSetStatement(*st.vars, snap)
			if err != nil {
				return s.handleExecErr(err)
			}
			defer leave()
		}
		if done, err := s.startStatement(st.sql, &st.sum, snap, false); done {
			return err
		}
		return s.stmtExecuteSharded(st, p, nullMap, values, snap)
	}
	s.nextStatement(&st.sum)
	rt, e := s.target(snap)
	if e != nil {
		return s.writeErr(e)
	}
	if st.client != "" {
		if st.sql, e = s.passThroughText(st.client, &st.sum, snap); e != nil {
			return s.writeErr(e)
		}
	}
	return s.executeOn(st, st.sql, rt, p, nullMap, values)
}

// executeOn runs a prepared statement's physical SQL on a node with the
// client's parameters: prepared there once, executed with the types bound.
func (s *Session) executeOn(st *stmt, sql string, rt route, p, nullMap, values []byte) error {
	for attempt := 0; ; attempt++ {
		srv, err := s.executeOnce(st, sql, rt, p, nullMap, values)
		if err != nil && s.retryRead(&st.sum, srv, err, attempt) {
			continue
		}
		if err != nil {
			return s.handleExecErr(err)
		}
		return s.c.Flush()
	}
}

// executeOnce is one try of executeOn; it reports the server it tried.
func (s *Session) executeOnce(st *stmt, sql string, rt route, p, nullMap, values []byte) (*backend.Server, error) {
	flags := p[5]
	be, err := s.acquireFor(rt.node.Host, &st.sum)
	if err != nil {
		return nil, err
	}
	if err := s.prepareConn(be, rt.schema, &st.sum); err != nil {
		s.release(be, &st.sum, true)
		return be.Server(), err
	}
	if be.XA != "" && mayWrite(&st.sum) {
		be.XAWrote = true // its branch must prepare (xa.go)
	}
	bs := be.Stmts[sql]
	if bs == nil {
		var ep *mysql.MyError
		bs, ep, err = prepareOn(be, sql, nil)
		if err != nil || ep != nil {
			s.release(be, &st.sum, true)
			if ep != nil {
				return be.Server(), ep
			}
			return be.Server(), err
		}
	}
	// Long data goes first; the server answers none of it.
	if len(st.longData) > 0 {
		be.ResetSeq()
		for param, data := range st.longData {
			buf := make([]byte, 7, 7+len(data))
			buf[0] = mysql.COM_STMT_SEND_LONG_DATA
			binary.LittleEndian.PutUint32(buf[1:], bs.ID)
			binary.LittleEndian.PutUint16(buf[5:], param)
			be.WritePacket(append(buf, data...))
			be.ResetSeq()
		}
	}
	// The execute packet, with the backend's id and the types always bound.
	buf := s.execBuf[:0]
	buf = append(buf, mysql.COM_STMT_EXECUTE)
	buf = binary.LittleEndian.AppendUint32(buf, bs.ID)
	buf = append(buf, p[5:10]...)
	if st.params > 0 {
		buf = append(buf, nullMap...)
		buf = append(buf, 1)
		buf = append(buf, st.types...)
		buf = append(buf, values...)
	}
	s.beginTracking(&st.sum, st.sql)
	// (WriteCommand runs a transaction's start queued on be first.)
	err = be.WriteCommand(buf)
	if cap(buf) <= 64<<10 {
		s.execBuf = buf[:0]
	}
	if err != nil {
		be.MarkBroken()
		s.release(be, &st.sum, true)
		return be.Server(), &exec.BackendError{Err: err}
	}
	s.setQuery(st.sql)
	defer s.setQuery("")
	out, err := exec.Result(&s.cli, be, s)
	st.longData = nil // sent: kept until here for a retry
	if err == nil {
		be.Status = s.status
	}
	if err == nil && flags&mysql.CURSOR_TYPE_READ_ONLY != 0 && s.status&mysql.SERVER_STATUS_CURSOR_EXISTS != 0 {
		st.cursor, st.cursorSQL = true, sql
		s.pinAll = true
	}
	s.endTracking(be, rt.schema, &st.sum, err == nil && out.Err == nil)
	s.release(be, &st.sum, err != nil)
	s.statementError(out.Err)
	return be.Server(), err
}

func (s *Session) stmtLongData(p []byte) {
	st, e := s.lookupStmt(p, "mysqld_stmt_send_long_data")
	if e != nil || len(p) < 7 {
		return // no response is defined; the execute will fail
	}
	param := binary.LittleEndian.Uint16(p[5:])
	if int(param) >= st.params {
		return
	}
	if st.longData == nil {
		st.longData = map[uint16][]byte{}
	}
	if st.longDataErr != nil {
		return
	}
	if limit := s.c.MaxPacket; limit > 0 && len(st.longData[param])+len(p)-7 > limit {
		// As MariaDB: executes fail until a reset; the proxy keeps none of it.
		st.longData = nil
		st.longDataErr = errf(mysql.ER_UNKNOWN_ERROR, "Parameter of prepared statement which is set through mysql_send_long_data() is longer than 'max_allowed_packet' bytes")
		return
	}
	st.longData[param] = append(st.longData[param], p[7:]...)
}

func (s *Session) stmtReset(p []byte) error {
	st, e := s.lookupStmt(p, "mysqld_stmt_reset")
	if e != nil {
		return s.writeErr(e)
	}
	st.longData, st.longDataErr = nil, nil
	if st.cursor {
		if err := s.onCursorConn(st, mysql.COM_STMT_RESET, nil); err != nil {
			return err
		}
		st.cursor = false
	}
	return s.writeOK(0, 0, "")
}

func (s *Session) stmtClose(p []byte) {
	st, e := s.lookupStmt(p, "mysqld_stmt_close")
	if e != nil {
		return
	}
	if st.cursor {
		_ = s.onCursorConn(st, mysql.COM_STMT_RESET, nil)
	}
	delete(s.stmts, st.id)
}

// onCursorConn sends a command about st's open cursor to the pinned
// connection that holds it and reads its OK/ERR (reply=nil drops it).
func (s *Session) onCursorConn(st *stmt, cmd byte, reply func([]byte)) error {
	be := s.cursorConn(st)
	if be == nil {
		return nil
	}
	bs := be.Stmts[st.cursorSQL]
	var b [5]byte
	b[0] = cmd
	binary.LittleEndian.PutUint32(b[1:], bs.ID)
	if err := be.WriteCommand(b[:]); err != nil {
		be.MarkBroken()
		return nil
	}
	if _, err := be.ReadPacket(); err != nil {
		be.MarkBroken()
	}
	return nil
}

func (s *Session) cursorConn(st *stmt) *backend.Conn {
	for _, c := range s.pinned {
		if c.Stmts[st.cursorSQL] != nil {
			return c
		}
	}
	return nil
}

// stmtFetch relays COM_STMT_FETCH rows from the connection holding the cursor.
func (s *Session) stmtFetch(p []byte) error {
	st, e := s.lookupStmt(p, "mysqld_stmt_fetch")
	if e != nil {
		return s.writeErr(e)
	}
	be := s.cursorConn(st)
	if be == nil || !st.cursor || len(p) < 9 {
		return s.writeErr(mysql.NewDefaultError(mysql.ER_STMT_HAS_NO_OPEN_CURSOR, st.id))
	}
	buf := make([]byte, 9)
	copy(buf, p[:9])
	binary.LittleEndian.PutUint32(buf[1:], be.Stmts[st.cursorSQL].ID)
	if err := be.WriteCommand(buf); err != nil {
		be.MarkBroken()
		return s.handleExecErr(&exec.BackendError{Err: err})
	}
	s.active.Store(be)
	var out exec.Outcome
	_, err := exec.Rows(&s.cli, be, s, &out)
	s.active.Store(nil)
	if err != nil {
		return s.handleExecErr(err)
	}
	return s.c.Flush()
}

// stmtExecuteSharded plans a prepared statement of a sharded schema with
// this execution's values. A statement that lands whole on one shard runs
// there as a prepared statement with the client's parameters (rows relayed
// as they come); anything else runs as text with the values in it, its
// rows converted to the binary protocol. Either is planned from the
// statement's template when it has one that fits the values.
func (s *Session) stmtExecuteSharded(st *stmt, p, nullMap, values []byte, snap *snapshot.Snapshot) error {
	if st.whole != "" {
		dn := snap.Cluster.Nodes[st.whole]
		if dn == nil { // (the configuration changed since)
			return s.writeErr(mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: no data node "+st.whole))
		}
		return s.executeOn(st, st.sql, route{node: dn, schema: dn.Database}, p, nullMap, values)
	}
	if st.info {
		return s.stmtExecuteInfo(st, nullMap, values, snap)
	}
	if st.returning != "" {
		return s.stmtExecuteReturning(st, nullMap, values, snap)
	}
	var tpl *router.Template
	if s.locks == nil { // (under LOCK TABLES the router checks the tables)
		tpl = s.stmtTemplateFor(st, nullMap, values, snap)
	}
	if sql, dn, ok := s.templateRoute(st, tpl, nullMap, values, snap); ok {
		return s.executeOn(st, s.withStmtVars(sql), route{node: dn, schema: dn.Database}, p, nullMap, values)
	}
	params, err := decodeParams(st.params, st.types, nullMap, values, st.longData)
	if err != nil {
		return s.writeErr(mysql.NewError(mysql.ER_MALFORMED_PACKET, "shardgate: "+err.Error()))
	}
	if plan, ok := s.templateScatter(st.sql, tpl, params, snap); ok {
		return s.runAsText(st, plan, nil, 0)
	}
	if !st.spread {
		stmts, err := parser.ParseMode(st.sql, s.mode())
		if err != nil {
			return s.writeErr(parseError(err, &st.sum))
		}
		bindParams(stmts[0], params, false)
		// With the values known for routing but the markers kept: a plan of
		// one route runs as a prepared statement on its shard. (Planning may
		// fail here where a value is needed as a literal; the general way
		// below decides then.)
		// Not when ids are to be generated: the general way fills them in.
		if _, _, need, err := s.idRequests(stmts[0], snap); err == nil && len(need) == 0 && st.longData == nil {
			if plan, err := router.Build(stmts[0], s.routerEnv(snap)); err == nil {
				if r, ok := plan.Root.(*router.Route); ok && len(r.SQL) == 1 {
					dn := snap.Cluster.Nodes[r.Node]
					return s.executeOn(st, r.SQL[0], route{node: dn, schema: dn.Database}, p, nullMap, values)
				}
			}
		}
	}
	// The general way: the values written into the statement.
	plan, stmt, firstID, err := s.planWithValues(st, params, snap)
	if err != nil {
		return s.handleExecErr(err)
	}
	return s.runAsText(st, plan, stmt, firstID)
}

// planWithValues plans a prepared statement's execution with its values
// written into it, and fills in the ids the proxy generates.
func (s *Session) planWithValues(st *stmt, params []any, snap *snapshot.Snapshot) (*router.Plan, ast.StmtNode, uint64, error) {
	stmts, err := parser.ParseMode(st.sql, s.mode())
	if err != nil {
		return nil, nil, 0, parseError(err, &st.sum)
	}
	bindParams(stmts[0], params, true)
	plan, firstID, err := s.planStatement(stmts[0], func() (ast.StmtNode, error) {
		stmt, err := s.parseOne(st.sql)
		if err == nil {
			bindParams(stmt, params, true)
		}
		return stmt, err
	}, snap)
	return plan, stmts[0], firstID, err
}

// stmtExecuteReturning runs an execution of a prepared INSERT, REPLACE or
// DELETE ... RETURNING as the text one runs (Session.returning), with its
// values written into it.
func (s *Session) stmtExecuteReturning(st *stmt, nullMap, values []byte, snap *snapshot.Snapshot) error {
	params, err := decodeParams(st.params, st.types, nullMap, values, st.longData)
	if err != nil {
		return s.writeErr(mysql.NewError(mysql.ER_MALFORMED_PACKET, "shardgate: "+err.Error()))
	}
	plan, stmt, firstID, err := s.planWithValues(st, params, snap)
	if err == nil {
		plan, err = router.WithReturning(stmt, plan, st.returning)
	}
	if err != nil {
		return s.handleExecErr(err)
	}
	return s.runAsText(st, plan, stmt, firstID)
}

// stmtExecuteInfo answers an execution of a SELECT over information_schema
// in a sharded schema with its values written into it, as the text
// protocol would, its rows converted to the binary protocol.
func (s *Session) stmtExecuteInfo(st *stmt, nullMap, values []byte, snap *snapshot.Snapshot) error {
	params, err := decodeParams(st.params, st.types, nullMap, values, st.longData)
	st.longData = nil
	if err != nil {
		return s.writeErr(mysql.NewError(mysql.ER_MALFORMED_PACKET, "shardgate: "+err.Error()))
	}
	stmts, err := parser.ParseMode(st.sql, s.mode())
	if err != nil {
		return s.writeErr(parseError(err, &st.sum))
	}
	bindParams(stmts[0], params, true)
	sel, names, _ := infoSchemaSelect(stmts[0])
	s.setQuery(st.sql)
	defer s.setQuery("")
	s.cli.BinaryRows = true
	defer func() { s.cli.BinaryRows = false }()
	return s.infoSchema(st.sql, sel, names, snap)
}

// runAsText runs the plan of a prepared statement's execution whose values
// were written into its statements, its rows converted to the binary
// protocol.
func (s *Session) runAsText(st *stmt, plan *router.Plan, stmt ast.StmtNode, firstID uint64) error {
	// A single route here (these values chose one shard) sends the next
	// execution the prepared way again.
	_, single := plan.Root.(*router.Route)
	st.spread = !single
	st.longData = nil
	s.setQuery(st.sql)
	defer s.setQuery("")
	s.cli.BinaryRows = true
	_, err := s.runPlan(plan, stmt, &st.sum, firstID)
	s.cli.BinaryRows = false
	if err != nil {
		return s.handleExecErr(err)
	}
	return s.flush()
}

// stmtTemplateFor is the template of a sharded prepared statement for
// this snapshot, schema, user and sql_mode (nil: none, or not for these
// values).
func (s *Session) stmtTemplateFor(st *stmt, nullMap, values []byte, snap *snapshot.Snapshot) *router.Template {
	if st.longData != nil || !templateReady(&st.sum) || s.foreignCharset() != "" {
		return nil // (templates place text keys as UTF-8 without asking the router)
	}
	c, mode := &st.tpl, s.mode()
	if c.snap != snap || c.schema != s.schema || c.user != s.user || c.mode != mode || c.utf8 != s.modeCache.results {
		tpl, keep := s.stmtTemplateOf(st, nullMap, values, snap, mode)
		if !keep {
			return nil
		}
		*c = stmtTemplate{snap: snap, schema: s.schema, user: s.user, mode: mode, utf8: s.modeCache.results, tpl: tpl, marks: c.marks}
	}
	return c.tpl
}

// templateRoute is the one-shard route of a sharded prepared statement's
// execution, from its template (tpl) without parsing: the node and the
// text (markers kept) that planning it with these values gives. ok is
// false when the template is not a one-shard one or these values need the
// planner (then stmtExecuteSharded plans it).
func (s *Session) templateRoute(st *stmt, tpl *router.Template, nullMap, values []byte, snap *snapshot.Snapshot) (sql string, dn *backend.DataNode, ok bool) {
	if tpl == nil || !tpl.Single() {
		return "", nil, false
	}
	if !s.givesIDs(tpl.IDParams, func(i int) (any, bool) {
		if i >= st.params {
			return nil, false
		}
		v, _, err := paramValue(i, st.types, nullMap, values)
		return v, err == nil
	}) {
		return "", nil, false // the planner generates the ids
	}
	t := &s.tpl
	t.vals = t.vals[:0]
	for _, i := range tpl.Params() {
		if i < 0 || i >= st.params {
			return "", nil, false
		}
		v, null, err := paramValue(i, st.types, nullMap, values)
		if err != nil || null {
			return "", nil, false // reported, or routed, by the planner
		}
		t.vals = append(t.vals, v)
	}
	c := &st.tpl
	for len(c.marks) < st.params {
		c.marks = append(c.marks, "?")
	}
	if t.buf, ok = tpl.PlanInto(&t.plan, &t.route, t.buf, c.marks, t.vals); !ok {
		return "", nil, false
	}
	dn = snap.Cluster.Nodes[t.route.Node]
	return t.route.SQL[0], dn, dn != nil
}

// templateScatter is the plan over several shards of a prepared
// statement's execution (sql) from its template (tpl), with the values
// params written into its statements as the planner would write them; ok
// is false when the template does not give one for them.
func (s *Session) templateScatter(sql string, tpl *router.Template, params []any, snap *snapshot.Snapshot) (*router.Plan, bool) {
	if tpl == nil || tpl.Single() && !tpl.Spans() {
		return nil, false
	}
	if !s.givesIDs(tpl.IDParams, func(i int) (any, bool) {
		if i >= len(params) {
			return nil, false
		}
		return params[i], true
	}) {
		return nil, false
	}
	t := &s.tpl
	t.vals = t.vals[:0]
	for _, i := range tpl.Params() {
		if i < 0 || i >= len(params) || params[i] == nil {
			return nil, false
		}
		t.vals = append(t.vals, params[i])
	}
	t.texts = t.texts[:0]
	for _, v := range params {
		text, err := parser.LiteralText(v, s.mode())
		if err != nil {
			return nil, false
		}
		t.texts = append(t.texts, text)
	}
	if tpl.Single() { // (a BETWEEN spanning shards, which templateRoute refused)
		return &t.plan, s.spanPlan(tpl, &t.plan, sql, t.texts, func() []any { return params }, t.vals, snap)
	}
	var ok bool
	t.buf, ok = tpl.PlanInto(&t.plan, &t.route, t.buf, t.texts, t.vals)
	return &t.plan, ok
}

// stmtTemplateOf finds or makes the template of a sharded prepared
// statement (nil: it has none); keep is false when these values could
// not be read, to try again at the next execute. Templates are shared
// by the sessions through the snapshot's cache.
func (s *Session) stmtTemplateOf(st *stmt, nullMap, values []byte, snap *snapshot.Snapshot, mode parser.Mode) (*router.Template, bool) {
	// Keyed apart from COM_QUERY's templates (never starting with 1).
	key := s.templateKey(append(append(s.tpl.key[:0], 1), st.sql...), mode)
	s.tpl.key = key
	if tpl, found := snap.Plans.Get(key); found {
		return tpl, true
	}
	params, err := decodeParams(st.params, st.types, nullMap, values, nil)
	if err != nil {
		return nil, false
	}
	tpl, keep := s.compile(st.sql, params, mode, snap)
	if keep {
		snap.Plans.Put(key, tpl)
	}
	return tpl, keep
}

// bindParams gives a statement's parameter markers their values: kept as
// markers (printed "?") for routing, or replaced by literals.
func bindParams(stmt ast.StmtNode, params []any, literal bool) {
	stmt.Accept(&paramBinder{params: params, literal: literal, index: markerRanks(stmt)})
}

// markerRanks numbers a statement's parameter markers by where they
// stand in the text: marker offset → parameter.
func markerRanks(n ast.Node) map[int]int {
	var offsets []int
	n.Accept(&paramBinder{collect: &offsets})
	sort.Ints(offsets)
	index := make(map[int]int, len(offsets))
	for i, o := range offsets {
		index[o] = i
	}
	return index
}

type paramBinder struct {
	params  []any
	literal bool
	index   map[int]int // marker offset -> parameter
	collect *[]int
}

func (b *paramBinder) Enter(n ast.Node) (ast.Node, bool) { return n, false }

func (b *paramBinder) Leave(n ast.Node) (ast.Node, bool) {
	pm, ok := n.(*test_driver.ParamMarkerExpr)
	if !ok {
		return n, true
	}
	if b.collect != nil {
		*b.collect = append(*b.collect, pm.Offset)
		return n, true
	}
	i, ok := b.index[pm.Offset]
	if !ok || i >= len(b.params) {
		return n, true
	}
	v := b.params[i]
	if b.literal {
		return ast.NewValueExpr(v, "", ""), true
	}
	pm.Datum.SetValue(v)
	return n, true
}
