// Package stats keeps what the proxy observes of the statements it
// answers: counts and latency histograms by statement kind, statistics per
// statement fingerprint, the slow-query ring, traffic per backend server.
// The admin console shows them and /metrics exports them.
//
// Record runs once per statement on the hot path: it uses atomics and a
// read-locked map lookup, and allocates only when it meets a fingerprint for
// the first time or a statement is slow.
package stats

import (
	"log/slog"
	"math"
	"math/bits"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardgate/shardgate/parser"
)

// Limits of what is kept.
const (
	// MaxFingerprints bounds the fingerprint table; statements of new
	// shapes past it are counted under one "(other)" entry.
	MaxFingerprints = 1024
	// MaxFingerprintText bounds a fingerprint's stored text.
	MaxFingerprintText = 1024
	// SlowRing is how many slow statements are kept.
	SlowRing = 256
	// maxSlowText bounds a slow statement's stored text.
	maxSlowText = 4096
)

// numKinds covers parser.Kind's values.
const numKinds = int(parser.KindEmpty) + 1

// LatencyBuckets are the upper bounds (seconds) of the Prometheus latency
// histogram by statement kind.
var LatencyBuckets = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

var bucketNanos = func() (b [len(LatencyBuckets)]int64) {
	for i, s := range LatencyBuckets {
		b[i] = int64(s * 1e9)
	}
	return b
}()

// KindStats counts the statements of one kind.
type KindStats struct {
	Count, Errors atomic.Uint64
	Nanos         atomic.Uint64
	Buckets       [len(LatencyBuckets)]atomic.Uint64 // not cumulative; +Inf is Count
}

// Sample is one answered statement. SQL may point into a reused buffer:
// Record copies what it keeps.
type Sample struct {
	SQL     string
	Hash    uint64 // parser.FingerprintHash(SQL) when the caller knows it; 0: computed here
	Kind    parser.Kind
	Dur     time.Duration
	ErrCode uint16 // 0: no error
	Rows    uint64 // returned or affected
	Shards  int    // backend connections the statement used
	Session uint32
	User    string
	Schema  string
}

// Stats is everything observed since start (or the last Reset).
type Stats struct {
	started time.Time
	log     *slog.Logger
	slowNs  atomic.Int64
	kinds   [numKinds]KindStats
	fps     [fpShards]fpShard
	nfp     atomic.Int64
	other   *Fingerprint
	slow    slowRing
	// Slow counts slow statements; Denied statements the firewall refused.
	Slow, Denied atomic.Uint64
	servers      atomic.Pointer[map[string]*ServerStats]
	srvMu        sync.Mutex
	// now is a clock Tick advances every second (0 until it runs): a
	// fingerprint's last-seen time needs no clock read per statement.
	now atomic.Int64
}

func (st *Stats) clock() int64 {
	if n := st.now.Load(); n != 0 {
		return n
	}
	return time.Now().UnixNano()
}

// New makes an empty Stats logging slow statements to log.
func New(log *slog.Logger, slow time.Duration) *Stats {
	st := &Stats{started: time.Now(), log: log}
	st.SetSlowThreshold(slow)
	for i := range st.fps {
		st.fps[i].m = map[uint64]*Fingerprint{}
	}
	st.other = &Fingerprint{Text: "(other: more than " + itoa(MaxFingerprints) + " fingerprints)"}
	m := map[string]*ServerStats{}
	st.servers.Store(&m)
	return st
}

// Started is when the statistics began.
func (st *Stats) Started() time.Time { return st.started }

// SetSlowThreshold changes the slow-query threshold (a reload does).
func (st *Stats) SetSlowThreshold(d time.Duration) { st.slowNs.Store(int64(d)) }

// SlowThreshold returns the slow-query threshold.
func (st *Stats) SlowThreshold() time.Duration { return time.Duration(st.slowNs.Load()) }

// Kind returns the counters of one statement kind.
func (st *Stats) Kind(k parser.Kind) *KindStats { return &st.kinds[k] }

// Record accounts one statement.
func (st *Stats) Record(x *Sample) {
	ns := int64(x.Dur)
	k := &st.kinds[x.Kind]
	k.Count.Add(1)
	k.Nanos.Add(uint64(ns))
	for i, b := range bucketNanos {
		if ns <= b {
			k.Buckets[i].Add(1)
			break
		}
	}
	if x.ErrCode != 0 {
		k.Errors.Add(1)
	}
	if x.Kind != parser.KindEmpty {
		st.fingerprint(x).record(x, ns, st.clock())
	}
	if ns >= st.slowNs.Load() {
		st.recordSlow(x)
	}
}

// Reset forgets the fingerprint statistics and the slow statements.
func (st *Stats) Reset() {
	for i := range st.fps {
		sh := &st.fps[i]
		sh.mu.Lock()
		sh.m = map[uint64]*Fingerprint{}
		sh.mu.Unlock()
	}
	st.nfp.Store(0)
	st.other.reset()
	st.slow.mu.Lock()
	st.slow.items, st.slow.next = nil, 0
	st.slow.mu.Unlock()
}

// Fingerprint is the statistics of one statement shape.
type Fingerprint struct {
	Hash uint64
	Text string
	Kind parser.Kind
	// first is when it was first seen (unix nanoseconds); last the latest
	// (to the second once Tick runs).
	first, last                                  atomic.Int64
	count, errors, rows, nanos, maxNanos, shards atomic.Uint64
	// hist counts durations by power of two microseconds: bucket i holds
	// [2^i, 2^(i+1)) µs (bucket 0 also below 1 µs).
	hist [40]atomic.Uint64
}

func (f *Fingerprint) reset() {
	f.count.Store(0)
	f.errors.Store(0)
	f.rows.Store(0)
	f.nanos.Store(0)
	f.maxNanos.Store(0)
	f.shards.Store(0)
	for i := range f.hist {
		f.hist[i].Store(0)
	}
}

func (f *Fingerprint) record(x *Sample, ns, now int64) {
	f.count.Add(1)
	if x.ErrCode != 0 {
		f.errors.Add(1)
	}
	if x.Rows != 0 {
		f.rows.Add(x.Rows)
	}
	f.nanos.Add(uint64(ns))
	f.shards.Add(uint64(x.Shards))
	for {
		m := f.maxNanos.Load()
		if uint64(ns) <= m || f.maxNanos.CompareAndSwap(m, uint64(ns)) {
			break
		}
	}
	us := uint64(ns / 1000)
	i := 0
	if us > 0 {
		i = min(bits.Len64(us)-1, len(f.hist)-1)
	}
	f.hist[i].Add(1)
	if f.last.Load() != now {
		f.last.Store(now)
	}
}

// FingerprintRow is a copy of one fingerprint's statistics.
type FingerprintRow struct {
	Text                 string
	Kind                 string
	Count, Errors, Rows  uint64
	Total, Avg, P99, Max time.Duration
	AvgShards            float64
	FirstSeen, LastSeen  time.Time
}

func (f *Fingerprint) row() FingerprintRow {
	r := FingerprintRow{Text: f.Text, Kind: f.Kind.String(), Count: f.count.Load(), Errors: f.errors.Load(), Rows: f.rows.Load(),
		Total: time.Duration(f.nanos.Load()), Max: time.Duration(f.maxNanos.Load())}
	if r.Count > 0 {
		r.Avg = r.Total / time.Duration(r.Count)
		r.AvgShards = float64(f.shards.Load()) / float64(r.Count)
	}
	if t := f.first.Load(); t != 0 {
		r.FirstSeen = time.Unix(0, t)
	}
	if t := f.last.Load(); t != 0 {
		r.LastSeen = time.Unix(0, t)
	}
	// p99: the bucket holding the 99th percentile, interpolated
	// geometrically inside it, never above the maximum seen.
	var total uint64
	var counts [len(f.hist)]uint64
	for i := range f.hist {
		counts[i] = f.hist[i].Load()
		total += counts[i]
	}
	if total > 0 {
		rank := uint64(math.Ceil(0.99 * float64(total)))
		var seen uint64
		for i, c := range counts {
			if seen+c >= rank {
				lo := math.Exp2(float64(i))
				frac := float64(rank-seen) / float64(c)
				us := lo * math.Exp2(frac)
				if i == 0 {
					us = 2 * frac
				}
				r.P99 = min(time.Duration(us*1000), r.Max)
				break
			}
			seen += c
		}
	}
	return r
}

const fpShards = 16

type fpShard struct {
	mu sync.RWMutex
	m  map[uint64]*Fingerprint
}

// fingerprint finds (or makes) the entry of x's statement shape.
func (st *Stats) fingerprint(x *Sample) *Fingerprint {
	h := x.Hash
	if h == 0 {
		h = parser.FingerprintHash(x.SQL)
	}
	sh := &st.fps[h%fpShards]
	sh.mu.RLock()
	f := sh.m[h]
	sh.mu.RUnlock()
	if f != nil {
		return f
	}
	if st.nfp.Load() >= MaxFingerprints {
		return st.other
	}
	text := parser.Fingerprint(x.SQL)
	if len(text) > MaxFingerprintText {
		text = text[:MaxFingerprintText] + "..."
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if f = sh.m[h]; f != nil {
		return f
	}
	if st.nfp.Add(1) > MaxFingerprints {
		st.nfp.Add(-1)
		return st.other
	}
	f = &Fingerprint{Hash: h, Text: text, Kind: x.Kind}
	f.first.Store(time.Now().UnixNano())
	sh.m[h] = f
	return f
}

// Fingerprints returns the statistics of every fingerprint, the largest
// total time first.
func (st *Stats) Fingerprints() []FingerprintRow {
	var out []FingerprintRow
	for i := range st.fps {
		sh := &st.fps[i]
		sh.mu.RLock()
		for _, f := range sh.m {
			out = append(out, f.row())
		}
		sh.mu.RUnlock()
	}
	if st.other.count.Load() > 0 {
		out = append(out, st.other.row())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Text < out[j].Text
	})
	return out
}

// SlowQuery is one statement that ran longer than the threshold.
type SlowQuery struct {
	At       time.Time // when it ended
	Duration time.Duration
	Session  uint32
	User     string
	Schema   string
	SQL      string
	ErrCode  uint16
	Rows     uint64
	Shards   int
}

type slowRing struct {
	mu    sync.Mutex
	items []SlowQuery
	next  int
}

func (st *Stats) recordSlow(x *Sample) {
	st.Slow.Add(1)
	text := x.SQL
	if len(text) > maxSlowText {
		text = text[:maxSlowText] + "..."
	}
	q := SlowQuery{At: time.Now(), Duration: x.Dur, Session: x.Session, User: strings.Clone(x.User), Schema: strings.Clone(x.Schema),
		SQL: strings.Clone(text), ErrCode: x.ErrCode, Rows: x.Rows, Shards: x.Shards}
	r := &st.slow
	r.mu.Lock()
	if len(r.items) < SlowRing {
		r.items = append(r.items, q)
	} else {
		r.items[r.next] = q
	}
	r.next = (r.next + 1) % SlowRing
	r.mu.Unlock()
	if st.log != nil {
		st.log.Warn("slow query", "session", q.Session, "user", q.User, "schema", q.Schema,
			"duration", q.Duration.Round(time.Microsecond), "rows", q.Rows, "shards", q.Shards, "error", q.ErrCode, "sql", q.SQL)
	}
}

// SlowQueries returns the slow statements kept, the latest first.
func (st *Stats) SlowQueries() []SlowQuery {
	r := &st.slow
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.items)
	out := make([]SlowQuery, 0, n)
	for i := 0; i < n; i++ {
		// Not full: next == n; full: next is the oldest.
		out = append(out, r.items[(r.next-1-i+2*n)%n])
	}
	return out
}

// ServerStats counts what one backend server did for clients.
type ServerStats struct {
	// Statements counts backend connections handed to statements (one
	// per statement and server it runs on); Errors the statements among
	// them that ended in an error.
	Statements, Errors atomic.Uint64
	rate               rateWindow
}

// Server returns the counters of the server at addr.
func (st *Stats) Server(addr string) *ServerStats {
	if s := (*st.servers.Load())[addr]; s != nil {
		return s
	}
	st.srvMu.Lock()
	defer st.srvMu.Unlock()
	old := *st.servers.Load()
	if s := old[addr]; s != nil {
		return s
	}
	m := make(map[string]*ServerStats, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	s := &ServerStats{}
	m[addr] = s
	st.servers.Store(&m)
	return s
}

// QPS is the server's statements per second over the last few seconds
// (Tick samples it every second).
func (s *ServerStats) QPS() float64 { return s.rate.perSecond() }

// Tick samples the per-server counters; call it every second.
func (st *Stats) Tick() {
	now := time.Now()
	st.now.Store(now.UnixNano())
	for _, s := range *st.servers.Load() {
		s.rate.sample(now, s.Statements.Load())
	}
}

// Run ticks every second until stop is closed.
func (st *Stats) Run(stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			st.Tick()
		}
	}
}

// rateWindow keeps the last samples of a counter.
type rateWindow struct {
	mu      sync.Mutex
	at      [6]time.Time
	count   [6]uint64
	n, next int
}

func (w *rateWindow) sample(now time.Time, c uint64) {
	w.mu.Lock()
	w.at[w.next], w.count[w.next] = now, c
	w.next = (w.next + 1) % len(w.at)
	w.n = min(w.n+1, len(w.at))
	w.mu.Unlock()
}

func (w *rateWindow) perSecond() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n < 2 {
		return 0
	}
	newest := (w.next - 1 + len(w.at)) % len(w.at)
	oldest := (w.next - w.n + len(w.at)) % len(w.at)
	secs := w.at[newest].Sub(w.at[oldest]).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(w.count[newest]-w.count[oldest]) / secs
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
