package parser

import "testing"

func TestHints(t *testing.T) {
	cases := []struct {
		sql  string
		want Hint
	}{
		{"SELECT 1", HintNone},
		{"/* shardgate:primary */ SELECT 1", HintPrimary},
		{"SELECT /*+ shardgate:primary */ 1", HintPrimary},
		{"select /* SHARDGATE:Replica */ * from t", HintReplica},
		{"/*#mycat:db_type=master*/ select * from t", HintPrimary},
		{"/*#mycat: db_type = slave */select * from t", HintReplica},
		{"/*#dble:db_type=master*/select 1", HintPrimary},
		{"/*master*/ select 1", HintPrimary},
		{"/*slave*/ select 1", HintReplica},
		{"/* a comment */ select 1", HintNone},
		{"select 1 /*master*/", HintNone},  // only before or after the first word
		{"select '/*master*/'", HintNone},  // a string, not a comment
		{"/*!40001 SELECT */ 1", HintNone}, // executable comment
		{"/* app:checkout */ /*master*/ SELECT 1", HintPrimary},
		{"/*master* SELECT 1", HintNone},
	}
	var s Summary
	for _, c := range cases {
		Scan(c.sql, &s)
		if s.Hint != c.want {
			t.Errorf("%q: hint %d, want %d", c.sql, s.Hint, c.want)
		}
	}
}
