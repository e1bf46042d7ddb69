package parser

import "strings"

// Lock is a LOCK TABLES statement as MariaDB reads it:
//
//	LOCK {TABLE|TABLES} name [[AS] alias] type [, ...] [WAIT n | NOWAIT]
//	type: READ [LOCAL] | [LOW_PRIORITY] WRITE | WRITE CONCURRENT
//
// TiDB's parser reads no alias, nor WRITE CONCURRENT.
type Lock struct {
	Tables []LockedTable
	// Tail is WAIT n or NOWAIT, as written ("" when none).
	Tail string
}

// LockedTable is one table of the list.
type LockedTable struct {
	Schema string // as written, "" when unqualified
	Name   string
	Alias  string // "" when none
	// Type is the lock type in canonical spelling ("READ LOCAL",
	// "LOW_PRIORITY WRITE"); Write is set for the WRITE ones.
	Type  string
	Write bool
}

// ParseLock reads a LOCK TABLES statement. ok is false when the text is
// not one; bad is then the offset of the first token it could not read
// (-1 when the text is no LOCK TABLES at all).
func ParseLock(sql string, mode Mode) (lk Lock, ok bool, bad int) {
	l := NewLexer(sql)
	word := func(t Token, w string) bool { return t.Kind == TokIdent && EqualFold(l.Text(t), w) }
	t := l.Next()
	if !word(t, "LOCK") {
		return lk, false, -1
	}
	if t = l.Next(); !word(t, "TABLE") && !word(t, "TABLES") {
		return lk, false, -1
	}
	name := func(t Token) (string, bool) {
		quoted := t.Kind == TokQuotedIdent || t.Kind == TokString && mode&ModeANSIQuotes != 0 && l.Text(t)[0] == '"'
		if t.Kind != TokIdent && !quoted {
			return "", false
		}
		return unquoteIdent(l.Text(t)), true
	}
	for {
		var lt LockedTable
		t = l.Next()
		n, ok := name(t)
		if !ok {
			return lk, false, t.Start
		}
		lt.Name = n
		mark := l
		if d := l.Next(); d.Kind == TokOp && l.Text(d) == "." {
			t = l.Next()
			if n, ok = name(t); !ok {
				return lk, false, t.Start
			}
			lt.Schema, lt.Name = lt.Name, n
		} else {
			l = mark
		}
		t = l.Next()
		if word(t, "AS") {
			t = l.Next()
			if n, ok = name(t); !ok {
				return lk, false, t.Start
			}
			lt.Alias, t = n, l.Next()
		} else if n, ok := name(t); ok && (t.Kind != TokIdent || !isLockWord(n)) {
			lt.Alias, t = n, l.Next()
		}
		switch {
		case word(t, "READ"):
			lt.Type = "READ"
			mark = l
			if word(l.Next(), "LOCAL") {
				lt.Type = "READ LOCAL"
			} else {
				l = mark
			}
		case word(t, "LOW_PRIORITY"):
			if t = l.Next(); !word(t, "WRITE") {
				return lk, false, t.Start
			}
			lt.Type, lt.Write = "LOW_PRIORITY WRITE", true
		case word(t, "WRITE"):
			lt.Type, lt.Write = "WRITE", true
			mark = l
			if word(l.Next(), "CONCURRENT") {
				lt.Type = "WRITE CONCURRENT"
			} else {
				l = mark
			}
		default:
			return lk, false, t.Start
		}
		lk.Tables = append(lk.Tables, lt)
		if t = l.Next(); t.Kind == TokOp && l.Text(t) == "," {
			continue
		}
		switch {
		case word(t, "NOWAIT"):
			lk.Tail, t = "NOWAIT", l.Next()
		case word(t, "WAIT"):
			n := l.Next()
			if n.Kind != TokNumber {
				return lk, false, n.Start
			}
			lk.Tail, t = "WAIT "+l.Text(n), l.Next()
		}
		if t.Kind == TokSemicolon {
			t = l.Next()
		}
		if t.Kind != TokEOF {
			return lk, false, t.Start
		}
		return lk, true, 0
	}
}

// isLockWord: a word after a table's name that starts its lock type, not
// an alias.
func isLockWord(w string) bool {
	switch strings.ToUpper(w) {
	case "READ", "WRITE", "LOW_PRIORITY":
		return true
	}
	return false
}
