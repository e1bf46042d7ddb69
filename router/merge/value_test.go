package merge

import (
	"bytes"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// A binary row written by hand from the protocol documentation.
func TestDecodeBinaryHandmade(t *testing.T) {
	fields := []Field{
		fld("tiny", mysql.MYSQL_TYPE_TINY, 0, 0),
		fld("utiny", mysql.MYSQL_TYPE_TINY, mysql.UNSIGNED_FLAG, 0),
		fld("short", mysql.MYSQL_TYPE_SHORT, 0, 0),
		fld("null", mysql.MYSQL_TYPE_LONG, 0, 0),
		fld("int24", mysql.MYSQL_TYPE_INT24, 0, 0),
		fld("ubig", mysql.MYSQL_TYPE_LONGLONG, mysql.UNSIGNED_FLAG, 0),
		fld("dbl", mysql.MYSQL_TYPE_DOUBLE, 0, 31),
		fld("dec", mysql.MYSQL_TYPE_NEWDECIMAL, 0, 2),
		fld("date", mysql.MYSQL_TYPE_DATE, 0, 0),
		fld("dt", mysql.MYSQL_TYPE_DATETIME, 0, 6),
		fld("time", mysql.MYSQL_TYPE_TIME, 0, 0),
		fld("str", mysql.MYSQL_TYPE_VAR_STRING, 0, 0),
		fld("year", mysql.MYSQL_TYPE_YEAR, mysql.UNSIGNED_FLAG, 0),
		fld("bit", mysql.MYSQL_TYPE_BIT, mysql.UNSIGNED_FLAG, 0),
		fld("flt", mysql.MYSQL_TYPE_FLOAT, 0, 31),
	}
	row := []byte{0x00,
		// NULL bitmap, 15 columns + 2 = 17 bits = 3 bytes; column 3 is NULL: bit 5.
		0x20, 0x00, 0x00,
		0xff,       // tiny -1
		0xff,       // utiny 255
		0x00, 0x80, // short -32768
		0xfe, 0xff, 0xff, 0xff, // int24 -2 (sent as 4 bytes)
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // ubig 2^64-1
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, // 1.5
		5, '-', '1', '.', '2', '5',
		4, 0xe8, 0x07, 2, 29, // 2024-02-29
		11, 0xe8, 0x07, 12, 31, 23, 59, 58, 0x3f, 0x42, 0x0f, 0x00, // .999999
		8, 1, 1, 0, 0, 0, 2, 3, 4, // -(1 day 02:03:04)
		3, 'a', 'b', 'c',
		0xe8, 0x07, // year 2024
		2, 0x01, 0x02, // bit 0x0102
		0x00, 0x00, 0xc0, 0x3f, // float 1.5
	}
	want := []Value{
		Int(-1), Uint(255), Int(-32768), Null, Int(-2), Uint(1<<64 - 1), Float(1.5),
		Decimal([]byte("-1.25")),
		{Kind: KindTemporal, I: dateKey(2024, 2, 29, 0, 0, 0, 0)},
		{Kind: KindTemporal, I: dateKey(2024, 12, 31, 23, 59, 58, 999999)},
		{Kind: KindTemporal, I: -(((24+2)*60+3)*60 + 4) * 1000000},
		Bytes([]byte("abc")), Uint(2024), Uint(0x0102), Float(1.5),
	}
	for i := range fields {
		v, err := DecodeBinary(fields, row, i)
		if err != nil {
			t.Fatalf("column %d: %v", i, err)
		}
		w := want[i]
		if v.Kind != w.Kind || v.I != w.I || v.U != w.U || v.F != w.F || !bytes.Equal(v.B, w.B) {
			t.Errorf("column %d (%s): got %+v want %+v", i, fields[i].Name, v, w)
		}
	}
	if _, err := DecodeBinary(fields, row[:len(row)-1], 14); err == nil {
		t.Error("truncated row: no error")
	}
}

func TestDecodeText(t *testing.T) {
	row := []byte{1, '5', 0xfb, 3, 'a', 'b', 'c', 0}
	for i, want := range []string{"5", "NULL", "abc", ""} {
		v, err := DecodeText(row, i)
		if err != nil {
			t.Fatal(err)
		}
		got := string(v.B)
		if v.Kind == KindNull {
			got = "NULL"
		} else if v.Kind != KindText {
			t.Errorf("column %d kind %d", i, v.Kind)
		}
		if got != want {
			t.Errorf("column %d = %q, want %q", i, got, want)
		}
	}
	if _, err := DecodeText(row, 4); err == nil {
		t.Error("column past the end: no error")
	}
	v, _ := DecodeText(row, 0)
	f := fInt("i")
	if tv, err := v.As(&f); err != nil || tv.Kind != KindInt || tv.I != 5 {
		t.Errorf("As: %+v %v", tv, err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = DecodeText(row, 2) }); n != 0 {
		t.Errorf("DecodeText allocates %v times", n)
	}
}

func TestTextTemporalParsing(t *testing.T) {
	for _, c := range []struct {
		in   string
		time bool
		ok   bool
	}{
		{"2024-01-02", false, true},
		{"2024-01-02 03:04:05", false, true},
		{"2024-01-02 03:04:05.5", false, true},
		{"0000-00-00 00:00:00", false, true},
		{"2024-1-02", false, false},
		{"2024-01-02 3:04:05", false, false},
		{"-838:59:59", true, true},
		{"838:59:59.000000", true, true},
		{"00:00:00", true, true},
		{"1:2:3", true, false},
	} {
		var ok bool
		if c.time {
			_, ok = parseTimeText([]byte(c.in))
		} else {
			_, ok = parseDateText([]byte(c.in))
		}
		if ok != c.ok {
			t.Errorf("%q: ok=%v want %v", c.in, ok, c.ok)
		}
	}
}

// Values the proxy writes read back the same in both protocols.
func TestEncodeRoundTrip(t *testing.T) {
	fields := []Field{fInt("i"), fUbig("u"), fDec("d", 2), fDouble("f"), fStr("s"),
		fDate("d"), fDatetime("dt", 3), fTime("t"), fTime("t2"), fld("b", mysql.MYSQL_TYPE_BIT, 0, 0)}
	fields[9].Length = 12
	vals := []any{"-7", "18446744073709551615", "-1.5", "0.1", "héllo", "2024-02-29",
		"2024-02-29 10:11:12.345", "-838:59:59", "100:00:00.5", uint64(0xabc)}
	want := "-7|18446744073709551615|-1.50|0.1|héllo|2024-02-29|2024-02-29 10:11:12.345|-838:59:59|100:00:00|\x0a\xbc"
	for _, p := range protocols {
		r := mkRow(t, fields, p.bin, vals...)
		if got := rowText(t, fields, p.bin, r); got != want {
			t.Errorf("%s: %s\nwant %s", p.name, got, want)
		}
	}
	// TIME with fraction keeps its microseconds in the binary form.
	f := fTime("t")
	f.Decimals = 1
	r := mkRow(t, []Field{f}, true, "100:00:00.5")
	if got := rowText(t, []Field{f}, true, r); got != "100:00:00.5" {
		t.Errorf("binary TIME(1): %s", got)
	}
}

func TestLongTextValue(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 300)
	f := fStr("s")
	b, err := AppendTextValue([]byte{9}, Bytes(long), &f)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 9 || b[1] != 0xfc || b[2] != 44 || b[3] != 1 || !bytes.Equal(b[4:], long) {
		t.Errorf("bad length prefix: % x", b[:6])
	}
}
