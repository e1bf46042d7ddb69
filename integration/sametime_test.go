//go:build integration

package integration

import (
	"testing"
)

// TestShardsAtOneTime: one server's statement sees one time: NOW(6) is
// the same in every row it reads or writes, and so is what columns that
// default to the time get. Over several shards, each shard's statement
// ran at its own time; they now run at one @@timestamp (SET STATEMENT),
// unless the session fixed its own; so do the subqueries and tables the
// proxy reads first for a statement. The session's own clock is untouched
// by that, and SET timestamp = DEFAULT gives it back on every node.
func TestShardsAtOneTime(t *testing.T) {
	p := StartProxy(t, copyConfig())
	proxy, _ := copySchema(t, p, "cp_sametime", "DROP TABLE IF EXISTS small",
		"CREATE TABLE small (id INT PRIMARY KEY, v INT, "+
			"ts DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), at DATETIME(6))")
	pc := Conn(t, proxy)
	distinct := func(what, q string) {
		t.Helper()
		if got := QueryString(t, pc, q); got != "1" {
			t.Errorf("%s: %s gives %s different times, want 1", what, q, got)
		}
	}
	// An INSERT of rows for every shard: the default.
	MustExec(t, pc, "INSERT INTO small (id, v) VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7), (8, 8)")
	distinct("INSERT's default", "SELECT COUNT(DISTINCT ts) FROM small")
	// An UPDATE of every shard: NOW(6) and ON UPDATE.
	MustExec(t, pc, "UPDATE small SET v = v + 1, at = NOW(6)")
	distinct("UPDATE's NOW(6)", "SELECT COUNT(DISTINCT at) FROM small")
	distinct("UPDATE's ON UPDATE", "SELECT COUNT(DISTINCT ts) FROM small")
	// An UPDATE stepped shard by shard (ORDER BY ... LIMIT).
	MustExec(t, pc, "UPDATE small SET at = NOW(6) ORDER BY v LIMIT 6")
	distinct("UPDATE ... LIMIT's NOW(6)", "SELECT COUNT(DISTINCT at) FROM small WHERE v <= 7")
	// A read of every shard.
	r := runQuery(pc, "SELECT id, NOW(6), UNIX_TIMESTAMP(NOW(6)) FROM small ORDER BY id")
	rows := r.Rows
	if r.Err != nil || len(rows) != 8 {
		t.Fatalf("rows: %q %v", rows, r.Err)
	}
	for _, r := range rows[1:] {
		if r[1] != rows[0][1] || r[2] != rows[0][2] {
			t.Errorf("SELECT NOW(6) over the shards: %q, want one time", rows)
			break
		}
	}
	distinct("a read's NOW(6) in a condition", "SELECT COUNT(DISTINCT t) FROM (SELECT NOW(6) AS t FROM small WHERE id > 0) d")
	// A subquery or table the proxy reads first sees the statement's time.
	for q, want := range map[string]string{
		"SELECT COUNT(*) FROM small WHERE NOW(6) = (SELECT MAX(NOW(6)) FROM small WHERE id IN (1, 2))":                   "8",
		"SELECT COUNT(*) FROM (SELECT v, MAX(NOW(6)) AS t FROM small GROUP BY v) d WHERE d.t = NOW(6)":                   "8",
		"SELECT COUNT(*) FROM small WHERE id = 1 AND NOW(6) IN (SELECT NOW(6) FROM small WHERE id IN (1, 2) GROUP BY v)": "1",
	} {
		if got := QueryString(t, pc, q); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
	// The statements' time was theirs alone: the session's clock goes on
	// (MariaDB reports SET STATEMENT timestamp as a change of the
	// session's, which the proxy nearly kept).
	before := QueryString(t, pc, "SELECT MAX(at) FROM small")
	MustExec(t, pc, "DO SLEEP(0.01)")
	for _, q := range []string{"SELECT NOW(6)", "SELECT NOW(6) FROM small WHERE id = 1", "SELECT MAX(NOW(6)) FROM small"} {
		if now := QueryString(t, pc, q); now <= before {
			t.Errorf("%s after the writes: %s, not after their %s", q, now, before)
		}
	}
	// Rows moved to other shards (their sharding key changed), and the
	// ones updated where they are.
	MustExec(t, pc, "UPDATE small SET id = id + 100, at = NOW(6) WHERE id IN (1, 2, 3, 4)")
	distinct("an UPDATE that moves rows: NOW(6)", "SELECT COUNT(DISTINCT at) FROM small WHERE id > 100")
	distinct("an UPDATE that moves rows: ON UPDATE", "SELECT COUNT(DISTINCT ts) FROM small WHERE id > 100")
	MustExec(t, pc, "UPDATE small SET id = id - 100 WHERE id > 100")
	// A session's own @@timestamp stands.
	MustExec(t, pc, "SET timestamp = 1700000000.5")
	MustExec(t, pc, "UPDATE small SET at = NOW(6)")
	if got := QueryString(t, pc, "SELECT DISTINCT at FROM small"); got != "2023-11-14 22:13:20.500000" {
		t.Errorf("with SET timestamp: %q", got)
	}
	// And DEFAULT gives every node's connection the clock again (MariaDB
	// reports the time of day then, which the proxy kept as a fixed time).
	MustExec(t, pc, "SET timestamp = DEFAULT")
	for id := 1; id <= 2; id++ {
		if now := QueryString(t, pc, "SELECT NOW(6) FROM small WHERE id = ?", id); now <= before {
			t.Errorf("after SET timestamp = DEFAULT, NOW(6) on id %d's node: %s", id, now)
		}
	}
}
