package exec

import "testing"

func TestAppendLiteral(t *testing.T) {
	cases := []struct {
		v                              []byte
		null, numeric, binary, escapes bool
		want                           string
	}{
		{nil, true, false, false, true, "NULL"},
		{[]byte("-12.50"), false, true, false, true, "-12.50"},
		{[]byte{0, 0xff, 'a'}, false, false, true, true, "X'00FF61'"},
		{[]byte(`it's a \ back`), false, false, false, true, `'it''s a \\ back'`},
		{[]byte(`it's a \ back`), false, false, false, false, `'it''s a \ back'`},
		{[]byte("é\x00\n"), false, false, false, true, "'é\x00\n'"},
		{[]byte{}, false, false, false, true, "''"},
	}
	for _, c := range cases {
		if got := string(appendLiteral(nil, c.v, c.null, c.numeric, c.binary, c.escapes)); got != c.want {
			t.Errorf("appendLiteral(%q, escapes=%v) = %q, want %q", c.v, c.escapes, got, c.want)
		}
	}
}

func TestParseCounts(t *testing.T) {
	a, b, c, ok := parseCounts([]byte("Records: 7  Duplicates: 2  Warnings: 1"), "Records: ")
	if !ok || a != 7 || b != 2 || c != 1 {
		t.Fatalf("Records: got %d %d %d %v", a, b, c, ok)
	}
	if _, _, _, ok := parseCounts([]byte("Rows matched: 1  Changed: 1  Warnings: 0"), "Records: "); ok {
		t.Fatal("an UPDATE's info read as an INSERT's")
	}
	m, ch, w, ok := parseMatched([]byte("Rows matched: 3  Changed: 2  Warnings: 0"))
	if !ok || m != 3 || ch != 2 || w != 0 {
		t.Fatalf("Rows matched: got %d %d %d %v", m, ch, w, ok)
	}
}
