package shardrules

import (
	"hash/crc32"
	"hash/fnv"
	"math"
	"testing"
)

// The hash algorithms' results are the data layout of every deployed
// cluster: if one of these tests fails, the change moves existing rows and
// must be reverted, not the test updated. The values were computed with an
// independent Python transcription of each algorithm.

var goldenKeys = []Value{
	IntValue(0), IntValue(1), IntValue(42), IntValue(-1), StringValue("abc"), StringValue("hello world"),
	IntValue(math.MaxInt64), IntValue(math.MinInt64), UintValue(math.MaxUint64), DecimalValue("1.5"), StringValue("中文"),
}

func TestGoldenFNV(t *testing.T) {
	want := []uint64{12638135523509116079, 12638134423997487868, 571532774284038691, 562962081143836971,
		16654208175385433931, 8618312879776256743, 17856486487413025099, 6683966621886827385,
		17145950810312293460, 5007220036841904057, 5858563651418119877}
	for i, v := range goldenKeys {
		k, _, _ := v.appendKey(nil, rootCollations)
		h := fnv.New64a()
		h.Write(k)
		if got := fnv64a(k); got != want[i] || got != h.Sum64() {
			t.Errorf("fnv64a(%q) = %d, want %d (hash/fnv says %d)", k, got, want[i], h.Sum64())
		}
	}
}

func TestGolden(t *testing.T) {
	for _, c := range []struct {
		alg    string
		shards int
		opts   map[string]any
		want   []int // per goldenKeys
	}{
		{"hash", 4, nil, []int{3, 0, 3, 3, 3, 3, 3, 1, 0, 1, 1}},
		{"hash", 7, nil, []int{4, 1, 5, 2, 5, 2, 4, 0, 1, 1, 4}},
		{"jump_hash", 4, nil, []int{0, 0, 2, 2, 3, 3, 2, 3, 2, 1, 3}},
		{"jump_hash", 10, nil, []int{0, 6, 2, 9, 5, 8, 8, 5, 9, 1, 3}},
		{"consistent_hash", 4, nil, []int{0, 2, 0, 2, 0, 2, 2, 1, 0, 2, 3}},
		{"consistent_hash", 3, map[string]any{"virtual_nodes": 10}, []int{1, 2, 2, 0, 1, 2, 2, 2, 1, 2, 2}},
		{"slot", 4, nil, []int{3, 3, 0, 0, 1, 1, 2, 3, 1, 3, 1}},
	} {
		a := mustAlg(t, c.alg, c.shards, c.opts)
		for i, v := range goldenKeys {
			if got := mustShard(t, a, v); got != c.want[i] {
				t.Errorf("%s/%d %v: shard %d, want %d", c.alg, c.shards, c.opts, got, c.want[i])
			}
		}
	}
}

func TestCRC32(t *testing.T) {
	for _, s := range []string{"", "a", "42", "hello world", "中文"} {
		if got, want := crc32IEEE([]byte(s)), crc32.ChecksumIEEE([]byte(s)); got != want {
			t.Errorf("crc32IEEE(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestGoldenMix(t *testing.T) {
	for in, want := range map[uint64]uint64{0: 0, 1: 12994781566227106604, 12345: 1716623506685013753} {
		if got := mix64(in); got != want {
			t.Errorf("mix64(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestGoldenSlot(t *testing.T) {
	a := mustAlg(t, "slot", 4, nil).(*SlotAlgorithm)
	want := []int{801, 951, 136, 42, 450, 389, 734, 779, 282, 954, 311}
	for i, v := range goldenKeys {
		if got, err := a.SlotOf(v); got != want[i] || err != nil {
			t.Errorf("SlotOf(%v) = %d, %v, want %d", v, got, err, want[i])
		}
	}
}

func mustAlg(t *testing.T, name string, shards int, opts map[string]any) Algorithm {
	t.Helper()
	a, err := NewAlgorithm(name, shards, opts)
	if err != nil {
		t.Fatalf("NewAlgorithm(%s, %d, %v): %v", name, shards, opts, err)
	}
	return a
}

func mustShard(t *testing.T, a Algorithm, v Value) int {
	t.Helper()
	s, err := a.Shard(v)
	if err != nil {
		t.Fatalf("%s.Shard(%v): %v", a.Name(), v, err)
	}
	return s
}
