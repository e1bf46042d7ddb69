package merge

// Compute replaces some columns of each row with values computed from the
// row (expressions over merged aggregates: MAX(a) - MIN(a)). The other
// columns pass through as they are.
func Compute(in Stream, cols []int, eval func(row Row, col int) (Value, error)) Stream {
	fields := in.Fields()
	c := &compute{in: in, cols: map[int]bool{}, eval: eval, rb: NewRowBuilder(fields, in.Binary()),
		spans: make([]span, len(fields))}
	for _, i := range cols {
		c.cols[i] = true
	}
	return c
}

type compute struct {
	in    Stream
	cols  map[int]bool
	eval  func(Row, int) (Value, error)
	rb    *RowBuilder
	spans []span
	err   error
}

func (c *compute) Fields() []Field { return c.in.Fields() }
func (c *compute) Binary() bool    { return c.in.Binary() }
func (c *compute) Close()          { c.in.Close() }

func (c *compute) Next() (Row, error) {
	if c.err != nil {
		return nil, c.err
	}
	row, err := c.in.Next()
	if err != nil || row == nil {
		c.err = err
		return nil, err
	}
	if err := layout(c.in.Fields(), c.in.Binary(), row, c.spans); err != nil {
		c.err = err
		return nil, err
	}
	c.rb.Begin()
	for i, sp := range c.spans {
		if !c.cols[i] {
			if sp.null {
				c.rb.AppendNull()
			} else {
				c.rb.AppendRaw(row[sp.start:sp.end])
			}
			continue
		}
		v, err := c.eval(row, i)
		if err == nil {
			err = c.rb.AppendValue(v)
		}
		if err != nil {
			c.err = err
			return nil, err
		}
	}
	return c.rb.Row(), nil
}
