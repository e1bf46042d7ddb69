package session

import (
	"sort"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/router"
)

// LOCK TABLES in a sharded schema: each data host holding one of the
// tables' physical tables gets one connection to its primary that locks
// them all (one statement: a second LOCK TABLES there would release the
// first), pinned to the session until UNLOCK TABLES. While they are held
// every statement of the session runs on those connections (no replica:
// it holds no lock), and the router refuses a table not locked (1100) as
// one server does; the servers refuse writes to tables locked READ (1099).

// tableLocks are the session's locks: the tables as the client locked
// them, and the connections holding them.
type tableLocks struct {
	tables []router.TableLock
	conns  []*backend.Conn
	// lost names the data host whose connection, and locks with it, died.
	lost string
}

// lockTables answers LOCK TABLES: an open transaction is committed and
// the locks held are released first, as on one server.
func (s *Session) lockTables(sql string, snap *snapshot.Snapshot) error {
	lk, ok, bad := parser.ParseLock(sql, s.mode())
	if !ok {
		if bad < 0 {
			bad = 0
		}
		return s.writeErr(syntaxError(sql[bad:]))
	}
	tables, err := router.PlanLock(lk, s.routerEnv(snap))
	if me, ok := err.(*mysql.MyError); ok && me.Code == mysql.ER_NONUNIQ_TABLE {
		return s.writeErr(me) // (found reading the statement: nothing released)
	}
	var stmts []hostLock
	if err == nil {
		var e *mysql.MyError
		if stmts, e = lockStatements(tables, lk.Tail, snap); e != nil {
			return s.writeErr(e) // (nothing released)
		}
	}
	if s.inTransaction() {
		if e := s.endTransaction("COMMIT"); e != nil {
			return s.writeErr(e)
		}
	}
	if e := s.unlockTables(); e != nil {
		return s.writeErr(e)
	}
	if err != nil {
		return s.handleExecErr(err)
	}
	held := &tableLocks{tables: tables}
	sum := &parser.Summary{Kind: parser.KindLock}
	for _, h := range stmts {
		c, err := s.acquirePrimary(h.host, sum)
		if err == nil {
			if err = s.prepareConn(c, h.db, sum); err != nil {
				s.release(c, sum, true)
			}
		}
		if err == nil {
			_, err = c.Exec(h.stmt)
			if err == nil {
				c.Locked = true
				held.conns = append(held.conns, c)
			}
			s.release(c, sum, err != nil)
		}
		if err != nil {
			s.locks = held
			s.unlockTables()
			if me, ok := err.(*mysql.MyError); ok {
				return s.writeErr(mysql.NewError(me.Code, snap.Names.Message(me.Message)))
			}
			return s.handleExecErr(err)
		}
	}
	s.locks = held
	return s.writeOK(0, 0, "")
}

// hostLock is the LOCK TABLES statement for one data host's primary,
// and a database there to run it in.
type hostLock struct {
	host *backend.DataHost
	db   string
	stmt string
}

// lockStatements writes one LOCK TABLES a data host (tail: WAIT n or
// NOWAIT), the hosts in name order: two sessions locking tables on the
// same hosts wait for each other in one order, never each holding what
// the other waits for.
func lockStatements(tables []router.TableLock, tail string, snap *snapshot.Snapshot) ([]hostLock, *mysql.MyError) {
	var out []hostLock
	at := map[*backend.DataHost]int{}
	aliased := map[[2]string]bool{} // host, alias
	for i := range tables {
		t := &tables[i]
		for _, pl := range t.Physical {
			dn := snap.Cluster.Nodes[pl.Node]
			if dn == nil {
				return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: no data node "+pl.Node)
			}
			if t.Alias != "" {
				// The shards' statements name each physical table under the
				// client's alias; a server locks one table under an alias.
				k := [2]string{dn.Host.Name, strings.ToLower(t.Alias)}
				if aliased[k] {
					return nil, unsupported("LOCK TABLES of " + t.Name + " AS " + t.Alias + ": data host " + dn.Host.Name +
						" holds several of its shards, and a server locks one table under an alias (lock it without one)")
				}
				aliased[k] = true
			}
			i, ok := at[dn.Host]
			if !ok {
				i, at[dn.Host] = len(out), len(out)
				out = append(out, hostLock{host: dn.Host, db: dn.Database, stmt: "LOCK TABLES "})
			} else {
				out[i].stmt += ", "
			}
			out[i].stmt += t.Clause(dn.Database, pl.Table)
		}
	}
	for i := range out {
		if tail != "" {
			out[i].stmt += " " + tail
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].host.Name < out[j].host.Name })
	return out, nil
}

// unlockTables releases the session's table locks, if any. As on one
// server, a transaction open under them is committed first.
func (s *Session) unlockTables() *mysql.MyError {
	l := s.locks
	if l == nil {
		return nil
	}
	var first *mysql.MyError
	if s.inTransaction() {
		first = s.endTransaction("COMMIT")
	}
	s.locks = nil
	for _, c := range l.conns {
		if !c.Locked {
			continue // (reset, or broken)
		}
		c.Locked = false
		if _, err := c.Exec("UNLOCK TABLES"); err != nil {
			c.MarkBroken()
		}
		s.release(c, nil, false)
	}
	return first
}

// locksLost reports, once, that a connection holding some of the
// session's table locks died (cause: how, "" when not known): the others
// are released, and the client must learn it before anything runs
// without them.
func (s *Session) locksLost(cause string) *mysql.MyError {
	if s.locks == nil || s.locks.lost == "" {
		return nil
	}
	host := s.locks.lost
	s.unlockTables()
	if cause != "" {
		cause = " (" + cause + ")"
	}
	return errf(mysql.ER_UNKNOWN_ERROR, "shardgate: the session's table locks were released: the connection to data host "+
		host+" holding some of them was lost"+cause+"; LOCK TABLES again")
}

// restoreAutocommit turns autocommit on again where a transaction under
// table locks turned it off, once that transaction has ended.
func (s *Session) restoreAutocommit() {
	if !s.autocommitOff {
		return
	}
	s.autocommitOff = false
	for _, c := range append([]*backend.Conn(nil), s.pinned...) {
		if !c.AutocommitOff {
			continue
		}
		c.AutocommitOff = false
		if _, err := c.Exec("SET autocommit = 1"); err != nil {
			c.MarkBroken()
		}
		s.release(c, nil, false)
	}
}

// relayUnderLocks checks a statement of a schema the proxy relays whole
// while the session holds table locks in a sharded one. As on one server,
// LOCK TABLES, UNLOCK TABLES and START TRANSACTION release them, and no
// statement may read or write a table that is not locked (all of the
// relayed schema's are not).
func (s *Session) relayUnderLocks(sum *parser.Summary) *mysql.MyError {
	if s.locks == nil {
		return nil
	}
	switch sum.Kind {
	case parser.KindLock, parser.KindUnlock, parser.KindBegin:
		return s.unlockTables()
	case parser.KindSelect, parser.KindDo, parser.KindSet:
		if sum.Flags&parser.FlagFrom == 0 {
			return nil
		}
	case parser.KindInsert, parser.KindReplace, parser.KindUpdate, parser.KindDelete, parser.KindLoad, parser.KindHandler:
	default:
		return nil
	}
	return mysql.NewError(mysql.ER_TABLE_NOT_LOCKED, "Table in schema '"+s.schema+"' was not locked with LOCK TABLES (the session holds LOCK TABLES in a sharded schema)")
}
