package merge

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// testdata/mariadb_double_format.tsv pins AppendDouble against MariaDB
// 10.11.19: each line is a double (Go/C hex float) and what
// `mariadb -N -e "SELECT <literal>e0"` printed for it. 3,000 values: random
// digit strings times 10^-40..10^40, random bit patterns, random
// magnitudes 10^-20..10^20, both signs.
func TestAppendDoubleMariaDBCorpus(t *testing.T) {
	f, err := os.Open("testdata/mariadb_double_format.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		x, err := strconv.ParseFloat(p[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(AppendDouble(nil, x)); got != p[1] {
			t.Errorf("AppendDouble(%v) = %s, MariaDB %s", x, got, p[1])
		}
		n++
	}
	if n < 1000 {
		t.Fatalf("only %d values", n)
	}
}

// testdata/mariadb_avg.tsv pins AVG and SUM merging against MariaDB
// 10.11.19 over CREATE TABLE r (id INT, g INT, d DECIMAL(12,3), i INT)
// with 3,000 random rows (5% NULLs), "sharded" by id%3. The first part is
// the shards' partials:
//
//	SELECT g, id%3, SUM(d), COUNT(d), SUM(i), COUNT(i) FROM r GROUP BY g, id%3 ORDER BY g, id%3
//
// and after the line FULL the answer of one server:
//
//	SELECT g, AVG(d), AVG(i), SUM(d), SUM(i) FROM r GROUP BY g ORDER BY g
//
// (AVG(d) is DECIMAL with 7 decimals, AVG(i) with 4).
func TestAggregateAvgMariaDBCorpus(t *testing.T) {
	data, err := os.ReadFile("testdata/mariadb_avg.tsv")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(string(data), "FULL\n", 2)
	fields := []Field{fInt("g"), fDec("AVG(d)", 7), fDec("AVG(i)", 4), fDec("SUM(d)", 3), fDec("SUM(i)", 0),
		fDec("SUM(d)", 3), fBigint("COUNT(d)"), fDec("SUM(i)", 0), fBigint("COUNT(i)")}
	funcs := []AggFunc{
		{Kind: AggAvg, Col: 1, Weight: -1, SumCol: 5, CountCol: 6},
		{Kind: AggAvg, Col: 2, Weight: -1, SumCol: 7, CountCol: 8},
		{Kind: AggSum, Col: 3, Weight: -1},
		{Kind: AggSum, Col: 4, Weight: -1},
	}
	nullable := func(s string) any {
		if s == "NULL" {
			return nil
		}
		return s
	}
	for _, p := range protocols {
		shards := make([][][]any, 3)
		for _, line := range strings.Split(strings.TrimSpace(parts[0]), "\n") {
			c := strings.Split(line, "\t")
			sh, _ := strconv.Atoi(c[1])
			shards[sh] = append(shards[sh], []any{c[0], nil, nil, nullable(c[2]), nullable(c[4]),
				nullable(c[2]), c[3], nullable(c[4]), c[5]})
		}
		var ins []Stream
		for _, s := range shards {
			ins = append(ins, fake(t, fields, p.bin, s...))
		}
		keys := []SortKey{asc(0)}
		got := mustDrain(t, Project(Aggregate(MergeSort(ins, keys), keys, funcs), 5))
		want := strings.Split(strings.ReplaceAll(strings.TrimSpace(parts[1]), "\t", "|"), "\n")
		if len(want) < 100 {
			t.Fatalf("only %d groups", len(want))
		}
		sameRows(t, got, want)
	}
}
