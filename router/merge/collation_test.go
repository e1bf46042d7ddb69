package merge

import "testing"

// The expectations are MariaDB 10.11's STRCMP (integration's
// TestMergeCollationAgreesWithServer checks many more pairs on a server).
func TestCollationCompare(t *testing.T) {
	for _, c := range []struct {
		coll, a, b string
		want       int
	}{
		{"utf8mb4_general_ci", "a", "A", 0},
		{"utf8mb4_general_ci", "José", "JOSE", 0},
		{"utf8mb4_general_ci", "a", "a  ", 0},      // PAD SPACE
		{"utf8mb4_general_ci", "a", "a\t", 1},      // a tab weighs less than the pad
		{"utf8mb4_general_ci", "a", "a\u00a0", -1}, // a no-break space more
		{"utf8mb4_general_ci", "a\ufffd", "a😀", 0}, // beyond the BMP: U+FFFD
		{"utf8mb4_general_ci", "a", "a😀", -1},
		{"utf8mb4_general_ci", "b", "Ä", 1},
		{"utf8mb4_general_ci", "aé", "aè", 0},                      // they differ inside a character
		{"utf8mb4_general_ci", "0123456789é1", "0123456789È2", -1}, // past eight equal bytes
		{"utf8mb4_general_ci", "0123456789", "0123456789", 0},
		{"utf8mb4_general_nopad_ci", "a", "A ", -1},
		{"utf8mb4_general_nopad_ci", "a", "A", 0},
		{"utf8mb4_bin", "a", "a ", 0},
		{"utf8mb4_bin", "a", "a\t", 1},
		{"utf8mb4_bin", "a", "A", 1},
		{"utf8mb4_nopad_bin", "a", "a ", -1},
		{"utf8mb3_general_ci", "é", "E", 0},
		{"utf8_bin", "é", "f", 1},
	} {
		coll := CollationNamed(c.coll)
		if coll == nil {
			t.Fatalf("%s: not implemented", c.coll)
		}
		if got := coll.Compare([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("%s: %q against %q: %d, want %d", c.coll, c.a, c.b, got, c.want)
		}
		if got := coll.Compare([]byte(c.b), []byte(c.a)); got != -c.want {
			t.Errorf("%s: %q against %q: %d, want %d", c.coll, c.b, c.a, got, -c.want)
		}
	}
	if CollationNamed("utf8mb4_unicode_ci") != nil || CollationNamed("latin1_swedish_ci") != nil {
		t.Error("a collation the merge does not implement is named")
	}
}
