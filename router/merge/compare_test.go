package merge

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestCompare(t *testing.T) {
	ubig := fUbig("u")
	cases := []struct {
		name string
		f    Field
		a, b any // nil is NULL; strings are text forms
		want int
	}{
		{"null first", fInt("i"), nil, "-5", -1},
		{"null equal", fInt("i"), nil, nil, 0},
		{"int", fInt("i"), "-10", "9", -1},
		{"int equal", fBigint("i"), "-9223372036854775808", "-9223372036854775808", 0},
		{"bigint extremes", fBigint("i"), "-9223372036854775808", "9223372036854775807", -1},
		{"unsigned near 2^64", ubig, "18446744073709551615", "18446744073709551614", 1},
		{"unsigned vs small", ubig, "18446744073709551615", "1", 1},
		{"unsigned 2^63", ubig, "9223372036854775808", "9223372036854775807", 1},
		{"decimal negative scales", fDec("d", 2), "-1.5", "-1.25", -1},
		{"decimal scales equal", fDec("d", 2), "1.50", "1.5", 0},
		{"decimal negative zero", fDec("d", 2), "-0.00", "0.00", 0},
		{"decimal int digits", fDec("d", 2), "10.00", "9.99", 1},
		{"decimal neg vs pos", fDec("d", 2), "-0.01", "0.00", -1},
		{"decimal long", fDec("d", 0), "123456789012345678901234567890", "123456789012345678901234567891", -1},
		{"decimal fraction", fDec("d", 3), "0.125", "0.12", 1},
		{"decimal same layout negative", fDec("d", 2), "-1.50", "-1.25", -1},
		{"decimal same layout", fDec("d", 2), "10.05", "09.99", 1},
		{"decimal same length other scale", fDec("d", 2), "12.5", "1.25", 1},
		{"decimal same length neg zero", fDec("d", 2), "-0.00", "00.00", 0},
		{"double", fDouble("f"), "1e-5", "0.00002", -1},
		{"double neg", fDouble("f"), "-1.5", "-1.25", -1},
		{"double exp", fDouble("f"), "1e15", "999999999999999", 1},
		{"time negative", fTime("t"), "-01:00:00", "00:30:00", -1},
		{"time extremes", fTime("t"), "-838:59:59", "838:59:59", -1},
		{"time hours", fTime("t"), "100:00:00", "99:59:59", 1},
		{"time negatives", fTime("t"), "-02:00:00", "-01:00:00", -1},
		{"datetime fraction width", fDatetime("dt", 6), "2024-01-01 00:00:00.5", "2024-01-01 00:00:00.123456", 1},
		{"datetime fraction equal", fDatetime("dt", 6), "2024-01-01 00:00:00.5", "2024-01-01 00:00:00.500000", 0},
		{"datetime", fDatetime("dt", 0), "2023-12-31 23:59:59", "2024-01-01 00:00:00", -1},
		{"date", fDate("d"), "0000-00-00", "1000-01-01", -1},
		{"string bytes", fStr("s"), "B", "a", -1},
		{"string prefix", fStr("s"), "a", "ab", -1},
		{"bit", fld("b", mysql.MYSQL_TYPE_BIT, 0, 0), uint64(0x0100), uint64(0xff), 1},
	}
	for _, c := range cases {
		for _, p := range protocols {
			fields := []Field{c.f, c.f}
			if c.f.Type == mysql.MYSQL_TYPE_BIT {
				fields[0].Length, fields[1].Length = 16, 16
			}
			r := mkRow(t, fields, p.bin, c.a, c.b)
			a, err := Decode(fields, p.bin, r, 0)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Decode(fields, p.bin, r, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := Compare(a, b, &fields[0]); got != c.want {
				t.Errorf("%s/%s: Compare(%v, %v) = %d, want %d", c.name, p.name, c.a, c.b, got, c.want)
			}
			if got := Compare(b, a, &fields[0]); got != -c.want {
				t.Errorf("%s/%s: reversed = %d", c.name, p.name, got)
			}
			if !p.bin {
				// Untyped text values are typed by Compare itself.
				ta, _ := DecodeText(r, 0)
				tb, _ := DecodeText(r, 1)
				if got := Compare(ta, tb, &fields[0]); got != c.want {
					t.Errorf("%s/untyped: Compare = %d, want %d", c.name, got, c.want)
				}
			}
		}
	}
}

func TestCompareMixedKinds(t *testing.T) {
	f := fDec("d", 2)
	for _, c := range []struct {
		a, b Value
		want int
	}{
		{Int(-1), Uint(0), -1},
		{Uint(1 << 63), Int(5), 1},
		{Decimal([]byte("2.50")), Int(2), 1},
		{Int(3), Decimal([]byte("3.00")), 0},
		{Float(2.5), Decimal([]byte("2.4")), 1},
	} {
		if got := Compare(c.a, c.b, &f); got != c.want {
			t.Errorf("Compare(%+v, %+v) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestCompareNoAlloc(t *testing.T) {
	f := fDec("d", 2)
	a, b := Decimal([]byte("-1.5")), Decimal([]byte("-1.25"))
	if n := testing.AllocsPerRun(100, func() { Compare(a, b, &f) }); n != 0 {
		t.Errorf("decimal Compare allocates %v", n)
	}
	fd := fDouble("f")
	ta, tb := Value{Kind: KindText, B: []byte("1.5")}, Value{Kind: KindText, B: []byte("1e-5")}
	if n := testing.AllocsPerRun(100, func() { Compare(ta, tb, &fd) }); n != 0 {
		t.Errorf("text double Compare allocates %v", n)
	}
}

func TestCompareDecimalText(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"09.99", "10.05", -1},
		{"-1.50", "-1.25", -1},
		{"-1.5", "-1.25", -1},
		{"12.5", "1.25", 1},
		{"-12.5", "-1.25", -1},
		{"-0.00", "00.00", 0},
		{"-0.0", "0", 0},
		{"+1.0", "1", 0},
		{"0.5", "-0.5", 1},
		{".5", "0.50", 0},
		{"100", "99.999", 1},
	} {
		if got := compareDecimal([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("compareDecimal(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := compareDecimal([]byte(c.b), []byte(c.a)); got != -c.want {
			t.Errorf("compareDecimal(%s, %s) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestPadCompare(t *testing.T) {
	sp := []byte{0x00, 0x20}     // utf8mb4_general_ci: a space weighs 0x0020
	w := func(s string) []byte { // one 2-byte weight per ASCII letter
		var b []byte
		for _, c := range []byte(s) {
			b = append(b, 0, c)
		}
		return b
	}
	cases := []struct {
		a, b string
		want int
	}{
		{"A", "A ", 0},   // trailing spaces do not count
		{"A\t", "A", -1}, // a tab sorts before the padding space
		{"A!", "A", 1},   // '!' sorts after a space
		{"AB", "A", 1},
		{"A", "B", -1},
		{"", "  ", 0},
	}
	for _, c := range cases {
		if got := PadCompare(w(c.a), w(c.b), sp); got != c.want {
			t.Errorf("PadCompare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := PadCompare(w(c.b), w(c.a), sp); got != -c.want {
			t.Errorf("PadCompare(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

// A weight helper names its collation; each key pads by its own, whatever
// the rows' column type says.
func TestKeyPadsFromHelper(t *testing.T) {
	pads := Pads{"utf8mb4_unicode_ci": {0x02, 0x09}, "utf8mb4_bin": {0x00, 0x00, 0x20}}
	helper := func(coll string, weights ...byte) Value {
		return Value{Kind: KindBytes, B: append([]byte(coll+":"), weights...)}
	}
	blob := Field{Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 45}
	ks := newKeySet([]Field{blob, blob, blob}, false, []SortKey{
		{Col: 0, Weight: 0, Pads: pads}, {Col: 1, Weight: 1, Pads: pads}, {Col: 2, Weight: 2, Pads: pads}})
	a := []Value{
		helper("utf8mb4_unicode_ci", 0x0e, 0x33),      // 'a'
		helper("utf8mb4_bin", 0x00, 0x00, 0x61),       // 'a'
		helper("utf8mb4_nopad_bin", 0x00, 0x00, 0x61), // 'a'
	}
	b := []Value{
		helper("utf8mb4_unicode_ci", 0x0e, 0x33, 0x02, 0x09), // 'a ': equal
		helper("utf8mb4_bin", 0x00, 0x00, 0x61, 0x00, 0x00, 0x20),
		helper("utf8mb4_nopad_bin", 0x00, 0x00, 0x61),
	}
	if c := ks.compare(a, b); c != 0 {
		t.Fatalf("'a' against 'a ' in PAD SPACE collations: %d, want 0", c)
	}
	b[2] = helper("utf8mb4_nopad_bin", 0x00, 0x00, 0x61, 0x00, 0x00, 0x20)
	if c := ks.compare(a, b); c != -1 {
		t.Fatalf("'a' against 'a ' in a NO PAD collation: %d, want -1", c)
	}
	b[0] = helper("utf8mb4_unicode_ci", 0x0e, 0x33, 0x02, 0x01) // 'a\t' sorts before 'a'
	if c := ks.compare(a, b); c != 1 {
		t.Fatalf("'a' against 'a\\t' in utf8mb4_unicode_ci: %d, want 1", c)
	}
}
