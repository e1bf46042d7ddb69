package sequence

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeStore is a Store in memory: what shardgate_sequences would hold.
type fakeStore struct {
	mu     sync.Mutex
	next   map[string]uint64 // absent: the row does not exist
	allocs []allocCall
	err    error         // returned by Alloc while set
	gate   chan struct{} // when set, each Alloc waits for a value on it
	delay  time.Duration
	floors int // floor calls
}

type allocCall struct{ size, atLeast, first uint64 }

func newFakeStore() *fakeStore { return &fakeStore{next: map[string]uint64{}} }

func (f *fakeStore) Alloc(ctx context.Context, name string, size, atLeast uint64, floor FloorFunc) (uint64, error) {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	next, ok := f.next[name]
	if !ok {
		f.floors++
		top, err := floor(ctx)
		if err != nil {
			return 0, err
		}
		next = top + 1
	}
	first := max(next, atLeast)
	f.next[name] = first + size
	f.allocs = append(f.allocs, allocCall{size, atLeast, first})
	return first, nil
}

func (f *fakeStore) set(fn func(f *fakeStore)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

func (f *fakeStore) calls() []allocCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.allocs)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestSegment(t testing.TB, st Store, block int, prefetch float64, floor FloorFunc) *Segment {
	t.Helper()
	g, err := NewSegment("shop.orders", st, block, floor, SegmentOptions{Prefetch: prefetch, Retry: 10 * time.Millisecond, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// waitFor polls until cond holds (a background prefetch landed).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}

func TestSegmentBlocks(t *testing.T) {
	st := newFakeStore()
	g := newTestSegment(t, st, 10, 1, nil) // prefetch only when a block is used up
	var got []uint64
	for range 25 {
		got = append(got, reserve(t, g, 1)...)
	}
	if !slices.Equal(got, seq(1, 25)) {
		t.Fatalf("ids %v", got)
	}
	waitFor(t, "the prefetch after the third block", func() bool { return len(st.calls()) == 3 })
	for i, c := range st.calls() {
		if c.size != 10 || c.first != uint64(1+10*i) {
			t.Fatalf("alloc %d: %+v", i, c)
		}
	}
	if _, err := NewSegment("x", st, 0, nil, SegmentOptions{}); err == nil {
		t.Fatal("block 0 accepted")
	}
	if _, err := g.Reserve(context.Background(), -2, nil); err == nil {
		t.Fatal("n=-2 accepted")
	}
	if ids, err := g.Reserve(context.Background(), 0, []uint64{7}); err != nil || len(ids) != 1 {
		t.Fatal("n=0", ids, err)
	}
}

func TestSegmentStartsAboveFloor(t *testing.T) {
	st := newFakeStore()
	var asked int
	g := newTestSegment(t, st, 100, 0.5, func(context.Context) (uint64, error) { asked++; return 41, nil })
	if ids := reserve(t, g, 2); !slices.Equal(ids, []uint64{42, 43}) {
		t.Fatalf("ids %v", ids)
	}
	// The floor is asked only when the sequence is created.
	g2 := newTestSegment(t, st, 100, 0.5, func(context.Context) (uint64, error) { asked++; return 41, nil })
	if ids := reserve(t, g2, 1); ids[0] < 142 {
		t.Fatalf("second instance: %v", ids)
	}
	if asked != 1 {
		t.Fatalf("floor asked %d times", asked)
	}
	// A floor that fails: the creation fails, with its cause.
	boom := errors.New("shard 3 unreachable")
	g3, _ := NewSegment("shop.other", st, 10, func(context.Context) (uint64, error) { return 0, boom }, SegmentOptions{Log: quiet})
	if _, err := g3.Reserve(context.Background(), 1, nil); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}

func TestSegmentPrefetch(t *testing.T) {
	st := newFakeStore()
	g := newTestSegment(t, st, 100, 0.5, nil)
	reserve(t, g, 49)
	if cur, next := g.Left(); cur != 51 || next != 0 || len(st.calls()) != 1 {
		t.Fatalf("before half: left %d/%d, %d allocs", cur, next, len(st.calls()))
	}
	reserve(t, g, 1) // half used: the next block is fetched in the background
	waitFor(t, "the prefetch", func() bool { _, next := g.Left(); return next == 100 })
	if c := st.calls(); len(c) != 2 || c[1].first != 101 || c[1].atLeast != 101 {
		t.Fatalf("allocs %+v", c)
	}
	// While the next prefetch hangs, the current and prefetched blocks
	// keep serving without a wait.
	gate := make(chan struct{})
	st.set(func(f *fakeStore) { f.gate = gate })
	ids := reserve(t, g, 100) // the rest of block 1 and half of block 2: a new prefetch starts and hangs
	if !slices.Equal(ids, seq(51, 150)) {
		t.Fatalf("ids %v..%v", ids[0], ids[len(ids)-1])
	}
	ids = reserve(t, g, 50)
	if !slices.Equal(ids, seq(151, 200)) {
		t.Fatalf("ids %v..%v", ids[0], ids[len(ids)-1])
	}
	// Now both are used up: the next call waits for the hanging allocation.
	done := make(chan []uint64)
	go func() { ids, _ := g.Reserve(context.Background(), 1, nil); done <- ids }()
	select {
	case ids := <-done:
		t.Fatalf("did not wait: %v", ids)
	case <-time.After(20 * time.Millisecond):
	}
	gate <- struct{}{}
	if ids := <-done; ids[0] != 201 {
		t.Fatalf("after the wait: %v", ids)
	}
	st.set(func(f *fakeStore) { f.gate = nil })
}

func TestSegmentSpanningReservation(t *testing.T) {
	st := newFakeStore()
	g := newTestSegment(t, st, 10, 1, nil)
	reserve(t, g, 7) // 1..7; 3 left
	// Another process takes a block meanwhile: the span is not consecutive.
	st.set(func(f *fakeStore) { f.next["shop.orders"] += 1000 })
	ids := reserve(t, g, 5)
	if !slices.Equal(ids, []uint64{8, 9, 10, 1011, 1012}) {
		t.Fatalf("span: %v", ids)
	}
	// A reservation larger than a block takes one allocation of its size:
	// consecutive.
	waitFor(t, "no allocation running", func() bool { return len(st.calls()) == 2 })
	reserve(t, g, 8) // 1013..1020, block used up, prefetch 1021..1030
	waitFor(t, "the prefetch", func() bool { _, next := g.Left(); return next == 10 })
	ids = reserve(t, g, 500)
	if !slices.Equal(ids, append(seq(1021, 1030), seq(1031, 1520)...)) {
		t.Fatalf("big: %v..%v", ids[0], ids[len(ids)-1])
	}
	c := st.calls() // 1..10, 1011.., 1021.., the 490, maybe the next prefetch
	if c[3].size != 490 || c[3].first != 1031 {
		t.Fatalf("allocs %+v", c)
	}
}

func TestSegmentStoreError(t *testing.T) {
	st := newFakeStore()
	g := newTestSegment(t, st, 10, 0.5, nil)
	boom := errors.New("connection refused")
	st.set(func(f *fakeStore) { f.err = boom })
	dst := []uint64{99}
	out, err := g.Reserve(context.Background(), 3, dst)
	if !errors.Is(err, boom) || len(out) != 1 {
		t.Fatalf("first block: %v %v", out, err)
	}
	t.Logf("error: %v", err)
	st.set(func(f *fakeStore) { f.err = nil })
	if ids := reserve(t, g, 6); !slices.Equal(ids, seq(1, 6)) { // prefetch starts at 5 left
		t.Fatalf("after recovery: %v", ids)
	}
	waitFor(t, "the prefetch", func() bool { _, next := g.Left(); return next == 10 })
	reserve(t, g, 4) // block 1 used up, block 2 current
	// The prefetch of block 3 fails in the background: block 2 still serves.
	st.set(func(f *fakeStore) { f.err = boom })
	if ids := reserve(t, g, 6); !slices.Equal(ids, seq(11, 16)) {
		t.Fatalf("during the outage: %v", ids)
	}
	waitFor(t, "the failed prefetch", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.loading == nil })
	if ids := reserve(t, g, 4); !slices.Equal(ids, seq(17, 20)) {
		t.Fatalf("during the outage: %v", ids)
	}
	// Used up: the caller gets the store's error, partial ids are not returned.
	out, err = g.Reserve(context.Background(), 2, nil)
	if !errors.Is(err, boom) || len(out) != 0 {
		t.Fatalf("used up: %v %v", out, err)
	}
	st.set(func(f *fakeStore) { f.err = nil })
	if ids := reserve(t, g, 2); ids[0] != 21 {
		t.Fatalf("after the outage: %v", ids)
	}
}

func TestSegmentContextCanceled(t *testing.T) {
	st := newFakeStore()
	st.gate = make(chan struct{})
	g := newTestSegment(t, st, 10, 0.5, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.Reserve(ctx, 1, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	// The allocation carries on for the next caller.
	close(st.gate)
	if ids := reserve(t, g, 1); ids[0] != 1 {
		t.Fatalf("ids %v", ids)
	}
}

// A restart (kill -9: the old instance just stops) continues above every
// block the old instance reserved, the prefetched one included.
func TestSegmentRestart(t *testing.T) {
	st := newFakeStore()
	old := newTestSegment(t, st, 100, 0.5, nil)
	seen := reserve(t, old, 60) // block 1..100 and a prefetched 101..200
	waitFor(t, "the prefetch", func() bool { _, next := old.Left(); return next == 100 })
	restarted := newTestSegment(t, st, 100, 0.5, nil)
	ids := reserve(t, restarted, 10)
	if ids[0] != 201 {
		t.Fatalf("restart starts at %d", ids[0])
	}
	// The old instance (a second proxy, say) keeps handing out its blocks:
	// no overlap either way.
	seen = append(seen, reserve(t, old, 100)...)
	for _, id := range seen {
		if slices.Contains(ids, id) {
			t.Fatalf("id %d twice", id)
		}
	}
}

// Many goroutines on two instances sharing a store (two proxies), with
// allocations that take time: every id once, each call ascending.
func TestSegmentConcurrent(t *testing.T) {
	st := newFakeStore()
	st.delay = 50 * time.Microsecond
	gens := []*Segment{newTestSegment(t, st, 64, 0.5, nil), newTestSegment(t, st, 64, 0.8, nil)}
	const workers, per = 8, 20_000
	out := make([][]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			g := gens[w%2]
			var ids []uint64
			for len(ids) < per {
				n := min(1+r.IntN(100), per-len(ids))
				before := len(ids)
				var err error
				if ids, err = g.Reserve(context.Background(), n, ids); err != nil {
					t.Error(err)
					return
				}
				if !slices.IsSorted(ids[before:]) {
					t.Errorf("call not ascending: %v", ids[before:])
					return
				}
			}
			out[w] = ids
		}()
	}
	wg.Wait()
	var all []uint64
	for _, ids := range out {
		all = append(all, ids...)
	}
	slices.Sort(all)
	if n := len(slices.Compact(all)); n != workers*per {
		t.Fatalf("%d distinct ids of %d", n, workers*per)
	}
	t.Logf("%d ids, %d allocations, highest id %d", workers*per, len(st.calls()), all[len(all)-1])
}

func TestSegmentNoAllocation(t *testing.T) {
	st := newFakeStore()
	g := newTestSegment(t, st, 1<<20, 0.5, nil)
	dst := make([]uint64, 0, 4)
	reserve(t, g, 1)
	allocs := testing.AllocsPerRun(1000, func() {
		dst, _ = g.Reserve(context.Background(), 1, dst[:0])
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per id", allocs)
	}
	s, _ := NewSnowflake(1)
	allocs = testing.AllocsPerRun(1000, func() {
		dst, _ = s.Reserve(context.Background(), 3, dst[:0])
	})
	if allocs != 0 {
		t.Fatalf("snowflake: %v allocations", allocs)
	}
}

func BenchmarkSegmentReserve(b *testing.B) {
	g := newTestSegment(b, newFakeStore(), 1000, 0.5, nil)
	b.Run("1", func(b *testing.B) {
		dst := make([]uint64, 0, 1)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			dst, _ = g.Reserve(ctx, 1, dst[:0])
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			dst := make([]uint64, 0, 1)
			ctx := context.Background()
			for pb.Next() {
				dst, _ = g.Reserve(ctx, 1, dst[:0])
			}
		})
	})
	b.Run("100", func(b *testing.B) {
		dst := make([]uint64, 0, 100)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			dst, _ = g.Reserve(ctx, 100, dst[:0])
		}
	})
}

func BenchmarkSnowflakeReserve(b *testing.B) {
	s, _ := NewSnowflake(1)
	b.Run("1", func(b *testing.B) {
		dst := make([]uint64, 0, 1)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			dst, _ = s.Reserve(ctx, 1, dst[:0])
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			dst := make([]uint64, 0, 1)
			ctx := context.Background()
			for pb.Next() {
				dst, _ = s.Reserve(ctx, 1, dst[:0])
			}
		})
	})
	b.Run("100", func(b *testing.B) {
		dst := make([]uint64, 0, 100)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			dst, _ = s.Reserve(ctx, 100, dst[:0])
		}
	})
}
