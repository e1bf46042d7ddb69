package parser

// UnquoteIdent strips backquotes (or quotes) from an identifier.
func UnquoteIdent(s string) string { return unquoteIdent(s) }

// UnquoteString decodes a quoted SQL string literal ('...' or "...") with
// MySQL's backslash escapes and doubled quotes.
func UnquoteString(s string) string {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return s
	}
	q := s[0]
	in := s[1 : len(s)-1]
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '\\' && i+1 < len(in):
			i++
			switch in[i] {
			case 'n':
				out = append(out, '\n')
			case 't':
				out = append(out, '\t')
			case 'r':
				out = append(out, '\r')
			case '0':
				out = append(out, 0)
			case 'Z':
				out = append(out, 0x1a)
			case 'b':
				out = append(out, '\b')
			case '%', '_':
				// Kept escaped: they mean literal % and _ in LIKE.
				out = append(out, '\\', in[i])
			default:
				out = append(out, in[i])
			}
		case c == q && i+1 < len(in) && in[i+1] == q:
			out = append(out, q)
			i++
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// Like matches s against a SQL LIKE pattern (% any run, _ one character,
// backslash escapes), byte-wise and case-sensitively.
func Like(s, pattern string) bool {
	for len(pattern) > 0 {
		c := pattern[0]
		switch {
		case c == '%':
			for len(pattern) > 0 && pattern[0] == '%' {
				pattern = pattern[1:]
			}
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if Like(s[i:], pattern) {
					return true
				}
			}
			return false
		case c == '_':
			if s == "" {
				return false
			}
			s, pattern = s[1:], pattern[1:]
		default:
			if c == '\\' && len(pattern) > 1 {
				pattern = pattern[1:]
				c = pattern[0]
			}
			if s == "" || s[0] != c {
				return false
			}
			s, pattern = s[1:], pattern[1:]
		}
	}
	return s == ""
}
