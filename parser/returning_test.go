package parser

import "testing"

func TestCutReturning(t *testing.T) {
	for _, c := range []struct{ sql, stmt, list string }{
		{"INSERT INTO t (a) VALUES (1) RETURNING id, a", "INSERT INTO t (a) VALUES (1)", "id, a"},
		{"delete from t where a = 'RETURNING' returning *;", "delete from t where a = 'RETURNING'", "*"},
		{"INSERT INTO t (`returning`) VALUES ((SELECT 1 returning)) RETURNING CONCAT(a, 'x') AS c", "INSERT INTO t (`returning`) VALUES ((SELECT 1 returning))", "CONCAT(a, 'x') AS c"},
		{"INSERT INTO t VALUES (1)", "", ""},
		{"DELETE FROM t RETURNING", "", ""},
	} {
		stmt, list, ok := CutReturning(c.sql)
		if ok != (c.stmt != "") || stmt != c.stmt || list != c.list {
			t.Errorf("%q: %q %q %v", c.sql, stmt, list, ok)
		}
	}
}

func TestSplitStatements(t *testing.T) {
	got := SplitStatements("SET STATEMENT a = 1 FOR SELECT ';'; DELETE FROM t RETURNING id;\n SELECT 1 ;  ")
	want := []string{"SET STATEMENT a = 1 FOR SELECT ';'", " DELETE FROM t RETURNING id", "\n SELECT 1"}
	if len(got) != len(want) {
		t.Fatalf("%q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %q, want %q", i, got[i], want[i])
		}
	}
}
