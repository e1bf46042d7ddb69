package router

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/parser"
)

// TestPlanLock: LOCK TABLES → each table's physical tables (and the
// parents of a child, locked READ for the proxy's reads), or the error one
// server gives.
func TestPlanLock(t *testing.T) {
	env := testEnv(t)
	show := func(locks []TableLock) string {
		var b strings.Builder
		for _, l := range locks {
			fmt.Fprintf(&b, "%s.%s", l.Schema, l.Name)
			if l.Alias != "" {
				b.WriteString(" AS " + l.Alias)
			}
			b.WriteString(" " + l.Type)
			if l.Implied {
				b.WriteString(" implied")
			}
			for _, p := range l.Physical {
				b.WriteString(" " + p.Node + ":" + p.Table)
			}
			b.WriteString("; ")
		}
		return b.String()
	}
	for _, c := range []struct{ sql, want string }{
		{"LOCK TABLES orders READ, users AS u WRITE",
			"shop.orders READ dn0:orders_0 dn1:orders_1 dn0:orders_2 dn1:orders_3; shop.users AS u WRITE dn1:users; "},
		{"LOCK TABLE regions READ LOCAL, nosuch_default LOW_PRIORITY WRITE",
			"shop.regions READ LOCAL dn0:regions dn1:regions; shop.nosuch_default LOW_PRIORITY WRITE dn0:nosuch_default; "},
		// A child's parent is locked READ for the proxy's lookups, once.
		{"LOCK TABLES order_items WRITE, order_notes WRITE",
			"shop.order_items WRITE dn0:order_items_0 dn1:order_items_1 dn0:order_items_2 dn1:order_items_3; " +
				"shop.order_notes WRITE dn0:order_notes_0 dn1:order_notes_1 dn0:order_notes_2 dn1:order_notes_3; " +
				"shop.orders READ implied dn0:orders_0 dn1:orders_1 dn0:orders_2 dn1:orders_3; "},
		// ...not when the client locks it itself.
		{"LOCK TABLES orders WRITE, order_items WRITE",
			"shop.orders WRITE dn0:orders_0 dn1:orders_1 dn0:orders_2 dn1:orders_3; " +
				"shop.order_items WRITE dn0:order_items_0 dn1:order_items_1 dn0:order_items_2 dn1:order_items_3; "},
		{"LOCK TABLES other.t WRITE CONCURRENT", "other.t WRITE CONCURRENT on0:t; "},
		{"LOCK TABLES orders READ, orders READ", "error: ERROR 1066 (42000): Not unique table/alias: 'orders'"},
		{"LOCK TABLES orders AS x READ, users x READ", "error: ERROR 1066 (42000): Not unique table/alias: 'x'"},
		{"LOCK TABLES nodb.t READ", "error: ERROR 1146 (42S02): Table 'nodb.t' doesn't exist"},
		{"LOCK TABLES information_schema.tables READ", "error: ERROR 1044 (42000): Access denied for user"},
	} {
		lk, ok, _ := parser.ParseLock(c.sql, 0)
		if !ok {
			t.Fatalf("%s: not read", c.sql)
		}
		locks, err := PlanLock(lk, env)
		got := show(locks)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s:\n got  %s\n want %s", c.sql, got, c.want)
		}
	}
}

// TestLockedStatements: while the session holds LOCK TABLES, a statement
// names only the locked tables, under the alias they were locked with.
func TestLockedStatements(t *testing.T) {
	env := testEnv(t)
	lk, _, _ := parser.ParseLock("LOCK TABLES orders READ, users AS u WRITE, order_items WRITE", 0)
	locks, err := PlanLock(lk, env)
	if err != nil {
		t.Fatal(err)
	}
	env.Locks = locks
	for _, c := range []struct{ sql, err string }{
		{"SELECT * FROM orders WHERE user_id = 1", ""},
		{"SELECT * FROM shop.orders JOIN order_items ON order_items.order_id = orders.id WHERE orders.user_id = 1", ""},
		{"SELECT * FROM users u WHERE id = 1", ""},
		{"SELECT * FROM information_schema.tables", ""},
		{"WITH x AS (SELECT 1) SELECT * FROM x", ""},
		{"SELECT * FROM orders o", "ERROR 1100 (HY000): Table 'o' was not locked with LOCK TABLES"},
		{"SELECT * FROM users", "ERROR 1100 (HY000): Table 'users' was not locked with LOCK TABLES"},
		{"SELECT * FROM regions", "ERROR 1100 (HY000): Table 'regions' was not locked with LOCK TABLES"},
		{"SELECT * FROM nodb.t", "ERROR 1100 (HY000): Table 't' was not locked with LOCK TABLES"},
		{"UPDATE orders SET status = 'x' WHERE id IN (SELECT order_id FROM order_items oi)", "ERROR 1100 (HY000): Table 'oi' was not locked"},
		{"INSERT INTO order_items (id, order_id) SELECT id, id FROM orders WHERE user_id = 1", ""},
	} {
		stmts, err := parser.Parse(c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		_, err = Build(stmts[0], env)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if c.err == "" && strings.Contains(got, "1100") || c.err != "" && !strings.HasPrefix(got, c.err) {
			t.Errorf("%s: got %q, want %q", c.sql, got, c.err)
		}
	}
	// The parent locked for the proxy's reads is not the client's.
	lk, _, _ = parser.ParseLock("LOCK TABLES order_items WRITE", 0)
	if env.Locks, err = PlanLock(lk, env); err != nil {
		t.Fatal(err)
	}
	stmts, _ := parser.Parse("SELECT * FROM orders WHERE user_id = 1")
	if _, err := Build(stmts[0], env); err == nil || !strings.Contains(err.Error(), "1100") {
		t.Errorf("a child's parent, locked by the proxy, read by the client: %v, want 1100", err)
	}
	// A maintenance statement's table not locked: one server's rows.
	m, _ := parser.ParseMaintenance("CHECK TABLE orders, order_items", 0)
	p, err := PlanMaintenance(m, env)
	if err != nil {
		t.Fatal(err)
	}
	if mt := p.Root.(*Maintenance); mt.Tables[0].Refusal == nil || mt.Tables[0].Refusal.Code != 1100 || mt.Tables[1].Refusal != nil {
		t.Errorf("CHECK TABLE orders, order_items under LOCK TABLES order_items: %+v", mt.Tables)
	}
}
