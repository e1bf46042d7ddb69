package session

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
)

// FOUND_ROWS() and ROW_COUNT() describe the previous statement as the
// connection that ran it saw it. In a sharded schema the proxy lets a
// server answer them only where that is the client's previous statement
// whole: it ran on one connection, which answers them, and for
// FOUND_ROWS() it returned rows (after a statement without rows MariaDB
// keeps an older count). After a statement over several shards each
// knows its own part, and the proxy answers what it added up: the rows
// SQL_CALC_FOUND_ROWS counted, and the affected rows of the OK it sent
// (ROW_COUNT(): -1 after rows or an error); after one the proxy answered,
// none knows it.

// stmtUse is what a statement did with connections.
type stmtUse struct {
	uses int
	conn *backend.Conn // the last one it took
	rows bool          // a SELECT or SHOW: it returns rows
	// own: the proxy ran a statement of its own after it on conn (reading
	// back the user variables or LAST_INSERT_ID() it set).
	own bool
	// found: a SELECT SQL_CALC_FOUND_ROWS over several shards counted
	// this many rows (foundKnown: every shard told its count).
	found      uint64
	foundKnown bool
	// rowCount is what ROW_COUNT() says after it, when rowCountKnown: the
	// OK's affected rows, -1 after rows or an error.
	rowCount      int64
	rowCountKnown bool
	// plan is the plan it ran: one connection may have run several of
	// its statements (shards of one node), then counting the last only.
	plan *router.Plan
}

func (u *stmtUse) used(c *backend.Conn) { u.uses, u.conn = u.uses+1, c }

// nextStatement makes the statement in progress the previous one.
func (s *Session) nextStatement(sum *parser.Summary) {
	s.prev = s.cur
	s.cur = stmtUse{rows: sum.Kind == parser.KindSelect || sum.Kind == parser.KindShow}
}

// errOwnAfter refuses FOUND_ROWS() and ROW_COUNT() after a statement the
// proxy followed with one of its own on the same connection.
var errOwnAfter = unsupported("FOUND_ROWS()/ROW_COUNT() after a statement that assigned user variables or LAST_INSERT_ID(expr): the proxy read them back on its connection since")

// startStatement begins a statement of a sharded schema. One reading
// FOUND_ROWS() or ROW_COUNT() is answered here (done) when it cannot run as
// planned: refused where no connection knows them, a tableless SELECT of
// them run on the connection that does (text only: a prepared one takes
// its plan, whose connection acquire checks). After a statement over
// several shards, a plain text SELECT FOUND_ROWS() or SELECT ROW_COUNT()
// gets the count the proxy added up. (Two shards on one connection each
// count their own rows too: the server would say the last one's.)
func (s *Session) startStatement(sql string, sum *parser.Summary, snap *snapshot.Snapshot, text bool) (done bool, err error) {
	s.nextStatement(sum)
	if sum.Flags&parser.FlagPrevResult == 0 {
		return false, nil
	}
	p := s.prev
	if fn, name, ok := countSelect(sql); ok && text {
		switch {
		case fn == "FOUND_ROWS" && p.foundKnown:
			return true, s.answerCount(name, p.found)
		case fn == "ROW_COUNT" && p.rowCountKnown:
			return true, s.answerCount(name, p.rowCount)
		}
	}
	if text && sum.Kind == parser.KindSelect && sum.Flags&parser.FlagFrom == 0 {
		if q, ok := s.withCounts(sql, p); ok {
			return true, s.forwardText(q, snap) // (any server computes the rest)
		}
	}
	rt, e := s.prevResultRoute(sql, snap)
	switch {
	case e != nil:
		return true, s.writeErr(e)
	case text && sum.Kind == parser.KindSelect && sum.Flags&parser.FlagFrom == 0:
		return true, s.forward(append([]byte{mysql.COM_QUERY}, sql...), sum, rt)
	}
	return false, nil
}

// prevResultRoute is the route to the connection that ran the previous
// statement whole, or the reason there is none.
func (s *Session) prevResultRoute(sql string, snap *snapshot.Snapshot) (route, *mysql.MyError) {
	p := s.prev
	switch {
	case p.own:
		return route{}, errOwnAfter
	case p.uses > 1 || p.plan != nil && statementsRun(p.plan) > 1:
		// (Several statements on one connection: its server counted the
		// last one's rows.)
		return route{}, unsupported("FOUND_ROWS()/ROW_COUNT() after a statement that ran on several shards or servers: each counted only its own rows")
	case p.uses == 0 || p.conn == nil:
		return route{}, unsupported("FOUND_ROWS()/ROW_COUNT() after a statement the proxy answered itself: no server ran it")
	case !p.rows && strings.Contains(strings.ToUpper(sql), "FOUND_ROWS"):
		return route{}, unsupported("FOUND_ROWS() after a statement that returned no rows (it would still count an earlier SELECT's, which the proxy cannot tell): read it right after the SELECT")
	}
	host := p.conn.Server().Host()
	for _, dn := range snap.Cluster.Nodes {
		if dn.Host == host {
			// (In the database it has: no USE between.)
			return route{node: dn, schema: p.conn.State.Schema}, nil
		}
	}
	return route{}, unsupported("FOUND_ROWS()/ROW_COUNT() here: the previous statement's server is gone")
}

// withCounts is sql with its FOUND_ROWS() and ROW_COUNT() written as the
// counts the proxy added up after the previous statement p, each select
// field keeping its name; false when one of them is not known.
func (s *Session) withCounts(sql string, p stmtUse) (string, bool) {
	stmts, err := parser.ParseMode(sql, s.mode())
	if err != nil || len(stmts) != 1 {
		return "", false
	}
	router.KeepFieldNames(stmts[0])
	known := true
	stmts[0].Accept(&countWriter{fn: func(name string) ast.ExprNode {
		switch {
		case name == "found_rows" && p.foundKnown:
			return ast.NewValueExpr(p.found, "", "")
		case name == "row_count" && p.rowCountKnown:
			return ast.NewValueExpr(p.rowCount, "", "")
		}
		known = false
		return nil
	}})
	if !known {
		return "", false
	}
	q, err := parser.RestoreMode(stmts, s.mode())
	return q, err == nil
}

// countWriter puts fn's value in place of each FOUND_ROWS() and
// ROW_COUNT() (fn gets the name in lower case; nil leaves the call).
type countWriter struct {
	fn func(name string) ast.ExprNode
}

func (w *countWriter) Enter(n ast.Node) (ast.Node, bool) { return n, false }

func (w *countWriter) Leave(n ast.Node) (ast.Node, bool) {
	if f, ok := n.(*ast.FuncCallExpr); ok && len(f.Args) == 0 && (f.FnName.L == "found_rows" || f.FnName.L == "row_count") {
		if v := w.fn(f.FnName.L); v != nil {
			return v, true
		}
	}
	return n, true
}

// statementsRun is how many statements plan sends to servers, at least:
// its routes', and a write's (see Plan.WriteStatements).
func statementsRun(plan *router.Plan) int {
	n := 0
	for _, r := range router.AppendRoutes(nil, plan.Root) {
		n += len(r.SQL)
	}
	if plan.Write {
		n = max(n, plan.WriteStatements())
	}
	return n
}

// countSelect reports whether sql is SELECT FOUND_ROWS() or SELECT
// ROW_COUNT() (fn, upper case) with at most an alias, and returns the
// column's name: the alias, or the call as written.
func countSelect(sql string) (fn, name string, ok bool) {
	l := parser.NewLexer(sql)
	if t := l.Next(); t.Kind != parser.TokIdent || !parser.EqualFold(l.Text(t), "SELECT") {
		return "", "", false
	}
	f := l.Next()
	switch {
	case f.Kind != parser.TokIdent:
		return "", "", false
	case parser.EqualFold(l.Text(f), "FOUND_ROWS"):
		fn = "FOUND_ROWS"
	case parser.EqualFold(l.Text(f), "ROW_COUNT"):
		fn = "ROW_COUNT"
	default:
		return "", "", false
	}
	if t := l.Next(); t.Kind != parser.TokOp || l.Text(t) != "(" {
		return "", "", false
	}
	end := l.Next()
	if end.Kind != parser.TokOp || l.Text(end) != ")" {
		return "", "", false
	}
	name = sql[f.Start:end.End]
	t := l.Next()
	if t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "AS") {
		t = l.Next()
	}
	switch t.Kind {
	case parser.TokIdent:
		name, t = l.Text(t), l.Next()
	case parser.TokQuotedIdent:
		name, t = parser.UnquoteIdent(l.Text(t)), l.Next()
	case parser.TokString:
		name, t = parser.UnquoteString(l.Text(t)), l.Next()
	}
	return fn, name, t.Kind == parser.TokEOF || t.Kind == parser.TokSemicolon
}

// answerCount answers SELECT FOUND_ROWS() or ROW_COUNT() with the count
// the proxy added up (n: uint64 or int64), in the server's column.
func (s *Session) answerCount(name string, n any) error {
	col := exec.IntColumn(name)
	col.OrgName = "" // (an expression: no original name)
	col.Flags |= mysql.NOT_NULL_FLAG
	exec.WriteResult(&s.cli, []wire.Column{col}, [][]any{{n}}, s.status)
	s.cur.rowCount, s.cur.rowCountKnown = -1, true // (rows)
	return s.flush()
}
