package session

import (
	"testing"

	"github.com/shardgate/shardgate/parser"
)

// The memo gives each text the hash the statistics would compute: texts of
// one template whose literals differ in kind (a sign belongs to a number,
// not to a string) are different shapes.
func TestFingerprintMemo(t *testing.T) {
	var m fingerprintMemo
	var key []byte
	var lits []parser.Literal
	for _, sql := range []string{
		"SELECT c FROM sbtest1 WHERE id = -5",
		"SELECT c FROM sbtest1 WHERE id = -'5'",
		"SELECT c FROM sbtest1 WHERE id = -7",
		"SELECT c FROM sbtest1 WHERE id IN (1, 'a')",
		"SELECT c FROM sbtest1 WHERE id IN ('b', 2)",
		"SELECT c FROM sbtest1 WHERE id IN (3, 'c')",
		"select c from sbtest1 where id = -5",
	} {
		var ok bool
		if key, lits, ok = parser.Template(sql, key, lits); !ok {
			t.Fatalf("%s: no template", sql)
		}
		m.note(sql, key, lits)
		if got, want := m.of(sql), parser.FingerprintHash(sql); got != want {
			t.Errorf("%s: hash %x, want %x", sql, got, want)
		}
		if m.of(sql+" ") != 0 {
			t.Errorf("%s: another text has its hash", sql)
		}
	}
	if parser.FingerprintHash("SELECT c FROM sbtest1 WHERE id = -5") == parser.FingerprintHash("SELECT c FROM sbtest1 WHERE id = -'5'") {
		t.Error("the case above no longer tells shapes apart")
	}
	if len(m.byShape) != 5 { // (the lower-case text is a template of its own)
		t.Errorf("%d shapes, want 5", len(m.byShape))
	}
}
