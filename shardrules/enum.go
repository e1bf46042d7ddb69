package shardrules

// enum: an explicit value -> shard list, for a column with few values (a
// region, a tenant). Options:
//
//	map: {value: shard, ...}   required; keys are strings or integers, compared by
//	                           key text (see Value): 1, '1' and '01' are the same key,
//	                           and so are 'CN' and 'cn'
//	default_shard: i           where a value not in the map goes; without it such a
//	                           value is an error
//
// Not range-capable (a router resolves IN lists by calling Shard per value).
type enumAlg struct {
	n   int
	m   map[string]int
	def int
	keyText
}

func newEnum(o *opts) (Algorithm, error) {
	a := &enumAlg{n: o.n}
	var err error
	if a.keyText, err = newKeyText("enum", o); err != nil {
		return nil, err
	}
	if a.def, err = o.shard("default_shard"); err != nil {
		return nil, err
	}
	v, ok := o.get("map")
	if !ok {
		return nil, optErr("map", "required: {value: shard, ...}")
	}
	a.m, err = shardMap(o, "map", v, a.keyText.key)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (a *enumAlg) Name() string { return "enum" }

func (a *enumAlg) Shard(v Value) (int, error) {
	if v.IsNull() {
		return 0, nil
	}
	var buf [64]byte
	k, err := a.keyText.append(buf[:0], v)
	if err != nil {
		return 0, err
	}
	if s, ok := a.m[string(k)]; ok {
		return s, nil
	}
	if a.def >= 0 {
		return a.def, nil
	}
	return 0, valueErr("enum", v, "not in the map, and default_shard is not set")
}

func (a *enumAlg) Range(lo, hi *Value, loIncl, hiIncl bool) ([]int, bool) {
	return allShards(a.n), false
}
