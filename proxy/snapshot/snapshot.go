// Package snapshot holds the proxy's view of its configuration: the parsed
// config, the backend cluster built from it and the logical schemas. A
// Snapshot is immutable; a reload builds a new one and swaps it atomically,
// so a statement in flight finishes on the rules it started with.
package snapshot

import (
	"sync/atomic"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/backend"
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
	// Renamed lists the logical schemas whose default node's database has
	// another name: statements naming them must be rewritten.
	Renamed []string
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
	return s, nil
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
