package merge

import (
	"slices"
	"strconv"
)

// MemorySort sorts its input in memory, for an ORDER BY the shards cannot
// sort for us (an aggregate merged after GROUP BY, say). With limit >= 0
// only the first limit rows in order are kept (a bounded heap); with
// limit < 0 every row is kept. Either way it holds at most maxRows rows
// (maxRows <= 0: no bound) and fails with error 1235 "shardgate does not
// support sorting more than N merged rows in memory; add LIMIT" when it
// would need more. Rows comparing equal keep their input order. The input
// is read completely on the first Next.
func MemorySort(in Stream, keys []SortKey, limit int64, maxRows int) Stream {
	return &memSort{
		in:      closer{s: in},
		ks:      newKeySet(in.Fields(), in.Binary(), keys),
		nk:      len(keys),
		limit:   limit,
		maxRows: maxRows,
		scratch: make([]Value, len(keys)),
	}
}

type msItem struct {
	row  Row
	vals int // offset of the row's keys in memSort.vals
	seq  int64
}

type memSort struct {
	in      closer
	ks      *keySet
	nk      int
	limit   int64
	maxRows int
	items   []msItem
	vals    []Value
	scratch []Value
	arena   []byte
	loaded  bool
	pos     int
	err     error
}

func (m *memSort) Fields() []Field { return m.in.s.Fields() }
func (m *memSort) Binary() bool    { return m.in.s.Binary() }
func (m *memSort) Close()          { m.in.close() }

func (m *memSort) Next() (Row, error) {
	if m.err != nil {
		return nil, m.err
	}
	if !m.loaded {
		m.loaded = true
		if err := m.load(); err != nil {
			m.err = err
			m.items, m.vals, m.arena = nil, nil, nil
			return nil, err
		}
	}
	if m.pos >= len(m.items) {
		return nil, nil
	}
	r := m.items[m.pos].row
	m.pos++
	return r, nil
}

// cmp orders items by keys, then by arrival.
func (m *memSort) cmp(a, b *msItem) int {
	if c := m.ks.compare(m.vals[a.vals:a.vals+m.nk], m.vals[b.vals:b.vals+m.nk]); c != 0 {
		return c
	}
	return cmpInt(a.seq, b.seq)
}

func (m *memSort) tooMany() error {
	return notSupported("sorting more than " + strconv.Itoa(m.maxRows) + " merged rows in memory; add LIMIT")
}

func (m *memSort) load() error {
	heapMode := m.limit >= 0
	if heapMode && m.limit == 0 {
		m.in.close()
		return nil
	}
	for seq := int64(0); ; seq++ {
		r, err := m.in.s.Next()
		if err != nil {
			return err
		}
		if r == nil {
			break
		}
		if heapMode && int64(len(m.items)) == m.limit {
			// Full: the new row goes in only if it sorts before the worst
			// kept row (it arrived later, so a tie loses).
			if err := m.ks.decode(r, m.scratch); err != nil {
				return err
			}
			top := &m.items[0]
			if m.ks.compare(m.scratch, m.vals[top.vals:top.vals+m.nk]) >= 0 {
				continue
			}
			top.row = append(top.row[:0], r...)
			top.seq = seq
			if err := m.ks.decode(top.row, m.vals[top.vals:top.vals+m.nk]); err != nil {
				return err
			}
			m.down(0)
			continue
		}
		if m.maxRows > 0 && len(m.items) >= m.maxRows {
			return m.tooMany()
		}
		var cp Row
		if heapMode {
			cp = append(Row(nil), r...) // reused when the row is replaced
		} else {
			cp = m.alloc(len(r))
			copy(cp, r)
		}
		off := len(m.vals)
		m.vals = append(m.vals, m.scratch...)
		if err := m.ks.decode(cp, m.vals[off:off+m.nk]); err != nil {
			return err
		}
		m.items = append(m.items, msItem{row: cp, vals: off, seq: seq})
		if heapMode {
			m.up(len(m.items) - 1)
		}
	}
	m.in.close()
	slices.SortFunc(m.items, func(a, b msItem) int { return m.cmp(&a, &b) })
	return nil
}

// alloc carves n bytes out of the arena (64 KiB chunks).
func (m *memSort) alloc(n int) Row {
	const chunk = 64 << 10
	if n > chunk/4 {
		return make(Row, n)
	}
	if cap(m.arena)-len(m.arena) < n {
		m.arena = make([]byte, 0, chunk)
	}
	s := len(m.arena)
	m.arena = m.arena[:s+n]
	return m.arena[s : s+n : s+n]
}

// The heap keeps the worst kept row on top.
func (m *memSort) worse(i, j int) bool { return m.cmp(&m.items[i], &m.items[j]) > 0 }

func (m *memSort) up(j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !m.worse(j, p) {
			return
		}
		m.items[p], m.items[j] = m.items[j], m.items[p]
		j = p
	}
}

func (m *memSort) down(j int) {
	n := len(m.items)
	for {
		l := 2*j + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && m.worse(r, l) {
			c = r
		}
		if !m.worse(c, j) {
			return
		}
		m.items[j], m.items[c] = m.items[c], m.items[j]
		j = c
	}
}
