package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/proxy/backend"
)

// Decider is the backend's decider in cluster mode: every node checks its
// servers, but only the leader switches a primary. It records the replica
// it will promote before touching it, promotes it, and records the
// result; every node (the leader too) follows the record (Follow).
func (n *Node) Decider(ctx context.Context, h *backend.DataHost, to *backend.Server, failed bool, down time.Duration) error {
	if !n.Leader() {
		if failed {
			return nil // the leader decides; this node follows its record
		}
		if !n.Fresh() {
			return fmt.Errorf("%w: switches are refused until it is back", ErrUnavailable)
		}
		return errors.New("in cluster mode only the leader switches primaries, and this node is not it (SHOW CLUSTER NODES names the leader)")
	}
	if to == nil {
		var err error
		if to, err = h.BestReplica(ctx); err != nil {
			return err
		}
	}
	old := h.Primary()
	if failed {
		n.log.Info("primary down, failing over (cluster leader)", "data_host", h.Name, "primary", old.Addr, "down_for", down.Round(time.Millisecond), "promoting", to.Addr)
	}
	if err := n.RecordHost(ctx, h.Name, HostRecord{Primary: to.Addr, Fenced: h.Fenced(), Promoting: true}); err != nil {
		return fmt.Errorf("switch refused: cannot record the decision: %w", err)
	}
	if err := h.Switch(ctx, to, failed); err != nil {
		return err
	}
	return n.RecordHost(ctx, h.Name, HostRecord{Primary: to.Addr, Fenced: h.Fenced()})
}

// FollowTopology applies the cluster's failover records to the data
// hosts: at once, then as they are written, until ctx ends. A promotion
// left unfinished by a leader that died is finished by this node when it
// leads.
func (n *Node) FollowTopology(ctx context.Context, hosts func() map[string]*backend.DataHost) {
	apply := func(name string, r HostRecord) {
		h := hosts()[name]
		if h == nil || r.Promoting {
			return
		}
		if err := h.Follow(r.Primary, r.Fenced); err != nil {
			n.log.Warn("cannot follow the cluster's primary", "data_host", name, "err", err)
		}
	}
	recs, err := n.Topology(ctx)
	if err == nil {
		for name, r := range recs {
			apply(name, r)
		}
	}
	go n.WatchTopology(ctx, apply)
	go n.finishPromotions(ctx, hosts)
}

// finishPromotions waits to lead, then completes promotions a former
// leader recorded but did not finish.
func (n *Node) finishPromotions(ctx context.Context, hosts func() map[string]*backend.DataHost) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !n.Leader() {
			continue
		}
		recs, err := n.Topology(ctx)
		if err != nil {
			continue
		}
		for name, r := range recs {
			h := hosts()[name]
			if h == nil || !r.Promoting {
				continue
			}
			var to *backend.Server
			for _, s := range h.Servers() {
				if s.Addr == r.Primary {
					to = s
				}
			}
			if to == nil {
				continue
			}
			n.log.Info("finishing a promotion the former leader began", "data_host", name, "primary", r.Primary)
			if h.Primary() != to {
				if err := h.Switch(ctx, to, true); err != nil {
					n.log.Error("cannot finish the promotion; check the data host by hand", "data_host", name, "primary", r.Primary, "err", err)
					continue
				}
			}
			if err := n.RecordHost(ctx, name, HostRecord{Primary: to.Addr, Fenced: h.Fenced()}); err != nil {
				n.log.Warn("cannot record the finished promotion", "data_host", name, "err", err)
			}
		}
		return // once per leadership is enough; a new session starts a new follower
	}
}
