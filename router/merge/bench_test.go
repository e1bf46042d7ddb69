package merge

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
)

// sliceStream serves prebuilt rows without copying (a backend connection
// handing out rows from its read buffer costs about the same).
type sliceStream struct {
	fields []Field
	bin    bool
	rows   []Row
	pos    int
	arena  []byte
}

func (s *sliceStream) Fields() []Field { return s.fields }
func (s *sliceStream) Binary() bool    { return s.bin }
func (s *sliceStream) Close()          {}
func (s *sliceStream) Next() (Row, error) {
	if s.pos >= len(s.rows) {
		return nil, nil
	}
	r := s.rows[s.pos]
	s.pos++
	return r, nil
}

const benchRows = 1_000_000

// benchInputs builds k sorted inputs holding benchRows rows in all: a sort
// key of the given kind, then three payload columns (an id, a name, a
// price), like a sysbench-ish row.
func benchInputs(b testing.TB, k int, bin bool, kind string) ([]*sliceStream, []SortKey) {
	return benchInputsN(b, benchRows, k, bin, kind)
}

func benchInputsN(b testing.TB, rows, k int, bin bool, kind string) ([]*sliceStream, []SortKey) {
	var key Field
	keys := []SortKey{asc(0)}
	switch kind {
	case "bigint":
		key = fBigint("k")
	case "decimal":
		key = fDec("k", 2)
	case "string+weight":
		key = fStr("k")
		keys = []SortKey{{Col: 0, Weight: 4}}
	case "string+collation": // the merge compares the strings itself
		key = fStr("k")
		keys = []SortKey{{Col: 0, Weight: -1, Coll: CollationNamed("utf8mb4_general_ci")}}
	}
	fields := []Field{key, fBigint("id"), fStr("name"), fDec("price", 2), fBin("w")}
	ins := make([]*sliceStream, k)
	for i := range ins {
		ins[i] = &sliceStream{fields: fields, bin: bin}
	}
	rb := NewRowBuilder(fields, bin)
	for n := 0; n < rows; n++ {
		in := ins[n%k]
		rb.Begin()
		var err error
		switch kind {
		case "bigint":
			err = rb.AppendValue(Int(int64(n) * 7))
		case "decimal":
			err = rb.AppendValue(Decimal([]byte(strconv.Itoa(n) + ".25")))
		case "string+weight", "string+collation":
			rb.AppendRaw([]byte(fmt.Sprintf("name-%09d", n)))
		}
		if err != nil {
			b.Fatal(err)
		}
		_ = rb.AppendValue(Int(int64(n)))
		rb.AppendRaw([]byte("some customer name"))
		_ = rb.AppendValue(Decimal([]byte("1234.50")))
		if kind == "string+weight" {
			rb.AppendRaw([]byte(fmt.Sprintf("NAME-%09d", n)))
		} else {
			rb.AppendNull()
		}
		in.rows = append(in.rows, in.alloc(rb.Row()))
	}
	return ins, keys
}

// alloc copies r into the stream's arena: consecutive rows lie next to
// each other, as they do in a connection's read buffer.
func (s *sliceStream) alloc(r Row) Row {
	if cap(s.arena)-len(s.arena) < len(r) {
		s.arena = make([]byte, 0, 1<<20)
	}
	n := len(s.arena)
	s.arena = append(s.arena, r...)
	return s.arena[n:len(s.arena):len(s.arena)]
}

func reset(ins []*sliceStream) []Stream {
	out := make([]Stream, len(ins))
	for i, in := range ins {
		in.pos = 0
		out[i] = in
	}
	return out
}

// mallocs counts the heap allocations made so far (all goroutines).
func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// reportPerRow adds ns and allocations per row to allocs/op (which covers
// every row of the operation).
func reportPerRow(b *testing.B, rows int, startMallocs uint64, unit string) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/"+unit)
	b.ReportMetric(float64(mallocs()-startMallocs)/float64(rows), "allocs/"+unit)
}

func runBench(b *testing.B, build func([]Stream) Stream, ins []*sliceStream) {
	b.ReportAllocs()
	start := mallocs()
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		s := build(reset(ins))
		for {
			r, err := s.Next()
			if err != nil {
				b.Fatal(err)
			}
			if r == nil {
				break
			}
			rows++
		}
		s.Close()
	}
	b.StopTimer()
	if rows != b.N*benchRows {
		b.Fatalf("%d rows", rows)
	}
	reportPerRow(b, rows, start, "row")
}

// BenchmarkMergeSort4 merges 4 sorted inputs of 250,000 rows each (one op
// = 1,000,000 rows); allocs/op is for the whole million.
func BenchmarkMergeSort4(b *testing.B) {
	for _, kind := range []string{"bigint", "decimal", "string+weight", "string+collation"} {
		for _, p := range protocols {
			b.Run(kind+"/"+p.name, func(b *testing.B) {
				ins, keys := benchInputs(b, 4, p.bin, kind)
				runBench(b, func(s []Stream) Stream { return MergeSort(s, keys) }, ins)
			})
		}
	}
}

func BenchmarkMergeSort2(b *testing.B) {
	ins, keys := benchInputs(b, 2, false, "bigint")
	runBench(b, func(s []Stream) Stream { return MergeSort(s, keys) }, ins)
}

func BenchmarkMergeSort16(b *testing.B) {
	ins, keys := benchInputs(b, 16, false, "bigint")
	runBench(b, func(s []Stream) Stream { return MergeSort(s, keys) }, ins)
}

func BenchmarkConcat4(b *testing.B) {
	ins, _ := benchInputs(b, 4, false, "bigint")
	runBench(b, func(s []Stream) Stream { return Concat(s...) }, ins)
}

func BenchmarkProject(b *testing.B) {
	for _, p := range protocols {
		b.Run(p.name, func(b *testing.B) {
			ins, _ := benchInputs(b, 4, p.bin, "bigint")
			runBench(b, func(s []Stream) Stream { return Project(Concat(s...), 3) }, ins)
		})
	}
}

func BenchmarkMergeSortLimitProject(b *testing.B) {
	ins, keys := benchInputs(b, 4, true, "bigint")
	runBench(b, func(s []Stream) Stream {
		return Project(Limit(MergeSort(s, keys), 0, benchRows), 4)
	}, ins)
}

// BenchmarkAggregate merges 4 shards' GROUP BY results: 250,000 groups,
// each present on every shard, with COUNT and SUM(DECIMAL).
func BenchmarkAggregate(b *testing.B) {
	fields := []Field{fBigint("g"), fBigint("COUNT(*)"), fDec("SUM(x)", 2)}
	ins := make([]*sliceStream, 4)
	for i := range ins {
		ins[i] = &sliceStream{fields: fields}
	}
	rb := NewRowBuilder(fields, false)
	for n := 0; n < benchRows; n++ {
		rb.Begin()
		_ = rb.AppendValue(Int(int64(n / 4)))
		_ = rb.AppendValue(Int(3))
		_ = rb.AppendValue(Decimal([]byte("1234.50")))
		ins[n%4].rows = append(ins[n%4].rows, ins[n%4].alloc(rb.Row()))
	}
	keys := []SortKey{asc(0)}
	funcs := []AggFunc{{Kind: AggCount, Col: 1, Weight: -1}, {Kind: AggSum, Col: 2, Weight: -1}}
	b.ReportAllocs()
	start := mallocs()
	b.ResetTimer()
	groups := 0
	for i := 0; i < b.N; i++ {
		s := Aggregate(MergeSort(reset(ins), keys), keys, funcs)
		for {
			r, err := s.Next()
			if err != nil {
				b.Fatal(err)
			}
			if r == nil {
				break
			}
			groups++
		}
	}
	b.StopTimer()
	reportPerRow(b, b.N*benchRows, start, "input-row")
}

// Steady state: merging allocates nothing per row.
func TestMergeSortNoAllocsPerRow(t *testing.T) {
	for _, p := range protocols {
		for _, kind := range []string{"bigint", "decimal", "string+weight", "string+collation"} {
			ins, keys := benchInputsN(t, 20000, 4, p.bin, kind)
			m := MergeSort(reset(ins), keys)
			if _, err := m.Next(); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(5000, func() {
				if r, err := m.Next(); r == nil || err != nil {
					t.Fatal("ran out", err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s/%s: %v allocations per row", kind, p.name, allocs)
			}
		}
	}
}
