package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/admin"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/cluster"
	"github.com/shardgate/shardgate/proxy/server"
	"github.com/shardgate/shardgate/proxy/snapshot"
)

// joinWait is how long start-up waits for etcd before serving on the
// config file (the cluster's last config this node saw).
const joinWait = 5 * time.Second

// startCluster joins the cluster (cluster mode): the node registers,
// follows the cluster's config and failover records, and decides
// failovers when it leads. When etcd cannot be reached the node serves on
// its file and joins once etcd answers.
func startCluster(node *cluster.Node, cfg *conf.Config, holder *snapshot.Holder, srv *server.Server, mgr *admin.Manager, log *slog.Logger) {
	started := time.Now()
	addr := cfg.Cluster.Advertise
	if addr == "" {
		addr = cfg.Listen
	}
	holder.Load().Cluster.SetDecider(node.Decider)
	mgr.UseCluster(node, 0)
	hosts := func() map[string]*backend.DataHost { return holder.Load().Cluster.Hosts }
	hooks := cluster.Hooks{
		Info: func() cluster.Member {
			return cluster.Member{Addr: addr, Admin: cfg.Admin, Version: admin.BuildVersion(), ConfigVersion: mgr.Current(),
				Sessions: srv.Env().Registry.Count(), Started: started}
		},
		Joined: func(ctx context.Context) {
			if err := mgr.SyncCluster(ctx); err != nil {
				log.Warn("cannot sync with the cluster's config; serving the local one", "err", err)
			}
			go node.WatchConfig(ctx, mgr.Follow)
			node.FollowTopology(ctx, hosts)
		},
	}
	if err := node.Start(hooks, joinWait); err != nil {
		log.Warn("cluster: etcd does not answer; serving on the local config file until it does", "err", err)
	} else {
		log.Info("joined the cluster", "node", node.ID, "cluster", cfg.Cluster.Name, "config_version", mgr.Current())
	}
}
