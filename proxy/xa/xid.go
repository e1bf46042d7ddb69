package xa

import (
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
	Log    *Log

	mu   sync.Mutex
	live map[string]struct{}
}

// NewCoordinator starts naming transactions after the node name kept in
// the log.
func NewCoordinator(log *Log) *Coordinator {
	owner := "sg-" + log.Node() + "-"
	p := owner + strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + strconv.Itoa(os.Getpid()) + "-"
	return &Coordinator{owner: owner, prefix: p, Log: log, live: map[string]struct{}{}}
}

// Owns reports whether this coordinator (in this run or an earlier one)
// named the transaction.
func (c *Coordinator) Owns(gtrid string) bool { return strings.HasPrefix(gtrid, c.owner) }

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
