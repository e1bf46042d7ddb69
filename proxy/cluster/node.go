// Package cluster is shardgate's cluster mode: several proxy nodes that
// share one truth in etcd. A Node keeps this process's etcd session (a
// lease kept alive), through which it is listed as a member, holds its
// snowflake worker id and campaigns to be the leader that decides
// failovers; it also stores the cluster's config versions, failover
// records and XA commit decisions.
//
// Keys, under /shardgate/<name>/:
//
//	members/<id>      this node's Member (JSON), on its lease
//	workers/<n>       snowflake worker id n, held by a node id, on its lease
//	election/         the failover leader's election
//	config/current    the running config version's number
//	config/v/<n>      config version n (header + the cluster's document)
//	topology/<host>   a data host's primary as the leader decided (JSON)
//	xa/<gtrid>        a distributed transaction's decision: C or A
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/shardgate/shardgate/conf"
)

// ErrUnavailable is returned for what needs etcd while it cannot be
// reached (or this node's session with it is lost).
var ErrUnavailable = errors.New("the cluster store (etcd) is unreachable")

// opTimeout bounds one etcd request: past it, the change is refused.
const opTimeout = 2 * time.Second

// Member is what a node publishes about itself.
type Member struct {
	ID            string    `json:"id"`
	Addr          string    `json:"addr"`
	Admin         string    `json:"admin,omitempty"`
	Version       string    `json:"version"`
	ConfigVersion int       `json:"config_version"`
	Sessions      int       `json:"sessions"`
	Started       time.Time `json:"started"`
	Worker        int       `json:"worker"` // snowflake worker id; -1 none
	Leader        bool      `json:"leader"`
}

// Hooks are what the rest of the proxy does when the session changes.
type Hooks struct {
	// Info returns the member record to publish (refreshed every lease
	// period).
	Info func() Member
	// Joined runs in each new session, once registered (at start and
	// when etcd comes back): catch up with the config and topology.
	Joined func(ctx context.Context)
}

// Node is this process in the cluster.
type Node struct {
	ID  string
	cli *clientv3.Client
	pfx string
	ttl time.Duration
	log *slog.Logger

	hooks   Hooks
	renewed atomic.Int64 // unix nanos of the lease's last renewal; 0 = no session
	worker  atomic.Int64 // leased snowflake worker id, -1 none
	leader  atomic.Pointer[leadership]

	cancel context.CancelFunc
	done   chan struct{}
}

// leadership is the election key this node holds as leader.
type leadership struct {
	key string
	rev int64
}

// New connects to etcd (lazily: a node starts even when etcd is down).
func New(c *conf.Cluster, log *slog.Logger) (*Node, error) {
	cfg := clientv3.Config{
		Endpoints:            c.Endpoints,
		DialTimeout:          opTimeout,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Username:             c.Username,
		Password:             c.Password,
		Logger:               zap.NewNop(),
	}
	if c.TLS != nil {
		t, err := tlsConfig(c.TLS)
		if err != nil {
			return nil, err
		}
		cfg.TLS = t
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	n := &Node{ID: hex.EncodeToString(b[:]), cli: cli, pfx: "/shardgate/" + c.Name + "/", ttl: c.LeaseTTL, log: log, done: make(chan struct{})}
	n.worker.Store(-1)
	return n, nil
}

func tlsConfig(t *conf.EtcdTLS) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", t.CA)
		}
		tc.RootCAs = pool
	}
	if t.Cert != "" {
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Start keeps a session with etcd until Close: it (re)joins whenever the
// session is lost. It waits up to wait for the first session.
func (n *Node) Start(hooks Hooks, wait time.Duration) error {
	n.hooks = hooks
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	joined := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(n.done)
		for ctx.Err() == nil {
			err := n.session(ctx, func() { once.Do(func() { close(joined) }) })
			if ctx.Err() != nil {
				return
			}
			n.log.Warn("cluster session lost; serving on the last config, edits and failovers refused until etcd is back", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	select {
	case <-joined:
		return nil
	case <-time.After(wait):
		return ErrUnavailable
	}
}

// Close leaves the cluster: the lease is revoked, so the node disappears
// at once and its worker id is free.
func (n *Node) Close() {
	if n.cancel != nil {
		n.cancel()
		<-n.done
	}
	_ = n.cli.Close()
}

// session runs one etcd session: register, hold a worker id, campaign,
// and keep the lease alive until it is lost.
func (n *Node) session(ctx context.Context, joined func()) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sess, err := concurrency.NewSession(n.cli, concurrency.WithTTL(int(n.ttl/time.Second)), concurrency.WithContext(sctx))
	if err != nil {
		return err
	}
	defer func() {
		n.renewed.Store(0)
		n.worker.Store(-1)
		n.leader.Store(nil)
		rctx, rcancel := context.WithTimeout(context.Background(), opTimeout)
		_, _ = n.cli.Revoke(rctx, sess.Lease())
		rcancel()
		sess.Orphan()
	}()
	beat, err := n.cli.KeepAlive(sctx, sess.Lease())
	if err != nil {
		return err
	}
	n.renewed.Store(time.Now().UnixNano())
	if err := n.takeWorker(sctx, sess.Lease()); err != nil {
		return err
	}
	if err := n.publish(sctx, sess.Lease()); err != nil {
		return err
	}
	if n.hooks.Joined != nil {
		n.hooks.Joined(sctx)
	}
	n.log.Info("in the cluster", "node", n.ID, "worker_id", n.worker.Load())
	joined()
	go n.campaign(sctx, sess)
	tick := time.NewTicker(n.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sess.Done():
			return errors.New("lease expired")
		case _, ok := <-beat:
			if !ok {
				return errors.New("lease keep-alive stopped")
			}
			n.renewed.Store(time.Now().UnixNano())
		case <-tick.C:
			// Not inline: the record's figures may wait on a config change,
			// and the keep-alives must be read meanwhile.
			go func() {
				if err := n.publish(sctx, sess.Lease()); err != nil {
					n.log.Debug("cannot refresh the member record", "err", err)
				}
			}()
		}
	}
}

// Fresh reports whether this node's lease is surely still alive: renewed
// within two thirds of its TTL (etcd drops it only after the whole TTL).
// What is held on the lease (the worker id, leadership) is used only
// while fresh.
func (n *Node) Fresh() bool {
	r := n.renewed.Load()
	return r != 0 && time.Since(time.Unix(0, r)) < n.ttl*2/3
}

// publish writes the member record on the lease.
func (n *Node) publish(ctx context.Context, lease clientv3.LeaseID) error {
	m := Member{ID: n.ID, Worker: -1}
	if n.hooks.Info != nil {
		m = n.hooks.Info()
		m.ID = n.ID
	}
	m.Worker = int(n.worker.Load())
	m.Leader = n.leader.Load() != nil
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, err := n.cli.Put(ctx, n.pfx+"members/"+n.ID, string(b), clientv3.WithLease(lease))
	return err
}

// Members lists the live nodes, by id.
func (n *Node) Members(ctx context.Context) ([]Member, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	resp, err := n.cli.Get(ctx, n.pfx+"members/", clientv3.WithPrefix())
	if err != nil {
		return nil, unavailable(err)
	}
	var out []Member
	for _, kv := range resp.Kvs {
		var m Member
		if json.Unmarshal(kv.Value, &m) == nil {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Alive returns the ids of the live nodes.
func (n *Node) Alive(ctx context.Context) (map[string]bool, error) {
	ms, err := n.Members(ctx)
	if err != nil {
		return nil, err
	}
	alive := map[string]bool{}
	for _, m := range ms {
		alive[m.ID] = true
	}
	return alive, nil
}

// takeWorker leases the lowest free snowflake worker id.
func (n *Node) takeWorker(ctx context.Context, lease clientv3.LeaseID) error {
	for attempt := 0; attempt < 20; attempt++ {
		gctx, cancel := context.WithTimeout(ctx, opTimeout)
		resp, err := n.cli.Get(gctx, n.pfx+"workers/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
		cancel()
		if err != nil {
			return err
		}
		used := map[string]bool{}
		for _, kv := range resp.Kvs {
			used[strings.TrimPrefix(string(kv.Key), n.pfx+"workers/")] = true
		}
		w := 0
		for ; w <= maxWorker && used[fmt.Sprint(w)]; w++ {
		}
		if w > maxWorker {
			return fmt.Errorf("all %d snowflake worker ids are taken", maxWorker+1)
		}
		key := n.pfx + "workers/" + fmt.Sprint(w)
		tctx, cancel := context.WithTimeout(ctx, opTimeout)
		tr, err := n.cli.Txn(tctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, n.ID, clientv3.WithLease(lease))).Commit()
		cancel()
		if err != nil {
			return err
		}
		if tr.Succeeded {
			n.worker.Store(int64(w))
			return nil
		}
	}
	return errors.New("could not lease a snowflake worker id (too many nodes starting at once)")
}

// maxWorker is the largest snowflake worker id.
const maxWorker = 1023

// WorkerID returns the snowflake worker id this node holds, while its
// lease is fresh: another node can take the id only after the lease has
// expired, by which time this node has stopped using it.
func (n *Node) WorkerID() (int, bool) {
	w := n.worker.Load()
	return int(w), w >= 0 && n.Fresh()
}

// campaign runs for leader in the session; leadership ends with it.
func (n *Node) campaign(ctx context.Context, sess *concurrency.Session) {
	e := concurrency.NewElection(sess, n.pfx+"election")
	if err := e.Campaign(ctx, n.ID); err != nil {
		return
	}
	n.leader.Store(&leadership{key: e.Key(), rev: e.Rev()})
	n.log.Info("this node leads the cluster's failovers", "node", n.ID)
	_ = n.publish(ctx, sess.Lease())
}

// Leader reports whether this node leads (and its lease is fresh).
func (n *Node) Leader() bool { return n.leader.Load() != nil && n.Fresh() }

// asLeader is the condition of a write only the leader may make.
func (n *Node) asLeader() (clientv3.Cmp, error) {
	l := n.leader.Load()
	if l == nil || !n.Fresh() {
		return clientv3.Cmp{}, errors.New("this node is not the cluster's leader")
	}
	return clientv3.Compare(clientv3.CreateRevision(l.key), "=", l.rev), nil
}

// unavailable wraps an etcd error as ErrUnavailable when it is one of
// reaching etcd.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "Unavailable") || strings.Contains(err.Error(), "connection") {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

var errNotLeader = errors.New("this node is not the cluster's leader any more")
