package shardrules

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ValueKind is the type of a Value.
type ValueKind uint8

const (
	NullKind    ValueKind = iota // SQL NULL; the zero Value is NULL
	IntKind                      // signed integer literal or parameter
	UintKind                     // unsigned integer (BIGINT UNSIGNED parameters)
	FloatKind                    // approximate number: 1e3, DOUBLE parameters
	DecimalKind                  // exact number with a fraction, kept as text: 1.50
	StringKind                   // string literal or string/bytes parameter
)

func (k ValueKind) String() string {
	switch k {
	case NullKind:
		return "null"
	case IntKind:
		return "int"
	case UintKind:
		return "uint"
	case FloatKind:
		return "float"
	case DecimalKind:
		return "decimal"
	case StringKind:
		return "string"
	}
	return "unknown"
}

// Value is a sharding-column value taken from an SQL literal or a
// prepared-statement parameter. The algorithms do not know the column's type,
// so they read a value the way MySQL compares it with both kinds of column:
//
//   - As an integer (mod, range, jump_hash): Int and Uint as they are; Float
//     and Decimal when integral; strings that are a plain decimal number
//     (' 42', '+42', '042', '42.0'), as MySQL converts '42' for an integer
//     column. Anything else is a *ValueError.
//   - As a key text (hash, consistent_hash, slot, enum, jump_hash for
//     non-integers): numbers, and strings that are a plain decimal number,
//     become canonical decimal text ("42", "-1.5"), so 42, 42.0, '42' and
//     '042' agree. Other strings are folded (fold.go) so that strings
//     MariaDB's collations call equal land on the same shard.
//   - As a date (date): 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]' text, or an
//     integer or digit string YYYYMMDD or YYYYMMDDHHMMSS.
//
// Every algorithm places NULL on shard 0.
type Value struct {
	kind ValueKind
	n    uint64 // Int: int64 bits; Uint: the value; Float: math.Float64bits
	s    string // Decimal text or String
}

// NullValue returns SQL NULL (the zero Value).
func NullValue() Value { return Value{} }

// IntValue returns a signed integer.
func IntValue(i int64) Value { return Value{kind: IntKind, n: uint64(i)} }

// UintValue returns an unsigned integer.
func UintValue(u uint64) Value { return Value{kind: UintKind, n: u} }

// FloatValue returns an approximate number.
func FloatValue(f float64) Value { return Value{kind: FloatKind, n: math.Float64bits(f)} }

// DecimalValue returns an exact number written as text, such as "1.50".
func DecimalValue(s string) Value { return Value{kind: DecimalKind, s: s} }

// StringValue returns a string.
func StringValue(s string) Value { return Value{kind: StringKind, s: s} }

// BytesValue returns a string holding a copy of b.
func BytesValue(b []byte) Value { return Value{kind: StringKind, s: string(b)} }

// TimeValue returns t's wall-clock date and time as DATETIME text
// ("2006-01-02 15:04:05", plus ".ffffff" when there is a fraction), the form
// a binary-protocol DATE/DATETIME parameter should be turned into. The time
// zone is ignored.
func TimeValue(t time.Time) Value {
	layout := "2006-01-02 15:04:05"
	if t.Nanosecond()/1000 != 0 {
		layout += ".000000"
	}
	return StringValue(t.Format(layout))
}

// Kind returns v's type.
func (v Value) Kind() ValueKind { return v.kind }

// IsNull reports whether v is SQL NULL.
func (v Value) IsNull() bool { return v.kind == NullKind }

// Text is v as a server prints it in a text result: numbers in decimal,
// strings as they are, "" for NULL.
func (v Value) Text() string {
	switch v.kind {
	case NullKind:
		return ""
	case StringKind, DecimalKind:
		return v.s
	}
	return v.String()
}

// String renders v as an SQL literal for messages: NULL, 42, 1.5, 'abc'.
func (v Value) String() string {
	switch v.kind {
	case NullKind:
		return "NULL"
	case IntKind:
		return strconv.FormatInt(int64(v.n), 10)
	case UintKind:
		return strconv.FormatUint(v.n, 10)
	case FloatKind:
		return strconv.FormatFloat(math.Float64frombits(v.n), 'g', -1, 64)
	case DecimalKind:
		return v.s
	}
	s := v.s
	if !readable(s) {
		// Bytes a message would not show (0x0B, a binary key): as a hex literal.
		if len(s) > 32 {
			return "X'" + strings.ToUpper(hex.EncodeToString([]byte(s[:32]))) + "'..."
		}
		return "X'" + strings.ToUpper(hex.EncodeToString([]byte(s))) + "'"
	}
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// readable says s is valid UTF-8 without control characters.
func readable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7F {
			return false
		}
	}
	return true
}

// number is a plain decimal number in canonical form.
type number struct {
	neg bool
	ip  string // integer digits without leading zeros; "" for 0
	fp  string // fraction digits without trailing zeros
}

// parseNumber reads [spaces][+|-]digits[.digits][spaces] (at least one digit;
// ".5" and "5." count). Exponents are not read: '1e3' stays a string.
func parseNumber(s string) (number, bool) {
	s = strings.Trim(s, " \t\n\r\v\f")
	var n number
	if s != "" && (s[0] == '+' || s[0] == '-') {
		n.neg = s[0] == '-'
		s = s[1:]
	}
	ip, fp, hasDot := strings.Cut(s, ".")
	if ip == "" && fp == "" || !allDigits(ip) || !allDigits(fp) || !hasDot && fp != "" {
		return number{}, false
	}
	n.ip = strings.TrimLeft(ip, "0")
	n.fp = strings.TrimRight(fp, "0")
	if n.ip == "" && n.fp == "" {
		n.neg = false // -0 is 0
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (n number) appendText(dst []byte) []byte {
	if n.neg {
		dst = append(dst, '-')
	}
	if n.ip == "" {
		dst = append(dst, '0')
	}
	dst = append(dst, n.ip...)
	if n.fp != "" {
		dst = append(dst, '.')
		dst = append(dst, n.fp...)
	}
	return dst
}

// integer is an exact integer of up to 64 bits of either sign: i, or u when
// big (a value above MaxInt64).
type integer struct {
	i   int64
	u   uint64
	big bool
}

// integer returns n when it is integral and fits; why=="" means ok.
func (n number) integer() (x integer, why string) {
	if n.fp != "" {
		return x, "not an integer"
	}
	u, err := strconv.ParseUint("0"+n.ip, 10, 64)
	switch {
	case err != nil:
		return x, "out of the 64-bit integer range"
	case !n.neg && u > math.MaxInt64:
		return integer{u: u, big: true}, ""
	case !n.neg:
		return integer{i: int64(u)}, ""
	case u > 1<<63:
		return x, "out of the 64-bit integer range"
	}
	return integer{i: int64(-u)}, "" // -(1<<63) wraps to MinInt64, as wanted
}

// mod returns x mod n in [0, n): ((x % n) + n) % n for signed values.
func (x integer) mod(n int) int {
	if x.big {
		return int(x.u % uint64(n))
	}
	r := x.i % int64(n)
	if r < 0 {
		r += int64(n)
	}
	return int(r)
}

// bits returns x's 64 bits (negative values in two's complement).
func (x integer) bits() uint64 {
	if x.big {
		return x.u
	}
	return uint64(x.i)
}

// number returns v as a plain decimal number (ok=false for NULL, strings
// that are not one, NaN and infinities).
func (v Value) number() (number, bool) {
	switch v.kind {
	case IntKind:
		return parseNumber(strconv.FormatInt(int64(v.n), 10))
	case UintKind:
		return parseNumber(strconv.FormatUint(v.n, 10))
	case FloatKind:
		f := math.Float64frombits(v.n)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return number{}, false
		}
		return parseNumber(strconv.FormatFloat(f, 'f', -1, 64))
	case DecimalKind, StringKind:
		return parseNumber(v.s)
	}
	return number{}, false
}

// Numeric says v is a number, or a string that is a plain decimal number
// ('42', ' -1.50 '): one the algorithms read as that number.
func (v Value) Numeric() bool {
	_, ok := v.number()
	return ok
}

// integer returns v as an exact integer, or a reason it is not one.
func (v Value) integer() (integer, string) {
	switch v.kind {
	case NullKind:
		return integer{}, "NULL is not an integer"
	case IntKind:
		return integer{i: int64(v.n)}, "" // fast path: no text
	case UintKind:
		if v.n > math.MaxInt64 {
			return integer{u: v.n, big: true}, ""
		}
		return integer{i: int64(v.n)}, ""
	}
	n, ok := v.number()
	if !ok {
		return integer{}, "not a number"
	}
	return n.integer()
}

// appendKey appends v's key text (see Value) to dst, a string's folded as
// the column compares strings (appendTextKey, appendBinaryKey); ok is
// false, with the character that does not fold, when a string has no key
// text. NULL has none: the algorithms place it before asking for a key.
func (v Value) appendKey(dst []byte, cmp comparison) (_ []byte, bad rune, ok bool) {
	switch v.kind {
	case IntKind:
		return strconv.AppendInt(dst, int64(v.n), 10), 0, true
	case UintKind:
		return strconv.AppendUint(dst, v.n, 10), 0, true
	}
	if n, ok := v.number(); ok {
		return n.appendText(dst), 0, true
	}
	if v.kind == FloatKind { // NaN, ±Inf: cannot come from SQL, but place them somewhere stable
		return append(dst, v.String()...), 0, true
	}
	start := len(dst)
	if dst, bad, ok = appendStringKey(dst, v.s, cmp); !ok || cmp == bytewise || PrintableASCII(v.s) {
		return dst, bad, ok
	}
	// Folded, '４２' (and '4\x002' where NUL is ignored) reads as the
	// number 42, as '42' does above.
	if n, isNum := parseNumber(string(dst[start:])); isNum {
		return n.appendText(dst[:start]), 0, true
	}
	return dst, 0, true
}

// PrintableASCII says s is printable ASCII, which folds to itself but for
// case, and which every collation compares as case-insensitive or exact
// text.
func PrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7F {
			return false
		}
	}
	return true
}
