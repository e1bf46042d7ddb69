package sequence

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/shardrules"
)

// TableName is the table of a data node's database that holds the counters
// of the segment sequences kept there.
const TableName = "shardgate_sequences"

// createTable is its definition. next_id is the first id no block holds.
const createTable = "CREATE TABLE IF NOT EXISTS %s (\n" +
	"  name VARCHAR(191) NOT NULL PRIMARY KEY,\n" +
	"  next_id BIGINT UNSIGNED NOT NULL\n" +
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

// NodeStore keeps segment sequences in the table shardgate_sequences of a
// data node's database, written on the node's current primary.
//
// A block is reserved by one autocommitted statement,
//
//	UPDATE shardgate_sequences SET next_id = LAST_INSERT_ID(GREATEST(next_id, atLeast) + size) WHERE name = ?
//
// whose LAST_INSERT_ID (returned in its OK packet) is the block's end: the
// server has committed the reservation before any of the block's ids is
// handed out, and concurrent reservations by several proxies serialize on
// the row. GREATEST keeps an instance's blocks ascending even if the row
// went back (a failover that lost the last writes, a restored backup).
//
// The first reservation creates the database, the table and the row if
// missing; the row starts above the floor (the largest id in the logical
// table).
//
// The sequence is as durable as its data node. With asynchronous
// replication a failover of that node's host can lose the last
// reservations: each instance still never goes back (GREATEST), but another
// proxy could be given a block overlapping one this proxy still hands out.
// Give the data host of the sequence table semi-synchronous replication.
// Rows inserted by clients with explicit ids above next_id are not seen.
type NodeStore struct {
	Node *backend.DataNode
}

// Alloc implements Store.
func (st *NodeStore) Alloc(ctx context.Context, name string, size, atLeast uint64, floor FloorFunc) (uint64, error) {
	table := backend.QuoteIdent(st.Node.Database) + "." + backend.QuoteIdent(TableName)
	update := "UPDATE " + table + " SET next_id = LAST_INSERT_ID(GREATEST(next_id, " +
		strconv.FormatUint(atLeast, 10) + ") + " + strconv.FormatUint(size, 10) +
		") WHERE name = " + backend.QuoteString(name)
	created := false
	for attempt := 1; ; attempt++ {
		var end uint64
		found := false
		err := st.run(ctx, func(c *backend.Conn) error {
			ok, err := c.Exec(update)
			if err != nil || ok.AffectedRows == 0 {
				return err
			}
			found = true
			end = ok.LastInsertID
			if end == 0 {
				// The OK packet carries LAST_INSERT_ID(expr); ask if it did not.
				err = c.Query("SELECT LAST_INSERT_ID()", func(_ []wire.ColumnRef, v [][]byte) error {
					end, err = strconv.ParseUint(string(v[0]), 10, 64)
					return err
				}, nil)
			}
			c.LastInsertID = end // what the session layer replays LAST_INSERT_ID() from
			return err
		})
		switch {
		case err == nil && found:
			if end < size {
				return 0, fmt.Errorf("%s: next_id %d is below the block size %d", st.where(), end, size)
			}
			return end - size, nil
		case err == nil, isMissing(err):
			if created || attempt > 3 {
				if err == nil {
					err = errors.New("row missing after it was created")
				}
				return 0, fmt.Errorf("%s: %w", st.where(), err)
			}
			if err := st.create(ctx, name, atLeast, floor); err != nil {
				return 0, err
			}
			created = true
		case retryable(err) && attempt < 3 && ctx.Err() == nil:
			// A connection that died (a stale pooled one, a server
			// restart): the block it may have reserved is lost, which is
			// safe. Try another connection.
		default:
			return 0, fmt.Errorf("%s: %w", st.where(), err)
		}
	}
}

// create makes the table and the sequence's row, starting above the floor.
func (st *NodeStore) create(ctx context.Context, name string, atLeast uint64, floor FloorFunc) error {
	top, err := floor(ctx)
	if err != nil {
		return fmt.Errorf("sequence %s: cannot find the largest id in use: %w", name, err)
	}
	start := max(top+1, atLeast, 1)
	table := backend.QuoteIdent(st.Node.Database) + "." + backend.QuoteIdent(TableName)
	err = st.run(ctx, func(c *backend.Conn) error {
		_, err := c.Exec("CREATE DATABASE IF NOT EXISTS " + backend.QuoteIdent(st.Node.Database))
		if err != nil {
			return err
		}
		if _, err := c.Exec(fmt.Sprintf(createTable, table)); err != nil {
			return err
		}
		// Another proxy may have created the row meanwhile: raising it to
		// the floor is safe, lowering it never happens.
		_, err = c.Exec("INSERT INTO " + table + " (name, next_id) VALUES (" + backend.QuoteString(name) + ", " +
			strconv.FormatUint(start, 10) + ") ON DUPLICATE KEY UPDATE next_id = GREATEST(next_id, VALUES(next_id))")
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: cannot create sequence %s: %w", st.where(), name, err)
	}
	return nil
}

func (st *NodeStore) where() string {
	return fmt.Sprintf("sequence table %s.%s on data node %s", st.Node.Database, TableName, st.Node.Name)
}

// run calls fn with a clean autocommit connection to the node's primary.
func (st *NodeStore) run(ctx context.Context, fn func(c *backend.Conn) error) error {
	return onPrimary(ctx, st.Node.Host, fn)
}

// onPrimary calls fn with a connection to the host's current primary (waiting
// for a failover to end, as statements do) whose session variables are the
// server's defaults, autocommit included.
func onPrimary(ctx context.Context, h *backend.DataHost, fn func(c *backend.Conn) error) error {
	wait := h.Config().FailoverWait
	if wait <= 0 {
		wait = 15 * time.Second
	}
	srv, err := h.PrimaryWait(ctx, time.Now().Add(wait))
	if err != nil {
		return err
	}
	c, err := srv.Pool.Get(ctx, backend.Plain, nil, 0)
	if err != nil {
		return err
	}
	defer srv.Pool.Put(c)
	if err := c.SyncDefaults(c.State.Schema); err != nil {
		return err
	}
	return fn(c)
}

// isMissing says the sequence table or its database does not exist.
func isMissing(err error) bool {
	var me *mysql.MyError
	return errors.As(err, &me) && (me.Code == mysql.ER_NO_SUCH_TABLE || me.Code == mysql.ER_BAD_DB_ERROR)
}

// retryable says the statement failed with its connection, not on the server.
func retryable(err error) bool {
	var me *mysql.MyError
	var de *backend.DialError
	return !errors.As(err, &me) && !errors.As(err, &de) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// PhysicalMax returns a FloorFunc: the largest value of column over the
// given physical tables, each read on its data node's primary. A table
// that does not exist counts as empty, and so do negative values.
func PhysicalMax(cl *backend.Cluster, tables []shardrules.Placement, column string) FloorFunc {
	return func(ctx context.Context) (uint64, error) {
		var top uint64
		for _, p := range tables {
			n := cl.Nodes[p.Node]
			if n == nil {
				return 0, fmt.Errorf("data node %q is not defined", p.Node)
			}
			q := "SELECT MAX(" + backend.QuoteIdent(column) + ") FROM " +
				backend.QuoteIdent(n.Database) + "." + backend.QuoteIdent(p.Table)
			var v uint64
			err := onPrimary(ctx, n.Host, func(c *backend.Conn) error {
				return c.Query(q, func(_ []wire.ColumnRef, vals [][]byte) error {
					s := string(vals[0])
					if vals[0] == nil || (len(s) > 0 && s[0] == '-') {
						return nil
					}
					var err error
					if v, err = strconv.ParseUint(s, 10, 64); err != nil {
						return fmt.Errorf("MAX(%s) of %s.%s is %q, not an integer", column, n.Database, p.Table, s)
					}
					return nil
				}, nil)
			})
			var me *mysql.MyError
			if errors.As(err, &me) && me.Code == mysql.ER_NO_SUCH_TABLE {
				continue
			}
			if err != nil {
				return 0, fmt.Errorf("data node %s: %w", n.Name, err)
			}
			top = max(top, v)
		}
		return top, nil
	}
}
