package exec

import (
	"slices"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/merge"
)

// runReturning runs a write whose statements return the rows they wrote
// (router.Returning): statement after statement on its node, each one's
// rows held (within maxBuffered), then answered as one result. An
// INSERT's rows come in the order of its VALUES, a global table's copies'
// once. A server's error ends it, undoing what it did (Client.Atomic; an
// autocommit statement's own transaction is the session's to roll back).
func runReturning(cli *Client, rt *router.Returning, conns Conns, tr Tracker) (Outcome, error) {
	st := steps{conns: conns, atomic: cli.Atomic}
	budget := maxBuffered
	var fields []merge.Field
	type numbered struct {
		n   int // the row's number in the client's INSERT, or 0
		row merge.Row
	}
	var kept []numbered
	var warnings uint32
	for i, r := range rt.Routes {
		for j, sql := range r.SQL {
			var numbers []int
			if j < len(r.RowNumbers) {
				numbers = r.RowNumbers[j]
			}
			err := st.on(r.Node, func(c *backend.Conn) error {
				b, w, err := queryBuffered(c, cli.prefix+sql, tr, &budget)
				if err != nil {
					return err
				}
				if rt.Broadcast && i > 0 {
					return nil // (the copies write and warn alike)
				}
				warnings += w
				if fields == nil {
					fields = b.fields
				}
				if numbers != nil && len(numbers) != len(b.rows) {
					// (Rows skipped: INSERT IGNORE is refused for that.)
					return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support an INSERT ... RETURNING whose shard returned "+
						strconv.Itoa(len(b.rows))+" rows for its "+strconv.Itoa(len(numbers))+": their order in the client's rows is lost")
				}
				for k, row := range b.rows {
					n := 0
					if numbers != nil {
						n = numbers[k]
					}
					kept = append(kept, numbered{n, row})
				}
				return nil
			})
			if me, ok := err.(*mysql.MyError); ok && numbers != nil {
				me.Message = ClientRow(me.Message, numbers)
			}
			if err != nil {
				return st.answer(cli, tr, err, nil)
			}
		}
	}
	slices.SortStableFunc(kept, func(a, b numbered) int { return a.n - b.n })
	rows := make([]merge.Row, len(kept))
	for i, k := range kept {
		rows[i] = k.row
	}
	var out Outcome
	w := uint16(min(warnings, 65535))
	err := writeStream(cli, &bufferedStream{fields: fields, rows: rows}, tr, &out, func() uint16 { return w })
	return out, err
}

// queryBuffered runs sql on c and holds its rows (within budget), with
// the warnings it left there.
func queryBuffered(c *backend.Conn, sql string, tr Tracker, budget *int) (*bufferedStream, uint32, error) {
	if err := c.WriteCommandStr(mysql.COM_QUERY, sql); err != nil {
		c.MarkBroken()
		return nil, 0, err
	}
	before := c.Warnings
	s, err := openStream(c, tr)
	if err != nil {
		return nil, 0, err
	}
	b, err := buffer(s, budget)
	if err != nil {
		return nil, 0, err
	}
	return b, c.Warnings - before, nil
}
