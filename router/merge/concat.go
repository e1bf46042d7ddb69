package merge

// Concat returns the rows of inputs one after the other (UNION ALL, a
// scatter whose order does not matter). Fields and protocol are the first
// input's.
func Concat(inputs ...Stream) Stream {
	c := &concat{inputs: make([]closer, len(inputs))}
	for i, in := range inputs {
		c.inputs[i].s = in
	}
	return c
}

type concat struct {
	inputs []closer
	cur    int
	err    error
}

func (c *concat) Fields() []Field {
	if len(c.inputs) == 0 {
		return nil
	}
	return c.inputs[0].s.Fields()
}

func (c *concat) Binary() bool {
	return len(c.inputs) > 0 && c.inputs[0].s.Binary()
}

func (c *concat) Next() (Row, error) {
	if c.err != nil {
		return nil, c.err
	}
	for c.cur < len(c.inputs) {
		in := &c.inputs[c.cur]
		if !in.closed {
			r, err := in.s.Next()
			if err != nil {
				c.err = err
				return nil, err
			}
			if r != nil {
				return r, nil
			}
		}
		c.cur++
	}
	return nil, nil
}

func (c *concat) Close() {
	for i := range c.inputs {
		c.inputs[i].close()
	}
}
