package cluster

import (
	"context"
	"errors"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// XA decisions in etcd, written once: the coordinator creates xa/<gtrid>
// = C before committing any branch; a node resolving a dead coordinator's
// transaction without a decision creates A (presumed abort). Whichever is
// first stands, so a coordinator that was only slow and a node that
// thought it dead cannot decide differently.

// abortTTL keeps abort records long enough that no coordinator still
// deciding can miss them (seconds).
const abortTTL = 3600

// Decide records commit (C) or abort (A) for gtrid unless a decision is
// there already, and returns the decision that stands.
func (n *Node) Decide(ctx context.Context, gtrid string, commit bool) (committed bool, err error) {
	key := n.pfx + "xa/" + gtrid
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	put := clientv3.OpPut(key, "C")
	if !commit {
		lease, err := n.cli.Grant(ctx, abortTTL)
		if err != nil {
			return false, unavailable(err)
		}
		put = clientv3.OpPut(key, "A", clientv3.WithLease(lease.ID))
	}
	tr, err := n.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(put).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return false, unavailable(err)
	}
	if tr.Succeeded {
		return commit, nil
	}
	kvs := tr.Responses[0].GetResponseRange().Kvs
	return len(kvs) > 0 && string(kvs[0].Value) == "C", nil
}

// Forget removes a commit decision whose branches are all committed.
func (n *Node) Forget(ctx context.Context, gtrid string) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, err := n.cli.Delete(ctx, n.pfx+"xa/"+gtrid)
	return unavailable(err)
}

// Committed lists the transactions decided committed and not forgotten.
func (n *Node) Committed(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	resp, err := n.cli.Get(ctx, n.pfx+"xa/", clientv3.WithPrefix())
	if err != nil {
		return nil, unavailable(err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		if string(kv.Value) == "C" {
			out = append(out, strings.TrimPrefix(string(kv.Key), n.pfx+"xa/"))
		}
	}
	return out, nil
}

// Decisions is the coordinator's decision store in cluster mode
// (implements xa.Decisions).
type Decisions struct{ Node *Node }

// Commit records the commit decision; a node that took this coordinator
// for dead may have aborted the transaction first.
func (d Decisions) Commit(gtrid string) error {
	committed, err := d.Node.Decide(context.Background(), gtrid, true)
	if err != nil {
		return err
	}
	if !committed {
		return errors.New("another node resolving this node's transactions (its lease had expired) aborted it first")
	}
	return nil
}

// Done forgets a decision; one left behind is forgotten by a later recovery.
func (d Decisions) Done(gtrid string) { _ = d.Node.Forget(context.Background(), gtrid) }

// Resolve returns the decision that stands, recording abort if none.
func (d Decisions) Resolve(gtrid string) (bool, error) {
	return d.Node.Decide(context.Background(), gtrid, false)
}

// Pending lists the commit decisions.
func (d Decisions) Pending() ([]string, error) { return d.Node.Committed(context.Background()) }
