package parser

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	// The parser needs a value-expression implementation; this is the
	// small one it ships for tools like this.
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Mode is the part of a session's sql_mode that changes how SQL text
// reads: it must be the same for the proxy's parser and the servers.
type Mode uint8

const (
	ModeANSIQuotes Mode = 1 << iota
	ModePipesAsConcat
	ModeNoBackslashEscapes
	ModeHighNotPrecedence
	ModeIgnoreSpace
)

// ModeOf reads a sql_mode value.
func ModeOf(sqlMode string) Mode {
	var m Mode
	for _, w := range strings.Split(strings.ToUpper(sqlMode), ",") {
		switch w {
		case "ANSI_QUOTES", "ANSI":
			m |= ModeANSIQuotes
		case "PIPES_AS_CONCAT":
			m |= ModePipesAsConcat
		case "NO_BACKSLASH_ESCAPES":
			m |= ModeNoBackslashEscapes
		case "HIGH_NOT_PRECEDENCE":
			m |= ModeHighNotPrecedence
		case "IGNORE_SPACE":
			m |= ModeIgnoreSpace
		}
		if w == "ANSI" {
			m |= ModePipesAsConcat | ModeIgnoreSpace
		}
	}
	return m
}

func (m Mode) tidb() mysql.SQLMode {
	var out mysql.SQLMode
	if m&ModeANSIQuotes != 0 {
		out |= mysql.ModeANSIQuotes
	}
	if m&ModePipesAsConcat != 0 {
		out |= mysql.ModePipesAsConcat
	}
	if m&ModeNoBackslashEscapes != 0 {
		out |= mysql.ModeNoBackslashEscapes
	}
	if m&ModeHighNotPrecedence != 0 {
		out |= mysql.ModeHighNotPrecedence
	}
	if m&ModeIgnoreSpace != 0 {
		out |= mysql.ModeIgnoreSpace
	}
	return out
}

// Parse parses one or more statements with the TiDB parser (MariaDB mode).
func Parse(sql string) ([]ast.StmtNode, error) { return ParseMode(sql, 0) }

// ParseMode parses under a session's sql_mode.
func ParseMode(sql string, m Mode) ([]ast.StmtNode, error) {
	if joined, ok := joinStrings(sql, m); ok {
		sql = joined
	}
	stmts, err := parseMode(sql, m)
	if err != nil {
		// MariaDB's syntax that TiDB's parser does not read, written as
		// syntax it does (see tidbText).
		text, ok, unread := tidbText(sql)
		if ok {
			if again, e := parseMode(text, m); e == nil {
				for _, st := range again {
					st.Accept(clientFields{})
				}
				return again, nil
			}
		}
		if unread != "" {
			return nil, &UnreadError{What: unread}
		}
	}
	return stmts, err
}

func parseMode(sql string, m Mode) ([]ast.StmtNode, error) {
	p := parsers.Get().(*parser.Parser)
	p.SetSQLMode(m.tidb())
	stmts, _, err := p.Parse(sql, "", "")
	// The statement list is the parser's own slice, which its next parse
	// overwrites (the trees are new each parse): hand out a copy.
	if err == nil {
		stmts = slices.Clone(stmts)
		if namesUTF8MB4(sql) {
			for _, st := range stmts {
				st.Accept(keepIntroducers{})
			}
		}
	} else {
		stmts = nil
	}
	if len(sql) <= maxPooledParse {
		parsers.Put(p)
	}
	return stmts, err
}

// joinStrings writes a string with an introducer (_latin1'x', N'x')
// followed by plain strings as one string, as MariaDB reads them: TiDB's
// parser joins plain strings only, and read the next one as the first
// one's alias (_latin1'x' 'y' gave x, named y, where MariaDB gives xy).
// ok is false when there is none.
func joinStrings(sql string, m Mode) (string, bool) {
	if !mayIntroduce(sql) || m&ModeNoBackslashEscapes != 0 && strings.IndexByte(sql, '\\') >= 0 { // (the lexer reads \ as an escape)
		return sql, false
	}
	plain := func(text string) bool { return text[0] == '\'' || text[0] == '"' && m&ModeANSIQuotes == 0 }
	l := NewLexer(sql)
	var b strings.Builder
	last := 0
	t := l.Next()
	for t.Kind != TokEOF {
		text := l.Text(t)
		q := strings.IndexAny(text, "'\"")
		// An introduced string: not _latin1 X'41' or b'1' (a number, which
		// a string after names).
		if t.Kind != TokString || plain(text) || text[0] != '_' && text[0] != 'N' && text[0] != 'n' ||
			q < 1 || strings.IndexByte("xXbB", text[q-1]) >= 0 {
			t = l.Next()
			continue
		}
		first, end := t, t.End
		var parts []string
		for t = l.Next(); t.Kind == TokString && plain(l.Text(t)); t = l.Next() {
			parts = append(parts, l.Text(t))
			end = t.End
		}
		if parts == nil {
			continue
		}
		if text[len(text)-1] != text[q] || len(text)-q < 2 {
			continue // not closed: left to the parser's error
		}
		b.WriteString(sql[last:first.Start])
		b.WriteString(text[:q])
		b.WriteByte('\'')
		for _, lit := range append([]string{text[q:]}, parts...) {
			if len(lit) < 2 || lit[len(lit)-1] != lit[0] {
				return sql, false
			}
			writeSingleQuoted(&b, lit[1:len(lit)-1], lit[0], m&ModeNoBackslashEscapes == 0)
		}
		b.WriteByte('\'')
		last = end
	}
	if last == 0 {
		return sql, false
	}
	b.WriteString(sql[last:])
	return b.String(), true
}

// mayIntroduce reports whether a quote in sql follows a word starting
// with _ or the word N (blanks between): a string with an introducer may
// be there, for the lexer to look.
func mayIntroduce(sql string) bool {
	for i := strings.IndexAny(sql, "'\""); i >= 0; {
		j := i
		for j > 0 && (sql[j-1] == ' ' || sql[j-1] == '\t') {
			j--
		}
		k := j
		for k > 0 && isIdentByte(sql[k-1]) {
			k--
		}
		if k < j && (sql[k] == '_' || j-k == 1 && (sql[k] == 'N' || sql[k] == 'n')) {
			return true
		}
		next := strings.IndexAny(sql[i+1:], "'\"")
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

// writeSingleQuoted writes the inside of a string quoted by q as the
// inside of a single-quoted one.
func writeSingleQuoted(b *strings.Builder, in string, q byte, escapes bool) {
	if q == '\'' {
		b.WriteString(in)
		return
	}
	for i := 0; i < len(in); i++ {
		switch c := in[i]; {
		case c == '\\' && escapes && i+1 < len(in):
			b.WriteString(in[i : i+2])
			i++
		case c == q && i+1 < len(in) && in[i+1] == q:
			b.WriteByte(q)
			i++
		case c == '\'':
			b.WriteString("''")
		default:
			b.WriteByte(c)
		}
	}
}

// keepIntroducers makes each string literal written _utf8mb4'...' print
// back with its introducer. RestoreFlags leave out the default character
// set's (utf8mb4), which the parser gives every literal written without
// one; on a connection of another character set that literal is of the
// connection's (_utf8mb4'x' COLLATE utf8mb4_bin became an error, an
// emoji lost). The character set named in capitals is not the default's
// name, so it is printed.
type keepIntroducers struct{}

func (keepIntroducers) Enter(n ast.Node) (ast.Node, bool) {
	if v, ok := n.(*test_driver.ValueExpr); ok && v.Kind() == test_driver.KindString {
		if tp := v.GetType(); tp.GetFlag()&mysql.UnderScoreCharsetFlag != 0 && tp.GetCharset() == mysql.DefaultCharset {
			tp.SetCharset(strings.ToUpper(mysql.DefaultCharset))
		}
	}
	return n, false
}

func (keepIntroducers) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// namesUTF8MB4 reports whether sql holds _utf8mb4 in any case.
func namesUTF8MB4(sql string) bool {
	for i := strings.IndexByte(sql, '_'); i >= 0 && i+8 <= len(sql); {
		if EqualFold(sql[i:i+8], "_UTF8MB4") {
			return true
		}
		j := strings.IndexByte(sql[i+1:], '_')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// parsers are reused: a new TiDB parser costs more than a short parse
// (17 KB to allocate and clear: 18 µs a range select against 7 µs).
var parsers = sync.Pool{New: func() any {
	p := parser.New()
	p.SetMariaDB(true)
	return p
}}

// maxPooledParse: a parser that read a longer text may keep big buffers;
// it is dropped rather than pooled.
const maxPooledParse = 64 << 10

// RestoreFlags is how shardgate prints an AST back to SQL: keywords upper
// case, names back-quoted, strings single-quoted with backslashes escaped.
const RestoreFlags = format.RestoreStringSingleQuotes | format.RestoreKeyWordUppercase |
	format.RestoreNameBackQuotes | format.RestoreSpacesAroundBinaryOperation |
	format.RestoreStringWithoutDefaultCharset | format.RestoreStringEscapeBackslash

// Restore prints statements back to SQL, separated by semicolons.
func Restore(stmts []ast.StmtNode) (string, error) { return RestoreMode(stmts, 0) }

// RestoreMode prints statements for servers running under a sql_mode.
func RestoreMode(stmts []ast.StmtNode, m Mode) (string, error) {
	var b strings.Builder
	flags := restoreFlags(m)
	for i, s := range stmts {
		if i > 0 {
			b.WriteString("; ")
		}
		var one strings.Builder
		if err := restoreNode(s, flags, &one); err != nil {
			return "", err
		}
		switch s.(type) {
		case *ast.CreateTableStmt, *ast.AlterTableStmt:
			b.WriteString(dropEnforced(one.String()))
		case *ast.ExplainStmt:
			// The parser's default format is printed, and MariaDB knows no "row".
			b.WriteString(strings.Replace(one.String(), "EXPLAIN FORMAT = 'row' ", "EXPLAIN ", 1))
		default:
			b.WriteString(one.String())
		}
	}
	return b.String(), nil
}

func restoreFlags(m Mode) format.RestoreFlags {
	flags := RestoreFlags
	if m&ModeNoBackslashEscapes != 0 {
		flags &^= format.RestoreStringEscapeBackslash
	}
	return flags
}

// LiteralText prints a value as the literal a statement restored with it
// in a marker's place holds (ast.NewValueExpr's text).
func LiteralText(v any, m Mode) (string, error) {
	var b strings.Builder
	err := ast.NewValueExpr(v, "", "").Restore(format.NewRestoreCtx(restoreFlags(m), &b))
	return b.String(), err
}

// dropEnforced removes the ENFORCED the TiDB parser prints after every
// CHECK constraint: MariaDB's CHECK is always enforced and does not know
// the word. (NOT ENFORCED stays, for MariaDB to refuse as it would.)
func dropEnforced(sql string) string {
	if !strings.Contains(sql, "ENFORCED") {
		return sql
	}
	var b strings.Builder
	l := NewLexer(sql)
	last, prev := 0, Token{}
	for t := l.Next(); t.Kind != TokEOF; t = l.Next() {
		if t.Kind == TokIdent && l.Text(t) == "ENFORCED" && !(prev.Kind == TokIdent && l.Text(prev) == "NOT") {
			b.WriteString(strings.TrimRight(sql[last:t.Start], " "))
			last = t.End
		}
		prev = t
	}
	b.WriteString(sql[last:])
	return b.String()
}

// RestoreExpr prints one expression as SQL.
func RestoreExpr(e ast.Node) string {
	var b strings.Builder
	_ = restoreNode(e, RestoreFlags, &b)
	return b.String()
}

// SessionValues are what a pass-through statement must see as one MySQL
// would show them, not as the backend would.
type SessionValues struct {
	ConnectionID uint64
	// Database is the logical schema; empty means none (NULL).
	Database string
	// Schemas maps logical schema names to physical database names.
	Schemas map[string]string
	// User is the client's user@host (USER()), Account its account
	// (CURRENT_USER()); empty leaves the functions alone.
	User, Account string
	// Warnings and Errors are the session's @@warning_count and
	// @@error_count (read only with Diagnostics set).
	Diagnostics      bool
	Warnings, Errors uint64
}

// RewriteSession rewrites a pass-through statement at the token level, so
// everything else stays byte for byte what the client sent: logical
// schema names used as qualifiers (and after SHOW ... FROM/IN) become
// physical ones; DATABASE()/SCHEMA() and CONNECTION_ID() become the values
// the client must see, keeping the column name it would get.
func RewriteSession(sql string, v *SessionValues) string {
	var out strings.Builder
	l := NewLexer(sql)
	last := 0 // copied up to here
	var prev, first Token
	depth := 0
	inList := map[int]bool{}
	emit := func(t Token, text string) {
		out.WriteString(sql[last:t.Start])
		out.WriteString(text)
		last = t.End
	}
	for i := 0; ; i++ {
		t := l.Next()
		if t.Kind == TokEOF {
			break
		}
		if i == 0 {
			first = t
		}
		text := l.Text(t)
		switch t.Kind {
		case TokOp:
			switch text {
			case "(":
				depth++
			case ")":
				depth--
			}
		case TokSysVar:
			counter := DiagnosticsVar(text)
			if !v.Diagnostics || counter == "" {
				break
			}
			n := v.Warnings
			if counter == "error_count" {
				n = v.Errors
			}
			val := "(" + strconv.FormatUint(n, 10) + "|0)" // BIGINT UNSIGNED, as the variable
			if inList[depth] && needsAlias(&l) {
				val += " AS `" + strings.ReplaceAll(text, "`", "``") + "`"
			}
			emit(t, val)
		case TokIdent, TokQuotedIdent:
			name := unquoteIdent(text)
			if t.Kind == TokIdent && EqualFold(text, "SELECT") {
				inList[depth] = true
			} else if t.Kind == TokIdent && EqualFold(text, "FROM") {
				inList[depth] = false
			}
			if phys, ok := v.Schemas[name]; ok && (nextIsDot(&l) || isShowSource(&l, first, prev)) {
				emit(t, "`"+strings.ReplaceAll(phys, "`", "``")+"`")
				break
			}
			if t.Kind != TokIdent || !nextIsParen(&l) {
				break
			}
			var val string
			switch {
			case EqualFold(text, "DATABASE") || EqualFold(text, "SCHEMA"):
				val = "NULL"
				if v.Database != "" {
					val = "'" + strings.ReplaceAll(v.Database, "'", "''") + "'"
				}
			case EqualFold(text, "CONNECTION_ID"):
				val = strconv.FormatUint(v.ConnectionID, 10)
			case v.User != "" && (EqualFold(text, "USER") || EqualFold(text, "SESSION_USER") || EqualFold(text, "SYSTEM_USER")):
				val = "'" + strings.ReplaceAll(v.User, "'", "''") + "'"
			case v.Account != "" && EqualFold(text, "CURRENT_USER"):
				val = "'" + strings.ReplaceAll(v.Account, "'", "''") + "'"
			default:
				continue
			}
			save := l
			open, closeTok := save.Next(), save.Next()
			if closeTok.Kind != TokOp || save.Text(closeTok) != ")" {
				continue
			}
			_ = open
			call := sql[t.Start:closeTok.End]
			l = save
			if inList[depth] && needsAlias(&l) {
				val += " AS `" + strings.ReplaceAll(call, "`", "``") + "`"
			}
			emit(Token{Start: t.Start, End: closeTok.End}, val)
			prev = closeTok
			continue
		}
		prev = t
	}
	out.WriteString(sql[last:])
	return out.String()
}

func nextIsDot(l *Lexer) bool {
	save := *l
	t := save.Next()
	return t.Kind == TokOp && save.src[t.Start] == '.' && t.End == t.Start+1
}

// isShowSource: SHOW ... FROM|IN <db>.
func isShowSource(l *Lexer, first, prev Token) bool {
	if first.Kind != TokIdent || !EqualFold(l.Text(first), "SHOW") || prev.Kind != TokIdent {
		return false
	}
	p := l.Text(prev)
	return EqualFold(p, "FROM") || EqualFold(p, "IN")
}

// needsAlias reports whether a select-list item ends here without an alias.
func needsAlias(l *Lexer) bool {
	save := *l
	t := save.Next()
	switch t.Kind {
	case TokEOF, TokSemicolon:
		return true
	case TokOp:
		return save.Text(t) == "," || save.Text(t) == ")"
	case TokIdent:
		w := save.Text(t)
		for _, k := range []string{"FROM", "INTO", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "FOR", "LOCK", "WINDOW", "EXCEPT", "INTERSECT"} {
			if EqualFold(w, k) {
				return true
			}
		}
	}
	return false
}

// ReplaceSessionFuncs replaces DATABASE()/SCHEMA(), CONNECTION_ID(), the
// USER() functions and @@warning_count/@@error_count in an AST with the
// session's values (for statements the router restores).
func ReplaceSessionFuncs(stmt ast.Node, v *SessionValues) {
	stmt.Accept(&sessionRewriter{v: v})
}

type sessionRewriter struct{ v *SessionValues }

func (r *sessionRewriter) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SelectField:
		// A rewritten function keeps its original text as column name.
		if f, ok := x.Expr.(*ast.FuncCallExpr); ok && x.AsName.O == "" && r.replaces(f) {
			x.AsName = ast.NewCIStr(fieldText(x))
		}
		if v, ok := x.Expr.(*ast.VariableExpr); ok && x.AsName.O == "" && r.counter(v) != nil {
			x.AsName = ast.NewCIStr(fieldText(x))
		}
	}
	return n, false
}

func (r *sessionRewriter) replaces(f *ast.FuncCallExpr) bool {
	switch f.FnName.L {
	case "database", "schema", "connection_id":
		return true
	case "user", "session_user", "system_user":
		return r.v.User != ""
	case "current_user":
		return r.v.Account != ""
	}
	return false
}

// counter is the session's @@warning_count or @@error_count v reads, or nil.
func (r *sessionRewriter) counter(v *ast.VariableExpr) *uint64 {
	if !r.v.Diagnostics || !v.IsSystem || v.IsGlobal {
		return nil
	}
	switch strings.ToLower(v.Name) {
	case "warning_count":
		return &r.v.Warnings
	case "error_count":
		return &r.v.Errors
	}
	return nil
}

func (r *sessionRewriter) Leave(n ast.Node) (ast.Node, bool) {
	if v, ok := n.(*ast.VariableExpr); ok {
		if c := r.counter(v); c != nil {
			// (n|0) keeps the variable's type, BIGINT UNSIGNED.
			return &ast.ParenthesesExpr{Expr: &ast.BinaryOperationExpr{Op: opcode.Or,
				L: ast.NewValueExpr(*c, "", ""), R: ast.NewValueExpr(0, "", "")}}, true
		}
		return n, true
	}
	f, ok := n.(*ast.FuncCallExpr)
	if !ok || len(f.Args) != 0 {
		return n, true
	}
	switch f.FnName.L {
	case "database", "schema":
		if r.v.Database == "" {
			return ast.NewValueExpr(nil, "", ""), true
		}
		return ast.NewValueExpr(r.v.Database, "utf8mb4", "utf8mb4_general_ci"), true
	case "connection_id":
		return ast.NewValueExpr(r.v.ConnectionID, "", ""), true
	case "user", "session_user", "system_user":
		if r.v.User != "" {
			return ast.NewValueExpr(r.v.User, "utf8mb4", "utf8mb4_general_ci"), true
		}
	case "current_user":
		if r.v.Account != "" {
			return ast.NewValueExpr(r.v.Account, "utf8mb4", "utf8mb4_general_ci"), true
		}
	}
	return n, true
}

// fieldText is the text a client sees as the column name of a select field.
func fieldText(f *ast.SelectField) string {
	if t := strings.TrimSpace(f.Text()); t != "" {
		return ColumnName(t)
	}
	var b strings.Builder
	_ = f.Expr.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &b))
	return b.String()
}

// ColumnName is the name MariaDB gives a column from an expression's text:
// names are utf8mb3, so a character of four UTF-8 bytes (an emoji) becomes
// '?'. An alias the proxy writes must be that name: the server refuses a
// four-byte character in an identifier (1300).
func ColumnName(text string) string {
	if !hasFourByteRune(text) {
		return text
	}
	var b strings.Builder
	for _, r := range text {
		if r > 0xFFFF {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hasFourByteRune(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xF0 {
			return true
		}
	}
	return false
}

// UnreadError is MariaDB syntax the proxy's parser cannot read another
// way: what the client gets is a refusal, not a syntax error.
type UnreadError struct{ What string }

func (e *UnreadError) Error() string { return e.What + " is not read by shardgate's SQL parser" }

// rewriteMark follows each change tidbText makes: "/*sg" + the length of
// the new text before it + ":" + the client's text + "*/". clientFields
// puts the client's back in each select field's text, which names its
// column.
const rewriteMark = "/*sg"

// tidbText writes what TiDB's parser does not read of MariaDB's syntax
// as what it reads, the same query: the INT or INTEGER of CAST(x AS INT)
// and CONVERT(x, INT) as SIGNED (both reserved words: nothing else reads
// "AS INT)" or ", INT)"), and OFFSET n ROWS and FETCH FIRST n ROWS ONLY as
// LIMIT. ok is false when nothing changed; unread names what has no such
// writing (FETCH ... WITH TIES).
func tidbText(sql string) (text string, ok bool, unread string) {
	l := NewLexer(sql)
	var toks []Token
	for t := l.Next(); t.Kind != TokEOF; t = l.Next() {
		toks = append(toks, t)
	}
	word := func(i int, words ...string) bool {
		if i < 0 || i >= len(toks) || toks[i].Kind != TokIdent {
			return false
		}
		for _, w := range words {
			if EqualFold(l.Text(toks[i]), w) {
				return true
			}
		}
		return false
	}
	op := func(i int, o string) bool {
		return i >= 0 && i < len(toks) && toks[i].Kind == TokOp && l.Text(toks[i]) == o
	}
	count := func(i int) bool { return i < len(toks) && (toks[i].Kind == TokNumber || toks[i].Kind == TokParam) }
	var b strings.Builder
	last := 0
	change := func(from, to int, with string) { // tokens from..to-1
		start, end := toks[from].Start, toks[to-1].End
		orig := sql[start:end]
		if strings.Contains(orig, "*/") {
			return // (a comment inside: left to the parser's error)
		}
		b.WriteString(sql[last:start])
		b.WriteString(with + rewriteMark + strconv.Itoa(len(with)) + ":" + orig + "*/")
		last, ok = end, true
	}
	for i := 0; i < len(toks); i++ {
		switch {
		case word(i, "INT", "INTEGER") && op(i+1, ")") && (word(i-1, "AS") || op(i-1, ",")):
			change(i, i+1, "SIGNED")
		case word(i, "OFFSET") && count(i+1) && word(i+2, "ROW", "ROWS"):
			offset := l.Text(toks[i+1])
			j := i + 3
			n, end, ties := fetchFirst(toks, j, word, count, l)
			switch {
			case ties:
				unread = "FETCH ... WITH TIES"
			case end > j:
				change(i, end, "LIMIT "+offset+", "+n)
				i = end - 1
			default:
				change(i, j, "LIMIT "+offset+", 18446744073709551615")
				i = j - 1
			}
		case word(i, "FETCH"):
			n, end, ties := fetchFirst(toks, i, word, count, l)
			switch {
			case ties:
				unread = "FETCH ... WITH TIES"
			case end > i:
				change(i, end, "LIMIT "+n)
				i = end - 1
			}
		}
	}
	if !ok {
		return "", false, unread
	}
	b.WriteString(sql[last:])
	return b.String(), true, unread
}

// fetchFirst reads FETCH {FIRST|NEXT} [n] {ROW|ROWS} {ONLY|WITH TIES} at
// token i: its count ("1" when none), the token after it (i when it is
// not one), and whether it is WITH TIES.
func fetchFirst(toks []Token, i int, word func(int, ...string) bool, count func(int) bool, l Lexer) (n string, end int, ties bool) {
	if !word(i, "FETCH") || !word(i+1, "FIRST", "NEXT") {
		return "", i, false
	}
	j, n := i+2, "1"
	if count(j) {
		n, j = l.Text(toks[j]), j+1
	}
	if !word(j, "ROW", "ROWS") {
		return "", i, false
	}
	switch {
	case word(j+1, "ONLY"):
		return n, j + 2, false
	case word(j+1, "WITH") && word(j+2, "TIES"):
		return "", i, true
	}
	return "", i, false
}

// clientFields gives each select field the text the client wrote, where
// tidbText changed it: the field's text names its column.
type clientFields struct{}

func (clientFields) Enter(n ast.Node) (ast.Node, bool) {
	if f, ok := n.(*ast.SelectField); ok {
		if t := f.Text(); strings.Contains(t, rewriteMark) {
			f.SetText(nil, clientText(t))
		}
	}
	return n, false
}

func (clientFields) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// clientText is a text as the client wrote it, where tidbText changed it.
func clientText(text string) string {
	for {
		i := strings.Index(text, rewriteMark)
		if i < 0 {
			return text
		}
		rest := text[i+len(rewriteMark):]
		colon := strings.IndexByte(rest, ':')
		end := strings.Index(rest, "*/")
		if colon < 0 || end < colon {
			return text
		}
		n, err := strconv.Atoi(rest[:colon])
		if err != nil || n > i {
			return text
		}
		text = text[:i-n] + rest[colon+1:end] + rest[end+2:]
	}
}
