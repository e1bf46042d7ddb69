// Package snapshot holds the proxy's view of its configuration: the parsed
// config, the backend cluster built from it and the logical schemas. A
// Snapshot is immutable; a reload builds a new one and swaps it atomically,
// so a statement in flight finishes on the rules it started with.
package snapshot

import (
	"sync/atomic"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/stats"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/shardrules"
)

// Snapshot is one version of the configuration, ready to serve.
type Snapshot struct {
	Conf    *conf.Config
	Cluster *backend.Cluster
	Info    *backend.ServerInfo
	Users   map[string]*conf.User
	Schemas map[string]*Schema
	// Rules are the sharding rules of every logical schema.
	Rules map[string]*shardrules.SchemaRules
	// Names maps physical databases and tables back to logical names.
	Names *exec.Names
	// Renamed lists the logical schemas whose default node's database has
	// another name: statements naming them must be rewritten.
	Renamed []string
	// Plans caches statement templates planned under this snapshot's rules.
	Plans router.TemplateCache
	// Firewalls holds the compiled SQL firewall of each user that has one.
	Firewalls map[string]*stats.Firewall
	// Stats receives what sessions observe (nil: nothing is recorded). It
	// outlives snapshots: a reload hands it on.
	Stats *stats.Stats
}

// Schema is a logical database.
type Schema struct {
	Name        string
	Conf        *conf.Schema
	DefaultNode *backend.DataNode
	// PassThrough is true when the schema has no table rules: every
	// statement goes whole to the default node.
	PassThrough bool
}

// New builds a snapshot of a validated configuration over a cluster; it
// fails when a table rule's algorithm options are wrong.
func New(c *conf.Config, cl *backend.Cluster, info *backend.ServerInfo) (*Snapshot, error) {
	s := &Snapshot{Conf: c, Cluster: cl, Info: info, Users: map[string]*conf.User{}, Schemas: map[string]*Schema{},
		Rules: map[string]*shardrules.SchemaRules{}}
	for i := range c.Users {
		s.Users[c.Users[i].Name] = &c.Users[i]
		if fw := stats.CompileFirewall(&c.Users[i]); fw != nil {
			if s.Firewalls == nil {
				s.Firewalls = map[string]*stats.Firewall{}
			}
			s.Firewalls[c.Users[i].Name] = fw
		}
	}
	for i := range c.Schemas {
		sc := &c.Schemas[i]
		ls := &Schema{Name: sc.Name, Conf: sc, PassThrough: len(sc.Tables) == 0}
		if sc.DefaultNode != "" {
			ls.DefaultNode = cl.Nodes[sc.DefaultNode]
			if ls.DefaultNode.Database != sc.Name {
				s.Renamed = append(s.Renamed, sc.Name)
			}
		}
		s.Schemas[sc.Name] = ls
		rules, err := shardrules.Build(sc)
		if err != nil {
			return nil, err
		}
		s.Rules[sc.Name] = rules
	}
	s.Names = physicalNames(s)
	return s, nil
}

// physicalNames maps each data node's database to its logical schema and
// each shard or copy to its logical table. A database two schemas share
// keeps its name: nobody could tell which one a message means.
func physicalNames(s *Snapshot) *exec.Names {
	db := map[string]string{}
	shared := map[string]bool{}
	tables := map[[2]string]string{}
	note := func(phys, logical string) {
		if old, ok := db[phys]; ok && old != logical {
			shared[phys] = true
		}
		db[phys] = logical
	}
	for name, rules := range s.Rules {
		if ls := s.Schemas[name]; ls != nil && ls.DefaultNode != nil {
			note(ls.DefaultNode.Database, name)
		}
		for _, t := range rules.Tables {
			for _, p := range t.AllPlacements() {
				if n := s.Cluster.Nodes[p.Node]; n != nil {
					note(n.Database, name)
					tables[[2]string{n.Database, p.Table}] = t.Name
				}
			}
		}
	}
	for phys := range shared {
		delete(db, phys)
	}
	return exec.NewNames(db, tables)
}

// CanUse reports whether a user may use a schema.
func CanUse(u *conf.User, schema string) bool {
	for _, s := range u.Schemas {
		if s == schema {
			return true
		}
	}
	return false
}

// Holder holds the current snapshot.
type Holder struct{ p atomic.Pointer[Snapshot] }

// Load returns the current snapshot.
func (h *Holder) Load() *Snapshot { return h.p.Load() }

// Store installs a snapshot.
func (h *Holder) Store(s *Snapshot) { h.p.Store(s) }
