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

	// information_schema.TABLES shows the same sums, where the client's
	// conditions and expressions see them (it showed the first shard's),
	// and in the columns' own types.
	for _, q := range []string{
		"SELECT TABLE_NAME, TABLE_ROWS, TABLE_ROWS * 2, CHECKSUM FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'small'",
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'sm%' AND TABLE_ROWS > 20",
		"SELECT COUNT(*) FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_ROWS = 60",
		"SELECT t.TABLE_NAME, t.TABLE_ROWS, c.COLUMN_NAME FROM information_schema.TABLES t JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = 'small' ORDER BY c.ORDINAL_POSITION",
		"SELECT c.COLUMN_NAME, t.TABLE_ROWS FROM information_schema.COLUMNS c LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME = 'small' ORDER BY 1",
	} {
		if g, w := runQuery(proxy, q), runQuery(oracle, q); fmt.Sprint(g.Rows, g.Err) != fmt.Sprint(w.Rows, w.Err) {
			t.Errorf("%s:\n proxy  %v %v\n oracle %v %v", q, g.Rows, g.Err, w.Rows, w.Err)
		}
	}
	// Answered over gathered rows (a GROUP BY), in a READ ONLY
	// transaction too.
	group := "SELECT table_schema = DATABASE(), SUM(table_rows), COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'small' GROUP BY table_schema"
	var answers []string
	for _, db := range []*sql.DB{proxy, oracle} {
		tx, err := db.BeginTx(t.Context(), &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		r := runQuery(tx, group)
		answers = append(answers, fmt.Sprint(r.Rows, r.Err))
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if answers[0] != answers[1] || !strings.HasPrefix(answers[1], "[[1 ") {
		t.Errorf("%s, READ ONLY:\n proxy  %s\n oracle %s", group, answers[0], answers[1])
	}
	// SHOW ... WHERE: the proxy's rows, filtered as one server filters
	// them (Name compares under its collation; Rows is a number).
	for _, q := range [][2]string{
		{"SHOW TABLE STATUS WHERE Name = 'SMALL' AND `Rows` > 20 AND Engine = 'InnoDB'", ""},
		{"SHOW TABLE STATUS WHERE Name = 'small' AND `Rows` < 20", ""},
		{"SHOW FULL TABLES WHERE Tables_in_cp = 'small' AND Table_type = 'BASE TABLE'", "SHOW FULL TABLES WHERE Tables_in_cp_status = 'small' AND Table_type = 'BASE TABLE'"},
		{"SHOW TABLE STATUS WHERE nosuch = 1", ""},
	} {
		want := q[1]
		if want == "" {
			want = q[0]
		}
		g, w := runQuery(proxy, q[0]), runQuery(oracle, want)
		if len(w.Rows) > 0 && len(g.Rows) > 0 {
			g.Rows[0], w.Rows[0] = g.Rows[0][:2], w.Rows[0][:2] // (name and engine or type; sizes differ)
		}
		if fmt.Sprint(g.Rows, ErrCode(g.Err)) != fmt.Sprint(w.Rows, ErrCode(w.Err)) {
			t.Errorf("%s:\n proxy  %v %v\n oracle %v %v", q[0], g.Rows, g.Err, w.Rows, w.Err)
		}
	}
	if r := runQuery(proxy, "SHOW DATABASES WHERE `Database` = 'CP' OR `Database` LIKE 'nosuch%'"); fmt.Sprint(r.Rows, r.Err) != "[[cp]] <nil>" {
		t.Errorf("SHOW DATABASES WHERE: %v %v, want the schema cp alone", r.Rows, r.Err)
	}
	type column struct{ name, typ string }
	types := func(db *sql.DB) (out []column) {
		rows, err := db.Query("SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'small'")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cts, _ := rows.ColumnTypes()
		for _, ct := range cts {
			out = append(out, column{ct.Name(), ct.DatabaseTypeName()})
		}
		return out
	}
	if g, w := types(proxy), types(oracle); fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("information_schema.TABLES columns:\n proxy  %v\n oracle %v", g, w)
	}
}
