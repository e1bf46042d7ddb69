package admin

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/shardrules"
)

// Statements the console runs on the data nodes' primaries, on pooled
// connections (the schema set through the connection's tracked state).

// onNode runs fn on a connection to the node's primary, in its database.
func onNode(ctx context.Context, dn *backend.DataNode, fn func(c *backend.Conn) error) error {
	pool := dn.Host.Primary().Pool
	c, err := pool.Get(ctx, backend.Plain, nil, 0)
	if err != nil {
		return err
	}
	defer pool.Put(c)
	if d, ok := ctx.Deadline(); ok {
		_ = c.NetConn().SetDeadline(d)
		defer func() { _ = c.NetConn().SetDeadline(time.Time{}) }()
	}
	if err := c.SyncDefaults(dn.Database); err != nil {
		c.MarkBroken()
		return err
	}
	err = fn(c)
	if c.Status&0x0001 != 0 { // SERVER_STATUS_IN_TRANS: never hand on a transaction
		c.MarkBroken()
	}
	return err
}

// physInfo is what a data node says of one physical table.
type physInfo struct {
	exists bool
	rows   int64 // information_schema's estimate
	err    error
}

// inspect asks each node which of the placements exist.
func inspect(ctx context.Context, snap *snapshot.Snapshot, ps []shardrules.Placement) map[shardrules.Placement]physInfo {
	out := map[shardrules.Placement]physInfo{}
	byNode := map[string][]string{}
	for _, p := range ps {
		byNode[p.Node] = append(byNode[p.Node], p.Table)
	}
	for node, tables := range byNode {
		dn := snap.Cluster.Nodes[node]
		if dn == nil {
			continue
		}
		var quoted []string
		for _, t := range tables {
			quoted = append(quoted, backend.QuoteString(t))
		}
		found := map[string]int64{}
		err := onNode(ctx, dn, func(c *backend.Conn) error {
			return c.Query("SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "+
				backend.QuoteString(dn.Database)+" AND TABLE_NAME IN ("+strings.Join(quoted, ", ")+")",
				func(_ []wire.ColumnRef, v [][]byte) error {
					n, _ := strconv.ParseInt(string(v[1]), 10, 64)
					found[string(v[0])] = n
					return nil
				}, nil)
		})
		for _, t := range tables {
			p := shardrules.Placement{Node: node, Table: t}
			n, ok := found[t]
			out[p] = physInfo{exists: ok, rows: n, err: err}
		}
	}
	return out
}

// hasRows says whether a physical table holds a row (an exact check).
func hasRows(ctx context.Context, snap *snapshot.Snapshot, p shardrules.Placement) (bool, error) {
	dn := snap.Cluster.Nodes[p.Node]
	any := false
	err := onNode(ctx, dn, func(c *backend.Conn) error {
		return c.Query("SELECT 1 FROM "+backend.QuoteIdent(p.Table)+" LIMIT 1", func(_ []wire.ColumnRef, _ [][]byte) error {
			any = true
			return nil
		}, nil)
	})
	return any, err
}

// showCreate returns a physical table's CREATE TABLE.
func showCreate(ctx context.Context, snap *snapshot.Snapshot, p shardrules.Placement) (string, error) {
	dn := snap.Cluster.Nodes[p.Node]
	var ddl string
	err := onNode(ctx, dn, func(c *backend.Conn) error {
		return c.Query("SHOW CREATE TABLE "+backend.QuoteIdent(p.Table), func(_ []wire.ColumnRef, v [][]byte) error {
			if len(v) >= 2 {
				ddl = string(v[1])
			}
			return nil
		}, nil)
	})
	if err == nil && ddl == "" {
		err = fmt.Errorf("%s.%s: SHOW CREATE TABLE returned nothing", dn.Database, p.Table)
	}
	return ddl, err
}

// flowYAML writes v as one-line YAML ({a: 1, b: [x, y]}).
func flowYAML(v any) string {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	setFlow(&n)
	out, err := yaml.Marshal(&n)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(out))
}

func setFlow(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		setFlow(c)
	}
}

// ruleText is a table rule as the config file writes it.
func ruleText(t *conf.Table) string { return flowYAML(t) }
