package backend

import (
	"fmt"
	"time"
)

// What the admin console needs of servers beyond the health checks: taking
// a replica out of service and back, and accessors to show a server's state.

// RoleOffline is a replica an operator took out of service: it gets no
// statements (only replicas in role replica serve reads, and it is no
// candidate for a switch) and its pool is drained; its checks go on, so
// its lag stays visible.
const RoleOffline Role = "offline"

// SetOffline takes a replica out of service, or puts it back. The primary
// cannot be taken offline (switch it first); a fenced former primary cannot
// be put back this way (it must be rebuilt as a replica first).
func (s *Server) SetOffline(off bool) error {
	h := s.host
	if h.switchRunning() {
		return fmt.Errorf("data host %s is switching its primary; try again when it is done", h.Name)
	}
	switch r := s.Role(); {
	case off && r == RolePrimary:
		return fmt.Errorf("%s is the primary of %s: switch the primary to another server first (SWITCH PRIMARY)", s.Addr, h.Name)
	case off && r == RoleFenced:
		return fmt.Errorf("%s is a fenced former primary of %s: it serves nothing already", s.Addr, h.Name)
	case off && r == RoleReplica:
		s.setRole(RoleOffline)
		s.Pool.Drain()
	case !off && r == RoleFenced:
		return fmt.Errorf("%s is a fenced former primary of %s: make it a replica of %s again before putting it online", s.Addr, h.Name, h.Primary().Addr)
	case !off && r == RoleOffline:
		s.setRole(RoleReplica)
	}
	return nil
}

// Offline reports whether an operator took the server out of service.
func (s *Server) Offline() bool { return s.Role() == RoleOffline }

// CheckedAt is when the server last passed its health check (zero: never).
func (s *Server) CheckedAt() time.Time {
	if n := s.checkedAt.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// Server returns the data host's server at addr, nil if it has none.
func (h *DataHost) Server(addr string) *Server {
	for _, s := range h.servers {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// Switching reports whether a switch of primary is running.
func (h *DataHost) Switching() bool { return h.switchRunning() }

// Max is the pool's connection limit.
func (p *Pool) Max() int {
	m, _, _ := p.limits()
	return m
}

// IdleConn describes an idle pooled connection.
type IdleConn struct {
	ThreadID uint32
	Since    time.Time
}

// Idle lists the pool's idle connections.
func (p *Pool) Idle() []IdleConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []IdleConn
	for _, l := range p.idle {
		for _, c := range l {
			out = append(out, IdleConn{ThreadID: c.ThreadID, Since: c.idleAt})
		}
	}
	return out
}
