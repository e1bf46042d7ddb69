package exec

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/merge"
)

// runMaintenance runs a table maintenance statement (router.Maintenance)
// node after node, holds the rows (one or a few a physical table), and
// answers one server's: each client table under its name, in the client's
// order. A CHECKSUM of shards is the sum of theirs modulo 2^32, as the
// server's is the sum of its rows' (NULL if any is). Otherwise the
// messages the physical tables give are shown once each (as the proxy
// shows messages, naming the client's tables: which shard said it is
// lost), and a "status OK" only when every one of them ended so.
func runMaintenance(cli *Client, m *router.Maintenance, conns Conns, tr Tracker) (Outcome, error) {
	st := steps{conns: conns}
	budget := maxBuffered
	answers := map[string][][][]byte{} // physical name -> its rows' values
	var fields []merge.Field
	var warnings uint32
	width := 4
	if m.Checksum {
		width = 2
	}
	for _, r := range m.Routes {
		err := st.on(r.Node, func(c *backend.Conn) error {
			b, w, err := queryBuffered(c, r.SQL[0], tr, &budget)
			if err != nil {
				return err
			}
			warnings += w
			if len(b.fields) != width {
				return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: "+r.Node+" answered "+m.Op+" with "+strconv.Itoa(len(b.fields))+" columns")
			}
			if fields == nil {
				fields = b.fields
			}
			for _, row := range b.rows {
				vals := make([][]byte, width)
				if err := textValues(row, vals); err != nil {
					return err
				}
				answers[string(vals[0])] = append(answers[string(vals[0])], vals)
			}
			return nil
		})
		if err != nil {
			return st.answer(cli, tr, err, nil)
		}
	}
	if fields == nil {
		var err error
		if fields, err = maintenanceFields(m.Checksum); err != nil {
			return Outcome{}, err
		}
	}
	var rows []merge.Row
	var out Outcome
	for _, t := range m.Tables {
		for _, vals := range maintainedRows(m, t, answers, cli.Names) {
			rows = append(rows, AppendTextRow(nil, vals))
		}
		if m.Checksum && len(t.Physical) == 0 {
			// One server warns of each table it does not have.
			out.Notes = append(out.Notes, backend.Warning{Level: "Error", Code: t.Refusal.Code, Message: t.Refusal.Message})
			warnings++
		}
	}
	w := uint16(min(warnings, 65535))
	err := writeStream(cli, &bufferedStream{fields: fields, rows: rows}, tr, &out, func() uint16 { return w })
	return out, err
}

// maintainedRows are one client table's rows (values, nil for NULL).
// A message names the client's tables, as the proxy's errors do.
func maintainedRows(m *router.Maintenance, t router.MaintainedTable, answers map[string][][][]byte, names *Names) [][][]byte {
	name := []byte(t.Name)
	if len(t.Physical) == 0 {
		if m.Checksum {
			return [][][]byte{{name, nil}}
		}
		op := []byte(m.Op)
		return [][][]byte{
			{name, op, []byte("Error"), []byte(t.Refusal.Message)},
			{name, op, []byte("status"), []byte("Operation failed")},
		}
	}
	if m.Checksum {
		var sums [][]byte
		for _, p := range t.Physical {
			for _, vals := range answers[p] {
				sums = append(sums, vals[1])
			}
		}
		return [][][]byte{{name, SumChecksums(sums)}}
	}
	var out [][][]byte
	allOK := true
	for _, p := range t.Physical {
		rows := answers[p]
		if n := len(rows); n == 0 || string(rows[n-1][2]) != "status" || string(rows[n-1][3]) != "OK" {
			allOK = false
		}
		if len(rows) == 0 {
			out = append(out, [][]byte{name, []byte(m.Op), []byte("Error"), []byte("shardgate: no answer for " + p)})
		}
		for _, vals := range rows {
			vals[0] = name
			if vals[3] != nil {
				vals[3] = []byte(names.Message(string(vals[3])))
			}
			if !slices.ContainsFunc(out, func(o [][]byte) bool { return sameMessage(o, vals) }) {
				out = append(out, vals)
			}
		}
	}
	if !allOK {
		out = slices.DeleteFunc(out, func(o [][]byte) bool { return string(o[2]) == "status" && string(o[3]) == "OK" })
	}
	return out
}

func sameMessage(a, b [][]byte) bool {
	for i := 1; i < len(a); i++ {
		if !bytes.Equal(a[i], b[i]) || (a[i] == nil) != (b[i] == nil) {
			return false
		}
	}
	return true
}

// maintenanceFields are the columns one server gives, for an answer no
// node gave (every table missing).
func maintenanceFields(checksum bool) ([]merge.Field, error) {
	text := func(name string, length uint32) wire.Column {
		return wire.Column{Name: name, Charset: 33, Length: length, Type: mysql.MYSQL_TYPE_VAR_STRING, Decimals: 39}
	}
	cols := []wire.Column{text("Table", 1152),
		{Name: "Checksum", Charset: 63, Length: 21, Type: mysql.MYSQL_TYPE_LONGLONG, Flags: mysql.BINARY_FLAG | mysql.NUM_FLAG}}
	if !checksum {
		cols = []wire.Column{text("Table", 384), text("Op", 30), text("Msg_type", 30),
			{Name: "Msg_text", Charset: 33, Length: 1179648, Type: mysql.MYSQL_TYPE_MEDIUM_BLOB, Decimals: 39}}
	}
	fields := make([]merge.Field, len(cols))
	for i := range cols {
		f, err := merge.FieldFromDef(wire.AppendColumnDef(nil, &cols[i]))
		if err != nil {
			return nil, err
		}
		fields[i] = f
	}
	return fields, nil
}

// SumChecksums is the checksum of a table whose parts (shards) have these
// checksums: their sum modulo 2^32, as a server's is the sum of its rows';
// NULL (nil) if any is NULL or not a checksum.
func SumChecksums(parts [][]byte) []byte {
	var sum uint32
	for _, v := range parts {
		n, err := strconv.ParseUint(string(v), 10, 32)
		if v == nil || err != nil {
			return nil
		}
		sum += uint32(n)
	}
	return strconv.AppendUint(nil, uint64(sum), 10)
}
