// Package sequence generates the ids of sharded tables: the values of an
// auto_increment column the proxy fills in when an INSERT leaves it out,
// since each shard's own AUTO_INCREMENT would repeat the other shards' ids.
//
// Two generators, chosen per table in the config:
//
//   - segment: blocks of ids reserved in the table shardgate_sequences of a
//     data node (see NodeStore), handed out from memory, the next block
//     prefetched in the background (see Segment). Ids are small and nearly
//     consecutive; a restart wastes the rest of a block or two.
//   - snowflake: 64-bit ids made of a millisecond timestamp, the worker id
//     of the process and a counter (see Snowflake). No storage at all; ids
//     are large and ascending over time.
//
// Sequences is the registry the session layer asks for the generator of a
// table. Everything here is safe for concurrent use.
package sequence

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/shardrules"
)

// Generator hands out the ids of one table.
type Generator interface {
	// Reserve returns n new ids, ascending, appended to dst. Ids are unique
	// across restarts of the process; consecutive where the generator allows.
	Reserve(ctx context.Context, n int, dst []uint64) ([]uint64, error)
}

// Sequence is the id generator of one logical table, with what the INSERT
// path needs to know about it.
type Sequence struct {
	Schema, Table string
	Column        string // the column the ids fill
	Kind          string // conf.GenSegment or conf.GenSnowflake
	Node          string // segment: the data node holding shardgate_sequences
	Generator
}

// Name is the sequence's name: schema.table (its row in shardgate_sequences).
func (q *Sequence) Name() string { return q.Schema + "." + q.Table }

// MaxFunc returns the largest value of column in a logical table over all
// its shards (0 when the table is empty). A segment sequence that does not
// exist yet starts above it.
type MaxFunc func(ctx context.Context, schema, table, column string) (uint64, error)

// Options configure Sequences. The zero value is usable.
type Options struct {
	// Max finds the largest id of a table. Default: MAX(column) over every
	// physical table (shardrules placements), read on the primaries.
	Max MaxFunc
	// Segment tunes the segment generators (prefetch point, allocation
	// timeout); its Context and Log are set by Sequences.
	Segment SegmentOptions
	// Store returns the store of segment sequences kept on a data node.
	// Default: &NodeStore{Node: n}.
	Store func(n *backend.DataNode) Store
	Log   *slog.Logger
	// Worker, in cluster mode, is the snowflake worker id leased from the
	// cluster (ok false while this node holds none). It is used when the
	// config has no snowflake: {worker_id: N}.
	Worker func() (id int, ok bool)
}

// Sequences is the registry of the generators of a configuration: one per
// table with auto_increment, created on first use. The snowflake generator
// is shared by all tables (one clock and counter per worker id).
type Sequences struct {
	cl     *backend.Cluster
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc

	reg atomic.Pointer[registry] // swapped whole by Update

	mu     sync.Mutex         // creating generators, Update
	snows  map[int]*Snowflake // by worker id, for the life of the process
	leased *leasedSnowflake   // cluster mode: the worker id leased now
	stores map[*backend.DataNode]Store
}

// registry is one configuration's sequences; read without a lock.
type registry struct {
	entries map[key]*entry
}

type key struct{ schema, table string }

type entry struct {
	spec  spec
	floor FloorFunc
	seq   atomic.Pointer[Sequence] // nil until first used
}

// spec is what a generator is made from; a config reload keeps a generator
// whose spec did not change.
type spec struct {
	kind, column, node string
	block, worker      int
}

// New builds the registry of cfg's auto_increment tables over the cluster's
// data nodes. No connection is made until a segment sequence needs a block.
func New(cfg *conf.Config, cl *backend.Cluster, opts Options) (*Sequences, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Store == nil {
		opts.Store = func(n *backend.DataNode) Store { return &NodeStore{Node: n} }
	}
	s := &Sequences{cl: cl, opts: opts, snows: map[int]*Snowflake{}, stores: map[*backend.DataNode]Store{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.opts.Segment.Context = s.ctx
	s.opts.Segment.Log = opts.Log
	if err := s.Update(cfg); err != nil {
		s.cancel()
		return nil, err
	}
	return s, nil
}

// Update switches to a new configuration (a reload). Generators whose table
// kept the same settings carry on; others are made anew on first use (a new
// segment generator reserves a fresh block: the old one's unused ids are
// skipped, never repeated).
func (s *Sequences) Update(cfg *conf.Config) error {
	reg := &registry{entries: map[key]*entry{}}
	for i := range cfg.Schemas {
		sc := &cfg.Schemas[i]
		var rules *shardrules.SchemaRules
		for j := range sc.Tables {
			t := &sc.Tables[j]
			a := t.AutoIncrement
			if a == nil {
				continue
			}
			if rules == nil {
				var err error
				if rules, err = shardrules.Build(sc); err != nil {
					return fmt.Errorf("sequences of schema %s: %w", sc.Name, err)
				}
			}
			e, err := s.entry(cfg, sc, t, rules)
			if err != nil {
				return fmt.Errorf("auto_increment of %s.%s: %w", sc.Name, t.Name, err)
			}
			reg.entries[key{sc.Name, t.Name}] = e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.reg.Load(); old != nil {
		for k, e := range reg.entries {
			if o := old.entries[k]; o != nil && o.spec == e.spec {
				e.seq.Store(o.seq.Load())
			}
		}
	}
	s.reg.Store(reg)
	return nil
}

func (s *Sequences) entry(cfg *conf.Config, sc *conf.Schema, t *conf.Table, rules *shardrules.SchemaRules) (*entry, error) {
	a := t.AutoIncrement
	e := &entry{spec: spec{kind: a.Generator, column: a.Column}}
	switch a.Generator {
	case conf.GenSnowflake:
		if cfg.Snowflake == nil && s.opts.Worker != nil {
			e.spec.worker = leasedWorker
			break
		}
		if cfg.Snowflake == nil {
			return nil, fmt.Errorf("generator snowflake needs snowflake: {worker_id: N}")
		}
		if w := cfg.Snowflake.WorkerID; w < 0 || w > MaxWorkerID {
			return nil, fmt.Errorf("snowflake worker id %d out of range 0..%d", w, MaxWorkerID)
		}
		e.spec.worker = cfg.Snowflake.WorkerID
	case conf.GenSegment:
		rule := rules.Lookup(t.Name)
		node := a.Node
		if node == "" {
			node = sc.DefaultNode
		}
		if node == "" && rule != nil && len(rule.Nodes) > 0 {
			node = rule.Nodes[0]
		}
		if s.cl.Nodes[node] == nil {
			return nil, fmt.Errorf("no data node %q for the sequence table", node)
		}
		e.spec.node = node
		e.spec.block = a.Block
		if e.spec.block == 0 {
			e.spec.block = conf.DefaultBlock
		}
		if e.spec.block < 1 {
			return nil, fmt.Errorf("block %d must be at least 1", a.Block)
		}
		if s.opts.Max != nil {
			schema, table, column, max := sc.Name, t.Name, a.Column, s.opts.Max
			e.floor = func(ctx context.Context) (uint64, error) { return max(ctx, schema, table, column) }
		} else {
			if rule == nil {
				return nil, fmt.Errorf("no placement rule for table %s", t.Name)
			}
			e.floor = PhysicalMax(s.cl, rule.AllPlacements(), a.Column)
		}
	default:
		return nil, fmt.Errorf("unknown generator %q", a.Generator)
	}
	return e, nil
}

// Get returns the sequence of a logical table (names as configured), or nil
// when the table has no auto_increment. It makes no I/O; after the first
// call for a table it takes no lock and allocates nothing.
func (s *Sequences) Get(schema, table string) *Sequence {
	e := s.reg.Load().entries[key{schema, table}]
	if e == nil {
		return nil
	}
	if q := e.seq.Load(); q != nil {
		return q
	}
	return s.create(schema, table, e)
}

func (s *Sequences) create(schema, table string, e *entry) *Sequence {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := e.seq.Load(); q != nil {
		return q
	}
	q := &Sequence{Schema: schema, Table: table, Column: e.spec.column, Kind: e.spec.kind, Node: e.spec.node}
	switch e.spec.kind {
	case conf.GenSnowflake:
		if e.spec.worker == leasedWorker {
			if s.leased == nil {
				s.leased = &leasedSnowflake{worker: s.opts.Worker, snows: map[int]*Snowflake{}}
			}
			q.Generator = s.leased
			break
		}
		sf := s.snows[e.spec.worker]
		if sf == nil {
			sf, _ = NewSnowflake(e.spec.worker) // range checked by Update
			s.snows[e.spec.worker] = sf
		}
		q.Generator = sf
	case conf.GenSegment:
		n := s.cl.Nodes[e.spec.node]
		st := s.stores[n]
		if st == nil {
			st = s.opts.Store(n)
			s.stores[n] = st
		}
		q.Generator = newSegment(q.Name(), st, uint64(e.spec.block), e.floor, s.opts.Segment) // block >= 1: checked by Update
	}
	e.seq.Store(q)
	return q
}

// Close stops background block allocations; Reserve calls waiting for one
// get an error. The cluster is not closed.
func (s *Sequences) Close() { s.cancel() }
