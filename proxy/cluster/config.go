package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The cluster's config: versions under config/v/<n>, each the whole
// document behind a header, and config/current naming the running one.
// A change is a transaction that writes version current+1 only if
// current is still the version the change was made on: of two DBAs
// editing at once, one wins and the other gets ErrConflict.

// ErrConflict: the config changed in the cluster since the change began.
var ErrConflict = errors.New("the cluster's config changed since this change began")

func (n *Node) versionKey(v int) string { return fmt.Sprintf("%sconfig/v/%010d", n.pfx, v) }
func (n *Node) currentKey() string      { return n.pfx + "config/current" }

// Current returns the running version's number and its stored content
// (0, nil: the cluster has no config yet).
func (n *Node) Current(ctx context.Context) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	resp, err := n.cli.Get(ctx, n.currentKey())
	if err != nil {
		return 0, nil, unavailable(err)
	}
	if len(resp.Kvs) == 0 {
		return 0, nil, nil
	}
	v, err := strconv.Atoi(string(resp.Kvs[0].Value))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %q is not a version", n.currentKey(), resp.Kvs[0].Value)
	}
	data, err := n.Version(ctx, v)
	return v, data, err
}

// Version returns version v's stored content.
func (n *Node) Version(ctx context.Context, v int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	resp, err := n.cli.Get(ctx, n.versionKey(v))
	if err != nil {
		return nil, unavailable(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("config version %d %w", v, errNoVersion)
	}
	return resp.Kvs[0].Value, nil
}

var errNoVersion = errors.New("is not in the cluster")

// Versions lists the stored versions' numbers, oldest first.
func (n *Node) Versions(ctx context.Context) ([]int, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	resp, err := n.cli.Get(ctx, n.pfx+"config/v/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, unavailable(err)
	}
	var out []int
	for _, kv := range resp.Kvs {
		if v, err := strconv.Atoi(strings.TrimPrefix(string(kv.Key), n.pfx+"config/v/")); err == nil {
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out, nil
}

// Publish stores content (made by format with the new version's number)
// as version running+1 and makes it current, if current is still running
// (0: the cluster has no config yet). It returns the new version.
func (n *Node) Publish(ctx context.Context, running int, format func(v int) []byte) (int, error) {
	if !n.Fresh() {
		return 0, ErrUnavailable
	}
	next := running + 1
	cond := clientv3.Compare(clientv3.Value(n.currentKey()), "=", strconv.Itoa(running))
	if running == 0 {
		cond = clientv3.Compare(clientv3.CreateRevision(n.currentKey()), "=", 0)
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	tr, err := n.cli.Txn(ctx).If(cond).Then(
		clientv3.OpPut(n.versionKey(next), string(format(next))),
		clientv3.OpPut(n.currentKey(), strconv.Itoa(next)),
	).Commit()
	if err != nil {
		return 0, unavailable(err)
	}
	if !tr.Succeeded {
		return 0, ErrConflict
	}
	return next, nil
}

// WatchConfig calls fn with each new current version (and its content)
// until ctx ends.
func (n *Node) WatchConfig(ctx context.Context, fn func(v int, data []byte)) {
	n.watch(ctx, n.currentKey(), false, func(_ string, value []byte) {
		v, err := strconv.Atoi(string(value))
		if err != nil {
			return
		}
		// A read can fail while etcd is changing members: try again, or
		// the node would serve the old version until the next edit.
		for ctx.Err() == nil {
			data, err := n.Version(ctx, v)
			if err == nil || errors.Is(err, errNoVersion) {
				if err == nil {
					fn(v, data)
				}
				return
			}
			n.log.Warn("cannot read the cluster's new config version; trying again", "version", v, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(watchRetry):
			}
		}
	})
}

// watch calls fn for each put on key (or under it, with prefix) until ctx
// ends. A watch that etcd ends (its member lost the leader, or the history
// was compacted) is resumed after the last revision seen; after a
// compaction the current values are read again, as puts may be lost.
func (n *Node) watch(ctx context.Context, key string, prefix bool, fn func(key string, value []byte)) {
	opts := []clientv3.OpOption{}
	if prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	var rev int64 // the store's revision up to which every put was seen
	for ctx.Err() == nil {
		if rev == 0 {
			// From the current values on (calling fn for them is harmless).
			gctx, cancel := context.WithTimeout(ctx, opTimeout)
			resp, err := n.cli.Get(gctx, key, opts...)
			cancel()
			if err == nil {
				rev = resp.Header.Revision
				for _, kv := range resp.Kvs {
					fn(string(kv.Key), kv.Value)
				}
			}
		}
		if rev != 0 {
			wopts := append(opts[:len(opts):len(opts)], clientv3.WithRev(rev+1))
			for wr := range n.cli.Watch(clientv3.WithRequireLeader(ctx), key, wopts...) {
				if wr.CompactRevision != 0 {
					rev = 0 // read the values again
					break
				}
				for _, ev := range wr.Events {
					rev = ev.Kv.ModRevision
					if ev.Type == clientv3.EventTypePut {
						fn(string(ev.Kv.Key), ev.Kv.Value)
					}
				}
				if wr.Err() != nil {
					n.log.Debug("cluster watch ended; resuming", "key", key, "err", wr.Err())
					break
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(watchRetry):
		}
	}
}

// watchRetry is the pause before a watch that ended is resumed.
const watchRetry = 500 * time.Millisecond
