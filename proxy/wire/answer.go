package wire

// What the statistics of a command need to know of its answer, learned
// while it is written instead of parsing it again: how many packets, the
// first byte of the first one (a result set's column count) and the start
// of the last one (OK with its affected rows, or ERR with its code).

type answer struct {
	start uint64   // Packets when the answer began
	first byte     // first byte of the answer's first packet
	last  [10]byte // start of the last packet written
	lastN uint8
}

// note records a logical packet about to be written.
func (c *Conn) note(p []byte) {
	if c.Packets == c.ans.start && len(p) > 0 {
		c.ans.first = p[0]
	}
	c.Packets++
	c.ans.lastN = uint8(copy(c.ans.last[:], p))
}

// StartAnswer begins a new answer's description.
func (c *Conn) StartAnswer() {
	c.ans.start, c.ans.first, c.ans.lastN = c.Packets, 0, 0
}

// Answer describes what was written since StartAnswer: errCode is the code
// of a final ERR packet (0 if the answer did not end in one); rows counts
// the rows of a result set (one with fewer than 251 columns, the last of
// several) or the affected rows of a final OK. eofAfterColumns says whether
// the client gets an EOF packet after the column definitions.
func (c *Conn) Answer(eofAfterColumns bool) (errCode uint16, rows uint64) {
	n := c.Packets - c.ans.start
	last := c.ans.last[:c.ans.lastN]
	if n == 0 || len(last) == 0 {
		return 0, 0
	}
	switch {
	case last[0] == ErrHeader && len(last) >= 3:
		return uint16(last[1]) | uint16(last[2])<<8, 0
	case n == 1 && last[0] == OKHeader:
		v, _, k := ReadLenEnc(last[1:])
		if k == 0 {
			return 0, 0
		}
		return 0, v
	}
	cols := uint64(c.ans.first)
	if cols == 0 || cols >= 0xfb {
		return 0, 0
	}
	overhead := 1 + cols + 1 // column count, definitions, final EOF or OK
	if eofAfterColumns {
		overhead++
	}
	if n < overhead {
		return 0, 0
	}
	return 0, n - overhead
}
