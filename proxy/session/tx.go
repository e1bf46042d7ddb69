package session

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
)

// Transactions are the proxy's: BEGIN is answered at once and replayed on
// each backend connection when a statement first needs it there, so a
// transaction can span data nodes; COMMIT and ROLLBACK go to every
// connection the transaction touched. (Atomic commit across nodes is XA's
// job, in the transactions work.)

// txState is the session's open transaction, as the proxy knows it.
type txState struct {
	open bool
	// begin starts the transaction on a backend ("START TRANSACTION ...").
	begin string
	// xa: its branches are XA branches (XA START on each connection), so
	// that a commit across nodes is atomic; see xa.go.
	xa bool
	// gtrid names the XA transaction once a branch started; branches
	// counts them (each connection's branch qualifier).
	gtrid    string
	branches int
	// implicit: opened by the proxy, not by BEGIN — a statement with
	// autocommit off, or an autocommit write on several shards (auto).
	implicit, auto bool
	// savepoints are replayed on connections joining later.
	savepoints []string
	// next is a pending SET TRANSACTION (without SESSION) for the next
	// transaction only.
	next string
}

// joinTransaction starts the session's transaction on a connection that
// does not have it yet, and applies a pending SET TRANSACTION. The start
// goes out with the statement about to run (ExecAhead): in the same packet
// for a query, so one round trip instead of two, and the statement never
// runs if the start fails (the connection is then broken and the
// transaction lost with it: release).
func (s *Session) joinTransaction(c *backend.Conn) error {
	if c.Status&mysql.SERVER_STATUS_IN_TRANS != 0 {
		return nil
	}
	var stmts []string
	if s.tx.next != "" {
		stmts = append(stmts, s.tx.next)
	}
	if s.tx.open {
		if c.Locked {
			// START TRANSACTION would release the connection's table locks:
			// with autocommit off the transaction starts with the statement.
			if s.status&mysql.SERVER_STATUS_AUTOCOMMIT != 0 {
				stmts = append(stmts, "SET autocommit = 0")
				c.AutocommitOff, s.autocommitOff = true, true
			}
		} else if s.tx.xa {
			c.XA = s.nextBranch()
			stmts = append(stmts, "XA START "+c.XA)
		} else {
			stmts = append(stmts, s.tx.begin)
		}
		stmts = append(stmts, s.tx.savepoints...)
	}
	if len(stmts) == 0 {
		return nil
	}
	if s.tx.open {
		c.ExecAhead(stmts...)
		c.Status |= mysql.SERVER_STATUS_IN_TRANS
		return nil
	}
	ok, err := c.Exec(strings.Join(stmts, "; "))
	if err != nil {
		c.XA = ""
		return err
	}
	c.Status = ok.Status
	if s.tx.next != "" && !s.tx.open {
		// The characteristic is for this statement's transaction only; if
		// the statement does not use it up, nobody else may inherit it.
		c.ResetBeforeReuse = true
		s.txNextUsed = true
	}
	return nil
}

// handleTx answers BEGIN/START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT
// and SET TRANSACTION. It reports false for statements it leaves to the
// backend (XA, ROLLBACK TO on a connection without the savepoint...).
func (s *Session) handleTx(sql string, sum *parser.Summary) (bool, error) {
	switch sum.Kind {
	case parser.KindBegin:
		if sum.Second == "NOT" { // BEGIN NOT ATOMIC: a compound statement
			return false, nil
		}
		if off := txSyntax(sql); off >= 0 {
			return true, s.writeErr(syntaxError(sql[off:]))
		}
		// An open transaction is committed first and table locks are
		// released, as MySQL does; a pending SET TRANSACTION is for the
		// transaction starting now.
		next := s.tx.next
		if e := s.endTransaction("COMMIT"); e != nil {
			return true, s.writeErr(e)
		}
		if e := s.unlockTables(); e != nil {
			return true, s.writeErr(e)
		}
		s.tx.next = next
		s.openTransaction(sql, false)
		return true, s.writeOK(0, 0, "")
	case parser.KindCommit, parser.KindRollback:
		if sum.Second == "TO" || strings.Contains(strings.ToUpper(sql), " TO ") {
			return true, s.toPinned(sql)
		}
		if off := txSyntax(sql); off >= 0 {
			return true, s.writeErr(syntaxError(sql[off:]))
		}
		if e := s.endTransaction(sql); e != nil {
			return true, s.writeErr(e)
		}
		return true, s.writeOK(0, 0, "")
	case parser.KindSavepoint:
		if !s.inTransaction() {
			return false, nil
		}
		if parser.EqualFold(sum.Second, "") || strings.HasPrefix(strings.ToUpper(strings.TrimSpace(sql)), "SAVEPOINT") {
			s.tx.savepoints = append(s.tx.savepoints, sql)
		}
		return true, s.toPinned(sql)
	case parser.KindSet:
		if sum.Flags&parser.FlagSetTransaction == 0 {
			return false, nil
		}
		if _, err := parser.Parse(sql); err != nil {
			return true, s.writeErr(syntaxError(sql))
		}
		if s.inTransaction() {
			return true, s.writeErr(mysql.NewError(1568, "Transaction characteristics can't be changed while a transaction is in progress"))
		}
		s.tx.next = sql
		return true, s.writeOK(0, 0, "")
	}
	return false, nil
}

// openTransaction opens the session's transaction; no backend hears of
// it until a statement needs one (joinTransaction).
func (s *Session) openTransaction(begin string, implicit bool) {
	if parser.EqualFold(strings.TrimSpace(begin), "BEGIN") || parser.EqualFold(strings.TrimSpace(begin), "BEGIN WORK") {
		begin = "START TRANSACTION"
	}
	s.tx.open, s.tx.begin, s.tx.savepoints = true, begin, nil
	// (Not under LOCK TABLES: the servers refuse XA START there.)
	s.tx.xa, s.tx.gtrid, s.tx.branches = s.wantXA(begin) && s.locks == nil, "", 0
	s.tx.implicit, s.tx.auto = implicit, false
}

// endTransaction sends COMMIT or ROLLBACK (as written) to every
// connection in the transaction and releases them.
// statementError ends the relay of a statement's answer: its error goes
// to the session's diagnostics (SHOW WARNINGS), and after a deadlock,
// where the server rolled its part of the transaction back (or the proxy
// stopped the statement to break one across hosts), the rest of the
// transaction goes too, as in MySQL.
func (s *Session) statementError(e *mysql.MyError) {
	s.diag.addError(e)
	if e != nil && e.Code == mysql.ER_LOCK_DEADLOCK && s.tx.open {
		s.endTransaction("ROLLBACK")
	}
}

func (s *Session) endTransaction(stmt string) *mysql.MyError {
	if s.tx.gtrid != "" {
		return s.endXA(stmt)
	}
	// Every node ends its part at once (the OKs carry each commit's GTID,
	// for read-your-writes).
	var open []*backend.Conn
	for _, c := range s.pinned {
		if c.Status&mysql.SERVER_STATUS_IN_TRANS != 0 {
			open = append(open, c)
		}
	}
	errs := s.atOnce(open, func(*backend.Conn) string { return stmt })
	var firstErr error
	var lost []string // hosts whose connection died before answering
	for i, c := range open {
		if errs[i] != nil {
			if c.Broken() {
				lost = append(lost, c.Server().Host().Name)
			} else if firstErr == nil {
				firstErr = errs[i]
			}
		}
		s.release(c, nil, errs[i] != nil)
	}
	s.restoreAutocommit()
	s.afterEnd(stmt)
	if me, ok := firstErr.(*mysql.MyError); ok {
		return me
	}
	if firstErr != nil {
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: "+firstErr.Error())
	}
	if len(lost) > 0 && strings.HasPrefix(strings.ToUpper(strings.TrimSpace(stmt)), "COMMIT") {
		return lostAtCommit(strings.Join(lost, ", "), len(open)-len(lost))
	}
	return nil // (a ROLLBACK whose connection died: the server rolled back)
}

// lostAtCommit is the error for a COMMIT whose connection to hosts died
// before it answered: as for a client of one server, whether the part
// there committed is unknown.
func lostAtCommit(hosts string, committed int) *mysql.MyError {
	return mysql.NewError(mysql.ER_ERROR_DURING_COMMIT, fmt.Sprintf(
		"shardgate: COMMIT: the connection to data host(s) %s was lost before it answered: whether the transaction's part there committed is unknown; its parts on %d other connection(s) committed",
		hosts, committed))
}

// afterEnd closes the transaction after COMMIT or ROLLBACK, or opens the
// next one for AND CHAIN.
func (s *Session) afterEnd(stmt string) {
	up := strings.ToUpper(stmt)
	if strings.Contains(up, "CHAIN") && !strings.Contains(up, "NO CHAIN") {
		s.openTransaction(s.tx.begin, s.tx.implicit)
	} else {
		s.tx.open, s.tx.savepoints, s.tx.xa, s.tx.gtrid = false, nil, false, ""
	}
	s.txLost = ""
	s.tx.next = ""
}

// toPinned runs a statement on every connection of the transaction and
// answers with the first error or OK.
func (s *Session) toPinned(stmt string) error {
	for _, c := range append([]*backend.Conn(nil), s.pinned...) {
		if c.Status&mysql.SERVER_STATUS_IN_TRANS == 0 {
			continue
		}
		ok, err := c.Exec(stmt)
		if err != nil {
			s.release(c, nil, true)
			if me, ok := err.(*mysql.MyError); ok {
				return s.writeErr(me)
			}
			return s.writeErr(mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: "+err.Error()))
		}
		c.Status = ok.Status
	}
	return s.writeOK(0, 0, "")
}

// txSyntax checks BEGIN, START TRANSACTION, COMMIT and ROLLBACK (not TO a
// savepoint), which the proxy answers without a server, against MariaDB's
// grammar. It returns the offset of the first word that does not fit it,
// or -1. (The TiDB parser knows neither WORK nor a list of START options.)
//
//	BEGIN [WORK]
//	START TRANSACTION [opt [, opt]...]   opt: WITH CONSISTENT SNAPSHOT | READ ONLY | READ WRITE
//	{COMMIT | ROLLBACK} [WORK] [AND [NO] CHAIN] [[NO] RELEASE]
func txSyntax(sql string) int {
	l := parser.NewLexer(sql)
	t := l.Next()
	word := func(w string) bool {
		if t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), w) {
			t = l.Next()
			return true
		}
		return false
	}
	switch {
	case word("BEGIN"):
		word("WORK")
	case word("START"):
		if !word("TRANSACTION") {
			return t.Start
		}
		for t.Kind == parser.TokIdent { // options
			switch {
			case word("WITH"):
				if !word("CONSISTENT") || !word("SNAPSHOT") {
					return t.Start
				}
			case word("READ"):
				if !word("ONLY") && !word("WRITE") {
					return t.Start
				}
			default:
				return t.Start
			}
			if t.Kind != parser.TokOp || l.Text(t) != "," {
				break
			}
			if t = l.Next(); t.Kind != parser.TokIdent {
				return t.Start
			}
		}
	case word("COMMIT"), word("ROLLBACK"):
		word("WORK")
		if word("AND") {
			word("NO")
			if !word("CHAIN") {
				return t.Start
			}
		}
		if word("NO") {
			if !word("RELEASE") {
				return t.Start
			}
		} else {
			word("RELEASE")
		}
	default:
		return t.Start
	}
	if t.Kind == parser.TokSemicolon {
		t = l.Next()
	}
	if t.Kind != parser.TokEOF {
		return t.Start
	}
	return -1
}
