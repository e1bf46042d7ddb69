package sequence

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Store keeps the counters of segment sequences durably (a table on a data
// node; a fake in tests).
type Store interface {
	// Alloc reserves the block [first, first+size) of the named sequence and
	// returns first. The reservation must be durable before Alloc returns
	// (so that no later Alloc, by this process or another, by this instance
	// or one started after a crash, returns an overlapping block) and first
	// must be at least atLeast. A sequence that does not exist yet is created
	// starting above floor(ctx), the largest id already in use.
	Alloc(ctx context.Context, name string, size, atLeast uint64, floor FloorFunc) (first uint64, err error)
}

// FloorFunc returns the largest id already in use (0 when none).
type FloorFunc func(ctx context.Context) (uint64, error)

// SegmentOptions tune a segment generator. The zero value is usable.
type SegmentOptions struct {
	// Prefetch is the fraction of a block used when the next block is
	// fetched in the background; default 0.5. 0 < Prefetch <= 1.
	Prefetch float64
	// Timeout bounds one block allocation (a primary that is failing over
	// is waited for within it); default 30s.
	Timeout time.Duration
	// Retry is how long after a failed background prefetch the next one
	// may start (an allocation the caller waits for is always tried);
	// default 1s.
	Retry time.Duration
	// Context ends background allocations (Sequences.Close cancels it);
	// default context.Background().
	Context context.Context
	Log     *slog.Logger
}

// Segment hands out ids from blocks reserved in a Store, the way Meituan's
// Leaf does: a block of ids is reserved durably with one statement, ids
// are then handed out from memory, and the next block is fetched in the
// background once the current one is partly used (double buffer), so
// callers do not wait for the store while ids come in at a steady rate.
//
// Ids are unique across processes and restarts: a crash (kill -9) loses
// the unused rest of the current block and of a prefetched block, never
// hands out an id twice. Ids are ascending within one process; they are
// consecutive within a block. A Reserve of several ids is ascending; its ids
// are consecutive unless they span two blocks (the rest of one block and
// the start of the next, which is not adjacent when another process or
// another instance allocated in between) or other callers took ids from
// the same block meanwhile.
//
// An id from the current block costs a mutex and no allocation (given room
// in dst).
type Segment struct {
	name  string
	store Store
	block uint64
	floor FloorFunc
	opts  SegmentOptions
	// prefetchAt: the next block is fetched when this many ids or fewer are
	// left in the current one.
	prefetchAt uint64

	mu       sync.Mutex
	cur, end uint64 // current block: ids [cur, end)
	nlo, nhi uint64 // prefetched block [nlo, nhi); empty when nlo == nhi
	high     uint64 // end of the highest block received; the next starts at or above
	loading  *load  // the allocation running, nil when none
	retryAt  time.Time
}

// load is one block allocation; done is closed when it ends.
type load struct {
	done chan struct{}
	err  error
}

// NewSegment returns a generator for the named sequence reserving blocks
// of block ids from store. floor is called only when the store creates the
// sequence.
func NewSegment(name string, store Store, block int, floor FloorFunc, opts SegmentOptions) (*Segment, error) {
	if block < 1 {
		return nil, fmt.Errorf("sequence %s: block size %d must be at least 1", name, block)
	}
	return newSegment(name, store, uint64(block), floor, opts), nil
}

func newSegment(name string, store Store, b uint64, floor FloorFunc, opts SegmentOptions) *Segment {
	if opts.Prefetch <= 0 || opts.Prefetch > 1 {
		opts.Prefetch = 0.5
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if floor == nil {
		floor = func(context.Context) (uint64, error) { return 0, nil }
	}
	return &Segment{
		name: name, store: store, block: b, floor: floor, opts: opts,
		prefetchAt: b - uint64(math.Round(float64(b)*opts.Prefetch)),
	}
}

// Name returns the sequence's name.
func (g *Segment) Name() string { return g.name }

// Reserve returns n new ids, ascending, appended to dst (see Segment for
// when they are consecutive). It waits for a block allocation only when
// the current and the prefetched blocks are used up; a canceled ctx stops
// the wait, not the allocation. On error dst is returned as it came.
func (g *Segment) Reserve(ctx context.Context, n int, dst []uint64) ([]uint64, error) {
	if n <= 0 {
		return dst, badCount(n)
	}
	base := len(dst)
	need := uint64(n)
	g.mu.Lock()
	for {
		if g.cur < g.end {
			k := min(need, g.end-g.cur)
			for v := g.cur; v < g.cur+k; v++ {
				dst = append(dst, v)
			}
			g.cur += k
			need -= k
			if need == 0 {
				if g.end-g.cur <= g.prefetchAt && g.nlo == g.nhi && g.loading == nil &&
					(g.retryAt.IsZero() || time.Now().After(g.retryAt)) {
					g.startLoad(g.block)
				}
				g.mu.Unlock()
				return dst, nil
			}
		}
		if g.nlo < g.nhi {
			g.cur, g.end = g.nlo, g.nhi
			g.nlo, g.nhi = 0, 0
			continue
		}
		l := g.loading
		if l == nil {
			// A reservation larger than a block gets it in one allocation.
			l = g.startLoad(max(g.block, need))
		}
		g.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return dst[:base], fmt.Errorf("sequence %s: waiting for a block of ids: %w", g.name, ctx.Err())
		}
		if l.err != nil {
			return dst[:base], l.err
		}
		g.mu.Lock()
	}
}

// startLoad starts allocating a block of size ids; g.mu is held.
func (g *Segment) startLoad(size uint64) *load {
	l := &load{done: make(chan struct{})}
	g.loading = l
	go g.run(l, size, g.high)
	return l
}

func (g *Segment) run(l *load, size, atLeast uint64) {
	ctx, cancel := context.WithTimeout(g.opts.Context, g.opts.Timeout)
	start := time.Now()
	first, err := g.store.Alloc(ctx, g.name, size, atLeast, g.floor)
	cancel()
	if err == nil {
		switch {
		case first < atLeast:
			err = fmt.Errorf("store returned block %d.. below %d: the sequence went backwards", first, atLeast)
		case first == 0 || first+size < first || first+size-1 > math.MaxInt64:
			err = fmt.Errorf("store returned block %d..+%d: out of the BIGINT range", first, size)
		}
	}
	g.mu.Lock()
	g.loading = nil
	if err != nil {
		l.err = fmt.Errorf("sequence %s: cannot reserve a block of %d ids: %w", g.name, size, err)
		g.retryAt = time.Now().Add(g.opts.Retry)
	} else {
		g.nlo, g.nhi = first, first+size
		g.high = first + size
		g.retryAt = time.Time{}
	}
	g.mu.Unlock()
	close(l.done)
	if err != nil && g.opts.Context.Err() == nil {
		g.opts.Log.Warn("sequence block allocation failed", "sequence", g.name, "size", size, "err", err)
	} else if err == nil {
		g.opts.Log.Debug("sequence block allocated", "sequence", g.name, "first", first, "size", size, "took", time.Since(start))
	}
}

// Left reports how many ids are in memory: left in the current block and
// in the prefetched one.
func (g *Segment) Left() (current, prefetched uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.end - g.cur, g.nhi - g.nlo
}
