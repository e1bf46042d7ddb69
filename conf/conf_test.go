package conf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// designExample is the config in DESIGN.md, verbatim: the public contract.
const designExample = `listen: 127.0.0.1:3307            # client port (MySQL protocol)
admin: 127.0.0.1:3308             # admin console (MySQL protocol, admin users only)
users:
  - {name: app, password: app, schemas: [shop]}
  - {name: ops, password: ops, admin: true}
data_hosts:                       # one replication group each
  - name: dh0
    user: sg
    password: sg
    primary: 127.0.0.1:13306
    replicas: [{addr: 127.0.0.1:13316, weight: 1}]
  - name: dh1
    user: sg
    password: sg
    primary: 127.0.0.1:13307
    replicas: [{addr: 127.0.0.1:13317, weight: 1}]
data_nodes:                       # a physical database on a data host
  - {name: dn0, host: dh0, database: shop_0}
  - {name: dn1, host: dh1, database: shop_1}
schemas:
  - name: shop                    # the logical database clients see
    default_node: dn0             # tables not listed live here, unsharded
    tables:
      users:    {node: dn1}                                   # business-level placement
      orders:   {column: user_id, algorithm: mod, shards: 4, nodes: [dn0, dn1]}
      order_items: {parent: orders, column: order_id, parent_column: id}   # ER child
      regions:  {global: true}                                # copy on every node
`

func TestDesignExample(t *testing.T) {
	c, err := Parse("design.yaml", []byte(designExample))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Path:             "design.yaml",
		Listen:           "127.0.0.1:3307",
		Admin:            "127.0.0.1:3308",
		MaxConnections:   1000,
		MaxAllowedPacket: 64 << 20,
		Log:              Log{Level: "info", Format: "text"},
		Users: []User{
			{Name: "app", Password: "app", Schemas: []string{"shop"}},
			{Name: "ops", Password: "ops", Admin: true},
		},
		DataHosts: []DataHost{
			{Name: "dh0", User: "sg", Password: "sg", Primary: "127.0.0.1:13306",
				Replicas: []Replica{{Addr: "127.0.0.1:13316", Weight: 1}}, Pool: DefaultPool(), Balance: "replicas",
				Heartbeat: time.Second, MaxReplicaLag: 5 * time.Second, Failover: "manual", FailoverAfter: 5 * time.Second, FailoverWait: 15 * time.Second},
			{Name: "dh1", User: "sg", Password: "sg", Primary: "127.0.0.1:13307",
				Replicas: []Replica{{Addr: "127.0.0.1:13317", Weight: 1}}, Pool: DefaultPool(), Balance: "replicas",
				Heartbeat: time.Second, MaxReplicaLag: 5 * time.Second, Failover: "manual", FailoverAfter: 5 * time.Second, FailoverWait: 15 * time.Second},
		},
		DataNodes: []DataNode{
			{Name: "dn0", Host: "dh0", Database: "shop_0"},
			{Name: "dn1", Host: "dh1", Database: "shop_1"},
		},
		Schemas: []Schema{{
			Name:        "shop",
			DefaultNode: "dn0",
			Tables: TableMap{
				{Name: "users", Node: "dn1", Line: 24},
				{Name: "orders", Column: "user_id", Algorithm: "mod", Shards: 4, Nodes: []string{"dn0", "dn1"}, Line: 25},
				{Name: "order_items", Parent: "orders", Column: "order_id", ParentColumn: "id", Line: 26},
				{Name: "regions", Global: true, Line: 27},
			},
		}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	kinds := []TableKind{TableSingle, TableSharded, TableChild, TableGlobal}
	for i, tb := range c.Schemas[0].Tables {
		if tb.Kind() != kinds[i] {
			t.Errorf("%s: kind %v, want %v", tb.Name, tb.Kind(), kinds[i])
		}
	}
	if c.User("app") == nil || c.User("App") != nil || c.DataHost("dh1").Primary != "127.0.0.1:13307" ||
		c.DataNode("dn1").Database != "shop_1" || c.Schema("shop").Table("orders").Shards != 4 || c.Schema("nope") != nil {
		t.Error("lookup helpers")
	}
}

func TestExampleFile(t *testing.T) {
	c, err := Load("../examples/shardgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:3307" || c.Admin != "127.0.0.1:3308" || len(c.Users) != 3 || !c.User("ops").Admin ||
		!reflect.DeepEqual(c.User("app").Schemas, []string{"shop", "gotest"}) {
		t.Errorf("server or users: %+v", c)
	}
	if h := c.DataHost("dh1"); h.Primary != "127.0.0.1:13307" || h.Replicas[0].Addr != "127.0.0.1:13317" || h.Pool != DefaultPool() {
		t.Errorf("dh1: %+v", h)
	}
	if n := c.DataNode("gt0"); n.Host != "dh0" || n.Database != "gotest" {
		t.Errorf("gt0: %+v", n)
	}
	design, _ := Parse("design.yaml", []byte(designExample))
	if !reflect.DeepEqual(withoutLines(c.Schema("shop").Tables), withoutLines(design.Schemas[0].Tables)) {
		t.Errorf("shop differs from DESIGN.md: %+v", c.Schema("shop"))
	}
	if s := c.Schema("gotest"); s.DefaultNode != "gt0" || len(s.Tables) != 0 {
		t.Errorf("gotest: %+v", s)
	}
}

// base is a small valid config; error cases replace or append lines.
const base = `users: [{name: u, schemas: [s]}]
data_hosts: [{name: h, primary: "127.0.0.1:1"}]
data_nodes: [{name: n, host: h, database: d}]
schemas:
  - {name: s, default_node: n}
`

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // the whole error, one problem a line
	}{
		{"syntax", "listen: a\n  bad: b\n", []string{`t.yaml:2: mapping values are not allowed in this context`}},
		{"duplicate key", base + "users: []\n", []string{`t.yaml:6: users: mapping key "users" already defined at line 1`}},
		{"empty", "", []string{`t.yaml: the file is empty`}},
		{"not a mapping", "- a\n", []string{`t.yaml:1: the config must be a mapping of keys`}},
		{"unknown keys", base + "lissten: x\ndata_nodes2: []\n", []string{
			`t.yaml:6: lissten: unknown key "lissten"`,
			`t.yaml:7: data_nodes2: unknown key "data_nodes2"`}},
		{"unknown nested keys", `users: [{name: u, schemas: [s], passwd: x}]
data_hosts:
  - name: h
    primary: "127.0.0.1:1"
    pool: {max: 3, idle: 1}
data_nodes: [{name: n, host: h, database: d}]
schemas:
  - name: s
    tables:
      t: {node: n, shard: 2}
`, []string{
			`t.yaml:1: users[0].passwd: unknown key "passwd"`,
			`t.yaml:5: data_hosts[0].pool.idle: unknown key "idle"`,
			`t.yaml:10: schemas[0].tables.t.shard: unknown key "shard"`}},
		{"wrong type", `users: [{name: u, schemas: [s], admin: maybe}]
max_connections: lots
` + base[strings.Index(base, "data_hosts"):], []string{
			"t.yaml:1: users[0].admin: cannot unmarshal !!str `maybe` into bool",
			"t.yaml:2: max_connections: cannot unmarshal !!str `lots` into int"}},
		{"bad duration", strings.Replace(base, `primary: "127.0.0.1:1"`, `primary: "127.0.0.1:1", pool: {wait_timeout: 5}`, 1), []string{
			"t.yaml:2: data_hosts[0].pool.wait_timeout: cannot unmarshal !!int `5` into time.Duration"}},
		{"bad size", base + "max_allowed_packet: 12Q\n", []string{
			`t.yaml:6: max_allowed_packet: "12Q" is not a size (want bytes, or a number with K, M or G)`}},
		{"size out of range", base + "max_allowed_packet: 2G\n", []string{
			`t.yaml:6: max_allowed_packet: must be between 1K and 1G (MySQL's limits)`}},
		{"transactions and ids", `users: [{name: u, schemas: [s]}]
snowflake: {worker_id: 2000}
data_hosts: [{name: h, primary: "127.0.0.1:1"}]
data_nodes: [{name: n, host: h, database: d}]
schemas:
  - name: s
    transaction_mode: twophase
    tables:
      a: {node: n, auto_increment: {column: id, generator: segment}}
      b: {column: id, algorithm: mod, shards: 2, nodes: [n], auto_increment: {column: id, generator: uuid}}
      c: {column: id, algorithm: mod, shards: 2, nodes: [n], auto_increment: {column: id, generator: segment, node: n5}}
      d: {global: true, auto_increment: {generator: segment}}
`, []string{
			`t.yaml:2: snowflake.worker_id: must be between 0 and 1023`,
			`t.yaml:7: schemas[0].transaction_mode: "twophase" is not one of xa, local`,
			`t.yaml:9: schemas[0].tables.a.auto_increment: a single-node table has its server's AUTO_INCREMENT: the proxy generates ids only for sharded, child and global tables`,
			`t.yaml:10: schemas[0].tables.b.auto_increment.generator: "uuid" is not one of snowflake, segment`,
			`t.yaml:11: schemas[0].tables.c.auto_increment.node: data node "n5" is not defined`,
			`t.yaml:12: schemas[0].tables.d.auto_increment.column: required`}},
		{"snowflake without worker id", `users: [{name: u, schemas: [s]}]
data_hosts: [{name: h, primary: "127.0.0.1:1"}]
data_nodes: [{name: n, host: h, database: d}]
schemas:
  - name: s
    tables:
      b: {column: id, algorithm: mod, shards: 2, nodes: [n], auto_increment: {column: id, generator: snowflake}}
`, []string{
			`t.yaml:7: schemas[0].tables.b.auto_increment.generator: snowflake needs a worker id: add snowflake: {worker_id: N} (0..1023, unique per shardgate process)`}},
		{"no users", base[strings.Index(base, "data_hosts"):], []string{
			`t.yaml:1: users: at least one user is required`}},
		{"duplicates", `users:
  - {name: u, schemas: [s]}
  - {name: u, admin: true}
data_hosts:
  - {name: h, primary: "127.0.0.1:1"}
  - {name: h, primary: "127.0.0.1:2", replicas: [{addr: "127.0.0.1:1"}]}
data_nodes: [{name: n, host: h, database: d}, {name: n, host: h, database: e}]
schemas: [{name: s, default_node: n}, {name: s, default_node: n}]
`, []string{
			`t.yaml:3: users[1].name: duplicate user "u" (first defined at line 2)`,
			`t.yaml:6: data_hosts[1].name: duplicate data host "h" (first defined at line 5)`,
			`t.yaml:6: data_hosts[1].replicas[0].addr: server 127.0.0.1:1 is already used by data_hosts[0].primary`,
			`t.yaml:7: data_nodes[1].name: duplicate data node "n" (first defined at line 7)`,
			`t.yaml:8: schemas[1].name: duplicate schema "s" (first defined at line 8)`}},
		{"dangling references", `users: [{name: u, schemas: [s, nope]}, {name: v}]
data_hosts: [{name: h, primary: "127.0.0.1:1"}]
data_nodes:
  - {name: n, host: h, database: d}
  - {name: m, host: dh9, database: d}
schemas:
  - name: s
    default_node: n9
    tables:
      a: {node: n8}
      b: {column: id, algorithm: mod, shards: 2, nodes: [n, n7, n]}
      c: {parent: zz, column: b_id, parent_column: id}
`, []string{
			`t.yaml:1: users[0].schemas[1]: schema "nope" is not defined`,
			`t.yaml:1: users[1].schemas: a user that is not admin needs at least one schema`,
			`t.yaml:5: data_nodes[1].host: data host "dh9" is not defined`,
			`t.yaml:8: schemas[0].default_node: data node "n9" is not defined`,
			`t.yaml:10: schemas[0].tables.a.node: data node "n8" is not defined`,
			`t.yaml:11: schemas[0].tables.b.nodes[1]: data node "n7" is not defined`,
			`t.yaml:11: schemas[0].tables.b.nodes[2]: data node "n" is listed twice`,
			`t.yaml:12: schemas[0].tables.c.parent: table "zz" is not in schema "s"`}},
		{"table shapes", base + `  - name: t
    tables:
      a: {node: n, global: true}
      b: {column: id}
      c: {}
      d: {column: id, algorithm: mod}
      e: {parent: b, column: x, parent_column: y, shards: 2}
      f: {global: true, column: id}
      g: {column: id, algorithm: nope, shards: 0, nodes: [n]}
`, []string{
			`t.yaml:8: schemas[1].tables.a: conflicting keys global (global) and node (single): a table rule is exactly one kind`,
			`t.yaml:9: schemas[1].tables.b: column alone places nothing: add algorithm, shards and nodes (sharded) or parent and parent_column (child)`,
			`t.yaml:10: schemas[1].tables.c: empty rule: want node, global: true, column+algorithm+shards+nodes, or parent+column+parent_column`,
			`t.yaml:11: schemas[1].tables.d: a sharded table needs shards, nodes`,
			`t.yaml:12: schemas[1].tables.e: conflicting keys shards (sharded) and parent, parent_column (child): a table rule is exactly one kind`,
			`t.yaml:13: schemas[1].tables.f: conflicting keys column and global (global)`,
			`t.yaml:14: schemas[1].tables.g.algorithm: unknown algorithm "nope" (want one of mod, hash, range, date, enum, jump_hash, consistent_hash, slot, string_prefix)`,
			`t.yaml:14: schemas[1].tables.g.shards: must be >= 1`}},
		{"parent chains", base + `  - name: t
    tables:
      top: {column: id, algorithm: hash, shards: 2, nodes: [n]}
      mid: {parent: top, column: top_id, parent_column: id}
      low: {parent: mid, column: mid_id, parent_column: id}
      g: {global: true}
      cg: {parent: g, column: g_id, parent_column: id}
      x: {parent: y, column: a, parent_column: b}
      y: {parent: x, column: a, parent_column: b}
      dup: {global: true}
      dup: {node: n}
`, []string{
			`t.yaml:12: schemas[1].tables.cg.parent: parent chain cg -> g ends in a global table; it must end in a sharded one`,
			`t.yaml:13: schemas[1].tables.x.parent: parent chain x -> y -> x is a cycle`,
			`t.yaml:14: schemas[1].tables.y.parent: parent chain y -> x -> y is a cycle`,
			`t.yaml:16: schemas[1].tables.dup: duplicate table "dup" (first defined at line 15)`}},
		{"default node", strings.Replace(base, "default_node: n", "default_node: ''", 1), []string{
			`t.yaml:5: schemas[0].default_node: required when the schema lists no tables`}},
		{"server values", `listen: localhost
admin: "127.0.0.1:3307"
max_connections: 0
log: {level: verbose, format: xml}
tls: {cert: missing.pem}
` + strings.Replace(base, `primary: "127.0.0.1:1"`, `primary: "127.0.0.1:1", replicas: [{addr: "x:0", weight: -1}], pool: {max: 0, min_idle: -1, connect_timeout: -1s}`, 1), []string{
			`t.yaml:1: listen: "localhost" is not host:port`,
			`t.yaml:3: max_connections: must be >= 1`,
			`t.yaml:4: log.level: "verbose" is not one of debug, info, warn, error`,
			`t.yaml:4: log.format: "xml" is not one of text, json`,
			`t.yaml:5: tls.key: required when tls.cert is set`,
			`t.yaml:7: data_hosts[0].replicas[0].addr: "x:0" is not host:port`,
			`t.yaml:7: data_hosts[0].replicas[0].weight: must be >= 0`,
			`t.yaml:7: data_hosts[0].pool.min_idle: must be >= 0`,
			`t.yaml:7: data_hosts[0].pool.connect_timeout: must be >= 0`,
			`t.yaml:7: data_hosts[0].pool.max: must be >= 1`}},
		{"same listen address", "listen: 127.0.0.1:4000\nadmin: 127.0.0.1:4000\n" + base, []string{
			`t.yaml:2: admin: address 127.0.0.1:4000 is already used by listen`}},
		{"pool limits", strings.Replace(base, `[{name: h, primary: "127.0.0.1:1"}]`,
			`[{name: h, primary: "127.0.0.1:1", pool: {max: 4, max_idle: 8}}, {name: h2, primary: "127.0.0.1:2", pool: {min_idle: 20}}]`, 1), []string{
			`t.yaml:2: data_hosts[0].pool.max_idle: must be <= max (4)`,
			`t.yaml:2: data_hosts[1].pool.min_idle: must be <= max_idle (16)`}},
		{"tls files", base + "tls: {cert: nope.pem, key: /nonexistent/key.pem}\n", []string{
			`t.yaml:6: tls.cert: stat ` + mustAbs(t, "nope.pem") + `: no such file or directory`,
			`t.yaml:6: tls.key: stat /nonexistent/key.pem: no such file or directory`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error; config %+v", c)
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
			var one *Error
			if !errors.As(err, &one) || one.File != "t.yaml" {
				t.Errorf("errors.As: %v", one)
			}
		})
	}
}

// TestRequired checks refusals of missing keys: lines fall back to the item.
func TestRequired(t *testing.T) {
	_, err := Parse("t.yaml", []byte(`users: [{password: p, admin: true}]
data_hosts: [{user: x}]
data_nodes: [{name: n}]
schemas: [{default_node: n}]
`))
	want := strings.Join([]string{
		`t.yaml:1: users[0].name: required`,
		`t.yaml:2: data_hosts[0].name: required`,
		`t.yaml:2: data_hosts[0].primary: required`,
		`t.yaml:3: data_nodes[0].host: required`,
		`t.yaml:3: data_nodes[0].database: required`,
		`t.yaml:4: schemas[0].name: required`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func mustAbs(t *testing.T, name string) string {
	abs, err := filepath.Abs(name)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]int{"1048576": 1 << 20, "64M": 64 << 20, "16MB": 16 << 20, "1G": 1 << 30, "512k": 512 << 10, "2 MiB": 2 << 20} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "-1M", "1.5M", "12Q", "99999999999999G"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
	for n, want := range map[int]string{64 << 20: "64M", 1 << 30: "1G", 1536: "1536", 3 << 10: "3K", 1000: "1000"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
	for text, want := range map[string]int{"16MB": 16 << 20, "'1G'": 1 << 30, "4096": 4096, `"2048"`: 2048} {
		c, err := Parse("t.yaml", []byte(base+"max_allowed_packet: "+text+"\n"))
		if err != nil || c.MaxAllowedPacket != want {
			t.Errorf("max_allowed_packet: %s gave %v, %v; want %d", text, c, err, want)
		}
	}
}

func TestDefaultsAndExplicitZeros(t *testing.T) {
	c, err := Parse("t.yaml", []byte(strings.Replace(base, `primary: "127.0.0.1:1"`,
		`primary: "127.0.0.1:1", replicas: [{addr: "127.0.0.1:2", weight: 0}, {addr: "127.0.0.1:3"}], pool: {max: 8, max_idle: 0, idle_timeout: 0s}}, {name: h2, primary: "127.0.0.1:4", pool: {max: 4}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	h := c.DataHosts[0]
	if h.Replicas[0].Weight != 0 || h.Replicas[1].Weight != 1 {
		t.Errorf("weights: %+v", h.Replicas)
	}
	want := Pool{Max: 8, MaxIdle: 0, IdleTimeout: 0, WaitTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second}
	if h.Pool != want {
		t.Errorf("pool %+v, want %+v", h.Pool, want)
	}
	if p := c.DataHosts[1].Pool; p.Max != 4 || p.MaxIdle != 4 {
		t.Errorf("default max_idle must not exceed max: %+v", p)
	}
	if c.Listen != DefaultListen || c.MaxConnections != 1000 || c.Log != (Log{"info", "text"}) {
		t.Errorf("server defaults: %+v", c)
	}
}

func TestTLSPaths(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "sg.yaml")
	if err := os.WriteFile(path, []byte(base+"tls: {cert: cert.pem, key: "+filepath.Join(dir, "key.pem")+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS.Cert != filepath.Join(dir, "cert.pem") || c.TLS.Key != filepath.Join(dir, "key.pem") || c.Path != path {
		t.Errorf("tls %+v", c.TLS)
	}
	if c, err := Parse("t.yaml", []byte(base+"tls: {}\n")); err != nil || c.TLS != nil {
		t.Errorf("empty tls block: %v, %v", c, err)
	}
}

func TestRoundTrip(t *testing.T) {
	custom := `listen: 0.0.0.0:4000
metrics: 127.0.0.1:9104
max_connections: 50
max_allowed_packet: 16MB
server_version: 8.0.36-sg
log: {level: debug, format: json}
snowflake: {worker_id: 0}
xa_log: /var/lib/sg/xa.log
users:
  - {name: "we:ird", password: "p#w: d", schemas: [s]}
data_hosts:
  - name: h
    primary: 127.0.0.1:1
    replicas: [{addr: 127.0.0.1:2, weight: 0}, {addr: 127.0.0.1:3, weight: 3}]
    pool: {max: 8, max_idle: 0, idle_timeout: 0s, wait_timeout: 250ms}
    tls: true
data_nodes: [{name: n, host: h, database: d}, {name: m, host: h, database: e}]
schemas:
  - name: s
    transaction_mode: local
    tables:
      zeta: {column: created, algorithm: date, shards: 12, nodes: [n, m], options: {unit: month, start: "2024-01-01", ranges: [[0, 10], [10, 20]]}, auto_increment: {column: id, generator: snowflake}}
      beta: {column: id, algorithm: mod, shards: 2, nodes: [n, m], auto_increment: {column: id, generator: segment, node: m, block: 50}}
      alpha: {parent: zeta, column: z_id, parent_column: id}
      mid: {node: m}
`
	example, err := os.ReadFile("../examples/shardgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"design": designExample, "example": string(example), "custom": custom} {
		t.Run(name, func(t *testing.T) {
			c1, err := Parse("a.yaml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal(c1)
			if err != nil {
				t.Fatal(err)
			}
			c2, err := Parse("a.yaml", out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, c := range []*Config{c1, c2} {
				for i := range c.Schemas {
					c.Schemas[i].Tables = withoutLines(c.Schemas[i].Tables)
				}
			}
			if !reflect.DeepEqual(c1, c2) {
				t.Errorf("round trip changed the config:\n%+v\n%+v\nYAML:\n%s", c1, c2, out)
			}
			if name == "design" && strings.Contains(string(out), "pool") {
				t.Errorf("defaults written out:\n%s", out)
			}
			if name == "custom" && (!strings.Contains(string(out), "max_allowed_packet: 16M\n") || !strings.Contains(string(out), "weight: 0")) {
				t.Errorf("want a size and an explicit zero weight:\n%s", out)
			}
		})
	}
}

func withoutLines(tm TableMap) TableMap {
	out := append(TableMap(nil), tm...)
	for i := range out {
		out[i].Line = 0
	}
	return out
}
