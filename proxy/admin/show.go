package admin

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/shardrules"
)

// hosts returns the data hosts in config order.
func hosts(snap *snapshot.Snapshot) []*backend.DataHost {
	var out []*backend.DataHost
	for _, hc := range snap.Conf.DataHosts {
		if h := snap.Cluster.Hosts[hc.Name]; h != nil {
			out = append(out, h)
		}
	}
	return out
}

// roleState shows a server's role and state: an offline replica is a
// replica in state offline.
func roleState(s *backend.Server) (role, state string) {
	role = string(s.Role())
	switch {
	case s.Offline():
		role, state = string(backend.RoleReplica), "offline"
	case s.Role() == backend.RoleFenced:
		state = "fenced"
	case s.Up():
		state = "up"
	default:
		state = "down"
	}
	return role, state
}

// lag is a replica's lag for display: NULL for a primary or when unknown.
func lag(s *backend.Server) any {
	if s.Role() == backend.RolePrimary || s.Lag() < 0 {
		return nil
	}
	return s.Lag()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

func (c *Console) showDataHosts() (*result, error) {
	snap := c.holder.Load()
	r := &result{cols: cols("data_host", "primary", "#replicas", "#servers_up", "balance", "failover", "#failovers", "switching", "heartbeat")}
	for _, h := range hosts(snap) {
		up := 0
		for _, s := range h.Servers() {
			if s.Up() && !s.Offline() && s.Role() != backend.RoleFenced {
				up++
			}
		}
		cfg := h.Config()
		r.rows = append(r.rows, []any{h.Name, h.Primary().Addr, len(h.Replicas()), up, cfg.Balance, cfg.Failover,
			h.Failovers(), yesNo(h.Switching()), cfg.Heartbeat.String()})
	}
	return r, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (c *Console) showServers() (*result, error) {
	snap := c.holder.Load()
	r := &result{cols: cols("data_host", "server", "role", "state", "#lag_seconds", "#pool_open", "#pool_idle", "#pool_max",
		"qps", "#statements", "#errors", "last_error")}
	for _, h := range hosts(snap) {
		for _, s := range h.Servers() {
			role, state := roleState(s)
			open, idle := s.Pool.Stats()
			var qps any = "0.0"
			var n, errs uint64
			if c.stats != nil {
				ss := c.stats.Server(s.Addr)
				qps = fmt.Sprintf("%.1f", ss.QPS())
				n, errs = ss.Statements.Load(), ss.Errors.Load()
			}
			var lastErr any
			if e := s.LastError(); e != "" {
				lastErr = e
			}
			r.rows = append(r.rows, []any{h.Name, s.Addr, role, state, lag(s), open, idle, s.Pool.Max(), qps, n, errs, lastErr})
		}
	}
	return r, nil
}

func (c *Console) showDataNodes() (*result, error) {
	snap := c.holder.Load()
	r := &result{cols: cols("data_node", "data_host", "database", "primary", "schemas", "#physical_tables")}
	for _, nc := range snap.Conf.DataNodes {
		dn := snap.Cluster.Nodes[nc.Name]
		var schemas []string
		tables := 0
		for _, sc := range snap.Conf.Schemas {
			used := sc.DefaultNode == nc.Name
			if rules := snap.Rules[sc.Name]; rules != nil {
				for _, t := range rules.Tables {
					for _, p := range t.AllPlacements() {
						if p.Node == nc.Name {
							tables++
							used = true
						}
					}
				}
			}
			if used {
				schemas = append(schemas, sc.Name)
			}
		}
		r.rows = append(r.rows, []any{nc.Name, nc.Host, nc.Database, dn.Host.Primary().Addr, strings.Join(schemas, ","), tables})
	}
	return r, nil
}

func (c *Console) showHeartbeats() (*result, error) {
	snap := c.holder.Load()
	r := &result{cols: cols("data_host", "server", "role", "state", "last_check", "#ms_since_check", "#lag_seconds", "gtid", "last_error")}
	for _, h := range hosts(snap) {
		for _, s := range h.Servers() {
			role, state := roleState(s)
			var last, since any
			if at := s.CheckedAt(); !at.IsZero() {
				last = at.UTC().Format("2006-01-02 15:04:05.000")
				since = time.Since(at).Milliseconds()
			}
			var gtid, lastErr any
			if g := s.Applied(); len(g) > 0 {
				gtid = gtidText(g)
			}
			if e := s.LastError(); e != "" {
				lastErr = e
			}
			r.rows = append(r.rows, []any{h.Name, s.Addr, role, state, last, since, lag(s), gtid, lastErr})
		}
	}
	return r, nil
}

func gtidText(g backend.GTIDSet) string {
	var doms []uint32
	for d := range g {
		doms = append(doms, d)
	}
	sort.Slice(doms, func(i, j int) bool { return doms[i] < doms[j] })
	var parts []string
	for _, d := range doms {
		parts = append(parts, fmt.Sprintf("%d-%d", d, g[d]))
	}
	return strings.Join(parts, ",")
}

func (c *Console) showSessions() (*result, error) {
	r := &result{cols: cols("#id", "user", "host", "schema", "state", "#time_seconds", "statement")}
	all := c.registry.All()
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	for _, s := range all {
		in := s.Info()
		state := "Sleep"
		var stmt any
		if in.Query != "" {
			state, stmt = "Query", in.Query
		}
		var schema any
		if in.Schema != "" {
			schema = in.Schema
		}
		r.rows = append(r.rows, []any{in.ID, in.User, in.Host, schema, state, int64(time.Since(in.Since).Seconds()), stmt})
	}
	return r, nil
}

func (c *Console) showBackends() (*result, error) {
	snap := c.holder.Load()
	inUse := map[*backend.Server]map[uint32]uint32{} // server -> thread id -> session
	for _, s := range c.registry.All() {
		if be := s.Backend(); be != nil {
			m := inUse[be.Server()]
			if m == nil {
				m = map[uint32]uint32{}
				inUse[be.Server()] = m
			}
			m[be.ThreadID] = s.ID
		}
	}
	r := &result{cols: cols("data_host", "server", "role", "#thread_id", "state", "#session", "#idle_seconds")}
	for _, h := range hosts(snap) {
		for _, srv := range h.Servers() {
			role, _ := roleState(srv)
			open, idle := srv.Pool.Stats()
			list := srv.Pool.Idle()
			sort.Slice(list, func(i, j int) bool { return list[i].ThreadID < list[j].ThreadID })
			for _, ic := range list {
				r.rows = append(r.rows, []any{h.Name, srv.Addr, role, ic.ThreadID, "idle", nil, int64(time.Since(ic.Since).Seconds())})
			}
			var ids []uint32
			for id := range inUse[srv] {
				ids = append(ids, id)
			}
			sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
			for _, id := range ids {
				r.rows = append(r.rows, []any{h.Name, srv.Addr, role, id, "running", inUse[srv][id], nil})
			}
			// Open connections neither idle nor running a statement: held by
			// sessions between statements (transactions, pinned state).
			if held := open - idle - len(ids); held > 0 {
				r.rows = append(r.rows, []any{h.Name, srv.Addr, role, nil, fmt.Sprintf("held (%d)", held), nil, nil})
			}
		}
	}
	return r, nil
}

func (c *Console) showSQLStats() (*result, error) {
	r := &result{cols: cols("fingerprint", "kind", "#count", "#errors", "#rows", "total_ms", "avg_ms", "p99_ms", "max_ms", "avg_shards", "last_seen")}
	if c.stats == nil {
		return r, nil
	}
	for _, f := range c.stats.Fingerprints() {
		var last any
		if !f.LastSeen.IsZero() {
			last = f.LastSeen.UTC().Format("2006-01-02 15:04:05")
		}
		r.rows = append(r.rows, []any{f.Text, f.Kind, f.Count, f.Errors, f.Rows, ms(f.Total), ms(f.Avg), ms(f.P99), ms(f.Max),
			fmt.Sprintf("%.2f", f.AvgShards), last})
	}
	return r, nil
}

func (c *Console) showSlow() (*result, error) {
	r := &result{cols: cols("time", "duration_ms", "#session", "user", "schema", "#rows", "#shards", "#error", "statement")}
	if c.stats == nil {
		return r, nil
	}
	for _, q := range c.stats.SlowQueries() {
		var schema, code any
		if q.Schema != "" {
			schema = q.Schema
		}
		if q.ErrCode != 0 {
			code = q.ErrCode
		}
		r.rows = append(r.rows, []any{q.At.UTC().Format("2006-01-02 15:04:05.000"), ms(q.Duration), q.Session, q.User, schema,
			q.Rows, q.Shards, code, q.SQL})
	}
	return r, nil
}

func (c *Console) showRules(t *tokens) (*result, error) {
	only, err := schemaArg(t)
	if err != nil {
		return nil, err
	}
	if err := t.end(); err != nil {
		return nil, err
	}
	snap := c.holder.Load()
	if only != "" && snap.Conf.Schema(only) == nil {
		return nil, errf("no schema %q", only)
	}
	r := &result{cols: cols("schema", "table", "kind", "column", "algorithm", "#shards", "nodes", "parent", "parent_column",
		"options", "no_scatter", "auto_increment")}
	for _, sc := range snap.Conf.Schemas {
		if only != "" && sc.Name != only {
			continue
		}
		if sc.DefaultNode != "" {
			r.rows = append(r.rows, []any{sc.Name, "(other tables)", "default", nil, nil, 1, sc.DefaultNode, nil, nil, nil, nil, nil})
		}
		rules := snap.Rules[sc.Name]
		for _, ct := range sc.Tables {
			tr := rules.Tables[ct.Name]
			row := []any{sc.Name, ct.Name, ct.Kind().String(), nilIf(ct.Column), nilIf(ct.Algorithm), nil, nil,
				nilIf(ct.Parent), nilIf(ct.ParentColumn), nil, yesNo(ct.NoScatter), nil}
			if tr != nil {
				row[5] = tr.Shards
				row[6] = strings.Join(tr.Nodes, ",")
			}
			if len(ct.Options) > 0 {
				row[9] = flowYAML(ct.Options)
			}
			if ct.AutoIncrement != nil {
				row[11] = flowYAML(ct.AutoIncrement)
			}
			r.rows = append(r.rows, row)
		}
	}
	return r, nil
}

func nilIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// lookupTable resolves [schema.]t [IN schema] against the running rules.
func (c *Console) lookupTable(t *tokens) (*snapshot.Snapshot, string, *shardrules.TableRule, error) {
	schema, table, err := t.qualified("table name")
	if err != nil {
		return nil, "", nil, err
	}
	if s, err := schemaArg(t); err != nil {
		return nil, "", nil, err
	} else if s != "" {
		schema = s
	}
	if err := t.end(); err != nil {
		return nil, "", nil, err
	}
	snap := c.holder.Load()
	if schema == "" {
		schema, err = onlySchema(snap, table)
		if err != nil {
			return nil, "", nil, err
		}
	}
	rules := snap.Rules[schema]
	if rules == nil {
		return nil, "", nil, errf("no schema %q", schema)
	}
	rule := rules.Lookup(table)
	if rule == nil {
		return nil, "", nil, errf("schema %s has no table %s (no rule, no default node)", schema, table)
	}
	return snap, schema, rule, nil
}

// onlySchema picks the schema of a table named without one: the schema
// listing it, else the only schema.
func onlySchema(snap *snapshot.Snapshot, table string) (string, error) {
	var with []string
	for _, sc := range snap.Conf.Schemas {
		if sc.Table(table) != nil {
			with = append(with, sc.Name)
		}
	}
	switch {
	case len(with) == 1:
		return with[0], nil
	case len(with) == 0 && len(snap.Conf.Schemas) == 1:
		return snap.Conf.Schemas[0].Name, nil
	}
	return "", errf("which schema? name it: %s IN schema", table)
}

func (c *Console) showLayout(t *tokens) (*result, error) {
	snap, schema, rule, err := c.lookupTable(t)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ps := rule.AllPlacements()
	info := inspect(ctx, snap, ps)
	r := &result{cols: cols("schema", "table", "kind", "shard", "data_node", "data_host", "server", "database", "physical_table", "exists", "rows")}
	for i, p := range ps {
		dn := snap.Cluster.Nodes[p.Node]
		var shard any
		if rule.Kind == shardrules.Sharded || rule.Kind == shardrules.Child {
			shard = fmt.Sprint(i)
		}
		pi := info[p]
		exists, rows := "unknown", any(nil)
		switch {
		case pi.err != nil:
			exists = "error: " + pi.err.Error()
		case pi.exists:
			exists, rows = "yes", fmt.Sprintf("~%d", pi.rows)
		default:
			exists = "no"
		}
		r.rows = append(r.rows, []any{schema, rule.Name, rule.Kind.String(), shard, p.Node, dn.Host.Name, dn.Host.Primary().Addr,
			dn.Database, p.Table, exists, rows})
	}
	return r, nil
}

func (c *Console) showVersions() (*result, error) {
	list, cur, err := c.mgr.Versions()
	if err != nil {
		return nil, err
	}
	r := &result{cols: cols("#version", "time", "user", "statement", "current", "file")}
	for _, v := range list {
		var at, user any
		if !v.Time.IsZero() {
			at = v.Time.UTC().Format("2006-01-02 15:04:05")
		}
		if v.User != "" {
			user = v.User
		}
		r.rows = append(r.rows, []any{v.N, at, user, v.Statement, yesNo(v.N == cur), v.File})
	}
	return r, nil
}

func (c *Console) serverVersion() string {
	snap := c.holder.Load()
	if snap.Info != nil && snap.Info.Version != "" {
		return snap.Info.Version
	}
	return ""
}

// BuildVersion is shardgate's version: the module version and VCS revision
// the binary was built from.
func BuildVersion() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " " + s.Value[:12]
			}
		}
	}
	return "shardgate " + v
}

func (c *Console) showVersion() (*result, error) {
	r := &result{cols: cols("shardgate", "backend", "go", "started", "config")}
	r.rows = [][]any{{BuildVersion(), c.serverVersion(), runtime.Version(), c.started.UTC().Format(time.RFC3339), c.mgr.Path()}}
	return r, nil
}

func (c *Console) showStatus() (*result, error) {
	snap := c.holder.Load()
	r := &result{cols: cols("name", "value")}
	add := func(k string, v any) { r.rows = append(r.rows, []any{k, fmt.Sprint(v)}) }
	add("uptime_seconds", int64(time.Since(c.started).Seconds()))
	add("sessions", c.registry.Count())
	var total, errs uint64
	fps := 0
	if c.stats != nil {
		for k := parser.KindOther; k <= parser.KindEmpty; k++ {
			ks := c.stats.Kind(k)
			total += ks.Count.Load()
			errs += ks.Errors.Load()
		}
		fps = len(c.stats.Fingerprints())
		add("statements", total)
		add("statement_errors", errs)
		add("slow_queries", c.stats.Slow.Load())
		add("slow_query_threshold", c.stats.SlowThreshold())
		add("firewall_denied", c.stats.Denied.Load())
		add("fingerprints", fps)
	}
	add("config", c.mgr.Path())
	add("config_version", c.mgr.Current())
	add("config_reloads", c.mgr.Reloads())
	add("data_hosts", len(snap.Cluster.Hosts))
	add("data_nodes", len(snap.Cluster.Nodes))
	add("schemas", len(snap.Schemas))
	return r, nil
}
