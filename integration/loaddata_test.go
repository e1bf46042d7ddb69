//go:build integration

package integration

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestLoadData: LOAD DATA LOCAL INFILE into a sharded and a global table
// loads what the oracle loads from the same text (rows, counts, warnings
// and their row numbers), each row on its shard; IGNORE n LINES, LINES
// STARTING BY, enclosures, escapes, column lists with variables and SET,
// REPLACE and IGNORE, transactions, and the refusals.
func TestLoadData(t *testing.T) {
	p := StartProxy(t, copyConfig())
	proxy, oracle := copySchema(t, p, "cp_load", "DROP TABLE IF EXISTS small", "DROP TABLE IF EXISTS glob",
		"CREATE TABLE small (id INT PRIMARY KEY, v DECIMAL(10,2), s VARCHAR(20), at DATETIME(6))",
		"CREATE TABLE glob (id INT PRIMARY KEY, name VARCHAR(40), at DATETIME(6))")
	pc, oc := Conn(t, proxy), Conn(t, oracle)
	text := ""
	mysql.RegisterReaderHandler("sgload", func() io.Reader { return strings.NewReader(text) })
	defer mysql.DeregisterReaderHandler("sgload")
	const file = "LOAD DATA LOCAL INFILE 'Reader::sgload' "
	big := strings.Builder{}
	for i := 1000; i < 6000; i++ {
		fmt.Fprintf(&big, "%d\t%d.%02d\trow %d\n", i, i%97, i%100, i)
	}
	for _, c := range []struct {
		name, sql, text string
		table           string
	}{
		{"tsv: escapes, NULLs, short and long rows", file + "INTO TABLE small",
			"1\t1.5\ta\\tb\t2026-01-01\n2\t\\N\tc\\\nd\t\\N\n3\n4\t4\ttoo long for the column, far too long\t2026-02-30\n5\t5\te\t2026-01-01\textra\n", "small"},
		{"csv with a header, enclosures and CRLF", file + "INTO TABLE small FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES (id, v, s)",
			"id,v,s\r\n10,1.25,\"a,b\"\r\n\"11\",2,\"multi\r\nline\"\r\n12,3,\"say \"\"hi\"\"\"\r\n13,NULL,\"NULL\"\r\n", "small"},
		{"variables and SET", file + "INTO TABLE small (id, @v, s) SET v = @v * 2, at = '2026-05-05'",
			"20\t1\tx\n21\t2\ty\n22\t3\tz\n", "small"},
		{"lines starting by", file + "INTO TABLE small FIELDS TERMINATED BY '|' LINES STARTING BY 'row:' (id, s)",
			"junk\nrow:30|a\nnone\nxx row:31|b\nrow:", "small"},
		// (ids 1 and 5 on one shard: messages that name no row keep a shard's order)
		{"duplicates (LOCAL skips them)", file + "INTO TABLE small (id, s)", "1\tdup\n40\tnew\n5\tdup2\n", "small"},
		{"replace", file + "REPLACE INTO TABLE small (id, s)", "1\treplaced\n41\tnew\n", "small"},
		{"ignore", file + "IGNORE INTO TABLE small (id, s)", "2\tkept\n42\tnew\n", "small"},
		{"5000 rows", file + "INTO TABLE small (id, v, s)", big.String(), "small"},
		{"a global table", file + "INTO TABLE glob", "1\tone\t\\N\n2\ttwo\t2026-01-01 10:00:00\n", "glob"},
		{"the server's error: no such column", file + "INTO TABLE small (id, nosuch)", "1\t2\n", "small"},
	} {
		text = c.text
		pr, perr := pc.ExecContext(t.Context(), c.sql)
		or, oerr := oc.ExecContext(t.Context(), c.sql)
		if code(perr) != code(oerr) {
			t.Errorf("%s: proxy %v, oracle %v", c.name, perr, oerr)
			continue
		}
		if perr == nil {
			pn, _ := pr.RowsAffected()
			on, _ := or.RowsAffected()
			if pn != on {
				t.Errorf("%s: %d rows affected, the oracle %d", c.name, pn, on)
			}
		}
		for _, q := range []string{"SHOW WARNINGS", "SELECT * FROM " + c.table + " ORDER BY id"} {
			got, want := runQuery(pc, q), runQuery(oc, q)
			if d := compareResults(got, want, true); d != "" {
				t.Errorf("%s: %s: %s", c.name, q, d)
			}
		}
	}
	// Each row is on its shard: a point read finds every one.
	var n int
	if err := pc.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM small").Scan(&n); err != nil || n < 5000 {
		t.Fatalf("rows loaded: %d %v", n, err)
	}
	rows, err := pc.QueryContext(t.Context(), "SELECT id FROM small")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for rows.Next() {
		var id int
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	found := 0
	for _, id := range ids {
		var got int
		if err := pc.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM small WHERE id = ?", id).Scan(&got); err == nil && got == 1 {
			found++
		}
	}
	if found != len(ids) {
		t.Errorf("%d of %d rows are found on the shard their id places them on", found, len(ids))
	}
	copiesAgree(t, "SELECT id, name, at FROM glob ORDER BY id", 2)

	// Refused: a row whose sharding key is NULL or empty (a blank line:
	// the server would make it 0), where nothing is loaded; a server's
	// file (it needs the FILE privilege, which the proxy does not give).
	before := QueryString(t, pc, "SELECT COUNT(*) FROM small")
	text = "50\ta\n\\N\tb\n51\tc\n"
	if _, err := pc.ExecContext(t.Context(), file+"INTO TABLE small (id, s)"); !isRefusal(err) || !strings.Contains(err.Error(), "NULL") {
		t.Errorf("a NULL sharding key: %v, want the refusal", err)
	}
	text = "52\ta\n\n53\tc\n"
	if _, err := pc.ExecContext(t.Context(), file+"INTO TABLE small (id, s)"); code(err) != 1411 || !strings.Contains(err.Error(), "row 2 of the file") {
		t.Errorf("a blank line: %v, want 1411 naming row 2", err)
	}
	if _, err := pc.ExecContext(t.Context(), "LOAD DATA INFILE '/tmp/x' INTO TABLE small"); code(err) != 1227 {
		t.Errorf("a server's file: %v, want 1227 (FILE privilege)", err)
	}
	// A database character set the proxy does not cut as the server reads
	// it (its multi-byte characters may hold a terminator's byte); the
	// session's, which the servers read the text in.
	text = "54\ta\n"
	MustExec(t, pc, "SET character_set_database = 'gbk'")
	_, err = pc.ExecContext(t.Context(), file+"INTO TABLE small (id, s)")
	MustExec(t, pc, "SET character_set_database = DEFAULT")
	if !isRefusal(err) || !strings.Contains(err.Error(), "gbk") {
		t.Errorf("a gbk database: %v, want the refusal naming gbk", err)
	}
	if got := QueryString(t, pc, "SELECT COUNT(*) FROM small"); got != before {
		t.Errorf("after the refused loads: %s rows, want %s", got, before)
	}
	// In a transaction: rolled back with it, or kept.
	text = "60\ta\n61\tb\n62\tc\n63\td\n"
	steps := []varStep{
		{sql: "BEGIN"},
		{sql: file + "INTO TABLE small (id, s)"},
		{sql: "ROLLBACK"},
		{sql: "BEGIN"},
		{sql: "DELETE FROM small WHERE id >= 1000"},
		{sql: file + "INTO TABLE small (id, s)"},
		{sql: "COMMIT"},
	}
	runSteps(t, pc, oc, steps, "SELECT id, s FROM small WHERE id >= 60 ORDER BY id", "SELECT @@in_transaction")
}
