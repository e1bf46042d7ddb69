package parser

import "testing"

func TestMaskMultibyte(t *testing.T) {
	for _, c := range []struct {
		charset, sql, want string
		changed            bool
	}{
		// 乗 in gbk: 0x81 0x5C; the quote after it ends the string.
		{"gbk", "SELECT '\x81\x5c' FROM t", "SELECT '\x81\x80' FROM t", true},
		{"GBK", "SELECT `\x81\x60` FROM t", "SELECT `\x81\x80` FROM t", true},
		// ソ in sjis and cp932: 0x83 0x5C.
		{"sjis", "SELECT 'a\x83\x5c', \"\x83\x5c\"", "SELECT 'a\x83\x80', \"\x83\x80\"", true},
		{"cp932", "SELECT '\x83\x5c'", "SELECT '\x83\x80'", true},
		// 許 in big5: 0xB3 0x5C.
		{"big5", "SELECT '\xb3\x5c'", "SELECT '\xb3\x80'", true},
		// gb18030's four-byte characters: head, digit, head, digit.
		{"gb18030", "SELECT '\x81\x30\x81\x30\x81\x5c'", "SELECT '\x81\x80\x81\x80\x81\x80'", true},
		// Characters whose bytes are all past ASCII: nothing to change.
		{"gbk", "SELECT '\xd6\xd0' FROM t", "SELECT '\xd6\xd0' FROM t", false},
		// A first byte not followed by a second: one character, as the server reads it.
		{"gbk", "SELECT '\x81', 'a\\'b'", "SELECT '\x81', 'a\\'b'", false},
		{"gbk", "SELECT '\x81", "SELECT '\x81", false},
		// big5 and sjis start no character at 0x81 (big5) or 0xA1 (sjis).
		{"big5", "SELECT '\x81\x5c''", "SELECT '\x81\x5c''", false},
		{"sjis", "SELECT '\xa1\x5c''", "SELECT '\xa1\x5c''", false},
		// Character sets whose characters have no ASCII bytes.
		{"latin1", "SELECT '\x81\x5c''", "SELECT '\x81\x5c''", false},
		{"utf8mb4", "SELECT '\x81\x5c''", "SELECT '\x81\x5c''", false},
	} {
		got, changed := MaskMultibyte(c.sql, c.charset)
		if got != c.want || changed != c.changed {
			t.Errorf("MaskMultibyte(%q, %s) = %q, %v; want %q, %v", c.sql, c.charset, got, changed, c.want, c.changed)
		}
	}
}

// The masked text's tokens are the server's: the string ends where it ends.
func TestMaskMultibyteTokens(t *testing.T) {
	sql := "SELECT id FROM t WHERE a = '\x81\x5c' OR id = 3 -- '"
	masked, _ := MaskMultibyte(sql, "gbk")
	l := NewLexer(masked)
	var strs []string
	for tok := l.Next(); tok.Kind != TokEOF; tok = l.Next() {
		if tok.Kind == TokString {
			strs = append(strs, sql[tok.Start:tok.End])
		}
	}
	if len(strs) != 1 || strs[0] != "'\x81\x5c'" {
		t.Errorf("strings read: %q; want the one literal '\\x81\\x5c'", strs)
	}
	if !ASCIITails("Big5") || ASCIITails("ujis") {
		t.Error("ASCIITails: big5 has ASCII second bytes, ujis has none")
	}
}

// The mask keeps the length and changes only ASCII bytes to 0x80;
// mayIntroduce sees every introduced string; joinStrings never panics.
func FuzzMaskMultibyte(f *testing.F) {
	for _, s := range []string{"SELECT '\x81\x5c'", "SELECT _latin1'x' \"y\" 'z'", "SELECT N'a\\' 'b", "\x81\x30\x81"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		for _, cs := range []string{"gbk", "gb18030", "big5", "sjis"} {
			m, _ := MaskMultibyte(sql, cs)
			if len(m) != len(sql) {
				t.Fatalf("%s: length %d, want %d", cs, len(m), len(sql))
			}
			for i := range sql {
				if m[i] != sql[i] && (sql[i] >= 0x80 || m[i] != 0x80) {
					t.Fatalf("%s: byte %d changed from %#x to %#x", cs, i, sql[i], m[i])
				}
			}
		}
		// mayIntroduce misses no string with an introducer.
		if !mayIntroduce(sql) {
			l := NewLexer(sql)
			for tok := l.Next(); tok.Kind != TokEOF; tok = l.Next() {
				if c := l.Text(tok)[0]; tok.Kind == TokString && (c == '_' || c == 'N' || c == 'n') {
					t.Fatalf("mayIntroduce(%q) = false, but %q is there", sql, l.Text(tok))
				}
			}
		}
		for _, mode := range []Mode{0, ModeANSIQuotes, ModeNoBackslashEscapes} {
			if out, ok := joinStrings(sql, mode); !ok && out != sql {
				t.Fatalf("joinStrings changed %q without saying so", sql)
			}
		}
	})
}
