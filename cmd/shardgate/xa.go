package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/cluster"
	"github.com/shardgate/shardgate/proxy/xa"
)

// recoverEvery is how often prepared XA branches nobody runs are resolved.
// In cluster mode a pass runs every lease TTL instead: a dead node's
// branches hold their locks until another node resolves them, which it
// may do as soon as the dead node's lease is gone.
const recoverEvery = 10 * time.Second

// startXA opens the decision log, resolves what a previous run left
// prepared, and keeps resolving in the background until ctx ends.
//
// In cluster mode (node set) the decisions are the cluster's, and recovery
// also resolves the transactions of nodes that are gone.
func startXA(ctx context.Context, cfg *conf.Config, cl *backend.Cluster, log *slog.Logger, node *cluster.Node) (*xa.Coordinator, error) {
	l, err := xa.OpenLog(cfg.XALogPath())
	if err != nil {
		return nil, err
	}
	co := xa.NewCoordinator(l.Node(), l)
	var hosts []*backend.DataHost
	for _, h := range cfg.DataHosts {
		hosts = append(hosts, cl.Hosts[h.Name])
	}
	if node != nil {
		// What this node left prepared before it ran in cluster mode.
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if out, err := xa.Recover(rctx, hosts, co); err != nil || out.Committed+out.RolledBack > 0 {
			log.Info("xa recovery of the local log", "committed", out.Committed, "rolled_back", out.RolledBack, "err", err)
		}
		cancel()
		co = xa.NewCoordinator(node.ID, cluster.Decisions{Node: node})
		co.Alive = node.Alive
	}
	resolve := func(first bool) {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		out, err := xa.Recover(rctx, hosts, co)
		switch {
		case err != nil:
			log.Warn("xa recovery incomplete; retrying later", "err", err, "committed", out.Committed, "rolled_back", out.RolledBack)
		case out.Committed+out.RolledBack > 0 || first && out.Forgotten > 0:
			log.Info("xa recovery", "committed", out.Committed, "rolled_back", out.RolledBack, "forgotten", out.Forgotten)
		}
	}
	resolve(true)
	go func() {
		every := recoverEvery
		if node != nil {
			every = min(every, cfg.Cluster.LeaseTTL)
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				_ = l.Close()
				return
			case <-t.C:
				resolve(false)
			}
		}
	}()
	return co, nil
}
