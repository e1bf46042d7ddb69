package sequence

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Snowflake id layout, from the most significant bit:
//
//	0 | 41 bits: milliseconds since Epoch | 10 bits: worker id | 12 bits: counter
//
// The top bit is always 0, so every id fits a signed BIGINT. 41 bits of
// milliseconds last about 69 years: until 2093.
const (
	// Epoch is 2024-01-01T00:00:00Z in Unix milliseconds.
	Epoch int64 = 1704067200000

	WorkerBits  = 10
	CounterBits = 12
	TimeBits    = 41

	MaxWorkerID = 1<<WorkerBits - 1 // 1023

	counterMask = 1<<CounterBits - 1
	maxTick     = 1<<TimeBits - 1
)

// Snowflake generates 64-bit ids: a millisecond timestamp, a worker id and
// a per-millisecond counter. It is lock-free (one atomic compare-and-swap per
// reservation, however many ids) and never makes a syscall: the clock is read
// through the vDSO.
//
// Within one process the ids are unique and ascending, whatever the wall
// clock does. When the clock steps back, the generator neither waits nor
// fails: it continues from the last timestamp it used, counting on in its
// counter, and moves its timestamp one millisecond ahead each time a
// millisecond's 4096 ids are used up (it does the same when more than 4096
// ids are asked for within one real millisecond). Its timestamp thus runs
// ahead of the wall clock until the clock catches up.
//
// Across restarts, uniqueness relies on the clock: a process started again
// with the same worker id before its clock has passed the last timestamp of
// the previous run (a clock stepped back by more than the downtime) may repeat
// ids; Advance with the previous run's last id prevents that when it is known.
// Two processes must never share a worker id.
type Snowflake struct {
	worker uint64
	// state is the last (tick<<CounterBits | counter) handed out: the
	// id without its worker bits. Counter overflow carries into the tick.
	state atomic.Uint64
	now   func() int64 // Unix milliseconds
}

// NewSnowflake returns a generator for a worker id in 0..1023. The worker id
// must be unique among the processes that write to the same tables (taken
// from the config now; leased from etcd in cluster mode).
func NewSnowflake(workerID int) (*Snowflake, error) {
	return newSnowflake(workerID, func() int64 { return time.Now().UnixMilli() })
}

func newSnowflake(workerID int, now func() int64) (*Snowflake, error) {
	if workerID < 0 || workerID > MaxWorkerID {
		return nil, fmt.Errorf("snowflake worker id %d out of range 0..%d", workerID, MaxWorkerID)
	}
	return &Snowflake{worker: uint64(workerID), now: now}, nil
}

// WorkerID returns the generator's worker id.
func (s *Snowflake) WorkerID() int { return int(s.worker) }

// ErrClock reports a wall clock outside the snowflake's range.
var ErrClock = errors.New("snowflake: the system clock is outside 2024-01-01 .. 2093")

// Reserve returns n new ids, ascending, appended to dst. The ids of one call
// are consecutive while they share a millisecond; across a millisecond they
// jump over the other workers' id space.
func (s *Snowflake) Reserve(_ context.Context, n int, dst []uint64) ([]uint64, error) {
	if n <= 0 {
		return dst, badCount(n)
	}
	ms := s.now() - Epoch
	if ms < 0 || ms > maxTick {
		return dst, ErrClock
	}
	now := uint64(ms) << CounterBits
	var first, last uint64
	for {
		old := s.state.Load()
		first = old + 1
		if now > old { // a millisecond later than the last id: counter from 0
			first = now
		}
		last = first + uint64(n) - 1
		if last>>CounterBits > maxTick || last < first {
			return dst, ErrClock
		}
		if s.state.CompareAndSwap(old, last) {
			break
		}
	}
	w := s.worker << CounterBits
	for v := first; v <= last; v++ {
		dst = append(dst, (v>>CounterBits)<<(WorkerBits+CounterBits)|w|v&counterMask)
	}
	return dst, nil
}

// Advance makes every later id of this generator larger than id (for
// example the last id handed out by an earlier run of the same worker).
// Only the timestamp and counter bits of id count.
func (s *Snowflake) Advance(id uint64) {
	v := (id>>(WorkerBits+CounterBits))<<CounterBits | id&counterMask
	for {
		old := s.state.Load()
		if old >= v || s.state.CompareAndSwap(old, v) {
			return
		}
	}
}

// SnowflakeParts splits an id into its timestamp, worker id and counter.
func SnowflakeParts(id uint64) (t time.Time, worker, counter int) {
	ms := int64(id>>(WorkerBits+CounterBits)) + Epoch
	return time.UnixMilli(ms).UTC(), int(id >> CounterBits & MaxWorkerID), int(id & counterMask)
}

func badCount(n int) error {
	if n == 0 {
		return nil
	}
	return fmt.Errorf("sequence: cannot reserve %d ids", n)
}

// leasedWorker marks a snowflake sequence whose worker id is leased from
// the cluster.
const leasedWorker = -1

// ErrNoWorker: cluster mode without a worker id (etcd unreachable long
// enough for the lease to be in doubt).
var ErrNoWorker = errors.New("snowflake: this node holds no worker id (the cluster store is unreachable); ids cannot be generated until it is back")

// leasedSnowflake generates with the worker id the node holds now: the
// generator of each id it ever held is kept, so ids stay ascending per
// worker id within the process.
type leasedSnowflake struct {
	worker func() (int, bool)
	mu     sync.Mutex
	snows  map[int]*Snowflake
}

func (l *leasedSnowflake) Reserve(ctx context.Context, n int, dst []uint64) ([]uint64, error) {
	w, ok := l.worker()
	if !ok {
		return dst, ErrNoWorker
	}
	l.mu.Lock()
	sf := l.snows[w]
	if sf == nil {
		var err error
		if sf, err = NewSnowflake(w); err != nil {
			l.mu.Unlock()
			return dst, err
		}
		l.snows[w] = sf
	}
	l.mu.Unlock()
	return sf.Reserve(ctx, n, dst)
}
