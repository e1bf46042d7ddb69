package merge

import (
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func asc(col int) SortKey  { return SortKey{Col: col, Weight: -1} }
func desc(col int) SortKey { return SortKey{Col: col, Desc: true, Weight: -1} }

func TestMergeSort(t *testing.T) {
	type input [][]any
	cases := []struct {
		name   string
		fields []Field
		keys   []SortKey
		inputs []input
		want   []string
	}{
		{
			name:   "ascending with ties in input order",
			fields: []Field{fInt("k"), fStr("tag")},
			keys:   []SortKey{asc(0)},
			inputs: []input{
				{{1, "a0"}, {2, "a1"}, {5, "a2"}},
				{{1, "b0"}, {3, "b1"}},
				{{0, "c0"}, {2, "c1"}, {5, "c2"}, {9, "c3"}},
			},
			want: []string{"0|c0", "1|a0", "1|b0", "2|a1", "2|c1", "3|b1", "5|a2", "5|c2", "9|c3"},
		},
		{
			name:   "descending",
			fields: []Field{fInt("k"), fStr("tag")},
			keys:   []SortKey{desc(0)},
			inputs: []input{
				{{9, "a0"}, {4, "a1"}, {-3, "a2"}},
				{{5, "b0"}, {4, "b1"}, {-10, "b2"}},
			},
			want: []string{"9|a0", "5|b0", "4|a1", "4|b1", "-3|a2", "-10|b2"},
		},
		{
			name:   "mixed directions",
			fields: []Field{fInt("a"), fDec("b", 2), fStr("tag")},
			keys:   []SortKey{asc(0), desc(1)},
			inputs: []input{
				{{1, "9.50", "a0"}, {1, "-1.25", "a1"}, {2, "3.00", "a2"}},
				{{1, "10.00", "b0"}, {1, "-1.5", "b1"}, {2, "3.10", "b2"}},
				{{0, "0.00", "c0"}, {2, "2.99", "c1"}},
			},
			want: []string{"0|0.00|c0", "1|10.00|b0", "1|9.50|a0", "1|-1.25|a1", "1|-1.50|b1",
				"2|3.10|b2", "2|3.00|a2", "2|2.99|c1"},
		},
		{
			name:   "nulls first ascending",
			fields: []Field{fInt("k"), fStr("tag")},
			keys:   []SortKey{asc(0)},
			inputs: []input{
				{{nil, "a0"}, {1, "a1"}},
				{{nil, "b0"}, {0, "b1"}, {2, "b2"}},
			},
			want: []string{"NULL|a0", "NULL|b0", "0|b1", "1|a1", "2|b2"},
		},
		{
			name:   "nulls last descending",
			fields: []Field{fInt("k"), fStr("tag")},
			keys:   []SortKey{desc(0)},
			inputs: []input{
				{{1, "a1"}, {nil, "a0"}},
				{{2, "b2"}, {0, "b1"}, {nil, "b0"}},
			},
			want: []string{"2|b2", "1|a1", "0|b1", "NULL|a0", "NULL|b0"},
		},
		{
			name:   "unsigned bigint near 2^64",
			fields: []Field{fUbig("u")},
			keys:   []SortKey{asc(0)},
			inputs: []input{
				{{"1"}, {"9223372036854775808"}, {"18446744073709551615"}},
				{{"9223372036854775807"}, {"18446744073709551614"}},
			},
			want: []string{"1", "9223372036854775807", "9223372036854775808", "18446744073709551614", "18446744073709551615"},
		},
		{
			name:   "negative decimals of different scales",
			fields: []Field{fDec("d", 3)},
			keys:   []SortKey{asc(0)},
			inputs: []input{
				{{"-1.5"}, {"-0.001"}, {"2"}},
				{{"-1.25"}, {"0"}, {"1.999"}},
			},
			want: []string{"-1.500", "-1.250", "-0.001", "0.000", "1.999", "2.000"},
		},
		{
			name:   "negative and long TIME",
			fields: []Field{fTime("t")},
			keys:   []SortKey{asc(0)},
			inputs: []input{
				{{"-838:59:59"}, {"00:30:00"}, {"100:00:00"}},
				{{"-01:00:00"}, {"25:00:00"}, {"838:59:59"}},
			},
			want: []string{"-838:59:59", "-01:00:00", "00:30:00", "25:00:00", "100:00:00", "838:59:59"},
		},
		{
			name:   "datetime with fractions",
			fields: []Field{fDatetime("dt", 6)},
			keys:   []SortKey{desc(0)},
			inputs: []input{
				{{"2024-01-01 00:00:00.5"}, {"2023-12-31 23:59:59.999999"}},
				{{"2024-01-01 00:00:00.123456"}, {"2024-01-01 00:00:00"}},
			},
			want: []string{"2024-01-01 00:00:00.500000", "2024-01-01 00:00:00.123456",
				"2024-01-01 00:00:00.000000", "2023-12-31 23:59:59.999999"},
		},
		{
			name:   "double",
			fields: []Field{fDouble("f")},
			keys:   []SortKey{asc(0)},
			inputs: []input{
				{{"-1e15"}, {"0.00001"}, {"1e16"}},
				{{"-0.5"}, {"0.000002"}, {"123.5"}},
			},
			want: []string{"-1e15", "-0.5", "0.000002", "0.00001", "123.5", "1e16"},
		},
		{
			name:   "strings through weight strings",
			fields: []Field{fStr("s"), fBin("w")},
			keys:   []SortKey{{Col: 0, Weight: 1}},
			inputs: []input{
				{{"a", "\x00A"}, {"B", "\x00B"}},
				{{"A", "\x00A"}, {"b", "\x00B"}, {"c", "\x00C"}},
			},
			want: []string{"a|\x00A", "A|\x00A", "B|\x00B", "b|\x00B", "c|\x00C"},
		},
		{
			name:   "empty inputs",
			fields: []Field{fInt("k")},
			keys:   []SortKey{asc(0)},
			inputs: []input{{}, {{1}, {3}}, {}, {{2}}},
			want:   []string{"1", "2", "3"},
		},
		{
			name:   "all empty",
			fields: []Field{fInt("k")},
			keys:   []SortKey{asc(0)},
			inputs: []input{{}, {}},
			want:   nil,
		},
		{
			name:   "one input",
			fields: []Field{fInt("k")},
			keys:   []SortKey{asc(0)},
			inputs: []input{{{1}, {2}, {2}}},
			want:   []string{"1", "2", "2"},
		},
		{
			name:   "two inputs",
			fields: []Field{fInt("k")},
			keys:   []SortKey{desc(0)},
			inputs: []input{{{5}, {1}}, {{4}, {3}, {2}, {0}}},
			want:   []string{"5", "4", "3", "2", "1", "0"},
		},
	}
	for _, c := range cases {
		for _, p := range protocols {
			t.Run(c.name+"/"+p.name, func(t *testing.T) {
				var ins []Stream
				var fakes []*fakeStream
				for _, in := range c.inputs {
					f := fake(t, c.fields, p.bin, in...)
					fakes = append(fakes, f)
					ins = append(ins, f)
				}
				m := MergeSort(ins, c.keys)
				sameRows(t, mustDrain(t, m), c.want)
				for i, f := range fakes {
					if f.closed != 1 {
						t.Errorf("input %d closed %d times", i, f.closed)
					}
				}
			})
		}
	}
}

func TestMergeSortNoInputs(t *testing.T) {
	m := MergeSort(nil, []SortKey{asc(0)})
	if r, err := m.Next(); r != nil || err != nil {
		t.Errorf("got %v, %v", r, err)
	}
	m.Close()
}

func TestMergeSortError(t *testing.T) {
	fields := []Field{fInt("k")}
	for _, p := range protocols {
		a := fake(t, fields, p.bin, tuples(1, 2, 3)...)
		b := fake(t, fields, p.bin, tuples(1, 2, 3)...)
		b.errAt = 2
		m := MergeSort([]Stream{a, b}, []SortKey{asc(0)})
		got, err := drain(t, m)
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != 1053 {
			t.Fatalf("%s: err = %v", p.name, err)
		}
		sameRows(t, got, []string{"1", "1", "2", "2"})
		if _, err2 := m.Next(); err2 != err {
			t.Errorf("error not sticky: %v", err2)
		}
		m.Close()
		if a.closed != 1 || b.closed != 1 {
			t.Errorf("closed %d %d", a.closed, b.closed)
		}
	}
}

func TestMergeSortMalformedRow(t *testing.T) {
	fields := []Field{fInt("k")}
	a := newFake(fields, false, Row{5, '1'})
	m := MergeSort([]Stream{a}, []SortKey{asc(0)})
	if _, err := m.Next(); err == nil {
		t.Error("no error for a truncated row")
	}
	m.Close()
	m = MergeSort([]Stream{fake(t, fields, false, tuples(1)...)}, []SortKey{asc(3)})
	if _, err := m.Next(); err == nil {
		t.Error("no error for a key past the last column")
	}
}

// The merge forwards the shards' row bytes as they are.
func TestMergeSortForwardsRowBytes(t *testing.T) {
	fields := []Field{fInt("k"), fStr("s")}
	a := fake(t, fields, true, []any{1, "x"})
	want := append(Row(nil), a.rows[0]...)
	m := MergeSort([]Stream{a, fake(t, fields, true)}, []SortKey{asc(0)})
	r, err := m.Next()
	if err != nil || string(r) != string(want) {
		t.Errorf("got % x, %v; want % x", []byte(r), err, []byte(want))
	}
}
