package merge

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

// notFixedDec is the Decimals a float column has when it prints with as
// many digits as it needs (MariaDB's NOT_FIXED_DEC).
const notFixedDec = 31

// AppendDouble appends x the way MariaDB prints a DOUBLE result whose
// column has no fixed decimals: the shortest digits that read back as x
// (at most 17 significant) in plain notation, except "<d>[.<ddd>]e<exp>"
// (no '+', no padding) when x < 1e-15, or when x >= 1e15 and has no
// fractional digits: 1e15, 100000000000000, 1000000000000000.5,
// 1.000000000000001e15, 0.000000000000001, 1e-16.
func AppendDouble(dst []byte, x float64) []byte {
	return appendG(dst, x, -1, 64)
}

// AppendFloat32 appends x the way MariaDB prints a FLOAT column (six
// significant digits, same notation rules as AppendDouble).
func AppendFloat32(dst []byte, x float64) []byte {
	return appendG(dst, float64(float32(x)), 5, 32)
}

func appendG(dst []byte, x float64, prec, bitSize int) []byte {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return append(dst, '0')
	}
	var buf [40]byte
	e := strconv.AppendFloat(buf[:0], x, 'e', prec, bitSize) // -d.ddde±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	i := 0
	for i < len(e) && e[i] != 'e' {
		i++
	}
	mant, ex := e[:i], e[i+1:]
	exp, _ := strconv.Atoi(unsafeString(ex))
	// Significant digits without the point and trailing zeros.
	var digs [24]byte
	d := digs[:0]
	for _, c := range mant {
		if c != '.' {
			d = append(d, c)
		}
	}
	for len(d) > 1 && d[len(d)-1] == '0' {
		d = d[:len(d)-1]
	}
	if neg {
		dst = append(dst, '-')
	}
	if exp < -15 || (exp >= 15 && len(d) <= exp+1) {
		dst = append(dst, d[0])
		if len(d) > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	if exp < 0 {
		dst = append(dst, '0', '.')
		for j := -1; j > exp; j-- {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	}
	if len(d) <= exp+1 {
		dst = append(dst, d...)
		for j := len(d); j <= exp; j++ {
			dst = append(dst, '0')
		}
		return dst
	}
	dst = append(dst, d[:exp+1]...)
	dst = append(dst, '.')
	return append(dst, d[exp+1:]...)
}

// appendFloatField prints a float for a FLOAT/DOUBLE column: fixed
// decimals when the column has them (DOUBLE(10,2), AVG of one: correctly
// rounded, exact ties to even, as MariaDB does), else AppendDouble.
func appendFloatField(dst []byte, x float64, f *Field) []byte {
	if x == 0 {
		x = 0 // no "-0"
	}
	if f.Decimals < notFixedDec {
		return strconv.AppendFloat(dst, x, 'f', int(f.Decimals), 64)
	}
	if f.Type == mysql.MYSQL_TYPE_FLOAT {
		return AppendFloat32(dst, x)
	}
	return AppendDouble(dst, x)
}

var zeroDigit = []byte{'0'}

// AppendDecimal appends decimal text src rescaled to exactly scale digits
// after the point, rounding half away from zero when digits are dropped
// (MySQL's rule). src is [-+]digits[.digits].
func AppendDecimal(dst, src []byte, scale int) []byte {
	neg := false
	if len(src) > 0 && (src[0] == '-' || src[0] == '+') {
		neg = src[0] == '-'
		src = src[1:]
	}
	ip, fp := src, []byte(nil)
	for i, c := range src {
		if c == '.' {
			ip, fp = src[:i], src[i+1:]
			break
		}
	}
	for len(ip) > 1 && ip[0] == '0' {
		ip = ip[1:]
	}
	if len(ip) == 0 {
		ip = zeroDigit
	}
	start := len(dst)
	if neg {
		dst = append(dst, '-')
	}
	digits := len(dst)
	dst = append(dst, ip...)
	if scale > 0 {
		dst = append(dst, '.')
		if len(fp) >= scale {
			dst = append(dst, fp[:scale]...)
		} else {
			dst = append(dst, fp...)
			for j := len(fp); j < scale; j++ {
				dst = append(dst, '0')
			}
		}
	}
	if len(fp) > scale && fp[scale] >= '5' {
		// Round the magnitude up: propagate the carry leftwards.
		j := len(dst) - 1
		for ; j >= digits; j-- {
			if dst[j] == '.' {
				continue
			}
			if dst[j] == '9' {
				dst[j] = '0'
				continue
			}
			dst[j]++
			break
		}
		if j < digits {
			dst = append(dst, 0)
			copy(dst[digits+1:], dst[digits:])
			dst[digits] = '1'
		}
	}
	// "-0.00" prints as "0.00".
	if neg {
		zero := true
		for _, c := range dst[digits:] {
			if c != '0' && c != '.' {
				zero = false
				break
			}
		}
		if zero {
			copy(dst[start:], dst[start+1:])
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// appendTextContent appends v formatted for column f in the text protocol
// (no length prefix).
func appendTextContent(dst []byte, v Value, f *Field) ([]byte, error) {
	c := classOf(f.Type)
	switch v.Kind {
	case KindInt, KindUint:
		switch c {
		case classBit:
			return appendBits(dst, v, f), nil
		case classFloat:
			return appendFloatField(dst, toFloat(v), f), nil
		case classDecimal:
			var tmp [24]byte
			return AppendDecimal(dst, decimalText(tmp[:0], v), int(f.Decimals)), nil
		}
		if v.Kind == KindInt {
			return strconv.AppendInt(dst, v.I, 10), nil
		}
		return strconv.AppendUint(dst, v.U, 10), nil
	case KindFloat:
		switch c {
		case classInt:
			return strconv.AppendFloat(dst, math.Round(v.F), 'f', 0, 64), nil
		case classDecimal:
			var tmp [64]byte
			return AppendDecimal(dst, strconv.AppendFloat(tmp[:0], v.F, 'f', -1, 64), int(f.Decimals)), nil
		}
		return appendFloatField(dst, v.F, f), nil
	case KindDecimal:
		switch c {
		case classDecimal:
			if f.Decimals > 38 {
				return append(dst, v.B...), nil
			}
			return AppendDecimal(dst, v.B, int(f.Decimals)), nil
		case classInt:
			return AppendDecimal(dst, v.B, 0), nil
		case classFloat:
			return appendFloatField(dst, toFloat(v), f), nil
		}
		return append(dst, v.B...), nil
	case KindTemporal:
		return appendTemporalText(dst, v.I, f), nil
	case KindText, KindBytes:
		return append(dst, v.B...), nil
	}
	return dst, malformed("value")
}

// AppendTextValue appends v as one column of a text-protocol row: 0xfb for
// NULL, else the length-encoded text MariaDB would send for column f.
func AppendTextValue(dst []byte, v Value, f *Field) ([]byte, error) {
	if v.Kind == KindNull {
		return append(dst, 0xfb), nil
	}
	start := len(dst)
	dst = append(dst, 0)
	dst, err := appendTextContent(dst, v, f)
	if err != nil {
		return dst[:start], err
	}
	return fixLenPrefix(dst, start), nil
}

// fixLenPrefix turns the one placeholder byte at dst[start] into the
// length-encoded length of dst[start+1:].
func fixLenPrefix(dst []byte, start int) []byte {
	n := len(dst) - start - 1
	if n < 251 {
		dst[start] = byte(n)
		return dst
	}
	var pre [9]byte
	p := wire.AppendLenEnc(pre[:0], uint64(n))
	extra := len(p) - 1
	for i := 0; i < extra; i++ {
		dst = append(dst, 0)
	}
	copy(dst[start+len(p):], dst[start+1:start+1+n])
	copy(dst[start:], p)
	return dst
}

// AppendBinaryValue appends the binary-protocol encoding of v for column f
// (a NULL appends nothing: it lives in the row's NULL bitmap).
func AppendBinaryValue(dst []byte, v Value, f *Field) ([]byte, error) {
	if v.Kind == KindNull {
		return dst, nil
	}
	if v.Kind == KindText {
		if classOf(f.Type) == classBit {
			// A BIT value is the same bytes in both protocols, whatever
			// they are: MIN and MAX of a BIT column send decimal digits.
			return wire.AppendLenEncBytes(dst, v.B), nil
		}
		t, err := v.As(f)
		if err != nil {
			return dst, err
		}
		v = t
	}
	switch classOf(f.Type) {
	case classInt:
		u, err := intBits(v)
		if err != nil {
			return dst, err
		}
		switch fixedSize(f.Type) {
		case 1:
			return append(dst, byte(u)), nil
		case 2:
			return binary.LittleEndian.AppendUint16(dst, uint16(u)), nil
		case 4:
			return binary.LittleEndian.AppendUint32(dst, uint32(u)), nil
		}
		return binary.LittleEndian.AppendUint64(dst, u), nil
	case classFloat:
		x := toFloat(v)
		if f.Type == mysql.MYSQL_TYPE_FLOAT {
			return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(x))), nil
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(x)), nil
	case classDate, classTime:
		if v.Kind != KindTemporal {
			return dst, malformed("temporal value")
		}
		return appendTemporalBinary(dst, v.I, f), nil
	}
	start := len(dst)
	dst = append(dst, 0)
	dst, err := appendTextContent(dst, v, f)
	if err != nil {
		return dst[:start], err
	}
	return fixLenPrefix(dst, start), nil
}

// appendBits writes an integer as a BIT column's big-endian bytes.
func appendBits(dst []byte, v Value, f *Field) []byte {
	n := int(f.Length+7) / 8
	if n < 1 || n > 8 {
		n = 8
	}
	u := v.U
	if v.Kind == KindInt {
		u = uint64(v.I)
	}
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(u>>(8*i)))
	}
	return dst
}

// intBits converts a numeric value to the two's-complement bits of an
// integer column.
func intBits(v Value) (uint64, error) {
	switch v.Kind {
	case KindInt:
		return uint64(v.I), nil
	case KindUint:
		return v.U, nil
	case KindFloat:
		return uint64(int64(math.Round(v.F))), nil
	case KindDecimal, KindBytes:
		var tmp [80]byte
		t := AppendDecimal(tmp[:0], v.B, 0)
		if i, ok := parseInt(t); ok {
			return uint64(i), nil
		}
		if u, ok := parseUint(t); ok {
			return u, nil
		}
	}
	return 0, malformed("integer value")
}

func appendTemporalText(dst []byte, k int64, f *Field) []byte {
	dec := int(f.Decimals)
	if dec > 6 {
		dec = 0
	}
	if classOf(f.Type) == classTime {
		if k < 0 {
			dst = append(dst, '-')
			k = -k
		}
		us := k % 1000000
		s := k / 1000000
		h := s / 3600
		if h < 10 {
			dst = append(dst, '0')
		}
		dst = strconv.AppendInt(dst, h, 10)
		dst = append(dst, ':')
		dst = append2(dst, s/60%60)
		dst = append(dst, ':')
		dst = append2(dst, s%60)
		return appendFrac(dst, us, dec)
	}
	y, mo, d, h, mi, s, us := splitDateKey(k)
	dst = append2(dst, y/100)
	dst = append2(dst, y%100)
	dst = append(dst, '-')
	dst = append2(dst, mo)
	dst = append(dst, '-')
	dst = append2(dst, d)
	if f.Type == mysql.MYSQL_TYPE_DATE || f.Type == mysql.MYSQL_TYPE_NEWDATE {
		return dst
	}
	dst = append(dst, ' ')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	return appendFrac(dst, us, dec)
}

func append2(dst []byte, n int64) []byte {
	return append(dst, byte('0'+n/10%10), byte('0'+n%10))
}

func appendFrac(dst []byte, us int64, dec int) []byte {
	if dec == 0 {
		return dst
	}
	dst = append(dst, '.')
	div := int64(100000)
	for i := 0; i < dec; i++ {
		dst = append(dst, byte('0'+us/div%10))
		div /= 10
	}
	return dst
}

func appendTemporalBinary(dst []byte, k int64, f *Field) []byte {
	if classOf(f.Type) == classTime {
		var neg byte
		if k < 0 {
			neg, k = 1, -k
		}
		us := k % 1000000
		s := k / 1000000
		days, h, mi, sec := s/86400, s/3600%24, s/60%60, s%60
		switch {
		case k == 0:
			return append(dst, 0)
		case us == 0:
			dst = append(dst, 8, neg)
		default:
			dst = append(dst, 12, neg)
		}
		dst = binary.LittleEndian.AppendUint32(dst, uint32(days))
		dst = append(dst, byte(h), byte(mi), byte(sec))
		if us != 0 {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(us))
		}
		return dst
	}
	y, mo, d, h, mi, s, us := splitDateKey(k)
	n := byte(11)
	switch {
	case k == 0:
		return append(dst, 0)
	case us != 0:
	case h == 0 && mi == 0 && s == 0:
		n = 4
	default:
		n = 7
	}
	dst = append(dst, n)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(y))
	dst = append(dst, byte(mo), byte(d))
	if n >= 7 {
		dst = append(dst, byte(h), byte(mi), byte(s))
	}
	if n == 11 {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(us))
	}
	return dst
}

// RowBuilder writes one row at a time in either protocol, column by column
// in order. Its buffer is reused: a Row from Row() is valid until the next
// Begin.
type RowBuilder struct {
	fields []Field
	bin    bool
	buf    []byte
	col    int
}

// NewRowBuilder returns a builder for rows of fields.
func NewRowBuilder(fields []Field, bin bool) *RowBuilder {
	return &RowBuilder{fields: fields, bin: bin}
}

// Begin starts a new row.
func (b *RowBuilder) Begin() {
	b.buf = b.buf[:0]
	b.col = 0
	if b.bin {
		b.buf = append(b.buf, 0)
		for i := bitmapLen(len(b.fields)); i > 0; i-- {
			b.buf = append(b.buf, 0)
		}
	}
}

// AppendNull writes a NULL column.
func (b *RowBuilder) AppendNull() {
	if b.bin {
		bit := b.col + 2
		b.buf[1+bit>>3] |= 1 << (bit & 7)
	} else {
		b.buf = append(b.buf, 0xfb)
	}
	b.col++
}

// AppendRaw writes a column from its content as it appears in a row of
// the builder's protocol (what decoding a row yields without the length
// prefix): rows pass columns through without decoding them.
func (b *RowBuilder) AppendRaw(content []byte) {
	if !b.bin {
		b.buf = wire.AppendLenEncBytes(b.buf, content)
	} else {
		switch fixedSize(b.fields[b.col].Type) {
		case -1:
			b.buf = wire.AppendLenEncBytes(b.buf, content)
		case -2:
			b.buf = append(b.buf, byte(len(content)))
			b.buf = append(b.buf, content...)
		default:
			b.buf = append(b.buf, content...)
		}
	}
	b.col++
}

// AppendValue writes v formatted for the current column's field.
func (b *RowBuilder) AppendValue(v Value) error {
	if v.Kind == KindNull {
		b.AppendNull()
		return nil
	}
	f := &b.fields[b.col]
	var err error
	if b.bin {
		b.buf, err = AppendBinaryValue(b.buf, v, f)
	} else {
		b.buf, err = AppendTextValue(b.buf, v, f)
	}
	if err != nil {
		return err
	}
	b.col++
	return nil
}

// Row returns the row built so far.
func (b *RowBuilder) Row() Row { return b.buf }
