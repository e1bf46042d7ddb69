package parser

import "testing"

func TestTemplate(t *testing.T) {
	for _, c := range []struct {
		sql, key string
		lits     []string
		ok       bool
	}{
		{"SELECT c FROM t WHERE id = 12", "SELECT c FROM t WHERE id = ?", []string{"12"}, true},
		{"select  *  from t where a='x''y' and b = -1.5e3 /* 7 */", "select  *  from t where a=? and b = -? /* 7 */", []string{"'x''y'", "1.5e3"}, true},
		{`SELECT "dq", X'0A', 0x1F FROM t`, `SELECT "dq", ?, ? FROM t`, []string{"X'0A'", "0x1F"}, true},
		{"SELECT ? FROM t", "", nil, false},
		{"SELECT `a1` FROM t2 LIMIT 10", "SELECT `a1` FROM t2 LIMIT ?", []string{"10"}, true},
	} {
		key, lits, ok := Template(c.sql, nil, nil)
		if ok != c.ok {
			t.Errorf("%s: ok %v", c.sql, ok)
			continue
		}
		if !ok {
			continue
		}
		if string(key) != c.key || len(lits) != len(c.lits) {
			t.Errorf("%s:\n got %q %v\nwant %q %v", c.sql, key, lits, c.key, c.lits)
			continue
		}
		for i, l := range lits {
			if c.sql[l.Start:l.End] != c.lits[i] {
				t.Errorf("%s: literal %d is %q, want %q", c.sql, i, c.sql[l.Start:l.End], c.lits[i])
			}
		}
	}
}

func BenchmarkTemplate(b *testing.B) {
	var key []byte
	var lits []Literal
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		key, lits, _ = Template("SELECT c FROM sbtest1 WHERE id=12345", key, lits)
	}
}
