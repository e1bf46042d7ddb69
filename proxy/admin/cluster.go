package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/cluster"
)

// In cluster mode the config versions are the cluster's (in etcd): a
// change made here is published with a compare-and-swap on the version it
// was made on, and every node follows the versions published.

// clusterVersions stores versions in the cluster: only the cluster's part
// of the document; the node's own keys come from its file.
type clusterVersions struct {
	node *cluster.Node
	path string // this node's file (its own keys)
}

func (v *clusterVersions) strict() bool      { return true }
func (v *clusterVersions) where() string     { return "the cluster's config (etcd)" }
func (v *clusterVersions) file(n int) string { return fmt.Sprintf("cluster version %d", n) }

func (v *clusterVersions) list() ([]Version, error) {
	nums, err := v.node.Versions(context.Background())
	if err != nil {
		return nil, err
	}
	var out []Version
	for _, n := range nums {
		data, err := v.node.Version(context.Background(), n)
		if err != nil {
			return nil, err
		}
		ver, _ := parseVersion(n, data)
		ver.File = v.file(n)
		out = append(out, ver)
	}
	return out, nil
}

// read returns version n merged with this node's own keys: a file this
// node can run.
func (v *clusterVersions) read(n int) (Version, []byte, error) {
	data, err := v.node.Version(context.Background(), n)
	if err != nil {
		return Version{}, nil, err
	}
	ver, shared := parseVersion(n, data)
	ver.File = v.file(n)
	text, err := v.merge(shared)
	return ver, text, err
}

func (v *clusterVersions) merge(shared []byte) ([]byte, error) {
	local, err := os.ReadFile(v.path)
	if err != nil {
		return nil, err
	}
	return conf.MergeText(local, shared)
}

func (v *clusterVersions) record(text []byte, user, statement string, base, running int) (int, error) {
	shared, err := conf.SharedText(text)
	if err != nil {
		return 0, err
	}
	return v.node.Publish(context.Background(), running, func(n int) []byte {
		return formatVersion(n, shared, user, statement, base)
	})
}

func (v *clusterVersions) find(text []byte) int {
	shared, err := conf.SharedText(text)
	if err != nil {
		return 0
	}
	cur, data, err := v.node.Current(context.Background())
	if err != nil || cur == 0 {
		return 0
	}
	if _, body := parseVersion(cur, data); bytes.Equal(body, shared) {
		return cur
	}
	return 0
}

// UseCluster keeps the config versions in the cluster; version is the
// cluster's version the node runs now (0: not known yet).
func (m *Manager) UseCluster(n *cluster.Node, version int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vers = &clusterVersions{node: n, path: m.path}
	m.current = version
}

// Follow swaps in the cluster's version v (stored content data) unless
// this node runs it (or a later one) already. A version this node cannot
// run is logged and skipped: the node keeps serving its current config.
func (m *Manager) Follow(v int, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v <= m.current {
		return
	}
	cv, ok := m.vers.(*clusterVersions)
	if !ok {
		return
	}
	_, shared := parseVersion(v, data)
	text, err := cv.merge(shared)
	if err == nil && bytes.Equal(text, m.text) {
		m.current = v
		return
	}
	var cfg *conf.Config
	if err == nil {
		cfg, err = conf.Parse(m.path, text)
	}
	if err == nil {
		_, err = m.swap(cfg, text, "(cluster)", fmt.Sprintf("cluster config version %d", v), true, 0, v, nil)
	}
	if err != nil {
		m.log.Error("cannot apply the cluster's config version; still serving the previous one", "version", v, "err", err)
	}
}

// showClusterNodes lists the live nodes of the cluster (SHOW CLUSTER NODES).
func (c *Console) showClusterNodes() (*result, error) {
	var cv *clusterVersions
	if c.mgr != nil {
		c.mgr.mu.Lock()
		cv, _ = c.mgr.vers.(*clusterVersions)
		c.mgr.mu.Unlock()
	}
	if cv == nil {
		return nil, errf("not in cluster mode: this node runs alone (add a cluster: section to its config)")
	}
	ms, err := cv.node.Members(context.Background())
	if err != nil {
		return nil, errf("%v", err)
	}
	r := &result{cols: cols("node", "addr", "admin", "version", "config_version", "sessions", "started", "worker_id", "leader", "self")}
	for _, m := range ms {
		r.rows = append(r.rows, []any{m.ID, m.Addr, nilIf(m.Admin), m.Version, m.ConfigVersion, m.Sessions,
			m.Started.UTC().Format(time.RFC3339), m.Worker, yesNo(m.Leader), yesNo(m.ID == cv.node.ID)})
	}
	return r, nil
}

// SyncCluster brings this node in line with the cluster's config: an
// empty cluster is seeded with this node's file; otherwise the cluster's
// running version is followed. It runs at each (re)join.
func (m *Manager) SyncCluster(ctx context.Context) error {
	m.mu.Lock()
	cv, ok := m.vers.(*clusterVersions)
	m.mu.Unlock()
	if !ok {
		return nil
	}
	cur, data, err := cv.node.Current(ctx)
	if err != nil {
		return err
	}
	if cur == 0 {
		m.mu.Lock()
		v, err := m.vers.record(m.text, "", "(the cluster seeded from "+m.path+")", 0, 0)
		if err == nil {
			m.current = v
		}
		m.mu.Unlock()
		if err == nil {
			m.log.Info("seeded the cluster's config from this node's file", "version", v)
			return nil
		}
		if !errors.Is(err, cluster.ErrConflict) {
			return err
		}
		if cur, data, err = cv.node.Current(ctx); err != nil {
			return err
		}
	}
	m.Follow(cur, data)
	return nil
}
