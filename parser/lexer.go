package parser

// A small MySQL lexer: enough to classify a statement, find the functions
// and user variables that make it stateful, split multi-statement text and
// fingerprint it, without the cost of a full parse. It never fails: text it
// does not understand becomes single-character operator tokens.

// TokKind is a token's kind.
type TokKind uint8

const (
	TokEOF         TokKind = iota
	TokIdent               // word or keyword
	TokQuotedIdent         // `name`
	TokString              // '...' or "..."
	TokNumber              // 12, 1.5, 1e3, 0x1F, X'..', b'..'
	TokUserVar             // @name, @'name', @`name`
	TokSysVar              // @@name, @@session.name
	TokParam               // ?
	TokOp                  // operator or punctuation
	TokSemicolon           // ;
)

// Token is one lexeme: its kind and its byte range in the source.
type Token struct {
	Kind       TokKind
	Start, End int
}

// Lexer walks a SQL text. The zero value is unusable; use NewLexer.
type Lexer struct {
	src string
	pos int
	// inExec is true inside a /*! executable comment */, whose closing */
	// is skipped as whitespace.
	inExec bool
}

// NewLexer starts lexing src.
func NewLexer(src string) Lexer { return Lexer{src: src} }

// Pos is the offset of the next unread byte.
func (l *Lexer) Pos() int { return l.pos }

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipSpace skips blanks and comments; optimizer hints /*+ ... */ are
// comments too, and /*!NNNNN ... */ opens an executable comment.
func (l *Lexer) skipSpace() {
	s := l.src
	for l.pos < len(s) {
		c := s[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.pos++
		case c == '#':
			l.skipLine()
		case c == '-' && l.pos+2 < len(s) && s[l.pos+1] == '-' && (s[l.pos+2] == ' ' || s[l.pos+2] == '\t' || s[l.pos+2] == '\n' || s[l.pos+2] == '\r'):
			l.skipLine()
		case c == '-' && l.pos+2 == len(s) && s[l.pos+1] == '-':
			l.pos = len(s)
		case c == '/' && l.pos+1 < len(s) && s[l.pos+1] == '*':
			if l.pos+2 < len(s) && s[l.pos+2] == '!' {
				// Executable comment: its body is SQL (MariaDB also has /*M!).
				l.pos += 3
				l.pos += versionDigits(s[l.pos:])
				l.inExec = true
				continue
			}
			if l.pos+2 < len(s) && s[l.pos+2] == 'M' && l.pos+3 < len(s) && s[l.pos+3] == '!' {
				l.pos += 4
				l.pos += versionDigits(s[l.pos:])
				l.inExec = true
				continue
			}
			end := indexFrom(s, "*/", l.pos+2)
			if end < 0 {
				l.pos = len(s)
			} else {
				l.pos = end + 2
			}
		case c == '*' && l.inExec && l.pos+1 < len(s) && s[l.pos+1] == '/':
			l.inExec = false
			l.pos += 2
		default:
			return
		}
	}
}

func (l *Lexer) skipLine() {
	for l.pos < len(l.src) && l.src[l.pos] != '\n' {
		l.pos++
	}
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i] == sub[0] && s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// skipQuoted skips a quoted run that starts at l.pos with quote q.
// Backslash escapes apply to strings, not to identifiers.
func (l *Lexer) skipQuoted(q byte, escapes bool) {
	s := l.src
	l.pos++
	for l.pos < len(s) {
		c := s[l.pos]
		switch {
		case c == '\\' && escapes:
			l.pos += 2
		case c == q:
			if l.pos+1 < len(s) && s[l.pos+1] == q {
				l.pos += 2 // doubled quote
				continue
			}
			l.pos++
			return
		default:
			l.pos++
		}
	}
	if l.pos > len(s) {
		l.pos = len(s)
	}
}

// Next returns the next token.
func (l *Lexer) Next() Token {
	l.skipSpace()
	s := l.src
	start := l.pos
	if l.pos >= len(s) {
		return Token{TokEOF, start, start}
	}
	c := s[l.pos]
	switch {
	case c == '\'' || c == '"':
		l.skipQuoted(c, true)
		return Token{TokString, start, l.pos}
	case c == '`':
		l.skipQuoted('`', false)
		return Token{TokQuotedIdent, start, l.pos}
	case (c == 'x' || c == 'X' || c == 'b' || c == 'B') && l.pos+1 < len(s) && s[l.pos+1] == '\'':
		l.pos++
		l.skipQuoted('\'', false)
		return Token{TokNumber, start, l.pos}
	case c == '_' && l.charsetIntroducer():
		// _utf8mb4'abc': the introducer belongs to the literal.
		return Token{TokString, start, l.pos}
	case c == 'N' || c == 'n':
		if l.pos+1 < len(s) && s[l.pos+1] == '\'' {
			l.pos++
			l.skipQuoted('\'', true)
			return Token{TokString, start, l.pos}
		}
		return l.word(start)
	case isDigit(c) || (c == '.' && l.pos+1 < len(s) && isDigit(s[l.pos+1])):
		return l.number(start)
	case isIdentByte(c):
		return l.word(start)
	case c == '@':
		l.pos++
		if l.pos < len(s) && s[l.pos] == '@' {
			l.pos++
			for l.pos < len(s) && (isIdentByte(s[l.pos]) || s[l.pos] == '.') {
				l.pos++
			}
			if l.pos < len(s) && s[l.pos] == '`' {
				l.skipQuoted('`', false)
			}
			return Token{TokSysVar, start, l.pos}
		}
		if l.pos < len(s) && (s[l.pos] == '\'' || s[l.pos] == '"' || s[l.pos] == '`') {
			l.skipQuoted(s[l.pos], s[l.pos] != '`')
		} else {
			for l.pos < len(s) && (isIdentByte(s[l.pos]) || s[l.pos] == '.') {
				l.pos++
			}
		}
		return Token{TokUserVar, start, l.pos}
	case c == '?':
		l.pos++
		return Token{TokParam, start, l.pos}
	case c == ';':
		l.pos++
		return Token{TokSemicolon, start, l.pos}
	}
	// Operators: keep the common two-character ones together.
	l.pos++
	if l.pos < len(s) {
		switch s[start : l.pos+1] {
		case ":=", "<=", ">=", "<>", "!=", "||", "&&", "<<", ">>", "->":
			l.pos++
			if s[start:l.pos] == "<=" && l.pos < len(s) && s[l.pos] == '>' {
				l.pos++
			}
		}
	}
	return Token{TokOp, start, l.pos}
}

// charsetIntroducer consumes _charset'literal' and reports whether it did.
func (l *Lexer) charsetIntroducer() bool {
	s := l.src
	i := l.pos + 1
	for i < len(s) && isIdentByte(s[i]) {
		i++
	}
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if i == l.pos+1 || j >= len(s) || (s[j] != '\'' && s[j] != '"' && !(s[j] == 'x' || s[j] == 'X') && !(s[j] == 'b' || s[j] == 'B')) {
		return false
	}
	if s[j] != '\'' && s[j] != '"' {
		if j+1 >= len(s) || s[j+1] != '\'' {
			return false
		}
		j++
	}
	l.pos = j
	l.skipQuoted(s[j], true)
	return true
}

func (l *Lexer) word(start int) Token {
	s := l.src
	for l.pos < len(s) && isIdentByte(s[l.pos]) {
		l.pos++
	}
	return Token{TokIdent, start, l.pos}
}

func (l *Lexer) number(start int) Token {
	s := l.src
	if s[l.pos] == '0' && l.pos+1 < len(s) && (s[l.pos+1] == 'x' || s[l.pos+1] == 'b') {
		l.pos += 2
		for l.pos < len(s) && isIdentByte(s[l.pos]) {
			l.pos++
		}
		return Token{TokNumber, start, l.pos}
	}
	for l.pos < len(s) && (isDigit(s[l.pos]) || s[l.pos] == '.') {
		l.pos++
	}
	if l.pos < len(s) && (s[l.pos] == 'e' || s[l.pos] == 'E') {
		j := l.pos + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			l.pos = j
			for l.pos < len(s) && isDigit(s[l.pos]) {
				l.pos++
			}
		}
	}
	// 1abc is an identifier in MySQL.
	if l.pos < len(s) && isIdentByte(s[l.pos]) {
		return l.word(start)
	}
	return Token{TokNumber, start, l.pos}
}

// Text returns the token's source text.
func (l *Lexer) Text(t Token) string { return l.src[t.Start:t.End] }

// EqualFold compares an ASCII word with an upper-case keyword.
func EqualFold(word, upper string) bool {
	if len(word) != len(upper) {
		return false
	}
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}
