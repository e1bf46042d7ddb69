package sequence

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable millisecond clock.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) now() int64 { return c.ms.Load() }

func newFakeSnowflake(t *testing.T, worker int, ms int64) (*Snowflake, *fakeClock) {
	t.Helper()
	c := &fakeClock{}
	c.ms.Store(ms)
	s, err := newSnowflake(worker, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func reserve(t *testing.T, g Generator, n int) []uint64 {
	t.Helper()
	ids, err := g.Reserve(context.Background(), n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != n {
		t.Fatalf("Reserve(%d) returned %d ids", n, len(ids))
	}
	return ids
}

func TestSnowflakeLayout(t *testing.T) {
	at := Epoch + 12345
	s, _ := newFakeSnowflake(t, 1023, at)
	ids := reserve(t, s, 3)
	want := uint64(12345)<<22 | 1023<<12
	if ids[0] != want || ids[1] != want+1 || ids[2] != want+2 {
		t.Fatalf("ids %x, want %x, +1, +2", ids, want)
	}
	ts, worker, counter := SnowflakeParts(ids[2])
	if ts.UnixMilli() != at || worker != 1023 || counter != 2 {
		t.Fatalf("parts %v %d %d", ts, worker, counter)
	}
	if ts.Year() != 2024 {
		t.Fatalf("time %v", ts)
	}

	// The last representable millisecond still fits a signed BIGINT.
	s, _ = newFakeSnowflake(t, MaxWorkerID, Epoch+maxTick)
	id := reserve(t, s, 1)[0]
	if id>>63 != 0 || id != 1<<63-1-counterMask {
		t.Fatalf("last id %x", id)
	}
	if ts, _, _ := SnowflakeParts(id); ts.Year() != 2093 {
		t.Fatalf("the range ends in %v", ts)
	}
	// Past it, and before the epoch, the clock is refused.
	for _, ms := range []int64{Epoch + maxTick + 1, Epoch - 1, 0} {
		s, _ = newFakeSnowflake(t, 0, ms)
		if _, err := s.Reserve(context.Background(), 1, nil); !errors.Is(err, ErrClock) {
			t.Fatalf("clock %d: err %v", ms, err)
		}
	}
	// Worker 5 and worker 6 at the same millisecond differ only in the worker bits.
	a, _ := newFakeSnowflake(t, 5, Epoch+1)
	b, _ := newFakeSnowflake(t, 6, Epoch+1)
	if x, y := reserve(t, a, 1)[0], reserve(t, b, 1)[0]; x^y != (5^6)<<12 {
		t.Fatalf("%x %x", x, y)
	}
}

func TestSnowflakeArguments(t *testing.T) {
	for _, w := range []int{-1, 1024} {
		if _, err := NewSnowflake(w); err == nil {
			t.Fatalf("worker %d accepted", w)
		}
	}
	s, err := NewSnowflake(7)
	if err != nil || s.WorkerID() != 7 {
		t.Fatal(err)
	}
	dst := []uint64{42}
	if out, err := s.Reserve(context.Background(), 0, dst); err != nil || len(out) != 1 {
		t.Fatalf("n=0: %v %v", out, err)
	}
	if _, err := s.Reserve(context.Background(), -1, dst); err == nil {
		t.Fatal("n=-1 accepted")
	}
	// A real id is near now.
	ts, w, _ := SnowflakeParts(reserve(t, s, 1)[0])
	if w != 7 || time.Since(ts).Abs() > time.Minute {
		t.Fatalf("id time %v worker %d", ts, w)
	}
}

func TestSnowflakeCounterCarriesIntoNextMillisecond(t *testing.T) {
	s, _ := newFakeSnowflake(t, 3, Epoch+1000)
	ids := reserve(t, s, 5000) // more than a millisecond's 4096
	if !slices.IsSorted(ids) {
		t.Fatal("not ascending")
	}
	ts0, _, c0 := SnowflakeParts(ids[0])
	tsLast, _, cLast := SnowflakeParts(ids[4095])
	tsNext, _, cNext := SnowflakeParts(ids[4096])
	if ts0.UnixMilli() != Epoch+1000 || c0 != 0 || tsLast != ts0 || cLast != 4095 ||
		tsNext.UnixMilli() != Epoch+1001 || cNext != 0 {
		t.Fatalf("carry: %v/%d %v/%d %v/%d", ts0, c0, tsLast, cLast, tsNext, cNext)
	}
	// The clock is still at 1000: the next id continues at 1001, counter 904.
	ts, _, c := SnowflakeParts(reserve(t, s, 1)[0])
	if ts.UnixMilli() != Epoch+1001 || c != 5000-4096 {
		t.Fatalf("after carry: %v %d", ts, c)
	}
}

func TestSnowflakeClockStepsBack(t *testing.T) {
	s, clock := newFakeSnowflake(t, 9, Epoch+10_000)
	var all []uint64
	all = append(all, reserve(t, s, 10)...)
	clock.ms.Store(Epoch + 5_000) // five seconds back
	// No wait, no error: the timestamp stays at 10 000 and the counter goes on.
	ids := reserve(t, s, 10)
	ts, _, c := SnowflakeParts(ids[0])
	if ts.UnixMilli() != Epoch+10_000 || c != 10 {
		t.Fatalf("after step back: %v %d", ts, c)
	}
	all = append(all, ids...)
	// A millisecond's counter used up: the timestamp moves one ahead.
	all = append(all, reserve(t, s, 4096)...)
	if ts, _, _ := SnowflakeParts(all[len(all)-1]); ts.UnixMilli() != Epoch+10_001 {
		t.Fatalf("after 4096 more: %v", ts)
	}
	clock.ms.Store(Epoch + 9_000) // still behind
	all = append(all, reserve(t, s, 3)...)
	clock.ms.Store(Epoch + 20_000) // caught up: back to the wall clock, counter 0
	id := reserve(t, s, 1)[0]
	if ts, _, c := SnowflakeParts(id); ts.UnixMilli() != Epoch+20_000 || c != 0 {
		t.Fatalf("after catching up: %v %d", ts, c)
	}
	all = append(all, id)
	if !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != len(all) {
		t.Fatal("ids not strictly ascending across the clock's moves")
	}
}

func TestSnowflakeAdvance(t *testing.T) {
	s, _ := newFakeSnowflake(t, 1, Epoch+100)
	other, _ := newFakeSnowflake(t, 1, Epoch+500) // a previous run, ahead
	last := reserve(t, other, 7)[6]
	s.Advance(last)
	id := reserve(t, s, 1)[0]
	if id <= last {
		t.Fatalf("after Advance(%x): %x", last, id)
	}
	s.Advance(1) // never goes back
	if id2 := reserve(t, s, 1)[0]; id2 != id+1 {
		t.Fatalf("%x after %x", id2, id)
	}
}

// 8 goroutines x 100k ids on the real clock: unique, and ascending as each
// goroutine sees them.
func TestSnowflakeConcurrent(t *testing.T) {
	s, err := NewSnowflake(77)
	if err != nil {
		t.Fatal(err)
	}
	const workers, per = 8, 100_000
	out := make([][]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]uint64, 0, per)
			ctx := context.Background()
			for len(ids) < per {
				n := 1 + len(ids)%5 // batches of 1..5
				n = min(n, per-len(ids))
				var err error
				if ids, err = s.Reserve(ctx, n, ids); err != nil {
					t.Error(err)
					return
				}
			}
			out[w] = ids
		}()
	}
	wg.Wait()
	var all []uint64
	for w, ids := range out {
		if !slices.IsSorted(ids) {
			t.Fatalf("goroutine %d: ids not ascending", w)
		}
		all = append(all, ids...)
	}
	slices.Sort(all)
	if n := len(slices.Compact(all)); n != workers*per {
		t.Fatalf("%d distinct ids of %d", n, workers*per)
	}
	for _, id := range all {
		if _, w, _ := SnowflakeParts(id); w != 77 || id>>63 != 0 {
			t.Fatalf("id %x", id)
		}
	}
}

func TestLeasedSnowflake(t *testing.T) {
	w, ok := 3, false
	l := &leasedSnowflake{worker: func() (int, bool) { return w, ok }, snows: map[int]*Snowflake{}}
	if _, err := l.Reserve(context.Background(), 1, nil); err != ErrNoWorker {
		t.Fatalf("without a worker id: %v, want ErrNoWorker", err)
	}
	ok = true
	ids, err := l.Reserve(context.Background(), 2, nil)
	if err != nil || len(ids) != 2 || int(ids[0]>>CounterBits&MaxWorkerID) != 3 {
		t.Fatalf("ids %v (%v): want two ids of worker 3", ids, err)
	}
	w = 7
	ids, _ = l.Reserve(context.Background(), 1, nil)
	if int(ids[0]>>CounterBits&MaxWorkerID) != 7 {
		t.Errorf("after the lease moved to worker 7: id %d is of worker %d", ids[0], ids[0]>>CounterBits&MaxWorkerID)
	}
}
