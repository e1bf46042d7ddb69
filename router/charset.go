package router

import (
	"slices"
	"strings"
)

// latin1High is what MariaDB's latin1 (Windows-1252, with its five unused
// bytes kept as C1 controls) means by the bytes 0x80-0x9F; from 0xA0 up a
// byte is the code point of the same number.
var latin1High = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

// latin1ToUTF8 is latin1 text as UTF-8.
func latin1ToUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case c < 0xA0:
			b.WriteRune(latin1High[c-0x80])
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}

// ClientName is a name that came as UTF-8 (a column's, as the server
// sends it when character_set_results is binary; a key column's or an
// ENUM label from information_schema) in the character set the server
// reads the proxy's SQL in: the session's character_set_client (foreign:
// "" for UTF-8). An error when the name has no spelling there.
func ClientName(name, foreign string) (string, error) {
	switch cs := strings.ToLower(strings.Trim(foreign, "'\"`")); {
	case cs == "" || isASCII(name):
		return name, nil
	case cs == "latin1":
		if s, ok := utf8ToLatin1(name); ok {
			return s, nil
		}
	}
	return "", errUnsupported("a column name beyond ASCII (%q) in rows it reads first, with character_set_client %s", name, foreign)
}

// utf8ToLatin1 is UTF-8 text as latin1 (the inverse of latin1ToUTF8);
// false when a character has no latin1 byte.
func utf8ToLatin1(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x80 || r >= 0xA0 && r <= 0xFF:
			b = append(b, byte(r))
		default:
			i := slices.Index(latin1High[:], r)
			if i < 0 {
				return "", false
			}
			b = append(b, byte(0x80+i))
		}
	}
	return string(b), true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
