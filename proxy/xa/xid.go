package xa

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FormatID marks shardgate's XA transactions ("SG"), so that recovery
// leaves other coordinators' prepared transactions alone.
const FormatID = 0x5347

// Coordinator names this process's transactions and keeps track of those
// still running, which recovery must not touch.
type Coordinator struct {
	owner  string // "sg-<node>-": this coordinator's transactions, across restarts
	prefix string // owner + "<start>-<pid>-": unique per process
	seq    atomic.Uint64
	Log    Decisions
	// Alive, in cluster mode, lists the live coordinators' node names:
	// recovery also resolves the transactions of nodes not in it.
	Alive func(ctx context.Context) (map[string]bool, error)

	mu   sync.Mutex
	live map[string]struct{}
}

// Decisions keeps the coordinator's commit decisions: a local log (Log),
// or etcd in cluster mode, where any node can resolve a dead node's
// transactions.
type Decisions interface {
	// Commit records the decision to commit, durably, before any branch
	// commits; an error means the transaction must roll back.
	Commit(gtrid string) error
	// Done forgets a decision whose branches all committed.
	Done(gtrid string)
	// Resolve returns the decision for a transaction no coordinator runs:
	// commit if one was recorded, else abort (presumed abort).
	Resolve(gtrid string) (commit bool, err error)
	// Pending lists the commit decisions not forgotten.
	Pending() ([]string, error)
}

// NewCoordinator starts naming transactions after node (the name kept in
// the local log, or the cluster node's id).
func NewCoordinator(node string, log Decisions) *Coordinator {
	owner := "sg-" + node + "-"
	p := owner + strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + strconv.Itoa(os.Getpid()) + "-"
	return &Coordinator{owner: owner, prefix: p, Log: log, live: map[string]struct{}{}}
}

// Owns reports whether this coordinator (in this run or an earlier one)
// named the transaction, or, given the live nodes (cluster mode), whether
// it is the transaction of a node that is gone.
func (c *Coordinator) Owns(gtrid string, alive map[string]bool) bool {
	if strings.HasPrefix(gtrid, c.owner) {
		return true
	}
	if alive == nil || !Ours(gtrid) {
		return false
	}
	node, _, _ := strings.Cut(strings.TrimPrefix(gtrid, "sg-"), "-")
	return !alive[node]
}

// Begin names a new distributed transaction and marks it running.
func (c *Coordinator) Begin() string {
	g := c.prefix + strconv.FormatUint(c.seq.Add(1), 36)
	c.mu.Lock()
	c.live[g] = struct{}{}
	c.mu.Unlock()
	return g
}

// End marks a transaction finished (committed, rolled back, or left to
// recovery).
func (c *Coordinator) End(gtrid string) {
	c.mu.Lock()
	delete(c.live, gtrid)
	c.mu.Unlock()
}

// Running reports whether a transaction of this process is still running.
func (c *Coordinator) Running(gtrid string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.live[gtrid]
	return ok
}

// Ours reports whether a gtrid was made by a shardgate coordinator.
func Ours(gtrid string) bool { return strings.HasPrefix(gtrid, "sg-") }

// XID is the SQL form of a branch's id: 'gtrid','bqual',FormatID.
func XID(gtrid string, branch int) string {
	return fmt.Sprintf("'%s','b%d',%d", gtrid, branch, FormatID)
}
