package conf

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// validate records every problem in c. It looks at the file (p.has) only to
// tell a key written as 0 from a key left out.
func (p *parser) validate(c *Config) {
	p.checkServer(c)
	p.checkUsers(c)
	p.checkDataHosts(c)
	p.checkDataNodes(c)
	p.checkSchemas(c)
	p.checkAdmin(c)
}

func (p *parser) checkServer(c *Config) {
	seen := map[string]string{}
	for _, a := range []struct {
		key, addr string
	}{{"listen", c.Listen}, {"admin", c.Admin}, {"metrics", c.Metrics}} {
		if a.addr == "" {
			continue
		}
		if err := checkAddr(a.addr, false); err != nil {
			p.add(keyPath{a.key}, "%v", err)
		} else if first, dup := seen[a.addr]; dup && !strings.HasSuffix(a.addr, ":0") {
			p.add(keyPath{a.key}, "address %s is already used by %s", a.addr, first)
		}
		seen[a.addr] = a.key
	}
	if p.has(keyPath{"max_connections"}) && c.MaxConnections < 1 {
		p.add(keyPath{"max_connections"}, "must be >= 1")
	}
	if c.Procs < 0 {
		p.add(keyPath{"procs"}, "must be >= 0 (0 picks half the CPUs)")
	}
	if p.has(keyPath{"max_allowed_packet"}) && (c.MaxAllowedPacket < 1024 || c.MaxAllowedPacket > 1<<30) {
		p.add(keyPath{"max_allowed_packet"}, "must be between 1K and 1G (MySQL's limits)")
	}
	if c.Snowflake != nil && (c.Snowflake.WorkerID < 0 || c.Snowflake.WorkerID > 1023) {
		p.add(keyPath{"snowflake", "worker_id"}, "must be between 0 and 1023")
	}
	if cl := c.Cluster; cl != nil {
		if len(cl.Endpoints) == 0 {
			p.add(keyPath{"cluster", "endpoints"}, "required: the etcd client URLs")
		}
		if cl.Name == "" || strings.Trim(cl.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" {
			p.add(keyPath{"cluster", "name"}, "required: letters, digits, '_', '.', '-'")
		}
		if cl.LeaseTTL == 0 {
			cl.LeaseTTL = DefaultLeaseTTL
		} else if cl.LeaseTTL < 2*time.Second {
			p.add(keyPath{"cluster", "lease_ttl"}, "must be at least 2s")
		}
		if t := cl.TLS; t != nil {
			for _, f := range []*string{&t.CA, &t.Cert, &t.Key} {
				if *f != "" && !filepath.IsAbs(*f) && c.Path != "" {
					*f = filepath.Join(filepath.Dir(c.Path), *f)
				}
			}
			if (t.Cert == "") != (t.Key == "") {
				p.add(keyPath{"cluster", "tls"}, "cert and key go together")
			}
		}
	}
	p.checkOneOf(keyPath{"log", "level"}, c.Log.Level, "debug", "info", "warn", "error")
	p.checkOneOf(keyPath{"log", "format"}, c.Log.Format, "text", "json")

	if t := c.TLS; t != nil {
		switch {
		case t.Cert == "" && t.Key == "":
			c.TLS = nil // an empty tls block means no TLS
		case t.Cert == "":
			p.add(keyPath{"tls", "cert"}, "required when tls.key is set")
		case t.Key == "":
			p.add(keyPath{"tls", "key"}, "required when tls.cert is set")
		default:
			t.Cert = p.checkFile(keyPath{"tls", "cert"}, t.Cert)
			t.Key = p.checkFile(keyPath{"tls", "key"}, t.Key)
		}
	}
}

// checkOneOf accepts "" (the default) or one of want.
func (p *parser) checkOneOf(key keyPath, v string, want ...string) {
	if v != "" && !slices.Contains(want, v) {
		p.add(key, "%q is not one of %s", v, strings.Join(want, ", "))
	}
}

// checkFile resolves name against the config file's directory, checks the
// file exists and returns its absolute path.
func (p *parser) checkFile(key keyPath, name string) string {
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(p.file), name)
	}
	if abs, err := filepath.Abs(name); err == nil {
		name = abs
	}
	if _, err := os.Stat(name); err != nil {
		p.add(key, "%v", err)
	}
	return name
}

// checkAddr wants host:port; a backend also needs a host and a non-zero port.
func checkAddr(addr string, backend bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || backend && (n == 0 || host == "") {
		return fmt.Errorf("%q is not host:port", addr)
	}
	return nil
}

// names reports missing and repeated names in one top-level list; a problem
// is reported at list[i].name.
type names struct {
	p    *parser
	kind string         // "user", "data host", ...
	list string         // top-level key, "users", ...
	line map[string]int // name -> line of its first definition
}

func (p *parser) names(kind, list string) *names {
	return &names{p: p, kind: kind, list: list, line: map[string]int{}}
}

func (ns *names) define(i int, name string) {
	key := keyPath{ns.list, i, "name"}
	line, _ := ns.p.lookup(key)
	switch first, dup := ns.line[name]; {
	case name == "":
		ns.p.add(key, "required")
	case dup:
		ns.p.add(key, "duplicate %s %q (first defined at line %d)", ns.kind, name, first)
	default:
		ns.line[name] = line
	}
}

func (p *parser) checkUsers(c *Config) {
	if len(c.Users) == 0 {
		p.add(keyPath{"users"}, "at least one user is required")
	}
	ns := p.names("user", "users")
	for i, u := range c.Users {
		ns.define(i, u.Name)
		key := keyPath{"users", i, "schemas"}
		if len(u.Schemas) == 0 && !u.Admin {
			p.add(key, "a user that is not admin needs at least one schema")
		}
		for j, s := range u.Schemas {
			if c.Schema(s) == nil {
				p.add(key.with(j), "schema %q is not defined", s)
			}
		}
	}
}

func (p *parser) checkDataHosts(c *Config) {
	ns := p.names("data host", "data_hosts")
	servers := map[string]string{} // address -> key path that uses it
	server := func(key keyPath, addr string) {
		switch first, dup := servers[addr]; {
		case addr == "":
			p.add(key, "required")
		case checkAddr(addr, true) != nil:
			p.add(key, "%v", checkAddr(addr, true))
		case dup:
			p.add(key, "server %s is already used by %s", addr, first)
		default:
			servers[addr] = key.String()
		}
	}
	for i, h := range c.DataHosts {
		at := keyPath{"data_hosts", i}
		ns.define(i, h.Name)
		server(at.with("primary"), h.Primary)
		for j, r := range h.Replicas {
			server(at.with("replicas", j, "addr"), r.Addr)
			if r.Weight < 0 {
				p.add(at.with("replicas", j, "weight"), "must be >= 0")
			}
		}
		p.checkPool(at.with("pool"), h.Pool)
		p.checkOneOf(at.with("balance"), h.Balance, "primary", "replicas", "all")
		p.checkOneOf(at.with("failover"), h.Failover, "manual", "auto")
		for _, d := range []struct {
			key string
			v   time.Duration
		}{{"heartbeat", h.Heartbeat}, {"max_replica_lag", h.MaxReplicaLag}, {"failover_after", h.FailoverAfter}, {"failover_wait", h.FailoverWait}} {
			if d.v < 0 {
				p.add(at.with(d.key), "must be >= 0")
			}
		}
	}
}

func (p *parser) checkPool(at keyPath, pl Pool) {
	for _, v := range []struct {
		key string
		n   int64
	}{
		{"max", int64(pl.Max)}, {"min_idle", int64(pl.MinIdle)}, {"max_idle", int64(pl.MaxIdle)},
		{"idle_timeout", int64(pl.IdleTimeout)}, {"wait_timeout", int64(pl.WaitTimeout)}, {"connect_timeout", int64(pl.ConnectTimeout)},
	} {
		if v.n < 0 {
			p.add(at.with(v.key), "must be >= 0")
		}
	}
	// Compare the values as they will be, defaults included.
	pl = p.pool(at, pl)
	switch {
	case pl.Max < 1:
		p.add(at.with("max"), "must be >= 1")
	case pl.MaxIdle > pl.Max:
		p.add(at.with("max_idle"), "must be <= max (%d)", pl.Max)
	case pl.MinIdle > pl.MaxIdle:
		p.add(at.with("min_idle"), "must be <= max_idle (%d)", pl.MaxIdle)
	}
}

// pool returns pl with defaults for the keys the file leaves out under at.
// A default max_idle never exceeds a smaller max written in the file.
func (p *parser) pool(at keyPath, pl Pool) Pool {
	def := DefaultPool()
	for _, d := range []struct {
		key string
		set func()
	}{
		{"max", func() { pl.Max = def.Max }},
		{"max_idle", func() { pl.MaxIdle = min(def.MaxIdle, pl.Max) }}, // after max
		{"idle_timeout", func() { pl.IdleTimeout = def.IdleTimeout }},
		{"wait_timeout", func() { pl.WaitTimeout = def.WaitTimeout }},
		{"connect_timeout", func() { pl.ConnectTimeout = def.ConnectTimeout }},
	} {
		if !p.has(at.with(d.key)) {
			d.set()
		}
	}
	return pl
}

func (p *parser) checkDataNodes(c *Config) {
	ns := p.names("data node", "data_nodes")
	for i, n := range c.DataNodes {
		at := keyPath{"data_nodes", i}
		ns.define(i, n.Name)
		switch {
		case n.Host == "":
			p.add(at.with("host"), "required")
		case c.DataHost(n.Host) == nil:
			p.add(at.with("host"), "data host %q is not defined", n.Host)
		}
		if n.Database == "" {
			p.add(at.with("database"), "required")
		}
	}
}

func (p *parser) checkSchemas(c *Config) {
	ns := p.names("schema", "schemas")
	for i := range c.Schemas {
		s := &c.Schemas[i]
		at := keyPath{"schemas", i}
		ns.define(i, s.Name)
		switch {
		case s.DefaultNode != "":
			p.checkNode(c, at.with("default_node"), s.DefaultNode)
		case len(s.Tables) == 0:
			// With tables listed, a schema may do without: unlisted tables then do not exist.
			p.add(at.with("default_node"), "required when the schema lists no tables")
		}
		p.checkOneOf(at.with("transaction_mode"), s.TransactionMode, TxXA, TxLocal)
		valid := map[string]bool{} // tables whose rule has a sound shape
		seen := map[string]int{}
		for _, t := range s.Tables {
			tk := at.with("tables", t.Name)
			if first, dup := seen[t.Name]; dup {
				p.addAt(t.Line, tk, "duplicate table %q (first defined at line %d)", t.Name, first)
				continue
			}
			seen[t.Name] = t.Line
			if t.Name == "" {
				p.addAt(t.Line, tk, "table name is empty")
			}
			valid[t.Name] = p.checkTable(c, tk, &t)
			if t.AutoIncrement != nil {
				p.checkAutoIncrement(c, s, tk.with("auto_increment"), &t)
			}
		}
		for _, t := range s.Tables {
			if valid[t.Name] && t.Kind() == TableChild {
				p.checkParent(s, at.with("tables", t.Name, "parent"), &t, valid)
			}
		}
	}
}

// checkAutoIncrement checks a table's id generator.
func (p *parser) checkAutoIncrement(c *Config, s *Schema, at keyPath, t *Table) {
	a := t.AutoIncrement
	if t.Kind() == TableSingle {
		p.add(at, "a single-node table has its server's AUTO_INCREMENT: the proxy generates ids only for sharded, child and global tables")
	}
	if a.Column == "" {
		p.add(at.with("column"), "required")
	}
	if a.Generator == "" {
		p.add(at.with("generator"), "required (snowflake or segment)")
	}
	p.checkOneOf(at.with("generator"), a.Generator, GenSnowflake, GenSegment)
	switch a.Generator {
	case GenSnowflake:
		if c.Snowflake == nil && c.Cluster == nil {
			p.add(at.with("generator"), "snowflake needs a worker id: add snowflake: {worker_id: N} (0..1023, unique per shardgate process)")
		}
		if a.Node != "" || a.Block != 0 {
			p.add(at, "node and block are for the segment generator")
		}
	case GenSegment:
		if a.Node != "" {
			p.checkNode(c, at.with("node"), a.Node)
		}
		if a.Block < 0 {
			p.add(at.with("block"), "must be >= 1")
		}
	}
}

func (p *parser) checkNode(c *Config, key keyPath, name string) {
	if c.DataNode(name) == nil {
		p.add(key, "data node %q is not defined", name)
	}
}

// kindKeys lists the keys that mark each kind of table rule. "column" is left
// out: sharded and child rules share it.
var kindKeys = []struct {
	kind TableKind
	keys []string
}{
	{TableSharded, []string{"algorithm", "shards", "nodes", "options"}},
	{TableChild, []string{"parent", "parent_column"}},
	{TableGlobal, []string{"global"}},
	{TableSingle, []string{"node"}},
}

// checkTable checks one rule's shape and references; it says whether the
// shape is sound (so Kind can be trusted).
func (p *parser) checkTable(c *Config, at keyPath, t *Table) bool {
	set := map[string]bool{
		"algorithm": t.Algorithm != "", "shards": t.Shards != 0 || p.has(at.with("shards")), "nodes": len(t.Nodes) > 0,
		"options": t.Options != nil, "parent": t.Parent != "", "parent_column": t.ParentColumn != "",
		"global": t.Global, "node": t.Node != "", "column": t.Column != "",
	}
	var kinds []TableKind
	var groups []string // "node (single)", ...
	for _, kk := range kindKeys {
		var present []string
		for _, k := range kk.keys {
			if set[k] {
				present = append(present, k)
			}
		}
		if len(present) > 0 {
			kinds = append(kinds, kk.kind)
			groups = append(groups, fmt.Sprintf("%s (%s)", strings.Join(present, ", "), kk.kind))
		}
	}
	switch {
	case len(kinds) > 1:
		p.addAt(t.Line, at, "conflicting keys %s: a table rule is exactly one kind", strings.Join(groups, " and "))
		return false
	case len(kinds) == 0 && set["column"]:
		p.addAt(t.Line, at, "column alone places nothing: add algorithm, shards and nodes (sharded) or parent and parent_column (child)")
		return false
	case len(kinds) == 0:
		p.addAt(t.Line, at, "empty rule: want node, global: true, column+algorithm+shards+nodes, or parent+column+parent_column")
		return false
	}
	need := map[TableKind][]string{TableSharded: {"column", "algorithm", "shards", "nodes"}, TableChild: {"parent", "column", "parent_column"}}[kinds[0]]
	if set["column"] && need == nil {
		p.addAt(t.Line, at, "conflicting keys column and %s", groups[0])
		return false
	}
	var missing []string
	for _, k := range need {
		if !set[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		p.addAt(t.Line, at, "a %s table needs %s", kinds[0], strings.Join(missing, ", "))
		return false
	}

	switch kinds[0] {
	case TableSingle:
		p.checkNode(c, at.with("node"), t.Node)
	case TableSharded:
		if !slices.Contains(Algorithms, t.Algorithm) {
			p.add(at.with("algorithm"), "unknown algorithm %q (want one of %s)", t.Algorithm, strings.Join(Algorithms, ", "))
		}
		if t.Shards < 1 {
			p.add(at.with("shards"), "must be >= 1")
		}
		for j, n := range t.Nodes {
			if slices.Index(t.Nodes, n) < j {
				p.add(at.with("nodes", j), "data node %q is listed twice", n)
			} else {
				p.checkNode(c, at.with("nodes", j), n)
			}
		}
	}
	return true
}

// checkParent follows a child's parent chain, which must end in a sharded
// table of the same schema without looping.
func (p *parser) checkParent(s *Schema, key keyPath, t *Table, valid map[string]bool) {
	chain := []string{t.Name}
	for cur := t.Parent; ; {
		pt := s.Table(cur)
		if pt == nil {
			p.add(key, "table %q is not in schema %q", cur, s.Name)
			return
		}
		if !valid[cur] {
			return // its own rule is already reported
		}
		chain = append(chain, cur)
		if slices.Index(chain, cur) < len(chain)-1 {
			p.add(key, "parent chain %s is a cycle", strings.Join(chain, " -> "))
			return
		}
		switch pt.Kind() {
		case TableSharded:
			return
		case TableChild:
			cur = pt.Parent
		default:
			p.add(key, "parent chain %s ends in a %s table; it must end in a sharded one", strings.Join(chain, " -> "), pt.Kind())
			return
		}
	}
}

// applyDefaults fills in what the file left out. It runs after validate, on
// a config without problems.
func (p *parser) applyDefaults(c *Config) {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if !p.has(keyPath{"max_connections"}) {
		c.MaxConnections = DefaultMaxConnections
	}
	if !p.has(keyPath{"max_allowed_packet"}) {
		c.MaxAllowedPacket = DefaultMaxAllowedPacket
	}
	if c.Log.Level == "" {
		c.Log.Level = DefaultLogLevel
	}
	if c.Log.Format == "" {
		c.Log.Format = DefaultLogFormat
	}
	for i := range c.DataHosts {
		h := &c.DataHosts[i]
		at := keyPath{"data_hosts", i}
		for j := range h.Replicas {
			if !p.has(at.with("replicas", j, "weight")) {
				h.Replicas[j].Weight = DefaultReplicaWeight
			}
		}
		h.Pool = p.pool(at.with("pool"), h.Pool)
		if h.Balance == "" {
			h.Balance = DefaultBalance
		}
		if h.Failover == "" {
			h.Failover = DefaultFailover
		}
		if h.Heartbeat == 0 {
			h.Heartbeat = DefaultHeartbeat
		}
		if h.MaxReplicaLag == 0 {
			h.MaxReplicaLag = DefaultMaxReplicaLag
		}
		if h.FailoverAfter == 0 {
			h.FailoverAfter = DefaultFailoverAfter
		}
		if h.FailoverWait == 0 {
			h.FailoverWait = DefaultFailoverWait
		}
	}
}
