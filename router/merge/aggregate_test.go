package merge

import (
	"strconv"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// aggCase runs Aggregate over a MergeSort of shard results.
type aggCase struct {
	name   string
	fields []Field
	group  []SortKey
	merge  []SortKey // the MergeSort keys, when not group
	funcs  []AggFunc
	shards [][][]any
	want   []string
}

func (c aggCase) run(t *testing.T) {
	for _, p := range protocols {
		t.Run(c.name+"/"+p.name, func(t *testing.T) {
			var ins []Stream
			for _, sh := range c.shards {
				ins = append(ins, fake(t, c.fields, p.bin, sh...))
			}
			var in Stream
			keys := c.merge
			if keys == nil {
				keys = c.group
			}
			if len(keys) > 0 {
				in = MergeSort(ins, keys)
			} else {
				in = Concat(ins...)
			}
			sameRows(t, mustDrain(t, Aggregate(in, c.group, c.funcs)), c.want)
		})
	}
}

func avgDecimal(dec byte) Field { return fDec("AVG(x)", dec) }

func TestAggregateGroupBy(t *testing.T) {
	// SELECT g, COUNT(*), SUM(x), MIN(x), MAX(x), AVG(x) ... GROUP BY g,
	// AVG's helpers SUM(x), COUNT(x) appended; x INT.
	fields := []Field{fInt("g"), fBigint("COUNT(*)"), fDec("SUM(x)", 0), fInt("MIN(x)"), fInt("MAX(x)"),
		avgDecimal(4), fDec("SUM(x)", 0), fBigint("COUNT(x)")}
	funcs := []AggFunc{
		{Kind: AggCount, Col: 1, Weight: -1},
		{Kind: AggSum, Col: 2, Weight: -1},
		{Kind: AggMin, Col: 3, Weight: -1},
		{Kind: AggMax, Col: 4, Weight: -1},
		{Kind: AggAvg, Col: 5, Weight: -1, SumCol: 6, CountCol: 7},
	}
	aggCase{
		name:   "group by",
		fields: fields,
		group:  []SortKey{asc(0)},
		funcs:  funcs,
		shards: [][][]any{
			{
				{nil, 2, "5", 1, 4, "2.5000", "5", 2},
				{1, 3, "3", 0, 2, "1.0000", "3", 3},
				{3, 1, nil, nil, nil, nil, nil, 0},
			},
			{
				{1, 1, "-7", -7, -7, "-7.0000", "-7", 1},
				{2, 2, "2", 0, 2, "1.0000", "2", 2},
				{3, 2, "1", 0, 1, "0.5000", "1", 2},
			},
			{
				{1, 28, "5", 0, 5, "0.1786", "5", 28},
			},
		},
		want: []string{
			"NULL|2|5|1|4|2.5000|5|2",
			// g=1: sum 3-7+5 = 1, count 32: AVG 1/32 = 0.03125 -> 0.0313 (MariaDB: 0.0313)
			"1|32|1|-7|5|0.0313|1|32",
			"2|2|2|0|2|1.0000|2|2",
			"3|3|1|0|1|0.5000|1|2",
		},
	}.run(t)
}

func TestAggregateNoGroupEmptyInput(t *testing.T) {
	fields := []Field{fStr("name"), fBigint("COUNT(*)"), fDec("SUM(x)", 0), fInt("MIN(x)"), fInt("MAX(x)"),
		avgDecimal(4), fDec("SUM(x)", 0), fBigint("COUNT(x)"), fBigint("COUNT(DISTINCT x)"), fInt("x")}
	funcs := []AggFunc{
		{Kind: AggCount, Col: 1, Weight: -1},
		{Kind: AggSum, Col: 2, Weight: -1},
		{Kind: AggMin, Col: 3, Weight: -1},
		{Kind: AggMax, Col: 4, Weight: -1},
		{Kind: AggAvg, Col: 5, Weight: -1, SumCol: 6, CountCol: 7},
		{Kind: AggCountDistinct, Col: 8, Weight: -1, Value: 9},
	}
	// MariaDB: SELECT AVG(i), SUM(i), COUNT(i), MIN(i) FROM h WHERE g=99 gives NULL NULL 0 NULL;
	// COUNT(*), COUNT(DISTINCT i) give 0 0.
	aggCase{
		name: "no shards", fields: fields, funcs: funcs, shards: [][][]any{{}, {}},
		want: []string{"NULL|0|NULL|NULL|NULL|NULL|NULL|0|0|NULL"},
	}.run(t)
	aggCase{
		name: "shards with empty tables", fields: fields, funcs: funcs,
		shards: [][][]any{
			{{nil, 0, nil, nil, nil, nil, nil, 0, 0, nil}},
			{{nil, 0, nil, nil, nil, nil, nil, 0, 0, nil}},
		},
		want: []string{"NULL|0|NULL|NULL|NULL|NULL|NULL|0|0|NULL"},
	}.run(t)
	aggCase{
		name: "one shard empty", fields: fields, funcs: funcs,
		shards: [][][]any{
			{{nil, 0, nil, nil, nil, nil, nil, 0, 0, nil}},
			{{"bob", 3, "6", 1, 3, "2.0000", "6", 3, 1, 1}, {"bob", 0, nil, nil, nil, nil, nil, 0, 1, 2}},
		},
		want: []string{"NULL|3|6|1|3|2.0000|6|3|2|NULL"},
	}.run(t)
}

// Numbers from MariaDB 10.11 over t(d DECIMAL(10,2), i INT, u BIGINT
// UNSIGNED, b BIGINT, f FLOAT, dbl DOUBLE, d5 DECIMAL(20,5), ti TINYINT)
// holding (1.25, 1, 2^64-1, 2^63-1, 1.5, 0.1, 1.00001, 1),
// (2.50, 2, 2^64-1, 2^63-1, 2.25, 0.2, 2.5, 2), (-0.01, 4, 1, 1, 0.1, 0.3, -3.33333, 4):
// AVG(d) 1.246667 (NEWDECIMAL, 6 decimals), SUM(d) 3.74 (2), AVG(i) 2.3333 (4),
// SUM(i) 7 (0), AVG(u) 12297829382473034410.3333 (4), SUM(u) 36893488147419103231,
// SUM(b) 18446744073709551615, AVG(b) 6148914691236517205.0000, AVG(f) 1.2833333338300388
// (DOUBLE, 31), SUM(f) 3.850000001490116, AVG(dbl) 0.20000000000000004,
// SUM(dbl) 0.6000000000000001, AVG(d5) 0.055560000 (9), SUM(d5) 0.16668 (5), AVG(ti) 2.3333.
// Here the first two rows are on one shard, the third on another.
func TestAggregateMatchesMariaDB(t *testing.T) {
	cases := []struct {
		name             string
		avg, sum         Field
		shard1, shard2   [3]any // AVG, SUM, COUNT per shard
		wantAvg, wantSum string
	}{
		{"decimal(10,2)", avgDecimal(6), fDec("SUM(d)", 2),
			[3]any{"1.875000", "3.75", 2}, [3]any{"-0.010000", "-0.01", 1}, "1.246667", "3.74"},
		{"int", avgDecimal(4), fDec("SUM(i)", 0),
			[3]any{"1.5000", "3", 2}, [3]any{"4.0000", "4", 1}, "2.3333", "7"},
		{"bigint unsigned", avgDecimal(4), fDec("SUM(u)", 0),
			[3]any{"18446744073709551615.0000", "36893488147419103230", 2}, [3]any{"1.0000", "1", 1},
			"12297829382473034410.3333", "36893488147419103231"},
		{"bigint overflowing int64", avgDecimal(4), fDec("SUM(b)", 0),
			[3]any{"9223372036854775807.0000", "18446744073709551614", 2}, [3]any{"1.0000", "1", 1},
			"6148914691236517205.0000", "18446744073709551615"},
		{"float", fDouble("AVG(f)"), fDouble("SUM(f)"),
			[3]any{"1.875", "3.75", 2}, [3]any{"0.10000000149011612", "0.10000000149011612", 1},
			"1.2833333338300388", "3.850000001490116"},
		{"double", fDouble("AVG(dbl)"), fDouble("SUM(dbl)"),
			[3]any{"0.15000000000000002", "0.30000000000000004", 2}, [3]any{"0.3", "0.3", 1},
			"0.20000000000000004", "0.6000000000000001"},
		{"decimal(20,5)", avgDecimal(9), fDec("SUM(d5)", 5),
			[3]any{"1.750005000", "3.50001", 2}, [3]any{"-3.333330000", "-3.33333", 1},
			"0.055560000", "0.16668"},
		{"tinyint", avgDecimal(4), fDec("SUM(ti)", 0),
			[3]any{"1.5000", "3", 2}, [3]any{"4.0000", "4", 1}, "2.3333", "7"},
	}
	for _, c := range cases {
		// SELECT AVG(x), SUM(x), SUM(x), COUNT(x): the AVG helpers are the
		// last two columns.
		fields := []Field{c.avg, c.sum, c.sum, fBigint("COUNT(x)")}
		funcs := []AggFunc{
			{Kind: AggAvg, Col: 0, Weight: -1, SumCol: 2, CountCol: 3},
			{Kind: AggSum, Col: 1, Weight: -1},
		}
		aggCase{
			name: c.name, fields: fields, funcs: funcs,
			shards: [][][]any{
				{{c.shard1[0], c.shard1[1], c.shard1[1], c.shard1[2]}},
				{{c.shard2[0], c.shard2[1], c.shard2[1], c.shard2[2]}},
			},
			want: []string{c.wantAvg + "|" + c.wantSum + "|" + c.wantSum + "|3"},
		}.run(t)
	}
}

// AVG rounding, half away from zero, as MariaDB does: AVG of INT 1 and 31
// zeros is 0.0313, of -1 and 31 zeros -0.0313, of 2, 0, 0 0.6667; AVG of a
// DECIMAL(10,2) 0.01 and 31 zeros is 0.000313, of -0.01 ... -0.000313.
func TestAggregateAvgRounding(t *testing.T) {
	for _, c := range []struct {
		dec     byte
		sumDec  byte
		s1, s2  string
		c1, c2  int
		wantAvg string
	}{
		{4, 0, "1", "0", 16, 16, "0.0313"},
		{4, 0, "-1", "0", 16, 16, "-0.0313"},
		{4, 0, "2", "0", 1, 2, "0.6667"},
		{4, 0, "-2", "0", 1, 2, "-0.6667"},
		{6, 2, "0.01", "0.00", 1, 31, "0.000313"},
		{6, 2, "-0.01", "0.00", 1, 31, "-0.000313"},
		{4, 0, "1", "0", 1, 0, "1.0000"}, // AVG(1)
		// div_precision_increment = 0 or a scale of 9: MariaDB divides to
		// whole 9-digit words and truncates (measured on the oracle).
		{0, 0, "11", "0", 1, 1, "5"},   // 5.5
		{0, 0, "-11", "0", 1, 1, "-5"}, // -5.5
		{0, 0, "17", "0", 2, 1, "5"},   // 5.67
		{9, 0, "2", "0", 2, 1, "0.666666666"},
		{9, 5, "0.00005", "0.00000", 2, 1, "0.000016666"},
		{1, 1, "3.5", "0.0", 1, 1, "1.8"}, // 1.75: rounded at 1 decimal
	} {
		fields := []Field{avgDecimal(c.dec), fDec("SUM(x)", c.sumDec), fBigint("COUNT(x)")}
		funcs := []AggFunc{{Kind: AggAvg, Col: 0, Weight: -1, SumCol: 1, CountCol: 2}}
		aggCase{
			name: c.wantAvg, fields: fields, funcs: funcs,
			shards: [][][]any{{{nil, c.s1, c.c1}}, {{nil, c.s2, c.c2}}},
			want: []string{c.wantAvg + "|" + decSum(c.s1, c.s2, int(c.sumDec)) + "|" +
				strconv.Itoa(c.c1+c.c2)},
		}.run(t)
	}
}

// decSum adds two small decimals for expectations.
func decSum(a, b string, scale int) string {
	var acc numAcc
	_ = acc.add(Decimal([]byte(a)))
	_ = acc.add(Decimal([]byte(b)))
	return string(AppendDecimal(nil, acc.appendText(nil), scale))
}

func TestAggregateSumNulls(t *testing.T) {
	fields := []Field{fDouble("SUM(f)"), fDec("SUM(d)", 2)}
	funcs := []AggFunc{{Kind: AggSum, Col: 0, Weight: -1}, {Kind: AggSum, Col: 1, Weight: -1}}
	aggCase{
		name: "all null", fields: fields, funcs: funcs,
		shards: [][][]any{{{nil, nil}}, {{nil, nil}}},
		want:   []string{"NULL|NULL"},
	}.run(t)
	aggCase{
		name: "some null", fields: fields, funcs: funcs,
		shards: [][][]any{{{nil, nil}}, {{"1.5", "-1.5"}}, {{"1e15", "-1.25"}}},
		want:   []string{"1000000000000001.5|-2.75"}, // MariaDB: SELECT 1e15+1.5e0 gives 1000000000000001.5
	}.run(t)
}

func TestAggregateMinMaxTypes(t *testing.T) {
	fields := []Field{fDec("MIN(d)", 2), fDec("MAX(d)", 2), fTime("MIN(t)"), fTime("MAX(t)"),
		fDatetime("MIN(dt)", 0), fUbig("MAX(u)"), fDouble("MIN(f)")}
	var funcs []AggFunc
	for i, k := range []AggKind{AggMin, AggMax, AggMin, AggMax, AggMin, AggMax, AggMin} {
		funcs = append(funcs, AggFunc{Kind: k, Col: i, Weight: -1})
	}
	aggCase{
		name: "types", fields: fields, funcs: funcs,
		shards: [][][]any{
			{{"-1.25", "-1.25", "00:30:00", "-01:00:00", "2024-01-01 00:00:00", "18446744073709551614", "0.5"}},
			{{"-1.50", "-1.50", "-01:00:00", "00:30:00", "2023-12-31 23:59:59", "18446744073709551615", "-1e-7"}},
			{{nil, nil, nil, nil, nil, nil, nil}},
		},
		want: []string{"-1.50|-1.25|-01:00:00|00:30:00|2023-12-31 23:59:59|18446744073709551615|-0.0000001"},
	}.run(t)
}

func TestAggregateMinMaxWeight(t *testing.T) {
	// SELECT g, MIN(s), MAX(s), WEIGHT_STRING(MIN(s)), WEIGHT_STRING(MAX(s)) GROUP BY g
	fields := []Field{fStr("g"), fStr("MIN(s)"), fStr("MAX(s)"), fBin("w1"), fBin("w2"), fBin("wg")}
	funcs := []AggFunc{
		{Kind: AggMin, Col: 1, Weight: 3},
		{Kind: AggMax, Col: 2, Weight: 4},
	}
	aggCase{
		name: "weights", fields: fields, group: []SortKey{{Col: 0, Weight: 5}}, funcs: funcs,
		shards: [][][]any{
			{{"x", "b", "c", "B", "C", "X"}, {"Y", "q", "q", "Q", "Q", "Y"}},
			{{"X", "A", "D", "A", "D", "X"}},
			{{"x", "a", "C", "A", "C", "X"}, {"y", "P", "r", "P", "R", "Y"}},
		},
		// Groups 'x' and 'X' are one group (same weight); the first row names it.
		want: []string{"x|A|D|A|D|X", "Y|P|r|P|R|Y"},
	}.run(t)
}

func TestAggregateCountDistinct(t *testing.T) {
	// Each shard: SELECT g, COUNT(DISTINCT x), x ... GROUP BY g, x ORDER BY g, x.
	fields := []Field{fInt("g"), fBigint("COUNT(DISTINCT x)"), fStr("x"), fBigint("COUNT(*)")}
	funcs := []AggFunc{
		{Kind: AggCountDistinct, Col: 1, Weight: -1, Value: 2},
		{Kind: AggCount, Col: 3, Weight: -1},
	}
	shards := [][][]any{
		{{1, 1, "a", 2}, {1, 1, "b", 1}, {2, 1, "a", 1}, {4, 1, "z", 1}},
		{{1, 0, nil, 3}, {1, 1, "b", 1}, {1, 1, "c", 1}, {2, 1, "a", 5}, {3, 0, nil, 1}},
		{{1, 1, "a", 1}, {2, 1, "b", 1}, {3, 0, nil, 2}, {4, 1, "z", 1}},
	}
	aggCase{
		name: "overlapping", fields: fields, group: []SortKey{asc(0)}, merge: []SortKey{asc(0), asc(2)}, funcs: funcs, shards: shards,
		want: []string{"1|3|NULL|9", "2|2|a|7", "3|0|NULL|3", "4|1|z|2"},
	}.run(t)
}

func TestAggregateCountDistinctInPlace(t *testing.T) {
	// The brief's form: the value column itself becomes the count; with a
	// weight helper 'a' and 'A' are one value.
	fields := []Field{fInt("g"), fStr("x"), fBin("wx")}
	funcs := []AggFunc{{Kind: AggCountDistinct, Col: 1, Weight: 2, Value: 1}}
	for _, p := range protocols {
		var ins []Stream
		for _, sh := range [][][]any{
			{{1, "a", "A"}, {1, "b", "B"}},
			{{1, "A", "A"}, {1, "c", "C"}, {2, nil, nil}},
		} {
			ins = append(ins, fake(t, fields, p.bin, sh...))
		}
		keys := []SortKey{asc(0), {Col: 1, Weight: 2}}
		a := Aggregate(MergeSort(ins, keys), keys[:1], funcs)
		out := a.Fields()
		if out[1].Type != mysql.MYSQL_TYPE_LONGLONG || out[1].Name != "x" || len(out[1].Def) == 0 {
			t.Fatalf("field %+v", out[1])
		}
		if f, err := FieldFromDef(out[1].Def); err != nil || f.Type != mysql.MYSQL_TYPE_LONGLONG || f.Flags&mysql.NOT_NULL_FLAG == 0 {
			t.Errorf("def %+v %v", f, err)
		}
		sameRows(t, mustDrain(t, a), []string{"1|3|A", "2|0|NULL"})
	}
}

func TestAggregateErrors(t *testing.T) {
	fields := []Field{fInt("g"), fBigint("c")}
	in := fake(t, fields, false, []any{1, 1}, []any{1, 2}, []any{2, 1})
	in.errAt = 2
	a := Aggregate(in, []SortKey{asc(0)}, []AggFunc{{Kind: AggCount, Col: 1, Weight: -1}})
	if _, err := a.Next(); err == nil {
		t.Error("no error")
	}
	a.Close()
	if in.closed != 1 {
		t.Error("input not closed")
	}
	a = Aggregate(fake(t, fields, false), nil, []AggFunc{{Kind: AggAvg, Col: 1, SumCol: 5, CountCol: 0}})
	if _, err := a.Next(); err == nil {
		t.Error("no error for a bad helper column")
	}
}

// TestAggregateBits: BIT_OR, BIT_AND and BIT_XOR of the shards' results
// (MariaDB over t(g, x) = (1, 5), (1, 12), (2, 7) on two shards, then
// the empty set: 0, 18446744073709551615, 0).
func TestAggregateBits(t *testing.T) {
	fields := []Field{fInt("g"), fUbig("BIT_OR(x)"), fUbig("BIT_AND(x)"), fUbig("BIT_XOR(x)")}
	funcs := []AggFunc{{Kind: AggBitOr, Col: 1, Weight: -1}, {Kind: AggBitAnd, Col: 2, Weight: -1}, {Kind: AggBitXor, Col: 3, Weight: -1}}
	aggCase{
		name: "grouped", fields: fields, group: []SortKey{asc(0)}, funcs: funcs,
		shards: [][][]any{
			{{1, "5", "5", "5"}, {2, "7", "7", "7"}},
			{{1, "12", "12", "12"}},
		},
		want: []string{"1|13|4|9", "2|7|7|7"},
	}.run(t)
	aggCase{
		name: "empty", fields: fields, funcs: funcs,
		shards: [][][]any{
			{{nil, "0", "18446744073709551615", "0"}},
			{{nil, "0", "18446744073709551615", "0"}},
		},
		want: []string{"NULL|0|18446744073709551615|0"},
	}.run(t)
}

func TestAggregateGroupConcat(t *testing.T) {
	// SELECT g, GROUP_CONCAT(x SEPARATOR '; '), LENGTH(GROUP_CONCAT(x
	// SEPARATOR '; ')) ... GROUP BY g, with group_concat_max_len 20. The
	// lengths are where the limit counts: a row may come shorter.
	fields := []Field{fInt("g"), fStr("GROUP_CONCAT(x)"), fBigint("__sg_0")}
	funcs := []AggFunc{{Kind: AggGroupConcat, Col: 1, Weight: -1, Sep: []byte("; "), MaxLen: 20, LenCol: 2}}
	part := func(g int, s string) []any {
		if s == "NULL" {
			return []any{g, nil, nil}
		}
		return []any{g, s, len(s)}
	}
	aggCase{
		name:   "group_concat",
		fields: fields,
		group:  []SortKey{asc(0)},
		funcs:  funcs,
		shards: [][][]any{
			{part(1, "a,b"), part(2, "NULL"), part(3, "é")},
			{part(1, "c"), part(2, "NULL"), part(4, "")},
			{part(1, "NULL"), part(3, "ü"), part(4, "")},
		},
		want: []string{"1|a,b; c|3", "2|NULL|NULL", "3|é; ü|2", "4|; |0"},
	}.run(t)

	// Past the limit, or joined from a part a shard may have cut there
	// (also one that came shorter than the server counted it).
	for name, shards := range map[string][][][]any{
		"long":    {{part(1, "0123456789")}, {part(1, "0123456789")}},
		"cut":     {{part(1, "0123456789012345678")}, {part(1, "")}},
		"at cut":  {{part(1, "")}, {part(1, "0123456789012345678")}},
		"shorter": {{{1, "?", 19}}, {part(1, "x")}},
	} {
		for _, p := range protocols {
			var ins []Stream
			for _, sh := range shards {
				ins = append(ins, fake(t, fields, p.bin, sh...))
			}
			_, err := drain(t, Aggregate(MergeSort(ins, []SortKey{asc(0)}), []SortKey{asc(0)}, funcs))
			if err != ErrGroupConcatCut {
				t.Errorf("%s/%s: %v, want ErrGroupConcatCut", name, p.name, err)
			}
		}
	}
	// One part, even a cut one, is one server's answer.
	aggCase{
		name: "group_concat one part", fields: fields, group: []SortKey{asc(0)}, funcs: funcs,
		shards: [][][]any{{part(1, "01234567890123456789")}, {part(1, "NULL")}},
		want:   []string{"1|01234567890123456789|20"},
	}.run(t)
}
