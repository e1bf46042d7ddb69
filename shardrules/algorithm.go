// Package shardrules holds shardgate's sharding algorithms (a column value ->
// a shard index) and table rules (which physical tables on which data nodes
// hold a logical table). It is pure: no I/O, no goroutines, no global state.
// README.md lists the algorithms and their options.
package shardrules

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm maps a sharding-column value to a shard index in [0, shards).
// Algorithms are immutable and safe for concurrent use. Every algorithm
// places NULL on shard 0.
type Algorithm interface {
	Name() string
	// Shard returns the shard of v; a value the algorithm cannot place
	// (a string for mod, a date before start, ...) is a *ValueError.
	Shard(v Value) (int, error)
	// Range returns the shards that values v with lo <= v <= hi may map to
	// (nil bound: open; loIncl/hiIncl: whether the bound itself is
	// included), sorted and unique, and ok=false when the algorithm cannot
	// narrow the range (shards then lists every shard: the caller scans
	// them all). With ok=true the
	// list may be empty: no shard can hold such a value (lo > hi, or a range
	// wholly outside the rule); the caller still needs one shard to send the
	// query to if it wants an empty result with the right columns.
	Range(lo, hi *Value, loIncl, hiIncl bool) (shards []int, ok bool)
}

// ValueError reports a value an algorithm cannot place. The router turns it
// into a MySQL error.
type ValueError struct {
	Algorithm string
	Value     Value
	Reason    string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%s sharding cannot place %s: %s", e.Algorithm, e.Value, e.Reason)
}

// NewAlgorithm returns the named algorithm over shards shards, configured by
// options (as decoded from YAML; nil is no options). Unknown and malformed
// options are errors that name the option.
func NewAlgorithm(name string, shards int, options map[string]any) (Algorithm, error) {
	if shards < 1 {
		return nil, fmt.Errorf("algorithm %s: shards must be >= 1, got %d", name, shards)
	}
	mk, ok := constructors[name]
	if !ok {
		names := make([]string, 0, len(constructors))
		for n := range constructors {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown algorithm %q (want one of %s)", name, strings.Join(names, ", "))
	}
	if err := unknownOptions(options, mk.keys); err != nil {
		return nil, fmt.Errorf("algorithm %s: %w", name, err)
	}
	a, err := mk.new(&opts{n: shards, m: options})
	if err != nil {
		return nil, fmt.Errorf("algorithm %s: %w", name, err)
	}
	return a, nil
}

// constructors lists each algorithm's options; a key not listed is a typo
// to report, not something to ignore.
var constructors = map[string]struct {
	keys []string
	new  func(*opts) (Algorithm, error)
}{
	"mod":             {nil, newMod},
	"hash":            {[]string{"collation"}, newHash},
	"range":           {[]string{"boundaries", "ranges", "default_shard"}, newRange},
	"date":            {[]string{"unit", "start", "per_shard", "wrap"}, newDate},
	"enum":            {[]string{"map", "default_shard", "collation"}, newEnum},
	"jump_hash":       {[]string{"collation"}, newJumpHash},
	"consistent_hash": {[]string{"virtual_nodes", "collation"}, newConsistentHash},
	"slot":            {[]string{"slots", "slot_map", "collation"}, newSlot},
	"string_prefix":   {[]string{"length", "map", "default_shard", "collation"}, newStringPrefix},
}

func unknownOptions(m map[string]any, known []string) error {
	var bad []string
	for k := range m {
		if !slices.Contains(known, k) {
			bad = append(bad, strconv.Quote(k))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	if len(known) == 0 {
		return fmt.Errorf("unknown option %s: this algorithm takes no options", strings.Join(bad, ", "))
	}
	return fmt.Errorf("unknown option %s (want %s)", strings.Join(bad, ", "), strings.Join(known, ", "))
}

// allShards returns 0..n-1.
func allShards(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// sortedUnique sorts s and drops repeats.
func sortedUnique(s []int) []int {
	slices.Sort(s)
	return slices.Compact(s)
}

// opts reads one algorithm's options.
type opts struct {
	n int // shards
	m map[string]any
}

// get returns the option named key; absent and null are the same.
func (o *opts) get(key string) (any, bool) {
	v, ok := o.m[key]
	return v, ok && v != nil
}

func optErr(key, format string, args ...any) error {
	return fmt.Errorf("option %q: %s", key, fmt.Sprintf(format, args...))
}

// int returns an integer option, def when absent.
func (o *opts) int(key string, def int64) (int64, error) {
	v, ok := o.get(key)
	if !ok {
		return def, nil
	}
	i, err := anyInt(v)
	if err != nil {
		return 0, optErr(key, "%v", err)
	}
	return i, nil
}

// shard returns an optional shard-index option (-1 when absent).
func (o *opts) shard(key string) (int, error) {
	v, ok := o.get(key)
	if !ok {
		return -1, nil
	}
	i, err := o.shardIndex(v)
	if err != nil {
		return 0, optErr(key, "%v", err)
	}
	return i, nil
}

// shardIndex checks that v is a shard index in [0, n).
func (o *opts) shardIndex(v any) (int, error) {
	i, err := anyInt(v)
	if err != nil {
		return 0, err
	}
	if i < 0 || i >= int64(o.n) {
		return 0, fmt.Errorf("shard %d is out of range [0, %d)", i, o.n)
	}
	return int(i), nil
}

// anyInt reads an integer the way YAML (or a caller building options by
// hand) may give it: any Go integer, an integral float, or a digit string.
func anyInt(v any) (int64, error) {
	switch x := reflect.ValueOf(v); x.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return x.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if x.Uint() <= 1<<63-1 {
			return int64(x.Uint()), nil
		}
	case reflect.Float32, reflect.Float64:
		if f := x.Float(); f >= -1<<63 && f < 1<<63 && f == math.Trunc(f) {
			return int64(f), nil
		}
	case reflect.String:
		if i, err := strconv.ParseInt(strings.TrimSpace(x.String()), 10, 64); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("want an integer, got %s", describe(v))
}

// bool returns a boolean option, def when absent.
func (o *opts) bool(key string, def bool) (bool, error) {
	v, ok := o.get(key)
	if !ok {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, optErr(key, "want true or false, got %s", describe(v))
	}
	return b, nil
}

// anyString reads a string option; YAML turns an unquoted date into a time.Time.
func anyString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case time.Time:
		return x.Format(time.DateOnly), true
	}
	return "", false
}

// list returns a list option's items (nil, false when absent).
func (o *opts) list(key string) ([]any, bool, error) {
	v, ok := o.get(key)
	if !ok {
		return nil, false, nil
	}
	x := reflect.ValueOf(v)
	if x.Kind() != reflect.Slice && x.Kind() != reflect.Array {
		return nil, true, optErr(key, "want a list, got %s", describe(v))
	}
	items := make([]any, x.Len())
	for i := range items {
		items[i] = x.Index(i).Interface()
	}
	return items, true, nil
}

// entry is one key of a mapping option.
type entry struct {
	key   any
	value any
}

// mapping returns a mapping's entries sorted by key text, so errors come
// out in a stable order; YAML gives map[string]any, or map[any]any when a
// key is not a string.
func mapping(v any) ([]entry, error) {
	x := reflect.ValueOf(v)
	if x.Kind() != reflect.Map {
		return nil, fmt.Errorf("want a mapping, got %s", describe(v))
	}
	es := make([]entry, 0, x.Len())
	for it := x.MapRange(); it.Next(); {
		es = append(es, entry{it.Key().Interface(), it.Value().Interface()})
	}
	sort.Slice(es, func(i, j int) bool { return fmt.Sprint(es[i].key) < fmt.Sprint(es[j].key) })
	return es, nil
}

// span is one {from, to, shard} item of a ranges or slot_map option: the
// half-open interval [from, to).
type span struct {
	from, to int64
	shard    int
}

// spans reads a list of {from, to, shard} mappings, sorted by from, and
// checks they do not overlap.
func (o *opts) spans(key string) ([]span, bool, error) {
	items, ok, err := o.list(key)
	if !ok || err != nil {
		return nil, ok, err
	}
	if len(items) == 0 {
		return nil, true, optErr(key, "empty list")
	}
	out := make([]span, len(items))
	for i, it := range items {
		es, err := mapping(it)
		if err != nil {
			return nil, true, optErr(key, "item %d: %v", i, err)
		}
		got := map[string]bool{}
		for _, e := range es {
			name, _ := e.key.(string)
			var err error
			switch name {
			case "from":
				out[i].from, err = anyInt(e.value)
			case "to":
				out[i].to, err = anyInt(e.value)
			case "shard":
				out[i].shard, err = o.shardIndex(e.value)
			default:
				return nil, true, optErr(key, "item %d: unknown key %s (want from, to, shard)", i, describe(e.key))
			}
			if err != nil {
				return nil, true, optErr(key, "item %d: %s: %v", i, name, err)
			}
			got[name] = true
		}
		for _, k := range []string{"from", "to", "shard"} {
			if !got[k] {
				return nil, true, optErr(key, "item %d: %s is required", i, k)
			}
		}
		if out[i].from >= out[i].to {
			return nil, true, optErr(key, "item %d: from (%d) must be < to (%d): ranges are [from, to)", i, out[i].from, out[i].to)
		}
	}
	slices.SortFunc(out, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	for i := 1; i < len(out); i++ {
		if out[i].from < out[i-1].to {
			return nil, true, optErr(key, "[%d, %d) overlaps [%d, %d)", out[i].from, out[i].to, out[i-1].from, out[i-1].to)
		}
	}
	return out, true, nil
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

// keyValue reads a mapping key of enum or string_prefix (a string or an
// integer) as the Value it stands for.
func keyValue(k any) (Value, error) {
	switch x := reflect.ValueOf(k); x.Kind() {
	case reflect.String:
		return StringValue(x.String()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return IntValue(x.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return UintValue(x.Uint()), nil
	}
	return Value{}, fmt.Errorf("key %s: want a string or an integer", describe(k))
}

// FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/): written out rather
// than taken from hash/fnv so hashing a key does not allocate. Its results
// are part of the data layout and must never change.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnv64a(b []byte) uint64 {
	h := uint64(fnvOffset64)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	return h
}

// valueErr builds a *ValueError.
func valueErr(alg string, v Value, format string, args ...any) error {
	return &ValueError{Algorithm: alg, Value: v, Reason: fmt.Sprintf(format, args...)}
}
