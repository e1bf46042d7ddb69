package shardrules

import (
	"errors"
	"strings"
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

// Every character's key folds to itself, under no option and under each
// collation alone (where every character has a key), and the tables are
// sorted (they are searched by halves).
func TestFoldTables(t *testing.T) {
	cmps := []comparison{rootCollations}
	for i := range foldCollations {
		cmps = append(cmps, firstCollation+comparison(i))
	}
	for _, cmp := range cmps {
		_, alone := cmp.alone()
		for r := rune(0); r <= utf8.MaxRune; r++ {
			if r >= 0xD800 && r <= 0xDFFF {
				continue
			}
			k, ok := appendFolded(nil, r, cmp)
			if !ok {
				if alone {
					t.Fatalf("%d: U+%04X has no key", cmp, r)
				}
				continue
			}
			k2, _, ok := appendTextKey(nil, string(k), cmp)
			if !ok || string(k2) != string(k) && !(len(k2) < len(k) && string(k2) == strings.TrimRight(string(k), " ")) {
				t.Fatalf("%d: U+%04X folds to %q, which folds to %q (%v)", cmp, r, k, k2, ok)
			}
		}
	}
	for i := 1; i < len(foldFrom); i++ {
		if foldFrom[i-1] >= foldFrom[i] {
			t.Fatalf("foldFrom is not ascending at %d", i)
		}
	}
	for c, os := range overrides {
		for i, o := range os {
			if o.first > o.last || i > 0 && os[i-1].last >= o.first {
				t.Fatalf("overrides[%d] is not ascending at %d", c, i)
			}
		}
	}
	for i, rg := range unfoldableRanges {
		if rg[0] > rg[1] || i > 0 && unfoldableRanges[i-1][1] >= rg[0] {
			t.Fatalf("unfoldableRanges is not ascending at %d", i)
		}
	}
}

// Under one collation alone every character has a key, as that collation
// has it: 'ß' is 's' to utf8mb4_general_ci and 'ss' to the others, a
// combining mark is a character to the first and ignored by the others.
func TestCollationAlone(t *testing.T) {
	for _, c := range []struct{ coll, in, want string }{
		{"utf8mb4_general_ci", "Straße", "strase"},
		{"utf8mb4_unicode_ci", "Straße", "strasse"},
		{"utf8mb4_uca1400_ai_ci", "Straße", "strasse"},
		{"utf8mb3_general_ci", "JOSÉ ", "jose"},
		{"utf8mb4_general_ci", "e\u0301", "e\u0301"},
		{"utf8mb4_unicode_ci", "e\u0301", "e"},
		{"utf8mb4_unicode_520_ci", "a\x00b", "ab"},
		{"utf8mb4_general_ci", "a\x00b", "a\x00b"},
		{"utf8mb4_unicode_520_ci", "Æsir", "aesir"},
		{"utf8mb4_general_ci", "😀", "\ufffd"},
		{"utf8mb4_unicode_ci", "0\x0042", "42"}, // '042' ignoring NUL: the number 42, as '042' is
	} {
		if got, err := TextKey(c.in, c.coll); got != c.want || err != nil {
			t.Errorf("%s key(%q) = %q, %v; want %q", c.coll, c.in, got, err, c.want)
		}
	}
	if _, err := TextKey("caf\xe9", "utf8mb4_general_ci"); !errors.As(err, new(*CollationError)) {
		t.Errorf("general key of latin1 bytes: %v, want a CollationError", err)
	}
	a := mustAlg(t, "hash", 4, map[string]any{"collation": "utf8mb4_unicode_ci"})
	if s1, s2 := mustShard(t, a, StringValue("Straße")), mustShard(t, a, StringValue("STRASSE")); s1 != s2 {
		t.Errorf("collation utf8mb4_unicode_ci: 'Straße' on shard %d, 'STRASSE' on %d", s1, s2)
	}
	if KeyComparison(a) != "utf8mb4_unicode_ci" || KeyComparison(mustAlg(t, "hash", 4, nil)) != "text" || KeyComparison(mustAlg(t, "mod", 4, nil)) != "" ||
		KeyComparison(mustAlg(t, "slot", 4, map[string]any{"collation": "binary"})) != "binary" {
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
	if _, err := NewAlgorithm("hash", 4, map[string]any{"collation": "utf8mb4_danish_ci"}); err == nil {
		t.Error("collation utf8mb4_danish_ci accepted")
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
