// Package conf is shardgate's configuration: the YAML model, its defaults,
// validation with file:line errors, loading and writing back.
//
// The YAML shape is a public contract (see DESIGN.md): keys may be added,
// never renamed.
package conf

import (
	"path/filepath"
	"time"
)

// Defaults for keys left out of a file.
const (
	DefaultListen           = "127.0.0.1:3307"
	DefaultMaxConnections   = 1000
	DefaultMaxAllowedPacket = 64 << 20
	DefaultLogLevel         = "info"
	DefaultLogFormat        = "text"
	DefaultReplicaWeight    = 1
)

// DefaultPool is the pool a data host gets for every pool key it leaves out.
func DefaultPool() Pool {
	return Pool{
		Max:            64,
		MaxIdle:        16,
		IdleTimeout:    10 * time.Minute,
		WaitTimeout:    5 * time.Second,
		ConnectTimeout: 5 * time.Second,
	}
}

// Algorithms are the sharding algorithm names a table rule may use; package
// shardrules checks their options.
var Algorithms = []string{"mod", "hash", "range", "date", "enum", "jump_hash", "consistent_hash", "slot", "string_prefix"}

// Config is one configuration file. Values absent from the file hold their
// defaults after Load or Parse.
//
// Fields whose default is not the zero value (max_connections, weight, the
// pool settings, ...) carry no omitempty: an explicit 0 must survive Marshal.
type Config struct {
	Path             string `yaml:"-"`                  // file it was loaded from
	Listen           string `yaml:"listen"`             // client address
	Admin            string `yaml:"admin,omitempty"`    // admin console address; "" = off
	Metrics          string `yaml:"metrics,omitempty"`  // Prometheus address; "" = off
	MaxConnections   int    `yaml:"max_connections"`    // client connections; past it clients get error 1040
	MaxAllowedPacket int    `yaml:"max_allowed_packet"` // bytes; the file may say "64M", "16MB", "1G"
	ServerVersion    string `yaml:"server_version,omitempty"`
	Procs            int    `yaml:"procs,omitempty"` // OS threads running Go code (GOMAXPROCS); 0 = half the CPUs
	// SlowQuery: statements running longer are logged and kept for the
	// admin console's SHOW SLOW QUERIES (default 1s; see admin.go).
	SlowQuery time.Duration `yaml:"slow_query,omitempty"`
	// StateFile records what must survive a restart (failovers); relative
	// to the config file's directory. Default: shardgate.state.json there.
	StateFile string `yaml:"state_file,omitempty"`
	// XALog is the coordinator's log of distributed-commit decisions
	// (fsync'd before the second phase); relative to the config file's
	// directory. Default: shardgate.xa.log there.
	XALog string `yaml:"xa_log,omitempty"`
	// Snowflake configures the snowflake id generator (tables with
	// auto_increment generator snowflake need it).
	Snowflake *Snowflake `yaml:"snowflake,omitempty"`
	TLS       *TLS       `yaml:"tls,omitempty"` // client-side TLS; nil = off
	// Cluster, when set, runs this node as one of several sharing their
	// rules, users, topology and decisions through etcd (cluster.md).
	Cluster   *Cluster   `yaml:"cluster,omitempty"`
	Log       Log        `yaml:"log"`
	Users     []User     `yaml:"users"`
	DataHosts []DataHost `yaml:"data_hosts"`
	DataNodes []DataNode `yaml:"data_nodes"`
	Schemas   []Schema   `yaml:"schemas"`
}

// TLS holds the proxy's certificate and key; after loading both are absolute paths.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Log selects slog's level (debug, info, warn, error) and format (text, json).
type Log struct {
	Level  string `yaml:"level,omitempty"`
	Format string `yaml:"format,omitempty"`
}

// User is a client account. Admin users may use the admin console and need no schema.
type User struct {
	Name     string   `yaml:"name"`
	Password string   `yaml:"password,omitempty"`
	Schemas  []string `yaml:"schemas,omitempty"`
	Admin    bool     `yaml:"admin,omitempty"`
	// Deny refuses statements by kind or fingerprint; Guard refuses UPDATE
	// and DELETE without WHERE and reads of every shard of a no_scatter
	// table (the SQL firewall, see admin.go).
	Deny  []DenyRule `yaml:"deny,omitempty"`
	Guard bool       `yaml:"guard,omitempty"`
}

// DataHost is one replication group: a primary and its replicas.
type DataHost struct {
	Name     string    `yaml:"name"`
	User     string    `yaml:"user,omitempty"`
	Password string    `yaml:"password,omitempty"`
	Primary  string    `yaml:"primary"` // host:port
	Replicas []Replica `yaml:"replicas,omitempty"`
	Pool     Pool      `yaml:"pool"`
	TLS      bool      `yaml:"tls,omitempty"` // dial the servers with TLS, without verifying them

	// Balance says where plain reads go: "replicas" (default; the primary
	// when none is healthy), "primary", or "all" (primary and replicas by weight).
	Balance string `yaml:"balance,omitempty"`
	// ReadYourWrites (default true): after a session writes, its reads go to
	// a replica only once that replica has applied the write.
	ReadYourWrites *bool `yaml:"read_your_writes,omitempty"`
	// Heartbeat is how often each server is checked (default 1s).
	Heartbeat time.Duration `yaml:"heartbeat,omitempty"`
	// MaxReplicaLag: a replica further behind serves no reads (default 5s).
	MaxReplicaLag time.Duration `yaml:"max_replica_lag,omitempty"`
	// Failover: "manual" (default) or "auto": a primary down for
	// FailoverAfter (default 5s) is replaced by its most advanced replica.
	Failover      string        `yaml:"failover,omitempty"`
	FailoverAfter time.Duration `yaml:"failover_after,omitempty"`
	// FailoverWait bounds how long statements wait for a new primary
	// during a failover (default 15s).
	FailoverWait time.Duration `yaml:"failover_wait,omitempty"`
	// ReplicationUser and ReplicationPassword are the account replicas use
	// to follow a new primary after a switch (default: user and password).
	ReplicationUser     string `yaml:"replication_user,omitempty"`
	ReplicationPassword string `yaml:"replication_password,omitempty"`
}

// Defaults of the data host keys above.
const (
	DefaultBalance       = "replicas"
	DefaultHeartbeat     = time.Second
	DefaultMaxReplicaLag = 5 * time.Second
	DefaultFailover      = "manual"
	DefaultFailoverAfter = 5 * time.Second
	DefaultFailoverWait  = 15 * time.Second
)

// StatePath is the state file's path (relative ones are resolved against
// the config file's directory).
func (c *Config) StatePath() string { return c.besideConfig(c.StateFile, "shardgate.state.json") }

// besideConfig resolves a file name against the config file's directory.
func (c *Config) besideConfig(f, def string) string {
	if f == "" {
		f = def
	}
	if !filepath.IsAbs(f) && c.Path != "" {
		f = filepath.Join(filepath.Dir(c.Path), f)
	}
	return f
}

// Replication returns the account replicas use to follow a new primary.
func (h *DataHost) Replication() (user, password string) {
	if h.ReplicationUser == "" {
		return h.User, h.Password
	}
	return h.ReplicationUser, h.ReplicationPassword
}

// XALogPath is the XA decision log's path (relative ones are resolved
// against the config file's directory).
func (c *Config) XALogPath() string { return c.besideConfig(c.XALog, "shardgate.xa.log") }

// RYW reports whether read-your-writes is on.
func (h *DataHost) RYW() bool { return h.ReadYourWrites == nil || *h.ReadYourWrites }

// Replica is a read-only server; reads are spread by weight (0 = no reads).
type Replica struct {
	Addr   string `yaml:"addr"`
	Weight int    `yaml:"weight"`
}

// Pool sizes the connection pool kept to each server of a data host.
type Pool struct {
	Max            int           `yaml:"max"`
	MinIdle        int           `yaml:"min_idle"`
	MaxIdle        int           `yaml:"max_idle"`
	IdleTimeout    time.Duration `yaml:"idle_timeout"`
	WaitTimeout    time.Duration `yaml:"wait_timeout"` // how long a statement waits for a free connection
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
}

// DataNode is one physical database on a data host.
type DataNode struct {
	Name     string `yaml:"name"`
	Host     string `yaml:"host"`
	Database string `yaml:"database"`
}

// Schema is a logical database as clients see it.
type Schema struct {
	Name        string `yaml:"name"`
	DefaultNode string `yaml:"default_node,omitempty"` // where unlisted tables live
	// TransactionMode is how a transaction writing on several data nodes
	// commits: "xa" (default; two-phase commit, atomic) or "local" (a
	// commit per node, one after the other: not atomic if one fails).
	TransactionMode string   `yaml:"transaction_mode,omitempty"`
	Tables          TableMap `yaml:"tables,omitempty"`
}

// Transaction modes.
const (
	TxXA    = "xa"
	TxLocal = "local"
)

// XA reports whether multi-node transactions of the schema use XA.
func (s *Schema) XA() bool { return s.TransactionMode != TxLocal }

// Cluster is cluster mode's etcd connection. The rules, users and data
// hosts then live in etcd; this file seeds an empty cluster and is
// otherwise a cache of them. The keys in LocalKeys stay this node's own.
type Cluster struct {
	Endpoints []string `yaml:"endpoints"`           // etcd client URLs
	Name      string   `yaml:"name"`                // keys live under /shardgate/<name>/
	Username  string   `yaml:"username,omitempty"`  // etcd authentication
	Password  string   `yaml:"password,omitempty"`  //
	TLS       *EtcdTLS `yaml:"tls,omitempty"`       // TLS to etcd; nil = plain
	Advertise string   `yaml:"advertise,omitempty"` // address other nodes show for this one; default listen
	// LeaseTTL bounds how long a dead node stays listed and holds its
	// snowflake worker id (default 5s).
	LeaseTTL time.Duration `yaml:"lease_ttl,omitempty"`
}

// EtcdTLS is the client certificate and CA for etcd (absolute paths after loading).
type EtcdTLS struct {
	CA   string `yaml:"ca,omitempty"`
	Cert string `yaml:"cert,omitempty"`
	Key  string `yaml:"key,omitempty"`
}

// DefaultLeaseTTL is cluster.lease_ttl's default.
const DefaultLeaseTTL = 5 * time.Second

// LocalKeys are the top-level keys a node keeps for itself in cluster mode;
// everything else is the cluster's.
var LocalKeys = []string{"listen", "admin", "metrics", "max_connections", "procs", "tls", "log", "state_file", "xa_log", "snowflake", "cluster"}

// Snowflake configures the snowflake generator: 64-bit ids made of a
// millisecond timestamp, the worker id and a per-millisecond counter.
type Snowflake struct {
	WorkerID int `yaml:"worker_id"` // 0..1023, unique per shardgate process
}

// AutoIncrement makes the proxy generate a table's ids: an INSERT without
// the column gets one.
type AutoIncrement struct {
	Column    string `yaml:"column"`
	Generator string `yaml:"generator"` // snowflake | segment
	// Node (segment) is the data node holding the sequence table
	// (shardgate_sequences); default the schema's default node, else the
	// table's first node.
	Node string `yaml:"node,omitempty"`
	// Block (segment) is how many ids one allocation reserves. Default 1000.
	Block int `yaml:"block,omitempty"`
}

// Generators of AutoIncrement.
const (
	GenSnowflake = "snowflake"
	GenSegment   = "segment"
	// DefaultBlock is a segment allocation's default size.
	DefaultBlock = 1000
)

// TableMap is the schema's "tables" mapping (name -> rule) in file order.
type TableMap []Table

// Table is the placement rule of one logical table. Exactly one kind of rule
// is set; see Kind.
type Table struct {
	Name         string         `yaml:"-"` // the mapping key
	Node         string         `yaml:"node,omitempty"`
	Column       string         `yaml:"column,omitempty"`
	Algorithm    string         `yaml:"algorithm,omitempty"`
	Shards       int            `yaml:"shards,omitempty"`
	Nodes        []string       `yaml:"nodes,omitempty"`
	Options      map[string]any `yaml:"options,omitempty"` // algorithm options, checked by shardrules
	Parent       string         `yaml:"parent,omitempty"`
	ParentColumn string         `yaml:"parent_column,omitempty"`
	Global       bool           `yaml:"global,omitempty"`
	// AutoIncrement: the proxy generates the ids (sharded, child and global tables).
	AutoIncrement *AutoIncrement `yaml:"auto_increment,omitempty"`
	Line          int            `yaml:"-"` // line of the table's key in the file; 0 if not from a file
	// NoScatter: reads that must visit every shard are refused for users
	// with guard: true (sharded and child tables).
	NoScatter bool `yaml:"no_scatter,omitempty"`
}

// TableKind says how a table is placed.
type TableKind int

const (
	TableSharded TableKind = iota // rows spread over shards by column and algorithm
	TableChild                    // ER child: sharded like its parent, by the parent's key
	TableGlobal                   // a full copy on every data node
	TableSingle                   // lives whole on one data node
)

func (k TableKind) String() string {
	switch k {
	case TableSharded:
		return "sharded"
	case TableChild:
		return "child"
	case TableGlobal:
		return "global"
	case TableSingle:
		return "single"
	}
	return "unknown"
}

// Kind says which kind of rule t is. It is exact for validated tables; for an
// unvalidated rule that mixes kinds it picks global, child, single, sharded in
// that order.
func (t *Table) Kind() TableKind {
	switch {
	case t.Global:
		return TableGlobal
	case t.Parent != "":
		return TableChild
	case t.Node != "":
		return TableSingle
	}
	return TableSharded
}

// Table returns the rule for the named table, nil if the schema lists none.
func (s *Schema) Table(name string) *Table {
	for i := range s.Tables {
		if s.Tables[i].Name == name {
			return &s.Tables[i]
		}
	}
	return nil
}

// User returns the named user (case-sensitive), nil if there is none.
func (c *Config) User(name string) *User {
	return find(c.Users, name, func(u *User) string { return u.Name })
}

// DataHost returns the named data host, nil if there is none.
func (c *Config) DataHost(name string) *DataHost {
	return find(c.DataHosts, name, func(h *DataHost) string { return h.Name })
}

// DataNode returns the named data node, nil if there is none.
func (c *Config) DataNode(name string) *DataNode {
	return find(c.DataNodes, name, func(n *DataNode) string { return n.Name })
}

// Schema returns the named schema (case-sensitive), nil if there is none.
func (c *Config) Schema(name string) *Schema {
	return find(c.Schemas, name, func(s *Schema) string { return s.Name })
}

func find[T any](list []T, name string, nameOf func(*T) string) *T {
	for i := range list {
		if nameOf(&list[i]) == name {
			return &list[i]
		}
	}
	return nil
}
