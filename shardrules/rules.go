package shardrules

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/conf"
)

// Kind says how a logical table is placed.
type Kind int

const (
	Sharded Kind = iota // rows spread over shards by Column and Algorithm
	Child               // ER child: each row on its parent row's shard
	Global              // a full copy on every node of the schema
	Single              // whole on one listed node
	Default             // not listed: whole on the schema's default node
)

func (k Kind) String() string {
	switch k {
	case Sharded:
		return "sharded"
	case Child:
		return "child"
	case Global:
		return "global"
	case Single:
		return "single"
	case Default:
		return "default"
	}
	return "unknown"
}

// Placement is one physical table: a data node and the table's name there.
type Placement struct {
	Node  string
	Table string
}

// TableRule is where one logical table's rows live. Rules built by Build are
// shared and must not be modified.
type TableRule struct {
	Name string
	Kind Kind
	// Column is the sharding column (sharded), or for a child the child's
	// column that references ParentColumn of the parent.
	Column    string
	Algorithm Algorithm // sharded only; a child uses Root.Algorithm
	// Shards is the number of physical tables: the root's for a child, 1 for
	// global, single and default tables (a global table's copies are not shards).
	Shards int
	// Nodes are the data nodes: the root's for a child, every node of the
	// schema for a global table, [Node] for single and default tables.
	Nodes        []string
	Parent       *TableRule // child only
	ParentColumn string     // child only
	Root         *TableRule // child: the sharded table atop the chain; sharded: itself
	Node         string     // single and default

	placements []Placement // precomputed by Build
}

// Shard returns physical table i (0 <= i < Shards): for sharded and child
// tables {Nodes[i % len(Nodes)], Name_i}; for a global table copy i, on
// Nodes[i % len(Nodes)]; for single and default tables the one table.
func (t *TableRule) Shard(i int) Placement {
	if i >= 0 && i < len(t.placements) {
		return t.placements[i]
	}
	switch t.Kind {
	case Sharded, Child:
		return Placement{t.Nodes[i%len(t.Nodes)], t.Name + "_" + strconv.Itoa(i)}
	case Global:
		return Placement{t.Nodes[i%len(t.Nodes)], t.Name}
	}
	return Placement{t.Node, t.Name}
}

// AllPlacements returns every physical table: one per shard for sharded and
// child tables, one per node for a global table, one for single and default
// tables. The slice is shared: do not modify it.
func (t *TableRule) AllPlacements() []Placement {
	if t.placements != nil {
		return t.placements
	}
	return t.computePlacements()
}

func (t *TableRule) computePlacements() []Placement {
	var ps []Placement
	switch t.Kind {
	case Sharded, Child:
		for i := 0; i < t.Shards; i++ {
			ps = append(ps, Placement{t.Nodes[i%len(t.Nodes)], t.Name + "_" + strconv.Itoa(i)})
		}
	case Global:
		for _, n := range t.Nodes {
			ps = append(ps, Placement{n, t.Name})
		}
	default:
		ps = []Placement{{t.Node, t.Name}}
	}
	return slices.Clip(ps)
}

// ChildRoutesByValue reports whether a child's Column value can be routed
// with the root's algorithm directly: every link of the chain references
// the column its parent is itself placed by, ending at the root's sharding
// column (order_items.user_id -> orders.user_id, orders sharded by
// user_id). Otherwise (order_items.order_id -> orders.id) the parent row
// must be looked up to find the shard. False for anything but a child.
func (t *TableRule) ChildRoutesByValue() bool {
	c := t
	for range 64 { // Build refuses cycles; the bound only guards hand-made rules
		if c.Kind != Child || c.Parent == nil || !strings.EqualFold(c.ParentColumn, c.Parent.Column) {
			return false
		}
		if c.Parent.Kind == Sharded {
			return true
		}
		c = c.Parent
	}
	return false
}

// SchemaRules are the table rules of one logical schema.
type SchemaRules struct {
	Name        string
	DefaultNode string // "" when unlisted tables do not exist
	// Tables holds the listed tables by their exact names. MySQL table names
	// are case-sensitive on Linux; Lookup also forgives case.
	Tables map[string]*TableRule
	// Nodes is every data node holding a physical table of the schema
	// (default node, shard nodes, single nodes), sorted and unique: global
	// tables have a copy on each.
	Nodes []string
}

// Lookup returns the rule of the named table: the listed table of that exact
// name, else the one listed table whose name matches ignoring case, else a
// Default rule on DefaultNode (nil when the schema has no default node:
// the table does not exist).
func (s *SchemaRules) Lookup(table string) *TableRule {
	// Names are case-sensitive, as with MariaDB's default
	// lower_case_table_names=0: "Orders" is not "orders".
	if t := s.Tables[table]; t != nil {
		return t
	}
	if s.DefaultNode == "" {
		return nil
	}
	return &TableRule{Name: table, Kind: Default, Shards: 1, Nodes: []string{s.DefaultNode}, Node: s.DefaultNode}
}

// Build turns a schema's config into rules. It checks what package conf
// cannot (algorithm options) and, so that it can be trusted on configs that
// did not come through conf's validation, the rules' shapes and parent
// chains. Every problem is reported, each naming the table and the option.
func Build(c *conf.Schema) (*SchemaRules, error) {
	s := &SchemaRules{Name: c.Name, DefaultNode: c.DefaultNode, Tables: map[string]*TableRule{}}
	var errs []error
	bad := map[string]bool{} // tables already reported
	fail := func(table, format string, args ...any) {
		bad[table] = true
		errs = append(errs, fmt.Errorf("schema %q: table %q: %s", c.Name, table, fmt.Sprintf(format, args...)))
	}
	nodes := map[string]bool{}
	if c.DefaultNode != "" {
		nodes[c.DefaultNode] = true
	}

	var children []*TableRule
	for i := range c.Tables {
		ct := &c.Tables[i]
		if _, dup := s.Tables[ct.Name]; dup || bad[ct.Name] || ct.Name == "" {
			fail(ct.Name, "empty or repeated table name")
			continue
		}
		t := &TableRule{Name: ct.Name, Column: ct.Column}
		switch ct.Kind() {
		case conf.TableGlobal:
			t.Kind, t.Shards = Global, 1
		case conf.TableSingle:
			t.Kind, t.Shards, t.Node, t.Nodes = Single, 1, ct.Node, []string{ct.Node}
			nodes[ct.Node] = true
		case conf.TableChild:
			t.Kind, t.ParentColumn = Child, ct.ParentColumn
			if ct.Column == "" || ct.ParentColumn == "" {
				fail(ct.Name, "a child table needs column and parent_column")
				continue
			}
			children = append(children, t)
		case conf.TableSharded:
			t.Kind, t.Shards, t.Nodes, t.Root = Sharded, ct.Shards, slices.Clone(ct.Nodes), t
			if err := checkSharded(ct); err != nil {
				fail(ct.Name, "%v", err)
				continue
			}
			a, err := NewAlgorithm(ct.Algorithm, ct.Shards, ct.Options)
			if err != nil {
				fail(ct.Name, "%v", err)
				continue
			}
			t.Algorithm = a
			for _, n := range t.Nodes[:min(len(t.Nodes), t.Shards)] { // nodes past the last shard hold nothing
				nodes[n] = true
			}
		}
		s.Tables[t.Name] = t
	}

	// Children follow their parent chain to its root; the chain must end in
	// a sharded table without looping.
	for _, t := range children {
		chain := []string{t.Name}
		p := c.Table(t.Name).Parent
		for {
			pt := s.Tables[p]
			if bad[p] {
				break // its own rule is wrong, and already reported
			}
			if pt == nil {
				fail(t.Name, "parent %q is not a table of the schema", p)
				break
			}
			chain = append(chain, p)
			if slices.Contains(chain[:len(chain)-1], p) {
				fail(t.Name, "parent chain %s is a cycle", strings.Join(chain, " -> "))
				break
			}
			if pt.Kind == Sharded {
				t.Root, t.Shards, t.Nodes = pt, pt.Shards, pt.Nodes
				break
			}
			if pt.Kind != Child {
				fail(t.Name, "parent chain %s ends in a %s table; it must end in a sharded one", strings.Join(chain, " -> "), pt.Kind)
				break
			}
			p = c.Table(p).Parent
		}
		t.Parent = s.Tables[c.Table(t.Name).Parent]
	}

	for n := range nodes {
		s.Nodes = append(s.Nodes, n)
	}
	slices.Sort(s.Nodes)
	for i := range c.Tables { // in file order, so errors come out in a stable order
		if t := s.Tables[c.Tables[i].Name]; t != nil && t.Kind == Global {
			if len(s.Nodes) == 0 {
				fail(t.Name, "a global table needs nodes to live on: the schema has no default node and no other tables")
			}
			t.Nodes = s.Nodes
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	for _, t := range s.Tables {
		t.placements = t.computePlacements()
	}
	return s, nil
}

// checkSharded checks the keys of a sharded rule other than the algorithm's options.
func checkSharded(ct *conf.Table) error {
	switch {
	case ct.Column == "":
		return errors.New("a sharded table needs column")
	case ct.Algorithm == "":
		return errors.New("a sharded table needs algorithm")
	case ct.Shards < 1:
		return fmt.Errorf("shards must be >= 1, got %d", ct.Shards)
	case len(ct.Nodes) == 0:
		return errors.New("a sharded table needs nodes")
	}
	for j, n := range ct.Nodes {
		if n == "" {
			return fmt.Errorf("nodes[%d] is empty", j)
		}
		if slices.Index(ct.Nodes, n) < j {
			return fmt.Errorf("data node %q is listed twice in nodes", n)
		}
	}
	return nil
}
