package shardrules

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestKeyText(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{
		{IntValue(42), "42"},
		{IntValue(-7), "-7"},
		{UintValue(math.MaxUint64), "18446744073709551615"},
		{StringValue("42"), "42"},
		{StringValue(" 042 "), "42"},
		{StringValue("+42"), "42"},
		{StringValue("42.0"), "42"},
		{DecimalValue("42.000"), "42"},
		{FloatValue(42), "42"},
		{FloatValue(1.5), "1.5"},
		{FloatValue(1e20), "100000000000000000000"},
		{DecimalValue("-1.50"), "-1.5"},
		{DecimalValue("-0.0"), "0"},
		{StringValue(".5"), "0.5"},
		{StringValue("5."), "5"},
		{StringValue("-"), "-"},
		{StringValue("."), "."},
		{StringValue("1e3"), "1e3"}, // exponents are not read
		{StringValue("ABC  "), "abc"},
		{StringValue("  ABC"), "  abc"}, // leading spaces matter to MySQL
		{StringValue("Zoë"), "zoe"},
		{StringValue(""), ""},
		{BytesValue([]byte("Hi")), "hi"},
	} {
		if got, err := (keyText{}).key(c.v); got != c.want || err != nil {
			t.Errorf("key of %v (%s) = %q, want %q", c.v, c.v.Kind(), got, c.want)
		}
	}
}

func TestInteger(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want integer
		why  string
	}{
		{IntValue(-5), integer{i: -5}, ""},
		{UintValue(7), integer{i: 7}, ""},
		{UintValue(math.MaxUint64), integer{u: math.MaxUint64, big: true}, ""},
		{StringValue("42"), integer{i: 42}, ""},
		{StringValue(" -42 "), integer{i: -42}, ""},
		{DecimalValue("42.00"), integer{i: 42}, ""},
		{FloatValue(-3), integer{i: -3}, ""},
		{StringValue("-9223372036854775808"), integer{i: math.MinInt64}, ""},
		{StringValue("18446744073709551615"), integer{u: math.MaxUint64, big: true}, ""},
		{StringValue("18446744073709551616"), integer{}, "out of the 64-bit integer range"},
		{StringValue("-9223372036854775809"), integer{}, "out of the 64-bit integer range"},
		{StringValue("4.2"), integer{}, "not an integer"},
		{FloatValue(42.5), integer{}, "not an integer"},
		{StringValue("abc"), integer{}, "not a number"},
		{FloatValue(math.NaN()), integer{}, "not a number"},
		{NullValue(), integer{}, "NULL is not an integer"},
	} {
		got, why := c.v.integer()
		if why != c.why || why == "" && got != c.want {
			t.Errorf("%v.integer() = %+v, %q; want %+v, %q", c.v, got, why, c.want, c.why)
		}
	}
}

func TestValueString(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{
		{NullValue(), "NULL"},
		{Value{}, "NULL"},
		{IntValue(-1), "-1"},
		{UintValue(3), "3"},
		{FloatValue(1e3), "1000"},
		{DecimalValue("1.50"), "1.50"},
		{StringValue(`it's \ ok`), `'it\'s \\ ok'`},
		{StringValue(strings.Repeat("x", 70)), "'" + strings.Repeat("x", 64) + "...'"},
		{StringValue("Renée"), "'Renée'"},
		{StringValue("\x0b"), "X'0B'"},       // 0x0B: a message would show nothing
		{StringValue("a\xffb"), "X'61FF62'"}, // not UTF-8
		{StringValue(strings.Repeat("\x00", 40)), "X'" + strings.Repeat("00", 32) + "'..."},
		{TimeValue(time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)), "'2024-03-05 10:00:00'"},
		{TimeValue(time.Date(2024, 3, 5, 10, 0, 0, 1500, time.UTC)), "'2024-03-05 10:00:00.000001'"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("String() = %s, want %s", got, c.want)
		}
	}
	if !NullValue().IsNull() || IntValue(0).IsNull() || StringValue("").IsNull() {
		t.Error("IsNull is wrong")
	}
}
