//go:build integration

package integration

import (
	"context"
	"database/sql"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestInsertInfo: an INSERT of several rows split over shards answers the
// "Records: N  Duplicates: D  Warnings: W" line one server gives, whatever
// each shard was given (a shard given one row answers without the line).
// The mariadb client prints it; the oracle holds the same tables.
func TestInsertInfo(t *testing.T) {
	p := StartProxy(t, copyConfig())
	schema := []string{
		"DROP TABLE IF EXISTS small", "DROP TABLE IF EXISTS glob",
		"CREATE TABLE small (id INT PRIMARY KEY, u INT, v INT)",
		"CREATE TABLE glob (id INT PRIMARY KEY, v INT)",
	}
	copySchema(t, p, "cp_info", schema...)
	// ids mod 4 pick the shard: 1, 2, 3 one row each; 4 and 8 together.
	statements := []string{
		"DELETE FROM small", "DELETE FROM glob",
		"INSERT INTO small VALUES (1, 10, 1), (2, 20, 2), (3, 30, 3)",
		"INSERT INTO small VALUES (4, 40, 4), (8, 80, 8), (5, 50, 5)",
		"INSERT IGNORE INTO small VALUES (1, 11, 1), (6, 60, 6), (4, 41, 4), (12, 120, 12)",
		"INSERT IGNORE INTO small VALUES (20, '7x', 20), (21, 210, 21)",
		"REPLACE INTO small VALUES (2, 21, 2), (7, 70, 7), (8, 81, 8), (16, 160, 16)",
		"REPLACE INTO small VALUES (2, 22, 2), (6, 61, 6)",
		"REPLACE INTO small VALUES (7, 70, 7), (3, 30, 3)", // the rows as they are: no duplicate
		"INSERT INTO small VALUES (3, 30, 3), (9, 90, 9), (5, 55, 5) ON DUPLICATE KEY UPDATE u = VALUES(u)",
		"INSERT INTO small VALUES (10, 100, 10), (11, 110, 11), (12, 0, 0) ON DUPLICATE KEY UPDATE u = u + 1",
		"INSERT INTO small VALUES (13, 130, 13)",
		"INSERT INTO small SET id = 14, u = 140, v = 14",
		"INSERT INTO glob VALUES (1, 1), (2, 2), (3, 3)",
		"INSERT IGNORE INTO glob VALUES (3, 3), (4, 4)",
		"UPDATE small SET v = v + 1 WHERE id IN (1, 2, 4)",
	}
	sameClientLines(t, p, "cp_info", statements, func(want string) {
		if !strings.Contains(want, "Records: 4  Duplicates: 2  Warnings: 0") {
			t.Errorf("the script does not show duplicates:\n%s", want)
		}
	})
}

// sameClientLines runs statements through proxy p (schema cp) and on the
// oracle's database db with the mariadb client, alone (each its own
// distributed transaction) and then in one transaction: the client must
// print the same lines. after sees the oracle's lines of each run.
func sameClientLines(t *testing.T, p *Proxy, db string, statements []string, after func(want string)) {
	t.Helper()
	for _, script := range []string{
		strings.Join(statements, ";\n"),
		"BEGIN;\n" + strings.Join(statements, ";\n") + ";\nCOMMIT",
	} {
		got := clientLines(t, p.Addr, "app", "cp", script)
		want := clientLines(t, oracleAddr, "sg", db, script)
		if got != want {
			t.Errorf("the client's lines through the proxy:\n%s\nfrom one server:\n%s", got, want)
		}
		after(want)
	}
}

// TestInsertRowNumbers: a message about a row of an INSERT split over
// shards names the row's number in the client's statement, not in the
// statement its shard ran.
func TestInsertRowNumbers(t *testing.T) {
	// Both nodes on one host: in a transaction one connection runs both
	// nodes' statements, one node after the other.
	MustExec(t, Open(t, DSN("sg", "sg", dh0Primary, "")), "CREATE DATABASE IF NOT EXISTS cp1h_0", "CREATE DATABASE IF NOT EXISTS cp1h_1")
	oneHost := `
listen: {{LISTEN}}
users:
  - {name: app, password: app, schemas: [cp]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: ` + dh0Primary + `}
data_nodes:
  - {name: c0, host: dh0, database: cp1h_0}
  - {name: c1, host: dh0, database: cp1h_1}
schemas:
  - name: cp
    tables:
      small: {column: id, algorithm: mod, shards: 4, nodes: [c0, c1]}
`
	for _, cfg := range []string{copyConfig(), oneHost} {
		p := StartProxy(t, cfg)
		schema := []string{"DROP TABLE IF EXISTS small", "CREATE TABLE small (id INT PRIMARY KEY, u INT, v INT)"}
		MustExec(t, Open(t, DSN("app", "app", p.Addr, "cp")), schema...)
		MustExec(t, Open(t, DSN("sg", "sg", oracleAddr, "")), "CREATE DATABASE IF NOT EXISTS cp_info")
		MustExec(t, Open(t, DSN("sg", "sg", oracleAddr, "cp_info")), schema...)
		proxy := Conn(t, Open(t, DSN("app", "app", p.Addr, "cp")))
		oracle := Conn(t, Open(t, DSN("sg", "sg", oracleAddr, "cp_info")))
		for _, tx := range []bool{false, true} {
			if tx {
				MustExec(t, proxy, "BEGIN")
				MustExec(t, oracle, "BEGIN")
				MustExec(t, proxy, "DELETE FROM small")
				MustExec(t, oracle, "DELETE FROM small")
			}
			checkRowNumbers(t, proxy, oracle)
		}
		MustExec(t, proxy, "ROLLBACK")
		MustExec(t, oracle, "ROLLBACK")
	}
}

func checkRowNumbers(t *testing.T, proxy, oracle *sql.Conn) {
	ctx := context.Background()
	// Strict mode: row 3 alone on shard 0 is out of range.
	bad := "INSERT INTO small VALUES (30, 1, 1), (31, 1, 1), (32, 99999999999, 1)"
	_, perr := proxy.ExecContext(ctx, bad)
	_, oerr := oracle.ExecContext(ctx, bad)
	if pc, pm := errInfo(perr); oerr == nil || pc != ErrCode(oerr) || !strings.HasSuffix(oerr.Error(), pm) {
		t.Errorf("error through the proxy: %v\nfrom one server: %v", perr, oerr)
	}
	// Rows 1 and 3 on shard 0 (dh0), row 2 on shard 1 (dh1): each node runs
	// one statement. Then rows 1 and 3 on shards 2 and 0, both on dh0: two
	// statements on one connection, whose warnings are listed all the same.
	for _, warn := range []string{
		"INSERT IGNORE INTO small VALUES (40, 99999999999, 1), (41, 99999999999, 1), (44, 1, 1)",
		"INSERT IGNORE INTO small VALUES (50, 99999999999, 1), (51, 1, 1), (52, 99999999999, 1)",
	} {
		checkWarnings(t, proxy, oracle, warn)
	}
}

func checkWarnings(t *testing.T, proxy, oracle *sql.Conn, warn string) {
	ctx := context.Background()
	var got, want string
	for _, side := range []struct {
		c   *sql.Conn
		out *string
	}{{proxy, &got}, {oracle, &want}} {
		if _, err := side.c.ExecContext(ctx, warn); err != nil {
			t.Fatal(err)
		}
		rows, err := side.c.QueryContext(ctx, "SHOW WARNINGS")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var level, code, msg string
			if err := rows.Scan(&level, &code, &msg); err != nil {
				t.Fatal(err)
			}
			*side.out += level + " " + code + " " + msg + "\n"
		}
		rows.Close()
	}
	if got != want || strings.Count(want, "\n") != 2 {
		t.Errorf("%s\nwarnings through the proxy:\n%s\nfrom one server:\n%s", warn, got, want)
	}
}

var elapsed = regexp.MustCompile(` \([0-9.]+ sec\)`)

// clientLines runs a script in the mariadb client, verbose, and returns
// what it says of each statement (times cut).
func clientLines(t *testing.T, addr, user, db, script string) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	out, err := exec.Command("mariadb", "-vvv", "-h", host, "-P", port, "-u", user, "-p"+user, db, "-e", script).CombinedOutput()
	if err != nil {
		t.Fatalf("mariadb client on %s: %v\n%s", addr, err, out)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Query OK") || strings.HasPrefix(l, "Records:") || strings.HasPrefix(l, "Rows matched:") {
			lines = append(lines, elapsed.ReplaceAllString(l, ""))
		}
	}
	return strings.Join(lines, "\n")
}
