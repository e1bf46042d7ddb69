package merge

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestConcat(t *testing.T) {
	fields := []Field{fInt("k"), fStr("s")}
	cases := []struct {
		name   string
		inputs [][][]any
		want   []string
	}{
		{"three", [][][]any{{{1, "a"}, {2, "b"}}, {{3, nil}}, {{0, "z"}}}, []string{"1|a", "2|b", "3|NULL", "0|z"}},
		{"empty inputs", [][][]any{{}, {{1, "a"}}, {}}, []string{"1|a"}},
		{"one", [][][]any{{{7, "x"}}}, []string{"7|x"}},
		{"all empty", [][][]any{{}, {}}, nil},
	}
	for _, c := range cases {
		for _, p := range protocols {
			var ins []Stream
			var fakes []*fakeStream
			for _, in := range c.inputs {
				f := fake(t, fields, p.bin, in...)
				ins = append(ins, f)
				fakes = append(fakes, f)
			}
			s := Concat(ins...)
			if s.Binary() != p.bin || len(s.Fields()) != 2 {
				t.Errorf("%s: fields/protocol not the first input's", c.name)
			}
			sameRows(t, mustDrain(t, s), c.want)
			for i, f := range fakes {
				if f.closed != 1 {
					t.Errorf("%s/%s: input %d closed %d times", c.name, p.name, i, f.closed)
				}
			}
		}
	}
	s := Concat()
	if r, err := s.Next(); r != nil || err != nil || s.Fields() != nil {
		t.Error("empty Concat")
	}
}

func TestConcatError(t *testing.T) {
	fields := []Field{fInt("k")}
	a := fake(t, fields, false, tuples(1)...)
	b := fake(t, fields, false, tuples(2, 3)...)
	b.errAt = 1
	got, err := drain(t, Concat(a, b))
	if err == nil {
		t.Fatal("no error")
	}
	sameRows(t, got, []string{"1", "2"})
}

func TestLimit(t *testing.T) {
	fields := []Field{fInt("k")}
	rows := tuples(1, 2, 3, 4, 5)
	cases := []struct {
		offset, count int64
		want          string
		nexts         int // Next calls the input saw
	}{
		{0, 2, "1 2", 2},
		{2, 2, "3 4", 4},
		{4, 10, "5", 6},
		{5, 1, "", 6},
		{100, 10, "", 6},
		{0, 0, "", 0},
		{3, -1, "4 5", 6},
		{0, 5, "1 2 3 4 5", 5},
	}
	for _, c := range cases {
		for _, p := range protocols {
			in := fake(t, fields, p.bin, rows...)
			l := Limit(in, c.offset, c.count)
			got, err := drain(t, l)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("LIMIT %d, %d: got %q want %q", c.offset, c.count, got, c.want)
			}
			if in.closed != 1 {
				t.Errorf("LIMIT %d, %d: input closed %d times before Close", c.offset, c.count, in.closed)
			}
			if in.nexts != c.nexts {
				t.Errorf("LIMIT %d, %d: input read %d times, want %d", c.offset, c.count, in.nexts, c.nexts)
			}
			l.Close()
			if in.closed != 1 {
				t.Errorf("closed twice")
			}
		}
	}
}

// LIMIT 100000, 10 over 4 shards streams: nothing is buffered.
func TestLimitOverMergeStreams(t *testing.T) {
	fields := []Field{fBigint("k")}
	var ins []Stream
	for s := 0; s < 4; s++ {
		ins = append(ins, &genStream{fields: fields, n: 100000, step: 4, start: int64(s)})
	}
	l := Limit(MergeSort(ins, []SortKey{asc(0)}), 100000, 10)
	got := mustDrain(t, l)
	sameRows(t, got, []string{"100000", "100001", "100002", "100003", "100004", "100005", "100006", "100007", "100008", "100009"})
}

func TestLimitError(t *testing.T) {
	in := fake(t, []Field{fInt("k")}, false, tuples(1, 2, 3)...)
	in.errAt = 1
	l := Limit(in, 2, 1)
	if _, err := l.Next(); err == nil {
		t.Error("no error while skipping")
	}
}

func TestProject(t *testing.T) {
	fields := []Field{fInt("a"), fStr("b"), fInt("h1"), fStr("h2"), fDec("h3", 2), fInt("h4"), fInt("h5"), fInt("h6"), fInt("h7")}
	rows := [][]any{
		{1, "x", 10, "w", "1.5", nil, 1, 2, nil},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{2, nil, 1, nil, "2", 3, nil, 4, 5},
	}
	for _, p := range protocols {
		for n, want := range map[int][]string{
			0: {"", "", ""},
			1: {"1", "NULL", "2"},
			2: {"1|x", "NULL|NULL", "2|NULL"},
			6: {"1|x|10|w|1.50|NULL", "NULL|NULL|NULL|NULL|NULL|NULL", "2|NULL|1|NULL|2.00|3"},
			7: {"1|x|10|w|1.50|NULL|1", "NULL|NULL|NULL|NULL|NULL|NULL|NULL", "2|NULL|1|NULL|2.00|3|NULL"},
		} {
			in := fake(t, fields, p.bin, rows...)
			s := Project(in, n)
			if len(s.Fields()) != n {
				t.Fatalf("fields %d", len(s.Fields()))
			}
			var got []string
			for {
				r, err := s.Next()
				if err != nil {
					t.Fatal(err)
				}
				if r == nil {
					break
				}
				if n == 0 {
					got = append(got, "")
					continue
				}
				// The projected row must be a complete, valid row of n columns.
				got = append(got, rowText(t, s.Fields(), p.bin, r))
				if p.bin {
					if nb := bitmapLen(n); len(r) < 1+nb {
						t.Fatalf("short row")
					}
				} else if end, err := textEnd(r, n); err != nil || end != len(r) {
					t.Errorf("text row has trailing bytes")
				}
			}
			s.Close()
			sameRows(t, got, want)
			if in.closed != 1 {
				t.Error("input not closed")
			}
		}
	}
	// Projecting every column passes the stream through.
	in := fake(t, fields, false)
	if Project(in, len(fields)) != Stream(in) {
		t.Error("full projection is not a pass-through")
	}
}

func TestProjectBinaryBitmapBits(t *testing.T) {
	// Ten columns, keep six: bitmap shrinks from 2 bytes to 1 and the
	// bits of dropped columns must be cleared.
	var fields []Field
	for i := 0; i < 10; i++ {
		fields = append(fields, fInt("c"))
	}
	r := mkRow(t, fields, true, 1, 2, 3, 4, 5, nil, nil, nil, nil, 10)
	s := Project(newFake(fields, true, r), 6)
	out, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1+1+5*4 || out[1] != 0x80 {
		t.Errorf("row % x", []byte(out))
	}
}

func TestDistinct(t *testing.T) {
	fields := []Field{fInt("a"), fStr("s"), fBin("w")}
	rows := [][]any{
		{nil, "x", "X"},
		{nil, "x", "X"},
		{1, "a", "A"},
		{1, "A", "A"},
		{1, "b", "B"},
		{2, "b", "B"},
		{2, "b", "B"},
		{2, nil, nil},
	}
	for _, p := range protocols {
		in := fake(t, fields, p.bin, rows...)
		got := mustDrain(t, Distinct(in, []SortKey{asc(0), {Col: 1, Weight: 2}}))
		sameRows(t, got, []string{"NULL|x|X", "1|a|A", "1|b|B", "2|b|B", "2|NULL|NULL"})
		// Without the weight column, case differs.
		in = fake(t, fields, p.bin, rows...)
		got = mustDrain(t, Distinct(in, []SortKey{asc(0), asc(1)}))
		sameRows(t, got, []string{"NULL|x|X", "1|a|A", "1|A|A", "1|b|B", "2|b|B", "2|NULL|NULL"})
		in = fake(t, fields, p.bin)
		sameRows(t, mustDrain(t, Distinct(in, []SortKey{asc(0)})), nil)
	}
}

func TestFilter(t *testing.T) {
	fields := []Field{fInt("a")}
	for _, p := range protocols {
		in := fake(t, fields, p.bin, tuples(1, 2, 3, 4, nil)...)
		s := Filter(in, func(r Row) (bool, error) {
			v, err := Decode(fields, p.bin, r, 0)
			return err == nil && v.Kind == KindInt && v.I%2 == 0, err
		})
		sameRows(t, mustDrain(t, s), []string{"2", "4"})
		boom := errors.New("boom")
		in = fake(t, fields, p.bin, tuples(1, 2)...)
		s = Filter(in, func(Row) (bool, error) { return false, boom })
		if _, err := s.Next(); err != boom {
			t.Errorf("err %v", err)
		}
	}
}

func TestMemorySort(t *testing.T) {
	fields := []Field{fInt("a"), fStr("tag")}
	rows := [][]any{{3, "a"}, {1, "b"}, {nil, "c"}, {2, "d"}, {1, "e"}, {5, "f"}, {2, "g"}}
	cases := []struct {
		keys  []SortKey
		limit int64
		max   int
		want  string
	}{
		{[]SortKey{asc(0)}, -1, 100, "NULL|c 1|b 1|e 2|d 2|g 3|a 5|f"},
		{[]SortKey{desc(0)}, -1, 7, "5|f 3|a 2|d 2|g 1|b 1|e NULL|c"},
		{[]SortKey{asc(0)}, 3, 0, "NULL|c 1|b 1|e"},
		{[]SortKey{asc(0)}, 4, 0, "NULL|c 1|b 1|e 2|d"},
		{[]SortKey{desc(0)}, 2, 0, "5|f 3|a"},
		{[]SortKey{asc(0), desc(1)}, 4, 0, "NULL|c 1|e 1|b 2|g"},
		{[]SortKey{asc(0)}, 0, 0, ""},
		{[]SortKey{asc(0)}, 100, 0, "NULL|c 1|b 1|e 2|d 2|g 3|a 5|f"},
		{[]SortKey{asc(0)}, 2, 2, "NULL|c 1|b"},
	}
	for _, c := range cases {
		for _, p := range protocols {
			in := fake(t, fields, p.bin, rows...)
			s := MemorySort(in, c.keys, c.limit, c.max)
			got := mustDrain(t, s)
			if strings.Join(got, " ") != c.want {
				t.Errorf("%v limit %d: got %q want %q", c.keys, c.limit, got, c.want)
			}
			if in.closed != 1 {
				t.Errorf("input closed %d times", in.closed)
			}
		}
	}
	// Empty input.
	sameRows(t, mustDrain(t, MemorySort(fake(t, fields, false), []SortKey{asc(0)}, -1, 10)), nil)
}

func TestMemorySortTooMany(t *testing.T) {
	fields := []Field{fInt("a")}
	for _, limit := range []int64{-1, 10} {
		in := fake(t, fields, false, tuples(5, 4, 3, 2)...)
		s := MemorySort(in, []SortKey{asc(0)}, limit, 3)
		_, err := s.Next()
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != 1235 || me.State != "42000" ||
			me.Message != "shardgate does not support sorting more than 3 merged rows in memory; add LIMIT" {
			t.Errorf("limit %d: err = %#v", limit, err)
		}
		s.Close()
	}
}

// genStream yields start, start+step, ... as BIGINT rows (n of them),
// writing each into one reused buffer.
type genStream struct {
	fields []Field
	bin    bool
	n      int
	step   int64
	start  int64
	i      int
	buf    []byte
	rb     *RowBuilder
}

func (g *genStream) Fields() []Field { return g.fields }
func (g *genStream) Binary() bool    { return g.bin }
func (g *genStream) Close()          {}

func (g *genStream) Next() (Row, error) {
	if g.i >= g.n {
		return nil, nil
	}
	if g.rb == nil {
		g.rb = NewRowBuilder(g.fields, g.bin)
	}
	g.rb.Begin()
	if err := g.rb.AppendValue(Int(g.start + int64(g.i)*g.step)); err != nil {
		return nil, err
	}
	for j := 1; j < len(g.fields); j++ {
		g.rb.AppendRaw([]byte("payload-payload-payload"))
	}
	g.i++
	return g.rb.Row(), nil
}

// CountRows reads its input to the end and answers one row, in both
// protocols; an input's error stands.
func TestCountRows(t *testing.T) {
	counted := []Field{fBigint("COUNT(*)"), fBigint("n")}
	for _, p := range protocols {
		for _, n := range []int{0, 1, 5} {
			var rows [][]any
			for i := 0; i < n; i++ {
				rows = append(rows, []any{i, "x"})
			}
			in := fake(t, []Field{fInt("k"), fStr("s")}, p.bin, rows...)
			c := CountRows(in, counted)
			got, err := drain(t, c)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("%d|%d", n, n); len(got) != 1 || got[0] != want {
				t.Errorf("%s, %d rows: got %q, want %q", p.name, n, got, want)
			}
			if in.closed != 1 {
				t.Errorf("%s: input closed %d times after the count", p.name, in.closed)
			}
			c.Close()
			if in.closed != 1 {
				t.Errorf("%s: input closed twice", p.name)
			}
		}
		in := fake(t, []Field{fInt("k")}, p.bin, tuples(1, 2, 3)...)
		in.errAt = 2
		c := CountRows(in, counted)
		if _, err := drain(t, c); err == nil {
			t.Errorf("%s: an input's error was counted over", p.name)
		}
		c.Close()
	}
}
