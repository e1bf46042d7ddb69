// Package admin is shardgate's admin console: a MySQL-protocol listener
// for admin users that shows the proxy's state (SHOW SERVERS, SHOW SQL
// STATS, ... and Mycat's show @@ statements), acts on it (RELOAD CONFIG,
// SWITCH PRIMARY, SET SERVER ... OFFLINE, KILL SESSION), edits table rules
// in SQL (CREATE/ALTER/DROP ... TABLE RULE, with DRY RUN, versions and
// ROLLBACK CONFIG), checks data (CHECK GLOBAL TABLE, CHECK TABLE STRUCTURE),
// and serves Prometheus metrics.
package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/cluster"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/stats"
	"github.com/shardgate/shardgate/shardrules"
)

// DefaultGrace is how long the pools of a data host that a reload replaced
// stay open, so statements that started on the old configuration finish.
const DefaultGrace = 10 * time.Second

// Manager changes the running configuration: it validates a new one,
// builds its snapshot (carrying over the data hosts that did not change),
// writes and versions the file, and swaps the snapshot atomically. Sessions
// load the snapshot per statement: a statement in flight finishes on the
// rules it started with, the next one sees the new ones.
type Manager struct {
	log    *slog.Logger
	holder *snapshot.Holder
	path   string
	stats  *stats.Stats
	vers   versions
	// Grace: see DefaultGrace.
	Grace time.Duration

	mu      sync.Mutex // one change at a time
	stateMu sync.Mutex // the state file, for data hosts a reload made
	text    []byte     // the running config's file content
	current int        // its version number, 0 if not recorded
	reloads atomic.Uint64
}

// NewManager manages the config at path, whose content as loaded at
// start-up is text, running in holder.
func NewManager(log *slog.Logger, holder *snapshot.Holder, path string, text []byte, st *stats.Stats) *Manager {
	m := &Manager{log: log, holder: holder, path: path, stats: st, vers: newVersionStore(path), Grace: DefaultGrace, text: text}
	m.current = m.vers.find(text)
	return m
}

// Path is the config file.
func (m *Manager) Path() string { return m.path }

// Current returns the running config's version (0: not recorded).
func (m *Manager) Current() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.current
}

// Reloads counts the configurations swapped in since start.
func (m *Manager) Reloads() uint64 { return m.reloads.Load() }

// Close closes the running cluster.
func (m *Manager) Close() {
	if s := m.holder.Load(); s != nil {
		s.Cluster.Close()
	}
}

// change is one row of what a change did: what, which, detail.
type change struct{ what, target, detail string }

// applied is what a swap did.
type applied struct {
	version int
	changes []change
}

// Reload re-reads the config file and swaps it in. An invalid file changes
// nothing; the error names file:line. A new placement that would orphan
// rows is refused unless force.
func (m *Manager) Reload(user, statement string, force bool) (*applied, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	text, err := os.ReadFile(m.path)
	if err != nil {
		return nil, fmt.Errorf("reload refused, nothing changed: %w", err)
	}
	cfg, err := conf.Parse(m.path, text)
	if err != nil {
		return nil, fmt.Errorf("reload refused, nothing changed:\n%w", err)
	}
	if bytes.Equal(text, m.text) {
		return &applied{version: m.current, changes: []change{{"unchanged", m.path, "the file is what runs already"}}}, nil
	}
	return m.swap(cfg, text, user, statement, false, 0, 0, checkPlacements("reload refused, nothing changed", "RELOAD CONFIG FORCE", force))
}

// checkPlacements is the check a reload or rollback makes before its swap:
// rows a new placement would orphan refuse it (unless force), physical
// tables the new rules need for tables that exist are created.
func checkPlacements(refused, forceHint string, force bool) func(old, next *snapshot.Snapshot) ([]change, error) {
	return func(old, next *snapshot.Snapshot) ([]change, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		plan, err := planConfig(ctx, old, next, force)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", refused, err)
		}
		if len(plan.refusals) > 0 && !force {
			return nil, fmt.Errorf("%s: %s; %s to do it anyway", refused, strings.Join(plan.refusals, "; "), forceHint)
		}
		if err := plan.create(ctx, next); err != nil {
			return nil, fmt.Errorf("%s: creating the physical tables failed: %w", refused, err)
		}
		var out []change
		for _, r := range plan.rows {
			out = append(out, change{fmt.Sprint(r[0]), fmt.Sprint(r[1]), fmt.Sprint(r[2])})
		}
		return out, nil
	}
}

// swap validates cfg (whose file content is text), builds its snapshot and
// installs it; with write, text is written to the config file first. The
// caller holds m.mu.
// prepare, when set, runs with the new snapshot built, before anything is
// written or swapped; its error abandons the change.
//
// followed, when not 0, is the cluster's version being followed: nothing
// is recorded.
func (m *Manager) swap(cfg *conf.Config, text []byte, user, statement string, write bool, base, followed int,
	prepare func(old, next *snapshot.Snapshot) ([]change, error)) (*applied, error) {
	for i := range cfg.Schemas {
		if _, err := shardrules.Build(&cfg.Schemas[i]); err != nil {
			return nil, fmt.Errorf("refused, nothing changed: %w", err)
		}
	}
	old := m.holder.Load()
	next, retired, err := old.Cluster.Rebuild(cfg, m.log, cfg.StatePath(), &m.stateMu)
	if err != nil {
		return nil, fmt.Errorf("refused, nothing changed: %w", err)
	}
	for _, h := range retired {
		if h.Switching() {
			next.Discard(old.Cluster)
			return nil, fmt.Errorf("refused, nothing changed: data host %s is switching its primary; try again when it is done", h.Name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	next.EnsureNewDatabases(ctx, old.Cluster, m.log)
	cancel()
	snap, err := snapshot.New(cfg, next, old.Info)
	if err != nil {
		next.Discard(old.Cluster)
		return nil, fmt.Errorf("refused, nothing changed: %w", err)
	}
	snap.Stats = old.Stats
	var pre []change
	if prepare != nil {
		if pre, err = prepare(old, snap); err != nil {
			next.Discard(old.Cluster)
			return nil, err
		}
	}
	version, remote := 0, followed != 0
	if m.vers.strict() && !remote {
		// The cluster's version is the change: recorded first, or refused.
		v, err := m.record(text, user, statement, base)
		if err != nil {
			next.Discard(old.Cluster)
			if errors.Is(err, cluster.ErrConflict) {
				return nil, fmt.Errorf("refused, nothing changed: %w (the running version here was %d; SHOW CONFIG VERSIONS, then try again)", err, m.current)
			}
			return nil, fmt.Errorf("refused, nothing changed: %w", err)
		}
		version = v
	}
	if write {
		if err := backend.WriteFileDurably(m.path, text); err != nil {
			if version == 0 && !remote {
				next.Discard(old.Cluster)
				return nil, fmt.Errorf("refused, nothing changed: cannot write %s: %w", m.path, err)
			}
			m.log.Warn("cannot write the config file (the cluster's config is applied all the same)", "path", m.path, "err", err)
		}
	}
	res := &applied{changes: append(pre, describe(old, snap)...)}
	switch {
	case remote:
		version = followed
	case version == 0:
		v, verr := m.record(text, user, statement, base)
		if verr != nil {
			m.log.Warn("cannot record the config version", "err", verr)
			res.changes = append(res.changes, change{"warning", m.vers.where(), "version not recorded: " + verr.Error()})
		}
		version = v
	}
	m.holder.Store(snap)
	if m.stats != nil {
		m.stats.SetSlowThreshold(cfg.SlowThreshold())
	}
	backend.Retire(retired, m.Grace)
	m.text, m.current, res.version = text, version, version
	m.reloads.Add(1)
	m.log.Info("configuration swapped", "version", version, "user", user, "statement", oneLine(statement))
	return res, nil
}

// record versions text; before the first version it records the config as
// loaded at start-up, so that one can be rolled back to.
func (m *Manager) record(text []byte, user, statement string, base int) (int, error) {
	list, err := m.vers.list()
	if err != nil {
		return 0, err
	}
	if len(list) == 0 && len(m.text) > 0 && !bytes.Equal(m.text, text) {
		if _, err := m.vers.record(m.text, "", "(the file as loaded at start-up)", 0, 0); err != nil {
			return 0, err
		}
	}
	return m.vers.record(text, user, statement, base, m.current)
}

// Versions lists the recorded versions and the running one.
func (m *Manager) Versions() ([]Version, int, error) {
	list, err := m.vers.list()
	return list, m.Current(), err
}

// Rollback returns to version n (0: the one before the running one): its
// text is written to the config file and swapped in, checked as a reload.
func (m *Manager) Rollback(n int, user, statement string, force bool) (*applied, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list, err := m.vers.list()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		// The version before the one running; after a rollback, before
		// the one it restored: ROLLBACK CONFIG twice undoes two changes.
		cur := m.current
		for _, v := range list {
			if v.N == cur && v.Base != 0 {
				cur = v.Base
			}
		}
		if cur == 0 && len(list) > 0 {
			cur = list[len(list)-1].N + 1
		}
		for _, v := range list {
			if v.N < cur {
				n = v.N
			}
		}
		if n == 0 {
			return nil, errors.New("no earlier config version to roll back to (SHOW CONFIG VERSIONS)")
		}
	}
	_, text, err := m.vers.read(n)
	if err != nil {
		return nil, fmt.Errorf("config version %d: %w", n, err)
	}
	cfg, err := conf.Parse(m.path, text)
	if err != nil {
		return nil, fmt.Errorf("config version %d is not valid any more, nothing changed:\n%w", n, err)
	}
	if bytes.Equal(text, m.text) {
		return &applied{version: n, changes: []change{{"unchanged", m.path, fmt.Sprintf("version %d is what runs already", n)}}}, nil
	}
	return m.swap(cfg, text, user, statement, true, n, 0, checkPlacements("rollback refused, nothing changed", "ROLLBACK CONFIG ... FORCE", force))
}

// Edit applies a change made in SQL: cfg is the new config, written out as
// text. The caller holds the lock (see lock).
func (m *Manager) edit(cfg *conf.Config, text []byte, user, statement string) (*applied, error) {
	return m.swap(cfg, text, user, statement, true, 0, 0, nil)
}

// lock takes the change lock for a rule edit, which reads the running
// config, checks the servers and then swaps.
func (m *Manager) lock() func() {
	m.mu.Lock()
	return m.mu.Unlock
}

// restartKeys are settings read once at start-up.
var restartKeys = []struct {
	key string
	get func(c *conf.Config) any
}{
	{"listen", func(c *conf.Config) any { return c.Listen }},
	{"admin", func(c *conf.Config) any { return c.Admin }},
	{"metrics", func(c *conf.Config) any { return c.Metrics }},
	{"tls", func(c *conf.Config) any { return c.TLS }},
	{"log", func(c *conf.Config) any { return c.Log }},
	{"procs", func(c *conf.Config) any { return c.Procs }},
	{"state_file", func(c *conf.Config) any { return c.StateFile }},
	{"xa_log", func(c *conf.Config) any { return c.XALog }},
	{"snowflake", func(c *conf.Config) any { return c.Snowflake }},
}

// describe lists what differs between two snapshots.
func describe(old, next *snapshot.Snapshot) []change {
	var out []change
	for _, k := range restartKeys {
		if !reflect.DeepEqual(k.get(old.Conf), k.get(next.Conf)) {
			out = append(out, change{"restart needed", k.key, "changed: takes effect at the next start"})
		}
	}
	for _, hc := range next.Conf.DataHosts {
		switch oh := old.Cluster.Hosts[hc.Name]; {
		case oh == nil:
			out = append(out, change{"data host added", hc.Name, "new pools"})
		case oh != next.Cluster.Hosts[hc.Name]:
			out = append(out, change{"data host changed", hc.Name, "new pools; the old ones close once their statements end"})
		}
	}
	for name := range old.Cluster.Hosts {
		if next.Cluster.Hosts[name] == nil {
			out = append(out, change{"data host removed", name, "its pools close once their statements end"})
		}
	}
	for _, nc := range next.Conf.DataNodes {
		if on := old.Conf.DataNode(nc.Name); on == nil {
			out = append(out, change{"data node added", nc.Name, nc.Host + "." + nc.Database})
		} else if *on != nc {
			out = append(out, change{"data node changed", nc.Name, nc.Host + "." + nc.Database})
		}
	}
	for _, oc := range old.Conf.DataNodes {
		if next.Conf.DataNode(oc.Name) == nil {
			out = append(out, change{"data node removed", oc.Name, ""})
		}
	}
	for _, ns := range next.Conf.Schemas {
		os := old.Conf.Schema(ns.Name)
		if os == nil {
			out = append(out, change{"schema added", ns.Name, ""})
			continue
		}
		for _, t := range ns.Tables {
			ot := os.Table(t.Name)
			switch {
			case ot == nil:
				out = append(out, change{"table rule added", ns.Name + "." + t.Name, ruleText(&t)})
			case ruleText(ot) != ruleText(&t):
				out = append(out, change{"table rule changed", ns.Name + "." + t.Name, ruleText(&t)})
			}
		}
		for _, t := range os.Tables {
			if ns.Table(t.Name) == nil {
				out = append(out, change{"table rule removed", ns.Name + "." + t.Name, ruleText(&t)})
			}
		}
	}
	for _, os := range old.Conf.Schemas {
		if next.Conf.Schema(os.Name) == nil {
			out = append(out, change{"schema removed", os.Name, ""})
		}
	}
	for _, u := range next.Conf.Users {
		if ou := old.Conf.User(u.Name); ou == nil {
			out = append(out, change{"user added", u.Name, ""})
		} else if !reflect.DeepEqual(*ou, u) {
			out = append(out, change{"user changed", u.Name, ""})
		}
	}
	for _, u := range old.Conf.Users {
		if next.Conf.User(u.Name) == nil {
			out = append(out, change{"user removed", u.Name, ""})
		}
	}
	if len(out) == 0 {
		out = append(out, change{"unchanged", "", "no difference in what the proxy serves"})
	}
	return out
}

// errorLines formats a config error for a MySQL error message.
func errorLines(err error) string { return strings.TrimSpace(err.Error()) }
