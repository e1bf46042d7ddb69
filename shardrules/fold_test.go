package shardrules

import (
	"errors"
	"testing"
	"unicode/utf8"
)

func TestTextKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"José", "jose"},
		{"JOSÉ", "jose"},
		{"Zoë  ", "zoe"},
		{"Ａｂｃ", "abc"},   // fullwidth forms
		{"a\u00A0", "a"}, // a trailing no-break space pads like a space
		{"Ø", "o"},       // as utf8mb4_general_ci has it; the UCA collations call it distinct, which is finer
		{"中文", "中文"},     // CJK unified ideographs are their own key
		{"😀", "\uFFFD"},  // utf8mb4_general_ci weighs every character beyond the BMP as U+FFFD
		{"😀😁", "\uFFFD\uFFFD"},
		{"４２", "42"},             // folds to a number: read as one
		{"a\tb", "a\tb"},         // tab is a character to every collation
		{"İstanbul", "istanbul"}, // dotted capital I
	} {
		got, err := (keyText{}).key(StringValue(c.in))
		if got != c.want || err != nil {
			t.Errorf("key(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		char rune
	}{
		{"Straße", 'ß'},             // 's' to utf8mb4_general_ci, 'ss' to utf8mb4_unicode_ci
		{"Æsir", 'Æ'},               // an expansion to some collations only
		{"a\x00b", 0},               // ignored by the UCA collations only
		{"e\u0301", 0x301},          // a combining mark: ignored by the UCA collations only
		{"caf\xe9", utf8.RuneError}, // latin1 bytes: not UTF-8
	} {
		_, err := (keyText{alg: "hash"}).key(StringValue(c.in))
		var ce *CollationError
		if !errors.As(err, &ce) || ce.Char != c.char {
			t.Errorf("key(%q): %v, want a CollationError for U+%04X", c.in, err, c.char)
		}
	}
	// A binary column keeps its bytes.
	for in, want := range map[string]string{"Straße ": "straße", "a\x00B": "a\x00b", "caf\xe9": "caf\xe9", "42": "42"} {
		if got, err := (keyText{cmp: bytewise}).key(StringValue(in)); got != want || err != nil {
			t.Errorf("binary key(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// Every character folds to a key character that folds to itself, under
// either table, and the tables are sorted (they are searched by halves).
func TestFoldTables(t *testing.T) {
	for _, cmp := range []comparison{rootCollations, generalCI} {
		for r := rune(0); r <= utf8.MaxRune; r++ {
			if r >= 0xD800 && r <= 0xDFFF {
				continue
			}
			k, ok := foldRune(r, cmp)
			if !ok {
				if cmp == generalCI {
					t.Fatalf("U+%04X does not fold under utf8mb4_general_ci", r)
				}
				continue
			}
			if k2, ok := foldRune(k, cmp); !ok || k2 != k {
				t.Fatalf("%d: U+%04X folds to U+%04X, which folds to U+%04X (%v)", cmp, r, k, k2, ok)
			}
		}
	}
	for _, from := range [][]uint16{foldFrom[:], generalFrom[:]} {
		for i := 1; i < len(from); i++ {
			if from[i-1] >= from[i] {
				t.Fatalf("a fold table is not ascending at %d", i)
			}
		}
	}
	for i, rg := range unfoldableRanges {
		if rg[0] > rg[1] || i > 0 && unfoldableRanges[i-1][1] >= rg[0] {
			t.Fatalf("unfoldableRanges is not ascending at %d", i)
		}
	}
}

// Under utf8mb4_general_ci alone every character folds, as that collation
// has it: 'ß' is 's', a combining mark is a character.
func TestGeneralKey(t *testing.T) {
	for in, want := range map[string]string{"Straße": "strase", "æsir": "Æsir", "JOSÉ ": "jose", "e\u0301": "e\u0301", "a\x00b": "a\x00b", "😀": "\ufffd"} {
		if got, err := TextKey(in, true); got != want || err != nil {
			t.Errorf("general key(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := TextKey("caf\xe9", true); !errors.As(err, new(*CollationError)) {
		t.Errorf("general key of latin1 bytes: %v, want a CollationError", err)
	}
	a := mustAlg(t, "hash", 4, map[string]any{"collation": "utf8mb4_general_ci"})
	if s1, s2 := mustShard(t, a, StringValue("Straße")), mustShard(t, a, StringValue("STRASE")); s1 != s2 {
		t.Errorf("collation utf8mb4_general_ci: 'Straße' on shard %d, 'STRASE' on %d", s1, s2)
	}
	if KeyComparison(a) != "utf8mb4_general_ci" || KeyComparison(mustAlg(t, "hash", 4, nil)) != "text" || KeyComparison(mustAlg(t, "mod", 4, nil)) != "" {
		t.Error("KeyComparison is wrong")
	}
}

func TestCollationOption(t *testing.T) {
	for _, alg := range []string{"hash", "jump_hash", "consistent_hash", "slot"} {
		text := mustAlg(t, alg, 4, nil)
		if _, err := text.Shard(StringValue("Straße")); !errors.As(err, new(*CollationError)) {
			t.Errorf("%s: Shard('Straße') = %v, want a CollationError", alg, err)
		}
		bin := mustAlg(t, alg, 4, map[string]any{"collation": "binary"})
		if _, err := bin.Shard(StringValue("Straße")); err != nil {
			t.Errorf("%s, collation binary: Shard('Straße'): %v", alg, err)
		}
		a, b := mustShard(t, text, StringValue("José")), mustShard(t, text, StringValue("jose"))
		if a != b {
			t.Errorf("%s: 'José' on shard %d, 'jose' on %d", alg, a, b)
		}
	}
	if _, err := NewAlgorithm("hash", 4, map[string]any{"collation": "utf8mb4_unicode_ci"}); err == nil {
		t.Error("collation utf8mb4_unicode_ci accepted")
	}
	enum := mustAlg(t, "enum", 2, map[string]any{"map": map[string]any{"Zoë": 1, "ana": 0}})
	if s := mustShard(t, enum, StringValue("ZOE")); s != 1 {
		t.Errorf("enum: 'ZOE' on shard %d, want 1", s)
	}
	if _, err := NewAlgorithm("enum", 2, map[string]any{"map": map[string]any{"Straße": 1}}); err == nil {
		t.Error("enum: a map key with no key text accepted")
	}
	prefix := mustAlg(t, "string_prefix", 4, map[string]any{"length": 2})
	if a, b := mustShard(t, prefix, StringValue("Émile")), mustShard(t, prefix, StringValue("emma")); a != b {
		t.Errorf("string_prefix: 'Émile' on shard %d, 'emma' on %d", a, b)
	}
}

func BenchmarkTextKey(b *testing.B) {
	k := keyText{}
	var buf [64]byte
	for _, in := range []string{"acc-0010", "José Álvarez"} {
		b.Run(in, func(b *testing.B) {
			v := StringValue(in)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := k.append(buf[:0], v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
