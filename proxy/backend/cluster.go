package backend

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/wire"
)

// DataNode is a physical database on a data host.
type DataNode struct {
	Name     string
	Host     *DataHost
	Database string
}

// Cluster is every data host and data node of a configuration.
type Cluster struct {
	Hosts   map[string]*DataHost
	Nodes   map[string]*DataNode
	decider *deciderHolder
}

// NewCluster builds the cluster of a validated configuration. Pools are
// lazy: no connection is made until a statement needs one.
func NewCluster(c *conf.Config) *Cluster {
	cl := &Cluster{Hosts: map[string]*DataHost{}, Nodes: map[string]*DataNode{}, decider: &deciderHolder{}}
	for _, hc := range c.DataHosts {
		h := newDataHost(hc)
		h.decider = cl.decider
		cl.Hosts[hc.Name] = h
	}
	for _, nc := range c.DataNodes {
		cl.Nodes[nc.Name] = &DataNode{Name: nc.Name, Host: cl.Hosts[nc.Host], Database: nc.Database}
	}
	return cl
}

// Close stops the health checks and closes every pool.
func (cl *Cluster) Close() {
	for _, h := range cl.Hosts {
		h.stop()
		for _, s := range h.Servers() {
			s.Pool.Close()
		}
	}
}

// EnsureDatabases creates each data node's database on its primary if it is
// missing. Unreachable hosts are logged, not fatal: the proxy serves what it
// can and the pools retry.
func (cl *Cluster) EnsureDatabases(ctx context.Context, log *slog.Logger) {
	for _, n := range cl.Nodes {
		if err := n.ensureDatabase(ctx); err != nil {
			log.Warn("cannot create data node database", "node", n.Name, "database", n.Database, "err", err)
		}
	}
}

func (n *DataNode) ensureDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := n.Host.Primary().Pool.Get(ctx, Plain, nil, 0)
	if err != nil {
		return err
	}
	defer n.Host.Primary().Pool.Put(c)
	_, err = c.Exec("CREATE DATABASE IF NOT EXISTS " + QuoteIdent(n.Database))
	return err
}

// Collation is one row of the backend's collation table.
type Collation struct {
	ID            uint16
	Charset, Name string
	Default       bool
}

// ServerInfo is what the proxy learns from its backends at start-up and
// shows to clients: version string, default collation, collations.
type ServerInfo struct {
	Version          string
	DefaultCollation uint16
	Collations       map[uint16]Collation
	MaxAllowedPacket int
	// SQLMode is the servers' default sql_mode.
	SQLMode string
	// DivPrecision is their default div_precision_increment.
	DivPrecision int
	// GroupConcatMaxLen is their default group_concat_max_len.
	GroupConcatMaxLen int
	// NetWriteTimeout is their default net_write_timeout, in seconds.
	NetWriteTimeout int
	// WaitTimeout and InteractiveTimeout are their defaults for how long
	// a client may stay idle, in seconds.
	WaitTimeout, InteractiveTimeout int
	// Pad holds, for each PAD SPACE collation by name, the weight string
	// of one space: the merge compares weight strings as if padded with it.
	Pad map[string][]byte
}

// Probe asks the first reachable primary for its version and collations.
func (cl *Cluster) Probe(ctx context.Context, order []string) (*ServerInfo, error) {
	var lastErr error
	for _, name := range order {
		h := cl.Hosts[name]
		info, err := probe(ctx, h.Primary())
		if err == nil {
			return info, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func probe(ctx context.Context, s *Server) (*ServerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := s.Pool.Get(ctx, Plain, nil, 0)
	if err != nil {
		return nil, err
	}
	defer s.Pool.Put(c)
	if err := c.SyncDefaults(c.State.Schema); err != nil {
		return nil, err
	}
	info := &ServerInfo{Collations: map[uint16]Collation{}}
	var serverColl string
	err = c.Query("SELECT VERSION(), @@collation_server, @@max_allowed_packet, @@global.sql_mode, @@global.div_precision_increment, @@global.group_concat_max_len, @@global.net_write_timeout, @@global.wait_timeout, @@global.interactive_timeout", func(_ []wire.ColumnRef, v [][]byte) error {
		info.Version = string(v[0])
		serverColl = string(v[1])
		info.MaxAllowedPacket = atoi(v[2])
		info.SQLMode = string(v[3])
		info.DivPrecision = atoi(v[4])
		info.GroupConcatMaxLen = atoi(v[5])
		info.NetWriteTimeout = atoi(v[6])
		info.WaitTimeout = atoi(v[7])
		info.InteractiveTimeout = atoi(v[8])
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	collation := func(_ []wire.ColumnRef, v [][]byte) error {
		co := Collation{ID: uint16(atoi(v[0])), Charset: string(v[1]), Name: string(v[2]), Default: string(v[3]) == "Yes"}
		info.Collations[co.ID] = co
		if co.Name == serverColl {
			info.DefaultCollation = co.ID
		}
		return nil
	}
	// MariaDB 10.10 on lists its UCA 14 collations (utf8mb4_uca1400_ai_ci,
	// the default of 11.x) by full name only here; older servers have no
	// FULL_COLLATION_NAME.
	err = c.Query("SELECT ID, CHARACTER_SET_NAME, FULL_COLLATION_NAME, IS_DEFAULT FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY WHERE ID IS NOT NULL", collation, nil)
	if err != nil {
		if _, sqlErr := err.(*mysql.MyError); !sqlErr {
			return nil, err
		}
		err = c.Query("SELECT ID, CHARACTER_SET_NAME, COLLATION_NAME, IS_DEFAULT FROM information_schema.COLLATIONS WHERE ID IS NOT NULL", collation, nil)
	}
	if err != nil {
		return nil, err
	}
	info.DefaultCollation = greetingCollation(info.Collations, info.DefaultCollation)
	info.Pad, err = padWeights(c, info.Collations)
	return info, err
}

// padWeights asks the server for the weight of a space in every PAD
// SPACE collation (MariaDB names its NO PAD collations *_nopad_*).
func padWeights(c *Conn, colls map[uint16]Collation) (map[string][]byte, error) {
	var names []string
	var q strings.Builder
	q.WriteString("SELECT ")
	for _, co := range colls {
		if co.Charset == "binary" || strings.Contains(co.Name, "nopad") {
			continue
		}
		if len(names) > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "WEIGHT_STRING(CONVERT(' ' USING %s) COLLATE %s)", co.Charset, co.Name)
		names = append(names, co.Name)
	}
	out := map[string][]byte{}
	if len(names) == 0 {
		return out, nil
	}
	err := c.Query(q.String(), func(_ []wire.ColumnRef, v [][]byte) error {
		for i, name := range names {
			if len(v[i]) > 0 {
				out[name] = append([]byte(nil), v[i]...)
			}
		}
		return nil
	}, nil)
	return out, err
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// VersionID is the servers' version as MariaDB numbers it in executable
// comments (10.11.14 is 101114); parser.DefaultVersionID when unknown.
func (i *ServerInfo) VersionID() int {
	if i == nil {
		return parser.DefaultVersionID
	}
	v, part, parts := 0, 0, 0
	// MariaDB 10 once prefixed its version for old clients.
	for _, c := range []byte(strings.TrimPrefix(i.Version, "5.5.5-") + ".") {
		if c >= '0' && c <= '9' {
			part = part*10 + int(c-'0')
			continue
		}
		v, part, parts = v*100+part, 0, parts+1
		if parts == 3 || c != '.' {
			break
		}
	}
	if parts != 3 {
		return parser.DefaultVersionID
	}
	return v
}

// ParserCollations lists the collations for parser.RegisterCollations.
func (i *ServerInfo) ParserCollations() []parser.Collation {
	out := make([]parser.Collation, 0, len(i.Collations))
	for _, c := range i.Collations {
		out = append(out, parser.Collation{ID: int(c.ID), Charset: c.Charset, Name: c.Name, Default: c.Default})
	}
	return out
}

// greetingCollation is the collation a client is greeted with: the
// server's, if it fits the greeting's one byte; else its charset's default
// (MariaDB 11's utf8mb4_uca1400_ai_ci is 2304); 0 when there is none.
func greetingCollation(colls map[uint16]Collation, server uint16) uint16 {
	if server < 256 {
		return server
	}
	for id, co := range colls {
		if co.Charset == colls[server].Charset && co.Default && id < 256 {
			return id
		}
	}
	return 0
}
