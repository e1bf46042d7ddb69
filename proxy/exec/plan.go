package exec

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/merge"
)

// Conns gives the executor backend connections; the session implements
// it (state replay, transactions, pinning).
type Conns interface {
	// Acquire returns a connection to the node's primary, ready for a
	// statement of the session.
	Acquire(node string) (*backend.Conn, error)
	// Release ends the statement's use of a connection.
	Release(c *backend.Conn, failed bool)
	// Pinned reports whether the session must use one connection to the
	// node's host (its transaction is there), and names the host: every
	// statement of a plan for the host's nodes then runs in turn on it.
	Pinned(node string) (host string, pinned bool)
}

// MaxMemorySortRows bounds what a MemorySort may hold.
const MaxMemorySortRows = 100000

// Run executes a plan and answers the client (not flushed).
func Run(cli *Client, p *router.Plan, conns Conns, tr Tracker) (Outcome, error) {
	if cli.prefix == "" { // (a plan run for another keeps its prefix: runChildInsert)
		if cli.prefix = planPrefix(cli, p); cli.prefix != "" {
			defer func() { cli.prefix = "" }()
		}
	}
	switch root := p.Root.(type) {
	case *router.Route:
		if len(root.SQL) == 1 {
			return runRoute(cli, root, conns, tr)
		}
		return runWrite(cli, []*router.Route{root}, false, p.Insert, conns, tr)
	case *router.Scatter:
		if p.Write {
			return runWrite(cli, root.Routes, false, p.Insert, conns, tr)
		}
	case *router.Broadcast:
		return runWrite(cli, root.Routes, true, p.Insert, conns, tr)
	case *router.ChildInsert:
		return runChildInsert(cli, root, p.Insert, conns, tr)
	case *router.MoveRows:
		return runMove(cli, root, conns, tr)
	case *router.LimitedWrite:
		return runLimitedWrite(cli, root, conns, tr)
	case *router.InsertSelect:
		return runInsertSelect(cli, root, conns, tr)
	case *router.Returning:
		return runReturning(cli, root, conns, tr)
	case *router.Maintenance:
		return runMaintenance(cli, root, conns, tr)
	case *router.LoadData:
		return runLoadData(cli, root, conns, tr)
	}
	if p.FoundRows {
		return runMerge(cli, p.Root, conns, tr, &foundRows{})
	}
	return runMerge(cli, p.Root, conns, tr, nil)
}

// foundRows adds up the FOUND_ROWS() that follows each shard's statement
// of a SELECT SQL_CALC_FOUND_ROWS (router.Plan.FoundRows).
type foundRows struct {
	sum       uint64
	sent, got int // statements sent, counts read
}

// foundRowsQuery follows each such statement.
const foundRowsQuery = "; SELECT FOUND_ROWS()"

// statement is sql as sent: followed by SELECT FOUND_ROWS() when counted.
func (f *foundRows) statement(sql string) string {
	if f == nil {
		return sql
	}
	f.sent++
	return sql + foundRowsQuery
}

// read reads the FOUND_ROWS() result that follows a statement's rows.
func (f *foundRows) read(c *backend.Conn) {
	p, err := c.ReadPacket()
	if err != nil {
		c.MarkBroken()
		return
	}
	more, err := readResultSet(c, p, false, func(row []byte) error {
		v, _, k := wire.ReadLenEncBytes(row)
		n, perr := strconv.ParseUint(string(v), 10, 64)
		if k == 0 || perr != nil {
			return wire.ErrMalformed
		}
		f.sum += n
		f.got++
		return nil
	})
	if err != nil || more {
		c.MarkBroken()
	}
}

// planPrefix returns the prefix (cli.prefix) of every statement of a plan:
// SET STATEMENT with the client's own assignments (cli.StmtVars) and the
// plan's time (planTime); "" when neither is due.
func planPrefix(cli *Client, p *router.Plan) string {
	t := planTime(cli, p)
	switch {
	case cli.StmtVars == "" && t == "":
		return ""
	case cli.StmtVars == "":
		return "SET STATEMENT " + t + " FOR "
	case t == "":
		return "SET STATEMENT " + cli.StmtVars + " FOR "
	}
	return "SET STATEMENT " + cli.StmtVars + ", " + t + " FOR "
}

// planTime returns the assignment of @@timestamp that runs every statement
// of a plan at one time, as one server's statement sees one time: the
// plan's own (router.Plan.At), or now for a read over several shards that
// reads the clock (SameTime) and for a write of several statements (a
// global table's copies, a sharded table's shards), so that NOW(),
// CURRENT_TIMESTAMP and the columns that default to it agree on every
// copy and shard (as statement-based replication does it). "" when one
// statement needs none, or the session fixed @@timestamp itself.
func planTime(cli *Client, p *router.Plan) string {
	switch {
	case cli.FixedTime:
		return ""
	case !p.At.IsZero():
		return timeAssignment(p.At)
	case p.SameTime || p.Write && p.WriteStatements() > 1:
		return timeAssignment(time.Now())
	}
	return ""
}

// prefixed prefixes each of sqls with cli.prefix (a copy; sqls itself when
// there is none).
func (cli *Client) prefixed(sqls []string) []string {
	if cli.prefix == "" {
		return sqls
	}
	out := make([]string, len(sqls))
	for i, sql := range sqls {
		out[i] = cli.prefix + sql
	}
	return out
}

// timeAssignment sets the time of the statement it goes before to t.
// (MariaDB reports the variable as changed to the session; the session
// knows better.)
func timeAssignment(t time.Time) string {
	return fmt.Sprintf("timestamp = %d.%06d", t.Unix(), t.Nanosecond()/1000)
}

// runRoute relays one statement's result from one node as it comes.
func runRoute(cli *Client, r *router.Route, conns Conns, tr Tracker) (Outcome, error) {
	c, err := conns.Acquire(r.Node)
	if err != nil {
		return Outcome{}, err
	}
	sql := r.SQL[0]
	if cli.prefix != "" {
		sql = cli.prefix + sql
	}
	if err := c.WriteCommandStr(mysql.COM_QUERY, sql); err != nil {
		c.MarkBroken()
		conns.Release(c, true)
		return Outcome{}, &BackendError{Err: err}
	}
	out, err := Result(cli, c, tr)
	conns.Release(c, err != nil)
	return out, err
}

// writeTotals adds up the OK packets of several shards.
type writeTotals struct {
	affected, insertID     uint64
	matched, changed, warn uint64
	hasInfo                bool
	// An INSERT of several rows: its records and duplicates; unknown says
	// a shard's answer did not tell its duplicates.
	records, duplicates uint64
	unknown             bool
	status              uint16
	done                int // statements answered (on one connection)
}

func (w *writeTotals) add(ok *wire.OK, ins router.InsertKind, foundRows bool) {
	w.affected += ok.AffectedRows
	if w.insertID == 0 {
		w.insertID = ok.LastInsertID
	}
	w.warn += uint64(ok.Warnings)
	if m, c, _, ok2 := parseMatched(ok.Info); ok2 {
		w.matched += m
		w.changed += c
		w.hasInfo = true
	}
	if ins == router.NotInsert {
		return
	}
	if r, d, _, ok2 := parseCounts(ok.Info, "Records: "); ok2 {
		w.records += r
		w.duplicates += d
		return
	}
	// A shard given one row answers without the line.
	d, known := oneRowDuplicates(ins, ok.AffectedRows, foundRows)
	w.records++
	w.duplicates += d
	w.unknown = w.unknown || !known
}

// oneRowDuplicates tells from its affected rows whether an INSERT of one
// row met a duplicate, as MariaDB counts them for the Records line.
func oneRowDuplicates(ins router.InsertKind, affected uint64, foundRows bool) (uint64, bool) {
	switch ins {
	case router.InsertIgnore: // 0: skipped
		return 1 - min(affected, 1), true
	case router.InsertReplace: // 1 + the rows it deleted
		return max(affected, 1) - 1, true
	case router.InsertUpsert:
		// 1 inserted, 2 updated; an unchanged row 0, or with
		// CLIENT_FOUND_ROWS 1, which an insert answers too.
		if affected == 1 && foundRows {
			return 0, false
		}
		return affected / 2, true
	}
	return 0, true
}

// ClientRow rewrites a message's closing "at row N", N counted in the
// statement a shard ran, to the row's number in the client's statement.
func ClientRow(msg string, numbers []int) string {
	at, n, end, ok := rowInMessage(msg)
	if !ok || n < 1 || n > len(numbers) {
		return msg
	}
	return msg[:at] + strconv.Itoa(numbers[n-1]) + msg[end:]
}

// messageRow is the row number a message names ("... at row 3", LOAD
// DATA's "Row 3 was truncated ...").
func messageRow(msg string) (int, bool) {
	_, n, _, ok := rowInMessage(msg)
	return n, ok
}

// rowInMessage finds a message's row number: msg[at:end] is n.
func rowInMessage(msg string) (at, n, end int, ok bool) {
	if i := strings.LastIndex(msg, " at row "); i >= 0 {
		at, end = i+len(" at row "), len(msg)
	} else if strings.HasPrefix(msg, "Row ") {
		at = len("Row ")
		end = at + strings.IndexByte(msg[at:], ' ')
		if end < at {
			return 0, 0, 0, false
		}
	} else {
		return 0, 0, 0, false
	}
	n, err := strconv.Atoi(msg[at:end])
	return at, n, end, err == nil
}

// parseMatched reads UPDATE's "Rows matched: 1  Changed: 1  Warnings: 0".
func parseMatched(info []byte) (matched, changed, warnings uint64, ok bool) {
	return parseCounts(info, "Rows matched: ")
}

// parseCounts reads the three counts of an OK packet's info that begins
// with first ("Records: 3  Duplicates: 1  Warnings: 0").
func parseCounts(info []byte, first string) (a, b, c uint64, ok bool) {
	s := string(info)
	if !strings.HasPrefix(s, first) {
		return 0, 0, 0, false
	}
	f := strings.Fields(s[len(first):])
	if len(f) < 5 {
		return 0, 0, 0, false
	}
	a, e1 := strconv.ParseUint(f[0], 10, 64)
	b, e2 := strconv.ParseUint(f[2], 10, 64)
	c, e3 := strconv.ParseUint(f[4], 10, 64)
	return a, b, c, e1 == nil && e2 == nil && e3 == nil
}

// runWrite runs write statements on their nodes: all nodes at once, each
// node's statements in one round trip; affected rows are summed (for a
// broadcast, the copies answer alike: one copy's count is reported).
func runWrite(cli *Client, routes []*router.Route, broadcast bool, ins router.InsertKind, conns Conns, tr Tracker) (Outcome, error) {
	var out Outcome
	type sent struct {
		c     *backend.Conn
		r     *router.Route
		host  string // the pinned host whose connection it is, or ""
		read  bool
		t     writeTotals
		ioErr error
		kept  bool // its last statement's warnings read (see keepWarnings)
	}
	var started []sent
	var firstErr error
	var shardErr *mysql.MyError
	collect := func(s *sent) {
		if s.read {
			return
		}
		var e *mysql.MyError
		s.t, e, s.ioErr = readWriteResults(s.c, len(s.r.SQL), ins, s.r.RowNumbers, tr)
		s.read = true
		if s.ioErr != nil && firstErr == nil {
			firstErr = &BackendError{Err: s.ioErr}
		}
		if e != nil && shardErr == nil {
			shardErr = e
			if s.t.done < len(s.r.RowNumbers) {
				e.Message = ClientRow(e.Message, s.r.RowNumbers[s.t.done])
			}
		}
	}
	for _, r := range routes {
		host, pinned := conns.Pinned(r.Node)
		if pinned {
			// One connection serves the host's nodes: it answers the
			// earlier route before the next is sent.
			for i := range started {
				if s := &started[i]; s.host == host {
					collect(s)
					// (A broadcast's copies warn alike: the last one's serve.)
					if !broadcast && !s.kept && s.ioErr == nil {
						s.kept = true
						if err := keepWarnings(s.c, s.r.RowNumbers); err != nil && firstErr == nil {
							firstErr = &BackendError{Err: err}
						}
					}
				}
			}
		} else {
			host = ""
		}
		c, err := conns.Acquire(r.Node)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			break
		}
		if cli.Atomic && !slices.ContainsFunc(started, func(s sent) bool { return s.c == c }) {
			c.ExecAhead(stmtSavepoint) // its answer is read before the statements'
		}
		if err := c.WriteCommandStr(mysql.COM_QUERY, strings.Join(cli.prefixed(r.SQL), warningsBetween)); err != nil {
			c.MarkBroken()
			if firstErr == nil {
				firstErr = &BackendError{Err: err}
			}
			started = append(started, sent{c: c, r: r, host: host, read: true, ioErr: err})
			break
		}
		started = append(started, sent{c: c, r: r, host: host})
	}
	var totals []writeTotals
	for i := range started {
		collect(&started[i])
		totals = append(totals, started[i].t)
		if c := started[i].c; broadcast && i > 0 {
			// The copies warn alike: one copy's are shown (a connection
			// may serve several copies, on nodes sharing a host).
			c.Warnings -= min(c.Warnings, uint32(min(started[i].t.warn, 1<<32-1)))
		}
	}
	if shardErr != nil {
		shardErr = cli.serverErr(shardErr)
	}
	if cli.Atomic && shardErr != nil && firstErr == nil && shardErr.Code != mysql.ER_LOCK_DEADLOCK {
		// (A deadlock rolled its server's transaction back, savepoint and
		// all: the session rolls the whole transaction back.)
		conns := make([]*backend.Conn, len(started))
		for i, s := range started {
			conns[i] = s.c
		}
		firstErr = undoStatement(conns)
	}
	releaseOnce(conns, len(started), func(i int) (*backend.Conn, bool) { return started[i].c, started[i].ioErr != nil })
	if firstErr != nil {
		return out, firstErr
	}
	if shardErr != nil {
		return answerErr(cli, shardErr), nil
	}
	return answerWrite(cli, totals, broadcast, ins, tr), nil
}

// answerWrite answers a write's client with the sum of its statements'
// totals (a broadcast's first copy's alone).
func answerWrite(cli *Client, totals []writeTotals, broadcast bool, ins router.InsertKind, tr Tracker) Outcome {
	var out Outcome
	var sum writeTotals
	for i, t := range totals {
		if broadcast && i > 0 {
			continue
		}
		sum.affected += t.affected
		sum.matched += t.matched
		sum.changed += t.changed
		sum.warn += t.warn
		sum.hasInfo = sum.hasInfo || t.hasInfo
		sum.records += t.records
		sum.duplicates += t.duplicates
		sum.unknown = sum.unknown || t.unknown
		if sum.insertID == 0 {
			sum.insertID = t.insertID
		}
		sum.status = t.status
	}
	ok := wire.OK{AffectedRows: sum.affected, LastInsertID: sum.insertID, Status: sum.status, Warnings: uint16(min(sum.warn, 65535))}
	switch {
	case sum.hasInfo:
		ok.Info = []byte(fmt.Sprintf("Rows matched: %d  Changed: %d  Warnings: %d", sum.matched, sum.changed, sum.warn))
	case ins != router.NotInsert && !sum.unknown:
		ok.Info = []byte(fmt.Sprintf("Records: %d  Duplicates: %d  Warnings: %d", sum.records, sum.duplicates, sum.warn))
	}
	tr.TrackOK(nil, &ok)
	out.Affected = sum.affected
	writeOK(cli, wire.OKHeader, ok)
	return out
}

// stmtSavepoint marks, on each connection a write of several statements
// in a transaction uses, where the statement began (Client.Atomic).
const stmtSavepoint = "SAVEPOINT `__sg_stmt`"

// undoStatement rolls every connection of a failed write back to where
// the statement began: MariaDB undoes a failed statement whole, and the
// transaction goes on. Connections answer at once (Send, then Await); one
// that cannot is broken, and with it the transaction.
func undoStatement(conns []*backend.Conn) error {
	var sent []*backend.Conn
	for _, c := range conns {
		if c.Broken() || slices.Contains(sent, c) {
			continue
		}
		if c.Send("ROLLBACK TO SAVEPOINT `__sg_stmt`") == nil {
			sent = append(sent, c)
		}
	}
	var firstErr error
	for _, c := range sent {
		if _, err := c.Await(); err != nil {
			c.MarkBroken()
			if firstErr == nil {
				firstErr = &BackendError{Err: err}
			}
		}
	}
	return firstErr
}

// warningsBetween separates the statements of a route batched on one
// connection: SHOW WARNINGS shows only the last statement's, so each
// earlier one's are read in between (readWriteResults keeps them on the
// connection for the session's list).
const warningsBetween = ";\nSHOW WARNINGS;\n"

// readWriteResults reads the answers of n statements sent on one
// connection (joined by warningsBetween).
func readWriteResults(c *backend.Conn, n int, ins router.InsertKind, rowNumbers [][]int, tr Tracker) (t writeTotals, shardErr *mysql.MyError, ioErr error) {
	warningsNext := false // the answer of a SHOW WARNINGS comes next
	for {
		if t.done < len(rowNumbers) {
			c.RowNumbers = rowNumbers[t.done] // for the warnings read at its release
		}
		p, err := c.ReadPacket()
		if err != nil {
			c.MarkBroken()
			return t, shardErr, err
		}
		more := false
		switch p[0] {
		case wire.OKHeader:
			ok, err := wire.ParseOK(p, true)
			if err != nil {
				c.MarkBroken()
				return t, shardErr, err
			}
			c.Status = ok.Status
			c.Warnings += uint32(ok.Warnings)
			tr.TrackOK(c, &ok)
			t.add(&ok, ins, c.Variant() == backend.FoundRows)
			t.status = ok.Status
			t.done++
			more, warningsNext = ok.Status&mysql.SERVER_MORE_RESULTS_EXISTS != 0, t.done < n
		case wire.ErrHeader:
			return t, wire.ParseErr(p), nil
		default:
			if warningsNext {
				var numbers []int
				if t.done-1 < len(rowNumbers) {
					numbers = rowNumbers[t.done-1]
				}
				more, err = readWarnings(c, p, numbers)
				warningsNext = false
			} else {
				// A result set where a write was expected: skip it.
				more, err = skipResultSet(c, p)
				t.done++
				warningsNext = t.done < n
			}
			if err != nil {
				return t, shardErr, err
			}
		}
		if !more {
			return t, shardErr, nil
		}
	}
}

// readWarnings reads the rows of SHOW WARNINGS (Level, Code, Message)
// onto c.Earlier, its rows renumbered as the client's statement counts
// them. Its count is the statement's, already counted.
func readWarnings(c *backend.Conn, p []byte, numbers []int) (more bool, err error) {
	return readResultSet(c, p, false, func(row []byte) error {
		v := make([][]byte, 3)
		for i := range v {
			b, _, k := wire.ReadLenEncBytes(row)
			if k == 0 {
				c.MarkBroken()
				return wire.ErrMalformed
			}
			v[i], row = b, row[k:]
		}
		keepWarning(c, v, numbers)
		return nil
	})
}

// keepWarning adds a row of SHOW WARNINGS to c.Earlier.
func keepWarning(c *backend.Conn, v [][]byte, numbers []int) {
	if len(v) < 3 || string(v[0]) == "Error" {
		return // a statement's error is its answer
	}
	code, _ := strconv.ParseUint(string(v[1]), 10, 16)
	msg := string(v[2])
	if numbers != nil {
		msg = ClientRow(msg, numbers)
	}
	c.Earlier = append(c.Earlier, backend.Warning{Level: string(v[0]), Code: uint16(code), Message: msg})
}

// keepWarnings reads the warnings of the last statement run on c before
// another route's statements follow it there (a transaction's connection
// to a host serving several nodes), if some are not read yet.
func keepWarnings(c *backend.Conn, rowNumbers [][]int) error {
	if c.Broken() || uint32(len(c.Earlier)) >= c.Warnings {
		return nil
	}
	var numbers []int
	if k := len(rowNumbers); k > 0 {
		numbers = rowNumbers[k-1]
	}
	err := c.QueryRaw("SHOW WARNINGS", func([][]byte) {}, func(v [][]byte) { keepWarning(c, v, numbers) })
	if err != nil {
		c.MarkBroken()
	}
	return err
}

// skipResultSet reads past a result set where a write was expected.
func skipResultSet(c *backend.Conn, p []byte) (more bool, err error) {
	return readResultSet(c, p, true, nil)
}

// readResultSet reads a text result set whose column-count packet is p,
// each row to row (if given); warnings says its end's warning count is
// the connection's.
func readResultSet(c *backend.Conn, p []byte, warnings bool, row func([]byte) error) (more bool, err error) {
	n, _, k := wire.ReadLenEnc(p)
	if k == 0 {
		c.MarkBroken()
		return false, wire.ErrMalformed
	}
	for i := uint64(0); i <= n; i++ { // column definitions, EOF
		if err := c.SkipPacket(); err != nil {
			c.MarkBroken()
			return false, err
		}
	}
	for {
		p, err := c.ReadPacket()
		if err != nil {
			c.MarkBroken()
			return false, err
		}
		if wire.IsEOF(p) {
			w, st := wire.EOFStatus(p)
			c.Status = st
			if warnings {
				c.Warnings += uint32(w)
			}
			return st&mysql.SERVER_MORE_RESULTS_EXISTS != 0, nil
		}
		if p[0] == wire.ErrHeader {
			return false, wire.ParseErr(p)
		}
		if row != nil {
			if err := row(p); err != nil {
				return false, err
			}
		}
	}
}

// runChildInsert looks up the parent rows, then inserts each child row on
// its parent's shard.
func runChildInsert(cli *Client, ci *router.ChildInsert, ins router.InsertKind, conns Conns, tr Tracker) (Outcome, error) {
	owner, err := ownersOf(conns, ci.Lookup)
	if err != nil {
		return Outcome{}, err
	}
	p, err := ci.Place(owner)
	if err != nil {
		return Outcome{}, err
	}
	return Run(cli, &router.Plan{Root: p, Write: true, Insert: ins}, conns, tr)
}

// ownersOf runs a parent lookup (one SELECT of keys per shard, listed in
// Route.Shard order) and returns the shard holding each key, by its text.
func ownersOf(conns Conns, lookup *router.Scatter) (map[string]int, error) {
	owner := map[string]int{}
	for _, r := range lookup.Routes {
		shards := parseShards(r.Shard)
		c, err := conns.Acquire(r.Node)
		if err != nil {
			return nil, err
		}
		for i, sql := range r.SQL {
			shard := -1
			if i < len(shards) {
				shard = shards[i]
			}
			err = c.Query(sql, func(_ []wire.ColumnRef, v [][]byte) error {
				if v[0] != nil {
					owner[string(v[0])] = shard
				}
				return nil
			}, nil)
			if err != nil {
				break
			}
		}
		conns.Release(c, c.Broken())
		if err != nil {
			return nil, err
		}
	}
	return owner, nil
}

func parseShards(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// backendStream reads one node's result set as a merge.Stream.
type backendStream struct {
	c      *backend.Conn
	fields []merge.Field
	done   bool
	tr     Tracker
	found  *foundRows // a FOUND_ROWS() result follows the rows
}

func (s *backendStream) Fields() []merge.Field { return s.fields }
func (s *backendStream) Binary() bool          { return false }

func (s *backendStream) Next() (merge.Row, error) {
	if s.done {
		return nil, nil
	}
	p, err := s.c.ReadPacket()
	if err != nil {
		s.c.MarkBroken()
		s.done = true
		return nil, &BackendError{Err: err, Answered: true}
	}
	if wire.IsEOF(p) {
		w, st := wire.EOFStatus(p)
		s.c.Status = st
		s.c.Warnings += uint32(w)
		s.tr.TrackStatus(st &^ mysql.SERVER_MORE_RESULTS_EXISTS) // (the session's own results decide that)
		s.done = true
		switch {
		case st&mysql.SERVER_MORE_RESULTS_EXISTS == 0:
		case s.found != nil:
			s.found.read(s.c)
		default:
			s.c.MarkBroken() // not expected from one statement
		}
		return nil, nil
	}
	if p[0] == wire.ErrHeader {
		s.done = true
		return nil, wire.ParseErr(p)
	}
	return p, nil
}

// Close drains what the node still sends, so the connection is reusable.
func (s *backendStream) Close() {
	const maxDrain = 1 << 20
	drained := 0
	// A connection holding a transaction is worth reading to the end.
	keep := s.c.XA != "" || s.c.Status&mysql.SERVER_STATUS_IN_TRANS != 0
	for !s.done && !s.c.Broken() {
		p, err := s.Next()
		if err != nil || p == nil {
			break
		}
		drained += len(p)
		if drained > maxDrain && !keep {
			// Cheaper to drop the connection than to read the rest.
			s.c.MarkBroken()
			s.done = true
		}
	}
}

// openStream reads a result set's header: its column definitions.
func openStream(c *backend.Conn, tr Tracker) (*backendStream, error) {
	p, err := c.ReadPacket()
	if err != nil {
		c.MarkBroken()
		return nil, &BackendError{Err: err}
	}
	switch p[0] {
	case wire.ErrHeader:
		return nil, wire.ParseErr(p)
	case wire.OKHeader:
		return nil, errors.New("shardgate: a shard answered a read with OK")
	}
	n, _, k := wire.ReadLenEnc(p)
	if k == 0 {
		c.MarkBroken()
		return nil, &BackendError{Err: wire.ErrMalformed}
	}
	s := &backendStream{c: c, tr: tr, fields: make([]merge.Field, n)}
	for i := range s.fields {
		d, err := c.ReadPacket()
		if err != nil {
			c.MarkBroken()
			return nil, &BackendError{Err: err}
		}
		f, err := merge.FieldFromDef(append([]byte(nil), d...))
		if err != nil {
			c.MarkBroken()
			return nil, err
		}
		s.fields[i] = f
	}
	if p, err = c.ReadPacket(); err != nil || !wire.IsEOF(p) {
		c.MarkBroken()
		return nil, &BackendError{Err: fmt.Errorf("expected EOF after columns")}
	}
	return s, nil
}

// runMerge runs a read plan over several shards and merges the results.
func runMerge(cli *Client, root router.Primitive, conns Conns, tr Tracker, found *foundRows) (Outcome, error) {
	var out Outcome
	m, err := openMerge(cli, root, conns, tr, found)
	if err != nil {
		return out, err
	}
	err = writeStream(cli, m.top, tr, &out, m.warnings)
	var gone *ClientError
	if errors.As(err, &gone) {
		// The client is gone, and its transaction with it: its
		// connections are dropped rather than read to the end.
		for _, o := range m.opened {
			if o.c != nil {
				o.c.MarkBroken()
			}
		}
	}
	m.close() // (reads the counts that follow the rows not read)
	if found != nil && found.got == found.sent {
		out.FoundRows, out.FoundRowsKnown = found.sum, true
	}
	return out, err
}

// merged is a read plan's rows, as they come from its shards.
type merged struct {
	top    merge.Stream
	opened []*open
	conns  Conns
}

// warnings sums the warnings of the connections the plan used.
func (m *merged) warnings() uint16 {
	n := uint32(0)
	for i, o := range m.opened {
		if o.c != nil && !slices.ContainsFunc(m.opened[:i], func(p *open) bool { return p.c == o.c }) {
			n += o.c.Warnings // (a pinned connection serves several routes)
		}
	}
	return uint16(min(n, 65535))
}

// close stops the streams and releases the connections.
func (m *merged) close() {
	if m.top != nil {
		m.top.Close()
	}
	for _, o := range m.opened {
		if o.s != nil {
			o.s.Close()
		}
		if o.q != nil {
			o.q.finish()
		}
	}
	releaseOnce(m.conns, len(m.opened), func(i int) (*backend.Conn, bool) {
		return m.opened[i].c, m.opened[i].c != nil && m.opened[i].c.Broken()
	})
}

// openMerge sends a read plan's statements and builds the merge over
// their results.
func openMerge(cli *Client, root router.Primitive, conns Conns, tr Tracker, found *foundRows) (merged, error) {
	routes := router.AppendRoutes(nil, root)
	m := merged{conns: conns}
	// Send every statement first: the shards work in parallel while the
	// results are read one after another. A node whose connection is
	// pinned (a transaction) runs its shards' statements in turn on it.
	type pending struct {
		o     *open
		route *router.Route
		union []merge.Field // the columns to show for the route's union
	}
	var waiting []pending
	streams := map[*router.Route][]merge.Stream{}
	acquire := func(node string) (*open, error) {
		c, err := conns.Acquire(node)
		if err != nil {
			return nil, err
		}
		o := &open{c: c}
		m.opened = append(m.opened, o)
		return o, nil
	}
	send := func(r *router.Route, sql string, union []merge.Field) error {
		o, err := acquire(r.Node)
		if err != nil {
			return err
		}
		if err := o.c.WriteCommandStr(mysql.COM_QUERY, found.statement(cli.prefix+sql)); err != nil {
			o.c.MarkBroken()
			return &BackendError{Err: err}
		}
		waiting = append(waiting, pending{o, r, union})
		return nil
	}
	// A host's pinned connection serving several routes (a UNION's parts,
	// the passes of a Zip, nodes sharing a host) runs them one after
	// another: each route's results are read into memory before the next
	// is sent (the next may need another database); the last route's
	// results are read in turn (pinned.go).
	var hostBuf [8]string
	hosts := hostBuf[:0] // each route's pinned host, or ""
	for _, r := range routes {
		host, _ := conns.Pinned(r.Node)
		hosts = append(hosts, host)
	}
	budget := maxBuffered // for every result held in memory meanwhile
	for i, r := range routes {
		var err error
		before, after := sameHost(hosts, i)
		shared := before || after
		pinned := hosts[i] != "" && len(r.SQL) > 1
		switch cols := r.Columns.Fields(); {
		case pinned && !shared && cols != nil:
			// One statement for the node's shards, which would run one
			// after another on its connection anyway. (Elsewhere they run
			// at once, each on its own connection: a big scan of several
			// shards keeps the node's cores busy.)
			err = send(r, r.Union, cols)
		case pinned || shared:
			var o *open
			if o, err = acquire(r.Node); err == nil {
				if o.q, err = sequentialStreams(o.c, cli.prefixed(r.SQL), tr, after, &budget, found); err == nil {
					streams[r] = o.q.out
				}
			}
		default:
			for _, sql := range r.SQL {
				if err = send(r, sql, nil); err != nil {
					break
				}
			}
		}
		if err != nil {
			m.close()
			return merged{}, err
		}
	}
	var firstErr error
	for _, w := range waiting {
		s, err := openStream(w.o.c, tr)
		if w.union != nil {
			var ss []merge.Stream
			if ss, err = unionStreams(w.o, s, err, w.route, cli.prefixed(w.route.SQL), w.union, tr); err == nil {
				streams[w.route] = ss
				continue
			}
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		s.found = found
		w.o.s = s
		streams[w.route] = append(streams[w.route], s)
	}
	if firstErr != nil {
		m.close()
		return merged{}, firstErr
	}
	for _, r := range routes {
		if r.Columns != nil && len(streams[r]) > 1 {
			r.Columns.Record(streams[r][0].Fields())
		}
	}
	top, err := buildStream(root, streams, cli, conns)
	if err != nil {
		m.close()
		return merged{}, err
	}
	m.top = top
	return m, nil
}

// unionStreams reads the header of a route's union (s, or the error
// opening it): when its columns agree with the ones recorded (cols), the
// client gets those (the union's lack tables and flags). When they do not
// (the table changed since they were recorded), the union's rows are read
// and dropped, and the shards' statements (sqls, as sent) run one by one
// on the same connection, their columns recorded again; so too when the
// server refused the union as such, which turns it off for the
// template's life.
func unionStreams(o *open, s *backendStream, err error, r *router.Route, sqls []string, cols []merge.Field, tr Tracker) ([]merge.Stream, error) {
	if err != nil {
		var me *mysql.MyError
		if !errors.As(err, &me) || !unionRefused(me.Code) {
			return nil, err
		}
		r.Columns.Off()
	} else if unionAgrees(s.fields, cols) {
		s.fields = cols
		o.s = s
		return []merge.Stream{s}, nil
	} else {
		for !s.done {
			if row, err := s.Next(); err != nil || row == nil {
				break
			}
		}
		r.Columns.Disagreed()
	}
	if o.c.Broken() {
		return nil, &BackendError{Err: errConnLost}
	}
	budget := maxBuffered
	if o.q, err = sequentialStreams(o.c, sqls, tr, false, &budget, nil); err != nil {
		return nil, err
	}
	return o.q.out, nil
}

// unionAgrees reports whether a union's column definitions match the
// recorded ones in all that the union keeps of them.
func unionAgrees(union, recorded []merge.Field) bool {
	if len(union) != len(recorded) {
		return false
	}
	for i := range union {
		u, r := &union[i], &recorded[i]
		if u.Name != r.Name || u.Type != r.Type || u.Charset != r.Charset || u.Length != r.Length {
			return false
		}
	}
	return true
}

// unionRefused says an error is the server refusing a statement's form
// (its syntax, its names, a union's ORDER BY), not what running it met.
func unionRefused(code uint16) bool {
	switch code {
	case mysql.ER_PARSE_ERROR, mysql.ER_WRONG_USAGE, mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT,
		mysql.ER_BAD_FIELD_ERROR, mysql.ER_TABLENAME_NOT_ALLOWED_HERE, mysql.ER_NOT_SUPPORTED_YET,
		mysql.ER_CANT_AGGREGATE_2COLLATIONS, mysql.ER_CANT_AGGREGATE_3COLLATIONS, mysql.ER_CANT_AGGREGATE_NCOLLATIONS:
		return true
	}
	return false
}

// sameHost reports whether routes before and after route i have its
// pinned host (hosts[i] != "").
func sameHost(hosts []string, i int) (before, after bool) {
	if hosts[i] == "" {
		return false, false
	}
	for j, h := range hosts {
		if j != i && h == hosts[i] {
			before, after = before || j < i, after || j > i
		}
	}
	return before, after
}

// open is a connection a merge uses and the stream it gives, if any.
type open struct {
	c *backend.Conn
	s merge.Stream
	q *pinnedResults // the statements run in turn on c
}

// releaseOnce releases the connections of n uses (use(i): its connection,
// nil for none, and whether it failed), each connection once: a pinned
// one may serve several routes, and fails if any of its uses did.
func releaseOnce(conns Conns, n int, use func(i int) (*backend.Conn, bool)) {
	for i := 0; i < n; i++ {
		c, failed := use(i)
		if c == nil {
			continue
		}
		first := true
		for j := 0; j < n; j++ {
			if cj, fj := use(j); cj == c {
				first = first && j >= i
				failed = failed || fj
			}
		}
		if first {
			conns.Release(c, failed)
		}
	}
}

// buildStream turns the plan into merge primitives over the node streams.
func buildStream(p router.Primitive, streams map[*router.Route][]merge.Stream, cli *Client, conns Conns) (merge.Stream, error) {
	switch x := p.(type) {
	case *router.Route:
		in := streams[x]
		if len(in) > 1 {
			in = slices.Clone(in) // (sameShape may wrap its entries)
		}
		if err := sameShape(in); err != nil {
			return nil, err
		}
		return concatOf(in), nil
	case *router.Scatter:
		var in []merge.Stream
		for _, r := range x.Routes {
			in = append(in, streams[r]...)
		}
		if x.Union {
			if err := unifyUnion(in); err != nil {
				return nil, err
			}
		} else if err := sameShape(in); err != nil {
			return nil, err
		}
		return concatOf(in), nil
	case *router.Concat:
		var in []merge.Stream
		for _, c := range x.Inputs {
			s, err := buildStream(c, streams, cli, conns)
			if err != nil {
				return nil, err
			}
			in = append(in, s)
		}
		if err := unifyUnion(in); err != nil {
			return nil, err
		}
		return merge.Concat(in...), nil
	case *router.Zip:
		var in []merge.Stream
		for _, c := range x.Inputs {
			s, err := buildStream(c, streams, cli, conns)
			if err != nil {
				return nil, err
			}
			in = append(in, s)
		}
		return merge.Zip(in, x.Source), nil
	case *router.MergeSort:
		var in []merge.Stream
		for _, r := range x.Input.Routes {
			in = append(in, streams[r]...)
		}
		if x.Input.Union {
			if err := unifyUnion(in); err != nil {
				return nil, err
			}
		} else if err := sameShape(in); err != nil {
			return nil, err
		}
		keys, err := sortKeys(x.Keys, in[0].Fields(), cli.Pad)
		if err != nil {
			return nil, err
		}
		return merge.MergeSort(in, keys), nil
	case *router.Limit:
		in, err := buildStream(x.Input, streams, cli, conns)
		if err != nil {
			return nil, err
		}
		return merge.Limit(in, x.Offset, x.Count), nil
	case *router.Aggregate:
		in, err := buildStream(x.Input, streams, cli, conns)
		if err != nil {
			return nil, err
		}
		n := len(in.Fields())
		fields := in.Fields()
		keys, err := sortKeys(x.Group, fields, cli.Pad)
		if err != nil {
			return nil, err
		}
		funcs := make([]merge.AggFunc, len(x.Funcs))
		for i, f := range x.Funcs {
			mf := merge.AggFunc{Kind: merge.AggKind(f.Kind), Col: f.Col.Resolve(n), Weight: -1, SumCol: -1, CountCol: -1, Value: -1, LenCol: -1, Unrounded: cli.Assigned && !x.Stored}
			if f.Kind == router.AggGroupConcat {
				mf.Sep, mf.MaxLen, mf.LenCol = []byte(f.Sep), cli.GroupConcatMaxLen, f.Len.Resolve(n)
			}
			// The values compared: the column itself, or for COUNT(DISTINCT)
			// the counted column. Only strings compare by weight.
			valCol := mf.Col
			distinct := f.Kind == router.AggCountDistinct || f.Kind == router.AggSumDistinct || f.Kind == router.AggAvgDistinct
			if distinct {
				valCol = f.Value.Resolve(n)
			}
			if minMax := f.Kind == router.AggMin || f.Kind == router.AggMax; (minMax || distinct) && valCol < len(fields) {
				// COUNT(DISTINCT) of an ENUM counts its positions; a SUM
				// or AVG would add its labels.
				if why := unmergeable(&fields[valCol], distinct); why != "" && !(f.Position && f.Kind == router.AggCountDistinct) {
					return nil, mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support "+strings.ToUpper(strings.Replace(f.Kind.String(), "_distinct", "(DISTINCT)", 1))+" of "+why+" across shards")
				}
			}
			if f.HasWeight && valCol < len(fields) && (isStringType(fields[valCol].Type) || f.Position) {
				mf.Weight = f.Weight.Resolve(n)
				mf.Pads = cli.Pad
			}
			if f.Kind == router.AggAvg {
				mf.SumCol, mf.CountCol = f.Sum.Resolve(n), f.Count.Resolve(n)
			}
			if distinct {
				mf.Value = f.Value.Resolve(n)
			}
			funcs[i] = mf
		}
		return merge.Aggregate(in, keys, funcs), nil
	case *router.Distinct:
		in, keys, err := buildKeyed(x.Input, x.Keys, streams, cli, conns)
		if err != nil {
			return nil, err
		}
		return merge.Distinct(in, keys), nil
	case *router.SetOp:
		in, keys, err := buildKeyed(x.Input, x.Keys, streams, cli, conns)
		if err != nil {
			return nil, err
		}
		part := x.Part.Resolve(len(in.Fields()))
		if part < 0 || part >= len(in.Fields()) {
			in.Close()
			return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: set operation's part column out of range")
		}
		return merge.SetOp(in, keys, part, x.Except, x.All), nil
	case *router.Filter:
		in, err := buildStream(x.Input, streams, cli, conns)
		if err != nil {
			return nil, err
		}
		ev := newEvaluator(in)
		if err := ev.check(x.Pred, x.Text); err != nil {
			return nil, err
		}
		return merge.Filter(in, func(row merge.Row) (bool, error) {
			v, err := ev.eval(x.Pred, row)
			return err == nil && v.Bool(), err
		}), nil
	case *router.Compute:
		in, err := buildStream(x.Input, streams, cli, conns)
		if err != nil {
			return nil, err
		}
		ev := newEvaluator(in)
		exprs := map[int]router.Expr{}
		var cols []int
		server := map[int]*router.ServerExpr{}
		for i, c := range x.Cols {
			if se, ok := x.Exprs[i].(*router.ServerExpr); ok {
				server[c] = se
				continue
			}
			if err := ev.check(x.Exprs[i], x.Texts[i]); err != nil {
				return nil, err
			}
			exprs[c] = x.Exprs[i]
			cols = append(cols, c)
		}
		if len(server) > 0 {
			in = &serverEval{in: in, exprs: server, conns: conns, node: router.AppendRoutes(nil, x.Input)[0].Node}
			if len(cols) == 0 {
				return in, nil
			}
		}
		fields := in.Fields()
		return merge.Compute(in, cols, func(row merge.Row, col int) (merge.Value, error) {
			v, err := ev.eval(exprs[col], row)
			if err != nil {
				return merge.Null, err
			}
			return valueOfNum(v, &fields[col], cli.Assigned)
		}), nil
	case *router.CountRows:
		in, err := buildStream(x.Input, streams, cli, conns)
		if err != nil {
			return nil, err
		}
		fields := make([]merge.Field, len(x.Names))
		for i, name := range x.Names {
			// As the server describes COUNT(): BIGINT(21) NOT NULL.
			def := wire.AppendColumnDef(nil, &wire.Column{Name: name, Charset: 63, Length: 21, Type: mysql.MYSQL_TYPE_LONGLONG, Flags: mysql.NOT_NULL_FLAG | mysql.BINARY_FLAG})
			if fields[i], err = merge.FieldFromDef(def); err != nil {
				in.Close()
				return nil, err
			}
		}
		return merge.CountRows(in, fields), nil
	case *router.Described:
		in, err := buildStream(x.Input, streams, cli, conns)
		if err != nil {
			return nil, err
		}
		if len(x.Defs) != len(in.Fields()) {
			in.Close()
			return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf("shardgate: the statement over a derived table read first gave %d columns, its description %d", len(in.Fields()), len(x.Defs)))
		}
		fields := make([]merge.Field, len(x.Defs))
		for i, def := range x.Defs {
			if fields[i], err = merge.FieldFromDef(def); err != nil {
				in.Close()
				return nil, err
			}
		}
		return &described{Stream: in, fields: fields}, nil
	case *router.MemorySort:
		in, keys, err := buildKeyed(x.Input, x.Keys, streams, cli, conns)
		if err != nil {
			return nil, err
		}
		return merge.MemorySort(in, keys, x.Limit, MaxMemorySortRows), nil
	case *router.Project:
		// Checked before the merge below resolves its keys: the shards'
		// rows are the select list and then the helpers.
		if x.LastPosition > 0 {
			for _, ss := range streams {
				if len(ss) > 0 && x.LastPosition > len(ss[0].Fields())-x.HelperCount {
					return nil, router.ErrUnknownPosition(x.LastPosition, "ORDER BY")
				}
			}
		}
		in, err := buildStream(x.Input, streams, cli, conns)
		if err != nil {
			return nil, err
		}
		return merge.Project(in, len(in.Fields())-x.HelperCount), nil
	}
	return nil, fmt.Errorf("shardgate: cannot execute plan node %T", p)
}

// binaryKeepsDigits refuses, for a prepared statement answered from
// text rows, a DOUBLE or FLOAT column with fixed decimals (STDDEV(amount)
// has 6): its text is rounded to them, where the binary protocol would
// carry every digit of the value.
func binaryKeepsDigits(fields []merge.Field) error {
	for i := range fields {
		f := &fields[i]
		if (f.Type == mysql.MYSQL_TYPE_DOUBLE || f.Type == mysql.MYSQL_TYPE_FLOAT) && f.Decimals < 31 {
			return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, fmt.Sprintf("shardgate does not support a %s column with %d decimals (%s) in a prepared statement answered across shards: the proxy reads it as text, rounded, where the binary protocol carries every digit; run it as a text query, or CAST it to DECIMAL", floatName(f.Type), f.Decimals, f.Name))
		}
	}
	return nil
}

func floatName(t byte) string {
	if t == mysql.MYSQL_TYPE_FLOAT {
		return "FLOAT"
	}
	return "DOUBLE"
}

// described is a stream under other column definitions (router.Described).
type described struct {
	merge.Stream
	fields []merge.Field
}

func (d *described) Fields() []merge.Field { return d.fields }

func concatOf(in []merge.Stream) merge.Stream {
	if len(in) == 1 {
		return in[0]
	}
	return merge.Concat(in...)
}

// buildKeyed builds a primitive's input and resolves its keys over the
// input's columns.
func buildKeyed(input router.Primitive, rkeys []router.SortKey, streams map[*router.Route][]merge.Stream, cli *Client, conns Conns) (merge.Stream, []merge.SortKey, error) {
	in, err := buildStream(input, streams, cli, conns)
	if err != nil {
		return nil, nil, err
	}
	keys, err := sortKeys(rkeys, in.Fields(), cli.Pad)
	if err != nil {
		in.Close()
		return nil, nil, err
	}
	return in, keys, nil
}

// sortKeys resolves plan keys for the fields at hand. A string column is
// compared through its WEIGHT_STRING helper; without one, only a binary
// collation compares correctly byte by byte.
func sortKeys(keys []router.SortKey, fields []merge.Field, pads merge.Pads) ([]merge.SortKey, error) {
	n := len(fields)
	out := make([]merge.SortKey, len(keys))
	for i, k := range keys {
		col := k.Col.Resolve(n)
		if col < 0 || col >= n {
			return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: sort column out of range")
		}
		mk := merge.SortKey{Col: col, Desc: k.Desc, Weight: -1}
		if why := unmergeable(&fields[col], true); why != "" && !k.Position {
			return nil, mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support ordering, grouping or DISTINCT by "+why+" across shards")
		}
		if isStringType(fields[col].Type) || k.Position {
			if k.HasWeight {
				mk.Weight = k.Weight.Resolve(n)
				mk.Pads = pads
			} else if k.Collation != nil {
				mk.Coll = k.Collation
			} else if fields[col].Charset != 63 && !strings.HasSuffix(fields[col].Name, "_bin") {
				return nil, mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support ordering by string column "+fields[col].Name+" across shards by position inside *: name the column")
			}
		}
		out[i] = mk
	}
	return out, nil
}

// unmergeable says why the merge cannot order a column as the shards
// did, or "". ENUM and SET sort by position, their labels' weights do
// not (MIN and MAX compare labels, so only orders and DISTINCT care).
// MariaDB's INET6 and UUID come as strings (with the UNSIGNED flag, which
// no string has otherwise) but sort by their binary form.
func unmergeable(f *merge.Field, order bool) string {
	switch {
	case order && f.Flags&(mysql.ENUM_FLAG|mysql.SET_FLAG) != 0:
		return "ENUM/SET column " + f.Name + " (they sort by position, not label)"
	case isStringType(f.Type) && f.Flags&mysql.UNSIGNED_FLAG != 0:
		return "INET6/UUID column " + f.Name + " (MariaDB sorts them by their binary form)"
	}
	return ""
}

func isStringType(t byte) bool {
	switch t {
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_BLOB,
		mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB, mysql.MYSQL_TYPE_LONG_BLOB,
		mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET, mysql.MYSQL_TYPE_JSON:
		return true
	}
	return false
}

// evaluator reads merged rows' columns as numbers for router.Expr.
type evaluator struct {
	fields []merge.Field
	bin    bool
	err    error
}

func newEvaluator(in merge.Stream) *evaluator {
	return &evaluator{fields: in.Fields(), bin: in.Binary()}
}

// check refuses an expression that compares two strings: MySQL compares
// them by collation, which the proxy does not.
func (e *evaluator) check(x router.Expr, text string) error {
	n := len(e.fields)
	isString := func(c router.Col) bool {
		i := c.Resolve(n)
		return i >= 0 && i < n && isStringType(e.fields[i].Type)
	}
	if router.ComparesStrings(x, isString) {
		return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support comparing strings in an expression computed after merging shards ("+text+"): the servers compare them by collation")
	}
	return nil
}

func (e *evaluator) eval(x router.Expr, row merge.Row) (router.Num, error) {
	e.err = nil
	n := len(e.fields)
	v := x.Eval(func(c router.Col) router.Num {
		i := c.Resolve(n)
		val, err := merge.Decode(e.fields, e.bin, row, i)
		if err == nil {
			val, err = val.As(&e.fields[i])
		}
		if err == nil && val.Kind == merge.KindTemporal {
			// MySQL reads 2024-03-05 as 20240305; the merge keeps only a sort key.
			err = mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support a date or time column ("+e.fields[i].Name+") in an expression computed after merging shards")
		}
		if err != nil {
			if e.err == nil {
				e.err = err
			}
			return router.Num{Null: true}
		}
		return numOfValue(val, &e.fields[i])
	})
	return v, e.err
}

// numOfValue turns a decoded column into a number: exact for integers and
// DECIMAL (scale from the column), approximate for floats.
func numOfValue(v merge.Value, f *merge.Field) router.Num {
	switch v.Kind {
	case merge.KindNull:
		return router.Num{Null: true}
	case merge.KindInt:
		return router.Num{R: new(big.Rat).SetInt64(v.I)}
	case merge.KindUint:
		return router.Num{R: new(big.Rat).SetUint64(v.U)}
	case merge.KindFloat:
		return router.Num{Float: true, F: v.F}
	}
	if v.Kind == merge.KindBytes {
		// A string in a numeric context is the double its longest numeric
		// prefix spells, as MySQL reads it ('1x' is 1, 'abc' 0).
		return router.StringNum(string(v.B))
	}
	r, ok := new(big.Rat).SetString(string(v.B))
	if !ok {
		f64, err := strconv.ParseFloat(string(v.B), 64)
		if err != nil {
			return router.Num{Null: true}
		}
		return router.Num{Float: true, F: f64}
	}
	scale := 0
	if i := strings.IndexByte(string(v.B), '.'); i >= 0 {
		scale = len(v.B) - i - 1
	}
	return router.Num{R: r, Scale: scale}
}

// valueOfNum renders a computed number for its column: exact values with
// the column's scale (a quotient assigned to a variable: its digits),
// floats as floats.
func valueOfNum(n router.Num, f *merge.Field, assigned bool) (merge.Value, error) {
	switch {
	case n.Null:
		return merge.Null, nil
	case isStringType(f.Type):
		// IF(c, 'x', 2.50), COALESCE(MAX(name), 0): MySQL shows the
		// string, or the number as text.
		switch {
		case n.IsStr:
			return merge.Bytes([]byte(n.Str)), nil
		case n.Float:
			return merge.Null, mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support a floating-point value shown as a string ("+f.Name+") after merging shards")
		}
		return merge.Bytes([]byte(n.R.FloatString(n.Scale))), nil
	case n.Float:
		return merge.Float(n.F), nil
	}
	scale := int(f.Decimals)
	if scale > 38 {
		scale = n.Scale
	}
	switch f.Type {
	case mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		x, _ := n.R.Float64()
		return merge.Float(x), nil
	case mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL:
		if assigned && n.Frac > scale {
			// A variable keeps the digits a quotient holds beyond those
			// shown (as is: the column's scale would round them).
			return merge.Bytes([]byte(n.R.FloatString(n.Frac))), nil
		}
	default:
		scale = 0
	}
	return merge.Decimal([]byte(n.R.FloatString(scale))), nil
}

// writeStream sends a merged result set to the client.
// warnings counts what the shards' statements left on conns so far.
func writeStream(cli *Client, s merge.Stream, tr Tracker, out *Outcome, warnings func() uint16) error {
	c := cli.Conn
	fields := s.Fields()
	if cli.BinaryRows && !s.Binary() {
		if err := binaryKeepsDigits(fields); err != nil {
			return err
		}
	}
	var buf [9]byte
	c.WritePacket(wire.AppendLenEnc(buf[:0], uint64(len(fields))))
	for i := range fields {
		c.WritePacket(cli.ColumnDef(fields[i].Def))
	}
	status := uint16(0)
	if st, ok := tr.(interface{ ClientStatus() uint16 }); ok {
		status = st.ClientStatus()
	}
	if !cli.DeprecateEOF {
		c.WritePacket(wire.AppendEOF(buf[:0], 0, status))
	}
	for {
		row, err := s.Next()
		if err != nil {
			var me *mysql.MyError
			if errors.As(err, &me) {
				me = cli.serverErr(me)
				c.WritePacket(wire.AppendErr(nil, me))
				out.Err = me
				return nil
			}
			return err
		}
		if row == nil {
			break
		}
		out.Rows++
		if cli.BinaryRows && !s.Binary() {
			if row, err = cli.conv.binaryOf(fields, row); err != nil {
				return err
			}
		}
		c.WritePacket(row)
		if err := c.FlushIfFull(); err != nil {
			return &ClientError{Err: err}
		}
	}
	if st, ok := tr.(interface{ ClientStatus() uint16 }); ok {
		status = st.ClientStatus()
	}
	w := warnings()
	if cli.DeprecateEOF {
		ok := wire.OK{Status: status, Warnings: w}
		writeOK(cli, wire.EOFHeader, ok)
	} else {
		c.WritePacket(wire.AppendEOF(buf[:0], w, cli.status(status)))
	}
	return nil
}
