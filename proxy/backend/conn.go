// Package backend owns the MySQL/MariaDB servers behind the proxy: data
// hosts and their servers, a connection pool per server, and the backend
// connections themselves (dialed with go-mysql's client, then driven through
// shardgate's own packet layer so results can be relayed as raw bytes).
package backend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

// Capabilities every backend connection has. CLIENT_DEPRECATE_EOF is off on
// purpose: EOF-terminated results are simpler to convert for either kind of
// client. CLIENT_SESSION_TRACK lets the proxy learn every session variable a
// statement changed from the OK packet instead of parsing SET statements.
var backendCaps = []uint32{
	mysql.CLIENT_MULTI_STATEMENTS, mysql.CLIENT_MULTI_RESULTS, mysql.CLIENT_PS_MULTI_RESULTS,
	mysql.CLIENT_LOCAL_FILES, mysql.CLIENT_SESSION_TRACK,
}

// Variant is the part of a backend connection fixed at handshake that
// clients can choose: CLIENT_FOUND_ROWS changes what UPDATE reports.
type Variant uint8

const (
	Plain Variant = iota
	FoundRows
	numVariants
)

// Collation backends are dialed with; session charsets are set over it.
const dialCollation = "utf8mb4_general_ci"

// Conn is one connection to a backend server.
type Conn struct {
	*wire.Conn
	srv      *Server
	variant  Variant
	ThreadID uint32

	// State is what this connection's session looks like on the server.
	State *State

	// LastInsertID as LAST_INSERT_ID() would return it here.
	LastInsertID uint64

	// ResetBeforeReuse asks the pool to reset the session before another
	// client gets the connection (it may carry a pending SET TRANSACTION).
	ResetBeforeReuse bool

	// Locked: the connection holds its session's LOCK TABLES; it stays
	// pinned to the session until UNLOCK TABLES. AutocommitOff: the proxy
	// turned autocommit off here to run a transaction under those locks
	// (START TRANSACTION would release them, and XA START is refused
	// while they are held), to be turned on again at its end.
	Locked, AutocommitOff bool

	// Status is the server status of the last response read here
	// (SERVER_STATUS_IN_TRANS tells an open transaction).
	Status uint16

	// Warnings adds up the warnings the client's statements left here
	// since the connection was handed out: the session reads them with
	// SHOW WARNINGS before the pool takes it back.
	Warnings uint32

	// XA is the id of the XA branch this connection runs ("" if none);
	// XAWrote says a write ran in it (a branch that only read needs no
	// prepare).
	XA      string
	XAWrote bool

	// RowNumbers are the client's numbers of the rows of the last
	// statement run here, when it holds part of a split INSERT: its
	// warnings say "at row N" of the statement the server saw.
	RowNumbers []int
	// Earlier are the warnings of the statements before the last one of
	// a batch run here (SHOW WARNINGS shows the last one's).
	Earlier []Warning

	// Stmts maps SQL text to the statement prepared for it here.
	Stmts map[string]*Stmt

	// pending holds the statements queued by ExecAhead and not sent yet,
	// each followed by "; "; pendingN counts them. ahead counts those sent
	// whose answers come before the command's own. failed, when set, is the
	// ERR packet that answers the next command in its place: the queued
	// statements failed, so the command was not sent.
	pending  string
	pendingN int
	ahead    int
	failed   []byte

	uses     uint64 // times handed out, to detect reuse by another session
	idleAt   time.Time
	gen      uint64 // the pool's generation when dialed
	inIdle   bool
	broken   bool
	released bool
}

// Stmt is a statement prepared on one backend connection.
type Stmt struct {
	ID      uint32
	Params  int
	Columns int
}

// Server returns the server this connection belongs to.
func (c *Conn) Server() *Server { return c.srv }

// Uses counts how often the connection was handed out.
func (c *Conn) Uses() uint64 { return c.uses }

// Warning is a row of SHOW WARNINGS.
type Warning struct {
	Level   string
	Code    uint16
	Message string
}

// Variant tells whether the connection counts found rows (CLIENT_FOUND_ROWS).
func (c *Conn) Variant() Variant { return c.variant }

// MarkBroken makes the pool close the connection instead of reusing it.
func (c *Conn) MarkBroken() { c.broken = true }

// Broken reports whether the connection must not be reused.
func (c *Conn) Broken() bool { return c.broken }

func dial(ctx context.Context, srv *Server, v Variant) (*Conn, error) {
	h := srv.host
	d := net.Dialer{Timeout: h.cfg.Pool.ConnectTimeout, KeepAlive: 30 * time.Second}
	opts := []client.Option{func(c *client.Conn) error {
		for _, cp := range backendCaps {
			if err := c.SetCapability(cp); err != nil {
				return err
			}
		}
		if v == FoundRows {
			if err := c.SetCapability(mysql.CLIENT_FOUND_ROWS); err != nil {
				return err
			}
		}
		c.UnsetCapability(mysql.CLIENT_DEPRECATE_EOF)
		c.UnsetCapability(mysql.CLIENT_QUERY_ATTRIBUTES)
		c.SetAttributes(map[string]string{"program_name": "shardgate"})
		if h.cfg.TLS {
			c.SetTLSConfig(&tls.Config{InsecureSkipVerify: true})
		}
		return c.SetCollation(dialCollation)
	}}
	if deadline, ok := ctx.Deadline(); ok {
		d.Deadline = deadline
	}
	gc, err := client.ConnectWithDialer(ctx, "tcp", srv.Addr, h.cfg.User, h.cfg.Password, "", d.DialContext, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", srv.Addr, unwrapMy(err))
	}
	c := &Conn{
		Conn:     wire.NewConn(gc.Conn.Conn),
		srv:      srv,
		variant:  v,
		ThreadID: gc.GetConnectionID(),
		State:    InitialState(),
	}
	if tcp, ok := gc.Conn.Conn.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true)
	}
	if _, err := c.Exec(sessionSetup); err != nil {
		c.Close()
		return nil, fmt.Errorf("set up session on %s: %w", srv.Addr, err)
	}
	return c, nil
}

// sessionSetup makes the server report every session change in OK packets.
const sessionSetup = "SET SESSION session_track_system_variables='*', session_track_schema=ON, session_track_state_change=ON"

func unwrapMy(err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return me
	}
	return err
}

// Exec runs an internal statement and returns its final OK packet; result
// rows, if any, are read and dropped. A server error is a *mysql.MyError.
func (c *Conn) Exec(sql string) (wire.OK, error) {
	var ok wire.OK
	err := c.Query(sql, nil, func(o *wire.OK) { ok = *o })
	return ok, err
}

// ExecAhead queues internal statements (a transaction's start) to go out
// with the next command, saving a round trip. A query carries them at the
// head of its own packet, as one multi-statement: the server runs nothing
// after a statement that fails, so the query never runs without them. Any
// other command waits for them to run first, on their own (settleBefore). Their
// answers are read first, by ReadPacket; if one fails, the connection is
// marked broken and that error answers the command.
func (c *Conn) ExecAhead(stmts ...string) {
	for _, s := range stmts {
		c.pending += s + "; "
	}
	c.pendingN += len(stmts)
}

// takePending returns the queued statements as the head of a query packet
// and expects their answers before the query's.
func (c *Conn) takePending() string {
	head := c.pending
	c.ahead += c.pendingN
	c.pending, c.pendingN = "", 0
	return head
}

// settleBefore runs the statements queued by ExecAhead on their own
// before a command that cannot carry them (any but a query). On a server
// error the connection is broken and that error becomes the command's
// answer (read by ReadPacket); skip says not to send the command.
func (c *Conn) settleBefore(cmd byte) (skip bool, err error) {
	if c.pending == "" || cmd == mysql.COM_QUERY {
		return false, nil
	}
	sql := c.pending[:len(c.pending)-2]
	c.pending, c.pendingN = "", 0
	ok, err := c.Exec(sql)
	if err != nil {
		c.broken = true
		if me, isServer := err.(*mysql.MyError); isServer {
			c.failed = wire.AppendErr(nil, me)
			return true, nil
		}
		return true, err
	}
	c.Status = ok.Status
	return false, nil
}

// Settle runs the statements ExecAhead queued now, on their own: before
// a query that cannot carry them (LOAD DATA LOCAL INFILE, whose answer is
// a request for a file). A server's error is a *mysql.MyError, and the
// connection is broken.
func (c *Conn) Settle() error {
	skip, err := c.settleBefore(mysql.COM_PING)
	if skip && err == nil && c.failed != nil {
		err = wire.ParseErr(c.failed)
		c.failed = nil
	}
	return err
}

// ReadPacket reads the next packet of the current command's answer, after
// the answers to statements queued by ExecAhead.
func (c *Conn) ReadPacket() ([]byte, error) {
	if c.failed != nil {
		p := c.failed
		c.failed = nil
		return p, nil
	}
	for c.ahead > 0 {
		c.ahead--
		p, err := c.Conn.ReadPacket()
		if err == nil && len(p) == 0 {
			err = wire.ErrMalformed
		}
		if err != nil {
			c.broken, c.ahead = true, 0
			return nil, err
		}
		if p[0] != wire.OKHeader {
			// The server ran nothing after it: this answers the command.
			c.broken, c.ahead = true, 0
			return p, nil
		}
		ok, err := wire.ParseOK(p, true)
		if err != nil {
			c.broken, c.ahead = true, 0
			return nil, err
		}
		c.Status = ok.Status &^ mysql.SERVER_MORE_RESULTS_EXISTS
	}
	return c.Conn.ReadPacket()
}

// Query runs an internal statement (or several) and calls row for each
// text-protocol row (values nil for NULL), and okFn for each OK packet. Not
// for client traffic: it allocates.
func (c *Conn) Query(sql string, row func(cols []wire.ColumnRef, vals [][]byte) error, okFn func(*wire.OK)) error {
	if err := c.Send(sql); err != nil {
		return err
	}
	return c.read(row, okFn)
}

// Send sends an internal statement without waiting for its answer, so
// that several connections can work at once; Await reads the answer.
func (c *Conn) Send(sql string) error {
	if err := c.WriteCommandStr(mysql.COM_QUERY, sql); err != nil {
		c.broken = true
		return err
	}
	return nil
}

// Await reads the answer to what Send sent: the last OK, or the first error.
func (c *Conn) Await() (wire.OK, error) {
	var ok wire.OK
	err := c.read(nil, func(o *wire.OK) { ok = *o })
	return ok, err
}

// read reads a statement's results (see Query).
func (c *Conn) read(row func(cols []wire.ColumnRef, vals [][]byte) error, okFn func(*wire.OK)) error {
	var firstErr error
	for {
		p, err := c.ReadPacket()
		if err != nil {
			c.broken = true
			return err
		}
		switch {
		case p[0] == wire.OKHeader:
			ok, err := wire.ParseOK(p, true)
			if err != nil {
				c.broken = true
				return err
			}
			if okFn != nil {
				okFn(&ok)
			}
			if ok.Status&mysql.SERVER_MORE_RESULTS_EXISTS == 0 {
				return firstErr
			}
		case p[0] == wire.ErrHeader:
			e := wire.ParseErr(p)
			if firstErr == nil {
				firstErr = e
			}
			return firstErr
		default:
			more, err := c.readRows(p, row)
			if err != nil {
				if _, ok := err.(*mysql.MyError); !ok {
					c.broken = true
				}
				return err
			}
			if !more {
				return firstErr
			}
		}
	}
}

// QueryRaw runs an internal statement that returns one small result set
// and hands over the raw column definitions and each row's values (copies).
func (c *Conn) QueryRaw(sql string, defsFn func([][]byte), rowFn func([][]byte)) error {
	if err := c.WriteCommandStr(mysql.COM_QUERY, sql); err != nil {
		c.broken = true
		return err
	}
	p, err := c.ReadPacket()
	if err != nil {
		c.broken = true
		return err
	}
	switch p[0] {
	case wire.ErrHeader:
		return wire.ParseErr(p)
	case wire.OKHeader:
		defsFn(nil)
		return nil
	}
	n, _, k := wire.ReadLenEnc(p)
	if k == 0 {
		c.broken = true
		return wire.ErrMalformed
	}
	defs := make([][]byte, n)
	for i := range defs {
		d, err := c.ReadPacket()
		if err != nil {
			c.broken = true
			return err
		}
		defs[i] = append([]byte(nil), d...)
	}
	defsFn(defs)
	more, err := c.readRows(nil, func(_ []wire.ColumnRef, v [][]byte) error {
		rowFn(v)
		return nil
	}, int(n))
	if err == nil && more {
		c.broken = true
	}
	return err
}

// readRows reads a text result set whose column-count packet is p; with p
// nil, the column definitions were read already and there are n columns.
func (c *Conn) readRows(p []byte, row func([]wire.ColumnRef, [][]byte) error, n ...int) (more bool, err error) {
	var cols []wire.ColumnRef
	if p == nil {
		cols = make([]wire.ColumnRef, n[0])
	} else {
		cnt, _, m := wire.ReadLenEnc(p)
		if m == 0 {
			return false, wire.ErrMalformed
		}
		cols = make([]wire.ColumnRef, cnt)
		for i := range cols {
			p, err := c.ReadPacket()
			if err != nil {
				return false, err
			}
			cd, err := wire.ParseColumnDef(append([]byte(nil), p...))
			if err != nil {
				return false, err
			}
			cols[i] = cd
		}
	}
	if p, err = c.ReadPacket(); err != nil {
		return false, err
	}
	if !wire.IsEOF(p) {
		return false, wire.ErrMalformed
	}
	vals := make([][]byte, len(cols))
	var rowErr error
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return false, err
		}
		if wire.IsEOF(p) {
			_, st := wire.EOFStatus(p)
			return st&mysql.SERVER_MORE_RESULTS_EXISTS != 0, rowErr
		}
		if p[0] == wire.ErrHeader {
			return false, wire.ParseErr(p)
		}
		if row == nil || rowErr != nil {
			continue
		}
		pos := 0
		for i := range vals {
			v, null, k := wire.ReadLenEncBytes(p[pos:])
			if k == 0 {
				return false, wire.ErrMalformed
			}
			if null {
				vals[i] = nil
			} else {
				vals[i] = append([]byte{}, v...)
			}
			pos += k
		}
		rowErr = row(cols, vals)
	}
}

// WriteCommandStr sends a command with a string argument and flushes.
func (c *Conn) WriteCommandStr(cmd byte, arg string) error {
	if skip, err := c.settleBefore(cmd); skip {
		return err
	}
	c.ResetSeq()
	c.WriteCommandPacket(cmd, arg)
	return c.Flush()
}

// WriteCommandPacket appends a command packet (see wire.Conn); a query
// carries the statements queued by ExecAhead. Only queries are written
// this way while statements are queued (others go through WriteCommand or
// WriteCommandStr, which settle them first).
func (c *Conn) WriteCommandPacket(cmd byte, arg string) {
	if c.pending != "" && cmd == mysql.COM_QUERY {
		wire.WriteCommandAfter(c.Conn, cmd, c.takePending(), arg)
		return
	}
	c.Conn.WriteCommandPacket(cmd, arg)
}

// WriteCommand sends a command whose payload (command byte included) is p.
func (c *Conn) WriteCommand(p []byte) error {
	if len(p) == 0 {
		return wire.ErrMalformed
	}
	if skip, err := c.settleBefore(p[0]); skip {
		return err
	}
	c.ResetSeq()
	if c.pending != "" { // a query: it carries them
		wire.WriteCommandAfter(c.Conn, p[0], c.takePending(), p[1:])
	} else {
		c.WritePacket(p)
	}
	return c.Flush()
}

// SimpleCommand sends a command that answers with OK or ERR.
func (c *Conn) SimpleCommand(cmd byte, arg string) (wire.OK, error) {
	if err := c.WriteCommandStr(cmd, arg); err != nil {
		c.broken = true
		return wire.OK{}, err
	}
	p, err := c.ReadPacket()
	if err != nil {
		c.broken = true
		return wire.OK{}, err
	}
	switch p[0] {
	case wire.OKHeader:
		return wire.ParseOK(p, true)
	case wire.ErrHeader:
		return wire.OK{}, wire.ParseErr(p)
	case wire.EOFHeader: // COM_SET_OPTION answers with EOF
		_, st := wire.EOFStatus(p)
		return wire.OK{Status: st}, nil
	}
	c.broken = true
	return wire.OK{}, wire.ErrMalformed
}

// ResetSession runs COM_RESET_CONNECTION: the server drops the session's
// variables, temporary tables, locks, prepared statements and transaction.
func (c *Conn) ResetSession() error {
	c.pending, c.pendingN = "", 0 // the reset ends the transaction they start
	if _, err := c.SimpleCommand(mysql.COM_RESET_CONNECTION, ""); err != nil {
		c.broken = true
		return err
	}
	c.State = InitialState()
	c.Stmts = nil
	c.LastInsertID = 0
	if _, err := c.Exec(sessionSetup); err != nil {
		c.broken = true
		return err
	}
	return nil
}

// CloseStmt closes a statement prepared here (no response is sent).
func (c *Conn) CloseStmt(id uint32) error {
	c.ResetSeq()
	b := [5]byte{mysql.COM_STMT_CLOSE, byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24)}
	c.WritePacket(b[:])
	return c.Flush()
}

// Kill asks the server, over a fresh connection, to kill this connection's
// running query (query=true) or the connection itself.
func (c *Conn) Kill(ctx context.Context, query bool) error {
	k, err := dial(ctx, c.srv, Plain)
	if err != nil {
		return err
	}
	defer k.Close()
	stmt := "KILL CONNECTION "
	if query {
		stmt = "KILL QUERY "
	}
	_, err = k.Exec(stmt + strconv.FormatUint(uint64(c.ThreadID), 10))
	return err
}

// LockWait is a statement waiting for a row lock on a server: its thread
// and the running query's id, and the thread whose transaction holds the
// lock.
type LockWait struct {
	Waiting, Blocking uint32
	QueryID           uint64
}

// lockWaitsSQL lists a server's lock waits (InnoDB's, with the waiting
// thread's query id: KILL QUERY ID stops that execution only).
const lockWaitsSQL = "SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id, p.QUERY_ID " +
	"FROM information_schema.innodb_lock_waits w " +
	"JOIN information_schema.innodb_trx r ON r.trx_id = w.requesting_trx_id " +
	"JOIN information_schema.innodb_trx b ON b.trx_id = w.blocking_trx_id " +
	"JOIN information_schema.processlist p ON p.ID = r.trx_mysql_thread_id"

// LockWaits reads the server's lock waits over a fresh connection.
func (s *Server) LockWaits(ctx context.Context) ([]LockWait, error) {
	c, err := dial(ctx, s, Plain)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []LockWait
	err = c.Query(lockWaitsSQL, func(_ []wire.ColumnRef, v [][]byte) error {
		if len(v) != 3 {
			return fmt.Errorf("lock waits: %d columns", len(v))
		}
		w, _ := strconv.ParseUint(string(v[0]), 10, 32)
		b, _ := strconv.ParseUint(string(v[1]), 10, 32)
		q, _ := strconv.ParseUint(string(v[2]), 10, 64)
		out = append(out, LockWait{Waiting: uint32(w), Blocking: uint32(b), QueryID: q})
		return nil
	}, nil)
	return out, err
}

// KillQueryID stops one execution of a query on the server (KILL QUERY
// ID): a later statement of the same thread is not touched.
func (s *Server) KillQueryID(ctx context.Context, id uint64) error {
	c, err := dial(ctx, s, Plain)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Exec("KILL QUERY ID " + strconv.FormatUint(id, 10))
	return err
}
