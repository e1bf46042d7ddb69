package merge

// Zip joins single-row results column by column: column i of the output
// row comes from input src[i]. It serves aggregates that need several
// passes over the shards (COUNT(DISTINCT a), COUNT(DISTINCT b)): each pass
// yields one row with every column, of which only its own are right.
func Zip(inputs []Stream, src []int) Stream {
	z := &zip{in: inputs, src: src, spans: make([][]span, len(inputs))}
	fields := inputs[0].Fields()
	z.rb = NewRowBuilder(fields, inputs[0].Binary())
	for i, s := range inputs {
		z.spans[i] = make([]span, len(s.Fields()))
	}
	return z
}

type zip struct {
	in    []Stream
	src   []int
	rb    *RowBuilder
	spans [][]span
	done  bool
	rows  [][]byte
}

func (z *zip) Fields() []Field { return z.in[0].Fields() }
func (z *zip) Binary() bool    { return z.in[0].Binary() }

func (z *zip) Close() {
	for _, s := range z.in {
		s.Close()
	}
}

func (z *zip) Next() (Row, error) {
	if z.done {
		return nil, nil
	}
	z.done = true
	z.rows = z.rows[:0]
	for i, s := range z.in {
		row, err := s.Next()
		if err != nil {
			return nil, err
		}
		if row == nil {
			return nil, nil
		}
		// Rows are only valid until the input's next Next: copy.
		row = append([]byte(nil), row...)
		z.rows = append(z.rows, row)
		if err := layout(s.Fields(), s.Binary(), row, z.spans[i]); err != nil {
			return nil, err
		}
	}
	z.rb.Begin()
	for col := range z.Fields() {
		k := 0
		if col < len(z.src) {
			k = z.src[col]
		}
		sp := z.spans[k][col]
		if sp.null {
			z.rb.AppendNull()
		} else {
			z.rb.AppendRaw(z.rows[k][sp.start:sp.end])
		}
	}
	return z.rb.Row(), nil
}
