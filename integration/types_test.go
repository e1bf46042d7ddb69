//go:build integration

package integration

// TestShardedTypes: the proxy orders, deduplicates, groups and aggregates
// the rows of several shards itself, so it must compare every MariaDB type
// as the server does: signed and unsigned extremes, DECIMAL scales, -0,
// BIT, YEAR, negative TIME, fractional seconds, strings in PAD SPACE and
// NO PAD collations (trailing spaces, tabs, accents), binary strings, JSON,
// INET6 and UUID (which MariaDB orders by its time fields, not its text).
// For each type a table sharded over 4 shards on 2 hosts is filled with
// the same rows as one table on the oracle, and merged queries must give
// the oracle's answer, by the text protocol and prepared.

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

func typesConfig() string {
	return `
listen: {{LISTEN}}
users:
  - {name: app, password: app, schemas: [ty]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: ` + dh0Primary + `}
  - {name: dh1, user: sg, password: sg, primary: ` + dh1Primary + `}
data_nodes:
  - {name: t0, host: dh0, database: ty_0}
  - {name: t1, host: dh1, database: ty_1}
schemas:
  - name: ty
    tables:
      vals: {column: id, algorithm: mod, shards: 4, nodes: [t0, t1]}
`
}

// typeCase is a column type and values for it (SQL literals), given to
// rows 1..40 in turn; every seventh row has NULL.
type typeCase struct {
	typ     string
	values  []string
	numeric bool // SUM and AVG mean something
	order   bool // the proxy may refuse to order or group it (ENUM, SET: by position; INET6, UUID: by binary form)
	// direct: the proxy's parser does not know the type (1064 on CREATE
	// TABLE), so the shards' tables are made on the data hosts.
	direct bool
	// float: SUM and AVG add in another order than one server (per shard,
	// then the shards), so the last digits may differ: compared to 1e-12.
	float bool
}

var typeCases = []typeCase{
	{typ: "TINYINT", values: []string{"-128", "127", "0", "-1", "5"}, numeric: true},
	{typ: "TINYINT UNSIGNED", values: []string{"0", "255", "128", "7"}, numeric: true},
	{typ: "BIGINT", values: []string{"-9223372036854775808", "9223372036854775807", "0", "-1", "42"}, numeric: true},
	{typ: "BIGINT UNSIGNED", values: []string{"0", "18446744073709551615", "9223372036854775808", "9223372036854775807", "1"}, numeric: true},
	{typ: "DECIMAL(20,5)", values: []string{"-123.45", "0", "0.00001", "-0.00001", "999999999999999.99999", "12.5"}, numeric: true},
	{typ: "DECIMAL(65,30)", values: []string{"-12345678901234567890123456789.123456789012345678901234567891", "0.000000000000000000000000000001", "1", "-1"}, numeric: true},
	{typ: "FLOAT", values: []string{"-1.5", "3.25e10", "0", "-0.0", "1e-30", "0.1"}, numeric: true, float: true},
	{typ: "DOUBLE", values: []string{"-1.5e300", "2.2250738585072014e-308", "0", "1", "1.0000000000000002", "-0.0"}, numeric: true, float: true},
	{typ: "BIT(10)", values: []string{"b'0'", "b'1111111111'", "b'1010'", "5", "b'1000000000'"}, numeric: true},
	{typ: "YEAR", values: []string{"1901", "2155", "2000", "69", "1999"}, numeric: true},
	{typ: "DATE", values: []string{"'1000-01-01'", "'9999-12-31'", "'2024-02-29'", "'1970-01-01'"}, numeric: true},
	{typ: "DATETIME(6)", values: []string{"'2024-01-01 00:00:00.000001'", "'2024-01-01 00:00:00'", "'1000-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'2023-12-31 23:59:59.5'"}, numeric: true},
	{typ: "TIMESTAMP(3) NULL", values: []string{"'2024-03-10 02:30:00.123'", "'1970-01-01 00:00:01'", "'2038-01-19 03:14:07.999'", "'2001-09-09 01:46:40'"}, numeric: true},
	{typ: "TIME(6)", values: []string{"'-838:59:59'", "'838:59:59'", "'-00:00:00.5'", "'00:00:00'", "'12:00:00.000001'", "'-12:00:00'", "'-00:00:01'"}, numeric: true},
	{typ: "CHAR(10)", values: []string{"'a'", "'A'", "'b '", "'B'", "''", "'ä'", "'zz'"}},
	{typ: "VARCHAR(20) COLLATE utf8mb4_unicode_ci", values: []string{"'a'", "'A '", "'ä'", "'ß'", "'ss'", "CONCAT('a', CHAR(9))", "'zz'", "' '"}},
	{typ: "VARCHAR(20) COLLATE utf8mb4_bin", values: []string{"'a'", "'a '", "'A'", "CONCAT('a', CHAR(9))", "'b'", "'~'"}},
	{typ: "VARCHAR(20) COLLATE utf8mb4_uca1400_ai_ci", values: []string{"'b'", "'Ä'", "'ae'", "'c '", "CONCAT('c', CHAR(9))", "'z'"}},
	{typ: "VARCHAR(20) CHARACTER SET latin1", values: []string{"'a'", "'å'", "'ä'", "'ö'", "'A '", "'z'"}},
	{typ: "VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_german2_ci", values: []string{"'a'", "'ä'", "'ae'", "'af'", "'ü '", "'z'"}},
	{typ: "BINARY(4)", values: []string{"'a'", "x'6100'", "'b'", "x'00'", "'zz'"}},
	{typ: "VARBINARY(10)", values: []string{"'a'", "'a '", "'A'", "x'61FF'", "''"}},
	{typ: "BLOB", values: []string{"'a'", "'a '", "'A'", "x'00'", "'b'"}},
	{typ: "TEXT", values: []string{"'a'", "'a '", "'B'", "'c'", "CONCAT('a', CHAR(9))"}},
	{typ: "ENUM('x','b','a')", values: []string{"'x'", "'b'", "'a'"}, order: true},
	{typ: "SET('a','b','c')", values: []string{"'a'", "'b,c'", "''", "'a,c'"}, order: true},
	{typ: "JSON", values: []string{`'{"a": 1}'`, `'[1, 2]'`, `'"x"'`, `'null'`, `'1'`}},
	{typ: "INET6", values: []string{"'::1'", "'::ffff:192.168.0.1'", "'2001:db8::1'", "'::'", "'ffff::'"}, direct: true, order: true},
	{typ: "UUID", values: []string{"'123e4567-e89b-12d3-a456-426655440000'", "'00000000-0000-1000-8000-000000000001'", "'ffffffff-ffff-1fff-bfff-ffffffffffff'", "'23e45670-0000-11d3-a456-426655440000'"}, direct: true, order: true},
}

func TestShardedTypes(t *testing.T) {
	p := StartProxy(t, typesConfig())
	db := Open(t, DSN("app", "app", p.Addr, "ty"))
	pc := Conn(t, db)
	oracle := Open(t, DSN("sg", "sg", oracleAddr, ""))
	MustExec(t, oracle, "CREATE DATABASE IF NOT EXISTS ty_oracle")
	t.Cleanup(func() { MustExec(t, oracle, "DROP DATABASE IF EXISTS ty_oracle") })
	oc := Conn(t, Open(t, DSN("sg", "sg", oracleAddr, "ty_oracle")))

	queries := []struct {
		sql     string
		ordered bool
		numeric bool // only for numeric and temporal types
		orders  bool // orders, groups or deduplicates by v, or takes its MIN/MAX
		count   bool // compare the number of rows: which of equal strings stands for them is the server's choice
	}{
		{"SELECT id, v FROM vals WHERE id > ? ORDER BY v, id", true, false, true, false},
		{"SELECT id, v FROM vals WHERE id > ? ORDER BY v DESC, id DESC LIMIT 9", true, false, true, false},
		{"SELECT id, v FROM vals WHERE id > ? AND v IS NOT NULL ORDER BY v, id LIMIT 3 OFFSET 4", true, false, true, false},
		{"SELECT COUNT(DISTINCT v), COUNT(v), COUNT(*) FROM vals WHERE id > ?", false, false, true, false},
		{"SELECT MIN(v), MAX(v) FROM vals WHERE id > ?", false, false, true, false},
		{"SELECT COUNT(v), COUNT(*) FROM vals WHERE id > ?", false, false, false, false},
		{"SELECT COUNT(*) AS n FROM vals WHERE id > ? GROUP BY v", false, false, true, false},
		{"SELECT id % 3 AS g, COUNT(DISTINCT v), MIN(v), MAX(v) FROM vals WHERE id > ? GROUP BY g", false, false, true, false},
		{"SELECT DISTINCT v FROM vals WHERE id > ?", false, false, true, true},
		{"SELECT SUM(v), AVG(v) FROM vals WHERE id > ?", false, true, false, false},
	}
	var compared, refusedOK int
	for _, tc := range typeCases {
		create := "CREATE TABLE vals (id INT PRIMARY KEY, v " + tc.typ + ")"
		var rows []string
		for i := 1; i <= 40; i++ {
			v := tc.values[(i*37)%len(tc.values)] // 37: prime, so every value comes up
			if i%7 == 0 {
				v = "NULL"
			}
			rows = append(rows, fmt.Sprintf("(%d, %s)", i, v))
		}
		insert := "INSERT INTO vals VALUES " + strings.Join(rows, ", ")
		if err := execAll(oc, []string{"DROP TABLE IF EXISTS vals", create, insert}); err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		if !tc.direct {
			if err := execAll(pc, []string{"DROP TABLE IF EXISTS vals", create, insert}); err != nil {
				t.Fatalf("%s: %v", tc.typ, err)
			}
		} else {
			// Shard n is vals_n, on ty_0 (dh0) when n is even, else ty_1.
			for n := 0; n < 4; n++ {
				db, host := "ty_0", dh0Primary
				if n%2 == 1 {
					db, host = "ty_1", dh1Primary
				}
				var mine []string
				for i := 1; i <= 40; i++ {
					if i%4 == n {
						mine = append(mine, rows[i-1])
					}
				}
				phys := fmt.Sprintf("vals_%d", n)
				if err := execAll(Open(t, DSN("sg", "sg", host, db)), []string{"DROP TABLE IF EXISTS " + phys,
					strings.Replace(create, "TABLE vals", "TABLE "+phys, 1),
					"INSERT INTO " + phys + " VALUES " + strings.Join(mine, ", ")}); err != nil {
					t.Fatalf("%s: %v", tc.typ, err)
				}
			}
		}
		for _, q := range queries {
			if q.numeric && !tc.numeric {
				continue
			}
			for _, prepared := range []bool{false, true} {
				text := strings.Replace(q.sql, "?", "0", 1)
				var args []any
				if prepared {
					text, args = q.sql, []any{0}
				}
				want, got := runQuery(oc, text, args...), runQuery(pc, text, args...)
				if want.Err != nil {
					t.Fatalf("%s: %s: the oracle failed: %v", tc.typ, text, want.Err)
				}
				if tc.order && q.orders && isRefusal(got.Err) {
					refusedOK++
					continue
				}
				compared++
				if got.Err != nil {
					t.Errorf("%s: %s (prepared %v): proxy error %v", tc.typ, text, prepared, got.Err)
				} else if q.count && len(got.Rows) != len(want.Rows) {
					t.Errorf("%s: %s (prepared %v): %d rows, the oracle %d", tc.typ, text, prepared, len(got.Rows), len(want.Rows))
				} else if q.numeric && tc.float && len(got.Rows) == 1 && len(want.Rows) == 1 && closeFloats(got.Rows[0], want.Rows[0]) {
					// the same sums, added in another order
				} else if d := compareResults(got, want, q.ordered); d != "" && !q.count {
					t.Errorf("%s: %s (prepared %v): %s", tc.typ, text, prepared, d)
				}
			}
		}
		// INSERT ... SELECT copies every row to another shard (id + 101):
		// the values must arrive exactly; FLOAT is refused (its text loses
		// digits).
		copyRows := "INSERT INTO vals SELECT id + 101, v FROM vals"
		if _, err := oc.ExecContext(context.Background(), copyRows); err != nil {
			t.Fatalf("%s: %s: the oracle failed: %v", tc.typ, copyRows, err)
		}
		_, err := pc.ExecContext(context.Background(), copyRows)
		switch {
		case strings.HasPrefix(tc.typ, "FLOAT"):
			if !isRefusal(err) || !strings.Contains(err.Error(), "FLOAT") {
				t.Errorf("%s: %s: got %v, want 1235 naming FLOAT", tc.typ, copyRows, err)
			}
		case err != nil:
			t.Errorf("%s: %s: %v", tc.typ, copyRows, err)
		default:
			q := "SELECT id, v, HEX(v) FROM vals WHERE id > 100 ORDER BY id"
			if d := compareResults(runQuery(pc, q), runQuery(oc, q), true); d != "" {
				t.Errorf("%s: the rows INSERT ... SELECT copied differ: %s", tc.typ, d)
			}
		}
	}
	t.Logf("sharded types: %d types, %d merged queries compared, %d refused (INET6 and UUID order; ENUM and SET MIN/MAX beside a DISTINCT aggregate)", len(typeCases), compared, refusedOK)
}

// closeFloats reports whether two rows of numbers agree to 1e-12.
func closeFloats(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, err1 := strconv.ParseFloat(a[i], 64)
		y, err2 := strconv.ParseFloat(b[i], 64)
		if err1 != nil || err2 != nil || math.Abs(x-y) > 1e-12*math.Max(math.Abs(x), math.Abs(y)) {
			return false
		}
	}
	return true
}
