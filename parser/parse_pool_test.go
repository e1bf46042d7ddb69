package parser

import (
	"fmt"
	"sync"
	"testing"
)

// TestParseResultsOutliveTheParser: parsers are pooled, so a statement list
// handed out must stay as it was while later parses (here, on the same
// parser and on others at once) reuse the parser.
func TestParseResultsOutliveTheParser(t *testing.T) {
	restore := func(sql string) string {
		stmts, err := Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Restore(stmts)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first, err := Parse("SELECT a FROM t1 WHERE id = 1; SELECT b FROM t2")
	if err != nil {
		t.Fatal(err)
	}
	want := restore("SELECT a FROM t1 WHERE id = 1; SELECT b FROM t2")
	for i := range 50 {
		if _, err := Parse(fmt.Sprintf("UPDATE t%d SET c = %d WHERE id = %d", i, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := Restore(first); err != nil || got != want {
		t.Fatalf("after later parses the first result reads %q (%v), want %q", got, err, want)
	}

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				sql := fmt.Sprintf("SELECT c%d FROM t%d WHERE id BETWEEN %d AND %d ORDER BY c%d", g, g, i, i+9, g)
				stmts, err := Parse(sql)
				if err != nil {
					t.Error(err)
					return
				}
				Parse("DELETE FROM other WHERE x = 1") // reuse the parser meanwhile
				got, err := Restore(stmts)
				wantOne := fmt.Sprintf("SELECT `c%d` FROM `t%d` WHERE `id` BETWEEN %d AND %d ORDER BY `c%d`", g, g, i, i+9, g)
				if err != nil || got != wantOne {
					t.Errorf("got %q (%v), want %q", got, err, wantOne)
					return
				}
			}
		}()
	}
	wg.Wait()
}
