package parser

import "strings"

// DefaultVersionID is the server version assumed before the backends
// tell theirs: MariaDB 10.11.0.
const DefaultVersionID = 101100

// HasExecutableComment reports whether sql may hold an executable
// comment (/*! or /*M!): cheap, for every statement.
func HasExecutableComment(sql string) bool {
	for i := strings.Index(sql, "/*"); i >= 0; {
		rest := sql[i+2:]
		if strings.HasPrefix(rest, "!") || strings.HasPrefix(rest, "M!") {
			return true
		}
		j := strings.Index(rest, "/*")
		if j < 0 {
			return false
		}
		i += 2 + j
	}
	return false
}

// ExpandComments resolves MariaDB's executable comments as a server of
// the given version (major*10000 + minor*100 + patch) does:
//   - /*! text */ holds code every server runs;
//   - /*!NNNNN text */ code for servers from version NNNNN on, except
//     MySQL 5.7's and 8's numbers (50700 to 99999), which MariaDB never runs;
//   - /*M!NNNNNN text */ code for MariaDB from that version on.
//
// The TiDB parser runs every /*! comment and drops every /*M! one, so the
// proxy resolves them before it reads the statement; the text it then
// sends means the same to the server. The markers go (MariaDB names a
// column by the text without them), and so does a comment that does not
// run; a space stays where they kept two words apart. Quoted text and
// other comments are copied as they are (backslash: backslashes escape in
// strings, i.e. not NO_BACKSLASH_ESCAPES).
func ExpandComments(sql string, version int, backslash bool) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i, backslash && c != '`')
		case c == '#' || c == '-' && strings.HasPrefix(sql[i:], "-- "):
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(sql)
			}
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			rest, mariadb := sql[i+2:], false
			switch {
			case strings.HasPrefix(rest, "!"):
				rest = rest[1:]
			case strings.HasPrefix(rest, "M!"):
				rest, mariadb = rest[2:], true
			default:
				if end := strings.Index(rest, "*/"); end >= 0 {
					i += 2 + end + 2
				} else {
					i = len(sql) // unclosed: the parser reports it
				}
				continue
			}
			n := execCommentEnd(rest, backslash)
			if n < 0 {
				i = len(sql)
				continue
			}
			body, end := rest[:n], len(sql)-len(rest)+n
			digits := versionDigits(body)
			v := 0
			for _, d := range body[:digits] {
				v = v*10 + int(d-'0')
			}
			runs := digits == 0 || v <= version && (mariadb || v < 50700 || v > 99999)
			code := ""
			if runs {
				code = body[digits:]
			}
			b.WriteString(sql[last:i])
			before := sql[:i]
			if joins(before, code) {
				b.WriteByte(' ')
			}
			b.WriteString(code)
			if code != "" {
				before = code
			}
			if joins(before, sql[end+2:]) {
				b.WriteByte(' ')
			}
			i = end + 2
			last = i
		default:
			i++
		}
	}
	if last == 0 {
		return sql
	}
	b.WriteString(sql[last:])
	return b.String()
}

// versionDigits is the length of the version an executable comment's
// body starts with: MariaDB reads 5 or 6 digits as one, fewer as code
// (/*!1 OR 1 */ is "1 OR 1").
func versionDigits(body string) int {
	n := 0
	for n < len(body) && n < 6 && isDigit(body[n]) {
		n++
	}
	if n < 5 {
		return 0
	}
	return n
}

// joins reports whether a and b, put together, would make one word.
func joins(a, b string) bool {
	return a != "" && b != "" && isIdentByte(a[len(a)-1]) && isIdentByte(b[0])
}

// execCommentEnd finds the */ that closes an executable comment: its code
// may hold strings and comments of its own. -1: unclosed.
func execCommentEnd(body string, backslash bool) int {
	for j := 0; j < len(body); {
		switch c := body[j]; {
		case c == '\'' || c == '"' || c == '`':
			j = skipQuoted(body, j, backslash && c != '`')
		case strings.HasPrefix(body[j:], "*/"):
			return j
		case strings.HasPrefix(body[j:], "/*"):
			k := strings.Index(body[j+2:], "*/")
			if k < 0 {
				return -1
			}
			j += 2 + k + 2
		default:
			j++
		}
	}
	return -1
}

// skipQuoted returns the index just past the quoted text starting at i.
func skipQuoted(sql string, i int, backslash bool) int {
	q := sql[i]
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++ // a doubled quote stands for itself
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}
