package router

import (
	"strings"
	"testing"

	"github.com/shardgate/shardgate/parser"
)

// TestPlanLoad: LOAD DATA → a statement a physical table (its lines
// skipped by the proxy), how the text is read, or the refusal.
func TestPlanLoad(t *testing.T) {
	env := testEnv(t)
	for _, c := range []struct{ sql, want string }{
		{"LOAD DATA LOCAL INFILE 'f.csv' INTO TABLE orders FIELDS TERMINATED BY ',' ENCLOSED BY '\"' LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES (id, @x, user_id) SET amount = @x",
			"LoadData rows by their field 2\n" +
				// (LOCAL is IGNORE on the server; the terminator's bytes go as they are)
				"  Route dn0 shards 0\n    LOAD DATA LOCAL INFILE 'f.csv' IGNORE INTO TABLE `orders_0` FIELDS TERMINATED BY ',' ENCLOSED BY '\"' LINES TERMINATED BY '\r\n' (`id`,@`x`,`user_id`) SET `amount`=@`x`\n" +
				"  Route dn1 shards 1\n    LOAD DATA LOCAL INFILE 'f.csv' IGNORE INTO TABLE `orders_1`"},
		{"LOAD DATA LOCAL INFILE 'g' REPLACE INTO TABLE regions (id, name)",
			"LoadData every row to every copy\n  Route dn0\n    LOAD DATA LOCAL INFILE 'g' REPLACE INTO TABLE `regions` (`id`,`name`)\n  Route dn1\n"},
		{"LOAD DATA LOCAL INFILE 'u' INTO TABLE users", "Route dn1\n  LOAD DATA LOCAL INFILE 'u' IGNORE INTO TABLE `users`"},
		{"LOAD DATA INFILE '/srv/f' INTO TABLE orders", "error: LOAD DATA INFILE of a server's file into sharded table orders"},
		{"LOAD DATA LOCAL INFILE 'f' INTO TABLE orders (id, amount)", "error: LOAD DATA into orders without its sharding column user_id"},
		{"LOAD DATA LOCAL INFILE 'f' INTO TABLE orders (id, user_id) SET user_id = 5", "error: LOAD DATA ... SET user_id"},
		{"LOAD DATA LOCAL INFILE 'f' INTO TABLE orders FIELDS TERMINATED BY '' (id, user_id)", "error: LOAD DATA into sharded table orders with empty or equal"},
		{"LOAD DATA LOCAL INFILE 'f' INTO TABLE orders CHARACTER SET gbk (id, user_id)", "error: LOAD DATA ... CHARACTER SET gbk"},
	} {
		stmts, err := parser.Parse(c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		p, err := Build(stmts[0], env)
		got := ""
		if err != nil {
			got = "error: " + strings.TrimPrefix(err.Error(), "ERROR 1235 (42000): shardgate does not support ")
		} else {
			got = p.Explain()
			if ld, ok := p.Root.(*LoadData); ok && ld.Key >= 0 {
				if n, err := ld.Shard([]byte("5"), false); err != nil || n != 1 {
					t.Errorf("%s: a row of user 5 goes to shard %d (%v), want 1", c.sql, n, err)
				}
				if _, err := ld.Shard(nil, true); err == nil {
					t.Errorf("%s: a NULL key has a shard", c.sql)
				}
			}
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s:\n got  %s\n want %s", c.sql, got, c.want)
		}
	}
}
