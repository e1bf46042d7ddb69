package router

import (
	"testing"

	"github.com/shardgate/shardgate/parser"
)

// An UPDATE or DELETE with ORDER BY and LIMIT across shards: the keys of
// its first rows read first, then those rows written, still ordered.
func TestKeysFirst(t *testing.T) {
	for _, c := range []struct {
		sql, read, text, write string // text: the read's rows as Text writes them
	}{{
		sql:   "DELETE FROM orders WHERE qty > 5 ORDER BY created DESC LIMIT 2",
		read:  "SELECT `orders`.`id`,`orders`.`user_id` FROM `orders` WHERE `qty` > 5 ORDER BY `created` DESC LIMIT 2 FOR UPDATE",
		text:  "(4, 7), (9, 8)",
		write: "DELETE FROM `orders` WHERE (`qty` > 5) AND ROW(`orders`.`id`,`orders`.`user_id`) IN ((4, 7), (9, 8)) ORDER BY `created` DESC",
	}, {
		// no WHERE, an alias; no rows: nothing is written
		sql:   "UPDATE orders o SET o.qty = 0 ORDER BY o.amount LIMIT 3",
		read:  "SELECT `o`.`id`,`o`.`user_id` FROM `orders` AS `o` ORDER BY `o`.`amount` LIMIT 3 FOR UPDATE",
		write: "UPDATE `orders` AS `o` SET `o`.`qty`=0 WHERE 0 ORDER BY `o`.`amount`",
	}, {
		// not such a write: no LIMIT, a table of one node
		sql: "UPDATE orders SET qty = 1 ORDER BY id",
	}, {
		sql: "UPDATE users SET balance = 0 ORDER BY id LIMIT 1",
	}} {
		stmts, err := parser.Parse(c.sql)
		if err != nil {
			t.Fatal(err)
		}
		p := KeysFirst(stmts[0], testEnv(t))
		if c.read == "" {
			if p != nil {
				t.Errorf("%s: read first", c.sql)
			}
			continue
		}
		if p == nil {
			t.Errorf("%s: not read first", c.sql)
			continue
		}
		if got, _ := p.SQL(0); got != c.read {
			t.Errorf("%s: read\n  %s\nwant\n  %s", c.sql, got, c.read)
		}
		if got, err := Inline(stmts[0], []*Pulled{p}, []string{c.text}, 0); err != nil || got != c.write {
			t.Errorf("%s: written\n  %s (%v)\nwant\n  %s", c.sql, got, err, c.write)
		}
	}
}

// The key columns' names come from information_schema as UTF-8: they are
// written in the client's character set, or not read first at all.
func TestKeysFirstNamesInClientCharset(t *testing.T) {
	for cs, want := range map[string]string{
		"":       "SELECT `orders`.`clé`,`orders`.`user_id` FROM `orders` ORDER BY `id` LIMIT 1 FOR UPDATE",
		"latin1": "SELECT `orders`.`cl\xe9`,`orders`.`user_id` FROM `orders` ORDER BY `id` LIMIT 1 FOR UPDATE",
		"cp1251": "", // (no é there)
	} {
		env := *testEnv(t)
		env.Keys = func(string, string) ([]string, error) { return []string{"clé"}, nil }
		env.ForeignCharset = cs
		stmts, err := parser.Parse("DELETE FROM orders ORDER BY id LIMIT 1")
		if err != nil {
			t.Fatal(err)
		}
		p := KeysFirst(stmts[0], &env)
		got := ""
		if p != nil {
			got, _ = p.SQL(0)
		}
		if got != want {
			t.Errorf("%q: read\n  %q\nwant\n  %q", cs, got, want)
		}
	}
}
