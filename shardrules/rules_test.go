package shardrules

import (
	"slices"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/conf"
)

// designYAML is the example of DESIGN.md, which must keep working, plus
// tables that exercise algorithm options and child chains.
const designYAML = `
listen: 127.0.0.1:3307
users:
  - {name: app, password: app, schemas: [shop]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: 127.0.0.1:13306}
  - {name: dh1, user: sg, password: sg, primary: 127.0.0.1:13307}
data_nodes:
  - {name: dn0, host: dh0, database: shop_0}
  - {name: dn1, host: dh1, database: shop_1}
  - {name: dn2, host: dh1, database: shop_2}
schemas:
  - name: shop
    default_node: dn0
    tables:
      users:    {node: dn1}
      orders:   {column: user_id, algorithm: mod, shards: 4, nodes: [dn0, dn1]}
      order_items: {parent: orders, column: order_id, parent_column: id}
      regions:  {global: true}
      payments: {parent: orders, column: user_id, parent_column: user_id}
      refunds:  {parent: payments, column: uid, parent_column: user_id}
      notes:    {parent: order_items, column: item_id, parent_column: id}
      events:
        column: created
        algorithm: date
        shards: 3
        nodes: [dn2]
        options: {unit: month, start: 2024-01-01, wrap: true}
      tenants:
        column: region
        algorithm: enum
        shards: 2
        nodes: [dn0, dn1]
        options:
          map: {CN: 0, US: 1, 7: 1}
      ledger:
        column: id
        algorithm: range
        shards: 2
        nodes: [dn0, dn1]
        options:
          ranges: [{from: 0, to: 1000, shard: 0}, {from: 1000, to: 2000, shard: 1}]
          default_shard: 1
      sessions:
        column: sid
        algorithm: slot
        shards: 2
        nodes: [dn0, dn1]
        options: {slots: 16, slot_map: [{from: 0, to: 4, shard: 1}, {from: 4, to: 16, shard: 0}]}
`

func buildDesign(t *testing.T) *SchemaRules {
	t.Helper()
	c, err := conf.Parse("design.yaml", []byte(designYAML))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Build(c.Schema("shop"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuildDesign(t *testing.T) {
	s := buildDesign(t)
	if s.Name != "shop" || s.DefaultNode != "dn0" || !slices.Equal(s.Nodes, []string{"dn0", "dn1", "dn2"}) {
		t.Fatalf("schema: %s %s %v", s.Name, s.DefaultNode, s.Nodes)
	}

	orders := s.Tables["orders"]
	if orders.Kind != Sharded || orders.Column != "user_id" || orders.Algorithm.Name() != "mod" || orders.Shards != 4 || orders.Root != orders {
		t.Fatalf("orders: %+v", orders)
	}
	wantOrders := []Placement{{"dn0", "orders_0"}, {"dn1", "orders_1"}, {"dn0", "orders_2"}, {"dn1", "orders_3"}}
	if got := orders.AllPlacements(); !slices.Equal(got, wantOrders) {
		t.Errorf("orders placements %v", got)
	}
	for i, p := range wantOrders {
		if orders.Shard(i) != p {
			t.Errorf("orders.Shard(%d) = %v, want %v", i, orders.Shard(i), p)
		}
	}
	// A user's orders: shard user_id mod 4.
	if sh := mustShard(t, orders.Algorithm, IntValue(7)); orders.Shard(sh) != (Placement{"dn1", "orders_3"}) {
		t.Errorf("user 7 -> %v", orders.Shard(sh))
	}

	items := s.Tables["order_items"]
	if items.Kind != Child || items.Parent != orders || items.Root != orders || items.Shards != 4 || items.Algorithm != nil ||
		items.Column != "order_id" || items.ParentColumn != "id" || !slices.Equal(items.Nodes, []string{"dn0", "dn1"}) {
		t.Fatalf("order_items: %+v", items)
	}
	wantItems := []Placement{{"dn0", "order_items_0"}, {"dn1", "order_items_1"}, {"dn0", "order_items_2"}, {"dn1", "order_items_3"}}
	if got := items.AllPlacements(); !slices.Equal(got, wantItems) {
		t.Errorf("order_items placements %v", got)
	}
	if items.ChildRoutesByValue() {
		t.Error("order_items.order_id references orders.id, not the sharding column: it needs a lookup")
	}
	if !s.Tables["payments"].ChildRoutesByValue() || !s.Tables["refunds"].ChildRoutesByValue() {
		t.Error("payments.user_id -> orders.user_id and refunds.uid -> payments.user_id route by value")
	}
	if s.Tables["refunds"].Root != orders || s.Tables["notes"].Root != orders || s.Tables["notes"].ChildRoutesByValue() {
		t.Error("grandchildren: wrong root or routing")
	}
	if orders.ChildRoutesByValue() {
		t.Error("a sharded table is not a child")
	}

	regions := s.Tables["regions"]
	wantRegions := []Placement{{"dn0", "regions"}, {"dn1", "regions"}, {"dn2", "regions"}}
	if regions.Kind != Global || !slices.Equal(regions.AllPlacements(), wantRegions) || regions.Shard(1) != wantRegions[1] {
		t.Errorf("regions: %+v %v", regions, regions.AllPlacements())
	}

	users := s.Tables["users"]
	if users.Kind != Single || users.Node != "dn1" || !slices.Equal(users.AllPlacements(), []Placement{{"dn1", "users"}}) || users.Shard(0) != (Placement{"dn1", "users"}) {
		t.Errorf("users: %+v", users)
	}

	// Options decoded by YAML: an unquoted date and a mapping with an integer key.
	events := s.Tables["events"]
	if got := mustShard(t, events.Algorithm, StringValue("2024-05-02")); got != 1 || events.Shard(got) != (Placement{"dn2", "events_1"}) {
		t.Errorf("events: May 2024 on shard %d", got)
	}
	if got := mustShard(t, s.Tables["tenants"].Algorithm, StringValue("7")); got != 1 {
		t.Errorf("tenants: '7' on shard %d", got)
	}
	if got, ok := s.Tables["ledger"].Algorithm.Range(ptrTo(IntValue(10)), ptrTo(IntValue(3000)), true, true); !ok || !slices.Equal(got, []int{0, 1}) {
		t.Errorf("ledger: Range = %v, %v", got, ok)
	}
	if got := s.Tables["sessions"].Algorithm.(*SlotAlgorithm).ShardSlots(1); !slices.Equal(got, []SlotRange{{0, 4}}) {
		t.Errorf("sessions: shard 1 owns %v", got)
	}
}

func ptrTo(v Value) *Value { return &v }

func TestLookup(t *testing.T) {
	s := buildDesign(t)
	if s.Lookup("orders") != s.Tables["orders"] {
		t.Error("Lookup: exact match failed")
	}
	// Table names are case-sensitive (lower_case_table_names=0): ORDERS is
	// another, unlisted table on the default node.
	if r := s.Lookup("ORDERS"); r.Kind != Default {
		t.Errorf("ORDERS found as %v", r.Kind)
	}
	d := s.Lookup("audit_log")
	if d == nil || d.Kind != Default || d.Node != "dn0" || d.Name != "audit_log" ||
		!slices.Equal(d.AllPlacements(), []Placement{{"dn0", "audit_log"}}) || d.Shard(0) != (Placement{"dn0", "audit_log"}) {
		t.Errorf("default rule: %+v", d)
	}
	s.DefaultNode = ""
	if s.Lookup("audit_log") != nil {
		t.Error("without a default node an unlisted table does not exist")
	}

	// Names that differ only in case are found only by their exact names.
	s, err := Build(&conf.Schema{Name: "x", DefaultNode: "dn0", Tables: conf.TableMap{{Name: "T", Node: "dn1"}, {Name: "t", Node: "dn2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Lookup("T").Node != "dn1" || s.Lookup("t").Node != "dn2" || s.Lookup("tt").Kind != Default {
		t.Error("exact names")
	}
	if r := s.Lookup("T "); r.Kind != Default {
		t.Errorf("near miss: %+v", r)
	}
}

func TestBuildNodes(t *testing.T) {
	// Nodes past the last shard hold nothing, so they are not the schema's;
	// with no default node, global tables live where the other tables are.
	s, err := Build(&conf.Schema{Name: "x", Tables: conf.TableMap{
		{Name: "a", Column: "id", Algorithm: "hash", Shards: 2, Nodes: []string{"dn3", "dn1", "dn9"}},
		{Name: "g", Global: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Nodes, []string{"dn1", "dn3"}) || !slices.Equal(s.Tables["g"].Nodes, []string{"dn1", "dn3"}) {
		t.Errorf("nodes %v, global on %v", s.Nodes, s.Tables["g"].Nodes)
	}
	if got := s.Tables["a"].AllPlacements(); !slices.Equal(got, []Placement{{"dn3", "a_0"}, {"dn1", "a_1"}}) {
		t.Errorf("placements %v", got)
	}
}

func TestBuildErrors(t *testing.T) {
	sharded := func(name string, opts map[string]any) conf.Table {
		return conf.Table{Name: name, Column: "id", Algorithm: "range", Shards: 2, Nodes: []string{"dn0"}, Options: opts}
	}
	for _, c := range []struct {
		tables conf.TableMap
		errs   []string
	}{
		{conf.TableMap{sharded("t", nil)}, []string{`schema "s": table "t": algorithm range: option "boundaries": required (or ranges)`}},
		{conf.TableMap{sharded("t", map[string]any{"boundaries": []any{1}, "bogus": 1})}, []string{`table "t": algorithm range: unknown option "bogus"`}},
		{conf.TableMap{{Name: "t", Column: "id", Algorithm: "nope", Shards: 2, Nodes: []string{"dn0"}}}, []string{`table "t": unknown algorithm "nope"`}},
		{conf.TableMap{{Name: "t", Column: "id", Algorithm: "mod", Shards: 0, Nodes: []string{"dn0"}}}, []string{`table "t": shards must be >= 1, got 0`}},
		{conf.TableMap{{Name: "t", Column: "id", Algorithm: "mod", Shards: 2}}, []string{`table "t": a sharded table needs nodes`}},
		{conf.TableMap{{Name: "t", Algorithm: "mod", Shards: 2, Nodes: []string{"dn0"}}}, []string{`table "t": a sharded table needs column`}},
		{conf.TableMap{{Name: "t", Column: "id", Algorithm: "mod", Shards: 2, Nodes: []string{"dn0", "dn0"}}}, []string{`table "t": data node "dn0" is listed twice`}},
		{conf.TableMap{{Name: "t", Node: "dn0"}, {Name: "t", Node: "dn1"}}, []string{`table "t": empty or repeated table name`}},
		{conf.TableMap{{Name: "c", Parent: "p", Column: "pid", ParentColumn: "id"}}, []string{`table "c": parent "p" is not a table of the schema`}},
		{conf.TableMap{{Name: "c", Parent: "p", ParentColumn: "id"}, {Name: "p", Node: "dn0"}}, []string{`table "c": a child table needs column and parent_column`}},
		{conf.TableMap{{Name: "c", Parent: "p", Column: "pid", ParentColumn: "id"}, {Name: "p", Node: "dn0"}},
			[]string{`table "c": parent chain c -> p ends in a single table; it must end in a sharded one`}},
		{conf.TableMap{{Name: "a", Parent: "b", Column: "x", ParentColumn: "y"}, {Name: "b", Parent: "a", Column: "x", ParentColumn: "y"}},
			[]string{`table "a": parent chain a -> b -> a is a cycle`}}, // b's chain meets a, already reported
		// A child of a broken parent reports only the parent.
		{conf.TableMap{sharded("p", nil), {Name: "c", Parent: "p", Column: "pid", ParentColumn: "id"}}, []string{`table "p": algorithm range`}},
		{conf.TableMap{{Name: "g", Global: true}}, []string{`table "g": a global table needs nodes to live on`}},
		// Every problem is reported.
		{conf.TableMap{sharded("t1", nil), sharded("t2", map[string]any{"boundaries": []any{"x"}})},
			[]string{`table "t1": algorithm range`, `table "t2": algorithm range: option "boundaries": item 0: want an integer, got "x"`}},
	} {
		_, err := Build(&conf.Schema{Name: "s", Tables: c.tables})
		if err == nil {
			t.Errorf("%v: no error, want %q", c.tables, c.errs)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != len(c.errs) {
			t.Errorf("%v: errors\n%v\nwant %d", c.tables, err, len(c.errs))
			continue
		}
		for i, want := range c.errs {
			if !strings.Contains(lines[i], want) {
				t.Errorf("%v: error %q, want %q", c.tables, lines[i], want)
			}
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Sharded: "sharded", Child: "child", Global: "global", Single: "single", Default: "default", 9: "unknown"} {
		if k.String() != want {
			t.Errorf("%d: %s", k, k)
		}
	}
}

// Hand-made rules (no Build) compute their placements on the fly.
func TestHandMadeRule(t *testing.T) {
	r := &TableRule{Name: "t", Kind: Sharded, Shards: 3, Nodes: []string{"a", "b"}}
	if r.Shard(2) != (Placement{"a", "t_2"}) || len(r.AllPlacements()) != 3 {
		t.Errorf("%v %v", r.Shard(2), r.AllPlacements())
	}
	loop := &TableRule{Name: "c", Kind: Child, Column: "x", ParentColumn: "x"}
	loop.Parent = loop
	if loop.ChildRoutesByValue() {
		t.Error("a cycle cannot route by value")
	}
}
