package merge

import (
	"bytes"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Compare orders two values of the column f the way MySQL does: NULL
// first, integers numerically (signed or unsigned), DECIMAL exactly,
// floats numerically, temporal values chronologically, strings bytewise
// (compare WEIGHT_STRING helper values to follow a collation). It returns
// -1, 0 or +1. KindText values are typed by f first; text that does not
// parse as f's type compares bytewise.
func Compare(a, b Value, f *Field) int {
	if a.Kind == KindText {
		if t, err := a.As(f); err == nil {
			a = t
		} else {
			a.Kind = KindBytes
		}
	}
	if b.Kind == KindText {
		if t, err := b.As(f); err == nil {
			b = t
		} else {
			b.Kind = KindBytes
		}
	}
	return compareTyped(a, b)
}

// compareTyped compares typed values.
func compareTyped(a, b Value) int { return comparePtr(&a, &b) }

// comparePtr compares typed values without copying them.
func comparePtr(a, b *Value) int {
	if a.Kind == b.Kind {
		switch a.Kind {
		case KindNull:
			return 0
		case KindInt, KindTemporal:
			return cmpInt(a.I, b.I)
		case KindUint:
			return cmpUint(a.U, b.U)
		case KindFloat:
			return cmpFloat(a.F, b.F)
		case KindDecimal:
			return compareDecimal(a.B, b.B)
		default:
			return bytes.Compare(a.B, b.B)
		}
	}
	if a.Kind == KindNull {
		return -1
	}
	if b.Kind == KindNull {
		return 1
	}
	return compareMixed(*a, *b)
}

// compareMixed compares values of different kinds (not NULL): numbers
// with numbers, anything else by kind.
func compareMixed(a, b Value) int {
	an, bn := isNumber(a.Kind), isNumber(b.Kind)
	if !an || !bn {
		return cmpInt(int64(a.Kind), int64(b.Kind))
	}
	switch {
	case a.Kind == KindInt && b.Kind == KindUint:
		if a.I < 0 {
			return -1
		}
		return cmpUint(uint64(a.I), b.U)
	case a.Kind == KindUint && b.Kind == KindInt:
		return -compareMixed(b, a)
	case a.Kind == KindFloat || b.Kind == KindFloat:
		return cmpFloat(toFloat(a), toFloat(b))
	}
	// Decimal against an integer: compare as decimal text.
	var ab, bb [24]byte
	return compareDecimal(decimalText(ab[:0], a), decimalText(bb[:0], b))
}

func isNumber(k Kind) bool {
	return k == KindInt || k == KindUint || k == KindFloat || k == KindDecimal
}

func toFloat(v Value) float64 {
	switch v.Kind {
	case KindInt:
		return float64(v.I)
	case KindUint:
		return float64(v.U)
	case KindFloat:
		return v.F
	case KindDecimal, KindBytes, KindText:
		x, _ := strconv.ParseFloat(unsafeString(v.B), 64)
		return x
	}
	return 0
}

// decimalText renders an integer value as decimal text; decimals as is.
func decimalText(dst []byte, v Value) []byte {
	switch v.Kind {
	case KindInt:
		return strconv.AppendInt(dst, v.I, 10)
	case KindUint:
		return strconv.AppendUint(dst, v.U, 10)
	}
	return v.B
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// splitDecimal splits decimal text into sign, integer digits without
// leading zeros and fraction digits without trailing zeros. Zero is never
// negative.
func splitDecimal(b []byte) (neg bool, ip, fp []byte) {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	ip = b
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		ip, fp = b[:i], b[i+1:]
	}
	for len(ip) > 0 && ip[0] == '0' {
		ip = ip[1:]
	}
	for len(fp) > 0 && fp[len(fp)-1] == '0' {
		fp = fp[:len(fp)-1]
	}
	if len(ip) == 0 && len(fp) == 0 {
		neg = false
	}
	return neg, ip, fp
}

// compareDecimal compares decimal texts exactly ("-1.5" < "-1.25").
func compareDecimal(a, b []byte) int {
	// Fast path: the same layout (one column prints every value with the
	// same scale), the same sign: the text orders like the number.
	if len(a) == len(b) && len(a) > 0 && bytes.IndexByte(a, '.') == bytes.IndexByte(b, '.') &&
		a[0] != '+' && b[0] != '+' {
		switch {
		case a[0] != '-' && b[0] != '-':
			return bytes.Compare(a, b)
		case a[0] == '-' && b[0] == '-':
			return -bytes.Compare(a[1:], b[1:])
		}
	}
	an, ai, af := splitDecimal(a)
	bn, bi, bf := splitDecimal(b)
	if an != bn {
		if an {
			return -1
		}
		return 1
	}
	c := cmpInt(int64(len(ai)), int64(len(bi)))
	if c == 0 {
		c = bytes.Compare(ai, bi)
	}
	if c == 0 {
		// Trailing zeros are gone, so lexicographic order is numeric order.
		c = bytes.Compare(af, bf)
	}
	if an {
		return -c
	}
	return c
}

var errBadColumn = mysql.NewError(mysql.ER_UNKNOWN_ERROR,
	"shardgate: internal error: a merge names a column the shards did not return")

// keySet decodes and compares the sort keys of rows.
type keySet struct {
	keys   []SortKey
	fields []Field
	bin    bool
	cols   []int   // column decoded for key i: the weight column if any
	cmp    []Field // field used to decode key i
	cls    []class // its class
	uns    []bool  // and whether it is unsigned
	spans  []span
	pads   [][]byte // key i's pad, resolved from its first value (SortKey.Pads)
	bad    bool     // a key names a column that does not exist
}

func newKeySet(fields []Field, bin bool, keys []SortKey) *keySet {
	ks := &keySet{keys: keys, fields: fields, bin: bin}
	maxCol := -1
	for _, k := range keys {
		c := k.Col
		if k.Weight >= 0 {
			c = k.Weight
		}
		ks.cols = append(ks.cols, c)
		var f Field
		if c >= 0 && c < len(fields) {
			f = fields[c]
		}
		if k.Weight >= 0 {
			// Weight strings compare as binary strings whatever their
			// declared type.
			f.Type = 0xfc // MYSQL_TYPE_BLOB
		}
		ks.cmp = append(ks.cmp, f)
		ks.cls = append(ks.cls, classOf(f.Type))
		ks.uns = append(ks.uns, f.Flags&mysql.UNSIGNED_FLAG != 0)
		if c > maxCol {
			maxCol = c
		}
	}
	for _, c := range ks.cols {
		if c < 0 || c >= len(fields) {
			ks.bad = true
		}
	}
	if ks.bad {
		maxCol = -1
	}
	ks.spans = make([]span, maxCol+1)
	for _, k := range keys {
		if k.Pads != nil {
			ks.pads = make([][]byte, len(keys))
			break
		}
	}
	return ks
}

// decode fills dst (len(keys)) with the key values of row; they point into row.
func (ks *keySet) decode(row []byte, dst []Value) error {
	if ks.bad {
		return errBadColumn
	}
	if err := layout(ks.fields, ks.bin, row, ks.spans); err != nil {
		return err
	}
	return ks.fromSpans(row, ks.spans, dst)
}

// fromSpans decodes the key values from an already computed layout.
func (ks *keySet) fromSpans(row []byte, sp []span, dst []Value) error {
	dst = dst[:len(ks.cols)]
	for i, c := range ks.cols {
		s := sp[c]
		if s.null {
			dst[i] = Value{}
			continue
		}
		if err := decodeInto(&dst[i], ks.cls[i], ks.uns[i], ks.bin, row[s.start:s.end]); err != nil {
			return err
		}
	}
	return nil
}

// compare orders two decoded key tuples.
func (ks *keySet) compare(a, b []Value) int {
	a = a[:len(ks.keys)]
	b = b[:len(ks.keys)]
	for i := range ks.keys {
		var c int
		if coll := ks.keys[i].Coll; coll != nil && a[i].Kind != KindNull && b[i].Kind != KindNull {
			c = coll.Compare(a[i].B, b[i].B)
		} else if ks.keys[i].Pads != nil && a[i].Kind != KindNull && b[i].Kind != KindNull {
			if ks.pads[i] == nil {
				ks.pads[i] = ks.keys[i].Pads.of(a[i].B)
			}
			c = PadCompare(a[i].B, b[i].B, ks.pads[i])
		} else {
			c = comparePtr(&a[i], &b[i])
		}
		if c != 0 {
			if ks.keys[i].Desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// copyValues copies src into dst, moving the bytes the values point to
// into buf (reused); it returns buf.
func copyValues(dst, src []Value, buf []byte) []byte {
	n := 0
	for i := range src {
		n += len(src[i].B)
	}
	if cap(buf) < n {
		buf = make([]byte, 0, n)
	}
	buf = buf[:0]
	for i := range src {
		dst[i] = src[i]
		if src[i].B != nil {
			s := len(buf)
			buf = append(buf, src[i].B...)
			dst[i].B = buf[s:len(buf):len(buf)]
		}
	}
	return buf
}
