package router

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

var update = flag.Bool("update", false, "rewrite testdata/cases.txt with the plans the router makes now")

// testConfig is DESIGN.md's example plus a table for every algorithm.
const testConfig = `
users:
  - {name: app, password: app, schemas: [shop, other]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: 127.0.0.1:13306}
  - {name: dh1, user: sg, password: sg, primary: 127.0.0.1:13307}
data_nodes:
  - {name: dn0, host: dh0, database: shop_0}
  - {name: dn1, host: dh1, database: shop_1}
  - {name: on0, host: dh1, database: other_0}
schemas:
  - name: shop
    default_node: dn0
    tables:
      users:    {node: dn1}
      orders:   {column: user_id, algorithm: mod, shards: 4, nodes: [dn0, dn1]}
      order_items: {parent: orders, column: order_id, parent_column: id}
      order_notes: {parent: orders, column: user_id, parent_column: user_id}
      regions:  {global: true}
      t_hash:   {column: name, algorithm: hash, shards: 4, nodes: [dn0, dn1]}
      t_range:  {column: id, algorithm: range, shards: 3, nodes: [dn0, dn1], options: {boundaries: [100, 200]}}
      t_date:   {column: created, algorithm: date, shards: 4, nodes: [dn0, dn1], options: {unit: month, start: "2024-01-01", wrap: true}}
      t_enum:   {column: country, algorithm: enum, shards: 2, nodes: [dn0, dn1], options: {map: {CN: 0, US: 1}, default_shard: 0}}
      t_jump:   {column: id, algorithm: jump_hash, shards: 4, nodes: [dn0, dn1]}
      t_ring:   {column: id, algorithm: consistent_hash, shards: 4, nodes: [dn0, dn1]}
      t_slot:   {column: id, algorithm: slot, shards: 4, nodes: [dn0, dn1]}
      t_prefix: {column: code, algorithm: string_prefix, shards: 4, nodes: [dn0, dn1], options: {length: 2}}
      t_bin:    {column: code, algorithm: hash, shards: 2, nodes: [dn0, dn1], options: {collation: binary}}
      t_gen:    {column: code, algorithm: hash, shards: 2, nodes: [dn0, dn1], options: {collation: utf8mb4_general_ci}}
  - name: other
    default_node: on0
`

func testEnv(t testing.TB) *Env {
	c, err := conf.Parse("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]*shardrules.SchemaRules{}
	for i := range c.Schemas {
		r, err := shardrules.Build(&c.Schemas[i])
		if err != nil {
			t.Fatal(err)
		}
		rules[c.Schemas[i].Name] = r
	}
	dbs := map[string]string{}
	for _, n := range c.DataNodes {
		dbs[n.Name] = n.Database
	}
	return &Env{
		Schema:       "shop",
		Rules:        func(s string) *shardrules.SchemaRules { return rules[s] },
		NodeDB:       func(n string) string { return dbs[n] },
		CanUse:       func(s string) bool { return s == "shop" || s == "other" },
		User:         "app",
		Host:         "10.0.0.7",
		DivPrecision: 4,
		Columns: func(schema, table string) ([]string, error) {
			if table == "orders" {
				return []string{"id", "user_id", "amount"}, nil
			}
			return nil, fmt.Errorf("no columns known for %s", table)
		},
		Keys: func(schema, table string) ([]string, error) {
			if table == "nokey" {
				return nil, nil
			}
			return []string{"id"}, nil
		},
		Values: parser.SessionValues{ConnectionID: 7, Database: "shop"},
	}
}

// A case is "sql: ..." followed by the expected plan (Explain output) or
// "error: ..." (the MySQL error code and message).
type planCase struct {
	comment []string
	sql     string
	want    string
}

func readCases(t testing.TB) []*planCase {
	data, err := os.ReadFile("testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	var cases []*planCase
	var cur *planCase
	var comments []string
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			comments = append(comments, line)
		case strings.HasPrefix(line, "sql: "):
			cur = &planCase{comment: comments, sql: strings.TrimPrefix(line, "sql: ")}
			comments = nil
			cases = append(cases, cur)
		case strings.TrimSpace(line) == "":
			if cur != nil {
				cur.want = strings.TrimRight(cur.want, "\n")
			}
		case cur != nil:
			cur.want += line + "\n"
		}
	}
	for _, c := range cases {
		c.want = strings.TrimRight(c.want, "\n")
	}
	return cases
}

func planText(env *Env, sql string) string {
	stmts, err := parser.Parse(sql)
	if err != nil {
		return "error: parse: " + err.Error()
	}
	p, err := Build(stmts[0], env)
	if err != nil {
		if me, ok := err.(*mysql.MyError); ok {
			return fmt.Sprintf("error: %d %s", me.Code, me.Message)
		}
		return "error: " + err.Error()
	}
	return strings.TrimRight(p.Explain(), "\n")
}

func TestPlans(t *testing.T) {
	cases := readCases(t)
	if len(cases) < 150 {
		t.Errorf("only %d router cases; keep at least 150", len(cases))
	}
	var out strings.Builder
	for _, c := range cases {
		got := planText(testEnv(t), c.sql)
		if *update {
			for _, cm := range c.comment {
				out.WriteString(cm + "\n")
			}
			fmt.Fprintf(&out, "sql: %s\n%s\n\n", c.sql, got)
			continue
		}
		if got != c.want {
			t.Errorf("%s\n--- got\n%s\n--- want\n%s", c.sql, got, c.want)
		}
	}
	if *update {
		if err := os.WriteFile("testdata/cases.txt", []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A latin1 client's text keys are read as the same characters in UTF-8;
// another charset's text beyond ASCII has no shard: looked up everywhere,
// refused for a row.
func TestForeignCharsetKeys(t *testing.T) {
	utf8 := planText(testEnv(t), "SELECT * FROM t_hash WHERE name = 'Renée'")
	latin1 := testEnv(t)
	latin1.ForeignCharset = "latin1"
	if got := planText(latin1, "SELECT * FROM t_hash WHERE name = 'Ren\xe9e'"); strings.ReplaceAll(got, "Ren\xe9e", "Renée") != utf8 {
		t.Errorf("latin1 'Renée' plans\n%s\nwhere UTF-8 plans\n%s", got, utf8)
	}
	cp := testEnv(t)
	cp.ForeignCharset = "cp1251"
	if got := planText(cp, "SELECT * FROM t_hash WHERE name = '\xcf\xf0'"); !strings.HasPrefix(got, "Scatter") || strings.Count(got, "SELECT") != 4 {
		t.Errorf("cp1251 text plans\n%s\nwant every shard", got)
	}
	if got := planText(cp, "SELECT * FROM t_hash WHERE name = 'ok'"); strings.Count(got, "SELECT") != 1 {
		t.Errorf("cp1251 ASCII text plans\n%s\nwant one shard", got)
	}
	if got := planText(cp, "INSERT INTO t_hash (id, name) VALUES (1, '\xcf\xf0')"); !strings.Contains(got, "error: 1235") || !strings.Contains(got, "cp1251 text beyond ASCII") {
		t.Errorf("cp1251 INSERT: %s", got)
	}
}

// The server compares a number with a string column, and a string that is
// not a plain number with a number column, as numbers: 'abc' = 0 and
// '7abc' = 7. A text-placing algorithm cannot find those rows by one
// shard, so such a lookup reads every shard (and a template does not
// serve it).
func TestKeyColumnClass(t *testing.T) {
	env := testEnv(t)
	env.KeyColumnType = func(schema, table, column string) string {
		switch table + "." + column {
		case "t_hash.name":
			return "varchar utf8mb4_general_ci"
		case "t_ring.id":
			return "int binary"
		}
		return ""
	}
	for _, c := range []struct {
		sql    string
		shards int // SELECTs in the plan
	}{
		{"SELECT * FROM t_hash WHERE name = 'abc'", 1},
		{"SELECT * FROM t_hash WHERE name = 0", 4},
		{"SELECT * FROM t_hash WHERE name IN ('abc', 42)", 4},
		{"SELECT * FROM t_ring WHERE id = 7", 1},
		{"SELECT * FROM t_ring WHERE id = ' 7.0'", 1},
		{"SELECT * FROM t_ring WHERE id = '7abc'", 4},
	} {
		if got := planText(env, c.sql); strings.Count(got, "SELECT") != c.shards {
			t.Errorf("%s plans\n%s\nwant %d shards", c.sql, got, c.shards)
		}
	}
	// A number stored in a string column is its text: the row has a place.
	if got := planText(env, "INSERT INTO t_hash (id, name) VALUES (1, 42)"); strings.Count(got, "INSERT") != 1 {
		t.Errorf("INSERT of a number into the string key plans\n%s", got)
	}
	if got := planText(env, "INSERT INTO t_ring (id) VALUES ('7abc')"); !strings.HasPrefix(got, "error: 1411") {
		t.Errorf("INSERT of '7abc' into the number key: %s", got)
	}

	// The template of a string lookup does not serve a number.
	stmts, err := parser.Parse("SELECT * FROM t_hash WHERE name = ?")
	if err != nil {
		t.Fatal(err)
	}
	bindMarkers(stmts[0], []any{"abc"})
	tpl, _, err := Compile(stmts[0], env)
	if tpl == nil || err != nil {
		t.Fatalf("no template: %v", err)
	}
	var p Plan
	var r Route
	if _, ok := tpl.PlanInto(&p, &r, nil, []string{"0"}, []any{int64(0)}); ok {
		t.Error("the template placed name = 0")
	}
	if _, ok := tpl.PlanInto(&p, &r, nil, []string{"'x'"}, []any{"x"}); !ok {
		t.Error("the template did not place name = 'x'")
	}
}

// Under a collation the folding does not agree with (read from the
// server), printable ASCII keys are placed, others read every shard and
// are refused for a row.
func TestKeyColumnMisfit(t *testing.T) {
	env := testEnv(t)
	env.KeyColumnType = func(schema, table, column string) string { return "varchar utf8mb4_danish_ci" }
	for sql, shards := range map[string]int{
		"SELECT * FROM t_hash WHERE name = 'aa'":    1,
		"SELECT * FROM t_hash WHERE name = 'å'":     4,
		"SELECT * FROM t_hash WHERE name = 'a\x01'": 4,
	} {
		if got := planText(env, sql); strings.Count(got, "SELECT") != shards {
			t.Errorf("%s plans\n%s\nwant %d shards", sql, got, shards)
		}
	}
	if got := planText(env, "INSERT INTO t_hash (id, name) VALUES (1, 'å')"); !strings.Contains(got, "error: 1235") || !strings.Contains(got, "utf8mb4_danish_ci") {
		t.Errorf("INSERT 'å' under utf8mb4_danish_ci: %s", got)
	}
	env.KeyColumnType = func(schema, table, column string) string { return "varchar utf8mb4_unicode_ci" }
	if got := planText(env, "SELECT * FROM t_gen WHERE code = 'é'"); strings.Count(got, "SELECT") != 2 {
		t.Errorf("collation utf8mb4_general_ci over a utf8mb4_unicode_ci column plans\n%s\nwant every shard", got)
	}
}

func TestCollationFits(t *testing.T) {
	for reading, cases := range map[string]map[string]bool{
		"text": {"utf8mb4_general_ci": true, "utf8mb3_unicode_ci": true, "utf8mb4_uca1400_as_cs": true, "utf8mb4_unicode_520_nopad_ci": true,
			"utf8mb4_uca1400_danish_ai_ci": false, "latin1_swedish_ci": false, "utf8mb4_german2_ci": false, "utf8mb4_bin": true, "binary": true, "ascii_general_ci": true},
		"utf8mb4_unicode_ci": {"utf8mb4_unicode_ci": true, "utf8mb4_unicode_nopad_ci": true, "utf8_unicode_ci": true,
			"utf8mb4_general_ci": false, "utf8mb4_unicode_520_ci": false, "utf8mb4_bin": true},
		"utf8mb4_uca1400_ai_ci": {"utf8mb4_uca1400_as_cs": true, "utf8mb4_uca1400_nopad_ai_ci": true, "utf8mb4_uca1400_ai_ci": true,
			"utf8mb4_uca1400_danish_ai_ci": false, "utf8mb4_unicode_ci": false},
		"binary": {"utf8mb4_general_ci": false, "binary": true, "utf8mb4_bin": true, "latin1_bin": true},
	} {
		for collation, want := range cases {
			if got := collationFits(reading, collation); got != want {
				t.Errorf("collationFits(%s, %s) = %v, want %v", reading, collation, got, want)
			}
		}
	}
}

// ENUM and SET columns sort and group by position: their merge key is a
// position helper (e + 0, zero-padded), marked so the executor takes it;
// other strings keep their weight string, and MIN/MAX compare labels.
func TestPositionWeights(t *testing.T) {
	env := testEnv(t)
	env.KeyColumnType = func(schema, table, column string) string {
		switch column {
		case "status":
			return "enum utf8mb4_general_ci"
		case "tags":
			return "set utf8mb4_general_ci"
		case "note":
			return "varchar utf8mb4_general_ci"
		}
		return ""
	}
	for _, c := range []struct {
		sql, want string
	}{
		{"SELECT id FROM orders ORDER BY status, note", "CONCAT('binary:', LPAD(`status` + 0, 20, '0'))"},
		{"SELECT status, COUNT(*) FROM orders GROUP BY status", "CONCAT('binary:', LPAD(`status` + 0, 20, '0'))"},
		{"SELECT COUNT(DISTINCT o.tags) FROM orders o", "CONCAT('binary:', LPAD(`o`.`tags` + 0, 20, '0'))"},
	} {
		got := planText(env, c.sql)
		if !strings.Contains(got, c.want) {
			t.Errorf("%s plans\n%s\nwant a helper %s", c.sql, got, c.want)
		}
	}
	if got := planText(env, "SELECT id FROM orders ORDER BY note"); strings.Contains(got, "LPAD") {
		t.Errorf("a VARCHAR sorts by position:\n%s", got)
	}
	if got := planText(env, "SELECT MIN(status) FROM orders"); strings.Contains(got, "LPAD") {
		t.Errorf("MIN of an ENUM compares positions:\n%s", got)
	}
}

// An INSERT of several rows says how its shards' answers add up to its
// Records line; its rows split over shards do not change that.
func TestInsertKind(t *testing.T) {
	for _, c := range []struct {
		sql  string
		want InsertKind
	}{
		{"INSERT INTO orders (id, user_id) VALUES (1, 1)", NotInsert},
		{"INSERT INTO orders SET id = 1, user_id = 1", NotInsert},
		{"INSERT INTO orders (id, user_id) VALUES (1, 1), (2, 2)", InsertPlain},
		{"INSERT IGNORE INTO orders (id, user_id) VALUES (1, 1), (2, 2)", InsertIgnore},
		{"REPLACE INTO orders (id, user_id) VALUES (1, 1), (2, 2)", InsertReplace},
		{"INSERT IGNORE INTO orders (id, user_id) VALUES (1, 1), (2, 2) ON DUPLICATE KEY UPDATE id = id", InsertUpsert},
		{"INSERT INTO regions (id) VALUES (1), (2)", InsertPlain},
		{"UPDATE orders SET status = 2 WHERE user_id IN (1, 2)", NotInsert},
	} {
		stmts, err := parser.Parse(c.sql)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Build(stmts[0], testEnv(t))
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if p.Insert != c.want {
			t.Errorf("%s: insert kind %d, want %d", c.sql, p.Insert, c.want)
		}
	}
}

// A string column of a collation the merge implements is ordered by the
// merge itself when its strings come as UTF-8: the shards send no
// WEIGHT_STRING helper for it. Numbers need none either; anything else
// keeps its helper.
func TestMergeCollation(t *testing.T) {
	env := testEnv(t)
	env.KeyColumnType = func(schema, table, column string) string {
		switch table + "." + column {
		case "orders.c":
			return "varchar utf8mb4_general_ci"
		case "orders.b":
			return "char utf8mb3_bin"
		case "orders.n":
			return "char utf8mb4_nopad_bin"
		case "orders.u":
			return "varchar utf8mb4_unicode_ci"
		case "orders.amount":
			return "decimal binary"
		case "orders.id":
			return "bigint binary"
		case "orders.raw":
			return "varbinary binary"
		case "orders.e":
			return "enum binary"
		case "order_notes.c":
			return "varchar utf8mb4_general_ci"
		}
		return ""
	}
	for _, c := range []struct {
		sql, results string
		weights      int    // WEIGHT_STRING helpers in a shard's statement
		keys         string // in the plan's keys
	}{
		{"SELECT id, c FROM orders ORDER BY c", "utf8mb4", 0, "utf8mb4_general_ci"},
		{"SELECT id, c FROM orders ORDER BY c DESC, id", "utf8mb4", 0, "utf8mb4_general_ci desc"},
		{"SELECT DISTINCT c FROM orders", "utf8mb4", 0, "utf8mb4_general_ci"},
		{"SELECT c, COUNT(*) FROM orders GROUP BY c", "utf8mb4", 0, "utf8mb4_general_ci"},
		{"SELECT c, COUNT(*) FROM orders GROUP BY c", "latin1", 1, "weight"},
		{"SELECT c, COUNT(*) AS n FROM orders GROUP BY c ORDER BY n DESC, c", "utf8mb4", 0, "desc, col 0 utf8mb4_general_ci"},
		{"SELECT id FROM orders o ORDER BY o.c", "utf8mb4", 0, "utf8mb4_general_ci"},
		{"SELECT id, b FROM orders ORDER BY b", "utf8mb3", 0, "utf8mb3_bin"},
		{"SELECT id, amount FROM orders ORDER BY amount", "latin1", 0, "col 1"},
		{"SELECT id, raw FROM orders ORDER BY raw", "latin1", 0, "col 1"},
		// The rows' strings are not UTF-8, or lose characters on the way.
		{"SELECT id, c FROM orders ORDER BY c", "latin1", 1, "weight"},
		{"SELECT id, c FROM orders ORDER BY c", "utf8mb3", 1, "weight"},
		// A collation the merge does not implement; an expression; a
		// COLLATE clause; a name two tables have.
		{"SELECT id, u FROM orders ORDER BY u", "utf8mb4", 1, "weight"},
		{"SELECT id, n FROM orders ORDER BY n", "utf8mb4", 1, "weight"},
		{"SELECT id, c FROM orders ORDER BY CONCAT(c, 'x')", "utf8mb4", 1, "weight"},
		{"SELECT id, c FROM orders ORDER BY c COLLATE utf8mb4_bin", "utf8mb4", 1, "weight"},
		{"SELECT o.id FROM orders o JOIN order_notes n ON n.user_id = o.user_id ORDER BY c", "utf8mb4", 1, "weight"},
		{"SELECT id, e FROM orders ORDER BY e", "utf8mb4", 0, "weight"},
	} {
		env.ResultsCharset = c.results
		got := planText(env, c.sql)
		first := got[strings.Index(got, "SELECT"):]
		first, _, _ = strings.Cut(first, "\n")
		if n := strings.Count(first, "WEIGHT_STRING"); n != c.weights || !strings.Contains(got, c.keys) {
			t.Errorf("%s (results %s): %d weight helpers, want %d and keys with %q:\n%s", c.sql, c.results, n, c.weights, c.keys, got)
		}
	}
}

func TestGroupConcatPlan(t *testing.T) {
	env := testEnv(t)
	env.ResultsCharset = "utf8mb4"
	for _, c := range []struct{ sql, want string }{
		{"SELECT GROUP_CONCAT(status) FROM orders", "funcs [group_concat(col 0)]"},
		{"SELECT user_id, GROUP_CONCAT(tag SEPARATOR ';') AS t FROM orders GROUP BY user_id ORDER BY user_id", "SEPARATOR ';'"},
		{"SELECT status, GROUP_CONCAT(tag) FROM orders GROUP BY status HAVING COUNT(*) > 1", "group_concat(col 1)"},
		{"SELECT GROUP_CONCAT(tag ORDER BY tag) FROM orders", "error: 1235 shardgate does not support GROUP_CONCAT() with DISTINCT or ORDER BY across shards"},
		{"SELECT status, GROUP_CONCAT(tag) AS g FROM orders GROUP BY status ORDER BY g", "error: 1235 shardgate does not support ordering or filtering by a GROUP_CONCAT() across shards"},
		{"SELECT status, GROUP_CONCAT(tag) FROM orders GROUP BY status ORDER BY 2", "ordering or filtering by a GROUP_CONCAT()"},
		{"SELECT status FROM orders GROUP BY status HAVING GROUP_CONCAT(tag) LIKE '%a%'", "error: 1235"},
		{"SELECT GROUP_CONCAT(tag SEPARATOR 'é') FROM orders", "LENGTH(GROUP_CONCAT(`tag` SEPARATOR 'é'))"},
	} {
		if got := planText(env, c.sql); !strings.Contains(got, c.want) {
			t.Errorf("%s: want %q in\n%s", c.sql, c.want, got)
		}
	}
	// Rows in another character set: an ASCII separator only (its bytes
	// are the same where the limit counts them).
	env.ResultsCharset = ""
	if got := planText(env, "SELECT GROUP_CONCAT(tag) FROM orders"); !strings.Contains(got, "group_concat(col 0)") {
		t.Errorf("latin1 results, ASCII separator: %s", got)
	}
	if got := planText(env, "SELECT GROUP_CONCAT(tag SEPARATOR 'é') FROM orders"); !strings.Contains(got, "separator beyond ASCII") {
		t.Errorf("latin1 results, separator é: %s", got)
	}
}

func TestServerExpr(t *testing.T) {
	env := testEnv(t)
	for _, c := range []struct {
		sql  string
		lits []string // the merged values written in
		want string   // the expression a server computes, or the refusal
	}{
		{"SELECT CONCAT(COUNT(*), '-', SUM(qty)) FROM orders", []string{"5", "7"}, "CONCAT(5, '-', 7)"},
		{"SELECT status, DATE_FORMAT(MAX(created), '%Y') AS y FROM orders GROUP BY status", []string{"TIMESTAMP '2024-01-02 03:04:05'"}, "DATE_FORMAT(TIMESTAMP '2024-01-02 03:04:05', '%Y')"},
		{"SELECT status, CONCAT(status, ':', COUNT(*)) FROM orders GROUP BY status", []string{"'paid'", "3"}, "CONCAT('paid', ':', 3)"},
		{"SELECT FORMAT(SUM(amount) / COUNT(*), 2) FROM orders", []string{"10.50", "4"}, "FORMAT(10.50 / 4, 2)"},
		// AVG's merged value hides digits MySQL computes on; time moves on.
		{"SELECT CONCAT(AVG(amount)) FROM orders", nil, "error: 1235 shardgate does not support CONCAT() over aggregates across shards"},
		{"SELECT DATEDIFF(NOW(), MAX(created)) FROM orders", nil, "error: 1235 shardgate does not support DATEDIFF() over aggregates across shards"},
		// Sorted or filtered by: the shards' values would decide.
		{"SELECT status, UPPER(MAX(tag)) AS u FROM orders GROUP BY status ORDER BY u", nil, "error: 1235 shardgate does not support UPPER() over aggregates across shards"},
		{"SELECT status, UPPER(MAX(tag)) FROM orders GROUP BY status HAVING UPPER(MAX(tag)) > 'A'", nil, "error: 1235"},
	} {
		stmts, err := parser.Parse(c.sql)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Build(stmts[0], env)
		if err != nil {
			if got := planText(env, c.sql); !strings.HasPrefix(got, c.want) {
				t.Errorf("%s: %s, want %s", c.sql, got, c.want)
			}
			continue
		}
		var se *ServerExpr
		for n := p.Root; n != nil; {
			if cp, ok := n.(*Compute); ok {
				se, _ = cp.Exprs[0].(*ServerExpr)
				break
			}
			si, ok := n.(singleInput)
			if !ok {
				break
			}
			n = si.input()
		}
		if se == nil {
			t.Errorf("%s: no server expression in\n%s", c.sql, p.Explain())
			continue
		}
		if got := se.Text(c.lits); got != c.want {
			t.Errorf("%s: %q, want %q", c.sql, got, c.want)
		}
	}
}

// A prepared statement's metadata comes from one node: the tables on one
// node each of other nodes are its twins there; a statement whose other
// tables are not there is refused.
func TestPrepareSQLApart(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT * FROM users u JOIN products p ON p.id = u.id":                   "dn1 [{dn0 products}]",
		"SELECT * FROM products WHERE id IN (SELECT id FROM users)":              "dn0 [{dn1 users}]",
		"SELECT * FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id = ?": "dn1 []",
		"SELECT * FROM products p JOIN orders o ON o.id = p.id":                  "dn0 []",
		"SELECT * FROM other.t JOIN orders o ON o.id = t.id":                     "orders is not on on0",
		// The server's error comes first.
		"WITH w AS (SELECT t.id, t.id FROM other.t JOIN orders ON orders.id = t.id) SELECT * FROM w": "error: ERROR 1060 (42S21): Duplicate column name 'id'",
	} {
		stmt, err := parser.Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		node, _, twins, err := PrepareSQL(stmt[0], testEnv(t))
		got := fmt.Sprintf("%s %v", node, twins)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.Contains(got, want) {
			t.Errorf("%s: got %s, want %s", sql, got, want)
		}
	}
}

func TestDerivedDuplicate(t *testing.T) {
	for sql, want := range map[string]string{
		"WITH w AS (SELECT status, COUNT(*), COUNT(*) FROM orders GROUP BY status) SELECT * FROM w": "Duplicate column name 'COUNT(*)'",
		"SELECT * FROM (SELECT id, id FROM orders) t":                                               "Duplicate column name 'id'",
		"SELECT * FROM (SELECT id, id AS id2 FROM orders) t":                                        "",
	} {
		stmt, err := parser.Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		KeepFieldNames(stmt[0]) // (as the session does: expressions' names)
		err = DerivedDuplicate(stmt[0])
		if want == "" && err != nil || want != "" && (err == nil || err.Error() != "ERROR 1060 (42S21): "+want) {
			t.Errorf("%s: %v, want %q", sql, err, want)
		}
	}
}

// TestSameTime: a read over several shards that reads the clock runs its
// statements at one time (Plan.SameTime), from a template too.
func TestSameTime(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT id, NOW(6) FROM orders":                               true,
		"SELECT COUNT(*) FROM orders WHERE created < CURRENT_DATE":    true,
		"SELECT id FROM orders WHERE updated > UNIX_TIMESTAMP() - 60": true,
		"SELECT id FROM orders":                                       false,
		"SELECT id, SYSDATE() FROM orders":                            false, // (the clock at each call, on one server too)
		"SELECT id, NOW() FROM orders WHERE user_id = 7":              false, // one shard
	} {
		stmts, err := parser.ParseMode(sql, 0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Build(stmts[0], testEnv(t))
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if p.SameTime != want {
			t.Errorf("%s: SameTime %v, want %v", sql, p.SameTime, want)
		}
	}
	if p, ok := planFromTemplate(t, "SELECT c, NOW() FROM orders WHERE user_id BETWEEN 1 AND 100", "SELECT c, NOW() FROM orders WHERE user_id BETWEEN 201 AND 300"); !ok || !p.SameTime {
		t.Errorf("from a template: %v %v, want SameTime", p, ok)
	}
}
