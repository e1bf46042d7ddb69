//go:build integration

package integration

// TestPreparedParamTypes: a prepared statement on a sharded schema is run
// on the shards as text, its parameters written in as literals. Every kind
// of value a driver binds (bytes that are not text, quotes, backslashes,
// NUL, the largest unsigned, the smallest double, fractional seconds,
// NULL) must mean the same there: the rows written and found are the
// oracle's.

import (
	"math"
	"testing"
	"time"
)

func TestPreparedParamTypes(t *testing.T) {
	p := StartProxy(t, typesConfig())
	db := Open(t, DSN("app", "app", p.Addr, "ty"))
	oracle := Open(t, DSN("sg", "sg", oracleAddr, ""))
	MustExec(t, oracle, "CREATE DATABASE IF NOT EXISTS ty_oracle")
	t.Cleanup(func() { MustExec(t, oracle, "DROP DATABASE IF EXISTS ty_oracle") })
	odb := Open(t, DSN("sg", "sg", oracleAddr, "ty_oracle"))
	// Backslashes escape in string literals, or not: the literals the proxy
	// writes must follow the session's sql_mode.
	for _, mode := range []string{"STRICT_TRANS_TABLES", "NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES"} {
		pc, oc := Conn(t, db), Conn(t, odb)
		for _, c := range []queryer{pc, oc} {
			if _, err := c.ExecContext(t.Context(), "SET SESSION sql_mode = '"+mode+"'"); err != nil {
				t.Fatal(err)
			}
		}
		create := "CREATE TABLE vals (id INT PRIMARY KEY, b VARBINARY(20), s VARCHAR(20), d DATETIME(6), f DOUBLE, g FLOAT, u BIGINT UNSIGNED, i BIGINT, t TIME(6))"
		for _, q := range []queryer{pc, oc} {
			if err := execAll(q, []string{"DROP TABLE IF EXISTS vals", create}); err != nil {
				t.Fatal(err)
			}
		}
		at := time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC)
		rows := [][]any{
			{1, []byte{0, 0xff, '\'', '\\', '"', 0x1a, '\n'}, "it's", at, 0.1, float32(0.1), uint64(math.MaxUint64), int64(math.MinInt64), "-838:59:59"},
			{2, []byte("plain"), `back\slash`, at.Add(time.Microsecond), -1e300, float32(-3.5), uint64(0), int64(math.MaxInt64), "12:00:00.000001"},
			{3, []byte{}, "ünï ", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), math.SmallestNonzeroFloat64, float32(1e-30), uint64(1) << 63, int64(-1), "00:00:00"},
			{4, nil, nil, nil, nil, nil, nil, nil, nil},
			{5, []byte("%_"), "%_'\"", at, 1.0000000000000002, float32(16777217), uint64(42), int64(0), "-00:00:00.5"},
		}
		for _, r := range rows {
			for _, q := range []queryer{pc, oc} {
				if _, err := q.ExecContext(t.Context(), "INSERT INTO vals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", r...); err != nil {
					t.Fatalf("insert %v: %v", r[0], err)
				}
			}
		}
		all := "SELECT id, HEX(b), s, d, f, g, u, i, t FROM vals ORDER BY id"
		if d := compareResults(runQuery(pc, all), runQuery(oc, all), true); d != "" {
			t.Errorf("%s: rows written with parameters: %s", mode, d)
		}
		// The same values found again through parameters, across the shards.
		cols := []string{"b", "s", "d", "f", "g", "u", "i", "t"}
		for _, r := range rows[:3] {
			for ci, col := range cols {
				q := "SELECT id FROM vals WHERE " + col + " = ? ORDER BY id"
				got, want := runQuery(pc, q, r[ci+1]), runQuery(oc, q, r[ci+1])
				if d := compareResults(got, want, true); d != "" || want.Err != nil {
					t.Errorf("%s: %s = %#v: %s (oracle err %v)", mode, col, r[ci+1], d, want.Err)
				}
			}
		}
		q := "SELECT COUNT(*) FROM vals WHERE s LIKE ? OR b LIKE ?"
		if d := compareResults(runQuery(pc, q, "%\\_%", []byte("%\\%%")), runQuery(oc, q, "%\\_%", []byte("%\\%%")), true); d != "" {
			t.Errorf("%s: LIKE with escapes: %s", mode, d)
		}
	}
}
