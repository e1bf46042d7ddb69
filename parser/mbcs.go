package parser

import "strings"

// Some client character sets have two-byte characters whose second byte
// is an ASCII byte: in big5, cp932, gbk, sjis and gb18030, 0x81 0x5C is
// one character, and a server reading the text in that character set
// does not see the backslash. The proxy's lexers read text byte by byte
// (as UTF-8 and the other character sets are read), so such a byte would
// end a string early, escape its quote or split a name: a statement read
// differently from the server. MaskMultibyte gives the proxy a text to
// read instead.

// mbcs is how a character set's two-byte (and gb18030's four-byte)
// characters start and go on.
type mbcs struct {
	head func(b byte) bool
	tail func(b byte) bool
	four bool // gb18030: head, 0x30-0x39, head, 0x30-0x39
}

func between(b, lo, hi byte) bool { return b >= lo && b <= hi }

var asciiTails = map[string]mbcs{
	"big5": {
		head: func(b byte) bool { return between(b, 0xA1, 0xF9) },
		tail: func(b byte) bool { return between(b, 0x40, 0x7E) || between(b, 0xA1, 0xFE) },
	},
	"cp932":   {head: sjisHead, tail: sjisTail},
	"sjis":    {head: sjisHead, tail: sjisTail},
	"gbk":     {head: gbkHead, tail: gbkTail},
	"gb18030": {head: gbkHead, tail: gbkTail, four: true},
}

func sjisHead(b byte) bool { return between(b, 0x81, 0x9F) || between(b, 0xE0, 0xFC) }
func sjisTail(b byte) bool { return between(b, 0x40, 0x7E) || between(b, 0x80, 0xFC) }
func gbkHead(b byte) bool  { return between(b, 0x81, 0xFE) }
func gbkTail(b byte) bool  { return between(b, 0x40, 0x7E) || between(b, 0x80, 0xFE) }

// ASCIITails reports whether text in charset (a character_set_client
// value) may hold characters with ASCII bytes after their first.
func ASCIITails(charset string) bool {
	_, ok := asciiTails[strings.ToLower(charset)]
	return ok
}

// MaskMultibyte returns sql with each ASCII byte inside a character of
// charset made 0x80, a byte the proxy's lexers read as part of a name or a
// string, as the server reads the whole character: the same length, the
// same tokens at the same offsets as the server sees. ok is false when
// no byte changed (the proxy reads sql as it is).
func MaskMultibyte(sql, charset string) (masked string, ok bool) {
	cs, known := asciiTails[strings.ToLower(charset)]
	if !known {
		return sql, false
	}
	var b []byte
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		if c < 0x80 || !cs.head(c) || i+1 >= len(sql) {
			continue
		}
		n := 0
		switch next := sql[i+1]; {
		case cs.four && between(next, 0x30, 0x39):
			if i+3 < len(sql) && cs.head(sql[i+2]) && between(sql[i+3], 0x30, 0x39) {
				n = 4
			}
		case cs.tail(next):
			n = 2
		}
		if n == 0 {
			continue // a lone first byte: one character, as the server reads it
		}
		for j := i + 1; j < i+n; j++ {
			if sql[j] < 0x80 {
				if b == nil {
					b = []byte(sql)
				}
				b[j] = 0x80
			}
		}
		i += n - 1
	}
	if b == nil {
		return sql, false
	}
	return string(b), true
}
