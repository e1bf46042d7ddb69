//go:build integration

package integration

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestPrevResult: FOUND_ROWS() and ROW_COUNT() in a sharded schema answer
// as one server would where one connection ran the client's previous
// statement whole, and are refused (1235) where none did: a statement over
// several shards, one the proxy answered itself or followed with its own
// read. Before, the last two read a stale count, and in a transaction so
// did the first (a node's UNION ALL of two shards' rows counted 2). After
// a SELECT SQL_CALC_FOUND_ROWS over several shards, the proxy answers
// SELECT FOUND_ROWS() with the shards' counts added up, and SELECT
// ROW_COUNT() after a statement it ran with what its OK said (-1 after
// rows). Before, two shards' UPDATE on one node's connection gave the
// last shard's count.
func TestPrevResult(t *testing.T) {
	ctx := context.Background()
	p := StartProxy(t, copyConfig())
	schema := []string{"DROP TABLE IF EXISTS lim", "CREATE TABLE lim (id INT PRIMARY KEY, u INT, v INT)",
		"INSERT INTO lim VALUES (1, 1, 0), (2, 2, 0), (3, 0, 0), (4, 1, 0), (5, 2, 0), (6, 0, 0), (8, 1, 0), (12, 0, 0)"}
	proxy, oracle := copySchema(t, p, "cp_prev", schema...)

	// The last statement of each script reads the counts; ids 4, 8 and 12
	// are all on shard 0.
	answered := [][]string{
		{"SELECT id FROM lim WHERE id IN (4, 8, 12) LIMIT 2", "SELECT FOUND_ROWS()"},
		{"SELECT SQL_CALC_FOUND_ROWS id FROM lim WHERE id IN (4, 8, 12) LIMIT 1", "SELECT FOUND_ROWS() AS n, ROW_COUNT() AS r"},
		// Over several shards (4 and 6: shards 0 and 2, both on dn0).
		{"UPDATE lim SET v = v + 1 WHERE id IN (4, 6)", "SELECT ROW_COUNT()"},
		{"BEGIN", "UPDATE lim SET v = v + 1 WHERE id IN (4, 6)", "SELECT ROW_COUNT() AS n"},
		{"UPDATE lim SET v = v + 1 WHERE u = 0", "SELECT ROW_COUNT()"},
		{"UPDATE lim SET v = v WHERE u = 0", "SELECT ROW_COUNT()"},
		{"BEGIN", "DELETE FROM lim WHERE u = 2 ORDER BY id DESC LIMIT 1", "SELECT ROW_COUNT()"},
		{"BEGIN", "INSERT INTO lim VALUES (20, 0, 0), (21, 1, 0), (22, 2, 0)", "SELECT ROW_COUNT()"},
		{"BEGIN", "INSERT INTO lim VALUES (4, 0, 0), (5, 0, 0) ON DUPLICATE KEY UPDATE v = v + 10", "SELECT ROW_COUNT()"},
		{"SELECT id FROM lim WHERE u = 1", "SELECT ROW_COUNT()"},
		{"SELECT id INTO @x FROM lim WHERE id IN (4, 6) ORDER BY id LIMIT 1", "SELECT ROW_COUNT()"},
		{"UPDATE lim SET v = v + 1 WHERE u = 0", "SELECT ROW_COUNT()", "SELECT ROW_COUNT()"},
		{"BEGIN", "SELECT id FROM lim WHERE id IN (4, 8, 12)", "SELECT FOUND_ROWS()"},
		{"BEGIN", "SELECT id FROM lim WHERE id = 3", "SELECT id FROM lim WHERE id IN (4, 8)", "SELECT FOUND_ROWS()"},
		{"UPDATE lim SET v = v + 1 WHERE id IN (4, 8)", "SELECT ROW_COUNT()"},
		{"BEGIN", "UPDATE lim SET v = v + 1 WHERE id IN (4, 8, 12)", "SELECT ROW_COUNT()"},
		{"DELETE FROM lim WHERE id = 99", "SELECT ROW_COUNT()"},
		// SQL_CALC_FOUND_ROWS over every shard: the proxy adds their counts.
		{"SELECT SQL_CALC_FOUND_ROWS id FROM lim ORDER BY id LIMIT 2", "SELECT FOUND_ROWS()"},
		{"SELECT SQL_CALC_FOUND_ROWS id, u FROM lim WHERE u < 2 ORDER BY u DESC, id LIMIT 1, 2", "SELECT FOUND_ROWS() AS n"},
		{"SELECT SQL_CALC_FOUND_ROWS id FROM lim LIMIT 0", "select found_rows() `all`"},
		{"BEGIN", "SELECT SQL_CALC_FOUND_ROWS id FROM lim WHERE u = 0 ORDER BY id DESC LIMIT 1", "SELECT FOUND_ROWS()"},
	}
	refused := [][]string{
		{"SELECT COUNT(*) FROM lim", "SELECT FOUND_ROWS()"},
		{"BEGIN", "SELECT COUNT(*) FROM lim", "SELECT FOUND_ROWS()"},
		{"SELECT id FROM lim WHERE id IN (1, 2) LIMIT 5", "SELECT FOUND_ROWS()"},
		{"BEGIN", "UPDATE lim SET v = v + 1 WHERE id IN (4, 8)", "SET @a = 1", "SELECT ROW_COUNT()"},
		{"SELECT id FROM lim WHERE id IN (4, 8)", "SET @b = 2", "SELECT FOUND_ROWS()"},
		{"SELECT @c := id FROM lim WHERE id IN (4, 8, 12) LIMIT 2", "SELECT FOUND_ROWS()"},
	}
	// Counts the proxy added up, in expressions: a text SELECT without
	// tables has them written in (a prepared one is refused). Shards 0 and
	// 2 ran on one connection of dn0, whose server counted the last
	// statement only (it said 1 for ROW_COUNT() + 1 where the oracle
	// says 3).
	answeredText := [][]string{
		{"UPDATE lim SET v = v + 1 WHERE id IN (4, 6)", "SELECT ROW_COUNT() + 1"},
		{"BEGIN", "UPDATE lim SET v = v + 1 WHERE id IN (4, 6, 8)", "SELECT ROW_COUNT() * 1, IF(ROW_COUNT() > 2, 9, 0) AS big"},
		{"UPDATE lim SET v = v + 1 WHERE u = 0", "SELECT ROW_COUNT() + 1"},
		{"SELECT SQL_CALC_FOUND_ROWS id FROM lim LIMIT 2", "SELECT FOUND_ROWS() + 1"},
		{"SELECT SQL_CALC_FOUND_ROWS id FROM lim ORDER BY id LIMIT 2", "SELECT FOUND_ROWS() AS n, ROW_COUNT() AS r, FOUND_ROWS() - 1 AS m"},
	}
	// The last statement is prepared when prepared is set.
	prepared := false
	run := func(db *sql.DB, script []string) (string, error) {
		c := Conn(t, db)
		defer c.Close()
		defer c.ExecContext(ctx, "ROLLBACK")
		last := len(script) - 1
		MustExec(t, c, script[:last]...)
		var rows *sql.Rows
		var err error
		if prepared {
			var st *sql.Stmt
			if st, err = c.PrepareContext(ctx, script[last]); err != nil {
				return "", err
			}
			defer st.Close()
			rows, err = st.QueryContext(ctx)
		} else {
			rows, err = c.QueryContext(ctx, script[last])
		}
		if err != nil {
			return "", err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(sql.NullInt64)
		}
		out := ""
		for rows.Next() {
			if err := rows.Scan(vals...); err != nil {
				return "", err
			}
			for i, v := range vals {
				out += fmt.Sprintf("%s=%d ", cols[i], v.(*sql.NullInt64).Int64)
			}
		}
		return out, rows.Err()
	}
	// With CLIENT_FOUND_ROWS an UPDATE's count is the rows it matched.
	proxyFound := Open(t, DSN("app", "app", p.Addr, "cp", "clientFoundRows=true"))
	oracleFound := Open(t, DSN("sg", "sg", oracleAddr, "cp_prev", "clientFoundRows=true"))
	for _, script := range slices.Concat(answered, answeredText) {
		for _, dbs := range [][2]*sql.DB{{proxy, oracle}, {proxyFound, oracleFound}} {
			want, err := run(dbs[1], script)
			if err != nil {
				t.Fatalf("oracle %q: %v", script, err)
			}
			if got, err := run(dbs[0], script); err != nil || got != want {
				t.Errorf("%q: proxy %q (%v), oracle %q", script, got, err, want)
			}
		}
	}
	// The same with the count read by a prepared statement (a plain
	// SELECT of one count: the proxy runs it as text at each execute).
	prepared = true
	for _, script := range answered {
		if strings.Contains(script[len(script)-1], ",") {
			continue
		}
		want, err := run(oracle, script)
		if err != nil {
			t.Fatalf("oracle %q: %v", script, err)
		}
		if got, err := run(proxy, script); err != nil || got != want {
			t.Errorf("prepared %q: proxy %q (%v), oracle %q", script, got, err, want)
		}
	}
	for _, prepared = range []bool{false, true} {
		scripts := refused
		if prepared {
			scripts = slices.Concat(refused, answeredText)
		}
		for _, script := range scripts {
			if got, err := run(proxy, script); ErrCode(err) != 1235 {
				t.Errorf("%q (prepared %v): %q (%v), want 1235", script, prepared, got, err)
			}
		}
	}
}
