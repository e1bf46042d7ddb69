package merge

// Filter keeps the rows for which pred holds (HAVING applied after a
// merge). pred gets rows in the input's protocol; it must not keep them.
func Filter(in Stream, pred func(Row) (bool, error)) Stream {
	return &filter{in: in, pred: pred}
}

type filter struct {
	in   Stream
	pred func(Row) (bool, error)
	err  error
}

func (f *filter) Fields() []Field { return f.in.Fields() }
func (f *filter) Binary() bool    { return f.in.Binary() }
func (f *filter) Close()          { f.in.Close() }

func (f *filter) Next() (Row, error) {
	if f.err != nil {
		return nil, f.err
	}
	for {
		r, err := f.in.Next()
		if err != nil {
			f.err = err
			return nil, err
		}
		if r == nil {
			return nil, nil
		}
		ok, err := f.pred(r)
		if err != nil {
			f.err = err
			return nil, err
		}
		if ok {
			return r, nil
		}
	}
}
