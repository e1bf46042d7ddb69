package parser

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Literal is where a literal stands in a statement's text.
type Literal struct {
	Start, End int
	Kind       TokKind // TokNumber or TokString
}

// Template replaces a statement's literals (numbers and single-quoted
// strings) by ?, leaving every other byte as it is: statements that differ
// only in their values share it, so the plan cache plans it once. It
// appends the template to key and the literals to lits, reusing both. ok
// is false when the statement holds parameter markers of its own.
// (Double-quoted strings stay: under ANSI_QUOTES they are names.)
func Template(sql string, key []byte, lits []Literal) ([]byte, []Literal, bool) {
	key, lits = key[:0], lits[:0]
	l := NewLexer(sql)
	last := 0
	for {
		t := l.Next()
		switch t.Kind {
		case TokEOF:
			return append(key, sql[last:]...), lits, true
		case TokParam:
			return key, lits, false
		case TokNumber:
		case TokString:
			if sql[t.Start] != '\'' {
				continue
			}
		default:
			continue
		}
		key = append(append(key, sql[last:t.Start]...), '?')
		lits = append(lits, Literal{t.Start, t.End, t.Kind})
		last = t.End
	}
}

// LiteralValue is the value of a literal of a statement's text, as the
// SQL parser would give it: int64 or uint64 for integers, a decimal for
// numbers with a point, float64 with an exponent, bytes for hexadecimal
// and bit literals, the unquoted string for strings (backslash escapes as
// by default; not for NO_BACKSLASH_ESCAPES).
func LiteralValue(text string) any {
	if text == "" {
		return nil
	}
	switch c := text[0]; {
	case c == '\'':
		return UnquoteString(text)
	case c == 'x' || c == 'X' || len(text) > 1 && c == '0' && (text[1] == 'x' || text[1] == 'X'):
		if b, err := test_driver.ParseHexStr(text); err == nil {
			return []byte(b)
		}
		return text
	case c == 'b' || c == 'B' || len(text) > 1 && c == '0' && text[1] == 'b':
		if b, err := test_driver.ParseBitStr(text); err == nil {
			return []byte(b)
		}
		return text
	}
	if strings.ContainsAny(text, "eE") {
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return f
		}
	}
	if strings.Contains(text, ".") {
		if d, ok := decimalOf(text); ok {
			return d
		}
		return text
	}
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		return i
	}
	if u, err := strconv.ParseUint(text, 10, 64); err == nil {
		return u
	}
	if d, ok := decimalOf(text); ok {
		return d
	}
	return text
}
