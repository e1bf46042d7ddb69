package merge

import (
	"math"
	"testing"
)

// Outputs observed on MariaDB 10.11.19 (mariadb -e "SELECT ...", text
// protocol), e.g. SELECT 1e15, 1e14, 1/3e0 gave 1e15, 100000000000000,
// 0.3333333333333333.
func TestAppendDoubleMatchesMariaDB(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{
		{1e15, "1e15"},
		{1e14, "100000000000000"},
		{1.0 / 3, "0.3333333333333333"},
		{123456789.123456789, "123456789.12345679"},
		{0.00001, "0.00001"},
		{-0.5, "-0.5"},
		{1.5, "1.5"}, // AVG(1.5e0), SUM(1.5e0)
		{1e16, "1e16"},
		{1.5e15, "1.5e15"},
		{123456789012345, "123456789012345"},
		{1234567890123456, "1.234567890123456e15"},
		{12345678901234567, "1.2345678901234568e16"},
		{9.99e14, "999000000000000"},
		{0.1, "0.1"},
		{0.001, "0.001"},
		{1e-7, "0.0000001"},
		{1.5e-7, "0.00000015"},
		{1.2345e-5, "0.000012345"},
		{1.23456789e-10, "0.000000000123456789"},
		{1e-15, "0.000000000000001"},
		{1e-16, "1e-16"},
		{1.5e-14, "0.000000000000015"},
		{1.5e-15, "0.0000000000000015"},
		{1.5e-16, "1.5e-16"},
		{1.2345678901234567e-10, "0.00000000012345678901234568"},
		{1.2345678901234567e-15, "0.0000000000000012345678901234568"},
		{1.2345678901234567e-16, "1.2345678901234568e-16"},
		{fsum(1e15, 1.5), "1000000000000001.5"},
		{fsum(1e14, 1.5), "100000000000001.5"},
		{999999999999999.9, "999999999999999.9"},
		{fsum(1e15, 0.5), "1000000000000000.5"},
		{4503599627370495.5, "4503599627370495.5"},
		{fsum(1e15, 1), "1.000000000000001e15"},
		{fsum(1e15, 10), "1.00000000000001e15"},
		{1234567890123456.7, "1234567890123456.8"},
		{2251799813685247.75, "2251799813685247.8"},
		{9007199254740991, "9.007199254740991e15"},
		{999999999999999, "999999999999999"},
		{123456789012345.6, "123456789012345.6"},
		{fsum(-1e15, -0.5), "-1000000000000000.5"},
		{1.25e15, "1.25e15"},
		{1.125e15, "1.125e15"},
		{9.99e-16, "9.99e-16"},
		{9.999999999999999e-16, "9.999999999999999e-16"},
		{1.0000000000000001e-15, "0.000000000000001"},
		{123456.7e10, "1.234567e15"},
		{1234567.8e9, "1.2345678e15"},
		{1e100, "1e100"},
		{1.5e-100, "1.5e-100"},
		{1e-300, "1e-300"},
		{1.7976931348623157e308, "1.7976931348623157e308"},
		{5e-324, "5e-324"},
		{-1e15, "-1e15"},
		{-1e-7, "-0.0000001"},
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{100, "100"},
		{1e20, "1e20"},
		{1.25e20, "1.25e20"},
		{123.456, "123.456"},
		{fsum(0.1, 0.2, 0.3), "0.6000000000000001"},                   // SUM(dbl) of 0.1, 0.2, 0.3
		{fsum(0.1, 0.2, 0.3) / 3, "0.20000000000000004"},              // AVG(dbl) of the same
		{fsum(1.5, 2.25, float64(float32(0.1))), "3.850000001490116"}, // SUM(f) of FLOAT 1.5, 2.25, 0.1
		{float64(float32(1e-16)), "1.0000000168623835e-16"},           // SUM(f) of FLOAT 1e-16
		{float64(float32(1e-15)), "0.0000000000000010000000036274937"},
		{float64(float32(1e30)), "1.0000000150474662e30"},
	} {
		if got := string(AppendDouble(nil, c.x)); got != c.want {
			t.Errorf("AppendDouble(%v) = %s, want %s", c.x, got, c.want)
		}
	}
}

// FLOAT columns print six significant digits (MariaDB 10.11: a FLOAT
// column holding 1/3, 16777217, 123456789.12, 1e15, 1e30 shows 0.333333,
// 16777200, 123457000, 1e15, 1e30).
func TestAppendFloat32MatchesMariaDB(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{
		{1.0 / 3, "0.333333"},
		{16777217, "16777200"},
		{123456789.123456789, "123457000"},
		{1e15, "1e15"},
		{1e14, "100000000000000"},
		{1e30, "1e30"},
		{1e-16, "1e-16"},
		{1e-15, "0.000000000000001"},
		{2.25, "2.25"},
	} {
		if got := string(AppendFloat32(nil, c.x)); got != c.want {
			t.Errorf("AppendFloat32(%v) = %s, want %s", c.x, got, c.want)
		}
	}
}

// DOUBLE columns with fixed decimals print %.Nf, exact ties to even:
// AVG of a DOUBLE(10,2) holding 0.25 and 31 zeros is 0.0078125 and prints
// 0.007812 (Decimals 6); 0.75 and 31 zeros prints 0.023438; SUM(x) of
// DOUBLE(10,2) 1 prints 1.00.
func TestDoubleFixedDecimals(t *testing.T) {
	f2 := fDouble("x")
	f2.Decimals = 2
	f6 := fDouble("x")
	f6.Decimals = 6
	for _, c := range []struct {
		x    float64
		f    *Field
		want string
	}{
		{0.25 / 32, &f6, "0.007812"},
		{0.75 / 32, &f6, "0.023438"},
		{1, &f2, "1.00"},
		{1e7, &f2, "10000000.00"},
		{math.Copysign(0, -1), &f2, "0.00"},
	} {
		got, err := appendTextContent(nil, Float(c.x), c.f)
		if err != nil || string(got) != c.want {
			t.Errorf("%v with %d decimals = %s (%v), want %s", c.x, c.f.Decimals, got, err, c.want)
		}
	}
}

func TestAppendDecimal(t *testing.T) {
	for _, c := range []struct {
		in    string
		scale int
		want  string
	}{
		{"1.005", 2, "1.01"},
		{"-1.005", 2, "-1.01"},
		{"1.00499", 2, "1.00"},
		{"9.995", 2, "10.00"},
		{"-9.995", 2, "-10.00"},
		{"-0.004", 2, "0.00"},
		{"-0.005", 2, "-0.01"},
		{"5", 2, "5.00"},
		{"0.5", 0, "1"},
		{"-0.5", 0, "-1"},
		{"-0.4", 0, "0"},
		{"007.10", 1, "7.1"},
		{"0.03125", 4, "0.0313"},
		{"-0.03125", 4, "-0.0313"},
		{"999999999999999999999999999999.5", 0, "1000000000000000000000000000000"},
		{"+3", 1, "3.0"},
	} {
		if got := string(AppendDecimal(nil, []byte(c.in), c.scale)); got != c.want {
			t.Errorf("AppendDecimal(%s, %d) = %s, want %s", c.in, c.scale, got, c.want)
		}
	}
}

func TestNumAcc(t *testing.T) {
	var a numAcc
	for _, s := range []string{"9223372036854775807", "9223372036854775807", "1"} {
		if err := a.add(Decimal([]byte(s))); err != nil {
			t.Fatal(err)
		}
	}
	if got := string(a.appendText(nil)); got != "18446744073709551615" {
		t.Errorf("sum = %s", got)
	}
	a.reset()
	for _, v := range []Value{Decimal([]byte("-1.5")), Decimal([]byte("-1.25")), Int(3), Uint(1), Decimal([]byte("0.001"))} {
		if err := a.add(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := string(a.appendText(nil)); got != "1.251" {
		t.Errorf("sum = %s", got)
	}
	a.reset()
	_ = a.add(Decimal([]byte("0.000000000000000001")))
	_ = a.add(Decimal([]byte("99999999999999999999")))
	if got := string(a.appendText(nil)); got != "99999999999999999999.000000000000000001" {
		t.Errorf("sum = %s", got)
	}
	a.reset()
	_ = a.add(Int(math.MinInt64))
	_ = a.add(Int(math.MinInt64))
	if got := string(a.appendText(nil)); got != "-18446744073709551616" {
		t.Errorf("sum = %s", got)
	}
	if a.add(Decimal([]byte("1e5"))) == nil {
		t.Error("exponent accepted as decimal")
	}
}

// fsum adds at run time, in order (constant expressions are exact in Go).
func fsum(xs ...float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// A BIT column's text content goes to the binary protocol as it is:
// MariaDB sends MIN and MAX of BIT(10) as decimal digits in both protocols
// ("1023"), a plain BIT(10) value as its two bytes.
func TestBitTextToBinary(t *testing.T) {
	f := Field{Type: 16, Length: 10} // MYSQL_TYPE_BIT
	for _, content := range []string{"1023", "0", "\x03\xff", "\x00\x00"} {
		got, err := AppendBinaryValue(nil, Value{Kind: KindText, B: []byte(content)}, &f)
		if want := string(rune(len(content))) + content; err != nil || string(got) != want {
			t.Errorf("%q: got %q, %v; want %q", content, got, err, want)
		}
	}
}
