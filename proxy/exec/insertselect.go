package exec

import (
	"fmt"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
)

// MaxCopyBytes bounds the rows an INSERT ... SELECT the proxy copies
// holds, counted as the SQL text of their VALUES.
const MaxCopyBytes = 32 << 20

// copyChunk is about the most VALUES text one INSERT carries: far under
// any server's max_allowed_packet (1 MiB at the least).
const copyChunk = 256 << 10

// IDSource gives an INSERT ... SELECT the ids the proxy generates for its
// table: a row whose value of Column asks for one (Asks) gets Next.
type IDSource struct {
	Column int
	Asks   func(v []byte) bool
	Next   func() (uint64, error)
}

// runInsertSelect copies an INSERT ... SELECT's rows (router.InsertSelect)
// inside the session's transaction: read them all, then insert each
// where it belongs, and answer as MySQL does ("Records: ...").
func runInsertSelect(cli *Client, is *router.InsertSelect, conns Conns, tr Tracker) (Outcome, error) {
	cp := copier{is: is, steps: steps{conns: conns, atomic: cli.Atomic, prefix: cli.prefix}, ids: cli.IDs}
	cp.chunks = make([][]string, len(is.Targets))
	cp.open = make([][]byte, len(is.Targets))
	err := cp.read(cli, tr)
	if err == nil {
		err = cp.placeByParents()
	}
	if err == nil {
		err = cp.write()
	}
	return cp.answer(cli, tr, err, func() wire.OK {
		insertID := cp.insertID
		if cp.firstID != 0 {
			insertID = cp.firstID
		}
		return wire.OK{AffectedRows: cp.affected, LastInsertID: insertID, Warnings: uint16(min(cp.warn, 65535)),
			Info: fmt.Appendf(nil, "Records: %d  Duplicates: %d  Warnings: %d", cp.records, cp.duplicates, cp.warn)}
	})
}

type copier struct {
	is *router.InsertSelect
	steps
	ids *IDSource

	held   int        // bytes of VALUES text held
	open   [][]byte   // each target's INSERT being filled
	chunks [][]string // each target's full INSERTs
	// orphans are rows an ER child's parents place: their tuples and keys
	// (as SQL literals), until the parents are asked.
	orphans []orphan

	records, affected, duplicates, warn uint64
	insertID, firstID                   uint64
}

type orphan struct {
	tuple []byte
	key   string
	raw   []byte // the key as the parent's shard prints it
}

// read runs the SELECT and files each row under its target.
func (cp *copier) read(cli *Client, tr Tracker) error {
	m, err := openMerge(cli, cp.is.Source, cp.conns, tr, nil)
	if err != nil {
		return err
	}
	defer m.close()
	fields := m.top.Fields()
	if n := cp.is.Columns; n > 0 && len(fields) != n {
		return mysql.NewDefaultError(mysql.ER_WRONG_VALUE_COUNT_ON_ROW, 1)
	}
	for i := range fields {
		if fields[i].Type == mysql.MYSQL_TYPE_FLOAT {
			// A FLOAT prints with 6 digits, which do not give it back.
			return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support copying a FLOAT value ("+
				fields[i].Name+") in an INSERT ... SELECT across shards: its text loses digits; select CAST("+fields[i].Name+" AS DOUBLE)")
		}
	}
	if m.top.Binary() {
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: INSERT ... SELECT read binary rows")
	}
	key := cp.is.Key
	vals := make([][]byte, len(fields))
	var tuple []byte
	var idBuf [20]byte
	for {
		row, err := m.top.Next()
		if err != nil {
			return err
		}
		if row == nil {
			cp.warn += uint64(m.warnings())
			return nil
		}
		cp.records++
		tuple = append(tuple[:0], '(')
		var keyVal []byte
		keyNull, keyNumeric := false, false
		if err := textValues(row, vals); err != nil {
			return err
		}
		for i, v := range vals {
			null := v == nil
			numeric := numericType(fields[i].Type)
			if ids := cp.ids; ids != nil && i == ids.Column && ids.Asks(v) {
				id, err := ids.Next()
				if err != nil {
					return err
				}
				if cp.firstID == 0 {
					cp.firstID = id
				}
				v, null, numeric = strconv.AppendUint(idBuf[:0], id, 10), false, true
			}
			if i > 0 {
				tuple = append(tuple, ", "...)
			}
			tuple = appendLiteral(tuple, v, null, numeric, fields[i].Charset == 63, cp.is.Escapes)
			if i == key {
				keyVal, keyNull, keyNumeric = v, null, numeric
			}
		}
		tuple = append(tuple, ')')
		switch {
		case cp.is.Owner != nil:
			var kv []byte
			if !keyNull {
				kv = keyVal
			}
			t, err := cp.is.Owner(kv, keyNumeric)
			if err != nil {
				return err
			}
			cp.add(t, tuple)
		case cp.is.Lookup != nil:
			if keyNull {
				return mysql.NewError(mysql.ER_NO_REFERENCED_ROW_2, "shardgate: cannot place a "+cp.is.Table+" row with a NULL parent key")
			}
			cp.orphans = append(cp.orphans, orphan{tuple: append([]byte(nil), tuple...),
				key: string(appendLiteral(nil, keyVal, false, keyNumeric, fields[key].Charset == 63, cp.is.Escapes)), raw: append([]byte(nil), keyVal...)})
			cp.held += len(tuple) + 2
		case cp.is.Broadcast:
			for t := range cp.is.Targets {
				cp.add(t, tuple)
			}
		default:
			cp.add(0, tuple)
		}
		if cp.held > MaxCopyBytes {
			return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, fmt.Sprintf("shardgate does not support an INSERT ... SELECT across shards that copies more than %d MiB of rows (it holds them until they are written): copy in parts, for example by ranges of a key", MaxCopyBytes>>20))
		}
	}
}

// add files a row's tuple under target t, closing its INSERT when full.
func (cp *copier) add(t int, tuple []byte) {
	tg := &cp.is.Targets[t]
	cp.held += len(tuple) + 2
	if len(cp.open[t]) > 0 && len(cp.open[t])+len(tuple) > copyChunk {
		cp.chunks[t] = append(cp.chunks[t], string(append(cp.open[t], tg.Tail...)))
		cp.open[t] = cp.open[t][:0]
	}
	if len(cp.open[t]) == 0 {
		cp.open[t] = append(cp.open[t], tg.Head...)
	} else {
		cp.open[t] = append(cp.open[t], ", "...)
	}
	cp.open[t] = append(cp.open[t], tuple...)
}

// placeByParents asks an ER child's parents where its rows go.
func (cp *copier) placeByParents() error {
	if len(cp.orphans) == 0 {
		return nil
	}
	var keys []string
	seen := map[string]bool{}
	for _, o := range cp.orphans {
		if !seen[o.key] {
			seen[o.key] = true
			keys = append(keys, o.key)
		}
	}
	owner, err := ownersOf(cp.conns, cp.is.Lookup(keys))
	if err != nil {
		return err
	}
	cp.held = 0 // (counted again as they move from orphans to INSERTs)
	for _, o := range cp.orphans {
		t, ok := owner[string(o.raw)]
		if !ok {
			return mysql.NewError(mysql.ER_NO_REFERENCED_ROW_2, "shardgate: cannot place a "+cp.is.Table+" row: no parent row has the key "+o.key)
		}
		cp.add(t, o.tuple)
	}
	cp.orphans = nil
	return nil
}

// write runs the INSERTs, target by target; a global table's copies
// answer alike, and the first copy's answers are counted.
func (cp *copier) write() error {
	for t := range cp.is.Targets {
		if len(cp.open[t]) > 0 {
			cp.chunks[t] = append(cp.chunks[t], string(append(cp.open[t], cp.is.Targets[t].Tail...)))
			cp.open[t] = nil
		}
		count := t == 0 || !cp.is.Broadcast
		for i, sql := range cp.chunks[t] {
			cp.chunks[t][i] = "" // (let it go once written)
			err := cp.on(cp.is.Targets[t].Node, func(c *backend.Conn) error {
				ok, err := c.Exec(cp.prefix + sql)
				if err != nil || !count {
					return err
				}
				cp.affected += ok.AffectedRows
				cp.warn += uint64(ok.Warnings)
				if cp.insertID == 0 {
					cp.insertID = ok.LastInsertID
				}
				if _, dup, _, isInfo := parseCounts(ok.Info, "Records: "); isInfo {
					cp.duplicates += dup
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// appendLiteral appends a text-protocol value as a SQL literal that gives
// it back exactly: numbers as printed, binary strings in hex, other
// strings quoted (the session's character set; escapes says backslash
// escapes, unless sql_mode has NO_BACKSLASH_ESCAPES).
func appendLiteral(dst, v []byte, null, numeric, binary, escapes bool) []byte {
	const digits = "0123456789ABCDEF"
	switch {
	case null:
		return append(dst, "NULL"...)
	case numeric:
		return append(dst, v...)
	case binary:
		dst = append(dst, "X'"...)
		for _, c := range v {
			dst = append(dst, digits[c>>4], digits[c&15])
		}
		return append(dst, '\'')
	}
	dst = append(dst, '\'')
	for _, c := range v {
		switch {
		case c == '\'':
			dst = append(dst, '\'')
		case c == '\\' && escapes:
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '\'')
}
