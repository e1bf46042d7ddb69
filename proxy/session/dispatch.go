package session

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/exec"
)

// ErrQuit ends the session normally (COM_QUIT).
var ErrQuit = errors.New("client quit")

// Dispatch answers one command. An error ends the connection: the client
// left, or the connection cannot be kept in a known state.
func (s *Session) Dispatch(p []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			// A panic is a bug; the client gets an error and keeps its
			// connection only if nothing was half-sent and no transaction
			// was open: giving the connections back ends a transaction,
			// and the client learns that only from a closed connection.
			s.log.Error("panic while answering a command", "session", s.ID, "panic", r, "stack", string(debug.Stack()))
			keep := s.c.Rewind(s.mark) && !s.inTransaction()
			s.unpinAll(false)
			werr := s.writeErr(errf(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf("shardgate internal error: %v", r)))
			if err = werr; !keep {
				err = fmt.Errorf("internal error: %v", r)
			}
		}
	}()
	s.env.Questions.Add(1)
	s.mark, s.brokenOn = s.c.Mark(), nil
	defer func() {
		if s.txNextUsed {
			// SET TRANSACTION applies to the next transaction only.
			s.tx.next, s.txNextUsed = "", false
		}
	}()
	if len(p) == 0 {
		return s.writeErr(errf(mysql.ER_UNKNOWN_COM_ERROR, "Unknown command"))
	}
	switch p[0] {
	case mysql.COM_QUERY:
		return s.observeQuery(p) // comQuery behind the firewall and statistics (observe.go)
	case mysql.COM_PING:
		return s.writeOK(0, 0, "")
	case mysql.COM_QUIT:
		return ErrQuit
	case mysql.COM_INIT_DB:
		if e := s.use(string(p[1:])); e != nil {
			return s.writeErr(e)
		}
		return s.writeOK(0, 0, "")
	case mysql.COM_STMT_PREPARE:
		return s.stmtPrepare(p)
	case mysql.COM_STMT_EXECUTE:
		return s.observeExecute(p) // stmtExecute, observed (observe.go)
	case mysql.COM_STMT_SEND_LONG_DATA:
		s.stmtLongData(p)
		return nil
	case mysql.COM_STMT_RESET:
		return s.stmtReset(p)
	case mysql.COM_STMT_CLOSE:
		s.stmtClose(p)
		return nil
	case mysql.COM_STMT_FETCH:
		return s.stmtFetch(p)
	case mysql.COM_FIELD_LIST:
		return s.fieldList(p)
	case mysql.COM_RESET_CONNECTION:
		s.reset()
		return s.writeOK(0, 0, "")
	case mysql.COM_CHANGE_USER:
		return s.changeUser(p)
	case mysql.COM_SET_OPTION:
		return s.setOption(p)
	case mysql.COM_STATISTICS:
		return s.statistics()
	case mysql.COM_PROCESS_KILL:
		if len(p) < 5 {
			return s.writeErr(errf(mysql.ER_MALFORMED_PACKET, "Malformed communication packet"))
		}
		id := uint32(p[1]) | uint32(p[2])<<8 | uint32(p[3])<<16 | uint32(p[4])<<24
		return s.kill(id, false)
	case mysql.COM_REFRESH:
		// Only tables and status are the client's to flush.
		if len(p) < 2 || p[1]&^(0x04|0x10) != 0 {
			return s.writeErr(mysql.NewDefaultError(mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, "RELOAD"))
		}
		return s.forwardCommand(p)
	case mysql.COM_DEBUG:
		return s.forwardCommand(p)
	case mysql.COM_SHUTDOWN:
		return s.writeErr(mysql.NewDefaultError(mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, "SHUTDOWN"))
	}
	return s.writeErr(errf(mysql.ER_UNKNOWN_COM_ERROR, "Unknown command"))
}

// setOption answers COM_SET_OPTION (multi-statements on or off) with EOF.
func (s *Session) setOption(p []byte) error {
	if len(p) < 3 {
		return s.writeErr(errf(mysql.ER_MALFORMED_PACKET, "Malformed communication packet"))
	}
	switch uint16(p[1]) | uint16(p[2])<<8 {
	case 0:
		s.multiStatements = true
	case 1:
		s.multiStatements = false
	default:
		return s.writeErr(errf(mysql.ER_UNKNOWN_COM_ERROR, "Unknown command"))
	}
	if s.cli.DeprecateEOF {
		return s.writeOK(0, 0, "")
	}
	var b [5]byte
	s.c.WritePacket(appendEOF(b[:0], s.status))
	return s.c.Flush()
}

func appendEOF(b []byte, status uint16) []byte {
	return append(b, 0xfe, 0, 0, byte(status), byte(status>>8))
}

// statistics answers COM_STATISTICS with a status line like MySQL's.
func (s *Session) statistics() error {
	up := time.Since(s.env.Started)
	q := s.env.Questions.Load()
	secs := max(up.Seconds(), 1)
	line := fmt.Sprintf("Uptime: %d  Threads: %d  Questions: %d  Slow queries: 0  Opens: 0  Open tables: 0  Queries per second avg: %.3f",
		int64(up.Seconds()), s.env.Registry.Count(), q, float64(q)/secs)
	s.c.WritePacket([]byte(line))
	return s.c.Flush()
}

// reset answers COM_RESET_CONNECTION: the session starts over, keeping its
// user, schema and charset.
func (s *Session) reset() {
	s.unpinAll(true)
	charset := s.vars
	s.vars = charsetOnly(charset)
	s.followTimeouts()
	s.stmts = map[uint32]*stmt{}
	s.lastInsertID = 0
	s.diag.clear()
	s.pinAll, s.txLost = false, ""
	s.status = mysql.SERVER_STATUS_AUTOCOMMIT
	s.multiStatements = s.caps&mysql.CLIENT_MULTI_STATEMENTS != 0
}

// handleExecErr turns an exec failure into what the client sees. A client
// write failure ends the session; a backend failure is reported as an error.
func (s *Session) handleExecErr(err error) error {
	var ce *exec.ClientError
	if errors.As(err, &ce) {
		return ce.Err
	}
	var be *exec.BackendError
	backendErr := errors.As(err, &be)
	if !backendErr || !be.Answered {
		s.c.Rewind(s.mark)
	} // (after some rows an ERR packet still ends the result cleanly)
	if host := s.txLost; host != "" {
		// The transaction's part on that host is gone: the rest goes too,
		// and the client is told, as after a deadlock (it must not go on
		// as if its earlier statements stood).
		s.endTransaction("ROLLBACK")
		return s.writeErr(errf(mysql.ER_LOCK_DEADLOCK, "shardgate: the transaction was rolled back: its connection to data host "+
			host+" was lost ("+err.Error()+"); restart the transaction"))
	}
	if e := s.locksLost(err.Error()); e != nil {
		return s.writeErr(e)
	}
	var me *mysql.MyError
	switch {
	case backendErr:
		return s.writeErr(errf(mysql.ER_UNKNOWN_ERROR, "shardgate: lost connection to backend during query: "+be.Err.Error()))
	case errors.As(err, &me):
		return s.writeErr(me)
	}
	return s.writeErr(errf(mysql.ER_UNKNOWN_ERROR, "shardgate: "+err.Error()))
}
