package session

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardgate/shardgate/proxy/backend"
)

// A lock cycle between transactions that spans two data hosts is a
// deadlock no server sees: each has a lock wait, none a cycle, so every
// statement in it waits innodb_lock_wait_timeout (50 s by default), where
// one MySQL answers one of them with error 1213 at once. BreakDeadlocks
// closes such cycles: it reads the lock waits of the hosts where
// statements have waited a second or more, maps the server threads to
// the sessions holding them, and in a cycle of sessions stops the
// statement that began last (the one that closed it; KILL QUERY ID stops
// that execution only). That session answers 1213 (exec.Client's
// Deadlocked) and rolls its transaction back on every host, as a server's
// deadlock does, and the others go on.

// commandSeq orders the sessions' commands as they arrive (busySeq): the
// one that began last in a cycle closed it.
var commandSeq atomic.Uint64

// lockWaitsWarned: when each server's lock waits last failed to read.
var lockWaitsWarned sync.Map

// threadKey is a server thread: its server's address and id.
type threadKey struct {
	addr string
	id   uint32
}

// heldThreads adds the server threads the session holds (its pinned
// connections: a transaction's; its running statement's) to owner, and
// the servers they are on to servers.
func (s *Session) heldThreads(owner map[threadKey]*Session, servers map[string]*backend.Server) {
	s.planMu.Lock()
	defer s.planMu.Unlock()
	add := func(c *backend.Conn) {
		if c == nil {
			return
		}
		srv := c.Server()
		owner[threadKey{srv.Addr, c.ThreadID}] = s
		servers[srv.Addr] = srv
	}
	for _, c := range s.pinned {
		add(c)
	}
	for _, c := range s.planConns {
		add(c)
	}
	add(s.active.Load())
}

// BreakDeadlocks breaks the deadlocks across data hosts among the
// registered sessions (see above); tick is the idle sweep's (one a
// second). It returns the sessions it stopped a statement of.
func BreakDeadlocks(ctx context.Context, reg *Registry, tick int64, log *slog.Logger) []uint32 {
	owner := map[threadKey]*Session{}
	servers := map[string]*backend.Server{}
	waiting := 0
	for _, s := range reg.All() {
		if since := s.busySince.Load(); since == 0 || tick-since < 1 {
			continue // a cycle's statements have all waited a while
		}
		waiting++
		s.heldThreads(owner, servers)
	}
	if waiting < 2 {
		return nil
	}
	// The sessions' waits: who waits for whom, on which server.
	type wait struct {
		blocker *Session
		srv     *backend.Server
		query   uint64
	}
	waits := map[*Session][]wait{}
	for addr, srv := range servers {
		lws, err := srv.LockWaits(ctx)
		if err != nil {
			if last, _ := lockWaitsWarned.Load(addr); last == nil || time.Since(last.(time.Time)) > time.Minute {
				lockWaitsWarned.Store(addr, time.Now()) // (once a minute a server: it may lack PROCESS)
				log.Warn("reading lock waits for deadlocks across hosts failed", "server", addr, "err", err)
			}
			continue
		}
		for _, lw := range lws {
			w, b := owner[threadKey{addr, lw.Waiting}], owner[threadKey{addr, lw.Blocking}]
			if w != nil && b != nil && w != b {
				waits[w] = append(waits[w], wait{blocker: b, srv: srv, query: lw.QueryID})
			}
		}
	}
	graph := map[*Session][]*Session{}
	for w, ws := range waits {
		for _, x := range ws {
			graph[w] = append(graph[w], x.blocker)
		}
	}
	// In each cycle across hosts (a server breaks its own), the statement
	// that began last is stopped.
	var stopped []uint32
	for _, cycle := range cyclesOf(graph) {
		var victim *Session
		var vw wait
		hosts := map[string]bool{}
		for _, m := range cycle {
			for _, w := range waits[m] {
				if slices.Contains(cycle, w.blocker) {
					hosts[w.srv.Addr] = true
				}
			}
		}
		if len(hosts) < 2 {
			continue
		}
		for _, m := range cycle {
			if m.deadlockVictim.Load() {
				victim = nil // broken already
				break
			}
			for _, w := range waits[m] {
				if slices.Contains(cycle, w.blocker) && (victim == nil || m.busySeq.Load() > victim.busySeq.Load()) {
					victim, vw = m, w
				}
			}
		}
		if victim == nil {
			continue
		}
		victim.deadlockVictim.Store(true)
		if err := vw.srv.KillQueryID(ctx, vw.query); err != nil {
			log.Warn("stopping a statement to break a deadlock across hosts failed", "session", victim.ID, "err", err)
			continue
		}
		log.Info("deadlock across data hosts: statement stopped", "session", victim.ID, "server", vw.srv.Addr, "sessions", len(cycle))
		stopped = append(stopped, victim.ID)
	}
	return stopped
}

// cyclesOf returns the cycles of a wait-for graph (depth first: a node
// met again on the path closes one): each cycle once at least, as the
// path around it.
func cyclesOf[K comparable](graph map[K][]K) [][]K {
	state := map[K]int{} // 1: on the path, 2: done
	var path []K
	var cycles [][]K
	var visit func(n K)
	visit = func(n K) {
		state[n] = 1
		path = append(path, n)
		for _, next := range graph[n] {
			switch state[next] {
			case 0:
				visit(next)
			case 1:
				cycles = append(cycles, slices.Clone(path[slices.Index(path, next):]))
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
	}
	for n := range graph {
		if state[n] == 0 {
			visit(n)
		}
	}
	return cycles
}
