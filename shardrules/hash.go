package shardrules

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
)

// The hash algorithms decide where existing rows live, so their results are
// part of the on-disk layout: golden_test.go pins them. Never change the hash
// functions, the key text (see Value) or the ring construction.

// hash: FNV-1a 64 of the value's key text (42, 42.0, '42' and '042' all hash
// "42"), mod shards. Options: collation (see fold.go). Not range-capable.
type hashAlg struct {
	n int
	keyText
}

func newHash(o *opts) (Algorithm, error) {
	kt, err := newKeyText("hash", o)
	return &hashAlg{n: o.n, keyText: kt}, err
}

func (a *hashAlg) Name() string { return "hash" }

func (a *hashAlg) Shard(v Value) (int, error) {
	if v.IsNull() {
		return 0, nil
	}
	var buf [64]byte
	k, err := a.keyText.append(buf[:0], v)
	if err != nil {
		return 0, err
	}
	return int(fnv64a(k) % uint64(a.n)), nil
}

func (a *hashAlg) Range(lo, hi *Value, loIncl, hiIncl bool) ([]int, bool) {
	return allShards(a.n), false
}

// jump_hash: Lamping and Veach's jump consistent hash
// (https://arxiv.org/abs/1406.2294) of a 64-bit key: an integer value is its
// own key (negative values as two's complement), anything else the FNV-1a 64
// of its key text. Growing shards from n to n+1 moves only 1/(n+1) of the
// keys, all to the new shard. Options: collation (see fold.go). Not range-capable.
type jumpAlg struct {
	n int
	keyText
}

func newJumpHash(o *opts) (Algorithm, error) {
	kt, err := newKeyText("jump_hash", o)
	return &jumpAlg{n: o.n, keyText: kt}, err
}

func (a *jumpAlg) Name() string { return "jump_hash" }

func (a *jumpAlg) Shard(v Value) (int, error) {
	if v.IsNull() {
		return 0, nil
	}
	var key uint64
	if x, why := v.integer(); why == "" {
		key = x.bits()
	} else {
		var buf [64]byte
		k, err := a.keyText.append(buf[:0], v)
		if err != nil {
			return 0, err
		}
		key = fnv64a(k)
	}
	return jump(key, a.n), nil
}

// jump is the paper's reference implementation.
func jump(key uint64, n int) int {
	b, j := int64(-1), int64(0)
	for j < int64(n) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

func (a *jumpAlg) Range(lo, hi *Value, loIncl, hiIncl bool) ([]int, bool) {
	return allShards(a.n), false
}

// consistent_hash: a hash ring. Shard i owns virtual_nodes points, point j
// at mix(FNV-1a 64 of "shard-<i>-<j>"); a key, at mix(FNV-1a 64 of its key
// text), belongs to the first point at or after it, wrapping past the top.
// Points that collide are ordered by shard. mix is MurmurHash3's 64-bit
// finalizer: FNV-1a barely changes its high bits when only the last bytes
// differ, as in "shard-0-1" and "shard-0-2", so raw FNV points bunch up on
// the ring (4 shards of 160 points owned 13% to 41% of it; mixed, 21% to 29%).
// Options:
//
//	virtual_nodes: N   points per shard, default 160 (1..10000, and at most
//	                   1048576 points in all)
//
// Not range-capable.
type ringAlg struct {
	n int
	keyText
	hashes []uint64 // ascending
	owner  []int32  // owner[k] owns hashes[k]
}

func newConsistentHash(o *opts) (Algorithm, error) {
	vn, err := o.int("virtual_nodes", 160)
	if err != nil {
		return nil, err
	}
	if vn < 1 || vn > 10000 {
		return nil, optErr("virtual_nodes", "must be between 1 and 10000, got %d", vn)
	}
	if int64(o.n)*vn > 1<<20 {
		return nil, optErr("virtual_nodes", "%d shards × %d points is more than the ring's 1048576", o.n, vn)
	}
	type point struct {
		h     uint64
		shard int32
	}
	pts := make([]point, 0, o.n*int(vn))
	for i := 0; i < o.n; i++ {
		for j := 0; j < int(vn); j++ {
			name := "shard-" + strconv.Itoa(i) + "-" + strconv.Itoa(j)
			pts = append(pts, point{mix64(fnv64a([]byte(name))), int32(i)})
		}
	}
	slices.SortFunc(pts, func(a, b point) int {
		if a.h != b.h {
			if a.h < b.h {
				return -1
			}
			return 1
		}
		return int(a.shard - b.shard)
	})
	kt, err := newKeyText("consistent_hash", o)
	if err != nil {
		return nil, err
	}
	a := &ringAlg{n: o.n, keyText: kt, hashes: make([]uint64, len(pts)), owner: make([]int32, len(pts))}
	for k, p := range pts {
		a.hashes[k], a.owner[k] = p.h, p.shard
	}
	return a, nil
}

func (a *ringAlg) Name() string { return "consistent_hash" }

func (a *ringAlg) Shard(v Value) (int, error) {
	if v.IsNull() {
		return 0, nil
	}
	var buf [64]byte
	key, err := a.keyText.append(buf[:0], v)
	if err != nil {
		return 0, err
	}
	h := mix64(fnv64a(key))
	k := sort.Search(len(a.hashes), func(k int) bool { return a.hashes[k] >= h })
	if k == len(a.hashes) {
		k = 0
	}
	return int(a.owner[k]), nil
}

// mix64 is MurmurHash3's fmix64: every input bit affects every output bit.
func mix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

func (a *ringAlg) Range(lo, hi *Value, loIncl, hiIncl bool) ([]int, bool) {
	return allShards(a.n), false
}

// string_prefix: the first `length` characters (runes) of the value's text,
// folded (fold.go) with trailing spaces dropped; a number's
// text is its canonical decimal form. Meant for string columns. Options:
//
//	length: N           required, >= 1
//	map: {prefix: i}    optional: prefix -> shard (keys are folded the same way;
//	                    a key may be shorter than length to match short values)
//	default_shard: i    with map: where an unmapped prefix goes; without it an
//	                    unmapped prefix is an error
//
// Without map: FNV-1a 64 of the prefix, mod shards. Not range-capable.
type prefixAlg struct {
	n, length int
	m         map[string]int // nil: hash the prefix
	def       int
	keyText
}

func newStringPrefix(o *opts) (Algorithm, error) {
	a := &prefixAlg{n: o.n}
	var err error
	if a.keyText, err = newKeyText("string_prefix", o); err != nil {
		return nil, err
	}
	v, ok := o.get("length")
	if !ok {
		return nil, optErr("length", "required: how many leading characters pick the shard")
	}
	l, err := anyInt(v)
	if err != nil {
		return nil, optErr("length", "%v", err)
	}
	if l < 1 || l > 1024 {
		return nil, optErr("length", "must be between 1 and 1024, got %d", l)
	}
	a.length = int(l)
	if a.def, err = o.shard("default_shard"); err != nil {
		return nil, err
	}
	mv, ok := o.get("map")
	if !ok {
		if a.def >= 0 {
			return nil, optErr("default_shard", "only with map: without it every prefix is hashed")
		}
		return a, nil
	}
	if a.m, err = shardMap(o, "map", mv, func(kv Value) (string, error) {
		text, err := a.keyText.appendText(nil, kv)
		if err != nil {
			return "", err
		}
		if utf8.RuneCount(text) > a.length {
			return "", fmt.Errorf("is longer than length (%d) and can never match", a.length)
		}
		return string(text), nil
	}); err != nil {
		return nil, err
	}
	return a, nil
}

// prefix appends the first length runes of v's folded text to dst.
func (a *prefixAlg) prefix(dst []byte, v Value) ([]byte, error) {
	start := len(dst)
	dst, err := a.keyText.appendText(dst, v)
	if err != nil {
		return dst, err
	}
	i := start
	for r := 0; r < a.length && i < len(dst); r++ {
		_, size := utf8.DecodeRune(dst[i:])
		i += size
	}
	return dst[:i], nil
}

func (a *prefixAlg) Name() string { return "string_prefix" }

func (a *prefixAlg) Shard(v Value) (int, error) {
	if v.IsNull() {
		return 0, nil
	}
	var buf [64]byte
	p, err := a.prefix(buf[:0], v)
	if err != nil {
		return 0, err
	}
	if a.m == nil {
		return int(fnv64a(p) % uint64(a.n)), nil
	}
	if s, ok := a.m[string(p)]; ok {
		return s, nil
	}
	if a.def >= 0 {
		return a.def, nil
	}
	return 0, valueErr("string_prefix", v, "prefix %q is not in the map, and default_shard is not set", string(p))
}

func (a *prefixAlg) Range(lo, hi *Value, loIncl, hiIncl bool) ([]int, bool) {
	return allShards(a.n), false
}

// shardMap reads a {key: shard} mapping option; key turns each key's Value
// into the text it is looked up by. Two keys with the same text are an error.
func shardMap(o *opts, name string, v any, key func(Value) (string, error)) (map[string]int, error) {
	es, err := mapping(v)
	if err != nil {
		return nil, optErr(name, "%v", err)
	}
	if len(es) == 0 {
		return nil, optErr(name, "empty mapping")
	}
	m := make(map[string]int, len(es))
	first := make(map[string]any, len(es))
	for _, e := range es {
		kv, err := keyValue(e.key)
		if err != nil {
			return nil, optErr(name, "%v", err)
		}
		k, err := key(kv)
		if err != nil {
			return nil, optErr(name, "key %s %v", kv, err)
		}
		if f, dup := first[k]; dup {
			return nil, optErr(name, "keys %s and %s are the same value (compared as %q)", describe(f), describe(e.key), k)
		}
		first[k] = e.key
		if m[k], err = o.shardIndex(e.value); err != nil {
			return nil, optErr(name, "key %s: %v", kv, err)
		}
	}
	return m, nil
}
