// Package merge combines the result sets of several shards into the one
// result set a client sees: concatenation, k-way merge of sorted inputs,
// LIMIT, GROUP BY / aggregate merging, DISTINCT, projection of helper
// columns, in-memory sorting and HAVING filters.
//
// Everything here is pull-based and single-goroutine: a primitive asks its
// inputs for rows one at a time, as it needs them, and keeps at most a
// bounded number of rows (one per input for a merge). Rows are raw MySQL
// row packet payloads in the text protocol (COM_QUERY) or the binary
// protocol (COM_STMT_EXECUTE); a row that needs no change is passed on as
// the backend's bytes, and only the columns a primitive looks at are
// decoded.
//
// The package is pure: no sockets, no goroutines, no logging.
package merge

import (
	"bytes"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

// Field is one result column as the shards describe it.
type Field struct {
	Def      []byte // raw column-definition packet payload (the executor forwards it to the client)
	Name     string
	Type     byte   // mysql.MYSQL_TYPE_*
	Flags    uint16 // mysql.UNSIGNED_FLAG, BINARY_FLAG, ...
	Decimals byte
	Charset  uint16 // collation id; 63 = binary
	Length   uint32
}

// FieldFromDef decodes a column-definition packet payload into a Field.
// Def keeps def itself (not a copy): the caller must not reuse the buffer.
func FieldFromDef(def []byte) (Field, error) {
	c, err := wire.ParseColumnDef(def)
	if err != nil {
		return Field{}, malformed("column definition")
	}
	return Field{
		Def:      def,
		Name:     string(c.Name),
		Type:     c.Type,
		Flags:    c.Flags,
		Decimals: c.Decimals,
		Charset:  c.Charset,
		Length:   c.Length,
	}, nil
}

// Row is one row packet payload in the stream's protocol. A Row is valid only until the next call
// to Next on the stream that returned it: a primitive that keeps a row must copy it.
type Row []byte

// Stream is a source of rows sharing one set of fields.
//
// The consumer calls Close exactly once, whether or not it read to the end
// (Close after the end is cheap). A primitive closes each of its inputs
// exactly once: when it is closed itself, or earlier when it knows it needs
// no more rows from that input (Limit). After Next returned an error the
// stream stays failed; the consumer still calls Close.
type Stream interface {
	Fields() []Field
	Binary() bool       // binary protocol rows (prepared statements) or text
	Next() (Row, error) // (nil, nil) at the end; errors are usually *mysql.MyError from a shard
	Close()             // stop early: the executor drains/discards the shards' rest
}

// SortKey says how to order by one column.
type SortKey struct {
	Col    int // column index compared
	Desc   bool
	Weight int // index of a helper column holding WEIGHT_STRING(expr) for string types, or -1
	// Pads, with Weight, reads the key's collation from its helper values
	// (see Pads): a PAD SPACE collation's weight strings compare as if the
	// shorter one were padded with spaces ('a' = 'a '). Nil: bytewise.
	Pads Pads
	// Coll, without Weight, compares the column's strings by a collation
	// the merge implements; nil: bytewise (binary strings, non-strings).
	Coll *Collation
}

// Pads maps each PAD SPACE collation's name to the weight string of one
// space in it. The merge reads a weight helper as "collation:weight", the
// same collation on every row of a key.
type Pads map[string][]byte

// noPad is the pad of a collation that does not pad (NO PAD, binary):
// resolved, and empty, so weights compare bytewise.
var noPad = []byte{}

// of returns the pad for a helper value's collation.
func (p Pads) of(helper []byte) []byte {
	if i := bytes.IndexByte(helper, ':'); i > 0 {
		if w, ok := p[string(helper[:i])]; ok {
			return w
		}
	}
	return noPad
}

// PadCompare compares two weight strings of a PAD SPACE collation whose
// space weighs pad: the shorter one is compared as if padded with spaces.
func PadCompare(a, b, pad []byte) int {
	n := min(len(a), len(b))
	if c := bytes.Compare(a[:n], b[:n]); c != 0 || len(a) == len(b) {
		return c
	}
	if len(pad) == 0 {
		return bytes.Compare(a, b)
	}
	rest, sign := a[n:], 1
	if len(b) > len(a) {
		rest, sign = b[n:], -1
	}
	for len(rest) > 0 {
		k := min(len(pad), len(rest))
		if c := bytes.Compare(rest[:k], pad[:k]); c != 0 {
			return sign * c
		}
		if k < len(pad) {
			return -sign // a partial unit sorts before a whole space
		}
		rest = rest[k:]
	}
	return 0
}

// malformed reports a row or column definition the proxy cannot decode.
func malformed(what string) error {
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: malformed "+what+" from a shard")
}

// notSupported is the error for a query shape the merge cannot serve.
func notSupported(reason string) error {
	return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "shardgate does not support "+reason)
}

// closer closes a stream at most once.
type closer struct {
	s      Stream
	closed bool
}

func (c *closer) close() {
	if !c.closed {
		c.closed = true
		c.s.Close()
	}
}

// rowsStream serves rows from memory; see FromRows.
type rowsStream struct {
	fields []Field
	binary bool
	rows   []Row
	pos    int
	closed bool
}

// FromRows returns a Stream over rows held in memory (answers the proxy
// makes itself, tests). The rows are not copied and must stay unchanged.
func FromRows(fields []Field, binary bool, rows []Row) Stream {
	return &rowsStream{fields: fields, binary: binary, rows: rows}
}

func (s *rowsStream) Fields() []Field { return s.fields }
func (s *rowsStream) Binary() bool    { return s.binary }
func (s *rowsStream) Close()          { s.closed = true }

func (s *rowsStream) Next() (Row, error) {
	if s.closed || s.pos >= len(s.rows) {
		return nil, nil
	}
	r := s.rows[s.pos]
	s.pos++
	return r, nil
}

// Collect reads s to the end, copying every row, and closes it. For tests
// and small answers only: it holds the whole result.
func Collect(s Stream) ([]Row, error) {
	defer s.Close()
	var out []Row
	for {
		r, err := s.Next()
		if err != nil {
			return out, err
		}
		if r == nil {
			return out, nil
		}
		out = append(out, append(Row(nil), r...))
	}
}
