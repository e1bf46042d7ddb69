package parser

// Fingerprints group statements that differ only in their values, for SQL
// statistics and the SQL firewall: literals become ?, a parenthesized list
// of literals becomes (?+) (and so do the rows of a multi-row VALUES),
// comments go, words are lower-cased and spacing is normalized:
//
//	SELECT * FROM `Orders` WHERE id IN (1, 2, 3) /* x */  ->  select * from orders where id in(?+)
//
// FingerprintHash walks the same tokens and hashes the same bytes without
// building the text, so the per-statement cost is one lexer pass and no
// allocation; the text is made only when a new fingerprint is first seen.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Fingerprint returns the fingerprint text of sql.
func Fingerprint(sql string) string {
	f := fingerprinter{text: make([]byte, 0, len(sql)), keep: true, h: fnvOffset}
	f.run(sql)
	return string(f.text)
}

// FingerprintHash returns the hash of Fingerprint(sql) (HashFingerprint of
// it) without allocating.
func FingerprintHash(sql string) uint64 {
	f := fingerprinter{h: fnvOffset}
	f.run(sql)
	return f.h
}

// HashFingerprint hashes a fingerprint text as FingerprintHash does.
func HashFingerprint(fp string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(fp); i++ {
		h ^= uint64(fp[i])
		h *= fnvPrime
	}
	return h
}

type fingerprinter struct {
	text []byte
	keep bool // build text (else only hash)
	h    uint64
	// last is what was emitted last, for spacing and signs.
	last byte // 0 start, 'w' word/operand, '(' , ')', ',', '.', 'o' operator, ';'
	// list: the last word was IN, VALUES or VALUE: a group of one literal
	// is a list too.
	list bool
}

// out emits bytes (lower-casing ASCII letters when lower).
func (f *fingerprinter) out(s string, lower bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if lower && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		f.h ^= uint64(c)
		f.h *= fnvPrime
	}
	if f.keep {
		start := len(f.text)
		f.text = append(f.text, s...)
		if lower {
			for i := start; i < len(f.text); i++ {
				if c := f.text[i]; c >= 'A' && c <= 'Z' {
					f.text[i] = c + 'a' - 'A'
				}
			}
		}
	}
}

// token emits one token of class cls ('w', '(', ')', ',', '.', 'o', ';')
// with the spacing rules: no space after ( and ., none before ) , . and
// before ( after a word (f(x), in(?+)).
func (f *fingerprinter) token(s string, cls byte, lower bool) {
	space := f.last != 0 && f.last != '(' && f.last != '.'
	switch cls {
	case ')', ',', '.', ';':
		space = false
	case '(':
		if f.last == 'w' {
			space = false
		}
	}
	if space {
		f.out(" ", false)
	}
	f.out(s, lower)
	f.last = cls
}

func (f *fingerprinter) run(sql string) {
	l := NewLexer(sql)
	for {
		t := l.Next()
		switch t.Kind {
		case TokEOF:
			return
		case TokIdent, TokUserVar, TokSysVar:
			w := l.Text(t)
			f.token(w, 'w', true)
			f.list = t.Kind == TokIdent && (EqualFold(w, "IN") || EqualFold(w, "VALUES") || EqualFold(w, "VALUE"))
			continue
		case TokQuotedIdent:
			txt := l.Text(t)
			if len(txt) >= 2 {
				txt = txt[1 : len(txt)-1]
			}
			f.token(txt, 'w', true)
		case TokString, TokNumber, TokParam:
			f.token("?", 'w', false)
		case TokSemicolon:
			f.token(";", ';', false)
		case TokOp:
			txt := l.Text(t)
			switch {
			case txt == "(":
				if literalGroup(&l, f.list) {
					f.token("(?+)", '(', false)
					f.last = 'w'
					// More rows of a multi-row VALUES: (?+), (?+) -> (?+)
					for {
						save := l
						if c := l.Next(); c.Kind != TokOp || l.Text(c) != "," {
							l = save
							break
						}
						if o := l.Next(); o.Kind != TokOp || l.Text(o) != "(" || !literalGroup(&l, true) {
							l = save
							break
						}
					}
					continue
				}
				f.token("(", '(', false)
			case txt == ")":
				f.token(")", ')', false)
			case txt == ",":
				f.token(",", ',', false)
			case txt == ".":
				f.token(".", '.', false)
			case (txt == "-" || txt == "+") && f.last != 'w' && f.last != ')' && nextIsNumber(&l):
				// A sign belongs to its literal: id = -1 is id = ?.
			default:
				f.token(txt, 'o', false)
			}
		}
		f.list = false
	}
}

// literalGroup reports whether the tokens after an opening parenthesis are
// literals (or ?, or ?+ of a fingerprint) separated by commas up to the
// closing one, two at least unless list (after IN or VALUES, where one
// literal is a list too); if so it consumes them, else it leaves l where
// it was.
func literalGroup(l *Lexer, list bool) bool {
	save := *l
	n := 0
	for {
		t := l.Next()
		if t.Kind == TokOp && (l.Text(t) == "-" || l.Text(t) == "+") {
			t = l.Next()
			if t.Kind != TokNumber {
				*l = save
				return false
			}
		}
		switch t.Kind {
		case TokString, TokNumber, TokParam:
		default:
			*l = save
			return false
		}
		n++
		if t.Kind == TokParam {
			// "?+" as written by Fingerprint itself.
			s := *l
			if p := l.Next(); p.Kind != TokOp || l.Text(p) != "+" {
				*l = s
			} else {
				n++
			}
		}
		t = l.Next()
		if t.Kind == TokOp && l.Text(t) == ")" {
			if n < 2 && !list {
				*l = save
				return false
			}
			return true
		}
		if t.Kind != TokOp || l.Text(t) != "," {
			*l = save
			return false
		}
	}
}

func nextIsNumber(l *Lexer) bool {
	save := *l
	t := save.Next()
	return t.Kind == TokNumber
}
