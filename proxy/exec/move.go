package exec

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/shardrules"
)

// runMove runs an UPDATE that moves rows between shards (router.MoveRows),
// inside the session's transaction: find the rows, update in place those
// that stay, move the others, and answer with MySQL's counts.
func runMove(cli *Client, m *router.MoveRows, conns Conns, tr Tracker) (Outcome, error) {
	mv := mover{m: m, steps: steps{conns: conns, atomic: cli.Atomic, prefix: cli.prefix}}
	return mv.answer(cli, tr, mv.run(), func() wire.OK {
		return wire.OK{AffectedRows: mv.affected + mv.moved, Warnings: uint16(min(mv.warn, 65535)),
			Info: fmt.Appendf(nil, "Rows matched: %d  Changed: %d  Warnings: %d", mv.matched+mv.moved, mv.changed+mv.moved, mv.warn)}
	})
}

// found is a row the UPDATE matched.
type found struct {
	unit           int
	oldKey, newKey string // its key before and after the update, as SQL tuples
	placing        []byte // the placing column's new value (nil: NULL)
	numeric        bool
	lit            string   // ...as a SQL literal, for a parent lookup
	target         int      // the shard it belongs to after the update
	links          []string // each follower's parent column value, as a SQL literal ("": NULL)
}

type mover struct {
	m *router.MoveRows
	steps

	matched, changed, affected, moved, warn uint64
}

func (mv *mover) run() error {
	rows, err := mv.find()
	if err != nil {
		return err
	}
	if err := mv.place(rows); err != nil {
		return err
	}
	for ui, u := range mv.m.Units {
		var stay, leave []string
		var leaving []found
		for _, r := range rows {
			switch {
			case r.unit != ui:
			case r.target == u.Shard:
				stay = append(stay, r.oldKey)
			default:
				leave = append(leave, r.oldKey)
				leaving = append(leaving, r)
			}
		}
		if len(stay) > 0 {
			if err := mv.update(u, stay, true); err != nil {
				return err
			}
		}
		if len(leave) > 0 {
			// The update runs where the rows are; then they move.
			if err := mv.update(u, leave, false); err != nil {
				return err
			}
			if err := mv.moveOut(u, leaving); err != nil {
				return err
			}
		}
	}
	return nil
}

// find reads the matched rows of every unit, locking them.
func (mv *mover) find() ([]found, error) {
	nk := len(mv.m.Keys)
	var rows []found
	for ui, u := range mv.m.Units {
		err := mv.on(u.Node, func(c *backend.Conn) error {
			return c.Query(mv.prefix+u.Find, func(cols []wire.ColumnRef, v [][]byte) error {
				r := found{unit: ui, oldKey: tuple(cols[:nk], v[:nk]), newKey: tuple(cols[nk:2*nk], v[nk:2*nk]),
					numeric: numericType(cols[2*nk].Type), lit: literal(&cols[2*nk], v[2*nk])}
				if v[2*nk] != nil {
					r.placing = append([]byte(nil), v[2*nk]...)
				}
				for i := 2*nk + 1; i < len(v); i++ {
					link := ""
					if v[i] != nil {
						link = literal(&cols[i], v[i])
					}
					r.links = append(r.links, link)
				}
				rows = append(rows, r)
				return nil
			}, nil)
		})
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// place finds each row's shard after the update: by the algorithm, or by
// asking the parent's shards which holds the new parent key.
func (mv *mover) place(rows []found) error {
	if mv.m.Owner != nil {
		for i := range rows {
			s, err := mv.m.Owner(rows[i].placing, rows[i].numeric)
			if err != nil {
				return err
			}
			rows[i].target = s
		}
		return nil
	}
	if len(rows) == 0 {
		return nil
	}
	var keys []string
	seen := map[string]bool{}
	for _, r := range rows {
		if r.placing == nil {
			return mysql.NewError(mysql.ER_NO_REFERENCED_ROW_2, "shardgate: cannot place a "+mv.m.Table+" row with a NULL parent key")
		}
		if !seen[r.lit] {
			seen[r.lit] = true
			keys = append(keys, r.lit)
		}
	}
	owner, err := ownersOf(mv.conns, mv.m.Lookup(keys))
	if err != nil {
		return err
	}
	for i := range rows {
		s, ok := owner[string(rows[i].placing)]
		if !ok {
			return mysql.NewError(mysql.ER_NO_REFERENCED_ROW_2, "shardgate: cannot move a "+mv.m.Table+" row: no parent row has the key "+rows[i].lit)
		}
		rows[i].target = s
	}
	return nil
}

// update runs the UPDATE on one unit for the rows with the given keys;
// count adds its matched and changed rows to the answer.
func (mv *mover) update(u router.MoveUnit, keys []string, count bool) error {
	sql := strings.Replace(u.Update, router.RowsFilter, mv.keyFilter(keys), 1)
	return mv.on(u.Node, func(c *backend.Conn) error {
		ok, err := c.Exec(mv.prefix + sql)
		if err != nil || !count {
			return err
		}
		mv.affected += ok.AffectedRows
		mv.warn += uint64(ok.Warnings)
		if m, ch, _, isInfo := parseMatched(ok.Info); isInfo {
			mv.matched += m
			mv.changed += ch
		}
		return nil
	})
}

func (mv *mover) keyFilter(keys []string) string {
	cols := make([]string, len(mv.m.Keys))
	for i, k := range mv.m.Keys {
		cols[i] = quoteName(k)
	}
	return "(" + strings.Join(cols, ", ") + ") IN (" + strings.Join(keys, ", ") + ")"
}

// moveOut copies the updated rows of a unit to their shards, then deletes
// them from the unit; their followers' rows go with them.
func (mv *mover) moveOut(u router.MoveUnit, rows []found) error {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.newKey
	}
	filter := mv.keyFilter(keys)
	byTarget := map[int][]string{}
	names, err := mv.readExact(u.Node, u.Table, filter, mv.m.Keys, func(vals string, cols []wire.ColumnRef, extra [][]byte) {
		key := tuple(cols, extra)
		for _, r := range rows {
			if r.newKey == key {
				byTarget[r.target] = append(byTarget[r.target], vals)
				break
			}
		}
	})
	if err != nil {
		return err
	}
	for target, values := range byTarget {
		if err := mv.insert(mv.m.Shards[target], names, values); err != nil {
			return err
		}
	}
	if err := mv.exec(u.Node, "DELETE FROM "+quoteName(u.Table)+" WHERE "+filter); err != nil {
		return err
	}
	mv.moved += uint64(len(rows))
	for ci, ch := range mv.m.Children {
		links := map[int][]string{}
		for _, r := range rows {
			if r.links[ci] != "" {
				links[r.target] = append(links[r.target], r.links[ci])
			}
		}
		for target, in := range links {
			if err := mv.moveFollowers(ch, u.Shard, target, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// moveFollowers moves a child table's rows whose parent column holds one
// of the values (SQL literals) from shard from to shard to.
func (mv *mover) moveFollowers(ch router.MoveChild, from, to int, values []string) error {
	src, dst := ch.Shards[from], ch.Shards[to]
	filter := quoteName(ch.Column) + " IN (" + strings.Join(values, ", ") + ")"
	var rows []string
	names, err := mv.readExact(src.Node, src.Table, filter+" FOR UPDATE", nil, func(vals string, _ []wire.ColumnRef, _ [][]byte) {
		rows = append(rows, vals)
	})
	if err != nil || len(rows) == 0 {
		return err
	}
	if err := mv.insert(dst, names, rows); err != nil {
		return err
	}
	return mv.exec(src.Node, "DELETE FROM "+quoteName(src.Table)+" WHERE "+filter)
}

// readExact reads the rows of table on node that filter selects, every
// column encoded to travel exactly (strings and binary as hex, FLOAT
// widened to DOUBLE, BIT as a number): each row's values as a VALUES
// tuple, with the extra columns after them. It returns the column names.
func (mv *mover) readExact(node, table, filter string, extra []string, each func(vals string, cols []wire.ColumnRef, extra [][]byte)) ([]string, error) {
	var names []string
	err := mv.on(node, func(c *backend.Conn) error {
		var defs []wire.ColumnRef
		err := c.QueryRaw("SELECT * FROM "+quoteName(table)+" LIMIT 0", func(d [][]byte) {
			for _, raw := range d {
				if col, err := wire.ParseColumnDef(raw); err == nil {
					defs = append(defs, col)
				}
			}
		}, func([][]byte) {})
		if err != nil {
			return err
		}
		var exprs []string
		for _, d := range defs {
			name := quoteName(string(d.Name))
			names = append(names, name)
			exprs = append(exprs, encodeColumn(name, d.Type))
		}
		for _, e := range extra {
			exprs = append(exprs, quoteName(e))
		}
		nc := len(defs)
		vals := make([]string, nc)
		return c.Query(mv.prefix+"SELECT "+strings.Join(exprs, ", ")+" FROM "+quoteName(table)+" WHERE "+filter, func(cols []wire.ColumnRef, v [][]byte) error {
			for i := 0; i < nc; i++ {
				vals[i] = encodedLiteral(defs[i].Type, v[i])
			}
			each("("+strings.Join(vals, ", ")+")", cols[nc:], v[nc:])
			return nil
		}, nil)
	})
	return names, err
}

// insert writes VALUES tuples into a physical table.
func (mv *mover) insert(p shardrules.Placement, names, values []string) error {
	return mv.exec(p.Node, "INSERT INTO "+quoteName(p.Table)+" ("+strings.Join(names, ", ")+") VALUES "+strings.Join(values, ", "))
}

// exec runs a statement on a connection to node.
func (mv *mover) exec(node, sql string) error {
	return mv.on(node, func(c *backend.Conn) error { _, err := c.Exec(mv.prefix + sql); return err })
}

// encodeColumn is the select expression that reads a column exactly.
func encodeColumn(name string, typ byte) string {
	switch {
	case typ == mysql.MYSQL_TYPE_FLOAT:
		return "CAST(" + name + " AS DOUBLE)"
	case typ == mysql.MYSQL_TYPE_BIT:
		return name + " + 0"
	case stringType(typ):
		return "HEX(" + name + ")"
	}
	return name
}

// encodedLiteral is the SQL literal of a value read by encodeColumn.
func encodedLiteral(typ byte, v []byte) string {
	switch {
	case v == nil:
		return "NULL"
	case typ == mysql.MYSQL_TYPE_FLOAT || typ == mysql.MYSQL_TYPE_BIT || numericType(typ):
		return string(v)
	case stringType(typ):
		return "X'" + string(v) + "'"
	}
	return backend.QuoteString(string(v))
}

// tuple renders key values as a SQL row constructor "(a, b)".
func tuple(cols []wire.ColumnRef, v [][]byte) string {
	parts := make([]string, len(v))
	for i := range v {
		parts[i] = literal(&cols[i], v[i])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// literal renders a text-protocol value as a SQL literal of its type.
func literal(col *wire.ColumnRef, v []byte) string {
	switch {
	case v == nil:
		return "NULL"
	case numericType(col.Type):
		return string(v)
	case col.Charset == 63:
		return "X'" + fmt.Sprintf("%X", v) + "'"
	}
	return backend.QuoteString(string(v))
}

func numericType(t byte) bool {
	switch t {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG,
		mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_YEAR:
		return true
	}
	return false
}

func stringType(t byte) bool {
	switch t {
	case mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_BLOB,
		mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB, mysql.MYSQL_TYPE_LONG_BLOB,
		mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET, mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_GEOMETRY:
		return true
	}
	return false
}

func quoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
