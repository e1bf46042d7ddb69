package backend

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/shardgate/shardgate/conf"
)

// A reload builds the cluster of the new configuration from the running
// one: a data host whose configuration did not change is carried over as
// it is (pools, open connections, health, a switch of primary), so clients
// notice nothing; a changed or added one is made new and started; a
// removed or replaced one is retired once the new configuration serves.

// Rebuild returns the cluster of c. Hosts made new get the recorded state
// of statePath applied and their checks started, as Start does; their
// switches are recorded in statePath under stateMu. retired are the hosts
// of cl the new cluster does not use: Retire them after the swap, or, if
// the new cluster is not used, Discard it.
func (cl *Cluster) Rebuild(c *conf.Config, log *slog.Logger, statePath string, stateMu *sync.Mutex) (next *Cluster, retired []*DataHost, err error) {
	st, err := LoadTopologyState(statePath)
	if err != nil {
		return nil, nil, err
	}
	next = &Cluster{Hosts: map[string]*DataHost{}, Nodes: map[string]*DataNode{}, decider: cl.decider}
	for _, hc := range c.DataHosts {
		if old := cl.Hosts[hc.Name]; old != nil && reflect.DeepEqual(old.cfg, hc) {
			next.Hosts[hc.Name] = old
			continue
		}
		h := newDataHost(hc)
		h.decider = cl.decider
		h.log = func(msg string, args ...any) { log.Info(msg, append([]any{"data_host", h.Name}, args...)...) }
		if hs, ok := st.Hosts[h.Name]; ok {
			if err := h.apply(hs); err != nil {
				log.Warn("ignoring recorded state", "data_host", h.Name, "err", err)
			}
		}
		h.onSwitch = func(host, primary string, fenced []string) {
			stateMu.Lock()
			defer stateMu.Unlock()
			// Read, change, write: other hosts record their switches too.
			cur, err := LoadTopologyState(statePath)
			if err == nil {
				cur.Hosts[host] = HostState{Primary: primary, Fenced: fenced}
				err = cur.Save(statePath)
			}
			if err != nil {
				log.Error("cannot record the new primary", "data_host", host, "err", err)
			}
		}
		next.Hosts[hc.Name] = h
	}
	for _, nc := range c.DataNodes {
		next.Nodes[nc.Name] = &DataNode{Name: nc.Name, Host: next.Hosts[nc.Host], Database: nc.Database}
	}
	for name, h := range cl.Hosts {
		if next.Hosts[name] != h {
			retired = append(retired, h)
		}
	}
	for _, h := range next.Hosts {
		if cl.Hosts[h.Name] != h {
			go h.monitor()
		}
	}
	return next, retired, nil
}

// Discard stops the hosts of a rebuilt cluster that are not carried over
// from old: the rebuild is abandoned.
func (cl *Cluster) Discard(old *Cluster) {
	for _, h := range cl.Hosts {
		if old.Hosts[h.Name] != h {
			h.stop()
			for _, s := range h.servers {
				s.Pool.Close()
			}
		}
	}
}

// Retire stops the hosts' checks now and closes their pools after grace:
// statements that started on the old configuration finish first (a
// connection in use is closed when it comes back).
func Retire(hosts []*DataHost, grace time.Duration) {
	for _, h := range hosts {
		h.stop()
	}
	if len(hosts) == 0 {
		return
	}
	time.AfterFunc(grace, func() {
		for _, h := range hosts {
			for _, s := range h.servers {
				s.Pool.Close()
			}
		}
	})
}

// EnsureNewDatabases creates the databases of the data nodes of cl that
// old did not have (same host and database), as EnsureDatabases does at
// start-up.
func (cl *Cluster) EnsureNewDatabases(ctx context.Context, old *Cluster, log *slog.Logger) {
	for _, n := range cl.Nodes {
		if o := old.Nodes[n.Name]; o != nil && o.Host == n.Host && o.Database == n.Database {
			continue
		}
		if err := n.ensureDatabase(ctx); err != nil {
			log.Warn("cannot create data node database", "node", n.Name, "database", n.Database, "err", err)
		}
	}
}
