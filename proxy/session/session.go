// Package session holds one client's state and answers its commands: it
// classifies each statement, picks the backend connection that serves it
// (pinned while a transaction or untrackable state needs it), replays the
// session's state onto that connection, and relays the result.
package session

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/sequence"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/proxy/xa"
)

// Authenticator re-checks credentials for COM_CHANGE_USER; the server
// implements it.
type Authenticator interface {
	ChangeUser(s *Session, payload []byte) (*conf.User, string, uint16, error)
}

// Session is one client connection's state.
type Session struct {
	ID   uint32
	c    *wire.Conn
	cli  exec.Client
	caps uint32
	host string
	log  *slog.Logger
	// scramble is the greeting's challenge, reused by COM_CHANGE_USER.
	scramble []byte
	env      *Env

	mu     sync.Mutex // guards user, schema, query for observers (KILL, admin)
	user   *conf.User
	schema string // logical schema, "" if none
	query  []byte // the running statement, copied (the read buffer is reused)
	since  time.Time

	// vars is the session's state without schema; per-node states derive
	// from it (see wantState).
	vars            *backend.State
	stCache         [4]*backend.State // vars with a physical schema each (see wantState)
	stCacheBase     *backend.State    // the vars stCache was made of
	stCacheNext     int               // the entry to replace next
	modeCache       modeCache         // see mode
	multiStatements bool
	status          uint16 // server status flags of the last backend response
	lastInsertID    uint64
	diag            diagnostics        // the last statement's messages (diagnostics.go)
	written         map[string]written // data host -> the session's last write there
	pinAll          bool               // untrackable state: keep every connection for good
	txLost          string             // the host whose part of the open transaction died with its connection
	tx              txState
	txNextUsed      bool // a pending SET TRANSACTION went to this statement
	pinned          []*backend.Conn
	locks           *tableLocks   // LOCK TABLES in a sharded schema (locks.go)
	keep            *backend.Conn // held across the proxy's own statements (describe)
	autocommitOff   bool          // a transaction under those locks turned autocommit off (joinTransaction)
	last            *backend.Conn // affinity: the connection used last
	lastUses        uint64
	// In a sharded schema, the statement in progress (cur) and the one
	// before it (prev): FOUND_ROWS() and ROW_COUNT() (prevresult.go).
	cur, prev stmtUse
	active    atomic.Pointer[backend.Conn]
	// planConns are the connections a running plan holds (one a shard):
	// KILL QUERY stops the statement on each (planMu guards them).
	planMu    sync.Mutex
	planConns []*backend.Conn
	killed    atomic.Bool
	// idleSince is the idle sweep's tick (one a second, from 1) at which
	// the session began waiting for the client's next command, 0 while it
	// answers one, timedOut once the sweep has ended it; idleLimit is its
	// wait_timeout in seconds.
	idleSince         atomic.Int64
	busySince         atomic.Int64  // the sweep's tick at which the running command arrived, 0 while idle
	busySeq           atomic.Uint64 // ...and its place among all sessions' commands (commandSeq)
	deadlockVictim    atomic.Bool   // BreakDeadlocks stopped its waiting statement (deadlock.go)
	idleLimit         atomic.Int64
	stmts             map[uint32]*stmt
	nextStmt          uint32
	lastPrepared      uint32
	sum               parser.Summary
	execBuf           []byte
	idBuf             []uint64        // generated ids of the running INSERT
	tpl               templateState   // plan cache buffers
	mark              wire.Mark       // where the running statement's answer starts
	brokenOn          *backend.Server // server of the last connection that broke
	planSum           *parser.Summary // the statement a plan runs for (exec.Conns calls)
	planWrite         bool            // ...and whether it writes
	stateTouched      bool            // the running statement changed tracked state
	unaccountedChange bool            // ...in a way the server did not describe
	timeSet           int             // ...to @@timestamp (beginTracking)
	stmtTime          time.Time       // the time of a statement run in parts (statementTime)
	stmtVarNames      []string        // the variables of a client's SET STATEMENT running (setStatement)
	obs               observation     // the running statement, for statistics (observe.go)
	fps               fingerprintMemo // its fingerprint, when the plan cache saw it (observe.go)
	// precheck: a statement is only being planned (see precheck); the
	// ways around a refusal inside it read nothing.
	precheck bool
}

// Env is what every session shares.
type Env struct {
	Snap      *snapshot.Holder
	Registry  *Registry
	Auth      Authenticator
	Log       *slog.Logger
	Started   time.Time
	XA        *xa.Coordinator     // distributed commits; nil: transactions stay local
	Seqs      *sequence.Sequences // ids the proxy generates; nil: none
	Questions atomic.Uint64
	columns   columnCache
}

// New makes a session for an authenticated client.
func New(env *Env, id uint32, c *wire.Conn, caps uint32, user *conf.User, host, schema string, collation uint16) *Session {
	s := &Session{
		ID:              id,
		c:               c,
		caps:            caps,
		host:            host,
		env:             env,
		log:             env.Log,
		user:            user,
		schema:          schema,
		since:           time.Now(),
		multiStatements: caps&mysql.CLIENT_MULTI_STATEMENTS != 0,
		status:          mysql.SERVER_STATUS_AUTOCOMMIT,
		stmts:           map[uint32]*stmt{},
	}
	s.cli = exec.Client{
		Conn:         c,
		DeprecateEOF: caps&mysql.CLIENT_DEPRECATE_EOF != 0,
		SessionTrack: caps&mysql.CLIENT_SESSION_TRACK != 0,
		LocalFiles:   caps&mysql.CLIENT_LOCAL_FILES != 0,
		Deadlocked:   s.deadlockVictim.Load,
	}
	s.vars = s.loginState(collation)
	if info := env.Snap.Load().Info; info != nil {
		s.cli.Pad = info.Pad
	}
	s.followTimeouts()
	return s
}

// followTimeouts sets, as a server does, how long an answer may wait for
// the client to read it (net_write_timeout) and how long the client may
// stay idle between commands (wait_timeout): the session's value, else the
// servers' default, else MariaDB's. A server drops a client past either;
// through the proxy such a client held its session and its connections (a
// transaction's locks) until TCP gave up.
func (s *Session) followTimeouts() {
	write, wait := 60, 28800
	if info := s.env.Snap.Load().Info; info != nil {
		write = cmp.Or(info.NetWriteTimeout, write)
		wait = cmp.Or(info.WaitTimeout, wait)
	}
	s.c.WriteTimeout = time.Duration(s.secondsVar("net_write_timeout", write)) * time.Second
	s.idleLimit.Store(int64(s.secondsVar("wait_timeout", wait)))
}

// secondsVar is a session variable counting seconds, or def if the
// session has not set it.
func (s *Session) secondsVar(name string, def int) int {
	if v, ok := s.vars.Var(name); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return def
}

// timedOut marks a session whose client stayed idle past wait_timeout.
const timedOut = -1

// Idle records that the session waits for its client's next command
// since the sweep's tick (a counter, not a clock: no time is read per
// command).
func (s *Session) Idle(tick int64) {
	s.busySince.Store(0)
	s.idleSince.Store(tick)
}

// Busy records that a command arrived at the sweep's tick; false if the
// idle sweep ended the session first (its client then loses the
// connection, as on a server).
func (s *Session) Busy(tick int64) bool {
	s.busySince.Store(tick)
	s.busySeq.Store(commandSeq.Add(1))
	s.deadlockVictim.Store(false)
	return s.idleSince.Swap(0) != timedOut
}

// IdleTooLong ends the wait of a session idle past its wait_timeout at
// the sweep's tick and reports whether it did; the caller wakes its read.
// The wait began between tick since and the next one: from tick
// since+limit+1 on it has lasted more than limit seconds, never less.
func (s *Session) IdleTooLong(tick int64) bool {
	since := s.idleSince.Load()
	if since <= 0 || tick-since <= s.idleLimit.Load() {
		return false
	}
	return s.idleSince.CompareAndSwap(since, timedOut)
}

// loginState is a session's state after login: its charset and, for an
// interactive client, wait_timeout = interactive_timeout where the two
// defaults differ, as a server sets it (and the session's backends with
// it, or they would drop an idle transaction the server would keep).
func (s *Session) loginState(collation uint16) *backend.State {
	st := s.charsetState(collation)
	if info := s.env.Snap.Load().Info; s.caps&mysql.CLIENT_INTERACTIVE != 0 && info != nil && info.InteractiveTimeout > 0 && info.InteractiveTimeout != info.WaitTimeout {
		st = st.With(false, backend.Var{Name: "wait_timeout", Value: strconv.Itoa(info.InteractiveTimeout)})
	}
	return st
}

// charsetState is the initial state for a handshake collation id.
func (s *Session) charsetState(id uint16) *backend.State {
	info := s.env.Snap.Load().Info
	if info != nil {
		co, ok := info.Collations[id]
		if !ok {
			co = info.Collations[info.DefaultCollation]
		}
		if co.Name != "" {
			return backend.CharsetState(co.Charset, co.Name)
		}
	}
	return backend.InitialState()
}

// User returns the session's user.
func (s *Session) User() *conf.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user
}

// Info describes the session for KILL and the admin console.
type Info struct {
	ID     uint32
	User   string
	Host   string
	Schema string
	Query  string
	Since  time.Time
}

// Info returns a description of the session.
func (s *Session) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Info{ID: s.ID, User: s.user.Name, Host: s.host, Schema: s.schema, Query: string(s.query), Since: s.since}
}

// maxShownQuery bounds the statement text kept for observers.
const maxShownQuery = 4096

func (s *Session) setQuery(q string) {
	s.mu.Lock()
	s.query = append(s.query[:0], q[:min(len(q), maxShownQuery)]...)
	s.since = time.Now()
	s.mu.Unlock()
}

// Close releases the session's backend connections; pinned ones are reset
// first so nothing of this client leaks to the next.
func (s *Session) Close() {
	s.unpinAll(true)
	s.env.Registry.Remove(s.ID)
}

// Kill kills the running query on its backend (query=true), or the whole
// session: the client connection is closed and its backend connections
// killed. KILL QUERY is lost on a server thread that has not yet read the
// statement just sent to it; KILL CONNECTION is not, so a killed session
// never waits for its statement to end.
func (s *Session) Kill(query bool) {
	if !query {
		s.killed.Store(true)
	}
	// Held while killing, so that no connection goes back to the pool,
	// and to another session's statement, before its kill.
	s.planMu.Lock()
	conns := s.planConns
	if be := s.active.Load(); be != nil && !slices.Contains(conns, be) {
		conns = append(conns[:len(conns):len(conns)], be)
	}
	for _, be := range conns {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := be.Kill(ctx, query); err != nil {
			s.log.Warn("kill on backend failed", "session", s.ID, "err", err)
		}
		cancel()
	}
	s.planMu.Unlock()
	if !query {
		_ = s.c.Close()
	}
}

// Registry finds sessions by id.
type Registry struct {
	mu sync.RWMutex
	m  map[uint32]*Session
}

// NewRegistry makes an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[uint32]*Session{}} }

// Add registers a session.
func (r *Registry) Add(s *Session) {
	r.mu.Lock()
	r.m[s.ID] = s
	r.mu.Unlock()
}

// Remove forgets a session.
func (r *Registry) Remove(id uint32) {
	r.mu.Lock()
	delete(r.m, id)
	r.mu.Unlock()
}

// Get returns a session or nil.
func (r *Registry) Get(id uint32) *Session {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.m[id]
}

// Count returns how many sessions are registered.
func (r *Registry) Count() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.m)
}

// All returns every session.
func (r *Registry) All() []*Session {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Session, 0, len(r.m))
	for _, s := range r.m {
		out = append(out, s)
	}
	return out
}

// writeErr sends an ERR packet and flushes: an error ends a
// multi-statement query too.
func (s *Session) writeErr(e *mysql.MyError) error {
	e.Message = s.cli.Names.Message(e.Message)
	s.diag.addError(e)
	var buf [256]byte
	s.c.WritePacket(wire.AppendErr(buf[:0], e))
	s.cli.MoreResults = false
	return s.c.Flush()
}

// writeOK sends an OK packet with the session's status.
func (s *Session) writeOK(affected, insertID uint64, info string) error {
	return s.sendOK(wire.OK{AffectedRows: affected, LastInsertID: insertID, Info: []byte(info)})
}

// sendOK sends an OK packet with the session's status and flushes.
func (s *Session) sendOK(ok wire.OK) error {
	ok.Status = s.ClientStatus()
	if s.cli.MoreResults {
		ok.Status |= mysql.SERVER_MORE_RESULTS_EXISTS
	}
	var buf [128]byte
	s.c.WritePacket(wire.AppendOK(buf[:0], wire.OKHeader, &ok, s.cli.SessionTrack))
	return s.flush()
}

func errf(code uint16, msg string) *mysql.MyError { return mysql.NewError(code, msg) }

// unsupported is the error for what shardgate refuses rather than answer wrongly.
func unsupported(what string) *mysql.MyError {
	return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support "+what)
}
