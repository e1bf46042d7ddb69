package parser

import "strings"

// CutReturning splits MariaDB's INSERT, REPLACE or DELETE ... RETURNING
// select list (which TiDB's parser does not read) at its RETURNING: the
// statement without it, and the list. ok is false when no RETURNING
// stands outside parentheses.
func CutReturning(sql string) (stmt, list string, ok bool) {
	l := NewLexer(sql)
	depth := 0
	for t := l.Next(); t.Kind != TokEOF && t.Kind != TokSemicolon; t = l.Next() {
		switch {
		case t.Kind == TokOp && l.Text(t) == "(":
			depth++
		case t.Kind == TokOp && l.Text(t) == ")":
			depth--
		case t.Kind == TokIdent && depth == 0 && EqualFold(l.Text(t), "RETURNING"):
			stmt, list = strings.TrimSpace(sql[:t.Start]), strings.TrimSpace(sql[t.End:])
			list = strings.TrimSpace(strings.TrimSuffix(list, ";"))
			if stmt == "" || list == "" {
				return "", "", false
			}
			return stmt, list, true
		}
	}
	return "", "", false
}
