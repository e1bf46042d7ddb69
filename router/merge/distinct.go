package merge

// Distinct drops each row whose keys all compare equal to the previous
// row's (SELECT DISTINCT after a merge sorted on every visible column).
// It keeps a copy of the previous row's key values only.
func Distinct(in Stream, keys []SortKey) Stream {
	n := len(keys)
	return &distinct{
		in:   in,
		ks:   newKeySet(in.Fields(), in.Binary(), keys),
		cur:  make([]Value, n),
		prev: make([]Value, n),
	}
}

type distinct struct {
	in      Stream
	ks      *keySet
	cur     []Value
	prev    []Value
	prevBuf []byte
	has     bool
	err     error
}

func (d *distinct) Fields() []Field { return d.in.Fields() }
func (d *distinct) Binary() bool    { return d.in.Binary() }
func (d *distinct) Close()          { d.in.Close() }

func (d *distinct) Next() (Row, error) {
	if d.err != nil {
		return nil, d.err
	}
	for {
		r, err := d.in.Next()
		if err == nil && r != nil {
			err = d.ks.decode(r, d.cur)
		}
		if err != nil {
			d.err = err
			return nil, err
		}
		if r == nil {
			return nil, nil
		}
		if d.has && d.ks.compare(d.prev, d.cur) == 0 {
			continue
		}
		d.has = true
		d.prevBuf = copyValues(d.prev, d.cur, d.prevBuf)
		return r, nil
	}
}
