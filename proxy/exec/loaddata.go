package exec

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/loaddata"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
)

// Bounds of a LOAD DATA into shards.
const (
	// loadChunk: the text a shard's statement gets in one packet.
	loadChunk = 64 << 10
	// maxSpool: what the proxy keeps on disk for the physical tables
	// that wait for a connection another one's statement holds.
	maxSpool = 8 << 30
	// maxNumbered: the rows of each physical table whose number in the
	// client's file the proxy keeps, for the "at row N" of messages.
	maxNumbered = 1 << 20
)

// loadTarget is one physical table's LOAD DATA LOCAL INFILE.
type loadTarget struct {
	r *router.Route
	c *backend.Conn // its statement's connection, once started
	// spool holds its text while another statement holds its
	// connection (tables of one host in a transaction share one).
	spool    *os.File
	buf      []byte
	rows     uint64
	numbers  []int // the client's number of each of its rows (to maxNumbered)
	ended    bool  // its statement answered (ok or err)
	ok       wire.OK
	err      *mysql.MyError
	warnings []backend.Warning // its statement's, numbered as the client's rows
}

// runLoadData runs LOAD DATA LOCAL INFILE into a sharded or global table
// (router.LoadData): every physical table's statement starts first (a
// server's refusal comes before the client sends anything); then the
// client's file is read once, cut into rows and each row sent to its
// shard's statement (to every copy's, for a global table) as it comes.
// Tables whose connection another statement holds get theirs after, from
// a file on disk. Each server must read as many rows as the proxy sent
// it; the answer adds up their Records, Deleted and Skipped.
func runLoadData(cli *Client, ld *router.LoadData, conns Conns, tr Tracker) (Outcome, error) {
	var out Outcome
	if !cli.LocalFiles {
		return answerErr(cli, errNoLocalInfile()), nil
	}
	targets := make([]*loadTarget, len(ld.Routes))
	var busy []string // pinned hosts whose connection streams a statement
	var used []*backend.Conn
	defer func() {
		for _, t := range targets {
			if t != nil && t.spool != nil {
				t.spool.Close()
				os.Remove(t.spool.Name())
			}
		}
		releaseOnce(conns, len(used), func(i int) (*backend.Conn, bool) { return used[i], used[i].Broken() })
	}()
	var firstErr error
	for i, r := range ld.Routes {
		t := &loadTarget{r: r}
		targets[i] = t
		if host, pinned := conns.Pinned(r.Node); pinned {
			if slices.Contains(busy, host) {
				continue // spooled
			}
			busy = append(busy, host)
		}
		if err := startLoad(cli, ld, t, conns, &used); err != nil {
			firstErr = err
			break
		}
		if t.err != nil {
			firstErr = t.err // (before the client sends its file)
			break
		}
	}
	if firstErr != nil {
		endLoads(targets)
		return loadFailed(cli, used, firstErr)
	}
	// The client's file.
	c := cli.Conn
	c.WritePacket(append([]byte{wire.LocalInfileHeder}, ld.Path...))
	if err := c.Flush(); err != nil {
		markBroken(used)
		return out, &ClientError{Err: err}
	}
	rd := loaddata.NewReader(ld.Format, ld.Fields, ld.Key, ld.Skip)
	var spooled int64
	row := 0 // the client's rows read
	place := func() error {
		for {
			rw, more, err := rd.Next()
			if err != nil {
				return mysql.NewError(mysql.ER_NET_PACKET_TOO_LARGE, "shardgate: LOAD DATA: "+err.Error())
			}
			if !more {
				return nil
			}
			row++
			to := targets
			if ld.Key >= 0 {
				n, err := ld.Shard(rw.Key, rw.KeyNull || !rw.KeyFound)
				if err != nil {
					if me, ok := err.(*mysql.MyError); ok {
						me.Message += " (row " + strconv.Itoa(row) + " of the file)"
					}
					return err
				}
				to = targets[n : n+1]
			}
			for _, t := range to {
				t.buf = append(t.buf, rw.Line...)
				t.rows++
				if len(t.numbers) < maxNumbered {
					t.numbers = append(t.numbers, row)
				}
				if len(t.buf) >= loadChunk {
					if err := t.flush(&spooled); err != nil {
						return err
					}
				}
			}
		}
	}
	for {
		d, err := c.ReadPacket()
		if err != nil {
			markBroken(used)
			return out, &ClientError{Err: err}
		}
		if len(d) == 0 {
			break
		}
		if firstErr != nil {
			continue // (the rest of the file is read, and dropped)
		}
		rd.Feed(d)
		firstErr = place()
	}
	if firstErr == nil {
		rd.End()
		firstErr = place()
	}
	for _, t := range targets {
		if firstErr == nil {
			firstErr = t.flush(&spooled)
		}
	}
	if firstErr != nil {
		endLoads(targets)
		return loadFailed(cli, used, firstErr)
	}
	// Each statement ends; then those that waited run from their files.
	endLoads(targets)
	for _, t := range targets {
		if t.c != nil || t.err != nil {
			continue
		}
		if err := startLoad(cli, ld, t, conns, &used); err != nil {
			firstErr = err
			break
		}
		if err := t.sendSpool(); err != nil {
			firstErr = err
			break
		}
		endLoads([]*loadTarget{t})
	}
	for _, t := range targets {
		if firstErr == nil && t.err != nil {
			firstErr = t.err
		}
		if firstErr == nil && t.c != nil {
			if records, _, _, ok := parseCounts(t.ok.Info, "Records: "); !ok || records != t.rows {
				firstErr = mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf("shardgate: LOAD DATA: the proxy sent %d rows to %s, which read %s: "+
					"the file's text was cut otherwise than the server reads it (nothing was loaded)", t.rows, t.r.Node, t.ok.Info))
			}
		}
	}
	if firstErr != nil {
		return loadFailed(cli, used, firstErr)
	}
	// One server's answer.
	var sum struct{ affected, records, deleted, skipped, warnings uint64 }
	for i, t := range targets {
		if ld.Key < 0 && i > 0 {
			continue // (a global table's copies read alike: one copy's counts and warnings are the statement's)
		}
		records, deleted, skipped, _ := parseCounts(t.ok.Info, "Records: ")
		sum.affected += t.ok.AffectedRows
		sum.records += records
		sum.deleted += deleted
		sum.skipped += skipped
		sum.warnings += uint64(t.ok.Warnings)
	}
	ok := wire.OK{AffectedRows: sum.affected, Status: targets[len(targets)-1].ok.Status, Warnings: uint16(min(sum.warnings, 65535)),
		Info: []byte(fmt.Sprintf("Records: %d  Deleted: %d  Skipped: %d  Warnings: %d", sum.records, sum.deleted, sum.skipped, sum.warnings))}
	tr.TrackOK(nil, &ok)
	writeOK(cli, wire.OKHeader, ok)
	out.Affected = ok.AffectedRows
	if ld.Key < 0 {
		targets = targets[:1]
	}
	used[0].Earlier = loadWarnings(targets)
	used[0].Warnings = uint32(len(used[0].Earlier)) // (read already: none left on the server)
	return out, nil
}

// loadWarnings are the statements' warnings in the order of the client's
// rows, as one server gives them: by the row a message names, a message
// naming none after the one before it.
func loadWarnings(targets []*loadTarget) []backend.Warning {
	type keyed struct {
		row int
		w   backend.Warning
	}
	var all []keyed
	for _, t := range targets {
		row := 0
		for _, w := range t.warnings {
			if n, ok := messageRow(w.Message); ok {
				row = n
			}
			all = append(all, keyed{row, w})
		}
	}
	slices.SortStableFunc(all, func(a, b keyed) int { return a.row - b.row })
	out := make([]backend.Warning, len(all))
	for i, k := range all {
		out[i] = k.w
	}
	return out
}

// startLoad sends t's statement and reads the server's request for the
// file. A server's refusal is t.err; an I/O failure is the error.
func startLoad(cli *Client, ld *router.LoadData, t *loadTarget, conns Conns, used *[]*backend.Conn) error {
	c, err := conns.Acquire(t.r.Node)
	if err != nil {
		return err
	}
	if cli.Atomic && !slices.Contains(*used, c) {
		c.ExecAhead(stmtSavepoint)
	}
	*used = append(*used, c)
	if err := c.Settle(); err != nil {
		if me, ok := err.(*mysql.MyError); ok {
			t.err = me
			return nil
		}
		return &BackendError{Err: err}
	}
	if ld.DatabaseCharset {
		// The server reads the text in its database's character set.
		var cs string
		err := c.Query("SELECT @@character_set_database", func(_ []wire.ColumnRef, v [][]byte) error { cs = string(v[0]); return nil }, nil)
		if err != nil {
			c.MarkBroken()
			return &BackendError{Err: err}
		}
		if !loaddata.Charsets[cs] {
			t.err = mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support LOAD DATA into "+t.r.Node+"'s database, whose character set is "+cs+
				": the proxy reads utf8mb4, utf8mb3, latin1, ascii and binary text (name one with CHARACTER SET)")
			return nil
		}
	}
	if err := c.WriteCommandStr(mysql.COM_QUERY, cli.prefix+t.r.SQL[0]); err != nil {
		c.MarkBroken()
		return &BackendError{Err: err}
	}
	p, err := c.ReadPacket()
	if err != nil {
		c.MarkBroken()
		return &BackendError{Err: err}
	}
	switch p[0] {
	case wire.LocalInfileHeder:
		t.c = c
	case wire.ErrHeader:
		t.err = wire.ParseErr(p)
	default:
		c.MarkBroken()
		return &BackendError{Err: fmt.Errorf("%s answered LOAD DATA LOCAL INFILE without asking for the file", t.r.Node)}
	}
	return nil
}

// flush sends t's text to its statement, or to its file on disk.
func (t *loadTarget) flush(spooled *int64) error {
	if len(t.buf) == 0 {
		return nil
	}
	defer func() { t.buf = t.buf[:0] }()
	if t.c != nil {
		t.c.WritePacket(t.buf)
		if err := t.c.FlushIfFull(); err != nil {
			t.c.MarkBroken()
			return &BackendError{Err: err}
		}
		return nil
	}
	if *spooled += int64(len(t.buf)); *spooled > maxSpool {
		return mysql.NewError(mysql.ER_OUTOFMEMORY, "shardgate: LOAD DATA: more than 8 GiB of the file waits for shards whose server connection another shard's statement holds; load it in parts")
	}
	if t.spool == nil {
		f, err := os.CreateTemp("", "shardgate-load-*")
		if err != nil {
			return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: LOAD DATA: "+err.Error())
		}
		t.spool = f
	}
	if _, err := t.spool.Write(t.buf); err != nil {
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: LOAD DATA: "+err.Error())
	}
	return nil
}

// sendSpool sends the text kept on disk to t's statement.
func (t *loadTarget) sendSpool() error {
	if t.c == nil || t.spool == nil {
		return nil
	}
	if _, err := t.spool.Seek(0, io.SeekStart); err != nil {
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: LOAD DATA: "+err.Error())
	}
	buf := make([]byte, loadChunk)
	for {
		n, err := t.spool.Read(buf)
		if n > 0 {
			t.c.WritePacket(buf[:n])
			if err := t.c.FlushIfFull(); err != nil {
				t.c.MarkBroken()
				return &BackendError{Err: err}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: LOAD DATA: "+err.Error())
		}
	}
}

// endLoads ends the statements started and not ended: an empty packet
// ends the file, and the server answers.
func endLoads(targets []*loadTarget) {
	for _, t := range targets {
		if t == nil || t.c == nil || t.ended || t.err != nil || t.c.Broken() {
			continue
		}
		t.ended = true
		t.c.WritePacket(nil)
		if err := t.c.Flush(); err != nil {
			t.c.MarkBroken()
			continue
		}
		p, err := t.c.ReadPacket()
		switch {
		case err != nil:
			t.c.MarkBroken()
		case p[0] == wire.ErrHeader:
			t.err = wire.ParseErr(p)
			t.err.Message = ClientRow(t.err.Message, t.numbers)
		case p[0] == wire.OKHeader:
			ok, err := wire.ParseOK(p, true)
			if err != nil {
				t.c.MarkBroken()
				continue
			}
			t.ok = ok
			t.c.Status = ok.Status
			if ok.Warnings > 0 {
				// Read before another statement runs on the connection.
				t.c.Warnings, t.c.Earlier = uint32(ok.Warnings), nil
				if keepWarnings(t.c, [][]int{t.numbers}) != nil {
					continue
				}
				t.warnings, t.c.Earlier, t.c.Warnings = t.c.Earlier, nil, 0
			}
		default:
			t.c.MarkBroken()
		}
	}
}

// loadFailed answers a LOAD DATA that failed: what the statements did is
// undone in the client's transaction (an autocommit one's own transaction
// is rolled back by the session).
func loadFailed(cli *Client, used []*backend.Conn, err error) (Outcome, error) {
	for _, c := range used {
		if c.Broken() {
			return Outcome{}, &BackendError{Err: err}
		}
	}
	return answerFailed(cli, err, func() error {
		if !cli.Atomic {
			return nil
		}
		return undoStatement(used)
	})
}

func markBroken(used []*backend.Conn) {
	for _, c := range used {
		c.MarkBroken()
	}
}
