// Package exec runs statements on backend connections and streams their
// results to the client. A row that needs no merging goes out as the bytes
// the backend sent; only the packets around rows (column count, EOF, OK)
// are looked at, to convert between EOF styles and to learn the session's
// state.
package exec

import (
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router/merge"
)

// Client is the client side of a relay.
type Client struct {
	Conn *wire.Conn
	// MoreResults is set while answering one statement of several: every
	// final OK/EOF then carries SERVER_MORE_RESULTS_EXISTS.
	MoreResults  bool
	DeprecateEOF bool // CLIENT_DEPRECATE_EOF: no EOF after columns, OK(0xfe) at the end
	SessionTrack bool // CLIENT_SESSION_TRACK: OK packets carry info as lenenc
	LocalFiles   bool // CLIENT_LOCAL_FILES: the client may send files
	// Pad maps PAD SPACE collations to the weight of a space (merging).
	Pad merge.Pads
	// Names maps physical names back to logical ones (nil: none).
	Names *Names
	// BinaryRows converts text-protocol rows from the backends to the
	// binary protocol: a prepared statement the proxy ran as text.
	BinaryRows bool
	// HideStatus are backend status flags the client must not see (the
	// transaction of an autocommit statement the proxy made atomic).
	HideStatus uint16
	// Atomic: a write of several statements inside a transaction must be
	// all or nothing, as one server's statement is (a savepoint first on
	// each connection, rolled back to when a statement fails).
	Atomic bool
	// InsertID, when set, is the last-insert-id of the OK packets: the
	// first id the proxy generated for the running INSERT.
	InsertID uint64
	// IDs, set for an INSERT ... SELECT into a table whose ids the proxy
	// generates, gives them to the rows that ask.
	IDs *IDSource
	// FixedTime: the session set @@timestamp, which every copy of a
	// global table, or shard, then has already (see planTime).
	FixedTime bool
	// StmtVars are the client's own SET STATEMENT assignments for its
	// statement ("a = 1, b = 2"): every statement sent for it sets them.
	StmtVars string
	// prefix goes before each statement of a plan (planPrefix).
	prefix string
	// GroupConcatMaxLen is the session's group_concat_max_len: a
	// GROUP_CONCAT() merged across shards must not reach it.
	GroupConcatMaxLen int
	// Assigned: the rows go into variables, which keep every digit of a
	// DECIMAL quotient (an AVG: merge.AggFunc.Unrounded; a division:
	// valueOfNum), not only those a result shows.
	Assigned bool
	// Deadlocked, when set, reports that the session's statement was
	// stopped to break a deadlock across data hosts: the server's
	// "interrupted" is then MySQL's deadlock error (serverErr).
	Deadlocked func() bool
	// Affected is the affected rows of the last OK written (an answer
	// that ends with an OK, not rows), -1 after rows: what ROW_COUNT()
	// then says. The caller resets it.
	Affected int64
	conv     rowConverter
	defBuf   []byte // a column definition renamed for the client (ColumnDef)
}

// serverErr is a server's error as the client sees it: a statement the
// session stopped to break a deadlock (Deadlocked) gets MySQL's deadlock
// error, and messages name logical tables.
func (cli *Client) serverErr(me *mysql.MyError) *mysql.MyError {
	if cli.deadlocked(me) {
		return mysql.NewDefaultError(mysql.ER_LOCK_DEADLOCK)
	}
	me.Message = cli.Names.Message(me.Message)
	return me
}

// errPacket is serverErr for an ERR packet: the packet for the client,
// and the error as the server gave it (or the deadlock error).
func (cli *Client) errPacket(p []byte) ([]byte, *mysql.MyError) {
	me := wire.ParseErr(p)
	if cli.deadlocked(me) {
		me = mysql.NewDefaultError(mysql.ER_LOCK_DEADLOCK)
		return wire.AppendErr(nil, me), me
	}
	return cli.Names.ErrPacket(p), me
}

// deadlocked: me is the "interrupted" of a statement stopped to break a
// deadlock (Deadlocked).
func (cli *Client) deadlocked(me *mysql.MyError) bool {
	return me.Code == mysql.ER_QUERY_INTERRUPTED && cli.Deadlocked != nil && cli.Deadlocked()
}

// ColumnDef is a column definition as the client must see it, with
// logical names (see Names.ColumnDef); valid until the next call.
func (cli *Client) ColumnDef(def []byte) []byte { return cli.Names.ColumnDef(&cli.defBuf, def) }

// status adds what the client must see to a backend's status flags.
func (cli *Client) status(st uint16) uint16 {
	if cli.MoreResults {
		st |= mysql.SERVER_MORE_RESULTS_EXISTS
	}
	return st &^ cli.HideStatus
}

// Tracker learns from the backend's responses what the session became.
type Tracker interface {
	// TrackOK sees every OK packet (session-state changes included) and
	// the connection that sent it (nil for an OK the proxy made up).
	TrackOK(c *backend.Conn, ok *wire.OK)
	// TrackStatus sees the server status flags at the end of each result.
	TrackStatus(status uint16)
}

// Outcome summarizes a relayed command.
type Outcome struct {
	// Err is the error the backend returned, already sent to the client.
	Err *mysql.MyError
	// Rows counts relayed rows; Affected sums affected rows.
	Rows, Affected uint64
	// FoundRows is a SELECT SQL_CALC_FOUND_ROWS's count over its shards
	// (router.Plan.FoundRows), when FoundRowsKnown: every shard told.
	FoundRows      uint64
	FoundRowsKnown bool
	// Notes are warnings the proxy gave for a server (CHECKSUM TABLE of
	// a table the schema lacks), the statement's after the servers'.
	Notes []backend.Warning
}

// BackendError wraps an I/O failure on the backend side; the connection is
// broken and the client has not been answered (unless Answered).
type BackendError struct {
	Err      error
	Answered bool
}

func (e *BackendError) Error() string { return e.Err.Error() }

// ClientError wraps a failure to write to the client.
type ClientError struct{ Err error }

func (e *ClientError) Error() string { return e.Err.Error() }

// Result relays the response to a COM_QUERY or COM_STMT_EXECUTE, all of its
// result sets, to the client. It does not flush the final packets.
func Result(cli *Client, be *backend.Conn, tr Tracker) (Outcome, error) {
	var out Outcome
	for {
		p, err := be.ReadPacket()
		if err != nil {
			be.MarkBroken()
			return out, &BackendError{Err: err, Answered: out.Rows > 0}
		}
		switch p[0] {
		case wire.OKHeader:
			ok, err := wire.ParseOK(p, true)
			if err != nil {
				be.MarkBroken()
				return out, &BackendError{Err: err}
			}
			be.Status = ok.Status
			be.Warnings += uint32(ok.Warnings)
			tr.TrackOK(be, &ok)
			out.Affected += ok.AffectedRows
			writeOK(cli, wire.OKHeader, ok)
			if ok.Status&mysql.SERVER_MORE_RESULTS_EXISTS == 0 {
				return out, nil
			}
		case wire.ErrHeader:
			var pkt []byte
			pkt, out.Err = cli.errPacket(p)
			cli.Conn.WritePacket(pkt)
			return out, nil
		case wire.LocalInfileHeder:
			if !cli.LocalFiles {
				refuseLocalInfile(be)
				out.Err = answerErr(cli, errNoLocalInfile()).Err
				return out, nil
			}
			if err := localInfile(cli, be, p); err != nil {
				return out, err
			}
		default:
			more, err := resultSet(cli, be, p, tr, &out)
			if err != nil || !more {
				return out, err
			}
		}
	}
}

// writeOK writes a server's OK as the client's: with the client's status
// (its own multi-statement query may have more results to come) and insert
// id. The caller's ok stays the server's.
func writeOK(cli *Client, header byte, ok wire.OK) {
	c := cli.Conn
	if header == wire.OKHeader {
		cli.Affected = int64(ok.AffectedRows)
	}
	ok.Status = cli.status(ok.Status)
	if cli.InsertID != 0 {
		ok.LastInsertID = cli.InsertID
	}
	var buf [64]byte
	b := wire.AppendOK(buf[:0], header, &ok, cli.SessionTrack)
	c.WritePacket(b)
}

// resultSet relays one result set whose column-count packet is p.
func resultSet(cli *Client, be *backend.Conn, p []byte, tr Tracker, out *Outcome) (more bool, err error) {
	n, _, k := wire.ReadLenEnc(p)
	if k == 0 {
		be.MarkBroken()
		return false, &BackendError{Err: wire.ErrMalformed}
	}
	c := cli.Conn
	c.WritePacket(p)
	status, err := Columns(cli, be, int(n))
	if err != nil {
		return false, err
	}
	if status&mysql.SERVER_STATUS_CURSOR_EXISTS != 0 {
		// A cursor was opened: rows come later, through COM_STMT_FETCH.
		tr.TrackStatus(status)
		return false, nil
	}
	return Rows(cli, be, tr, out)
}

// Columns relays n column definitions and the EOF after them (dropped for
// CLIENT_DEPRECATE_EOF clients, except when it announces a cursor) and
// returns that EOF's status flags.
func Columns(cli *Client, be *backend.Conn, n int) (status uint16, err error) {
	c := cli.Conn
	if cli.BinaryRows {
		cli.conv.reset()
	}
	for i := 0; i < n; i++ {
		p, err := be.ReadPacket()
		if err != nil {
			be.MarkBroken()
			return 0, &BackendError{Err: err}
		}
		if cli.BinaryRows {
			if err := cli.conv.addField(p); err != nil {
				be.MarkBroken()
				return 0, &BackendError{Err: err}
			}
		}
		c.WritePacket(cli.ColumnDef(p))
	}
	if n == 0 {
		return 0, nil
	}
	p, err := be.ReadPacket()
	if err != nil {
		be.MarkBroken()
		return 0, &BackendError{Err: err}
	}
	if !wire.IsEOF(p) {
		be.MarkBroken()
		return 0, &BackendError{Err: wire.ErrMalformed}
	}
	_, status = wire.EOFStatus(p)
	if !cli.DeprecateEOF || status&mysql.SERVER_STATUS_CURSOR_EXISTS != 0 {
		c.WritePacket(p)
	}
	return status, nil
}

// Rows relays rows up to and including the terminating EOF (or ERR).
func Rows(cli *Client, be *backend.Conn, tr Tracker, out *Outcome) (more bool, err error) {
	c := cli.Conn
	cont := false // the previous fragment was a full 16 MB one
	for {
		p, frag, err := be.ReadFragment()
		if err != nil {
			be.MarkBroken()
			return false, &BackendError{Err: err, Answered: true}
		}
		if !cont {
			if wire.IsEOF(p) {
				warnings, status := wire.EOFStatus(p)
				be.Status = status
				be.Warnings += uint32(warnings)
				tr.TrackStatus(status)
				if cli.DeprecateEOF {
					ok := wire.OK{Status: status, Warnings: warnings}
					writeOK(cli, wire.EOFHeader, ok)
				} else {
					c.WritePacket(wire.AppendEOF(p[:0:0], warnings, cli.status(status)))
				}
				return status&mysql.SERVER_MORE_RESULTS_EXISTS != 0, nil
			}
			if p[0] == wire.ErrHeader {
				var pkt []byte
				pkt, out.Err = cli.errPacket(p)
				c.WritePacket(pkt)
				return false, nil
			}
			out.Rows++
		}
		if cli.BinaryRows {
			if frag {
				be.MarkBroken()
				return false, &BackendError{Err: errors.New("a row over 16 MB in a prepared statement the proxy runs as text"), Answered: true}
			}
			row, err := cli.conv.binary(p)
			if err != nil {
				be.MarkBroken()
				return false, &BackendError{Err: err, Answered: true}
			}
			c.WritePacket(row)
		} else {
			c.WriteFragment(p)
		}
		cont = frag
		if err := c.FlushIfFull(); err != nil {
			be.MarkBroken()
			return false, &ClientError{Err: err}
		}
	}
}

// localInfile serves LOAD DATA LOCAL INFILE: the backend names a file, the
// client sends it in packets ending with an empty one, and the backend
// answers with OK or ERR (read by the caller's loop).
func localInfile(cli *Client, be *backend.Conn, p []byte) error {
	c := cli.Conn
	c.WritePacket(p)
	if err := c.Flush(); err != nil {
		be.MarkBroken()
		return &ClientError{Err: err}
	}
	for {
		d, err := c.ReadPacket()
		if err != nil {
			be.MarkBroken()
			return &ClientError{Err: err}
		}
		be.WritePacket(d)
		if len(d) == 0 {
			break
		}
		if err := be.FlushIfFull(); err != nil {
			be.MarkBroken()
			return &BackendError{Err: err}
		}
	}
	if err := be.Flush(); err != nil {
		be.MarkBroken()
		return &BackendError{Err: err}
	}
	// The rest of the exchange continues the client's numbering.
	return nil
}

// errNoLocalInfile is one server's answer to LOAD DATA LOCAL INFILE from
// a client that did not say it sends files.
func errNoLocalInfile() *mysql.MyError {
	return mysql.NewError(4166, "The used command is not allowed because the MariaDB server or client has disabled the local infile capability")
}

// refuseLocalInfile answers a backend's request for a file the client
// cannot send: the backend gets none, and its answer (an empty load) is
// dropped for one server's error (the caller's).
func refuseLocalInfile(be *backend.Conn) {
	be.WritePacket(nil)
	if err := be.Flush(); err != nil {
		be.MarkBroken()
	} else if p, err := be.ReadPacket(); err != nil || p[0] != wire.OKHeader && p[0] != wire.ErrHeader {
		be.MarkBroken()
	} else if ok, err := wire.ParseOK(p, true); p[0] == wire.OKHeader && (err != nil || ok.Status&mysql.SERVER_MORE_RESULTS_EXISTS != 0) {
		be.MarkBroken() // (the rest of a multi-statement query is not read)
	}
}
