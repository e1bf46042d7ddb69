//go:build integration

package integration

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// TestLimitedWrites: an UPDATE or DELETE with LIMIT (no ORDER BY) over
// several shards changes as many rows as one server would. Which rows is
// the server's choice, so the counts are compared with the oracle's: the
// mariadb client's lines, and aggregates that do not depend on the choice.
// A failure on a later shard undoes the earlier shards' changes. With
// ORDER BY, the same rows change as on one server.
func TestLimitedWrites(t *testing.T) {
	ctx := context.Background()
	p := StartProxy(t, copyConfig())
	schema := []string{"DROP TABLE IF EXISTS lim", "CREATE TABLE lim (id INT PRIMARY KEY, u INT, v INT)"}
	proxy, oracle := copySchema(t, p, "cp_lim", schema...)

	var rows []string
	for id := 1; id <= 40; id++ {
		rows = append(rows, fmt.Sprintf("(%d, %d, 0)", id, id%3))
	}
	statements := []string{
		"DELETE FROM lim",
		"INSERT INTO lim VALUES " + strings.Join(rows, ", "),
		"UPDATE lim SET v = 1 WHERE u = 0 LIMIT 5",
		"UPDATE lim SET v = 1 WHERE u = 0 LIMIT 20", // 13 match, 8 change
		"DELETE FROM lim WHERE u = 1 LIMIT 4",
		"DELETE FROM lim WHERE u = 1 LIMIT 100",
		"UPDATE lim SET v = 2 WHERE u = 2 LIMIT 0",
		"DELETE FROM lim LIMIT 0",
		"UPDATE lim SET v = v WHERE u = 2 LIMIT 4", // matched, not changed
		"DELETE FROM lim WHERE id IN (2, 3, 4, 5) LIMIT 3",
		"UPDATE lim SET v = v + 1 LIMIT 3", // SUM(v) + 3, whichever rows
	}
	sums := func(db *sql.DB) string {
		var n, u, v int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*), SUM(u), SUM(v) FROM lim").Scan(&n, &u, &v); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d rows, SUM(u) %d, SUM(v) %d", n, u, v)
	}
	sameClientLines(t, p, "cp_lim", statements, func(want string) {
		if !strings.Contains(want, "Rows matched: 13  Changed: 8") {
			t.Errorf("the script does not match more rows than it changes:\n%s", want)
		}
		if g, w := sums(proxy), sums(oracle); g != w {
			t.Errorf("after the script: proxy %s, oracle %s", g, w)
		}
	})

	// Prepared, with the limit a parameter.
	for _, db := range []*sql.DB{proxy, oracle} {
		MustExec(t, db, "DELETE FROM lim", "INSERT INTO lim VALUES "+strings.Join(rows, ", "))
	}
	for _, limit := range []int{0, 2, 9, 50} {
		var affected [2]int64
		for i, db := range []*sql.DB{proxy, oracle} {
			res, err := db.ExecContext(ctx, "UPDATE lim SET v = v + 1 WHERE u = ? LIMIT ?", limit%3, limit)
			if err != nil {
				t.Fatalf("prepared UPDATE ... LIMIT %d: %v", limit, err)
			}
			affected[i], _ = res.RowsAffected()
		}
		if affected[0] != affected[1] {
			t.Errorf("prepared UPDATE ... LIMIT %d: %d rows through the proxy, %d on one server", limit, affected[0], affected[1])
		}
	}
	if g, w := sums(proxy), sums(oracle); g != w {
		t.Errorf("after the prepared UPDATEs: proxy %s, oracle %s", g, w)
	}

	// The last shard fails (u overflows on id 7, on shard 3, which runs
	// last): the shards before it are undone, alone and in a transaction.
	failing := "UPDATE lim SET u = u + 1 WHERE id IN (1, 2, 4, 7) LIMIT 10"
	for _, inTx := range []bool{false, true} {
		for _, db := range []*sql.DB{proxy, oracle} {
			MustExec(t, db, "DELETE FROM lim", "INSERT INTO lim VALUES (1, 0, 0), (2, 0, 0), (4, 0, 0), (7, 2147483647, 0), (8, 0, 0)")
		}
		var got [2]string
		for i, db := range []*sql.DB{proxy, oracle} {
			c := Conn(t, db)
			if inTx {
				MustExec(t, c, "BEGIN", "UPDATE lim SET v = 5 WHERE id = 8")
			}
			_, err := c.ExecContext(ctx, failing)
			if ErrCode(err) != 1264 {
				t.Errorf("%s (in a transaction: %v): %v, want 1264", failing, inTx, err)
			}
			if inTx {
				MustExec(t, c, "COMMIT")
			}
			got[i] = sums(db)
		}
		if got[0] != got[1] {
			t.Errorf("after the failed %s (in a transaction: %v): proxy %s, oracle %s", failing, inTx, got[0], got[1])
		}
	}

	// ORDER BY with LIMIT across shards: the keys of the first rows in
	// that order are read first, so the same rows change as on one server.
	contents := func(db *sql.DB) string {
		var out []string
		rs, err := db.QueryContext(ctx, "SELECT id, u, v FROM lim ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var id, u, v int
			if err := rs.Scan(&id, &u, &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%d:%d:%d", id, u, v))
		}
		return strings.Join(out, " ")
	}
	for _, db := range []*sql.DB{proxy, oracle} {
		MustExec(t, db, "DELETE FROM lim", "INSERT INTO lim VALUES "+strings.Join(rows, ", "))
	}
	for _, stmt := range []string{
		"UPDATE lim SET v = v + 10 WHERE u > 0 ORDER BY u DESC, id LIMIT 5",
		"DELETE FROM lim ORDER BY v DESC, id DESC LIMIT 2",
		"UPDATE lim SET v = 7 WHERE id > 100 ORDER BY id LIMIT 3", // no rows
	} {
		var affected [2]int64
		for i, db := range []*sql.DB{proxy, oracle} {
			res, err := db.ExecContext(ctx, stmt)
			if err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
			affected[i], _ = res.RowsAffected()
		}
		if affected[0] != affected[1] {
			t.Errorf("%s: %d rows through the proxy, %d on one server", stmt, affected[0], affected[1])
		}
		if g, w := contents(proxy), contents(oracle); g != w {
			t.Errorf("after %s:\n  proxy  %s\n  oracle %s", stmt, g, w)
		}
	}
}
