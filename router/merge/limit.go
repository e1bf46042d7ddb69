package merge

// Limit skips offset rows, returns at most count rows (count < 0: all the
// rest) and then closes its input. It streams: skipped rows are read and
// dropped one at a time. Each shard must have been asked for offset+count
// rows (LIMIT offset+count, no offset) and the inputs merged in order.
func Limit(in Stream, offset, count int64) Stream {
	return &limit{in: closer{s: in}, offset: offset, count: count}
}

type limit struct {
	in       closer
	offset   int64
	count    int64
	returned int64
	done     bool
	err      error
}

func (l *limit) Fields() []Field { return l.in.s.Fields() }
func (l *limit) Binary() bool    { return l.in.s.Binary() }

func (l *limit) Next() (Row, error) {
	if l.err != nil {
		return nil, l.err
	}
	if l.done {
		return nil, nil
	}
	if l.count >= 0 && l.returned >= l.count {
		// The last row returned is no longer in use: let the input go.
		l.finish()
		return nil, nil
	}
	for l.offset > 0 {
		r, err := l.in.s.Next()
		if err != nil {
			l.err = err
			return nil, err
		}
		if r == nil {
			l.finish()
			return nil, nil
		}
		l.offset--
	}
	r, err := l.in.s.Next()
	if err != nil {
		l.err = err
		return nil, err
	}
	if r == nil {
		l.finish()
		return nil, nil
	}
	l.returned++
	return r, nil
}

func (l *limit) finish() {
	l.done = true
	l.in.close()
}

func (l *limit) Close() { l.in.close() }
