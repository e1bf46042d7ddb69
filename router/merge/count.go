package merge

// CountRows reads its input to the end and returns one row: the number of
// rows read, in each of fields' columns (integers). Nothing is kept but
// the count.
func CountRows(in Stream, fields []Field) Stream {
	return &countRows{in: closer{s: in}, fields: fields}
}

type countRows struct {
	in     closer
	fields []Field
	done   bool
	err    error
}

func (c *countRows) Fields() []Field { return c.fields }
func (c *countRows) Binary() bool    { return c.in.s.Binary() }

func (c *countRows) Next() (Row, error) {
	if c.err != nil || c.done {
		return nil, c.err
	}
	n := int64(0)
	for {
		r, err := c.in.s.Next()
		if err != nil {
			c.err = err
			return nil, err
		}
		if r == nil {
			break
		}
		n++
	}
	c.done = true
	c.in.close()
	b := NewRowBuilder(c.fields, c.Binary())
	b.Begin()
	for range c.fields {
		if err := b.AppendValue(Int(n)); err != nil {
			c.err = err
			return nil, err
		}
	}
	return b.Row(), nil
}

func (c *countRows) Close() { c.in.close() }
