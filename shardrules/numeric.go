package shardrules

import (
	"math"
	"sort"
)

// mod: the value as an integer, mod shards. Negative values land on
// ((v % n) + n) % n, so -1 goes to shard n-1; an unsigned value above
// MaxInt64 on v % n. Options: none.
//
// Range-capable for closed ranges that span fewer values than shards (each
// value is enumerated); wider or open ranges cover every shard.
type modAlg struct{ n int }

func newMod(o *opts) (Algorithm, error) { return &modAlg{n: o.n}, nil }

func (a *modAlg) Name() string { return "mod" }

func (a *modAlg) Shard(v Value) (int, error) {
	if v.IsNull() {
		return 0, nil
	}
	x, why := v.integer()
	if why != "" {
		return 0, valueErr("mod", v, "%s", why)
	}
	return x.mod(a.n), nil
}

func (a *modAlg) Range(lo, hi *Value, loIncl, hiIncl bool) ([]int, bool) {
	if lo == nil || hi == nil {
		return allShards(a.n), false
	}
	l, okL := intBound(lo, true, loIncl)
	h, okH := intBound(hi, false, hiIncl)
	switch {
	case !okL || !okH:
		return allShards(a.n), false
	case l > h:
		return []int{}, true
	case uint64(h)-uint64(l) >= uint64(a.n-1): // h-l+1 >= n values: every shard
		return allShards(a.n), false
	}
	var out []int
	for x := l; ; x++ {
		out = append(out, integer{i: x}.mod(a.n))
		if x == h {
			break
		}
	}
	return sortedUnique(out), true
}

// intBound turns a range bound into the inclusive integer bound it admits:
// for a lower bound the smallest integer >= v (> v when exclusive), for an
// upper bound the largest <= v (< v). ok=false when v is not a number or the
// bound lies outside the int64 range on the side that matters.
func intBound(v *Value, lower, incl bool) (int64, bool) {
	n, ok := v.number()
	if !ok {
		return 0, false
	}
	frac := n.fp != ""
	n.fp = ""
	t, why := n.integer()
	if why != "" || t.big {
		switch {
		case lower && n.neg: // below every int64: as good as open
			return math.MinInt64, true
		case !lower && !n.neg:
			return math.MaxInt64, true
		}
		return 0, false
	}
	x := t.i
	step := 0
	switch {
	case frac && lower && !n.neg, !frac && lower && !incl:
		step = 1 // ceil of 1.5 is 2; the first value > 5 is 6
	case frac && !lower && n.neg, !frac && !lower && !incl:
		step = -1
	}
	if step == 1 && x == math.MaxInt64 || step == -1 && x == math.MinInt64 {
		return 0, false
	}
	return x + int64(step), true
}

// range: integer ranges, in one of two forms.
//
//	boundaries: [b1, b2, ...]   ascending, len == shards-1; shard 0 holds v < b1,
//	                            shard i holds b_i <= v < b_(i+1), the last shard v >= the last boundary
//	ranges: [{from: a, to: b, shard: i}, ...]   half-open [a, b), no overlaps
//	default_shard: i            (ranges only) where a value outside every range goes;
//	                            without it such a value is an error
//
// Range-capable.
type rangeAlg struct {
	n        int
	byBounds bool
	bounds   []int64
	spans    []span // sorted by from
	def      int    // -1: none
}

func newRange(o *opts) (Algorithm, error) {
	a := &rangeAlg{n: o.n}
	items, hasBounds, err := o.list("boundaries")
	if err != nil {
		return nil, err
	}
	spans, hasSpans, err := o.spans("ranges")
	if err != nil {
		return nil, err
	}
	if a.def, err = o.shard("default_shard"); err != nil {
		return nil, err
	}
	switch {
	case hasBounds && hasSpans:
		return nil, optErr("boundaries", "give boundaries or ranges, not both")
	case !hasBounds && !hasSpans:
		return nil, optErr("boundaries", "required (or ranges)")
	case hasBounds && a.def >= 0:
		return nil, optErr("default_shard", "only with ranges: boundaries place every value")
	case hasSpans:
		a.spans = spans
		return a, nil
	}
	a.byBounds = true
	if len(items) != o.n-1 {
		return nil, optErr("boundaries", "%d shards need %d boundaries, got %d", o.n, o.n-1, len(items))
	}
	for i, it := range items {
		b, err := anyInt(it)
		if err != nil {
			return nil, optErr("boundaries", "item %d: %v", i, err)
		}
		if i > 0 && b <= a.bounds[i-1] {
			return nil, optErr("boundaries", "must be strictly ascending: %d follows %d", b, a.bounds[i-1])
		}
		a.bounds = append(a.bounds, b)
	}
	return a, nil
}

func (a *rangeAlg) Name() string { return "range" }

func (a *rangeAlg) Shard(v Value) (int, error) {
	if v.IsNull() {
		return 0, nil
	}
	x, why := v.integer()
	if why != "" {
		return 0, valueErr("range", v, "%s", why)
	}
	if a.byBounds {
		if x.big {
			return a.n - 1, nil
		}
		return a.boundShard(x.i), nil
	}
	if !x.big {
		i := sort.Search(len(a.spans), func(i int) bool { return a.spans[i].to > x.i })
		if i < len(a.spans) && a.spans[i].from <= x.i {
			return a.spans[i].shard, nil
		}
	}
	if a.def >= 0 {
		return a.def, nil
	}
	return 0, valueErr("range", v, "in none of the ranges, and default_shard is not set")
}

// boundShard counts the boundaries <= x.
func (a *rangeAlg) boundShard(x int64) int {
	return sort.Search(len(a.bounds), func(i int) bool { return a.bounds[i] > x })
}

func (a *rangeAlg) Range(lo, hi *Value, loIncl, hiIncl bool) ([]int, bool) {
	l, h := int64(math.MinInt64), int64(math.MaxInt64)
	ok := true
	if lo != nil {
		l, ok = intBound(lo, true, loIncl)
	}
	if ok && hi != nil {
		h, ok = intBound(hi, false, hiIncl)
	}
	switch {
	case !ok:
		return allShards(a.n), false
	case l > h:
		return []int{}, true
	case a.byBounds:
		// An open upper bound ends at MaxInt64, whose shard is the last,
		// which is also where values above MaxInt64 go.
		var out []int
		for s, last := a.boundShard(l), a.boundShard(h); s <= last; s++ {
			out = append(out, s)
		}
		return out, true
	}
	out := []int{}
	next, gap := l, false // next: the first value of [l, h] not yet covered
	for _, sp := range a.spans {
		if sp.to <= l {
			continue
		}
		if sp.from > h {
			break
		}
		if sp.from > next {
			gap = true
		}
		out = append(out, sp.shard)
		next = sp.to
	}
	// Spans are half-open and end at most at MaxInt64, so MaxInt64 (and
	// anything above it) is never covered: an open upper bound leaves a gap.
	if next <= h {
		gap = true
	}
	if gap && a.def >= 0 {
		out = append(out, a.def)
	}
	return sortedUnique(out), true
}
