package router

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/router/merge"
)

func TestPullable(t *testing.T) {
	cases := []struct {
		sql   string
		found []string // each pulled subquery: kind, then its statement
		texts []string // their results (Text's)
		want  string   // the statement with them written in
	}{
		{sql: "SELECT a FROM t WHERE x = (SELECT MAX(b) FROM u)", found: []string{"scalar SELECT MAX(`b`) FROM `u`"},
			texts: []string{"(5)"}, want: "SELECT `a` FROM `t` WHERE `x` = (5)"},
		{sql: "SELECT a FROM t WHERE x IN (SELECT b FROM u WHERE c = 'k') AND y NOT IN (SELECT d FROM v)",
			found: []string{"in SELECT `b` FROM `u` WHERE `c` = 'k'", "not in SELECT `d` FROM `v`"},
			texts: []string{"1, 'x'", "NULL"}, want: "SELECT `a` FROM `t` WHERE `x` IN (1, 'x') AND `y` NOT IN (NULL)"},
		// IN over no rows is FALSE, NOT IN TRUE, whatever the left side is.
		{sql: "SELECT a FROM t WHERE x IN (SELECT b FROM u) OR y NOT IN (SELECT b FROM u)", found: []string{"in SELECT `b` FROM `u`", "not in SELECT `b` FROM `u`"},
			texts: []string{"", ""}, want: "SELECT `a` FROM `t` WHERE 0 OR 1"},
		{sql: "SELECT a FROM t WHERE (x, y) IN (SELECT b, c FROM u)", found: []string{"in SELECT `b`,`c` FROM `u`"},
			texts: []string{"(1, 2), (3, 4)"}, want: "SELECT `a` FROM `t` WHERE ROW(`x`,`y`) IN ((1, 2), (3, 4))"},
		{sql: "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE b > 2) AND NOT EXISTS (SELECT * FROM v LIMIT 3)",
			found: []string{"exists SELECT 1 FROM `u` WHERE `b` > 2 LIMIT 1", "not exists SELECT * FROM `v` LIMIT 3"},
			texts: []string{"1", "0"}, want: "SELECT `a` FROM `t` WHERE 1 AND 0"},
		// HAVING, ON, a derived table's WHERE, a UNION's part.
		{sql: "SELECT a, COUNT(*) FROM t GROUP BY a HAVING COUNT(*) > (SELECT COUNT(*) FROM u)", found: []string{"scalar SELECT COUNT(1) FROM `u`"},
			texts: []string{"(7)"}, want: "SELECT `a`,COUNT(1) FROM `t` GROUP BY `a` HAVING COUNT(1) > (7)"},
		{sql: "SELECT t.a FROM t JOIN v ON v.a = t.a AND v.b IN (SELECT b FROM u)", found: []string{"in SELECT `b` FROM `u`"},
			texts: []string{"2"}, want: "SELECT `t`.`a` FROM `t` JOIN `v` ON `v`.`a` = `t`.`a` AND `v`.`b` IN (2)"},
		{sql: "SELECT * FROM (SELECT a FROM t WHERE b IN (SELECT c FROM u)) d", found: []string{"in SELECT `c` FROM `u`"},
			texts: []string{"9"}, want: "SELECT * FROM (SELECT `a` FROM `t` WHERE `b` IN (9)) AS `d`"},
		{sql: "SELECT a FROM t WHERE b IN (SELECT c FROM u) UNION SELECT a FROM v", found: []string{"in SELECT `c` FROM `u`"},
			texts: []string{"1"}, want: "SELECT `a` FROM `t` WHERE `b` IN (1) UNION SELECT `a` FROM `v`"},
		// Only the outermost: the inner one is the pulled statement's.
		{sql: "SELECT a FROM t WHERE x IN (SELECT b FROM u WHERE c IN (SELECT d FROM v))", found: []string{"in SELECT `b` FROM `u` WHERE `c` IN (SELECT `d` FROM `v`)"},
			texts: []string{"3"}, want: "SELECT `a` FROM `t` WHERE `x` IN (3)"},
		// A subquery may name its own tables, by name or alias, at any depth.
		{sql: "SELECT a FROM t WHERE x IN (SELECT u.b FROM u JOIN w AS ww ON ww.c = u.c WHERE EXISTS (SELECT 1 FROM v WHERE v.d = u.d))",
			found: []string{"in SELECT `u`.`b` FROM `u` JOIN `w` AS `ww` ON `ww`.`c` = `u`.`c` WHERE EXISTS (SELECT 1 FROM `v` WHERE `v`.`d` = `u`.`d`)"},
			texts: []string{"3"}, want: "SELECT `a` FROM `t` WHERE `x` IN (3)"},
		// An UPDATE's or DELETE's, read with shared locks.
		{sql: "UPDATE t SET a = 1 WHERE x IN (SELECT b FROM u)", found: []string{"in SELECT `b` FROM `u` LOCK IN SHARE MODE"},
			texts: []string{"2, 3"}, want: "UPDATE `t` SET `a`=1 WHERE `x` IN (2, 3)"},
		{sql: "DELETE FROM t WHERE x = (SELECT MAX(b) FROM u) AND NOT EXISTS (SELECT 1 FROM v)",
			found: []string{"scalar SELECT MAX(`b`) FROM `u` LOCK IN SHARE MODE", "not exists SELECT 1 FROM `v` LIMIT 1 LOCK IN SHARE MODE"},
			texts: []string{"(NULL)", "1"}, want: "DELETE FROM `t` WHERE `x` = (NULL) AND 1"},
		{sql: "UPDATE t JOIN w ON w.a = t.a AND w.b IN (SELECT b FROM u) SET t.c = 1", found: []string{"in SELECT `b` FROM `u` LOCK IN SHARE MODE"},
			texts: []string{""}, want: "UPDATE `t` JOIN `w` ON `w`.`a` = `t`.`a` AND 0 SET `t`.`c`=1"},

		{sql: "INSERT INTO t (a) SELECT b FROM u WHERE c IN (SELECT d FROM v) ON DUPLICATE KEY UPDATE a = (SELECT 1 FROM w)",
			found: []string{"in SELECT `d` FROM `v` LOCK IN SHARE MODE"},
			texts: []string{"7"}, want: "INSERT INTO `t` (`a`) SELECT `b` FROM `u` WHERE `c` IN (7) ON DUPLICATE KEY UPDATE `a`=(SELECT 1 FROM `w`)"},

		// = ANY is IN, <> ALL is NOT IN.
		{sql: "SELECT a FROM t WHERE x = ANY (SELECT b FROM u) AND y <> ALL (SELECT c FROM v) AND z = SOME (SELECT d FROM w)",
			found: []string{"in SELECT `b` FROM `u`", "not in SELECT `c` FROM `v`", "in SELECT `d` FROM `w`"},
			texts: []string{"1, 2", "3", ""}, want: "SELECT `a` FROM `t` WHERE `x` IN (1, 2) AND `y` NOT IN (3) AND 0"},

		// Not pulled: correlated, in the select list, ORDER BY or GROUP BY,
		// other comparisons with ANY/ALL, IN with LIMIT, WITH, locking reads, not a SELECT.
		{sql: "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.b = t.b)"},
		{sql: "SELECT a FROM t AS o WHERE x IN (SELECT b FROM u WHERE u.c = o.c)"},
		{sql: "SELECT (SELECT MAX(b) FROM u) FROM t"},
		{sql: "SELECT a FROM t ORDER BY (SELECT MAX(b) FROM u)"},
		{sql: "SELECT a FROM t GROUP BY a, (SELECT MAX(b) FROM u)"},
		{sql: "SELECT a FROM t WHERE x > ANY (SELECT b FROM u)"},
		{sql: "SELECT a FROM t WHERE x = ALL (SELECT b FROM u)"},
		{sql: "SELECT a FROM t WHERE x <> ANY (SELECT b FROM u)"},
		{sql: "SELECT a FROM t WHERE x = ANY (SELECT b FROM u LIMIT 1)"},
		{sql: "SELECT a FROM t WHERE x IN (SELECT b FROM u LIMIT 2)"},
		{sql: "WITH c AS (SELECT 1 AS n) SELECT a FROM t WHERE x IN (SELECT n FROM c)"},
		{sql: "SELECT a FROM t WHERE x IN (SELECT b FROM u) FOR UPDATE"},
		{sql: "SELECT a FROM t WHERE x IN (SELECT b FROM u FOR UPDATE)"},
		{sql: "SELECT a FROM t WHERE x IN (SELECT b FROM u) LOCK IN SHARE MODE"},
		{sql: "UPDATE t SET a = (SELECT MAX(b) FROM u)"},
		{sql: "UPDATE t SET a = 1 WHERE x IN (SELECT b FROM u UNION SELECT c FROM v)"},
		{sql: "DELETE FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.b = t.b)"},
		{sql: "INSERT INTO t VALUES ((SELECT MAX(b) FROM u))"},
		{sql: "INSERT INTO t SET a = (SELECT MAX(b) FROM u)"},

		// A SET's value that is a subquery as a whole, which its variable
		// takes (assign); a DO's, whose value is dropped.
		{sql: "SET @n = (SELECT COUNT(*) FROM u), @m = 5, @k = (SELECT MAX(b) FROM v) + 1, SESSION sql_select_limit = (SELECT MIN(c) FROM w)",
			found: []string{"assign scalar SELECT COUNT(1) FROM `u`", "assign scalar SELECT MIN(`c`) FROM `w`"},
			texts: []string{"(7)", "(NULL)"}, want: "SET @`n`=(7), @`m`=5, @`k`=(SELECT MAX(`b`) FROM `v`) + 1, @@SESSION.`sql_select_limit`=(NULL)"},
		{sql: "DO (SELECT COUNT(*) FROM u), 1", found: []string{"scalar SELECT COUNT(1) FROM `u`"},
			texts: []string{"(3)"}, want: "DO (3), 1"},
		{sql: "SET @n = EXISTS (SELECT 1 FROM u)"},
		{sql: "SET @n = (SELECT a FROM u WHERE u.b = t.b)"},
	}
	kinds := map[PulledKind]string{PullScalar: "scalar", PullIn: "in", PullExists: "exists"}
	for _, c := range cases {
		stmts, err := parser.Parse(c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		before, _ := parser.Restore(stmts)
		subs := Pullable(stmts[0])
		var got []string
		for _, p := range subs {
			q, err := p.SQL(0)
			if err != nil {
				t.Fatalf("%s: %v", c.sql, err)
			}
			k := kinds[p.Kind]
			if p.Not {
				k = "not " + k
			}
			if p.Assign {
				k = "assign " + k
			}
			got = append(got, k+" "+q)
		}
		if strings.Join(got, "\n") != strings.Join(c.found, "\n") {
			t.Errorf("%s: pulled\n%s\nwant\n%s", c.sql, strings.Join(got, "\n"), strings.Join(c.found, "\n"))
			continue
		}
		if len(subs) == 0 {
			continue
		}
		text, err := Inline(stmts[0], subs, c.texts, 0)
		if err != nil || text != c.want {
			t.Errorf("%s: wrote %q (%v), want %q", c.sql, text, err, c.want)
		}
		if after, _ := parser.Restore(stmts); after != before {
			t.Errorf("%s: Inline changed the statement: %s", c.sql, after)
		}
	}
}

func TestPulledText(t *testing.T) {
	scalar, in, exists := &Pulled{Kind: PullScalar}, &Pulled{Kind: PullIn}, &Pulled{Kind: PullExists, Not: true}
	for _, c := range []struct {
		p    *Pulled
		rows [][]string
		want string
	}{
		{scalar, nil, "(NULL)"},
		{scalar, [][]string{{"5"}}, "(5)"},
		{scalar, [][]string{{"5", "'a'"}}, "((5, 'a'))"},
		{in, [][]string{{"1"}, {"NULL"}}, "1, NULL"},
		{in, [][]string{{"1", "2"}, {"3", "4"}}, "(1, 2), (3, 4)"},
		{in, nil, ""},
		{exists, nil, "1"},
		{exists, [][]string{{"1"}}, "0"},
	} {
		if got, err := c.p.Text(c.rows); err != nil || got != c.want {
			t.Errorf("%v %v: %q (%v), want %q", c.p, c.rows, got, err, c.want)
		}
	}
	_, err := scalar.Text([][]string{{"1"}, {"2"}})
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_SUBQUERY_NO_1_ROW {
		t.Errorf("two rows for a scalar: %v, want error 1242", err)
	}
}

// literalCase is a value and the literal written for it ("": refused).
type literalCase struct {
	typ     byte
	charset uint16
	v       string
	null    bool
	mode    parser.Mode
	want    string
}

// checkLiterals checks what write makes of each case.
func checkLiterals(t *testing.T, write func(*merge.Field, []byte, bool, parser.Mode) (string, error), cases []literalCase) {
	t.Helper()
	for _, c := range cases {
		f := merge.Field{Name: "c", Type: c.typ, Charset: c.charset}
		got, err := write(&f, []byte(c.v), c.null, c.mode)
		if c.want == "" {
			if err == nil {
				t.Errorf("type %d %q: %q, want refused", c.typ, c.v, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("type %d %q: %q (%v), want %q", c.typ, c.v, got, err, c.want)
		}
	}
}

func TestPulledLiteral(t *testing.T) {
	checkLiterals(t, PulledLiteral, []literalCase{
		{mysql.MYSQL_TYPE_LONGLONG, 63, "-12", false, 0, "-12"},
		{mysql.MYSQL_TYPE_NEWDECIMAL, 63, "999.320", false, 0, "999.320"},
		{mysql.MYSQL_TYPE_DOUBLE, 63, "0.30000000000000004", false, 0, "0.30000000000000004e0"},
		{mysql.MYSQL_TYPE_DOUBLE, 63, "3.3e22", false, 0, "3.3e22"},
		{mysql.MYSQL_TYPE_LONG, 63, "", true, 0, "NULL"},
		{mysql.MYSQL_TYPE_DATE, 63, "2024-02-29", false, 0, "DATE '2024-02-29'"},
		{mysql.MYSQL_TYPE_DATETIME, 63, "2024-02-29 10:11:12.500", false, 0, "TIMESTAMP '2024-02-29 10:11:12.500'"},
		{mysql.MYSQL_TYPE_TIMESTAMP, 63, "0000-00-00 00:00:00", false, 0, "TIMESTAMP '0000-00-00 00:00:00'"},
		{mysql.MYSQL_TYPE_TIME, 63, "-838:59:59", false, 0, "TIME '-838:59:59'"},
		{mysql.MYSQL_TYPE_VAR_STRING, 45, "it's \\ é", false, 0, `'it''s \\ é'`},
		{mysql.MYSQL_TYPE_VAR_STRING, 45, "it's \\", false, parser.ModeNoBackslashEscapes, `'it''s \'`},
		{mysql.MYSQL_TYPE_VAR_STRING, 63, "\x00\xff", false, 0, "X'00ff'"},
		{mysql.MYSQL_TYPE_BLOB, 63, "", false, 0, "X''"},
		{mysql.MYSQL_TYPE_FLOAT, 63, "0.1", false, 0, ""},
		{mysql.MYSQL_TYPE_BIT, 63, "\x05", false, 0, ""},
		{mysql.MYSQL_TYPE_GEOMETRY, 63, "\x00", false, 0, ""},
	})
}

// A variable takes a pulled value with its type: a string, whose
// collation no result metadata tells, is refused.
func TestAssignedLiteral(t *testing.T) {
	assigned := func(charset, collation string) func(*merge.Field, []byte, bool, parser.Mode) (string, error) {
		return func(f *merge.Field, v []byte, null bool, mode parser.Mode) (string, error) {
			return AssignedLiteral(f, v, null, mode, charset, collation)
		}
	}
	// A string takes the collation it has on the servers, in the rows'
	// character set; without one, or in another, it is refused.
	checkLiterals(t, assigned("utf8mb4", "utf8mb4_unicode_ci"), []literalCase{
		{mysql.MYSQL_TYPE_VAR_STRING, 45, "paid", false, 0, "_utf8mb4 X'70616964' COLLATE utf8mb4_unicode_ci"},
		{mysql.MYSQL_TYPE_BLOB, 45, "é", false, 0, "_utf8mb4 X'c3a9' COLLATE utf8mb4_unicode_ci"},
		{mysql.MYSQL_TYPE_LONGLONG, 63, "7", false, 0, "7"},
	})
	checkLiterals(t, assigned("utf8mb4", "latin1_bin"), []literalCase{
		{mysql.MYSQL_TYPE_VAR_STRING, 45, "paid", false, 0, ""},
	})
	checkLiterals(t, assigned("", ""), []literalCase{
		{mysql.MYSQL_TYPE_LONGLONG, 63, "2148", false, 0, "2148"},
		{mysql.MYSQL_TYPE_NEWDECIMAL, 63, "1081956.75", false, 0, "1081956.75"},
		{mysql.MYSQL_TYPE_DOUBLE, 63, "100", false, 0, "100e0"},
		{mysql.MYSQL_TYPE_DATETIME, 63, "2025-03-01 00:00:00", false, 0, "TIMESTAMP '2025-03-01 00:00:00'"},
		{mysql.MYSQL_TYPE_VAR_STRING, 45, "", true, 0, "NULL"},
		{mysql.MYSQL_TYPE_BLOB, 63, "\x01", false, 0, "X'01'"},
		{mysql.MYSQL_TYPE_VAR_STRING, 45, "paid", false, 0, ""},
		{mysql.MYSQL_TYPE_FLOAT, 63, "0.1", false, 0, ""},
	})
}

func TestPlacement(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{errUnsupported("joining users (on dn1) with shards of orders on other nodes: cross-node joins"), true},
		{errUnsupported("a join or subquery across shards of a and b that is not on their sharding keys: cross-shard joins"), true},
		{errUnsupported("a subquery ... over several shards of orders ...: cross-shard subqueries"), true},
		{errUnsupported("GROUP_CONCAT() across shards"), false},
		{mysql.NewDefaultError(mysql.ER_BAD_FIELD_ERROR, "x", "where clause"), false},
		{nil, false},
	} {
		if got := Placement(c.err); got != c.want {
			t.Errorf("%v: %v, want %v", c.err, got, c.want)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	stmts, err := parser.Parse("SELECT a FROM t WHERE x = (SELECT MAX(b) FROM u WHERE c = ?) AND y IN (SELECT d FROM v) AND ? > 1 AND NOT EXISTS (SELECT 1 FROM w WHERE e IN (?, ?))")
	if err != nil {
		t.Fatal(err)
	}
	subs := Pullable(stmts[0])
	text, err := Inline(stmts[0], subs, Placeholders(subs), 0)
	want := "SELECT `a` FROM `t` WHERE `x` = (SELECT NULL FROM DUAL WHERE COALESCE(?) IS NULL) AND `y` IN (SELECT NULL FROM DUAL) AND ? > 1 AND NOT EXISTS (SELECT NULL FROM DUAL WHERE COALESCE(?, ?) IS NULL)"
	if err != nil || text != want {
		t.Errorf("%q (%v), want %q", text, err, want)
	}
}

// TestStringForm: how a pulled subquery's strings are written, by what
// they are (a column's value, IMPLICIT; a literal's, COERCIBLE), their
// collation, and what they are compared with.
func TestStringForm(t *testing.T) {
	env := testEnv(t)
	env.KeyColumnType = func(schema, table, column string) string {
		switch table + "." + column {
		case "orders.status":
			return "varchar utf8mb4_general_ci"
		case "orders.code":
			return "varchar utf8mb4_bin"
		case "orders.l":
			return "varchar latin1_swedish_ci"
		case "orders.u":
			return "varchar utf8mb4_unicode_ci"
		case "orders.id":
			return "int binary"
		}
		return ""
	}
	general := StringColumn{Charset: "utf8mb4", Collation: "utf8mb4_general_ci", Default: true}
	bin := StringColumn{Charset: "utf8mb4", Collation: "utf8mb4_bin"}
	unicode := StringColumn{Charset: "utf8mb4", Collation: "utf8mb4_unicode_ci"}
	latin1Bin := StringColumn{Charset: "latin1", Collation: "latin1_bin"}
	const conn = "utf8mb4_general_ci"
	for _, c := range []struct {
		sql  string
		col  StringColumn
		want stringForm
		why  string // (refusedForm's, in part)
	}{
		// A column's value in its charset's default collation: IMPLICIT, anywhere.
		{sql: "SELECT a FROM orders WHERE LENGTH((SELECT MAX(name) FROM users)) = 3", col: general, want: implicitForm},
		{sql: "SELECT a FROM orders WHERE u IN (SELECT name FROM users)", col: general, want: implicitForm},
		// A literal's: COERCIBLE, anywhere.
		{sql: "SELECT a FROM orders WHERE code IN (SELECT 'x' FROM users)", col: general, want: coercibleForm},
		// Another collation, named: against a literal, the same collation,
		// a number, a latin1 column (converted to utf8mb4), or, for _bin,
		// another collation of its character set.
		{sql: "SELECT a FROM orders WHERE 'ABC' = (SELECT MAX(name) FROM users)", col: bin, want: explicitForm},
		{sql: "SELECT a FROM orders WHERE code IN (SELECT name FROM users)", col: bin, want: explicitForm},
		{sql: "SELECT a FROM orders WHERE id = (SELECT MAX(name) FROM users)", col: bin, want: explicitForm},
		{sql: "SELECT a FROM orders WHERE l IN (SELECT name FROM users)", col: unicode, want: explicitForm},
		{sql: "SELECT a FROM orders o WHERE o.status LIKE (SELECT MAX(name) FROM users)", col: bin, want: explicitForm},
		{sql: "SELECT a FROM orders WHERE u IN (SELECT name FROM users)", col: bin, want: explicitForm},
		{sql: "SELECT a FROM orders WHERE (id, code) IN (SELECT id, name FROM users)", col: bin, want: explicitForm},
		// A literal's value in a collation that is not the default, against a
		// column: the column's collation.
		{sql: "SELECT a FROM orders WHERE status IN (SELECT 'x' FROM users)", col: bin, want: coercibleForm},
		// Refused: the server would pick the other side's, or fail.
		{sql: "SELECT a FROM orders WHERE code IN (SELECT name FROM users)", col: unicode, why: "compared with a value in utf8mb4_bin"},
		{sql: "SELECT a FROM orders WHERE status IN (SELECT name FROM users)", col: unicode, why: "compared with a value in utf8mb4_general_ci"},
		{sql: "SELECT a FROM orders WHERE status IN (SELECT name FROM users)", col: latin1Bin, why: "compared with a value in utf8mb4_general_ci"},
		{sql: "SELECT a FROM orders WHERE LENGTH((SELECT MAX(name) FROM users)) = 3", col: bin, why: "used other than compared"},
		// An expression's value may be a literal's too (COERCIBLE, like the other side).
		{sql: "SELECT a FROM orders WHERE 'x' = (SELECT MAX(CONCAT(name, '')) FROM users)", col: bin, why: "compared with a literal"},
		{sql: "SELECT a FROM orders WHERE 'x' = (SELECT MAX(CONCAT(name, '')) FROM users)", col: StringColumn{Charset: "utf8mb4", Collation: conn}, want: explicitForm},
		// unknown until described (PartnerProbe)
		{sql: "SELECT a FROM orders WHERE CONCAT(status, '') = (SELECT MAX(name) FROM users)", col: bin, why: needPartner},
		{sql: "SELECT a FROM (SELECT status FROM orders) d WHERE d.status = (SELECT MAX(name) FROM users)", col: bin, why: needPartner},
		// A derived table's column may be a literal's: not IMPLICIT for sure.
		{sql: "SELECT a FROM orders WHERE u IN (SELECT d.n FROM (SELECT 'x' AS n) d)", col: general, why: "compared with a value in utf8mb4_unicode_ci"},
	} {
		stmts, err := parser.ParseMode(c.sql, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		subs := Pullable(stmts[0])
		if len(subs) != 1 {
			t.Fatalf("%s: %d pulled", c.sql, len(subs))
		}
		p := subs[0]
		i := len(p.partners) - 1 // (the row's last column)
		got, why := p.stringForm(max(i, 0), env, c.col, conn)
		if got != c.want || !strings.Contains(why, c.why) {
			t.Errorf("%s (%s): %d %q, want %d %q", c.sql, c.col.Collation, got, why, c.want, c.why)
		}
		// A probe statement exactly when the form waits for it (and none
		// for a result without strings).
		cols := make([]StringColumn, max(i, 0)+1)
		cols[max(i, 0)] = c.col
		probe, err := p.PartnerProbe(cols, env, conn, 0)
		if err != nil || (probe != "") != (c.why == needPartner) {
			t.Errorf("%s: probe %q %v", c.sql, probe, err)
		}
		if probe, err := p.PartnerProbe(make([]StringColumn, len(cols)), env, conn, 0); err != nil || probe != "" {
			t.Errorf("%s: probe %q %v for no strings", c.sql, probe, err)
		}
	}
	// The probe describes what the strings are compared with, LIMIT 0.
	stmts, _ := parser.ParseMode("SELECT a FROM orders o WHERE CONCAT(o.status, '') = (SELECT MAX(name) FROM users)", 0)
	p := Pullable(stmts[0])[0]
	probe, err := p.PartnerProbe([]StringColumn{bin}, env, conn, 0)
	if want := "SELECT CONCAT(`o`.`status`, '') FROM `orders` AS `o` LIMIT 0"; err != nil || probe != want {
		t.Errorf("probe %q %v, want %q", probe, err, want)
	}
	p.SetPartners([]merge.Field{{Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 33}}, func(uint16) string { return "utf8mb3_general_ci" })
	if got, why := p.stringForm(0, env, bin, conn); got != explicitForm {
		t.Errorf("after the probe (utf8mb3 against utf8mb4_bin): %d %q, want the named collation", got, why)
	}
}
