package exec

import (
	"slices"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
)

// steps runs a statement's parts one after another, each on a connection
// to its node (MoveRows, InsertSelect).
type steps struct {
	conns Conns
	// prefix goes before each statement of the client's (Client.prefix).
	prefix string
	// atomic: in the client's transaction, a failure undoes what the
	// statement did on every node (Client.Atomic); nodes lists them.
	atomic bool
	nodes  []string
	saved  []*backend.Conn // nodes sharing a host share a connection
	status uint16          // the server status after the last step
}

// on runs fn on a connection to node.
func (st *steps) on(node string, fn func(c *backend.Conn) error) error {
	c, err := st.conns.Acquire(node)
	if err != nil {
		return err
	}
	if st.atomic && !slices.Contains(st.nodes, node) {
		st.nodes = append(st.nodes, node)
		if !slices.Contains(st.saved, c) {
			c.ExecAhead(stmtSavepoint)
			st.saved = append(st.saved, c)
		}
	}
	err = fn(c)
	if err == nil {
		st.status = c.Status
	}
	st.conns.Release(c, c.Broken())
	if err != nil && c.Broken() {
		return &BackendError{Err: err}
	}
	return err
}

// undo rolls the nodes the statement used back to where it began.
func (st *steps) undo() error {
	var conns []*backend.Conn
	defer func() {
		for _, c := range conns {
			st.conns.Release(c, c.Broken())
		}
	}()
	for _, node := range st.nodes {
		c, err := st.conns.Acquire(node)
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
	return undoStatement(conns)
}

// answer ends a statement run in steps: a server's error (err) undoes
// what the statement did (a deadlock has rolled the whole transaction
// back already) and goes to the client; without one, the client gets
// ok's OK packet.
func (st *steps) answer(cli *Client, tr Tracker, err error, ok func() wire.OK) (Outcome, error) {
	var out Outcome
	if err != nil {
		return answerFailed(cli, err, st.undo)
	}
	k := ok()
	k.Status = st.status
	tr.TrackOK(nil, &k)
	writeOK(cli, wire.OKHeader, k)
	out.Affected = k.AffectedRows
	return out, nil
}

// answerFailed answers a write that failed: a server's error undoes what
// the statement did (undo; a deadlock has rolled the whole transaction
// back already) and goes to the client; any other error is the caller's.
func answerFailed(cli *Client, err error, undo func() error) (Outcome, error) {
	me, isServer := err.(*mysql.MyError)
	if !isServer {
		return Outcome{}, err
	}
	me = cli.serverErr(me)
	if me.Code != mysql.ER_LOCK_DEADLOCK {
		if err := undo(); err != nil {
			return Outcome{}, err
		}
	}
	return answerErr(cli, me), nil
}

// answerErr sends a server's or the proxy's error to the client.
func answerErr(cli *Client, me *mysql.MyError) Outcome {
	cli.Conn.WritePacket(wire.AppendErr(nil, me))
	return Outcome{Err: me}
}

// runLimitedWrite runs an UPDATE or DELETE with LIMIT over several shards
// (router.LimitedWrite): shard after shard, each limited to the rows the
// ones before left, and answers with their counts summed.
func runLimitedWrite(cli *Client, lw *router.LimitedWrite, conns Conns, tr Tracker) (Outcome, error) {
	st := steps{conns: conns, atomic: cli.Atomic}
	var totals []writeTotals
	left := lw.Limit
	run := func(node, sql string) error {
		return st.on(node, func(c *backend.Conn) error {
			// An earlier shard's warnings on this connection are kept first.
			if err := keepWarnings(c, nil); err != nil {
				return err
			}
			if err := c.WriteCommandStr(mysql.COM_QUERY, cli.prefix+sql+" LIMIT "+strconv.FormatUint(left, 10)); err != nil {
				c.MarkBroken()
				return err
			}
			t, shardErr, ioErr := readWriteResults(c, 1, router.NotInsert, nil, tr)
			switch {
			case ioErr != nil:
				return ioErr
			case shardErr != nil:
				return shardErr
			}
			totals = append(totals, t)
			n := t.affected // a DELETE's LIMIT counts the rows deleted,
			if t.hasInfo {
				n = t.matched // an UPDATE's those it matched, changed or not
			}
			left -= min(left, n)
			return nil
		})
	}
	var err error
	for _, r := range lw.Routes {
		for _, sql := range r.SQL {
			if err == nil && (left > 0 || len(totals) == 0) {
				err = run(r.Node, sql)
			}
		}
	}
	if err != nil {
		return st.answer(cli, tr, err, nil)
	}
	return answerWrite(cli, totals, false, router.NotInsert, tr), nil
}
