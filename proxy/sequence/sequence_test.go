package sequence

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/backend"
)

const registryConfig = `
users: [{name: app, password: app, schemas: [shop, logs]}]
snowflake: {worker_id: 12}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: 127.0.0.1:1}
  - {name: dh1, user: sg, password: sg, primary: 127.0.0.1:2}
data_nodes:
  - {name: dn0, host: dh0, database: shop_0}
  - {name: dn1, host: dh1, database: shop_1}
  - {name: dn2, host: dh1, database: logs_1}
schemas:
  - name: shop
    default_node: dn0
    tables:
      orders: {column: user_id, algorithm: mod, shards: 4, nodes: [dn0, dn1], auto_increment: {column: id, generator: segment}}
      order_items: {parent: orders, column: order_id, parent_column: id, auto_increment: {column: item_id, generator: segment, node: dn1, block: 50}}
      regions: {global: true, auto_increment: {column: id, generator: snowflake}}
      users: {column: id, algorithm: hash, shards: 2, nodes: [dn0, dn1]}
  - name: logs
    tables:
      events: {column: id, algorithm: mod, shards: 2, nodes: [dn2, dn0], auto_increment: {column: id, generator: segment, block: 7}}
      audit: {column: id, algorithm: mod, shards: 2, nodes: [dn0, dn2], auto_increment: {column: id, generator: snowflake}}
`

func parseConfig(t *testing.T, text string) *conf.Config {
	t.Helper()
	c, err := conf.Parse("test.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testRegistry builds Sequences over fake stores, one per data node.
func testRegistry(t *testing.T, text string) (*Sequences, map[string]*fakeStore, *[]string) {
	t.Helper()
	cfg := parseConfig(t, text)
	cl := backend.NewCluster(cfg)
	t.Cleanup(cl.Close)
	stores := map[string]*fakeStore{}
	var mu sync.Mutex
	var maxCalls []string
	s, err := New(cfg, cl, Options{
		Log: quiet,
		Store: func(n *backend.DataNode) Store {
			st := newFakeStore()
			stores[n.Name] = st
			return st
		},
		Max: func(_ context.Context, schema, table, column string) (uint64, error) {
			mu.Lock()
			defer mu.Unlock()
			maxCalls = append(maxCalls, schema+"."+table+"."+column)
			return 1000, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, stores, &maxCalls
}

func TestSequencesResolve(t *testing.T) {
	s, stores, maxCalls := testRegistry(t, registryConfig)
	for _, c := range []struct {
		schema, table string
		kind, node    string
		column        string
	}{
		{"shop", "orders", conf.GenSegment, "dn0", "id"},           // the schema's default node
		{"shop", "order_items", conf.GenSegment, "dn1", "item_id"}, // configured node
		{"shop", "regions", conf.GenSnowflake, "", "id"},
		{"logs", "events", conf.GenSegment, "dn2", "id"}, // no default node: the table's first node
		{"logs", "audit", conf.GenSnowflake, "", "id"},
	} {
		q := s.Get(c.schema, c.table)
		if q == nil {
			t.Fatalf("%s.%s: no sequence", c.schema, c.table)
		}
		if q.Kind != c.kind || q.Node != c.node || q.Column != c.column || q.Name() != c.schema+"."+c.table {
			t.Errorf("%s.%s: %+v", c.schema, c.table, q)
		}
		if s.Get(c.schema, c.table) != q {
			t.Errorf("%s.%s: a second generator", c.schema, c.table)
		}
	}
	for _, name := range [][2]string{{"shop", "users"}, {"shop", "unlisted"}, {"nope", "orders"}, {"shop", "Orders"}} {
		if q := s.Get(name[0], name[1]); q != nil {
			t.Errorf("%v: %+v", name, q)
		}
	}
	// Snowflake tables share one generator of worker 12.
	if s.Get("shop", "regions").Generator != s.Get("logs", "audit").Generator {
		t.Error("two snowflake generators")
	}
	if _, w, _ := SnowflakeParts(reserve(t, s.Get("shop", "regions"), 1)[0]); w != 12 {
		t.Errorf("worker %d", w)
	}
	// Segments: named schema.table, on their node's store, above the max.
	if ids := reserve(t, s.Get("shop", "orders"), 3); ids[0] != 1001 || ids[2] != 1003 {
		t.Errorf("orders: %v", ids)
	}
	reserve(t, s.Get("shop", "order_items"), 1)
	reserve(t, s.Get("logs", "events"), 1)
	if got := stores["dn1"].calls(); len(got) != 1 || got[0].size != 50 {
		t.Errorf("order_items allocations %+v", got)
	}
	if got := stores["dn2"].calls(); len(got) != 1 || got[0].size != 7 {
		t.Errorf("events allocations %+v", got)
	}
	if _, ok := stores["dn0"].next["shop.orders"]; !ok || stores["dn0"].calls()[0].size != conf.DefaultBlock {
		t.Errorf("dn0 store %+v", stores["dn0"].next)
	}
	if got := strings.Join(*maxCalls, " "); got != "shop.orders.id shop.order_items.item_id logs.events.id" {
		t.Errorf("max asked for %s", got)
	}
	// Get on the hot path allocates nothing.
	if a := testing.AllocsPerRun(100, func() { s.Get("shop", "orders") }); a != 0 {
		t.Errorf("Get: %v allocations", a)
	}
	if a := testing.AllocsPerRun(100, func() { s.Get("shop", "users") }); a != 0 {
		t.Errorf("Get of a table without sequence: %v allocations", a)
	}
}

func TestSequencesUpdate(t *testing.T) {
	s, _, _ := testRegistry(t, registryConfig)
	orders, items, regions := s.Get("shop", "orders"), s.Get("shop", "order_items"), s.Get("shop", "regions")
	reserve(t, orders, 1)
	// A reload changing one table's block and the worker id.
	next := strings.Replace(registryConfig, "node: dn1, block: 50", "node: dn1, block: 60", 1)
	next = strings.Replace(next, "worker_id: 12", "worker_id: 13", 1)
	if err := s.Update(parseConfig(t, next)); err != nil {
		t.Fatal(err)
	}
	if s.Get("shop", "orders") != orders {
		t.Error("unchanged table got a new generator")
	}
	if q := s.Get("shop", "order_items"); q == items || q.Generator.(*Segment).block != 60 {
		t.Error("changed block kept the generator")
	}
	q := s.Get("shop", "regions")
	if q == regions {
		t.Error("changed worker id kept the generator")
	}
	if _, w, _ := SnowflakeParts(reserve(t, q, 1)[0]); w != 13 {
		t.Errorf("worker %d", w)
	}
	// Back to 12: the same generator as before, so its ids keep ascending.
	if err := s.Update(parseConfig(t, registryConfig)); err != nil {
		t.Fatal(err)
	}
	if s.Get("shop", "regions").Generator != regions.Generator {
		t.Error("worker 12 got a second generator")
	}
}

func TestSequencesConcurrentGet(t *testing.T) {
	s, _, _ := testRegistry(t, registryConfig)
	var wg sync.WaitGroup
	got := make([]*Sequence, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = s.Get("shop", "orders")
			if _, err := got[i].Reserve(context.Background(), 10, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, q := range got {
		if q != got[0] {
			t.Fatal("two generators for one table")
		}
	}
}

func TestSequencesDefaultMax(t *testing.T) {
	// Without Max, the floor covers every physical table of the rule.
	cfg := parseConfig(t, registryConfig)
	cl := backend.NewCluster(cfg)
	defer cl.Close()
	s, err := New(cfg, cl, Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.Get("shop", "orders").Generator.(*Segment).store.(*NodeStore); !ok {
		t.Fatal("default store is not a NodeStore")
	}
}
