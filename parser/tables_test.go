package parser

import (
	"fmt"
	"testing"
)

func TestRenameTables(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT * FROM orders WHERE orders.id = 1", "SELECT * FROM `orders_3` WHERE `orders_3`.`id` = 1"},
		{"SELECT o.id, orders.* FROM orders, shop.items AS o", "SELECT `o`.`id`,`orders_3`.* FROM (`orders_3`) JOIN `shop_1`.`items_3` AS `o`"},
		{"SELECT shop.orders.id FROM shop.orders", "SELECT `shop_1`.`orders_3`.`id` FROM `shop_1`.`orders_3`"},
		{"SELECT * FROM a WHERE x IN (SELECT y FROM b WHERE b.z = a.z)", "SELECT * FROM `a_3` WHERE `x` IN (SELECT `y` FROM `b_3` WHERE `b_3`.`z` = `a_3`.`z`)"},
		{"SELECT * FROM (SELECT * FROM t) AS d JOIN u ON d.k = u.k", "SELECT * FROM (SELECT * FROM `t_3`) AS `d` JOIN `u_3` ON `d`.`k` = `u_3`.`k`"},
		{"INSERT INTO orders (id) VALUES (1) ON DUPLICATE KEY UPDATE id = VALUES(id)", "INSERT INTO `orders_3` (`id`) VALUES (1) ON DUPLICATE KEY UPDATE `id`=VALUES(`id`)"},
		{"UPDATE orders SET amount = orders.amount + 1 WHERE id = 2", "UPDATE `orders_3` SET `amount`=`orders_3`.`amount` + 1 WHERE `id` = 2"},
		{"DELETE orders FROM orders JOIN items ON orders.id = items.oid", "DELETE `orders_3` FROM `orders_3` JOIN `items_3` ON `orders_3`.`id` = `items_3`.`oid`"},
		{"DELETE o FROM orders o WHERE o.id = 1", "DELETE `o` FROM `orders_3` AS `o` WHERE `o`.`id` = 1"},
		{"CREATE TABLE items (id INT, oid INT, FOREIGN KEY (oid) REFERENCES orders(id))", "CREATE TABLE `items_3` (`id` INT,`oid` INT,CONSTRAINT FOREIGN KEY (`oid`) REFERENCES `orders_fk`(`id`))"},
		{"DROP TABLE IF EXISTS a, b", "DROP TABLE IF EXISTS `a_3`, `b_3`"},
	}
	for _, c := range cases {
		stmts, err := Parse(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		n := CollectNames(stmts[0])
		for pass := 0; pass < 2; pass++ { // renaming twice must work (once per shard)
			suffix := fmt.Sprint(pass + 2)
			n.Rename(func(_ int, r *TableRef) (string, string) {
				s := r.Schema
				if s != "" {
					s += "_1"
				}
				return s, r.Name + "_" + suffix
			})
		}
		n.Rename(func(_ int, r *TableRef) (string, string) {
			s := r.Schema
			if s != "" {
				s += "_1"
			}
			return s, r.Name + "_3"
		})
		n.RenameFK(func(s, t string) (string, string) { return s, t + "_fk" })
		got, err := Restore(stmts)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}
