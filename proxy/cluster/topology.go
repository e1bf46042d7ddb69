package cluster

import (
	"context"
	"encoding/json"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Failover decisions. Only the leader writes topology/<host>, and only
// while it leads (the write is conditional on its election key): first
// the replica it is about to promote (Promoting), then the result. A new
// leader finding a promotion unfinished completes that one, never a
// second replica.

// HostRecord is a data host's primary as the cluster decided it.
type HostRecord struct {
	Primary   string   `json:"primary"`
	Fenced    []string `json:"fenced,omitempty"`
	Promoting bool     `json:"promoting,omitempty"` // decided, not yet done
	By        string   `json:"by"`                  // the deciding node
}

func (n *Node) hostKey(host string) string { return n.pfx + "topology/" + host }

// Topology returns every data host's record.
func (n *Node) Topology(ctx context.Context) (map[string]HostRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	resp, err := n.cli.Get(ctx, n.pfx+"topology/", clientv3.WithPrefix())
	if err != nil {
		return nil, unavailable(err)
	}
	out := map[string]HostRecord{}
	for _, kv := range resp.Kvs {
		var r HostRecord
		if json.Unmarshal(kv.Value, &r) == nil {
			out[strings.TrimPrefix(string(kv.Key), n.pfx+"topology/")] = r
		}
	}
	return out, nil
}

// RecordHost writes a data host's record, as the leader.
func (n *Node) RecordHost(ctx context.Context, host string, r HostRecord) error {
	lead, err := n.asLeader()
	if err != nil {
		return err
	}
	r.By = n.ID
	b, _ := json.Marshal(r)
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	tr, err := n.cli.Txn(ctx).If(lead).Then(clientv3.OpPut(n.hostKey(host), string(b))).Commit()
	if err != nil {
		return unavailable(err)
	}
	if !tr.Succeeded {
		return errNotLeader
	}
	return nil
}

// WatchTopology calls fn with each data host record written, until ctx ends.
func (n *Node) WatchTopology(ctx context.Context, fn func(host string, r HostRecord)) {
	n.watch(ctx, n.pfx+"topology/", true, func(key string, value []byte) {
		var r HostRecord
		if json.Unmarshal(value, &r) == nil {
			fn(strings.TrimPrefix(key, n.pfx+"topology/"), r)
		}
	})
}
