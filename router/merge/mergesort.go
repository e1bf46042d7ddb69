package merge

// MergeSort merges inputs that each arrive sorted by keys into one sorted
// stream (ORDER BY across shards). Rows that compare equal come out in
// input order, so the result is deterministic. It holds one row per input
// and copies none: the row it returns is the head row of one input, which
// stays valid until that input's Next is called, and MergeSort calls it
// only on its own next Next. Fields and protocol are the first input's.
func MergeSort(inputs []Stream, keys []SortKey) Stream {
	m := &mergeSort{inputs: make([]closer, len(inputs)), last: -1}
	for i, in := range inputs {
		m.inputs[i].s = in
	}
	if len(inputs) > 0 {
		m.ks = newKeySet(inputs[0].Fields(), inputs[0].Binary(), keys)
		m.vals = make([][]Value, len(inputs))
		flat := make([]Value, len(inputs)*len(keys))
		for i := range m.vals {
			m.vals[i] = flat[i*len(keys) : (i+1)*len(keys) : (i+1)*len(keys)]
		}
		m.heads = make([]Row, len(inputs))
		m.heap = make([]int, 0, len(inputs))
	}
	return m
}

type mergeSort struct {
	inputs  []closer
	ks      *keySet
	heads   []Row
	vals    [][]Value // decoded keys of each input's head row
	heap    []int     // inputs with a head row; heap[0] is the least
	last    int       // input whose head row was returned last, -1 before
	started bool
	err     error
}

func (m *mergeSort) Fields() []Field {
	if len(m.inputs) == 0 {
		return nil
	}
	return m.inputs[0].s.Fields()
}

func (m *mergeSort) Binary() bool {
	return len(m.inputs) > 0 && m.inputs[0].s.Binary()
}

// less orders inputs by their head rows, ties by input index.
func (m *mergeSort) less(i, j int) bool {
	if c := m.ks.compare(m.vals[i], m.vals[j]); c != 0 {
		return c < 0
	}
	return i < j
}

// advance reads the next row of input i; false at its end.
func (m *mergeSort) advance(i int) (bool, error) {
	r, err := m.inputs[i].s.Next()
	if err != nil || r == nil {
		m.heads[i] = nil
		return false, err
	}
	if err := m.ks.decode(r, m.vals[i]); err != nil {
		return false, err
	}
	m.heads[i] = r
	return true, nil
}

func (m *mergeSort) Next() (Row, error) {
	if m.err != nil {
		return nil, m.err
	}
	if !m.started {
		m.started = true
		for i := range m.inputs {
			ok, err := m.advance(i)
			if err != nil {
				m.err = err
				return nil, err
			}
			if ok {
				m.heap = append(m.heap, i)
				m.up(len(m.heap) - 1)
			}
		}
	} else if m.last >= 0 {
		// The row returned last is the heap's top: replace it with that
		// input's next row, or drop the input.
		ok, err := m.advance(m.last)
		if err != nil {
			m.err = err
			return nil, err
		}
		if !ok {
			n := len(m.heap) - 1
			m.heap[0] = m.heap[n]
			m.heap = m.heap[:n]
		}
		m.down(0)
	}
	if len(m.heap) == 0 {
		m.last = -1
		return nil, nil
	}
	m.last = m.heap[0]
	return m.heads[m.last], nil
}

func (m *mergeSort) up(j int) {
	h := m.heap
	for j > 0 {
		p := (j - 1) / 2
		if !m.less(h[j], h[p]) {
			break
		}
		h[p], h[j] = h[j], h[p]
		j = p
	}
}

func (m *mergeSort) down(j int) {
	h := m.heap
	n := len(h)
	for {
		l := 2*j + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && m.less(h[r], h[l]) {
			c = r
		}
		if !m.less(h[c], h[j]) {
			return
		}
		h[j], h[c] = h[c], h[j]
		j = c
	}
}

func (m *mergeSort) Close() {
	for i := range m.inputs {
		m.inputs[i].close()
	}
}
