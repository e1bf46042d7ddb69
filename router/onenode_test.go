package router

import "testing"

// TestOneNodeText: a statement TiDB's parser cannot read → the one node
// its tables are on and its text there, or not (its words can name a
// table the proxy routes, or another schema).
func TestOneNodeText(t *testing.T) {
	env := testEnv(t)
	for _, c := range []struct {
		sql   string
		write bool
		want  string // "node: text", "" for not
	}{
		{sql: "SELECT * FROM users FOR SYSTEM_TIME ALL WHERE id = 1", want: "dn1: SELECT * FROM users FOR SYSTEM_TIME ALL WHERE id = 1"},
		{sql: "SELECT u.name FROM shop.users u, JSON_TABLE(u.tags, '$[*]' COLUMNS (t TEXT PATH '$')) j",
			want: "dn1: SELECT u.name FROM `shop_1`.users u, JSON_TABLE(u.tags, '$[*]' COLUMNS (t TEXT PATH '$')) j"},
		{sql: "SELECT * FROM `shop`.`users` LIMIT ROWS EXAMINED 5", want: "dn1: SELECT * FROM `shop_1`.`users` LIMIT ROWS EXAMINED 5"},
		// Unlisted tables, and no table: the default node.
		{sql: "VALUES (1), (2)", want: "dn0: VALUES (1), (2)"},
		{sql: "DELETE FROM products FOR PORTION OF p FROM 1 TO 2", write: true, want: "dn0: DELETE FROM products FOR PORTION OF p FROM 1 TO 2"},
		// A global table is read on the node, written nowhere alone.
		{sql: "SELECT * FROM users u JOIN regions r ON r.id = u.region_id LIMIT ROWS EXAMINED 9", want: "dn1: SELECT * FROM users u JOIN regions r ON r.id = u.region_id LIMIT ROWS EXAMINED 9"},
		{sql: "UPDATE regions FOR PORTION OF p FROM 1 TO 2 SET name = 'x'", write: true},
		// A sharded table, an ER child, or a word naming one.
		{sql: "SELECT * FROM orders LIMIT ROWS EXAMINED 5"},
		{sql: "SELECT * FROM ORDER_ITEMS LIMIT ROWS EXAMINED 5"},
		{sql: "SELECT orders FROM users LIMIT ROWS EXAMINED 5"},
		// A word no rule lists is not taken for a table: with a table of
		// another node, that node's server says it has no such table.
		{sql: "SELECT * FROM users u JOIN unlisted x LIMIT ROWS EXAMINED 5", want: "dn1: SELECT * FROM users u JOIN unlisted x LIMIT ROWS EXAMINED 5"},
		// Another schema, the servers' own.
		{sql: "SELECT * FROM other.t LIMIT ROWS EXAMINED 5"},
		{sql: "SELECT * FROM information_schema.tables LIMIT ROWS EXAMINED 5"},
		// An identifier left open: the server's error.
		{sql: "SELECT `", want: "dn0: SELECT `"},
	} {
		node, text, ok := OneNodeText(c.sql, env, c.write)
		got := ""
		if ok {
			got = node + ": " + text
		}
		if got != c.want {
			t.Errorf("%s:\n got  %q\n want %q", c.sql, got, c.want)
		}
	}
}
