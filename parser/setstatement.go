package parser

import "strings"

// SetStatement is MariaDB's SET STATEMENT a = x, b = y FOR statement: the
// variables set for one statement, then restored.
type SetStatement struct {
	Names   []string // the variables, lower case
	Assigns []string // each "name = value" as written
	Stmt    string   // the statement they are set for
}

// SplitSetStatement reads sql as SET STATEMENT ... FOR ...; ok is false
// when it is not one, or an assignment does not read as name = value.
func SplitSetStatement(sql string) (st SetStatement, ok bool) {
	l := NewLexer(sql)
	if t := l.Next(); t.Kind != TokIdent || !EqualFold(l.Text(t), "SET") {
		return st, false
	}
	if t := l.Next(); t.Kind != TokIdent || !EqualFold(l.Text(t), "STATEMENT") {
		return st, false
	}
	start, depth := l.Pos(), 0
	// assign checks one "name = value" piece, src[start:end].
	assign := func(end int) bool {
		piece := strings.TrimSpace(sql[start:end])
		pl := NewLexer(piece)
		name, eq := pl.Next(), pl.Next()
		if name.Kind != TokIdent || eq.Kind != TokOp || (pl.Text(eq) != "=" && pl.Text(eq) != ":=") || pl.Next().Kind == TokEOF {
			return false
		}
		st.Names = append(st.Names, strings.ToLower(pl.Text(name)))
		st.Assigns = append(st.Assigns, piece)
		return true
	}
	for {
		t := l.Next()
		switch t.Kind {
		case TokEOF, TokSemicolon:
			return SetStatement{}, false
		case TokOp:
			switch l.Text(t) {
			case "(":
				depth++
			case ")":
				depth--
			case ",":
				if depth == 0 {
					if !assign(t.Start) {
						return SetStatement{}, false
					}
					start = t.End
				}
			}
		case TokIdent:
			if depth == 0 && EqualFold(l.Text(t), "FOR") {
				if !assign(t.Start) {
					return SetStatement{}, false
				}
				if st.Stmt = strings.TrimSpace(sql[t.End:]); st.Stmt == "" {
					return SetStatement{}, false
				}
				return st, true
			}
		}
	}
}
