package merge

import "github.com/shardgate/shardgate/proxy/wire"

// Project keeps the first n columns of each row, dropping the helper
// columns the planner appended (sort keys, weight strings, AVG parts).
// Text rows are cut after column n without a copy; binary rows are
// rebuilt with a shorter NULL bitmap into a reused buffer.
func Project(in Stream, n int) Stream {
	fields := in.Fields()
	if n < 0 {
		n = 0
	}
	if n >= len(fields) {
		return in
	}
	return &project{in: in, n: n, fields: fields, spans: make([]span, n)}
}

type project struct {
	in     Stream
	n      int
	fields []Field
	spans  []span
	buf    []byte
	err    error
}

func (p *project) Fields() []Field { return p.fields[:p.n] }
func (p *project) Binary() bool    { return p.in.Binary() }
func (p *project) Close()          { p.in.Close() }

func (p *project) Next() (Row, error) {
	if p.err != nil {
		return nil, p.err
	}
	r, err := p.in.Next()
	if err != nil || r == nil {
		p.err = err
		return nil, err
	}
	bin := p.in.Binary()
	if !bin {
		end, err := textEnd(r, p.n)
		if err != nil {
			p.err = err
			return nil, err
		}
		return r[:end], nil
	}
	if err := layout(p.fields, true, r, p.spans); err != nil {
		p.err = err
		return nil, err
	}
	oldNB := bitmapLen(len(p.fields))
	newNB := bitmapLen(p.n)
	start := 1 + oldNB
	end := start
	if p.n > 0 {
		end = p.spans[p.n-1].end
	}
	b := append(p.buf[:0], 0)
	b = append(b, r[1:1+newNB]...)
	// Clear the bits of the dropped columns that share the last byte.
	if used := (p.n + 2) & 7; used != 0 {
		b[newNB] &= byte(1)<<used - 1
	}
	b = append(b, r[start:end]...)
	p.buf = b
	return b, nil
}

// textEnd returns where column n-1 of a text row ends.
func textEnd(r []byte, n int) (int, error) {
	pos := 0
	for i := 0; i < n; i++ {
		if pos >= len(r) {
			return 0, malformed("text row")
		}
		if r[pos] == 0xfb {
			pos++
			continue
		}
		if r[pos] < 0xfb {
			pos += 1 + int(r[pos])
			continue
		}
		_, _, m := wire.ReadLenEncBytes(r[pos:])
		if m == 0 {
			return 0, malformed("text row")
		}
		pos += m
	}
	if pos > len(r) {
		return 0, malformed("text row")
	}
	return pos, nil
}
