package session

import (
	"sort"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/wire"
)

// Statements about accounts and threads answer with the proxy's: a
// backend would list its own connections (every client's, the proxy's
// pool) and the proxy's account, with its password hash.

// showProcesslist answers SHOW [FULL] PROCESSLIST with the proxy's
// sessions, whose ids KILL takes: the user's own, as MySQL shows them to
// a user without the PROCESS privilege.
func (s *Session) showProcesslist(full bool) error {
	all := s.env.Registry.All()
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	var rows [][]any
	for _, t := range all {
		in := t.Info()
		if t != s && in.User != s.user.Name {
			continue
		}
		command, state, info := "Sleep", "", any(nil)
		if in.Query != "" {
			q := in.Query
			if !full && len(q) > 100 {
				q = q[:100]
			}
			command, state, info = "Query", "executing", q
		}
		var db any
		if in.Schema != "" {
			db = in.Schema
		}
		rows = append(rows, []any{int64(in.ID), in.User, in.Host, db, command, int64(time.Since(in.Since).Seconds()), state, info, "0.000"})
	}
	exec.WriteResult(&s.cli, processlistColumns(), rows, s.status)
	return s.flush()
}

// processlistColumns are SHOW PROCESSLIST's columns.
func processlistColumns() []wire.Column {
	progress := wire.Column{Name: "Progress", OrgName: "Progress", Charset: 63, Length: 7, Decimals: 3,
		Type: mysql.MYSQL_TYPE_NEWDECIMAL, Flags: mysql.NOT_NULL_FLAG}
	return []wire.Column{exec.IntColumn("Id"), exec.TextColumn("User"), exec.TextColumn("Host"), exec.TextColumn("db"),
		exec.TextColumn("Command"), exec.IntColumn("Time"), exec.TextColumn("State"), exec.TextColumn("Info"), progress}
}

// grantsColumn is SHOW GRANTS' column.
func (s *Session) grantsColumn() wire.Column {
	col := exec.TextColumn("Grants for " + s.user.Name + "@%")
	col.Flags = mysql.NOT_NULL_FLAG
	return col
}

// showGrants answers SHOW GRANTS [FOR CURRENT_USER | FOR 'user'[@'host']]
// for the proxy's user: what the proxy lets it do, all on each schema it
// may use. Other accounts' grants are the mysql database's, which no
// client of the proxy reads.
func (s *Session) showGrants(sql string) error {
	l := parser.NewLexer(sql)
	l.Next() // SHOW
	l.Next() // GRANTS
	t := l.Next()
	if t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "FOR") {
		u := l.Next()
		self := false
		switch {
		case u.Kind == parser.TokIdent && parser.EqualFold(l.Text(u), "CURRENT_USER"):
			self = true
			if p := l.Next(); p.Kind == parser.TokOp && l.Text(p) == "(" {
				if c := l.Next(); c.Kind != parser.TokOp || l.Text(c) != ")" {
					return s.writeErr(syntaxError(sql[c.Start:]))
				}
				t = l.Next()
			} else {
				t = p
			}
		case u.Kind == parser.TokString || u.Kind == parser.TokIdent || u.Kind == parser.TokQuotedIdent:
			name := l.Text(u)
			switch u.Kind {
			case parser.TokString:
				name = parser.UnquoteString(name)
			case parser.TokQuotedIdent:
				name = parser.UnquoteIdent(name)
			}
			self = name == s.user.Name
			if t = l.Next(); t.Kind == parser.TokUserVar {
				t = l.Next() // @'host': the proxy's users have no host part
			}
		default:
			return s.writeErr(syntaxError(sql[u.Start:]))
		}
		if !self {
			return s.writeErr(mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, s.user.Name, s.host, "mysql"))
		}
	}
	if t.Kind != parser.TokEOF && t.Kind != parser.TokSemicolon {
		return s.writeErr(unsupported("this form of SHOW GRANTS"))
	}
	account := quoteAccount(s.user.Name) + "@`%`"
	rows := [][]any{{"GRANT USAGE ON *.* TO " + account}}
	schemas := append([]string(nil), s.user.Schemas...)
	sort.Strings(schemas)
	for _, name := range schemas {
		rows = append(rows, []any{"GRANT ALL PRIVILEGES ON " + quoteAccount(name) + ".* TO " + account})
	}
	exec.WriteResult(&s.cli, []wire.Column{s.grantsColumn()}, rows, s.status)
	return s.flush()
}

// quoteAccount backquotes a name as SHOW GRANTS writes it.
func quoteAccount(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// thirdWordIs reports whether sql's third word is upper (SHOW FULL PROCESSLIST).
func thirdWordIs(sql, upper string) bool {
	l := parser.NewLexer(sql)
	l.Next()
	l.Next()
	t := l.Next()
	return t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), upper)
}
