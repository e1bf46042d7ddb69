package session

import (
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/wire"
)

// SHOW WARNINGS, SHOW ERRORS, SHOW COUNT(*) ..., @@warning_count and
// @@error_count show the session's last statement. Its statements ran on
// pooled backend connections that other sessions use next, so the proxy
// reads a connection's warnings (SHOW WARNINGS there) before the pool
// takes it back, only when the statement reported some, and answers those
// statements itself. A statement over several shards shows the warnings
// of each.

// maxDiagnostics is how many messages are kept, as max_error_count's default.
const maxDiagnostics = 64

type diagnostic struct {
	level string // "Note", "Warning", "Error"
	code  uint16
	msg   string
}

// diagnostics are the messages of the session's last statement that
// used a table or had messages.
type diagnostics struct {
	warnings uint64 // @@warning_count: every message, kept or not
	errors   uint64 // @@error_count
	list     []diagnostic
	// stale: a statement that uses no table began; its first message
	// replaces the list (MariaDB keeps the list across such a statement
	// that has none).
	stale bool
}

func (d *diagnostics) clear() {
	d.warnings, d.errors, d.list, d.stale = 0, 0, d.list[:0], false
}

func (d *diagnostics) add(level string, code uint16, msg string) {
	if d.stale {
		d.clear()
	}
	d.warnings++
	if level == "Error" {
		d.errors++
	}
	if len(d.list) < maxDiagnostics {
		d.list = append(d.list, diagnostic{level, code, msg})
	}
}

// addError records an error the client got.
func (d *diagnostics) addError(e *mysql.MyError) {
	if e != nil {
		d.add("Error", e.Code, e.Message)
	}
}

// beginDiagnostics starts a statement: one that reads the messages keeps
// them; one that uses a table starts a new list; any other, with its first
// message.
func (s *Session) beginDiagnostics(sum *parser.Summary) {
	switch {
	case isDiagnosticsStatement(sum):
	case usesNoTable(sum):
		s.diag.stale = true
	default:
		s.diag.clear()
	}
}

// usesNoTable: statements MariaDB runs without opening a table, as far as
// their words tell (SELECT without FROM, DO, SET, transaction control).
func usesNoTable(sum *parser.Summary) bool {
	switch sum.Kind {
	case parser.KindSelect, parser.KindDo, parser.KindSet, parser.KindBegin, parser.KindCommit, parser.KindRollback, parser.KindEmpty:
		return sum.Flags&parser.FlagFrom == 0
	}
	return false
}

// isDiagnosticsStatement: the statements that read the messages keep them.
func isDiagnosticsStatement(sum *parser.Summary) bool {
	if sum.Kind == parser.KindShow {
		return sum.Second == "WARNINGS" || sum.Second == "ERRORS" || sum.Second == "COUNT"
	}
	return sum.Flags&parser.FlagDiagnostics != 0 && sum.Kind == parser.KindSelect
}

// collectWarnings reads the warnings the client's statements left on c
// before it goes back to the pool.
func (s *Session) collectWarnings(c *backend.Conn) {
	want := uint64(c.Warnings)
	c.Warnings = 0
	got := uint64(0)
	for _, w := range c.Earlier {
		got++
		s.diag.add(w.Level, w.Code, s.cli.Names.Message(w.Message))
	}
	if got >= want {
		return // (read already: LOAD DATA over shards)
	}
	err := c.QueryRaw("SHOW WARNINGS", func([][]byte) {}, func(v [][]byte) {
		if len(v) < 3 {
			return
		}
		code, _ := strconv.ParseUint(string(v[1]), 10, 16)
		level := string(v[0])
		// A failed statement's error is the client's (statementError
		// adds it); one the server counted among a statement's warnings
		// is a warning (CHECKSUM TABLE of a table it does not have).
		if level != "Error" || got < want {
			got++
			msg := string(v[2])
			if c.RowNumbers != nil {
				msg = exec.ClientRow(msg, c.RowNumbers)
			}
			s.diag.add(level, uint16(code), s.cli.Names.Message(msg))
		}
	})
	if err != nil {
		c.MarkBroken()
	}
	// Past max_error_count the list stops: the count stays the one the
	// client was told.
	s.diag.warnings += want - min(want, got)
}

// showDiagnostics answers SHOW WARNINGS, SHOW ERRORS (with LIMIT) and
// SHOW COUNT(*) WARNINGS|ERRORS from the session's last statement. It
// reports whether sql was one of them.
func (s *Session) showDiagnostics(sql string) (bool, error) {
	q, ok := parseShowDiagnostics(sql)
	if !ok {
		return false, nil
	}
	if q.count {
		n := s.diag.warnings
		if q.errorsOnly {
			n = s.diag.errors
		}
		exec.WriteResult(&s.cli, q.columns(), [][]any{{n}}, s.status)
		return true, s.flush()
	}
	var rows [][]any
	for _, d := range s.diag.list {
		if !q.errorsOnly || d.level == "Error" {
			rows = append(rows, []any{d.level, int64(d.code), d.msg})
		}
	}
	rows = rows[min(q.offset, uint64(len(rows))):]
	rows = rows[:min(q.limit, uint64(len(rows)))]
	exec.WriteResult(&s.cli, q.columns(), rows, s.status)
	return true, s.flush()
}

// columns are the result's columns, as MariaDB describes them.
func (q showDiagnosticsQuery) columns() []wire.Column {
	if !q.count {
		return diagnosticsColumns
	}
	name := "@@session.warning_count"
	if q.errorsOnly {
		name = "@@session.error_count"
	}
	return []wire.Column{{Name: name, Charset: 63, Length: 21, Type: mysql.MYSQL_TYPE_LONGLONG, Flags: mysql.UNSIGNED_FLAG | mysql.BINARY_FLAG}}
}

// diagnosticsColumns are SHOW WARNINGS' columns as MariaDB describes them.
var diagnosticsColumns = []wire.Column{
	{Name: "Level", Charset: 45, Length: 28, Type: mysql.MYSQL_TYPE_VAR_STRING, Flags: mysql.NOT_NULL_FLAG, Decimals: 39},
	{Name: "Code", Charset: 63, Length: 4, Type: mysql.MYSQL_TYPE_LONG, Flags: mysql.NOT_NULL_FLAG | mysql.UNSIGNED_FLAG | mysql.BINARY_FLAG},
	{Name: "Message", Charset: 45, Length: 2048, Type: mysql.MYSQL_TYPE_VAR_STRING, Flags: mysql.NOT_NULL_FLAG, Decimals: 39},
}

// showDiagnosticsQuery is a SHOW WARNINGS statement, read.
type showDiagnosticsQuery struct {
	count, errorsOnly bool
	offset, limit     uint64
}

// parseShowDiagnostics reads SHOW [COUNT(*)] WARNINGS|ERRORS [LIMIT [o,] n
// | LIMIT n OFFSET o]; ok is false for anything else.
func parseShowDiagnostics(sql string) (q showDiagnosticsQuery, ok bool) {
	l := parser.NewLexer(sql)
	word := func(w string) bool {
		t := l.Next()
		return t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), w)
	}
	op := func(o string) bool {
		t := l.Next()
		return t.Kind == parser.TokOp && l.Text(t) == o
	}
	number := func(t parser.Token) (uint64, bool) {
		if t.Kind != parser.TokNumber {
			return 0, false
		}
		n, err := strconv.ParseUint(l.Text(t), 10, 64)
		return n, err == nil
	}
	end := func(t parser.Token) bool { return t.Kind == parser.TokEOF || t.Kind == parser.TokSemicolon }
	if !word("SHOW") {
		return q, false
	}
	t := l.Next()
	if t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "COUNT") {
		if !op("(") || !op("*") || !op(")") {
			return q, false
		}
		q.count = true
		t = l.Next()
	}
	switch {
	case t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "WARNINGS"):
	case t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "ERRORS"):
		q.errorsOnly = true
	default:
		return q, false
	}
	q.limit = ^uint64(0)
	t = l.Next()
	if end(t) {
		return q, true
	}
	if q.count || t.Kind != parser.TokIdent || !parser.EqualFold(l.Text(t), "LIMIT") {
		return q, false
	}
	if q.limit, ok = number(l.Next()); !ok {
		return q, false
	}
	t = l.Next()
	switch {
	case t.Kind == parser.TokOp && l.Text(t) == ",":
		q.offset = q.limit
		if q.limit, ok = number(l.Next()); !ok {
			return q, false
		}
		t = l.Next()
	case t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "OFFSET"):
		if q.offset, ok = number(l.Next()); !ok {
			return q, false
		}
		t = l.Next()
	}
	return q, end(t)
}
