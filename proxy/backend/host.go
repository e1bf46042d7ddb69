package backend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
)

// Role of a server in its data host; it changes at a failover.
type Role string

const (
	RolePrimary Role = "primary"
	RoleReplica Role = "replica"
	// RoleFenced is a former primary replaced by a failover: it serves
	// nothing until an operator puts it back.
	RoleFenced Role = "fenced"
)

// Server is one MySQL/MariaDB server with its pool and health.
type Server struct {
	Addr   string
	Weight int
	host   *DataHost
	Pool   *Pool

	role        atomic.Pointer[Role]
	up          atomic.Bool  // its last check (or connection) succeeded
	lag         atomic.Int64 // replica: seconds behind, -1 when replication is stopped or unknown
	applied     atomic.Pointer[GTIDSet]
	checkedAt   atomic.Int64 // unix nanoseconds of the last check
	lastDialErr atomic.Pointer[string]
	lastErr     atomic.Pointer[string]
}

func (s *Server) String() string {
	return fmt.Sprintf("%s %s %s", s.host.Name, s.Role(), s.Addr)
}

// Role returns the server's current role.
func (s *Server) Role() Role { return *s.role.Load() }

func (s *Server) setRole(r Role) { s.role.Store(&r) }

// Host returns the data host the server belongs to.
func (s *Server) Host() *DataHost { return s.host }

// Up reports whether the server answered its last check.
func (s *Server) Up() bool { return s.up.Load() }

// Lag returns a replica's lag in seconds (-1: stopped or unknown).
func (s *Server) Lag() int64 { return s.lag.Load() }

// Applied returns the GTIDs a server is known to have applied.
func (s *Server) Applied() GTIDSet {
	if g := s.applied.Load(); g != nil {
		return *g
	}
	return nil
}

// LastError is the last failure seen talking to the server.
func (s *Server) LastError() string {
	if e := s.lastErr.Load(); e != nil {
		return *e
	}
	return ""
}

func (s *Server) noteDialError(err error) {
	msg := err.Error()
	s.lastDialErr.Store(&msg)
	s.markDown(err)
}

// markDown takes a server out until its next successful check.
func (s *Server) markDown(err error) {
	msg := err.Error()
	s.lastErr.Store(&msg)
	s.up.Store(false)
}

// NoteApplied records that the server has applied g (from a check, or a
// successful MASTER_GTID_WAIT).
func (s *Server) NoteApplied(g GTIDSet) {
	for {
		old := s.applied.Load()
		merged := g
		if old != nil {
			merged = old.Merge(g)
		}
		if s.applied.CompareAndSwap(old, &merged) {
			return
		}
	}
}

// DataHost is one replication group: a primary and its replicas.
type DataHost struct {
	Name    string
	cfg     conf.DataHost
	servers []*Server // as configured: the configured primary first
	primary atomic.Pointer[Server]

	mu        sync.Mutex
	switching chan struct{} // closed when a running switch ends; nil when none
	inSwitch  atomic.Bool   // switching != nil, read without the lock
	downSince time.Time     // the primary failed its checks since then
	deciding  bool          // a failover is being decided
	onSwitch  func(host, primary string, fenced []string)
	log       func(msg string, args ...any)
	quit      chan struct{}
	stopOnce  sync.Once
	failovers atomic.Int64
	decider   *deciderHolder // the cluster's, shared by every host
}

func newDataHost(hc conf.DataHost) *DataHost {
	h := &DataHost{Name: hc.Name, cfg: hc, quit: make(chan struct{}), log: func(string, ...any) {}}
	add := func(addr string, role Role, weight int) *Server {
		s := &Server{Addr: addr, Weight: weight, host: h}
		s.setRole(role)
		s.up.Store(true) // until a check says otherwise
		s.lag.Store(0)
		s.Pool = newPool(s)
		h.servers = append(h.servers, s)
		return s
	}
	h.primary.Store(add(hc.Primary, RolePrimary, 1))
	for _, r := range hc.Replicas {
		add(r.Addr, RoleReplica, r.Weight)
	}
	return h
}

// Config returns the data host's configuration (not to be changed).
func (h *DataHost) Config() *conf.DataHost { return &h.cfg }

// Primary returns the current primary.
func (h *DataHost) Primary() *Server { return h.primary.Load() }

// Servers lists every server, the current primary first.
func (h *DataHost) Servers() []*Server {
	p := h.Primary()
	out := []*Server{p}
	for _, s := range h.servers {
		if s != p {
			out = append(out, s)
		}
	}
	return out
}

// Replicas lists the servers that replicate from the primary now.
func (h *DataHost) Replicas() []*Server {
	var out []*Server
	for _, s := range h.servers {
		if s.Role() == RoleReplica {
			out = append(out, s)
		}
	}
	return out
}

// Failovers counts the switches of primary since start.
func (h *DataHost) Failovers() int64 { return h.failovers.Load() }

// PrimaryNow returns the primary and whether a statement may use it now
// (else PrimaryWait waits for it).
func (h *DataHost) PrimaryNow() (*Server, bool) {
	p := h.Primary()
	if h.cfg.Failover != "auto" {
		return p, !h.switchRunning()
	}
	return p, p.Up() && !h.switchRunning()
}

func (h *DataHost) switchRunning() bool { return h.inSwitch.Load() }

// PrimaryWait returns the primary. While a failover runs, or the primary
// is down and failover is automatic, it waits for the new primary (or the
// old one back) until deadline, so statements pause instead of failing.
func (h *DataHost) PrimaryWait(ctx context.Context, deadline time.Time) (*Server, error) {
	for {
		h.mu.Lock()
		switching := h.switching
		h.mu.Unlock()
		p := h.Primary()
		if switching == nil && (p.Up() || h.cfg.Failover != "auto") {
			return p, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf(
				"shardgate: the primary of data host %s (%s) is down and no new primary took over within failover_wait (%v)", h.Name, p.Addr, h.cfg.FailoverWait))
		}
		t := time.NewTimer(min(left, 20*time.Millisecond))
		select {
		case <-switching: // nil when none runs: never ready
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		t.Stop()
	}
}

// readable says a replica may serve reads now.
func (h *DataHost) readable(s *Server) bool {
	if s.Role() != RoleReplica || !s.Up() || s.Weight <= 0 {
		return false
	}
	lag := s.Lag()
	return lag >= 0 && time.Duration(lag)*time.Second <= h.cfg.MaxReplicaLag
}

// ReadServer picks the server for a plain read by the balance policy:
// a healthy replica by weight (the primary when there is none), the
// primary, or either. need, when set, is a write the read must see: a
// replica known to have applied it is preferred; else a replica that is
// not behind is returned with mustWait, for the caller to wait there for
// the write; else the primary. anyReplica (a hint) picks a replica
// whatever the policy. When the primary is down, a replica that lost its
// primary (or lags) still serves: a possibly stale answer beats none.
func (h *DataHost) ReadServer(need GTIDSet, anyReplica bool) (s *Server, mustWait bool) {
	p := h.Primary()
	if h.cfg.Balance == "primary" && !anyReplica && p.Up() {
		return p, false
	}
	var pick, waitable, lastResort *Server
	total := 0
	consider := func(c *Server, w int) {
		if w <= 0 {
			return
		}
		total += w
		if rand.IntN(total) < w {
			pick = c
		}
	}
	if h.cfg.Balance == "all" && p.Up() && !anyReplica {
		consider(p, 1)
	}
	for _, r := range h.servers {
		if !h.readable(r) {
			if r.Role() == RoleReplica && r.Up() && r.Weight > 0 {
				lastResort = r
			}
			continue
		}
		if need != nil && !r.Applied().Contains(need) {
			if r.Lag() == 0 && (waitable == nil || rand.IntN(2) == 0) {
				waitable = r
			}
			continue
		}
		consider(r, r.Weight)
	}
	switch {
	case pick != nil:
		return pick, false
	case waitable != nil:
		return waitable, true
	case p.Up() || lastResort == nil:
		return p, false
	}
	return lastResort, need != nil
}

// stop ends the health checks.
func (h *DataHost) stop() { h.stopOnce.Do(func() { close(h.quit) }) }

// GTIDSet is a MariaDB GTID position: the last sequence number per domain
// ("0-1-24407,1-2-5").
type GTIDSet map[uint32]uint64

// ParseGTIDSet reads a MariaDB GTID list; the server id is not needed to
// compare positions of one replication stream.
func ParseGTIDSet(s string) GTIDSet {
	out := GTIDSet{}
	for _, g := range strings.Split(s, ",") {
		f := strings.Split(strings.TrimSpace(g), "-")
		if len(f) != 3 {
			continue
		}
		d, e1 := strconv.ParseUint(f[0], 10, 32)
		seq, e2 := strconv.ParseUint(f[2], 10, 64)
		if e1 == nil && e2 == nil && seq > out[uint32(d)] {
			out[uint32(d)] = seq
		}
	}
	return out
}

// Contains reports whether every domain of o is reached in g.
func (g GTIDSet) Contains(o GTIDSet) bool {
	for d, seq := range o {
		if g[d] < seq {
			return false
		}
	}
	return true
}

// Merge returns the later position of each domain.
func (g GTIDSet) Merge(o GTIDSet) GTIDSet {
	out := GTIDSet{}
	for d, s := range g {
		out[d] = s
	}
	for d, s := range o {
		if s > out[d] {
			out[d] = s
		}
	}
	return out
}

// Max returns the highest sequence of a domain-ordered comparison: the
// total of sequences, to rank replicas by how much they received.
func (g GTIDSet) total() uint64 {
	var t uint64
	for _, s := range g {
		t += s
	}
	return t
}
