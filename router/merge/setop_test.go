package merge

import "testing"

// TestSetOp: INTERSECT and EXCEPT, DISTINCT and ALL, over rows sorted on
// the value (by its weight: 'a' and 'A' are equal) then on the part, the
// right part's first, as the merge delivers them. The rows let through
// are the left part's.
func TestSetOp(t *testing.T) {
	fields := []Field{fStr("v"), fBin("w"), fInt("part")}
	// left: NULL a A a b c; right: NULL a a c c d
	rows := [][]any{
		{nil, nil, 1}, {nil, nil, 0}, // NULLs are equal in set operations
		{"a", "A", 1}, {"a", "A", 1}, {"a", "A", 0}, {"A", "A", 0}, {"a", "A", 0},
		{"b", "B", 0},
		{"c", "C", 1}, {"c", "C", 1}, {"c", "C", 0},
		{"d", "D", 1},
	}
	for _, tc := range []struct {
		except, all bool
		want        []string
	}{
		{false, false, []string{"NULL|NULL|0", "a|A|0", "c|C|0"}},
		{false, true, []string{"NULL|NULL|0", "a|A|0", "A|A|0", "c|C|0"}},
		{true, false, []string{"b|B|0"}},
		{true, true, []string{"a|A|0", "b|B|0"}},
	} {
		for _, p := range protocols {
			in := fake(t, fields, p.bin, rows...)
			got := mustDrain(t, SetOp(in, []SortKey{{Col: 0, Weight: 1}}, 2, tc.except, tc.all))
			sameRows(t, got, tc.want)
		}
		// Nothing on either side.
		sameRows(t, mustDrain(t, SetOp(fake(t, fields, false), []SortKey{{Col: 0, Weight: 1}}, 2, tc.except, tc.all)), nil)
	}
}
