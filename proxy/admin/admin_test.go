package admin

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/shardrules"
)

var shardrulesBuild = shardrules.Build

func TestParseRuleEdit(t *testing.T) {
	e, err := parseRuleEdit(tokenize("DRY RUN CREATE SHARDING TABLE RULE shop.orders (COLUMN=user_id, ALGORITHM=range, SHARDS=3, NODES=(dn0, `dn1`), OPTIONS=(boundaries=(100, -5, 2.5), unit='month'), NO_SCATTER=true) FORCE AS CREATE TABLE orders (id INT)"))
	if err != nil {
		t.Fatal(err)
	}
	if !e.dry || e.op != "CREATE" || e.kind != conf.TableSharded || e.schema != "shop" || e.table != "orders" || !e.force ||
		e.definition != "CREATE TABLE orders (id INT)" {
		t.Errorf("%+v", e)
	}
	nt, err := e.newRule(nil)
	if err != nil {
		t.Fatal(err)
	}
	if nt.Column != "user_id" || nt.Algorithm != "range" || nt.Shards != 3 || strings.Join(nt.Nodes, ",") != "dn0,dn1" || !nt.NoScatter ||
		ruleText(nt) != "{column: user_id, algorithm: range, shards: 3, nodes: [dn0, dn1], options: {boundaries: [100, -5, 2.5], unit: month}, no_scatter: true}" {
		t.Errorf("rule: %s", ruleText(nt))
	}

	// ALTER keeps what it does not name; another kind starts over.
	old := &conf.Table{Name: "t", Column: "a", Algorithm: "mod", Shards: 4, Nodes: []string{"n0", "n1"}, AutoIncrement: &conf.AutoIncrement{Column: "id", Generator: "snowflake"}}
	e, _ = parseRuleEdit(tokenize("ALTER SHARDING TABLE RULE t (SHARDS=8) IN s"))
	if nt, err := e.newRule(old); err != nil || nt.Shards != 8 || nt.Column != "a" || nt.AutoIncrement == nil || old.Shards != 4 {
		t.Errorf("alter: %+v %v", nt, err)
	}
	e, _ = parseRuleEdit(tokenize("ALTER GLOBAL TABLE RULE t"))
	if nt, err := e.newRule(old); err != nil || !nt.Global || nt.Column != "" || nt.Kind() != conf.TableGlobal || nt.AutoIncrement == nil {
		t.Errorf("to global: %+v %v", nt, err)
	}
	e, _ = parseRuleEdit(tokenize("ALTER SINGLE TABLE RULE t (NODE=n1)"))
	if nt, err := e.newRule(old); err != nil || nt.Node != "n1" || nt.AutoIncrement != nil {
		t.Errorf("to single: %+v %v", nt, err)
	}
	e, _ = parseRuleEdit(tokenize("CREATE GLOBAL TABLE RULE g (COLUMN=x)"))
	if _, err := e.newRule(nil); err == nil || !strings.Contains(err.Error(), "COLUMN is not a key of a global table rule") {
		t.Errorf("global with column: %v", err)
	}
	e, _ = parseRuleEdit(tokenize("DROP TABLE RULE IF EXISTS t IN s"))
	if e.op != "DROP" || !e.ifExists || e.kindGiven || e.schema != "s" {
		t.Errorf("drop: %+v", e)
	}

	for _, bad := range []string{
		"CREATE TABLE RULE t", "CREATE SHARDING RULE t", "CREATE SHARDING TABLE RULE", "CREATE SHARDING TABLE RULE t (BOGUS=1)",
		"CREATE SHARDING TABLE RULE t (COLUMN)", "CREATE SHARDING TABLE RULE t (COLUMN=a COLUMN=b)", "CREATE SHARDING TABLE RULE t (COLUMN=a, COLUMN=b)",
		"CREATE SHARDING TABLE RULE t (NODES=(a,", "CREATE SHARDING TABLE RULE t (OPTIONS=(x=)", "CREATE SHARDING TABLE RULE t IN",
		"DROP TABLE RULE t AS CREATE TABLE t (id INT)", "CREATE SHARDING TABLE RULE t (SHARDS=-)", "CREATE SHARDING TABLE RULE t garbage",
	} {
		if _, err := parseRuleEdit(tokenize(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// Arbitrary input never panics the console's parsers.
func TestParsersDoNotPanic(t *testing.T) {
	inputs := []string{"", "(", ")", "=", ",", "'", "`", "SHOW", "SHOW TABLE LAYOUT", "SWITCH PRIMARY", "SWITCH @@datasource",
		"KILL SESSION", "KILL SESSION 1,", "SET SERVER", "SET SERVER 'x'", "ROLLBACK CONFIG TO", "CHECK", "CHECK GLOBAL TABLE",
		"SELECT", "SELECT @@x, y", "DRY", "DRY RUN", "CREATE SHARDING TABLE RULE t ((((", "ALTER X TABLE RULE t", "DROP TABLE RULE t FORCE FORCE"}
	words := strings.Fields("CREATE ALTER DROP SHARDING GLOBAL TABLE RULE t ( ) = , COLUMN NODES OPTIONS 1 'a' IN FORCE AS x=( - @@sql")
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for j := 0; j < 1+i%12; j++ {
			b.WriteString(words[(i*7+j*13+j*j)%len(words)])
			b.WriteByte(' ')
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%q: panic %v", in, r)
				}
			}()
			if e, err := parseRuleEdit(tokenize(in)); err == nil {
				_, _ = e.newRule(nil)
				_, _ = e.newRule(&conf.Table{Name: "t", Column: "a", Algorithm: "mod", Shards: 2, Nodes: []string{"n"}})
			}
			c := &Console{}
			_, _ = c.show(tokenize(in))
		}()
	}
}

func TestVersions(t *testing.T) {
	dir := t.TempDir()
	v := newVersionStore(filepath.Join(dir, "sg.yaml"))
	if list, err := v.list(); err != nil || len(list) != 0 {
		t.Fatalf("empty: %v %v", list, err)
	}
	a := []byte("listen: 1\n# a comment\n")
	n1, err := v.record(a, "", "(the file as loaded at start-up)", 0, 0)
	if err != nil || n1 != 1 {
		t.Fatal(n1, err)
	}
	n2, _ := v.record([]byte("listen: 2\n"), "ops", "CREATE\n  SHARDING TABLE RULE x", 0, 0)
	n3, _ := v.record(a, "ops", "ROLLBACK CONFIG TO 1", 1, 0)
	list, _ := v.list()
	if len(list) != 3 || n2 != 2 || n3 != 3 || list[1].Statement != "CREATE SHARDING TABLE RULE x" || list[1].User != "ops" || list[2].Base != 1 || list[0].Time.IsZero() {
		t.Errorf("list: %+v", list)
	}
	_, body, _ := v.read(3)
	if !bytes.Equal(body, a) {
		t.Errorf("body %q", body)
	}
	if v.find(a) != 3 || v.find([]byte("nope")) != 0 {
		t.Error("find")
	}
	// A version file is a config: its header is comments.
	data, _ := os.ReadFile(v.file(2))
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := sc.Text(); l != "listen: 2" && !strings.HasPrefix(l, "#") {
			t.Errorf("header line %q", l)
		}
	}
}

func TestNormalizeDDL(t *testing.T) {
	ddl := "CREATE TABLE `order_items_2` (\n  `id` int(11) NOT NULL,\n  `order_id` bigint(20) DEFAULT NULL,\n  `col_2` int(11),\n" +
		"  CONSTRAINT `order_items_2_ibfk_1` FOREIGN KEY (`order_id`) REFERENCES `orders_2` (`id`)\n) ENGINE=InnoDB AUTO_INCREMENT=17 DEFAULT CHARSET=utf8mb4"
	got := normalizeDDL(ddl, map[string]string{"order_items_2": "order_items", "orders_2": "orders"})
	want := "CREATE TABLE `order_items` (\n  `id` int(11) NOT NULL,\n  `order_id` bigint(20) DEFAULT NULL,\n  `col_2` int(11),\n" +
		"  CONSTRAINT `order_items_ibfk_1` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if d := lineDiff("a,\nb,\nc", "a,\nc,\nd"); d != "- b; + d" {
		t.Errorf("diff %q", d)
	}
}

func TestSignature(t *testing.T) {
	// The placement-relevant keys change the signature; no_scatter does not.
	sc := &conf.Schema{Name: "s", DefaultNode: "n0", Tables: conf.TableMap{
		{Name: "t", Column: "a", Algorithm: "mod", Shards: 4, Nodes: []string{"n0", "n1"}},
	}}
	base := sigOf(t, sc, "t")
	sc.Tables[0].NoScatter = true
	if sigOf(t, sc, "t") != base {
		t.Error("no_scatter changed the placement")
	}
	for _, change := range []func(*conf.Table){
		func(x *conf.Table) { x.Shards = 2 },
		func(x *conf.Table) { x.Column = "b" },
		func(x *conf.Table) { x.Algorithm = "hash" },
		func(x *conf.Table) { x.Nodes = []string{"n1", "n0"} },
	} {
		c := *sc
		c.Tables = conf.TableMap{sc.Tables[0]}
		change(&c.Tables[0])
		if sigOf(t, &c, "t") == base {
			t.Errorf("change not seen: %+v", c.Tables[0])
		}
	}
	// Single on the default node places rows where no rule does.
	single := &conf.Schema{Name: "s", DefaultNode: "n0", Tables: conf.TableMap{{Name: "u", Node: "n0"}}}
	if sigOf(t, single, "u") != sigOf(t, &conf.Schema{Name: "s", DefaultNode: "n0", Tables: conf.TableMap{{Name: "x", Global: true}}}, "u") {
		t.Error("single on the default node differs from no rule")
	}
}

func sigOf(t *testing.T, sc *conf.Schema, table string) string {
	t.Helper()
	rules, err := shardrulesBuild(sc)
	if err != nil {
		t.Fatal(err)
	}
	return chainSignature(rules.Lookup(table), sc)
}

func TestPromWriter(t *testing.T) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	p := &promWriter{w: bw}
	p.family("m_total", "counter", "A thing.")
	p.sample("m_total", 3, "server", `a"b\c`+"\n", "role", "x")
	p.sample("m_total", 0.25)
	bw.Flush()
	want := "# HELP m_total A thing.\n# TYPE m_total counter\nm_total{server=\"a\\\"b\\\\c\\n\",role=\"x\"} 3\nm_total 0.25\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
