package session

import (
	"bytes"
	"crypto/tls"
	"sort"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/wire"
)

// Statements about databases answer with logical schemas: a client sees
// the schemas its user may use, never the physical databases behind them.

// showDatabases answers SHOW DATABASES [LIKE 'pattern'].
func (s *Session) showDatabases(sql string) error {
	l := parser.NewLexer(sql)
	l.Next() // SHOW
	l.Next() // DATABASES
	var pattern string
	var where ast.ExprNode
	hasPattern := false
	switch t := l.Next(); {
	case t.Kind == parser.TokEOF || t.Kind == parser.TokSemicolon:
	case t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "LIKE"):
		pt := l.Next()
		if pt.Kind != parser.TokString {
			return s.writeErr(syntaxError(sql[pt.Start:]))
		}
		pattern, hasPattern = parser.UnquoteString(l.Text(pt)), true
		if nt := l.Next(); nt.Kind != parser.TokEOF && nt.Kind != parser.TokSemicolon {
			return s.writeErr(syntaxError(sql[nt.Start:]))
		}
	case t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "WHERE"):
		stmts, err := parser.ParseMode(sql, s.mode())
		if err != nil {
			return s.writeErr(parseError(err, nil))
		}
		sh, ok := stmts[0].(*ast.ShowStmt)
		if !ok || len(stmts) != 1 || sh.Where == nil {
			return s.writeErr(syntaxError(sql[t.Start:]))
		}
		where = sh.Where
	default:
		return s.writeErr(syntaxError(sql[t.Start:]))
	}
	names := append([]string{"information_schema"}, s.user.Schemas...)
	sort.Strings(names)
	var rows [][]any
	for _, n := range names {
		if !hasPattern || parser.Like(n, pattern) {
			rows = append(rows, []any{n})
		}
	}
	colName := "Database"
	if hasPattern {
		colName = "Database (" + pattern + ")"
	}
	if where != nil {
		rt, e := s.target(s.env.Snap.Load())
		if e != nil {
			return s.writeErr(e)
		}
		text := make([][][]byte, len(rows))
		for i, r := range rows {
			text[i] = [][]byte{[]byte(r[0].(string))}
		}
		kept, err := s.rowsWhere(rt.node, []string{colName}, []string{""}, text, where)
		if err != nil {
			return s.handleExecErr(err)
		}
		rows = keepRows(rows, kept)
	}
	col := exec.TextColumn(colName)
	col.Schema, col.Table, col.OrgTable, col.OrgName = "information_schema", "SCHEMATA", "SCHEMATA", "SCHEMA_NAME"
	col.Flags = mysql.NOT_NULL_FLAG
	exec.WriteResult(&s.cli, []wire.Column{col}, rows, s.status)
	return s.c.Flush()
}

// databaseDDL answers CREATE/DROP DATABASE for a logical schema: it acts on
// the physical database of the schema's default node.
func (s *Session) databaseDDL(sql string) error {
	l := parser.NewLexer(sql)
	first := l.Next() // CREATE / DROP / ALTER
	kw := l.Next()    // DATABASE / SCHEMA
	t := l.Next()
	if t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "IF") {
		for t.Kind == parser.TokIdent && (parser.EqualFold(l.Text(t), "IF") || parser.EqualFold(l.Text(t), "NOT") || parser.EqualFold(l.Text(t), "EXISTS")) {
			t = l.Next()
		}
	}
	if parser.EqualFold(l.Text(first), "ALTER") && (t.Kind == parser.TokEOF || (t.Kind == parser.TokIdent && isDBOption(l.Text(t)))) {
		// ALTER DATABASE without a name: the current one.
		if s.schema == "" {
			return s.writeErr(mysql.NewDefaultError(mysql.ER_NO_DB_ERROR))
		}
		sql = sql[:kw.End] + " " + backend.QuoteIdent(s.schema) + sql[kw.End:]
		l = parser.NewLexer(sql)
		l.Next()
		l.Next()
		t = l.Next()
	}
	if t.Kind != parser.TokIdent && t.Kind != parser.TokQuotedIdent {
		return s.writeErr(syntaxError(sql[t.Start:]))
	}
	name := parser.UnquoteIdent(l.Text(t))
	snap := s.env.Snap.Load()
	ls := snap.Schemas[name]
	if ls == nil || !canUse(s, name) || ls.DefaultNode == nil {
		return s.writeErr(mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, s.user.Name, s.host, name))
	}
	node := ls.DefaultNode
	phys := sql[:t.Start] + backend.QuoteIdent(node.Database) + sql[t.End:]
	be, err := s.acquirePrimary(node.Host, nil)
	if err != nil {
		return s.handleExecErr(err)
	}
	if err := s.prepareConn(be, "", &parser.Summary{}); err != nil {
		s.release(be, nil, true)
		return s.handleExecErr(err)
	}
	_, err = be.Exec(phys)
	if be.State.Schema == node.Database && bytes.HasPrefix(bytes.ToUpper([]byte(sql[:4])), []byte("DROP")) {
		// Dropping the selected database leaves the connection without one.
		be.MarkBroken()
	}
	s.release(be, nil, false)
	if err != nil {
		return s.handleExecErr(err)
	}
	return s.writeOK(1, 0, "")
}

func isDBOption(w string) bool {
	for _, o := range []string{"CHARACTER", "CHARSET", "DEFAULT", "COLLATE", "COMMENT", "UPGRADE"} {
		if parser.EqualFold(w, o) {
			return true
		}
	}
	return false
}

func canUse(s *Session, schema string) bool {
	for _, n := range s.user.Schemas {
		if n == schema {
			return true
		}
	}
	return false
}

// fieldList relays COM_FIELD_LIST from the node of the table's first
// physical table, names mapped back.
func (s *Session) fieldList(p []byte) error {
	snap := s.env.Snap.Load()
	s.cli.Names = snap.Names
	rt, e := s.target(snap)
	if e != nil {
		return s.writeErr(e)
	}
	if s.sharded(snap) {
		table, rest, ok := bytes.Cut(p[1:], []byte{0})
		if !ok {
			return s.writeErr(errf(mysql.ER_MALFORMED_PACKET, "Malformed communication packet"))
		}
		if rules := snap.Rules[s.schema]; rules != nil {
			if rule := rules.Lookup(string(table)); rule != nil {
				pl := rule.AllPlacements()[0]
				dn := snap.Cluster.Nodes[pl.Node]
				rt = route{node: dn, schema: dn.Database}
				p = append(append(append([]byte{mysql.COM_FIELD_LIST}, pl.Table...), 0), rest...)
			}
		}
	}
	be, err := s.acquirePrimary(rt.node.Host, nil)
	if err != nil {
		return s.handleExecErr(err)
	}
	if err := s.prepareConn(be, rt.schema, &parser.Summary{}); err != nil {
		s.release(be, nil, true)
		return s.handleExecErr(err)
	}
	if err := be.WriteCommand(p); err != nil {
		be.MarkBroken()
		s.release(be, nil, true)
		return s.handleExecErr(&exec.BackendError{Err: err})
	}
	// The definitions come like rows, ended by EOF (or ERR).
	for {
		d, err := be.ReadPacket()
		if err != nil {
			be.MarkBroken()
			s.release(be, nil, true)
			return s.handleExecErr(&exec.BackendError{Err: err})
		}
		switch {
		case d[0] == wire.ErrHeader:
			s.c.WritePacket(s.cli.Names.ErrPacket(d))
		case wire.IsEOF(d):
			_, st := wire.EOFStatus(d)
			if s.cli.DeprecateEOF {
				ok := wire.OK{Status: st}
				s.c.WritePacket(wire.AppendOK(nil, wire.EOFHeader, &ok, s.cli.SessionTrack))
			} else {
				s.c.WritePacket(d)
			}
		default:
			s.c.WritePacket(s.cli.ColumnDef(d))
			continue
		}
		break
	}
	s.release(be, nil, false)
	return s.c.Flush()
}

// forwardCommand relays a command that answers with one OK, ERR or EOF
// (COM_REFRESH, COM_DEBUG) to the current node's primary.
func (s *Session) forwardCommand(p []byte) error {
	snap := s.env.Snap.Load()
	rt, e := s.target(snap)
	if e != nil {
		return s.writeErr(e)
	}
	be, err := s.acquirePrimary(rt.node.Host, nil)
	if err != nil {
		return s.handleExecErr(err)
	}
	if err := be.WriteCommand(p); err != nil {
		be.MarkBroken()
		s.release(be, nil, true)
		return s.handleExecErr(&exec.BackendError{Err: err})
	}
	r, err := be.ReadPacket()
	if err != nil {
		be.MarkBroken()
		s.release(be, nil, true)
		return s.handleExecErr(&exec.BackendError{Err: err})
	}
	s.release(be, nil, false)
	switch {
	case r[0] == wire.ErrHeader:
		s.c.WritePacket(r)
		return s.c.Flush()
	case wire.IsEOF(r) && s.cli.DeprecateEOF, r[0] == wire.OKHeader:
		return s.writeOK(0, 0, "")
	}
	s.c.WritePacket(r)
	return s.c.Flush()
}

// changeUser answers COM_CHANGE_USER: authenticate again, then start over
// as a fresh session of the new user.
func (s *Session) changeUser(p []byte) error {
	// The session starts over whatever the outcome, as in MariaDB; a
	// refused change keeps the connection and the previous user.
	s.reset()
	u, schema, collation, err := s.env.Auth.ChangeUser(s, p)
	if err != nil {
		if me, ok := err.(*mysql.MyError); ok {
			return s.writeErr(me)
		}
		return err
	}
	s.mu.Lock()
	s.user, s.schema = u, schema
	s.mu.Unlock()
	s.vars = s.loginState(collation)
	s.followTimeouts()
	return s.writeOK(0, 0, "")
}

// Scramble is the greeting's challenge, which COM_CHANGE_USER answers too.
func (s *Session) Scramble() []byte { return s.scramble }

// SetScramble records the greeting's challenge.
func (s *Session) SetScramble(b []byte) { s.scramble = b }

// Conn returns the client connection (for the server's auth exchange).
func (s *Session) Conn() *wire.Conn { return s.c }

// Caps returns the client's capabilities.
func (s *Session) Caps() uint32 { return s.caps }

// Host returns the client's address.
func (s *Session) Host() string { return s.host }

// sslStatusQuery recognizes SHOW [SESSION] STATUS LIKE 'Ssl_...': the SSL
// status of a session describes the client's connection, which is the
// proxy's, not the backend's.
func sslStatusQuery(sql string) (string, bool) {
	l := parser.NewLexer(sql)
	l.Next() // SHOW
	t := l.Next()
	if t.Kind == parser.TokIdent && (parser.EqualFold(l.Text(t), "SESSION") || parser.EqualFold(l.Text(t), "LOCAL")) {
		t = l.Next()
	}
	if t.Kind != parser.TokIdent || !parser.EqualFold(l.Text(t), "STATUS") {
		return "", false
	}
	if t = l.Next(); t.Kind != parser.TokIdent || !parser.EqualFold(l.Text(t), "LIKE") {
		return "", false
	}
	pt := l.Next()
	if pt.Kind != parser.TokString {
		return "", false
	}
	if end := l.Next(); end.Kind != parser.TokEOF && end.Kind != parser.TokSemicolon {
		return "", false
	}
	pattern := parser.UnquoteString(l.Text(pt))
	if len(pattern) < 4 || !parser.EqualFold(pattern[:4], "SSL_") {
		return "", false
	}
	return pattern, true
}

func (s *Session) showSSLStatus(pattern string) error {
	cipher, version := "", ""
	if tc, ok := s.c.NetConn().(*tls.Conn); ok {
		st := tc.ConnectionState()
		cipher = tls.CipherSuiteName(st.CipherSuite)
		version = tls.VersionName(st.Version)
		version = strings.Replace(version, "TLS ", "TLSv", 1)
	}
	var rows [][]any
	for _, kv := range [][2]string{{"Ssl_cipher", cipher}, {"Ssl_version", version}} {
		if parser.Like(strings.ToLower(kv[0]), strings.ToLower(pattern)) {
			rows = append(rows, []any{kv[0], kv[1]})
		}
	}
	cols := []wire.Column{exec.TextColumn("Variable_name"), exec.TextColumn("Value")}
	exec.WriteResult(&s.cli, cols, rows, s.status)
	return s.c.Flush()
}
