package merge

import (
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

// Kind says which field of a Value holds it.
type Kind uint8

// Value kinds.
const (
	KindNull     Kind = iota
	KindText          // B: a column in the text protocol, not yet typed (see Value.As)
	KindInt           // I
	KindUint          // U
	KindFloat         // F
	KindDecimal       // B: decimal text "-123.4500"
	KindBytes         // B: strings, blobs, JSON, ENUM/SET labels
	KindTemporal      // I: an order-preserving key; see below
)

// Value is one decoded column. B points into the row it came from: it is
// valid as long as that row is.
//
// A temporal Value has I set to an order-preserving key: for DATE,
// DATETIME and TIMESTAMP
// ((((((year*13+month)*32+day)*24+hour)*60+minute)*60+second)*1e6+µs),
// for TIME the signed number of microseconds.
type Value struct {
	Kind Kind
	I    int64
	U    uint64
	F    float64
	B    []byte
}

// Null is the SQL NULL.
var Null = Value{}

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.Kind == KindNull }

// Int returns an integer Value.
func Int(i int64) Value { return Value{Kind: KindInt, I: i} }

// Uint returns an unsigned integer Value.
func Uint(u uint64) Value { return Value{Kind: KindUint, U: u} }

// Float returns a floating-point Value.
func Float(f float64) Value { return Value{Kind: KindFloat, F: f} }

// Decimal returns a Value holding decimal text such as "-12.50".
func Decimal(text []byte) Value { return Value{Kind: KindDecimal, B: text} }

// Bytes returns a string Value.
func Bytes(b []byte) Value { return Value{Kind: KindBytes, B: b} }

// span locates the content of one column in a row: row[start:end], or NULL.
// For length-prefixed encodings the prefix is not part of the content.
type span struct {
	start, end int
	null       bool
}

// bitmapLen is the size of a binary row's NULL bitmap for n columns.
func bitmapLen(n int) int { return (n + 7 + 2) / 8 }

// layout fills sp (len(sp) <= len(fields)) with the positions of the first
// len(sp) columns of row.
func layout(fields []Field, bin bool, row []byte, sp []span) error {
	if !bin {
		pos := 0
		for i := range sp {
			if pos >= len(row) {
				return malformed("text row")
			}
			if row[pos] == 0xfb {
				sp[i] = span{start: pos + 1, end: pos + 1, null: true}
				pos++
				continue
			}
			v, _, n := wire.ReadLenEnc(row[pos:])
			if n == 0 || uint64(len(row)-pos-n) < v {
				return malformed("text row")
			}
			start := pos + n
			pos = start + int(v)
			sp[i] = span{start: start, end: pos}
		}
		return nil
	}
	nb := bitmapLen(len(fields))
	if len(row) < 1+nb || row[0] != 0 {
		return malformed("binary row")
	}
	bitmap := row[1 : 1+nb]
	pos := 1 + nb
	for i := range sp {
		bit := i + 2
		if bitmap[bit>>3]&(1<<(bit&7)) != 0 {
			sp[i] = span{start: pos, end: pos, null: true}
			continue
		}
		start, end, ok := binaryExtent(fields[i].Type, row, pos)
		if !ok {
			return malformed("binary row")
		}
		sp[i] = span{start: start, end: end}
		pos = end
	}
	return nil
}

// binaryExtent returns where the value of a column of type t starting at
// pos lies (content without length prefix) and where it ends.
func binaryExtent(t byte, row []byte, pos int) (start, end int, ok bool) {
	size := fixedSize(t)
	switch {
	case size > 0:
		if len(row)-pos < size {
			return 0, 0, false
		}
		return pos, pos + size, true
	case size == 0: // MYSQL_TYPE_NULL
		return pos, pos, true
	case size == -2: // temporal: one length byte
		if pos >= len(row) {
			return 0, 0, false
		}
		l := int(row[pos])
		if len(row)-pos-1 < l {
			return 0, 0, false
		}
		return pos + 1, pos + 1 + l, true
	}
	v, _, n := wire.ReadLenEnc(row[pos:])
	if n == 0 || uint64(len(row)-pos-n) < v {
		return 0, 0, false
	}
	return pos + n, pos + n + int(v), true
}

// fixedSize is the binary-protocol size of a type: > 0 fixed, 0 none,
// -1 length-encoded string, -2 temporal with a length byte.
func fixedSize(t byte) int {
	switch t {
	case mysql.MYSQL_TYPE_TINY:
		return 1
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		return 2
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_FLOAT:
		return 4
	case mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_DOUBLE:
		return 8
	case mysql.MYSQL_TYPE_NULL:
		return 0
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP,
		mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_NEWDATE:
		return -2
	}
	return -1
}

// class groups the types by how they compare and print.
type class uint8

const (
	classBytes class = iota
	classInt
	classBit
	classDecimal
	classFloat
	classDate // DATE, DATETIME, TIMESTAMP
	classTime
)

func classOf(t byte) class {
	switch t {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24,
		mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_YEAR:
		return classInt
	case mysql.MYSQL_TYPE_BIT:
		return classBit
	case mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL:
		return classDecimal
	case mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		return classFloat
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP,
		mysql.MYSQL_TYPE_NEWDATE:
		return classDate
	case mysql.MYSQL_TYPE_TIME:
		return classTime
	}
	return classBytes
}

// DecodeText returns column i of a text-protocol row: Null, or a KindText
// Value pointing into the row. Type it with Value.As, or let Compare do it.
func DecodeText(row Row, i int) (Value, error) {
	pos := 0
	for j := 0; ; j++ {
		if pos >= len(row) {
			return Null, malformed("text row")
		}
		if row[pos] == 0xfb {
			if j == i {
				return Null, nil
			}
			pos++
			continue
		}
		v, _, n := wire.ReadLenEnc(row[pos:])
		if n == 0 || uint64(len(row)-pos-n) < v {
			return Null, malformed("text row")
		}
		if j == i {
			return Value{Kind: KindText, B: row[pos+n : pos+n+int(v)]}, nil
		}
		pos += n + int(v)
	}
}

// DecodeBinary returns column i of a binary-protocol row, typed by its field.
func DecodeBinary(fields []Field, row Row, i int) (Value, error) {
	return Decode(fields, true, row, i)
}

// Decode returns column i of a row in either protocol, typed by its field.
func Decode(fields []Field, bin bool, row Row, i int) (Value, error) {
	if i < 0 || i >= len(fields) {
		return Null, malformed("column index")
	}
	var buf [16]span
	var sp []span
	if i < len(buf) {
		sp = buf[:i+1]
	} else {
		sp = make([]span, i+1)
	}
	if err := layout(fields, bin, row, sp); err != nil {
		return Null, err
	}
	return decodeSpan(&fields[i], bin, row, sp[i])
}

func decodeSpan(f *Field, bin bool, row []byte, s span) (Value, error) {
	if s.null {
		return Null, nil
	}
	return decodeContent(f, bin, row[s.start:s.end])
}

// As types a KindText value by its field; other kinds are returned as is.
func (v Value) As(f *Field) (Value, error) {
	if v.Kind != KindText {
		return v, nil
	}
	return decodeContent(f, false, v.B)
}

// decodeContent decodes a column's content (without length prefix).
func decodeContent(f *Field, bin bool, b []byte) (Value, error) {
	var v Value
	err := decodeInto(&v, classOf(f.Type), f.Flags&mysql.UNSIGNED_FLAG != 0, bin, b)
	return v, err
}

// decodeInto decodes a column's content into *v, which it overwrites.
func decodeInto(v *Value, c class, unsigned, bin bool, b []byte) error {
	*v = Value{}
	if !bin {
		switch c {
		case classInt:
			if unsigned {
				u, ok := parseUint(b)
				if !ok {
					return malformed("integer")
				}
				v.Kind, v.U = KindUint, u
				return nil
			}
			i, ok := parseInt(b)
			if !ok {
				return malformed("integer")
			}
			v.Kind, v.I = KindInt, i
			return nil
		case classBit:
			return bitValue(v, b)
		case classDecimal:
			if !validDecimal(b) {
				return malformed("decimal")
			}
			v.Kind, v.B = KindDecimal, b
			return nil
		case classFloat:
			x, err := strconv.ParseFloat(unsafeString(b), 64)
			if err != nil {
				return malformed("float")
			}
			v.Kind, v.F = KindFloat, x
			return nil
		case classDate:
			k, ok := parseDateText(b)
			if !ok {
				return malformed("date")
			}
			v.Kind, v.I = KindTemporal, k
			return nil
		case classTime:
			k, ok := parseTimeText(b)
			if !ok {
				return malformed("time")
			}
			v.Kind, v.I = KindTemporal, k
			return nil
		}
		v.Kind, v.B = KindBytes, b
		return nil
	}
	switch c {
	case classInt:
		var u uint64
		var i int64
		switch len(b) {
		case 1:
			u, i = uint64(b[0]), int64(int8(b[0]))
		case 2:
			x := binary.LittleEndian.Uint16(b)
			u, i = uint64(x), int64(int16(x))
		case 4:
			x := binary.LittleEndian.Uint32(b)
			u, i = uint64(x), int64(int32(x))
		case 8:
			u = binary.LittleEndian.Uint64(b)
			i = int64(u)
		default:
			return malformed("integer")
		}
		if unsigned {
			v.Kind, v.U = KindUint, u
		} else {
			v.Kind, v.I = KindInt, i
		}
		return nil
	case classBit:
		return bitValue(v, b)
	case classDecimal:
		if !validDecimal(b) {
			return malformed("decimal")
		}
		v.Kind, v.B = KindDecimal, b
		return nil
	case classFloat:
		switch len(b) {
		case 4:
			v.Kind, v.F = KindFloat, float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
			return nil
		case 8:
			v.Kind, v.F = KindFloat, math.Float64frombits(binary.LittleEndian.Uint64(b))
			return nil
		}
		return malformed("float")
	case classDate:
		k, ok := dateBinaryKey(b)
		if !ok {
			return malformed("date")
		}
		v.Kind, v.I = KindTemporal, k
		return nil
	case classTime:
		k, ok := timeBinaryKey(b)
		if !ok {
			return malformed("time")
		}
		v.Kind, v.I = KindTemporal, k
		return nil
	}
	v.Kind, v.B = KindBytes, b
	return nil
}

// unsafeString views b as a string for a call that does not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func bitValue(v *Value, b []byte) error {
	var u uint64
	for _, c := range b {
		if u>>56 != 0 {
			return malformed("bit")
		}
		u = u<<8 | uint64(c)
	}
	v.Kind, v.U = KindUint, u
	return nil
}

// parseUint parses unsigned decimal digits (an optional '+').
func parseUint(b []byte) (uint64, bool) {
	if len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		d := uint64(c - '0')
		if d > 9 {
			return 0, false
		}
		if u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	return u, true
}

// parseInt parses a signed decimal integer.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	u, ok := parseUint(b)
	if !ok {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// validDecimal checks [-+]digits[.digits].
func validDecimal(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	digits, dot := 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// dateKey packs a date and time into an order-preserving key.
func dateKey(y, mo, d, h, mi, s, us int64) int64 {
	return (((((y*13+mo)*32+d)*24+h)*60+mi)*60+s)*1000000 + us
}

// splitDateKey is the inverse of dateKey.
func splitDateKey(k int64) (y, mo, d, h, mi, s, us int64) {
	us = k % 1000000
	k /= 1000000
	s = k % 60
	k /= 60
	mi = k % 60
	k /= 60
	h = k % 24
	k /= 24
	d = k % 32
	k /= 32
	mo = k % 13
	y = k / 13
	return
}

// digitsAt reads n decimal digits at b[pos:].
func digitsAt(b []byte, pos, n int) (int64, bool) {
	if pos+n > len(b) {
		return 0, false
	}
	var v int64
	for _, c := range b[pos : pos+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// fraction parses ".ffffff" (any width, normalized to microseconds) at the
// end of b; an empty b is 0.
func fraction(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	if b[0] != '.' {
		return 0, false
	}
	var us int64
	n := 0
	for _, c := range b[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 6 {
			us = us*10 + int64(c-'0')
		}
		n++
	}
	for ; n < 6; n++ {
		us *= 10
	}
	return us, true
}

// parseDateText parses 'YYYY-MM-DD[ HH:MM:SS[.f…]]'.
func parseDateText(b []byte) (int64, bool) {
	y, ok1 := digitsAt(b, 0, 4)
	mo, ok2 := digitsAt(b, 5, 2)
	d, ok3 := digitsAt(b, 8, 2)
	if !ok1 || !ok2 || !ok3 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	if len(b) == 10 {
		return dateKey(y, mo, d, 0, 0, 0, 0), true
	}
	h, ok1 := digitsAt(b, 11, 2)
	mi, ok2 := digitsAt(b, 14, 2)
	s, ok3 := digitsAt(b, 17, 2)
	if !ok1 || !ok2 || !ok3 || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	us, ok := fraction(b[19:])
	if !ok || mo > 12 || d > 31 || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	return dateKey(y, mo, d, h, mi, s, us), true
}

// parseTimeText parses '[-]H…H:MM:SS[.f…]' into signed microseconds.
func parseTimeText(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	var h int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		h = h*10 + int64(b[i]-'0')
		if h > 1<<30 {
			return 0, false
		}
	}
	if i == 0 || i+6 > len(b) || b[i] != ':' || b[i+3] != ':' {
		return 0, false
	}
	mi, ok1 := digitsAt(b, i+1, 2)
	s, ok2 := digitsAt(b, i+4, 2)
	us, ok3 := fraction(b[i+6:])
	if !ok1 || !ok2 || !ok3 {
		return 0, false
	}
	k := ((h*60+mi)*60+s)*1000000 + us
	if neg {
		k = -k
	}
	return k, true
}

// dateBinaryKey decodes a binary DATE/DATETIME/TIMESTAMP (length 0, 4, 7, 11).
func dateBinaryKey(b []byte) (int64, bool) {
	var y, mo, d, h, mi, s, us int64
	switch len(b) {
	case 11:
		us = int64(binary.LittleEndian.Uint32(b[7:]))
		fallthrough
	case 7:
		h, mi, s = int64(b[4]), int64(b[5]), int64(b[6])
		fallthrough
	case 4:
		y = int64(binary.LittleEndian.Uint16(b))
		mo, d = int64(b[2]), int64(b[3])
	case 0:
	default:
		return 0, false
	}
	return dateKey(y, mo, d, h, mi, s, us), true
}

// timeBinaryKey decodes a binary TIME (length 0, 8, 12) into signed µs.
func timeBinaryKey(b []byte) (int64, bool) {
	var neg bool
	var days, h, mi, s, us int64
	switch len(b) {
	case 12:
		us = int64(binary.LittleEndian.Uint32(b[8:]))
		fallthrough
	case 8:
		neg = b[0] == 1
		days = int64(binary.LittleEndian.Uint32(b[1:]))
		h, mi, s = int64(b[5]), int64(b[6]), int64(b[7])
	case 0:
	default:
		return 0, false
	}
	k := (((days*24+h)*60+mi)*60+s)*1000000 + us
	if neg {
		k = -k
	}
	return k, true
}
