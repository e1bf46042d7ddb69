package admin

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
)

// tokens walks an admin statement with the proxy's lexer.
type tokens struct {
	sql  string
	list []parser.Token
	i    int
}

func tokenize(sql string) *tokens {
	t := &tokens{sql: sql}
	l := parser.NewLexer(sql)
	for tok := l.Next(); tok.Kind != parser.TokEOF; tok = l.Next() {
		if tok.Kind == parser.TokSemicolon {
			// A trailing ; (the mariadb client strips it, others send it).
			continue
		}
		t.list = append(t.list, tok)
	}
	return t
}

func (t *tokens) done() bool { return t.i >= len(t.list) }

func (t *tokens) text(i int) string {
	if i >= len(t.list) {
		return ""
	}
	return t.sql[t.list[i].Start:t.list[i].End]
}

// word returns token i upper-cased when it is a word or @@name (else its text).
func (t *tokens) word(i int) string {
	if i >= len(t.list) {
		return ""
	}
	switch t.list[i].Kind {
	case parser.TokIdent, parser.TokSysVar:
		return strings.ToUpper(t.text(i))
	}
	return t.text(i)
}

// peek returns the next token's word.
func (t *tokens) peek() string { return t.word(t.i) }

// accept consumes the words if the next tokens are exactly them.
func (t *tokens) accept(words ...string) bool {
	for k, w := range words {
		if t.word(t.i+k) != w {
			return false
		}
	}
	t.i += len(words)
	return true
}

// acceptAny consumes one of the given single words.
func (t *tokens) acceptAny(words ...string) (string, bool) {
	w := t.peek()
	for _, x := range words {
		if w == x {
			t.i++
			return w, true
		}
	}
	return "", false
}

// name reads an identifier (bare, `quoted`, or 'quoted').
func (t *tokens) name(what string) (string, error) {
	if t.done() {
		return "", t.errorf("%s expected", what)
	}
	tok := t.list[t.i]
	switch tok.Kind {
	case parser.TokIdent, parser.TokQuotedIdent:
		t.i++
		return parser.UnquoteIdent(t.text(t.i - 1)), nil
	case parser.TokString:
		t.i++
		return parser.UnquoteString(t.text(t.i - 1)), nil
	}
	return "", t.errorf("%s expected", what)
}

// qualified reads name or schema.name.
func (t *tokens) qualified(what string) (schema, name string, err error) {
	name, err = t.name(what)
	if err != nil {
		return "", "", err
	}
	if t.accept(".") {
		schema = name
		name, err = t.name(what)
	}
	return schema, name, err
}

// value reads a string, number or word as text.
func (t *tokens) value(what string) (string, error) {
	if t.done() {
		return "", t.errorf("%s expected", what)
	}
	tok := t.list[t.i]
	t.i++
	switch tok.Kind {
	case parser.TokString:
		return parser.UnquoteString(t.text(t.i - 1)), nil
	case parser.TokIdent, parser.TokQuotedIdent, parser.TokNumber:
		return parser.UnquoteIdent(t.text(t.i - 1)), nil
	}
	t.i--
	return "", t.errorf("%s expected", what)
}

// rest returns the raw text from the next token on.
func (t *tokens) rest() string {
	if t.done() {
		return ""
	}
	return strings.TrimSpace(t.sql[t.list[t.i].Start:])
}

// end fails unless every token was read.
func (t *tokens) end() error {
	if !t.done() {
		return t.errorf("unexpected %q", t.text(t.i))
	}
	return nil
}

// errorf is a 1064 syntax error pointing at the current token.
func (t *tokens) errorf(format string, args ...any) error {
	near := ""
	if !t.done() {
		near = t.sql[t.list[t.i].Start:]
	}
	if len(near) > 60 {
		near = near[:60]
	}
	return mysql.NewError(mysql.ER_PARSE_ERROR, fmt.Sprintf("admin console: %s near '%s' (HELP lists the statements)", fmt.Sprintf(format, args...), near))
}

// errf is a 1105 error naming the cause.
func errf(format string, args ...any) error {
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf(format, args...))
}
