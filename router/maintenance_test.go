package router

import (
	"strings"
	"testing"

	"github.com/shardgate/shardgate/parser"
)

// TestPlanMaintenance: a maintenance statement → one statement per node
// listing its physical tables, or the error one server gives.
func TestPlanMaintenance(t *testing.T) {
	env := testEnv(t)
	for _, c := range []struct{ sql, want string }{
		{"CHECK TABLE orders, regions EXTENDED",
			"Maintenance check\n" +
				"  Route dn0 shards orders_0,orders_2,regions\n    CHECK TABLE `shop_0`.`orders_0`, `shop_0`.`orders_2`, `shop_0`.`regions` EXTENDED\n" +
				"  Route dn1 shards orders_1,orders_3,regions\n    CHECK TABLE `shop_1`.`orders_1`, `shop_1`.`orders_3`, `shop_1`.`regions` EXTENDED\n" +
				"tables shop.orders [shop_0.orders_0 shop_1.orders_1 shop_0.orders_2 shop_1.orders_3], shop.regions [shop_0.regions shop_1.regions] commits"},
		// A global table's CHECKSUM reads one copy; CHECKSUM commits nothing.
		{"CHECKSUM TABLE regions QUICK",
			"Maintenance checksum\n  Route dn0 shards regions\n    CHECKSUM TABLE `shop_0`.`regions` QUICK\ntables shop.regions [shop_0.regions] checksum"},
		// A table the rules do not list is the default node's.
		{"OPTIMIZE NO_WRITE_TO_BINLOG TABLE nosuch, shop.users",
			"Maintenance optimize\n  Route dn0 shards nosuch\n    OPTIMIZE NO_WRITE_TO_BINLOG TABLE `shop_0`.`nosuch`\n" +
				"  Route dn1 shards users\n    OPTIMIZE NO_WRITE_TO_BINLOG TABLE `shop_1`.`users`\ntables shop.nosuch [shop_0.nosuch], shop.users [shop_1.users] commits"},
		// A schema the proxy lacks: answered without a node.
		{"ANALYZE TABLE nodb.t", "Maintenance analyze\ntables nodb.t [] commits"},
		{"CHECK TABLE orders, `orders`", "error: ERROR 1066 (42000): Not unique table/alias: 'orders'"},
		{"REPAIR TABLE mysql.user", "error: ERROR 1235 (42000): shardgate does not support REPAIR TABLE of mysql.user"},
	} {
		m, ok := parser.ParseMaintenance(c.sql, 0)
		if !ok {
			t.Fatalf("%s: not a maintenance statement", c.sql)
		}
		p, err := PlanMaintenance(m, env)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			mt := p.Root.(*Maintenance)
			got = p.Explain() + "tables "
			for i, tb := range mt.Tables {
				if i > 0 {
					got += ", "
				}
				got += tb.Name + " [" + strings.Join(tb.Physical, " ") + "]"
			}
			if mt.Checksum {
				got += " checksum"
			}
			if mt.Commits() {
				got += " commits"
			}
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s:\n got  %s\n want %s", c.sql, got, c.want)
		}
	}
}
