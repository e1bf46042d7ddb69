package router

import (
	"testing"

	"github.com/shardgate/shardgate/parser"
)

// FuzzPlan plans whatever parses, starting from the router cases: the
// router must answer each statement with a plan or an error, never panic
// (a panic is the client's 1105 and a lost answer). Plain `go test` runs
// the cases; `go test -fuzz FuzzPlan -fuzztime 5m` mutates them.
func FuzzPlan(f *testing.F) {
	for _, c := range readCases(f) {
		f.Add(c.sql)
	}
	f.Add("SELECT * FROM users FOR SYSTEM_TIME ALL WHERE `shop`.users.id = 1")
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := parser.Parse(sql)
		if err != nil {
			// What the parser cannot read may go whole to one node.
			_, _, _ = OneNodeText(sql, testEnv(t), true)
			return
		}
		for _, stmt := range stmts {
			if p, err := Build(stmt, testEnv(t)); err == nil {
				_ = p.Explain()
			}
		}
		// The prepare path prints the statement for one shard.
		if stmts, err = parser.Parse(sql); err == nil {
			for _, stmt := range stmts {
				_, _, _, _ = PrepareSQL(stmt, testEnv(t))
			}
		}
	})
}
