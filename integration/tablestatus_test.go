//go:build integration

package integration

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestTableStatus: SHOW TABLE STATUS of a sharded table describes the
// logical table, its shards added up: before, it showed the first shard's
// rows and sizes (a quarter of the table here).
func TestTableStatus(t *testing.T) {
	p := StartProxy(t, copyConfig())
	var values []string
	for i := 1; i <= 60; i++ {
		values = append(values, fmt.Sprintf("(%d, REPEAT('x', %d))", i, i%30))
	}
	proxy, oracle := copySchema(t, p, "cp_status", "DROP TABLE IF EXISTS small",
		"CREATE TABLE small (id INT PRIMARY KEY, v VARCHAR(30))",
		"INSERT INTO small VALUES "+strings.Join(values, ", "),
		"ANALYZE TABLE small") // (InnoDB's row estimate is exact for a table this small after it)
	status := func(db *sql.DB) map[string]string {
		res := runQuery(db, "SHOW TABLE STATUS LIKE 'small'")
		if res.Err != nil || len(res.Rows) != 1 {
			t.Fatalf("SHOW TABLE STATUS: %d rows, %v", len(res.Rows), res.Err)
		}
		out := map[string]string{}
		for i, c := range res.Cols {
			out[c] = res.Rows[0][i]
		}
		return out
	}
	got, want := status(proxy), status(oracle)
	for _, c := range []string{"Name", "Rows", "Engine", "Collation", "Checksum"} {
		if got[c] != want[c] {
			t.Errorf("%s: %q, oracle %q", c, got[c], want[c])
		}
	}
	rowsN, _ := strconv.Atoi(got["Rows"])
	data, _ := strconv.Atoi(got["Data_length"])
	avg, _ := strconv.Atoi(got["Avg_row_length"])
	// Four shards hold at least a 16 KiB page each.
	if data < 4*16384 || rowsN == 0 || avg != data/rowsN {
		t.Errorf("Rows %d, Data_length %d, Avg_row_length %d: want four shards' pages and their average", rowsN, data, avg)
	}
}
