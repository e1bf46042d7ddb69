package session

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
)

// How a session holds backend connections: a statement borrows one from the
// server's pool and gives it back when it ends, unless the connection now
// carries state only it has — an open transaction, SET TRANSACTION for the
// next one, or state the proxy cannot replay (locks, temporary tables, SQL
// PREPARE, an open cursor). Those keep the connection pinned to the session.

func (s *Session) variant() backend.Variant {
	if s.caps&mysql.CLIENT_FOUND_ROWS != 0 {
		return backend.FoundRows
	}
	return backend.Plain
}

// acquire returns the session's connection to srv: the pinned one, or one
// from the pool (preferably the one it had last).
func (s *Session) acquire(srv *backend.Server, flags parser.Flag) (*backend.Conn, error) {
	s.noteServer(srv) // statistics (observe.go)
	for _, c := range s.pinned {
		if c.Server() == srv {
			s.active.Store(c)
			if s.killed.Load() {
				s.active.Store(nil) // the session's end resets it
				return nil, errKilled
			}
			if flags&parser.FlagPrevResult != 0 && (s.prev.own || c != s.prev.conn) {
				s.active.Store(nil)
				if s.prev.own {
					return nil, errOwnAfter
				}
				return nil, unsupported("FOUND_ROWS()/ROW_COUNT() here: the statement runs on another connection than the previous one")
			}
			s.cur.used(c)
			return c, nil
		}
	}
	c, err := srv.Pool.Get(context.Background(), s.variant(), s.last, s.lastUses)
	if err != nil {
		return nil, err
	}
	if flags&parser.FlagPrevResult != 0 && s.prev.own {
		srv.Pool.Put(c)
		return nil, errOwnAfter
	}
	if flags&parser.FlagPrevResult != 0 && c != s.last {
		// FOUND_ROWS() and ROW_COUNT() describe the previous statement on
		// the same connection, which another session has used since.
		srv.Pool.Put(c)
		return nil, unsupported("FOUND_ROWS()/ROW_COUNT() here: the previous statement's backend connection was reused by another session (run both in one transaction)")
	}
	if s.tx.open || s.pinAll {
		// From its first statement on, a transaction has one connection
		// to the server: a plan's later routes there find this one.
		s.pin(c)
	}
	s.active.Store(c)
	s.cur.used(c)
	if s.killed.Load() {
		// Killed before Kill could see this connection: the statement
		// must not start. Broken, so that it is not pooled while Kill
		// may still be killing it.
		c.MarkBroken()
		s.release(c, nil, true)
		return nil, errKilled
	}
	return c, nil
}

// prepareConn replays the session's state onto the connection. A broken
// connection is reported as a backend failure (a read may be retried).
func (s *Session) prepareConn(c *backend.Conn, schema string, sum *parser.Summary) error {
	err := s.replayState(c, schema, sum)
	if err != nil && c.Broken() {
		return &exec.BackendError{Err: err}
	}
	return err
}

func (s *Session) replayState(c *backend.Conn, schema string, sum *parser.Summary) error {
	if err := c.Sync(s.wantState(schema)); err != nil {
		return err
	}
	if err := s.joinTransaction(c); err != nil {
		return err
	}
	if sum.Flags&parser.FlagLastInsertID != 0 && c.LastInsertID != s.lastInsertID {
		if _, err := c.Exec("SET @@SESSION.last_insert_id = " + strconv.FormatUint(s.lastInsertID, 10)); err != nil {
			return err
		}
		c.LastInsertID = s.lastInsertID
	}
	return nil
}

// wantState is the session's state with the given physical schema. The
// states of the last few schemas are kept: a connection whose state is
// the very one wanted needs no sync (a pointer comparison), and a session
// going from shard to shard (shop_0, shop_1...) makes none anew.
func (s *Session) wantState(schema string) *backend.State {
	if s.stCacheBase != s.vars {
		s.stCache, s.stCacheBase = [len(s.stCache)]*backend.State{}, s.vars
	}
	for _, st := range s.stCache {
		if st != nil && st.Schema == schema {
			return st
		}
	}
	st := s.vars.WithSchema(schema)
	s.stCache[s.stCacheNext] = st
	s.stCacheNext = (s.stCacheNext + 1) % len(s.stCache)
	return st
}

// release ends a statement's use of a connection: it stays pinned while
// it holds the session's transaction, a cursor or state only it has;
// else it goes back to the pool.
func (s *Session) release(c *backend.Conn, sum *parser.Summary, failed bool) {
	s.active.Store(nil)
	if c.Warnings != 0 {
		if !c.Broken() {
			s.collectWarnings(c)
		}
		c.Warnings = 0
	}
	c.RowNumbers, c.Earlier = nil, nil
	if c.Broken() {
		s.brokenOn = c.Server()
		s.unpin(c)
		if c.XA != "" || c.Status&mysql.SERVER_STATUS_IN_TRANS != 0 {
			// The transaction's part on that server died with it.
			s.txLost = c.Server().Host().Name
		}
		if c.Locked && s.locks != nil {
			s.locks.lost = c.Server().Host().Name
		}
		c.Server().Pool.Put(c)
		return
	}
	if sum != nil && sum.Flags&parser.FlagPin != 0 && !failed {
		s.pinAll = true
	}
	if s.pinAll || c == s.keep || c.Locked || c.AutocommitOff || c.XA != "" || c.Status&(mysql.SERVER_STATUS_IN_TRANS|mysql.SERVER_STATUS_CURSOR_EXISTS) != 0 {
		s.pin(c)
		return
	}
	s.unpin(c)
	s.last, s.lastUses = c, c.Uses()
	c.Server().Pool.Put(c)
}

// inTransaction reports whether the session has a transaction open, on
// the proxy's side (BEGIN not yet replayed) or on a backend.
func (s *Session) inTransaction() bool {
	if s.tx.open {
		return true
	}
	for _, c := range s.pinned {
		if c.Status&mysql.SERVER_STATUS_IN_TRANS != 0 {
			return true
		}
	}
	return false
}

// ClientStatus is the status a client sees: the last backend status with
// the transaction flags as the session knows them.
func (s *Session) ClientStatus() uint16 {
	st := s.status &^ (mysql.SERVER_STATUS_IN_TRANS | mysql.SERVER_MORE_RESULTS_EXISTS | mysql.SERVER_SESSION_STATE_CHANGED)
	if s.inTransaction() {
		st |= mysql.SERVER_STATUS_IN_TRANS
	}
	return st
}

// pin keeps c for the session (its transaction's, locks', ...). The
// deadlock breaker reads pinned under planMu: changes hold it.
func (s *Session) pin(c *backend.Conn) {
	for _, p := range s.pinned {
		if p == c {
			return
		}
	}
	s.planMu.Lock()
	s.pinned = append(s.pinned, c)
	s.planMu.Unlock()
}

func (s *Session) unpin(c *backend.Conn) {
	for i, p := range s.pinned {
		if p == c {
			s.planMu.Lock()
			s.pinned = append(s.pinned[:i], s.pinned[i+1:]...)
			s.planMu.Unlock()
			return
		}
	}
}

// unpinAll gives back every pinned connection; with reset, each is reset
// first (its transaction rolled back, its state dropped).
func (s *Session) unpinAll(reset bool) {
	if s.tx.gtrid != "" {
		s.env.XA.End(s.tx.gtrid)
	}
	// (Out of the list before any goes back to the pool and to another
	// session: the deadlock breaker maps threads to sessions by it.)
	s.planMu.Lock()
	held := s.pinned
	s.pinned = s.pinned[:0]
	s.planMu.Unlock()
	for _, c := range held {
		if c.XA != "" {
			// Closing rolls an unprepared branch back.
			c.XA = ""
			c.MarkBroken()
		} else if reset || s.pinAll || c.Locked || c.AutocommitOff || c.Status&mysql.SERVER_STATUS_IN_TRANS != 0 {
			if err := c.ResetSession(); err != nil {
				c.MarkBroken()
			}
		}
		c.Status = mysql.SERVER_STATUS_AUTOCOMMIT
		c.Locked, c.AutocommitOff = false, false
		c.Server().Pool.Put(c)
	}
	s.last = nil
	s.tx = txState{}
	s.locks, s.autocommitOff = nil, false
}

// beginTracking prepares to learn what a statement (sum, its text sql
// when it may be a SET) changes.
func (s *Session) beginTracking(sum *parser.Summary, sql string) {
	s.stateTouched = false
	s.unaccountedChange = false
	s.timeSet = timeNotSet
	if sum != nil && sum.Kind == parser.KindSet && sum.Second != "STATEMENT" && strings.Contains(strings.ToLower(sql), "timestamp") {
		s.timeSet = timeByClient
		if setsTimeDefault(sql) {
			s.timeSet = timeDefault
		}
	}
}

// What the statement being tracked does to @@timestamp (TrackOK).
const (
	timeNotSet   = iota // nothing
	timeByClient        // a client's SET fixes it (or may: a SET it reports)
	timeDefault         // SET timestamp = DEFAULT (or 0): the clock again
)

// setsTimeDefault reports a SET that gives timestamp its default (DEFAULT
// or 0), which MariaDB reports as the time of day.
func setsTimeDefault(sql string) bool {
	stmts, err := parser.Parse(sql)
	if err != nil {
		return false
	}
	for _, st := range stmts {
		set, ok := st.(*ast.SetStmt)
		if !ok {
			continue
		}
		for _, v := range set.Variables {
			if !v.IsSystem || v.IsGlobal || !strings.EqualFold(v.Name, "timestamp") {
				continue
			}
			switch x := v.Value.(type) {
			case *ast.DefaultExpr:
				return true
			case ast.ValueExpr:
				if n, ok := x.GetValue().(int64); ok && n == 0 {
					return true
				}
			}
		}
	}
	return false
}

// TrackOK implements exec.Tracker: OK packets tell the status, the insert
// id and every session variable the statement changed.
func (s *Session) TrackOK(c *backend.Conn, ok *wire.OK) {
	s.TrackStatus(ok.Status)
	if ok.LastInsertID != 0 {
		s.lastInsertID = ok.LastInsertID
		if c := s.active.Load(); c != nil {
			c.LastInsertID = ok.LastInsertID
		}
	}
	if len(ok.SessionState) == 0 {
		return
	}
	accounted, unfixTime := false, false
	charsetSeen, collationSeen := false, false
	var vars []backend.Var
	_ = wire.WalkSessionState(ok.SessionState, func(typ byte, data []byte) {
		switch typ {
		case wire.TrackSystemVariables:
			name, _, n := wire.ReadLenEncBytes(data)
			if n == 0 {
				return
			}
			val, _, m := wire.ReadLenEncBytes(data[n:])
			if m == 0 {
				return
			}
			accounted = true
			v := backend.Var{Name: strings.ToLower(string(name)), Value: string(val)}
			if s.inStatementVars(v.Name) {
				return
			}
			switch v.Name {
			case "last_insert_id", "identity":
				s.lastInsertID, _ = strconv.ParseUint(v.Value, 10, 64)
				if c := s.active.Load(); c != nil {
					c.LastInsertID = s.lastInsertID
				}
				return
			case "last_gtid":
				s.noteWrite(c, v.Value)
				return
			case "insert_id", "rand_seed1", "rand_seed2", "gtid_seq_no":
				// One-shot values: they apply to the next statement only.
				return
			case "timestamp":
				// MariaDB reports it after any statement that set it for
				// itself (SET STATEMENT, the proxy's too), and as the time
				// of day after SET timestamp = DEFAULT: only a client's SET
				// changes it, and DEFAULT unfixes it.
				switch s.timeSet {
				case timeNotSet:
					return
				case timeDefault:
					unfixTime = true
					return
				}
			case "character_set_connection":
				charsetSeen = true
			case "collation_connection":
				collationSeen = true
			}
			if strings.HasPrefix(v.Name, "session_track_") {
				return
			}
			vars = append(vars, v)
		case wire.TrackSchema:
			accounted = true
		case wire.TrackStateChange:
			s.unaccountedChange = true
		default:
			accounted = true
		}
	})
	if accounted {
		s.unaccountedChange = false
	}
	if charsetSeen && !collationSeen {
		// SET NAMES / character_set_connection reset the collation to the
		// charset's default, which the server does not report.
		cs := ""
		for _, v := range vars {
			if v.Name == "character_set_connection" {
				cs = v.Value
			}
		}
		if coll := s.defaultCollation(cs); coll != "" {
			vars = append(vars, backend.Var{Name: "collation_connection", Value: coll})
		}
	}
	if unfixTime {
		s.vars = s.vars.Without("timestamp")
		s.stateTouched = true
	}
	if len(vars) > 0 {
		s.vars = s.vars.With(false, vars...)
		s.stateTouched = true
		s.followTimeouts()
	}
}

func (s *Session) defaultCollation(charset string) string {
	info := s.env.Snap.Load().Info
	if info == nil {
		return ""
	}
	for _, co := range info.Collations {
		if co.Charset == charset && co.Default {
			return co.Name
		}
	}
	return ""
}

// TrackStatus implements exec.Tracker.
func (s *Session) TrackStatus(status uint16) {
	s.status = status &^ mysql.SERVER_SESSION_STATE_CHANGED
	if s.autocommitOff {
		s.status |= mysql.SERVER_STATUS_AUTOCOMMIT // (turned off by the proxy, not the client)
	}
}

// endTracking records what the statement changed: the connection now
// carries the session's new state; user variables it assigned are read
// back so another connection can be given them; a change the proxy cannot
// follow pins the connection.
func (s *Session) endTracking(c *backend.Conn, schema string, sum *parser.Summary, ok bool) {
	if c.Broken() {
		return
	}
	if ok && sum != nil && sum.Flags&parser.FlagUserVarAssign != 0 {
		if err := s.readUserVars(c, sum.UserVars); err != nil {
			s.pinAll = true
		}
		s.unaccountedChange = false
	}
	if ok && sum != nil && sum.Flags&parser.FlagLastInsertID != 0 && sum.Kind != parser.KindInsert && sum.Kind != parser.KindUpdate {
		// SELECT LAST_INSERT_ID(expr) sets the value without telling.
		s.cur.own = true
		_ = c.Query("SELECT LAST_INSERT_ID()", func(_ []wire.ColumnRef, v [][]byte) error {
			s.lastInsertID, _ = strconv.ParseUint(string(v[0]), 10, 64)
			c.LastInsertID = s.lastInsertID
			return nil
		}, nil)
	}
	if s.unaccountedChange {
		s.pinAll = true
	}
	if s.stateTouched || c.State != s.wantState(schema) {
		// The server applied the statement's changes itself.
		c.State = s.wantState(schema)
	}
}

// readUserVars reads the assigned user variables back as typed literals:
// each one's value, its bytes in hex and its collation, which a string's
// result metadata does not tell (it names the client's result charset,
// into which the value was converted).
func (s *Session) readUserVars(c *backend.Conn, names []string) error {
	s.cur.own = true // (FOUND_ROWS() and ROW_COUNT() now describe this read)
	var q strings.Builder
	q.WriteString("SELECT ")
	for i, n := range names {
		if i > 0 {
			q.WriteString(", ")
		}
		v := "@" + backend.QuoteIdent(n)
		q.WriteString(v + ", HEX(" + v + "), COLLATION(" + v + ")")
	}
	var vars []backend.Var
	err := c.Query(q.String(), func(cols []wire.ColumnRef, v [][]byte) error {
		if len(v) != 3*len(names) || len(cols) != len(v) {
			return fmt.Errorf("reading user variables back: %d columns for %d variables", len(v), len(names))
		}
		for i, n := range names {
			// Names may point into the client's read buffer: copy them.
			vars = append(vars, backend.Var{Name: strings.Clone(n), Value: s.userVarLiteral(&cols[3*i], v[3*i], v[3*i+1], string(v[3*i+2]))})
		}
		return nil
	}, nil)
	if err != nil {
		return err
	}
	s.vars = s.vars.With(true, vars...)
	c.State = c.State.With(true, vars...)
	return nil
}

// userVarLiteral renders a user variable's value so that assigning it gives
// the same type: integer, decimal, double, or a string with its bytes
// (hex) and collation.
func (s *Session) userVarLiteral(col *wire.ColumnRef, v, hex []byte, collation string) string {
	if v == nil {
		return "NULL"
	}
	if lit, ok := router.NumberLiteral(col.Type, v); ok {
		return lit
	}
	lit := "X'" + string(hex) + "'"
	if collation == "binary" || collation == "" {
		return lit
	}
	return "_" + charsetOf(collation) + " " + lit + " COLLATE " + collation
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// charsetOnly keeps just the charset variables of a state.
func charsetOnly(st *backend.State) *backend.State {
	out := &backend.State{}
	for _, v := range st.Vars {
		switch v.Name {
		case "character_set_client", "character_set_connection", "character_set_results", "collation_connection":
			out.Vars = append(out.Vars, v)
		}
	}
	return out
}
