package session

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/xa"
)

// Distributed transactions. In a sharded schema whose transaction_mode is
// xa (the default), each backend connection a transaction touches runs an
// XA branch (XA START instead of START TRANSACTION). COMMIT then commits a
// single branch in one phase (XA COMMIT ... ONE PHASE, as cheap as a local
// commit) and several in two: every branch prepares; the coordinator
// writes its decision to its log and syncs it; every branch commits. A
// crash at any point leaves branches prepared that recovery (proxy/xa)
// commits or rolls back by the log, so a transaction is all or nothing.

// ER_XA_RBROLLBACK: "Transaction branch was rolled back".
const errXARollback = 1402

// wantXA reports whether a transaction begun with begin in the current
// schema runs XA branches: a sharded schema in xa mode, a plain read-write
// transaction (READ ONLY and WITH CONSISTENT SNAPSHOT stay local).
func (s *Session) wantXA(begin string) bool {
	if s.env.XA == nil {
		return false
	}
	switch strings.ToUpper(strings.Join(strings.Fields(begin), " ")) {
	case "START TRANSACTION", "START TRANSACTION READ WRITE":
	default:
		return false
	}
	name := s.schema
	if name == "" || name == "information_schema" {
		if len(s.user.Schemas) == 0 {
			return false
		}
		name = s.user.Schemas[0]
	}
	ls := s.env.Snap.Load().Schemas[name]
	return ls != nil && !ls.PassThrough && ls.Conf.XA()
}

// nextBranch names the XA branch of the next connection to join.
func (s *Session) nextBranch() string {
	if s.tx.gtrid == "" {
		s.tx.gtrid = s.env.XA.Begin()
	}
	s.tx.branches++
	return xa.XID(s.tx.gtrid, s.tx.branches)
}

// endXA ends an XA transaction with COMMIT or ROLLBACK (stmt as written).
// Only branches that wrote need the two phases; those that only read
// commit in one, at the same time as the writers' second phase, so that
// their locks are held until the writes are committed.
func (s *Session) endXA(stmt string) *mysql.MyError {
	gtrid := s.tx.gtrid
	defer s.env.XA.End(gtrid)
	var writers, readers []*backend.Conn
	for _, c := range s.pinned {
		switch {
		case c.XA == "":
		case c.XAWrote:
			writers = append(writers, c)
		default:
			readers = append(readers, c)
		}
	}
	var e *mysql.MyError
	switch {
	case !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(stmt)), "COMMIT"):
		s.xaRollback(append(writers, readers...))
	case len(writers) <= 1:
		e = s.xaOnePhase(append(writers, readers...), len(writers))
	default:
		e = s.xaTwoPhase(gtrid, writers, readers)
	}
	s.afterEnd(stmt)
	return e
}

// xaOnePhase commits branches of which at most the first wrote, each in
// one phase. The writer's failure is the transaction's.
func (s *Session) xaOnePhase(branches []*backend.Conn, writers int) *mysql.MyError {
	errs := s.atOnce(branches, func(c *backend.Conn) string { return "XA END " + c.XA + "; XA COMMIT " + c.XA + " ONE PHASE" })
	var e *mysql.MyError
	for i, c := range branches {
		if errs[i] != nil {
			if i < writers {
				e = asMyError(errs[i])
				if c.Broken() {
					e = lostAtCommit(c.Server().Host().Name, len(branches)-1)
				}
			}
			s.xaRollback([]*backend.Conn{c})
			continue
		}
		s.endBranch(c, false)
	}
	return e
}

// xaTwoPhase prepares every writing branch, records the decision, then
// commits the writers (and the readers, in one phase). Until the decision
// is on disk, any failure rolls everything back; after it, the transaction
// is committed whatever happens: a branch that cannot be told now is
// committed by recovery.
func (s *Session) xaTwoPhase(gtrid string, writers, readers []*backend.Conn) *mysql.MyError {
	errs := s.atOnce(writers, func(c *backend.Conn) string { return "XA END " + c.XA + "; XA PREPARE " + c.XA })
	for i, err := range errs {
		if err != nil {
			s.xaRollback(append(writers, readers...))
			return mysql.NewError(errXARollback, "shardgate: the transaction was rolled back: "+
				writers[i].Server().Host().Name+" could not prepare its part: "+asMyError(err).Message)
		}
	}
	xa.Fault(xa.FaultAfterPrepare)
	if err := s.env.XA.Log.Commit(gtrid); err != nil {
		s.xaRollback(append(writers, readers...))
		return mysql.NewError(errXARollback, "shardgate: the transaction was rolled back: its commit decision could not be recorded: "+err.Error())
	}
	xa.Fault(xa.FaultAfterDecision)
	// Every branch is told at once; the fault point between the first
	// statement and the others leaves one branch committing and the others
	// prepared, for the recovery tests.
	branches := append(writers[:len(writers):len(writers)], readers...)
	errs = make([]error, len(branches))
	for i, c := range branches {
		if c.XAWrote {
			errs[i] = c.Send("XA COMMIT " + c.XA)
		} else {
			errs[i] = c.Send("XA END " + c.XA + "; XA COMMIT " + c.XA + " ONE PHASE")
		}
		if i == 0 {
			xa.Fault(xa.FaultAfterFirstCommit)
		}
	}
	s.awaitAll(branches, errs)
	done := true
	for i, c := range branches {
		if errs[i] != nil && c.XAWrote {
			// Committed by the decision; recovery tells this branch.
			done = false
			s.log.Warn("xa: a branch did not commit; recovery will", "xid", c.XA, "server", c.Server().String(), "err", errs[i])
		}
		s.endBranch(c, errs[i] != nil)
	}
	if done {
		s.env.XA.Log.Done(gtrid)
	}
	return nil
}

// atOnce sends each connection its statement, then reads the answers: the
// nodes work at once.
func (s *Session) atOnce(conns []*backend.Conn, stmt func(*backend.Conn) string) []error {
	errs := make([]error, len(conns))
	for i, c := range conns {
		errs[i] = c.Send(stmt(c))
	}
	s.awaitAll(conns, errs)
	return errs
}

// awaitAll reads the answer of each connection whose send did not fail
// (errs[i] == nil) into errs, keeping each OK's status and session state.
func (s *Session) awaitAll(conns []*backend.Conn, errs []error) {
	for i, c := range conns {
		if errs[i] != nil {
			continue
		}
		ok, err := c.Await()
		if err == nil {
			c.Status = ok.Status
			s.TrackOK(c, &ok)
		}
		errs[i] = err
	}
}

// xaRollback rolls every branch back, whatever state each is in. A branch
// that cannot be reached is rolled back by its server (not prepared) or by
// recovery (prepared, no decision).
func (s *Session) xaRollback(branches []*backend.Conn) {
	for _, c := range branches {
		if c.Broken() {
			s.endBranch(c, true)
			continue
		}
		_, _ = c.Exec("XA END " + c.XA) // fails when already ended or rolled back
		ok, err := c.Exec("XA ROLLBACK " + c.XA)
		if err == nil {
			c.Status = ok.Status
		}
		s.endBranch(c, err != nil)
	}
}

// endBranch gives back a connection whose branch ended. A connection whose
// branch may still be open is closed: the server then rolls back an
// unprepared branch and detaches a prepared one for recovery.
func (s *Session) endBranch(c *backend.Conn, failed bool) {
	c.XA, c.XAWrote = "", false
	if failed {
		c.MarkBroken()
	} else {
		c.Status &^= mysql.SERVER_STATUS_IN_TRANS
	}
	s.release(c, nil, failed)
}

// mayWrite reports whether a statement sent whole to a backend may change
// data there.
func mayWrite(sum *parser.Summary) bool {
	switch sum.Kind {
	case parser.KindSelect, parser.KindShow, parser.KindSet, parser.KindExplain, parser.KindEmpty, parser.KindUse:
		return false
	}
	return true
}

func asMyError(err error) *mysql.MyError {
	if me, ok := err.(*mysql.MyError); ok {
		return me
	}
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: "+err.Error())
}
