package router

import (
	"strings"
	"testing"

	"github.com/shardgate/shardgate/parser"
)

// TestWithReturning: SQL (without its RETURNING) → the plan whose
// statements return their rows, or the reason it is refused.
func TestWithReturning(t *testing.T) {
	env := testEnv(t)
	for _, c := range []struct{ sql, want string }{
		{"INSERT INTO orders (id, user_id) VALUES (1, 5)",
			"Route dn1 shards 1\n  INSERT INTO `orders_1` (`id`,`user_id`) VALUES (1,5) RETURNING id, user_id * 2"},
		{"INSERT INTO orders (id, user_id) VALUES (1, 5), (2, 6), (3, 9)",
			"Returning statement after statement, rows in the client's order\n" +
				"  Route dn0 shards 2\n    INSERT INTO `orders_2` (`id`,`user_id`) VALUES (2,6) RETURNING id, user_id * 2\n" +
				"  Route dn1 shards 1\n    INSERT INTO `orders_1` (`id`,`user_id`) VALUES (1,5),(3,9) RETURNING id, user_id * 2"},
		{"DELETE FROM orders WHERE id = 3",
			"Returning statement after statement, rows in the client's order\n" +
				"  Route dn0 shards 0,2\n    DELETE FROM `orders_0` WHERE `id` = 3 RETURNING id, user_id * 2\n    DELETE FROM `orders_2` WHERE `id` = 3 RETURNING id, user_id * 2\n" +
				"  Route dn1 shards 1,3\n    DELETE FROM `orders_1` WHERE `id` = 3 RETURNING id, user_id * 2\n    DELETE FROM `orders_3` WHERE `id` = 3 RETURNING id, user_id * 2"},
		{"DELETE FROM regions WHERE id = 3",
			"Returning statement after statement, the first copy's rows\n" +
				"  Route dn0\n    DELETE FROM `regions` WHERE `id` = 3 RETURNING id, user_id * 2\n" +
				"  Route dn1\n    DELETE FROM `regions` WHERE `id` = 3 RETURNING id, user_id * 2"},
		{"INSERT IGNORE INTO orders (id, user_id) VALUES (1, 5)", "INSERT IGNORE INTO `orders_1`"},
		{"INSERT IGNORE INTO orders (id, user_id) VALUES (1, 5), (2, 6)", "error: INSERT IGNORE ... RETURNING over several shards"},
		{"DELETE FROM orders LIMIT 2", "error: INSERT, REPLACE or DELETE ... RETURNING that the proxy runs in steps"},
		{"DELETE FROM orders ORDER BY id", "error: DELETE ... ORDER BY ... RETURNING over several shards"},
		{"DELETE FROM orders WHERE user_id = 5 ORDER BY id", "DELETE FROM `orders_1` WHERE `user_id` = 5 ORDER BY `id` RETURNING id, user_id * 2"},
	} {
		stmts, err := parser.Parse(c.sql)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Build(stmts[0], env)
		if err == nil {
			p, err = WithReturning(stmts[0], p, "id, user_id * 2")
		}
		got := ""
		if err != nil {
			got = "error: " + strings.TrimPrefix(err.Error(), "ERROR 1235 (42000): shardgate does not support ")
		} else {
			got = strings.TrimRight(p.Explain(), "\n")
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got  %s\n want %s", c.sql, got, c.want)
		}
	}
}
