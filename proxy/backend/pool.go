package backend

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Pool holds the connections to one server, with an explicit limit. Idle
// connections are reused last-in first-out (warm caches, and the rest can
// time out); a statement that finds the pool exhausted waits its turn.
type Pool struct {
	srv *Server

	mu      sync.Mutex
	idle    [numVariants][]*Conn
	open    int // idle + in use + being dialed
	waiters []*waiter
	closed  bool
	gen     uint64 // bumped by Drain: older connections are closed when returned
	stop    chan struct{}
}

type waiter struct {
	variant Variant
	ch      chan *Conn // a connection, or nil: "a slot is free, dial"
}

func newPool(srv *Server) *Pool {
	p := &Pool{srv: srv, stop: make(chan struct{})}
	go p.janitor()
	return p
}

func (p *Pool) limits() (max, maxIdle int, wait time.Duration) {
	pc := p.srv.host.cfg.Pool
	return pc.Max, pc.MaxIdle, pc.WaitTimeout
}

// Get returns a connection of the given variant. prefer, if still idle and
// not handed to anyone since the caller had it (its use count is uses),
// is returned first: a session keeps its connection when nobody else needs
// it, which keeps LAST_INSERT_ID(), FOUND_ROWS() and statement caches warm.
func (p *Pool) Get(ctx context.Context, v Variant, prefer *Conn, uses uint64) (*Conn, error) {
	for {
		c, idle, err := p.get(ctx, v, prefer, uses)
		if err != nil || !idle || time.Since(c.idleAt) < checkIdleAfter || c.Quiet() {
			return c, err
		}
		// The server closed it while it sat idle (a restart, wait_timeout,
		// a KILL): nothing was sent on it, so another serves as well, where
		// the client's statement would have failed on it.
		c.Close()
		p.release()
		prefer = nil
	}
}

// checkIdleAfter: a connection idle that long is looked at (one system
// call) before it is handed out. Sooner, its server would have to be back
// from a restart within that time.
const checkIdleAfter = time.Second

// get is Get without the look at an idle connection; idle says c was one.
func (p *Pool) get(ctx context.Context, v Variant, prefer *Conn, uses uint64) (c *Conn, idle bool, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, p.errClosed()
	}
	list := p.idle[v]
	if prefer != nil && prefer.srv == p.srv && prefer.inIdle && prefer.uses == uses && prefer.variant == v {
		for i := len(list) - 1; i >= 0; i-- {
			if list[i] == prefer {
				copy(list[i:], list[i+1:])
				p.idle[v] = list[:len(list)-1]
				return p.handOut(prefer), true, nil
			}
		}
	}
	if n := len(list); n > 0 {
		c := list[n-1]
		list[n-1] = nil
		p.idle[v] = list[:n-1]
		return p.handOut(c), true, nil
	}
	max, _, wait := p.limits()
	if p.open < max {
		p.open++
		p.mu.Unlock()
		c, err := p.dial(ctx, v)
		return c, false, err
	}
	// Full: an idle connection of the other variant can make room.
	if o := p.idle[1-v]; len(o) > 0 {
		c := o[0]
		copy(o, o[1:])
		p.idle[1-v] = o[:len(o)-1]
		p.mu.Unlock()
		c.inIdle = false
		c.Close()
		c, err := p.dial(ctx, v)
		return c, false, err
	}
	w := &waiter{variant: v, ch: make(chan *Conn, 1)}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()

	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case c := <-w.ch:
		if c == nil {
			c, err := p.dial(ctx, v)
			return c, false, err
		}
		return c, false, nil
	case <-t.C:
	case <-ctx.Done():
	}
	// Gave up; a connection may have been handed over meanwhile.
	p.mu.Lock()
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	select {
	case c := <-w.ch:
		if c == nil {
			p.release()
		} else {
			p.Put(c)
		}
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	return nil, false, mysql.NewError(mysql.ER_CON_COUNT_ERROR, fmt.Sprintf(
		"shardgate: no free connection to %s within %v (pool max %d)", p.srv, wait, max))
}

// handOut is called with p.mu held and releases it.
func (p *Pool) handOut(c *Conn) *Conn {
	c.inIdle = false
	c.uses++
	c.released = false
	p.mu.Unlock()
	return c
}

func (p *Pool) dial(ctx context.Context, v Variant) (*Conn, error) {
	p.mu.Lock()
	gen := p.gen
	p.mu.Unlock()
	c, err := dial(ctx, p.srv, v)
	if err != nil {
		p.release()
		p.srv.noteDialError(err)
		return nil, &DialError{Server: p.srv, Err: err}
	}
	c.uses = 1
	c.gen = gen
	return c, nil
}

// DialError is a failure to connect: nothing was sent, so the statement
// may run elsewhere, or later.
type DialError struct {
	Server *Server
	Err    error
}

func (e *DialError) Error() string { return fmt.Sprintf("cannot connect to %s: %v", e.Server, e.Err) }

func (e *DialError) Unwrap() error { return e.Err }

// release gives up one slot (a connection closed or never dialed) and lets
// a waiter dial in its place.
func (p *Pool) release() {
	p.mu.Lock()
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		p.mu.Unlock()
		w.ch <- nil
		return
	}
	p.open--
	p.mu.Unlock()
}

// Put returns a connection. Broken connections are closed.
func (p *Pool) Put(c *Conn) {
	if c.released {
		panic("backend: connection returned twice")
	}
	c.released = true
	if (c.ResetBeforeReuse || c.Locked || c.AutocommitOff) && !c.broken {
		c.ResetBeforeReuse, c.Locked, c.AutocommitOff = false, false, false
		if err := c.ResetSession(); err != nil {
			c.broken = true
		}
	}
	if c.broken {
		c.Close()
		p.release()
		return
	}
	c.ShrinkBuffers()
	p.mu.Lock()
	if c.gen != p.gen {
		p.mu.Unlock()
		c.Close()
		p.release()
		return
	}
	for i, w := range p.waiters {
		if w.variant == c.variant {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			c.uses++
			c.released = false
			p.mu.Unlock()
			w.ch <- c
			return
		}
	}
	_, maxIdle, _ := p.limits()
	if p.closed || len(p.waiters) > 0 || len(p.idle[c.variant]) >= maxIdle {
		// Close it; a waiter of the other variant dials in its place.
		p.mu.Unlock()
		c.Close()
		p.release()
		return
	}
	c.inIdle = true
	c.idleAt = time.Now()
	p.idle[c.variant] = append(p.idle[c.variant], c)
	p.mu.Unlock()
}

// Stats reports open and idle connection counts.
func (p *Pool) Stats() (open, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.idle {
		idle += len(l)
	}
	return p.open, idle
}

// janitor closes connections idle for longer than idle_timeout.
func (p *Pool) janitor() {
	t := time.NewTicker(time.Second * 15)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		timeout := p.srv.host.cfg.Pool.IdleTimeout
		minIdle := p.srv.host.cfg.Pool.MinIdle
		var old []*Conn
		p.mu.Lock()
		for v := range p.idle {
			list := p.idle[v]
			// Oldest are at the front.
			k := 0
			for k < len(list) && len(list)-k > minIdle && time.Since(list[k].idleAt) > timeout {
				list[k].inIdle = false
				old = append(old, list[k])
				k++
			}
			p.idle[v] = append(list[:0], list[k:]...)
		}
		p.open -= len(old)
		p.mu.Unlock()
		for _, c := range old {
			c.Close()
		}
	}
}

// Drain closes the idle connections and those in use when they come
// back: after a failover no session keeps talking to a server in its old role.
func (p *Pool) Drain() {
	p.mu.Lock()
	p.gen++
	p.closeIdle()
}

// closeIdle closes every idle connection; it is called with p.mu held and
// releases it.
func (p *Pool) closeIdle() {
	var all []*Conn
	for v := range p.idle {
		all = append(all, p.idle[v]...)
		p.idle[v] = nil
	}
	p.open -= len(all)
	p.mu.Unlock()
	for _, c := range all {
		c.inIdle = false
		c.Close()
	}
}

// Close closes idle connections and refuses new ones; connections in use
// are closed when returned.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.stop)
	p.closeIdle()
}

func (p *Pool) errClosed() error {
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf("shardgate: %s is shut down", p.srv))
}
