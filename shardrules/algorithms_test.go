package shardrules

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestShard(t *testing.T) {
	months := map[string]any{"unit": "month", "start": "2024-01-01"}
	enumMap := map[string]any{"map": map[any]any{"CN": 0, "US": 1, 7: 2}}
	for _, c := range []struct {
		alg    string
		shards int
		opts   map[string]any
		v      Value
		want   int
		err    string // substring of the error; "" = no error
	}{
		// mod: negative values wrap to the top shards.
		{"mod", 4, nil, IntValue(0), 0, ""},
		{"mod", 4, nil, IntValue(5), 1, ""},
		{"mod", 4, nil, IntValue(-1), 3, ""},
		{"mod", 4, nil, IntValue(-4), 0, ""},
		{"mod", 4, nil, IntValue(-5), 3, ""},
		{"mod", 4, nil, IntValue(math.MinInt64), 0, ""},
		{"mod", 3, nil, UintValue(math.MaxUint64), 0, ""}, // 2^64-1 is divisible by 3
		{"mod", 4, nil, StringValue("42"), 2, ""},
		{"mod", 4, nil, StringValue(" 042 "), 2, ""},
		{"mod", 4, nil, DecimalValue("42.0"), 2, ""},
		{"mod", 4, nil, FloatValue(42), 2, ""},
		{"mod", 4, nil, NullValue(), 0, ""},
		{"mod", 4, nil, StringValue("abc"), 0, "mod sharding cannot place 'abc': not a number"},
		{"mod", 4, nil, DecimalValue("1.5"), 0, "not an integer"},
		{"mod", 4, nil, StringValue("99999999999999999999"), 0, "out of the 64-bit integer range"},

		// range by boundaries.
		{"range", 4, map[string]any{"boundaries": []any{100, 200, 300}}, IntValue(-5), 0, ""},
		{"range", 4, map[string]any{"boundaries": []any{100, 200, 300}}, IntValue(99), 0, ""},
		{"range", 4, map[string]any{"boundaries": []any{100, 200, 300}}, IntValue(100), 1, ""},
		{"range", 4, map[string]any{"boundaries": []any{100, 200, 300}}, StringValue("199"), 1, ""},
		{"range", 4, map[string]any{"boundaries": []any{100, 200, 300}}, IntValue(200), 2, ""},
		{"range", 4, map[string]any{"boundaries": []any{100, 200, 300}}, IntValue(300), 3, ""},
		{"range", 4, map[string]any{"boundaries": []any{100, 200, 300}}, UintValue(math.MaxUint64), 3, ""},
		{"range", 4, map[string]any{"boundaries": []any{100, 200, 300}}, NullValue(), 0, ""},
		{"range", 4, map[string]any{"boundaries": []any{100, 200, 300}}, StringValue("x"), 0, "not a number"},
		{"range", 1, map[string]any{"boundaries": []any{}}, IntValue(5), 0, ""},
		// range by explicit ranges.
		{"range", 4, map[string]any{"ranges": spansOpt}, IntValue(0), 0, ""},
		{"range", 4, map[string]any{"ranges": spansOpt}, IntValue(150), 2, ""},
		{"range", 4, map[string]any{"ranges": spansOpt}, IntValue(599), 1, ""},
		{"range", 4, map[string]any{"ranges": spansOpt}, IntValue(600), 0, "in none of the ranges, and default_shard is not set"},
		{"range", 4, map[string]any{"ranges": spansOpt}, IntValue(-1), 0, "in none of the ranges"},
		{"range", 4, map[string]any{"ranges": spansOpt, "default_shard": 3}, IntValue(300), 3, ""},
		{"range", 4, map[string]any{"ranges": spansOpt, "default_shard": 3}, UintValue(math.MaxUint64), 3, ""},

		// date.
		{"date", 12, months, StringValue("2024-01-01"), 0, ""},
		{"date", 12, months, StringValue("2024-01-31 23:59:59.999999"), 0, ""},
		{"date", 12, months, StringValue("2024-03-05 10:00:00"), 2, ""},
		{"date", 12, months, StringValue("2024-3-5T10:00:00"), 2, ""},
		{"date", 12, months, IntValue(20240305), 2, ""},
		{"date", 12, months, StringValue("20240305"), 2, ""},
		{"date", 12, months, IntValue(20240305103000), 2, ""},
		{"date", 12, months, StringValue("2024-12-31"), 11, ""},
		{"date", 12, months, NullValue(), 0, ""},
		{"date", 12, months, StringValue("2023-12-31"), 0, "before start 2024-01-01"},
		{"date", 12, months, StringValue("2025-01-01"), 0, "past the last shard, which ends before 2025-01-01"},
		{"date", 12, months, StringValue("2024-02-30"), 0, "no such date"},
		{"date", 12, months, StringValue("2024-02-01 24:00:00"), 0, "no such date"},
		{"date", 12, months, StringValue("yesterday"), 0, "not a date"},
		{"date", 12, months, IntValue(2024), 0, "not a date"},
		{"date", 12, months, DecimalValue("20240305.5"), 0, "not a date"},
		{"date", 12, map[string]any{"unit": "month", "start": "2024-01-01", "wrap": true}, StringValue("2025-02-01"), 1, ""},
		{"date", 4, map[string]any{"unit": "month", "start": "2024-01-01", "per_shard": 3}, StringValue("2024-04-01"), 1, ""},
		{"date", 4, map[string]any{"unit": "month", "start": "2024-01-01", "per_shard": 3}, StringValue("2024-12-31"), 3, ""},
		{"date", 7, map[string]any{"unit": "day", "start": "2024-02-27"}, StringValue("2024-03-01"), 3, ""}, // leap day
		{"date", 7, map[string]any{"unit": "day", "start": "2024-02-27", "wrap": true}, StringValue("2024-03-05"), 0, ""},
		{"date", 3, map[string]any{"unit": "year", "start": "2020-01-01"}, StringValue("2022-12-31 23:00:00"), 2, ""},

		// enum: keys compared as key text.
		{"enum", 4, enumMap, StringValue("CN"), 0, ""},
		{"enum", 4, enumMap, StringValue("cn"), 0, ""},
		{"enum", 4, enumMap, StringValue("US  "), 1, ""},
		{"enum", 4, enumMap, IntValue(7), 2, ""},
		{"enum", 4, enumMap, StringValue("07"), 2, ""},
		{"enum", 4, enumMap, NullValue(), 0, ""},
		{"enum", 4, enumMap, StringValue("FR"), 0, "enum sharding cannot place 'FR': not in the map, and default_shard is not set"},
		{"enum", 4, map[string]any{"map": map[string]any{"CN": 0}, "default_shard": 3}, StringValue("FR"), 3, ""},

		// string_prefix.
		{"string_prefix", 4, prefixOpts, StringValue("abc"), 0, ""},
		{"string_prefix", 4, prefixOpts, StringValue("ABx"), 0, ""},
		{"string_prefix", 4, prefixOpts, StringValue("cde"), 1, ""},
		{"string_prefix", 4, prefixOpts, StringValue("中文字"), 3, ""},
		{"string_prefix", 4, prefixOpts, StringValue("zz"), 2, ""},
		{"string_prefix", 4, prefixOpts, StringValue("a"), 2, ""},
		{"string_prefix", 4, prefixOpts, NullValue(), 0, ""},
		{"string_prefix", 4, map[string]any{"length": 2, "map": map[string]any{"ab": 1}}, StringValue("zz"), 0, `prefix "zz" is not in the map`},

		// slot with a map.
		{"slot", 2, slotMapOpts, IntValue(42), 0, ""}, // slot 136
		{"slot", 2, slotMapOpts, IntValue(0), 1, ""},  // slot 801
		{"slot", 2, slotMapOpts, NullValue(), 0, ""},
	} {
		name := fmt.Sprintf("%s/%d %v %v", c.alg, c.shards, c.opts, c.v)
		a := mustAlg(t, c.alg, c.shards, c.opts)
		got, err := a.Shard(c.v)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", name, err, c.err)
		case c.err != "" && !errors.As(err, new(*ValueError)):
			t.Errorf("%s: error %T is not a *ValueError", name, err)
		case c.err == "" && got != c.want:
			t.Errorf("%s: shard %d, want %d", name, got, c.want)
		}
	}
}

var (
	spansOpt = []any{
		map[string]any{"from": 0, "to": 100, "shard": 0},
		map[string]any{"from": 500, "to": 600, "shard": 1}, // out of order on purpose
		map[string]any{"from": 100, "to": 200, "shard": 2},
	}
	prefixOpts  = map[string]any{"length": 2, "map": map[string]any{"ab": 0, "CD": 1, "中文": 3}, "default_shard": 2}
	slotMapOpts = map[string]any{"slots": 1024, "slot_map": []any{
		map[string]any{"from": 0, "to": 512, "shard": 0},
		map[string]any{"from": 512, "to": 1024, "shard": 1},
	}}
)

// Every algorithm must agree on values MySQL calls equal, whichever column
// type the value meets.
func TestEquivalentValues(t *testing.T) {
	groups := [][]Value{
		{StringValue("Alice"), StringValue("alice"), StringValue("ALICE   ")},
		{IntValue(42), UintValue(42), StringValue("42"), DecimalValue("42.00"), FloatValue(42)},
		{IntValue(-3), StringValue("-3"), DecimalValue("-3.0"), FloatValue(-3)},
		{DecimalValue("1.50"), FloatValue(1.5), StringValue("1.5")},
		// string_prefix cuts strings as written, so only numeric algorithms
		// read these as 42 (it is meant for string columns).
		{IntValue(42), StringValue("042"), StringValue(" 42 "), StringValue("+42")},
	}
	for _, c := range []struct {
		alg  string
		opts map[string]any
	}{
		{"hash", nil}, {"jump_hash", nil}, {"consistent_hash", nil}, {"slot", nil},
		{"string_prefix", map[string]any{"length": 3}},
		{"enum", map[string]any{"map": map[any]any{42: 1, -3: 2, "alice": 3, "1.5": 4}}},
		{"mod", nil}, {"range", map[string]any{"boundaries": []any{-10, 0, 10, 100}}},
	} {
		a := mustAlg(t, c.alg, 5, c.opts)
		for gi, g := range groups {
			if c.alg == "string_prefix" && gi == len(groups)-1 {
				continue
			}
			first, err0 := a.Shard(g[0])
			for _, v := range g[1:] {
				got, err := a.Shard(v)
				if (err == nil) != (err0 == nil) || got != first {
					t.Errorf("%s: %v -> %d (%v) but %v -> %d (%v)", c.alg, g[0], first, err0, v, got, err)
				}
			}
		}
	}
}

func TestOptionErrors(t *testing.T) {
	for _, c := range []struct {
		alg    string
		shards int
		opts   map[string]any
		err    string
	}{
		{"foo", 4, nil, `unknown algorithm "foo" (want one of consistent_hash, date, enum, hash, jump_hash, mod, range, slot, string_prefix)`},
		{"mod", 0, nil, "algorithm mod: shards must be >= 1, got 0"},
		{"mod", 4, map[string]any{"x": 1}, `algorithm mod: unknown option "x": this algorithm takes no options`},
		{"consistent_hash", 4, map[string]any{"virtual_node": 5}, `unknown option "virtual_node" (want virtual_nodes, collation)`},
		{"range", 4, map[string]any{"boundary": []any{1, 2, 3}}, `algorithm range: unknown option "boundary" (want boundaries, ranges, default_shard)`},

		{"range", 4, nil, `algorithm range: option "boundaries": required (or ranges)`},
		{"range", 4, map[string]any{"boundaries": []any{1, 2}}, `option "boundaries": 4 shards need 3 boundaries, got 2`},
		{"range", 4, map[string]any{"boundaries": []any{1, 3, 2}}, `option "boundaries": must be strictly ascending: 2 follows 3`},
		{"range", 4, map[string]any{"boundaries": []any{1, "x", 2}}, `option "boundaries": item 1: want an integer, got "x"`},
		{"range", 4, map[string]any{"boundaries": 5}, `option "boundaries": want a list, got 5 (int)`},
		{"range", 3, map[string]any{"boundaries": []any{1, 2}, "ranges": spansOpt}, "give boundaries or ranges, not both"},
		{"range", 2, map[string]any{"boundaries": []any{1}, "default_shard": 0}, `option "default_shard": only with ranges`},
		{"range", 4, map[string]any{"ranges": spansOpt, "default_shard": 4}, `option "default_shard": shard 4 is out of range [0, 4)`},
		{"range", 4, map[string]any{"ranges": []any{}}, `option "ranges": empty list`},
		{"range", 4, map[string]any{"ranges": []any{map[string]any{"from": 5, "to": 5, "shard": 0}}}, "item 0: from (5) must be < to (5)"},
		{"range", 4, map[string]any{"ranges": []any{map[string]any{"from": 0, "to": 5}}}, "item 0: shard is required"},
		{"range", 4, map[string]any{"ranges": []any{map[string]any{"from": 0, "to": 5, "shard": 9}}}, "item 0: shard: shard 9 is out of range [0, 4)"},
		{"range", 4, map[string]any{"ranges": []any{map[string]any{"from": 0, "to": 5, "shard": 0, "size": 1}}}, `option "ranges": item 0: unknown key "size" (want from, to, shard)`},
		{"range", 4, map[string]any{"ranges": []any{"x"}}, `option "ranges": item 0: want a mapping`},
		{"range", 4, map[string]any{"ranges": []any{
			map[string]any{"from": 0, "to": 10, "shard": 0}, map[string]any{"from": 5, "to": 20, "shard": 1}}}, "[5, 20) overlaps [0, 10)"},

		{"date", 4, map[string]any{"start": "2024-01-01"}, `option "unit": required`},
		{"date", 4, map[string]any{"unit": "week", "start": "2024-01-01"}, `option "unit": want day, month or year, got "week"`},
		{"date", 4, map[string]any{"unit": "day"}, `option "start": required`},
		{"date", 4, map[string]any{"unit": "day", "start": "01/02/2024"}, `option "start": want a date like "2024-01-01"`},
		{"date", 4, map[string]any{"unit": "day", "start": "2024-01-01 10:00:00"}, `option "start": want a date`},
		{"date", 4, map[string]any{"unit": "month", "start": "2024-01-15"}, "with unit month, start must be the first of a month"},
		{"date", 4, map[string]any{"unit": "year", "start": "2024-02-01"}, "with unit year, start must be January 1st"},
		{"date", 4, map[string]any{"unit": "day", "start": "2024-01-01", "per_shard": 0}, `option "per_shard": must be between 1 and 1000000`},
		{"date", 4, map[string]any{"unit": "day", "start": "2024-01-01", "wrap": "yes"}, `option "wrap": want true or false`},

		{"enum", 4, nil, `option "map": required`},
		{"enum", 4, map[string]any{"map": map[string]any{}}, `option "map": empty mapping`},
		{"enum", 4, map[string]any{"map": []any{1}}, `option "map": want a mapping`},
		{"enum", 4, map[string]any{"map": map[any]any{1: 0, "01": 1}}, `keys "01" and 1 (int) are the same value (compared as "1")`},
		{"enum", 4, map[string]any{"map": map[any]any{"CN": 0, "cn": 1}}, `keys "CN" and "cn" are the same value`},
		{"enum", 4, map[string]any{"map": map[string]any{"CN": 4}}, `key 'CN': shard 4 is out of range [0, 4)`},
		{"enum", 4, map[string]any{"map": map[any]any{true: 0}}, "key true (bool): want a string or an integer"},
		{"enum", 4, map[string]any{"map": map[string]any{"CN": 0}, "default_shard": -1}, `option "default_shard": shard -1 is out of range`},

		{"consistent_hash", 4, map[string]any{"virtual_nodes": 0}, `option "virtual_nodes": must be between 1 and 10000, got 0`},
		{"consistent_hash", 1000, map[string]any{"virtual_nodes": 2000}, `option "virtual_nodes": 1000 shards × 2000 points is more than the ring's 1048576`},
		{"consistent_hash", 4, map[string]any{"virtual_nodes": 1.5}, `option "virtual_nodes": want an integer, got 1.5 (float64)`},

		{"slot", 4, map[string]any{"slots": 0}, `option "slots": must be between 1 and 65536`},
		{"slot", 8, map[string]any{"slots": 4}, `option "slots": 4 slots cannot cover 8 shards`},
		{"slot", 2, map[string]any{"slots": 8, "slot_map": []any{map[string]any{"from": 0, "to": 4, "shard": 0}}}, `option "slot_map": slots [4, 8) belong to no shard`},
		{"slot", 2, map[string]any{"slots": 8, "slot_map": []any{map[string]any{"from": 1, "to": 8, "shard": 0}}}, `slots [0, 1) belong to no shard`},
		{"slot", 2, map[string]any{"slots": 8, "slot_map": []any{map[string]any{"from": 0, "to": 9, "shard": 0}}}, `[0, 9) is outside the slots [0, 8)`},

		{"string_prefix", 4, nil, `option "length": required`},
		{"string_prefix", 4, map[string]any{"length": 0}, `option "length": must be between 1 and 1024, got 0`},
		{"string_prefix", 4, map[string]any{"length": 2, "default_shard": 1}, `option "default_shard": only with map`},
		{"string_prefix", 4, map[string]any{"length": 2, "map": map[string]any{"abc": 1}}, `option "map": key 'abc' is longer than length (2)`},
	} {
		_, err := NewAlgorithm(c.alg, c.shards, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("NewAlgorithm(%s, %d, %v) = %v, want error containing %q", c.alg, c.shards, c.opts, err, c.err)
		}
	}
}

func TestRange(t *testing.T) {
	iv := func(i int64) *Value { v := IntValue(i); return &v }
	sv := func(s string) *Value { v := StringValue(s); return &v }
	dv := func(s string) *Value { v := DecimalValue(s); return &v }
	bounds := map[string]any{"boundaries": []any{100, 200, 300}}
	spansDef := map[string]any{"ranges": spansOpt, "default_shard": 3}
	months := map[string]any{"unit": "month", "start": "2024-01-01"}
	wrap4 := map[string]any{"unit": "month", "start": "2024-01-01", "wrap": true}
	all := func(n int) []int { return allShards(n) }
	for _, c := range []struct {
		alg            string
		shards         int
		opts           map[string]any
		lo, hi         *Value
		loIncl, hiIncl bool
		want           []int
		ok             bool
	}{
		{"mod", 4, nil, iv(10), iv(12), true, true, []int{0, 2, 3}, true},
		{"mod", 4, nil, iv(10), iv(13), true, true, all(4), false},
		{"mod", 4, nil, iv(10), iv(13), false, true, []int{0, 1, 3}, true},
		{"mod", 4, nil, iv(10), iv(12), false, false, []int{3}, true},
		{"mod", 4, nil, iv(12), iv(10), true, true, []int{}, true},
		{"mod", 4, nil, iv(5), iv(5), true, false, []int{}, true},
		{"mod", 4, nil, iv(-2), iv(-1), true, true, []int{2, 3}, true},
		{"mod", 4, nil, dv("1.5"), dv("3.5"), true, true, []int{2, 3}, true},
		{"mod", 4, nil, sv("5"), sv("6"), true, true, []int{1, 2}, true},
		{"mod", 4, nil, sv("x"), iv(6), true, true, all(4), false},
		{"mod", 4, nil, nil, iv(6), true, true, all(4), false},
		{"mod", 4, nil, iv(math.MaxInt64 - 1), iv(math.MaxInt64), true, true, []int{2, 3}, true},
		{"mod", 4, nil, iv(math.MaxInt64), iv(math.MaxInt64), false, true, all(4), false}, // > MaxInt64: unsigned values
		{"mod", 4, nil, iv(math.MinInt64), iv(math.MaxInt64), true, true, all(4), false},

		{"range", 4, bounds, iv(150), iv(250), true, true, []int{1, 2}, true},
		{"range", 4, bounds, nil, iv(99), true, true, []int{0}, true},
		{"range", 4, bounds, nil, iv(100), true, false, []int{0}, true},
		{"range", 4, bounds, nil, iv(100), true, true, []int{0, 1}, true},
		{"range", 4, bounds, iv(300), nil, true, true, []int{3}, true},
		{"range", 4, bounds, iv(299), nil, false, true, []int{3}, true},
		{"range", 4, bounds, dv("99.5"), dv("100.5"), false, false, []int{1}, true},
		{"range", 4, bounds, dv("-1e3"), nil, true, true, all(4), false}, // not a plain number
		{"range", 4, bounds, sv("99999999999999999999"), nil, true, true, all(4), false},
		{"range", 4, bounds, sv("-99999999999999999999"), iv(5), true, true, []int{0}, true},
		{"range", 4, bounds, iv(5), sv("99999999999999999999"), true, true, all(4), true},
		{"range", 4, bounds, iv(250), iv(150), true, true, []int{}, true},
		{"range", 4, spansDef, iv(150), iv(550), true, true, []int{1, 2, 3}, true},
		{"range", 4, spansDef, iv(0), iv(199), true, true, []int{0, 2}, true},
		{"range", 4, spansDef, iv(0), iv(200), true, false, []int{0, 2}, true},
		{"range", 4, spansDef, iv(0), nil, true, true, []int{0, 1, 2, 3}, true},
		{"range", 4, spansDef, nil, iv(50), true, true, []int{0, 3}, true},
		{"range", 4, map[string]any{"ranges": spansOpt}, iv(150), iv(550), true, true, []int{1, 2}, true},
		{"range", 4, map[string]any{"ranges": spansOpt}, iv(300), iv(400), true, true, []int{}, true},

		{"date", 12, months, sv("2024-02-10"), sv("2024-04-01"), true, false, []int{1, 2}, true},
		{"date", 12, months, sv("2024-02-10"), sv("2024-04-01"), true, true, []int{1, 2, 3}, true},
		{"date", 12, months, sv("2024-02-10"), sv("2024-04-01 00:00:01"), true, false, []int{1, 2, 3}, true},
		{"date", 12, months, nil, sv("2024-01-31"), true, true, []int{0}, true},
		{"date", 12, months, sv("2024-11-15"), nil, true, true, []int{10, 11}, true},
		{"date", 12, months, sv("2025-06-01"), nil, true, true, []int{}, true},
		{"date", 12, months, sv("2023-01-01"), sv("2023-06-01"), true, true, []int{}, true},
		{"date", 12, months, sv("2023-06-01"), sv("2024-01-15"), true, true, []int{0}, true},
		{"date", 12, months, iv(20240301), iv(20240430), true, true, []int{2, 3}, true},
		{"date", 12, months, sv("soon"), nil, true, true, all(12), false},
		{"date", 4, wrap4, sv("2024-11-01"), sv("2025-01-31"), true, true, []int{0, 2, 3}, true},
		{"date", 4, wrap4, sv("2024-01-01"), sv("2024-12-31"), true, true, all(4), false},
		{"date", 4, wrap4, sv("2024-01-01"), nil, true, true, all(4), false},
		{"date", 4, map[string]any{"unit": "day", "start": "2024-01-01", "per_shard": 7}, sv("2024-01-07"), sv("2024-01-08"), true, true, []int{0, 1}, true},

		{"hash", 4, nil, iv(1), iv(2), true, true, all(4), false},
		{"jump_hash", 3, nil, iv(1), iv(2), true, true, all(3), false},
		{"consistent_hash", 3, nil, iv(1), iv(2), true, true, all(3), false},
		{"slot", 3, nil, iv(1), iv(2), true, true, all(3), false},
		{"enum", 2, map[string]any{"map": map[string]any{"a": 1}}, iv(1), iv(2), true, true, all(2), false},
		{"string_prefix", 2, map[string]any{"length": 1}, sv("a"), sv("b"), true, true, all(2), false},
	} {
		a := mustAlg(t, c.alg, c.shards, c.opts)
		got, ok := a.Range(c.lo, c.hi, c.loIncl, c.hiIncl)
		if ok != c.ok || !slices.Equal(got, c.want) || got == nil {
			t.Errorf("%s %v: Range(%v, %v, %v, %v) = %v, %v; want %v, %v", c.alg, c.opts, ptr(c.lo), ptr(c.hi), c.loIncl, c.hiIncl, got, ok, c.want, c.ok)
		}
	}
}

func ptr(v *Value) string {
	if v == nil {
		return "open"
	}
	return v.String()
}

// Range must never leave out a shard that Shard puts a value of the range on.
func TestRangeCoversShard(t *testing.T) {
	for _, c := range []struct {
		alg  string
		opts map[string]any
		vals func(i int64) Value
	}{
		{"mod", nil, func(i int64) Value { return IntValue(i - 50) }},
		{"range", map[string]any{"boundaries": []any{-20, 0, 7, 30, 31}}, func(i int64) Value { return IntValue(i - 50) }},
		{"range", map[string]any{"ranges": spansOpt, "default_shard": 5}, func(i int64) Value { return IntValue(i*7 - 50) }},
		{"date", map[string]any{"unit": "day", "start": "2024-02-20", "per_shard": 2, "wrap": true}, func(i int64) Value {
			return StringValue(fmt.Sprintf("2024-%02d-%02d 12:00:00", 2+i/28, 1+i%28))
		}},
	} {
		a := mustAlg(t, c.alg, 6, c.opts)
		for lo := int64(0); lo < 100; lo += 3 {
			for hi := lo; hi < lo+12; hi++ {
				l, h := c.vals(lo), c.vals(hi)
				shards, ok := a.Range(&l, &h, true, true)
				if !ok {
					continue
				}
				for i := lo; i <= hi; i++ {
					s, err := a.Shard(c.vals(i))
					if err == nil && !slices.Contains(shards, s) {
						t.Fatalf("%s: Range(%v, %v) = %v misses %v on shard %d", c.alg, l, h, shards, c.vals(i), s)
					}
				}
			}
		}
	}
}

func TestDistribution(t *testing.T) {
	for _, c := range []struct {
		alg  string
		opts map[string]any
	}{
		{"hash", nil}, {"jump_hash", nil}, {"consistent_hash", nil}, {"slot", nil}, {"mod", nil},
		{"string_prefix", map[string]any{"length": 4}},
	} {
		a := mustAlg(t, c.alg, 4, c.opts)
		for _, kind := range []string{"int", "string"} {
			if c.alg == "mod" && kind == "string" {
				continue
			}
			var count [4]int
			for i := 0; i < 10000; i++ {
				v := IntValue(int64(i))
				if kind == "string" {
					v = StringValue(fmt.Sprintf("%d-user", i*7919))
				}
				count[mustShard(t, a, v)]++
			}
			for s, n := range count {
				if n < 1500 {
					t.Errorf("%s over %s keys: shard %d got %d of 10000 (%v)", c.alg, kind, s, n, count)
				}
			}
		}
	}
}

// Growing from n to n+1 shards moves keys only onto the new shard.
func TestConsistentGrowth(t *testing.T) {
	for _, alg := range []string{"jump_hash", "consistent_hash"} {
		a4, a5 := mustAlg(t, alg, 4, nil), mustAlg(t, alg, 5, nil)
		moved := 0
		for i := 0; i < 10000; i++ {
			v := StringValue(fmt.Sprint("key", i))
			s4, s5 := mustShard(t, a4, v), mustShard(t, a5, v)
			if s4 != s5 {
				moved++
				if s5 != 4 {
					t.Fatalf("%s: %v moved from %d to %d, not to the new shard", alg, v, s4, s5)
				}
			}
		}
		if moved < 1000 || moved > 3000 {
			t.Errorf("%s: %d of 10000 keys moved, want about 2000", alg, moved)
		}
	}
}

func TestSlotHelpers(t *testing.T) {
	a := mustAlg(t, "slot", 3, map[string]any{"slots": 12}).(*SlotAlgorithm)
	if got := a.ShardSlots(1); !slices.Equal(got, []SlotRange{{4, 8}}) {
		t.Errorf("ShardSlots(1) = %v", got)
	}
	m := mustAlg(t, "slot", 3, map[string]any{"slots": 8, "slot_map": []any{
		map[string]any{"from": 0, "to": 2, "shard": 0},
		map[string]any{"from": 6, "to": 8, "shard": 0},
		map[string]any{"from": 2, "to": 6, "shard": 1},
	}}).(*SlotAlgorithm)
	if got := m.ShardSlots(0); !slices.Equal(got, []SlotRange{{0, 2}, {6, 8}}) || fmt.Sprint(got) != "[[0, 2) [6, 8)]" {
		t.Errorf("ShardSlots(0) = %v", got)
	}
	if got := m.ShardSlots(2); len(got) != 0 {
		t.Errorf("ShardSlots(2) = %v, want none", got)
	}
	if null, err := m.SlotOf(NullValue()); m.Slots() != 8 || m.ShardOfSlot(7) != 0 || m.ShardOfSlot(3) != 1 || null != -1 || err != nil {
		t.Error("Slots, ShardOfSlot or SlotOf is wrong")
	}
	for i := 0; i < 100; i++ {
		v := IntValue(int64(i))
		slot, err := m.SlotOf(v)
		if s := mustShard(t, m, v); err != nil || s != m.ShardOfSlot(slot) {
			t.Fatalf("Shard(%v) = %d disagrees with its slot %d (%v)", v, s, slot, err)
		}
	}
}

func TestNames(t *testing.T) {
	opts := map[string]map[string]any{
		"range": {"boundaries": []any{1}}, "date": {"unit": "day", "start": "2024-01-01"},
		"enum": {"map": map[string]any{"a": 0}}, "string_prefix": {"length": 1},
	}
	for name := range constructors {
		if a := mustAlg(t, name, 2, opts[name]); a.Name() != name {
			t.Errorf("%s.Name() = %s", name, a.Name())
		}
	}
}

func TestNullOnShardZero(t *testing.T) {
	opts := map[string]map[string]any{
		"range": {"boundaries": []any{-5}}, "date": {"unit": "day", "start": "2024-01-01"},
		"enum": {"map": map[string]any{"a": 1}, "default_shard": 1}, "string_prefix": {"length": 1},
		"slot": {"slot_map": []any{map[string]any{"from": 0, "to": 1024, "shard": 1}}},
	}
	for name := range constructors {
		if s := mustShard(t, mustAlg(t, name, 2, opts[name]), NullValue()); s != 0 {
			t.Errorf("%s puts NULL on shard %d", name, s)
		}
	}
}

// Options may come from YAML or be built by hand (the admin console).
func TestOptionForms(t *testing.T) {
	for _, v := range []any{int8(3), uint16(3), int64(3), uint64(3), 3.0, "3", " 3 "} {
		a := mustAlg(t, "range", 2, map[string]any{"boundaries": []any{v}})
		if s := mustShard(t, a, IntValue(3)); s != 1 {
			t.Errorf("boundary %#v: 3 on shard %d", v, s)
		}
	}
	for _, v := range []any{uint64(1 << 63), 1e30, 2.5, "x", true, nil} {
		if _, err := anyInt(v); err == nil {
			t.Errorf("anyInt(%#v) succeeded", v)
		}
	}
	a := mustAlg(t, "range", 2, map[string]any{"boundaries": []int{7}, "default_shard": nil}) // nil = absent
	if s := mustShard(t, a, IntValue(7)); s != 1 {
		t.Errorf("[]int boundaries: 7 on shard %d", s)
	}
	e := mustAlg(t, "enum", 3, map[string]any{"map": map[int]int{1: 1, 2: 2}})
	if s := mustShard(t, e, StringValue("2")); s != 2 {
		t.Errorf("map[int]int: '2' on shard %d", s)
	}
}

// The per-query path must not allocate for integers and short strings.
func TestShardAllocs(t *testing.T) {
	for _, name := range []string{"mod", "hash", "jump_hash", "consistent_hash", "slot", "enum", "string_prefix", "range"} {
		opts := map[string]map[string]any{"enum": {"map": map[string]any{"42": 1, "alice": 0}},
			"string_prefix": {"length": 2}, "range": {"boundaries": []any{0}}}[name]
		a := mustAlg(t, name, 2, opts)
		for _, v := range []Value{IntValue(42), StringValue("42"), StringValue("Alice ")} {
			if name == "mod" || name == "range" {
				if v.Kind() == StringKind && v.s != "42" {
					continue
				}
			}
			if n := testing.AllocsPerRun(100, func() { _, _ = a.Shard(v) }); n != 0 {
				t.Errorf("%s.Shard(%v): %v allocations", name, v, n)
			}
		}
	}
}

func BenchmarkShard(b *testing.B) {
	for _, name := range []string{"mod", "hash", "consistent_hash"} {
		a, _ := NewAlgorithm(name, 16, nil)
		for _, v := range []Value{IntValue(123456789), StringValue("user-123456789")} {
			b.Run(name+"/"+v.Kind().String(), func(b *testing.B) {
				for b.Loop() {
					_, _ = a.Shard(v)
				}
			})
		}
	}
}
