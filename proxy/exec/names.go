package exec

import (
	"strings"
	"unsafe"

	"github.com/shardgate/shardgate/proxy/wire"
)

// Names maps physical names back to logical ones in what clients see:
// column definitions and error messages name the physical database and
// table (shop_1, orders_3); one MySQL would say shop and orders.
type Names struct {
	DB    map[string]string    // physical database → logical schema
	Table map[[2]string]string // physical database, physical table → logical table
	// replacer rewrites messages.
	replacer *strings.Replacer
	// orgTable maps a physical table to its logical one where a column
	// definition names no database (a derived table's column names the
	// table it came from); "" where two logical tables share the name.
	orgTable map[string]string
}

// NewNames builds the mapping; tables lists (db, physical, logical).
func NewNames(db map[string]string, tables map[[2]string]string) *Names {
	n := &Names{DB: db, Table: tables}
	var pairs []string
	// 'shop_0.orders_1' whole first: at one position the first pair given
	// that matches wins, and 'shop_0. alone would leave the table.
	for k, logical := range tables {
		if ldb, ok := db[k[0]]; ok && (ldb != k[0] || logical != k[1]) {
			pairs = append(pairs, "'"+k[0]+"."+k[1]+"'", "'"+ldb+"."+logical+"'")
		}
	}
	for phys, logical := range db {
		if phys != logical {
			pairs = append(pairs, "'"+phys+".", "'"+logical+".", "`"+phys+"`", "`"+logical+"`", "'"+phys+"'", "'"+logical+"'",
				" "+phys+".", " "+logical+".") // PROCEDURE shop_0.p does not exist (1305)
		}
	}
	for k, logical := range tables {
		if k[1] == logical {
			continue
		}
		pairs = append(pairs, "."+k[1]+"'", "."+logical+"'", "`"+k[1]+"`", "`"+logical+"`", "'"+k[1]+"'", "'"+logical+"'")
		if n.orgTable == nil {
			n.orgTable = map[string]string{}
		}
		if was, seen := n.orgTable[k[1]]; seen && was != logical {
			n.orgTable[k[1]] = ""
		} else if !seen {
			n.orgTable[k[1]] = logical
		}
	}
	if len(pairs) > 0 {
		n.replacer = strings.NewReplacer(pairs...)
	}
	return n
}

// empty reports that nothing needs renaming.
func (n *Names) empty() bool { return n == nil || n.replacer == nil }

// Message rewrites physical names in an error message.
func (n *Names) Message(msg string) string {
	if n.empty() {
		return msg
	}
	return n.replacer.Replace(msg)
}

// ColumnDef rewrites a column definition's schema and table names; it
// returns def itself when nothing changes, else the rewritten definition
// in *buf (reused: valid until buf's next use), so that relaying a result
// does not allocate.
func (n *Names) ColumnDef(buf *[]byte, def []byte) []byte {
	if n.empty() {
		return def
	}
	c, err := wire.ParseColumnDef(def)
	if err != nil {
		return def
	}
	// The lookups' string conversions do not allocate.
	schema, okDB := n.DB[string(c.Schema)]
	table, okT := n.Table[[2]string{string(c.Schema), string(c.Table)}]
	var orgTable string
	var okO bool
	switch {
	case len(c.Schema) == 0 && len(c.OrgTable) > 0:
		orgTable, okO = n.orgTable[string(c.OrgTable)]
		okO = okO && orgTable != ""
	case string(c.OrgTable) == string(c.Table): // (no alias: one lookup)
		orgTable, okO = table, okT
	default:
		orgTable, okO = n.Table[[2]string{string(c.Schema), string(c.OrgTable)}]
	}
	if !okDB && !okT && !okO {
		return def
	}
	if okDB {
		c.Schema = bytesOf(schema)
	}
	if okT {
		c.Table = bytesOf(table)
	}
	if okO {
		c.OrgTable = bytesOf(orgTable)
	}
	*buf = wire.AppendColumnRef((*buf)[:0], &c)
	return *buf
}

// bytesOf is s as bytes, without a copy; they are only read.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// ErrPacket rewrites the message of an ERR packet.
func (n *Names) ErrPacket(p []byte) []byte {
	if n.empty() {
		return p
	}
	e := wire.ParseErr(p)
	msg := n.Message(e.Message)
	if msg == e.Message {
		return p
	}
	e.Message = msg
	return wire.AppendErr(nil, e)
}
