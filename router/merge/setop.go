package merge

// SetOp answers INTERSECT and EXCEPT over one merged stream of both
// parts' rows, sorted on every column (keys) and then on the part each row
// came from, the right part's first (part holds 1 there, 0 on the left).
// Equal rows form a run: the right part's rows of a run are counted, and
// then the left part's rows pass as the operation says. MariaDB compares
// set operations' rows as DISTINCT does (collations, NULLs equal), which
// the keys do; the rows let through are the left part's, as the server's.
// Nothing is buffered: a copy of the current run's key values only.
func SetOp(in Stream, keys []SortKey, part int, except, all bool) Stream {
	n := len(keys)
	withPart := append(append([]SortKey(nil), keys...), SortKey{Col: part, Weight: -1})
	ks := newKeySet(in.Fields(), in.Binary(), withPart) // decodes the part too
	rows := *ks
	rows.keys = rows.keys[:n] // compares the rows' keys only
	return &setOp{
		in: in, ks: ks, rows: &rows, except: except, all: all,
		cur: make([]Value, n+1), run: make([]Value, n+1),
	}
}

type setOp struct {
	in          Stream
	ks, rows    *keySet
	except, all bool
	cur, run    []Value // this row's keys, the run's
	runBuf      []byte
	has         bool
	right, left int // the run's rows of each part so far
	err         error
}

func (s *setOp) Fields() []Field { return s.in.Fields() }
func (s *setOp) Binary() bool    { return s.in.Binary() }
func (s *setOp) Close()          { s.in.Close() }

func (s *setOp) Next() (Row, error) {
	if s.err != nil {
		return nil, s.err
	}
	for {
		r, err := s.in.Next()
		if err == nil && r != nil {
			err = s.ks.decode(r, s.cur)
		}
		if err != nil {
			s.err = err
			return nil, err
		}
		if r == nil {
			return nil, nil
		}
		if !s.has || s.rows.compare(s.run, s.cur) != 0 {
			s.has, s.right, s.left = true, 0, 0
			s.runBuf = copyValues(s.run, s.cur, s.runBuf)
		}
		if s.cur[len(s.cur)-1].I != 0 { // the right part's
			s.right++
			continue
		}
		s.left++
		if s.keeps() {
			return r, nil
		}
	}
}

// keeps says whether the run's left row just counted is let through.
func (s *setOp) keeps() bool {
	switch {
	case s.except && s.all: // as many as the left has beyond the right's
		return s.left > s.right
	case s.except:
		return s.left == 1 && s.right == 0
	case s.all: // as many as both have
		return s.left <= s.right
	default:
		return s.left == 1 && s.right > 0
	}
}
