package exec

import (
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/router/merge"
)

// A pinned connection (a transaction's) answers several statements of one
// query in turn: they go out at once, and their results come back one
// after another on the one connection.

var errConnLost = errors.New("shardgate: connection to the data host lost")

// maxBuffered bounds what a statement's results on pinned connections
// hold in memory, all together.
const maxBuffered = 64 << 20

// pinnedResults reads the results of statements sent together on one
// connection, in the order they come. A result read in its turn streams
// from the connection; one asked for while results before it are still
// unread has those read into memory first (within budget bytes).
type pinnedResults struct {
	c       *backend.Conn
	tr      Tracker
	budget  *int
	found   *foundRows // each statement is followed by SELECT FOUND_ROWS()
	streams []pinnedStream
	out     []merge.Stream // the streams, in statement order
	next    int            // the next result on the connection
	cur     *pinnedStream  // the result being read from the connection
}

// pinnedStream is one statement's result among a pinnedResults'.
type pinnedStream struct {
	q      *pinnedResults
	idx    int
	opened bool
	fields []merge.Field
	wire   *backendStream  // read from the connection
	held   *bufferedStream // or from memory
	err    error           // the statement failed (or its rest could not be held)
	row    merge.Row       // the last row read from the connection, copied
}

// sequentialStreams sends several statements on one connection at once
// (one round trip; the server answers them in turn) and returns their
// results (q.out). The first result's header is read now, so that its
// error comes before any row; with hold, every result is read into memory
// now (the connection has other statements to run next).
func sequentialStreams(c *backend.Conn, sqls []string, tr Tracker, hold bool, budget *int, found *foundRows) (*pinnedResults, error) {
	// (Backend connections are never compressed: each command's packets
	// can be numbered from 0 in one buffer.)
	for _, sql := range sqls {
		c.ResetSeq()
		c.WriteCommandPacket(mysql.COM_QUERY, found.statement(sql))
	}
	if err := c.Flush(); err != nil {
		c.MarkBroken()
		return nil, &BackendError{Err: err}
	}
	q := &pinnedResults{c: c, tr: tr, budget: budget, found: found, streams: make([]pinnedStream, len(sqls)), out: make([]merge.Stream, len(sqls))}
	for i := range q.streams {
		q.streams[i] = pinnedStream{q: q, idx: i}
		q.out[i] = &q.streams[i]
	}
	upTo := 0
	if hold {
		upTo = len(sqls)
	}
	q.reach(upTo)
	for i := 0; i <= upTo && i < len(sqls); i++ {
		if err := q.streams[i].err; err != nil {
			q.finish()
			return nil, err
		}
	}
	return q, nil
}

// reach reads the results up to idx's header; those before it that are
// still unread go into memory. idx == len(streams) holds every result.
func (q *pinnedResults) reach(idx int) {
	for q.next <= idx {
		if q.cur != nil {
			q.hold(q.cur)
		}
		if q.next == len(q.streams) {
			return
		}
		s := &q.streams[q.next]
		q.next++
		s.opened = true
		if q.c.Broken() {
			s.err = &BackendError{Err: errConnLost}
			continue
		}
		w, err := openStream(q.c, q.tr)
		if err != nil {
			s.err = err
			continue
		}
		w.found = q.found
		s.fields, s.wire, q.cur = w.fields, w, s
	}
}

// hold reads the rest of the result being read from the connection into
// memory.
func (q *pinnedResults) hold(s *pinnedStream) {
	q.cur = nil
	if s.wire.done {
		return
	}
	b, err := buffer(s.wire, q.budget)
	s.wire = nil
	if err != nil {
		s.err = err
		return
	}
	s.held = b
}

// finish reads and drops what is still unread, leaving the connection
// ready for the next statement.
func (q *pinnedResults) finish() {
	for i := range q.streams {
		q.streams[i].Close()
	}
}

func (s *pinnedStream) Fields() []merge.Field {
	if !s.opened {
		s.q.reach(s.idx)
	}
	return s.fields
}

// fieldsKnown reports whether the header is read (asking for it otherwise
// reads the results before it into memory).
func (s *pinnedStream) fieldsKnown() bool { return s.opened }

func (s *pinnedStream) Binary() bool { return false }

func (s *pinnedStream) Next() (merge.Row, error) {
	if !s.opened {
		s.q.reach(s.idx)
	}
	switch {
	case s.err != nil:
		return nil, s.err
	case s.held != nil:
		return s.held.Next()
	case s.wire != nil:
		// A copy: a merge may keep this row while it reads another of
		// the connection's results, which reuses the connection's buffer.
		row, err := s.wire.Next()
		if row == nil || err != nil {
			return nil, err
		}
		s.row = append(s.row[:0], row...)
		return s.row, nil
	}
	return nil, nil
}

func (s *pinnedStream) Close() {
	if !s.opened {
		s.q.reach(s.idx)
	}
	if s.wire != nil {
		s.wire.Close()
	}
	if s.held != nil {
		s.held.Close()
	}
}

// buffer reads a result into memory, within budget bytes (which it
// lowers). Past the budget, the rest of the result is read and dropped
// (the connection and its transaction stay usable) and the statement
// fails.
func buffer(s *backendStream, budget *int) (*bufferedStream, error) {
	b := &bufferedStream{fields: s.fields}
	for {
		row, err := s.Next()
		if err != nil {
			return nil, err
		}
		if row == nil {
			return b, nil
		}
		*budget -= len(row)
		if *budget < 0 {
			for row != nil && err == nil {
				row, err = s.Next()
			}
			if err != nil {
				return nil, err
			}
			return nil, mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support results this large from several statements on one host inside a transaction, read out of order (more than 64 MiB held while merging)")
		}
		b.rows = append(b.rows, append(merge.Row(nil), row...))
	}
}

// bufferedStream replays rows read earlier.
type bufferedStream struct {
	fields []merge.Field
	rows   []merge.Row
}

func (b *bufferedStream) Fields() []merge.Field { return b.fields }
func (b *bufferedStream) Binary() bool          { return false }
func (b *bufferedStream) Close()                { b.rows = nil }
func (b *bufferedStream) Next() (merge.Row, error) {
	if len(b.rows) == 0 {
		return nil, nil
	}
	r := b.rows[0]
	b.rows = b.rows[1:]
	return r, nil
}
