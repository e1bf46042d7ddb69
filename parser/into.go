package parser

// SELECT ... INTO @a, @b, which TiDB's parser does not read: the proxy
// plans the SELECT without it (CutInto), then puts it back into the
// statement a server runs (PutInto) or assigns the one row itself.

// Into is a SELECT's INTO @variables clause.
type Into struct {
	Text      string   // "INTO @a, @b" as written
	Vars      []string // the variables' names
	AfterFrom bool     // written after the FROM clause (MariaDB warns 1287 of it)
}

// CutInto returns sql without its INTO @variables clause; ok is false
// unless there is one, outside parentheses, and only one.
func CutInto(sql string) (sel string, into Into, ok bool) {
	l := NewLexer(sql)
	depth, start, end := 0, -1, -1
	seenFrom := false
	for t := l.Next(); t.Kind != TokEOF; t = l.Next() {
		depth = nest(&l, t, depth)
		switch {
		case t.Kind == TokSemicolon:
			return "", Into{}, false
		case t.Kind == TokIdent && depth == 0 && EqualFold(l.Text(t), "FROM"):
			seenFrom = true
		case t.Kind == TokIdent && EqualFold(l.Text(t), "INTO"):
			save := l
			v := l.Next()
			if depth > 0 || start >= 0 || v.Kind != TokUserVar {
				return "", Into{}, false
			}
			start, into.AfterFrom = t.Start, seenFrom
			for {
				into.Vars = append(into.Vars, unquoteIdent(l.Text(v)[1:]))
				end = v.End
				save = l
				if c := l.Next(); !isComma(&l, c) {
					break
				}
				if v = l.Next(); v.Kind != TokUserVar {
					return "", Into{}, false
				}
			}
			l = save
		}
	}
	if start < 0 {
		return "", Into{}, false
	}
	into.Text = sql[start:end]
	return sql[:start] + " " + sql[end:], into, true
}

// PutInto writes into back into a SELECT printed without it: after the
// FROM clause (at the end) when the client wrote it there, else before
// the first FROM outside parentheses (or at the end without one).
func PutInto(sql string, into Into) string {
	if !into.AfterFrom {
		l := NewLexer(sql)
		depth := 0
		for t := l.Next(); t.Kind != TokEOF; t = l.Next() {
			if depth = nest(&l, t, depth); t.Kind == TokIdent && depth == 0 && EqualFold(l.Text(t), "FROM") {
				return sql[:t.Start] + into.Text + " " + sql[t.Start:]
			}
		}
	}
	return sql + " " + into.Text
}

// nest is the parenthesis depth after token t.
func nest(l *Lexer, t Token, depth int) int {
	if t.Kind == TokOp {
		switch l.Text(t) {
		case "(":
			return depth + 1
		case ")":
			return depth - 1
		}
	}
	return depth
}
