package session

import (
	"context"
	"errors"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/wire"
)

// Reads and writes: a statement runs on its data host's primary unless it
// is a plain read outside a transaction, which the host's balance policy
// may send to a replica. After the session writes on a host, its reads
// there go to a replica only once that replica has applied the write
// (read-your-writes, by the write's GTID), else to the primary.

// rywWait bounds how long a replica may take to apply the session's last
// write before the read goes to the primary instead (MASTER_GTID_WAIT's
// timeout, in seconds).
const rywWait = "0.05"

// readRetries is how many times a read that failed before its answer
// started is tried again, on another server when its server is down.
const readRetries = 3

// notOnReplica are the flags of reads that must see the primary.
const notOnReplica = parser.FlagLockingRead | parser.FlagSideEffect | parser.FlagSequence |
	parser.FlagLastInsertID | parser.FlagPin | parser.FlagFile | parser.FlagGlobal

// written is the position of the session's last write on a data host.
type written struct {
	pos string // as the server reported it (last_gtid)
	set backend.GTIDSet
}

// replicaRead reports whether a statement is a plain read a replica may
// answer: one SELECT without locks or side effects, outside a
// transaction, with autocommit on, not hinted to the primary.
func (s *Session) replicaRead(sum *parser.Summary) bool {
	// A multi-statement text goes whole to one server: the primary, as it may write.
	if sum == nil || sum.Kind != parser.KindSelect || sum.Next != 0 || sum.Hint == parser.HintPrimary || sum.Flags&notOnReplica != 0 {
		return false
	}
	return !s.pinAll && s.locks == nil && s.keep == nil && !s.inTransaction() && s.status&mysql.SERVER_STATUS_AUTOCOMMIT != 0
}

// noteWrite records the GTID of a write the session made on c's data host.
func (s *Session) noteWrite(c *backend.Conn, gtid string) {
	if c == nil || gtid == "" {
		return
	}
	if s.written == nil {
		s.written = map[string]written{}
	}
	s.written[c.Server().Host().Name] = written{pos: gtid, set: backend.ParseGTIDSet(gtid)}
}

// acquireFor returns a connection on data host h for a statement: a
// replica's for a replica read, the primary's otherwise. A replica that
// has not applied the session's last write there gets a short wait; if it
// does not catch up, the read goes to the primary.
func (s *Session) acquireFor(h *backend.DataHost, sum *parser.Summary) (*backend.Conn, error) {
	if !s.replicaRead(sum) {
		return s.acquirePrimary(h, sum)
	}
	if sum.Flags&parser.FlagPrevResult != 0 && s.last != nil && s.last.Server().Host() == h {
		// FOUND_ROWS() reads the previous statement's connection.
		return s.acquire(s.last.Server(), sum.Flags)
	}
	var need written
	if h.Config().RYW() && sum.Hint != parser.HintReplica {
		need = s.written[h.Name]
	}
	srv, mustWait := h.ReadServer(need.set, sum.Hint == parser.HintReplica)
	if srv.Role() == backend.RolePrimary {
		return s.acquirePrimary(h, sum)
	}
	c, err := s.acquire(srv, sum.Flags)
	if err != nil || !mustWait {
		return c, err
	}
	var res string
	err = c.Query("SELECT MASTER_GTID_WAIT("+backend.QuoteString(need.pos)+", "+rywWait+")", func(_ []wire.ColumnRef, v [][]byte) error {
		res = string(v[0])
		return nil
	}, nil)
	if err == nil && res == "0" {
		srv.NoteApplied(need.set)
		return c, nil
	}
	s.release(c, nil, err != nil)
	if err != nil && c.Broken() {
		return nil, &exec.BackendError{Err: err}
	}
	return s.acquirePrimary(h, sum)
}

// acquirePrimary returns a connection to h's primary. While the host fails
// over (or its primary is down and failover is automatic) it waits for the
// new primary, up to failover_wait, instead of failing.
func (s *Session) acquirePrimary(h *backend.DataHost, sum *parser.Summary) (*backend.Conn, error) {
	var flags parser.Flag
	if sum != nil {
		flags = sum.Flags
	}
	var deadline time.Time // set when it first has to wait
	for {
		p, ready := h.PrimaryNow()
		if !ready {
			if deadline.IsZero() {
				deadline = time.Now().Add(h.Config().FailoverWait)
			}
			var err error
			if p, err = h.PrimaryWait(context.Background(), deadline); err != nil {
				return nil, err
			}
		}
		c, err := s.acquire(p, flags)
		if err != nil && isDialError(err) && h.Config().Failover == "auto" && (deadline.IsZero() || time.Now().Before(deadline)) {
			continue // p is marked down now: wait for it or its successor
		}
		return c, err
	}
}

// isDialError reports a failure to connect. A function of its own: the
// target errors.As needs lives on the heap, allocated only on failure.
func isDialError(err error) bool {
	var de *backend.DialError
	return errors.As(err, &de)
}

// retryRead reports whether a statement that failed with err may run
// again: a plain read whose answer has not reached the client, failed by
// its server (see serverFailed).
func (s *Session) retryRead(sum *parser.Summary, srv *backend.Server, err error, attempt int) bool {
	return s.serverFailed(srv, err) && attempt < readRetries && s.replicaRead(sum) && s.retrying(err)
}

// retryPrepare is retryRead for COM_STMT_PREPARE, which changes no data.
func (s *Session) retryPrepare(err error, attempt int) bool {
	return s.serverFailed(nil, err) && attempt < readRetries && s.retrying(err)
}

// serverFailed reports whether err is the server's failure, not the
// statement's (it cannot be reached, or the connection broke), with none
// of the answer sent. A server that cannot be reached is marked down (by
// its pool), so a next try goes elsewhere; a server whose connection
// broke has its pool drained, its other connections being likely dead
// too (a crash, a restart).
func (s *Session) serverFailed(srv *backend.Server, err error) bool {
	var de *backend.DialError
	if errors.As(err, &de) {
		return true
	}
	var be *exec.BackendError
	if !errors.As(err, &be) {
		return false
	}
	if srv == nil {
		srv = s.brokenOn
	}
	if srv != nil {
		srv.Pool.Drain()
	}
	return !be.Answered
}

// retrying takes back what the failed try wrote to the client.
func (s *Session) retrying(err error) bool {
	if !s.c.Rewind(s.mark) {
		return false
	}
	s.log.Debug("retrying after a backend failure", "session", s.ID, "err", err)
	return true
}
