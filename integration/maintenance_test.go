//go:build integration

package integration

import (
	"database/sql"
	"strings"
	"testing"
)

// TestMaintenance: ANALYZE, CHECK, CHECKSUM, OPTIMIZE and REPAIR TABLE over
// shards and copies answer as the oracle does: a row set a client table,
// named as the client named it, a CHECKSUM the sum of the shards'; tables
// the schema lacks, a table named twice and bad options as one server.
func TestMaintenance(t *testing.T) {
	p := StartProxy(t, copyConfig())
	proxy, oracle := copySchema(t, p, "cp_maint", "DROP TABLE IF EXISTS small", "DROP TABLE IF EXISTS glob",
		"CREATE TABLE small (id INT PRIMARY KEY, v DECIMAL(10,2), s VARCHAR(20), note TEXT)",
		"INSERT INTO small VALUES (1, 1.5, 'a', NULL), (2, 2.25, 'b', 'x'), (3, 3, 'c', NULL), (4, 4.75, NULL, NULL), "+
			"(5, 5, 'e', 'yy'), (6, 6.5, 'f', NULL), (7, 7, 'g', NULL), (8, 8.01, 'h', 'zzz')",
		"CREATE TABLE glob (id INT PRIMARY KEY, name VARCHAR(40))",
		"INSERT INTO glob VALUES (1, 'one'), (2, 'two')")
	pc, oc := Conn(t, proxy), Conn(t, oracle)
	prepared := false
	same := func(q string) {
		t.Helper()
		got, want := runQuery(pc, q), runQuery(oc, q)
		if prepared {
			got, want = runPreparedN(pc, q, nil, 2), runPreparedN(oc, q, nil, 2)
		}
		for _, row := range want.Rows {
			for i := range row {
				row[i] = strings.ReplaceAll(row[i], "cp_maint.", "cp.")
			}
		}
		if code(got.Err) != code(want.Err) {
			t.Errorf("%s: proxy %v, oracle %v", q, got.Err, want.Err)
		} else if d := compareResults(got, want, true); d != "" {
			t.Errorf("%s: %s", q, d)
		}
	}
	for _, q := range []string{
		"CHECKSUM TABLE small",
		"CHECKSUM TABLE small, glob, nosuch",
		"CHECKSUM TABLES small EXTENDED",
		"CHECKSUM TABLE small QUICK", // (InnoDB keeps no live checksum: NULL)
		"CHECK TABLE small, glob",
		"check table `small`, nosuch, glob EXTENDED",
		"CHECK TABLES small FOR UPGRADE",
		"CHECK TABLE nodb.t",
		"ANALYZE TABLE small",
		"ANALYZE TABLE small PERSISTENT FOR ALL",
		"ANALYZE NO_WRITE_TO_BINLOG TABLE glob, small",
		"OPTIMIZE TABLE small, glob",
		"REPAIR LOCAL TABLE small QUICK",
		"CHECK TABLE small, small",
		"CHECK TABLE small BOGUS",
	} {
		same(q)
	}
	// A qualified name is the same table (the oracle's schema is named
	// otherwise).
	if got, want := runQuery(pc, "CHECKSUM TABLE cp.small, glob"), runQuery(pc, "CHECKSUM TABLE small, cp.glob"); got.Err != nil ||
		len(got.Rows) != 2 || got.Rows[0][1] != want.Rows[0][1] || got.Rows[1][1] != want.Rows[1][1] {
		t.Errorf("CHECKSUM TABLE cp.small, glob: %v %v, want the checksums of %v", got.Rows, got.Err, want.Rows)
	}
	if _, err := pc.ExecContext(t.Context(), "CHECKSUM TABLE small, cp.small"); code(err) != 1066 {
		t.Errorf("CHECKSUM TABLE small, cp.small: %v, want 1066 (not unique)", err)
	}
	// A table the schema lacks: one server's warning.
	same("CHECKSUM TABLE nosuch")
	same("SHOW WARNINGS")
	// Rows changed: the sum follows, NULL and empty values counted alike.
	for _, c := range []*sql.Conn{pc, oc} {
		MustExec(t, c, "UPDATE small SET note = CONCAT(IFNULL(note, ''), '!') WHERE id % 3 = 0", "DELETE FROM small WHERE id = 8")
	}
	same("CHECKSUM TABLE small")
	// CHECKSUM reads the transaction's rows; CHECK commits it first, as on
	// one server.
	steps := []varStep{
		{sql: "BEGIN"},
		{sql: "INSERT INTO small VALUES (100, 1, 'tx', NULL)"},
		{sql: "CHECKSUM TABLE small"},
		{sql: "ROLLBACK"},
		{sql: "BEGIN"},
		{sql: "INSERT INTO small VALUES (101, 1, 'tx', NULL)"},
		{sql: "CHECK TABLE small"},
		{sql: "ROLLBACK"},
		{sql: "SET autocommit = 0"},
		{sql: "INSERT INTO small VALUES (102, 1, 'tx', NULL)"},
		{sql: "ANALYZE TABLE glob"},
		{sql: "ROLLBACK"},
		{sql: "SET autocommit = 1"},
	}
	runSteps(t, pc, oc, steps, "SELECT id FROM small ORDER BY id", "SELECT @@in_transaction")
	same("CHECKSUM TABLE small")
	// Prepared (binary rows), each execute as the text one.
	prepared = true
	for _, q := range []string{"CHECKSUM TABLE small, nosuch", "CHECK TABLE glob, small", "ANALYZE TABLE small"} {
		same(q)
	}
}
