// Package loaddata reads the text of LOAD DATA INFILE as MariaDB's server
// reads it (sql_load.cc, READ_INFO), far enough to cut it into rows and
// find one field of each: the proxy sends each row whole to the shard
// its sharding column names, where the server reads it again.
package loaddata

import (
	"bytes"
	"errors"
)

// Charsets are the character sets whose text the Reader cuts as the
// server does: an ASCII terminator is never part of another character.
var Charsets = map[string]bool{"utf8mb4": true, "utf8mb3": true, "utf8": true, "latin1": true, "ascii": true, "binary": true}

// Format is how the text is read: the FIELDS and LINES clauses.
type Format struct {
	FieldTerm, LineTerm, LineStart string
	// Enclosed and Escape are a byte, or -1 for none.
	Enclosed, Escape int
}

// Row is one row of the text.
type Row struct {
	// Line is the row's text from its start (its LINES STARTING BY
	// prefix, when there is one) through its line terminator: what a
	// server reads as this row and nothing more.
	Line []byte
	// Key is the key field's value, unescaped; KeyNull says it is NULL,
	// KeyFound that the row has that field at all.
	Key      []byte
	KeyNull  bool
	KeyFound bool
}

// MaxRow bounds one row's text (a server's max_allowed_packet is at most
// 1 GiB; the proxy holds a row whole).
const MaxRow = 64 << 20

// ErrRowTooLong: a row's text is longer than MaxRow.
var ErrRowTooLong = errors.New("a row of the file is longer than 64 MiB")

// Reader cuts the text into rows as it arrives.
type Reader struct {
	f      Format
	fields int // the fields a row is read for (the column list's length)
	key    int // the key field's index
	skip   uint64
	buf    []byte
	off    int // buf[off:] is unread
	eof    bool
	value  []byte // the key field's value (reused)
}

// NewReader reads rows of fields fields, key the index of the one it
// reports, after skipping skip lines (IGNORE n LINES).
func NewReader(f Format, fields, key int, skip uint64) *Reader {
	return &Reader{f: f, fields: fields, key: key, skip: skip}
}

// Feed appends text.
func (r *Reader) Feed(data []byte) {
	if r.off > 0 && r.off == len(r.buf) {
		r.buf, r.off = r.buf[:0], 0
	} else if r.off > len(r.buf)/2 {
		r.buf = append(r.buf[:0], r.buf[r.off:]...)
		r.off = 0
	}
	r.buf = append(r.buf, data...)
}

// End says no more text comes.
func (r *Reader) End() { r.eof = true }

// Next returns the next row, valid until the next Feed; ok is false when
// more text is needed (or, after End, at the end).
func (r *Reader) Next() (row Row, ok bool, err error) {
	for r.skip > 0 {
		s := scanner{b: r.buf, i: r.off, eof: r.eof}
		end := s.nextLine(&r.f)
		if s.more {
			return row, false, r.tooLong()
		}
		if end {
			r.off = s.i
			return row, false, nil
		}
		r.off = s.i
		r.skip--
	}
	s := scanner{b: r.buf, i: r.off, eof: r.eof}
	row, ok = r.row(&s)
	if s.more {
		return Row{}, false, r.tooLong()
	}
	if !ok {
		r.off = len(r.buf)
		return Row{}, false, nil
	}
	r.off = s.i
	return row, true, nil
}

func (r *Reader) tooLong() error {
	if len(r.buf)-r.off > MaxRow {
		return ErrRowTooLong
	}
	return nil
}

// row reads one row (read_sep_field's loop); ok is false at the end of
// the text (or, with s.more, of what has come).
func (r *Reader) row(s *scanner) (row Row, ok bool) {
	f := &r.f
	start := s.i
	if f.LineStart != "" {
		// find_start_of_fields: anything before the prefix is skipped,
		// line ends included.
		for {
			c := s.get()
			if c < 0 {
				return row, false
			}
			if c == int(f.LineStart[0]) && s.term(f.LineStart) {
				break
			}
			if s.more {
				return row, false
			}
		}
		start = s.i - len(f.LineStart)
	}
	endOfLine := false
	for n := 0; n < r.fields && !endOfLine; n++ {
		value, enclosed, null, eol, got := s.field(f, n == r.key, r.value[:0])
		if s.more {
			return row, false
		}
		if !got {
			if n == 0 {
				return row, false // the text is simply ended
			}
			break
		}
		endOfLine = eol
		if n == r.key {
			r.value = value
			row.Key, row.KeyFound = value, true
			row.KeyNull = !enclosed && f.Enclosed >= 0 && string(value) == "NULL" || null && len(value) == 1
		}
	}
	if !endOfLine {
		if s.nextLine(f); s.more {
			return row, false
		}
	}
	row.Line = s.b[start:s.i]
	return row, true
}

// scanner goes over buf from i. Running out of text before eof sets more.
type scanner struct {
	b    []byte
	i    int
	eof  bool
	more bool
}

// get is the next byte, -1 at the end of the text (or of what came).
func (s *scanner) get() int {
	if s.i >= len(s.b) {
		if !s.eof {
			s.more = true
		}
		return -1
	}
	c := s.b[s.i]
	s.i++
	return int(c)
}

// term reports whether t follows, its first byte just read, and reads it.
func (s *scanner) term(t string) bool {
	rest := t[1:]
	have := s.b[s.i:]
	if len(have) < len(rest) {
		if !s.eof && bytes.HasPrefix([]byte(rest), have) {
			s.more = true
		}
		return false
	}
	if string(have[:len(rest)]) != rest {
		return false
	}
	s.i += len(rest)
	return true
}

// field reads one field (read_field): its value unescaped (into dst,
// when keep), whether it was enclosed, whether an escaped N was read,
// whether the line ended with it, and got false when the text ended
// before it began.
func (s *scanner) field(f *Format, keep bool, dst []byte) (value []byte, enclosed, null, eol, got bool) {
	c := s.get()
	if c < 0 {
		return nil, false, false, true, false
	}
	found := -2 // the enclosing byte this field began with (none: -2)
	if c == f.Enclosed {
		found = c
	} else {
		s.i--
	}
	add := func(c int) {
		if keep {
			dst = append(dst, byte(c))
		}
	}
	for {
		c = s.get()
		if c < 0 {
			return dst, false, null, true, true
		}
		if c == f.Escape {
			c2 := s.get()
			if c2 < 0 {
				add(c)
				return dst, false, null, true, true
			}
			if f.Escape != f.Enclosed || c2 == f.Escape {
				if c2 == 'N' {
					null = true
				}
				add(unescape(c2))
				continue
			}
			s.i-- // (escape == enclosure: a quote, read below)
		}
		if found == -2 && c == int(f.LineTerm[0]) && s.term(f.LineTerm) {
			return dst, false, null, true, true
		}
		if s.more {
			return
		}
		if c == found {
			c2 := s.get()
			if c2 == found {
				add(c2)
				continue
			}
			if c2 < 0 {
				if s.more {
					return
				}
				return dst, true, null, true, true
			}
			if c2 == int(f.LineTerm[0]) && s.term(f.LineTerm) {
				return dst, true, null, true, true
			}
			if c2 == int(f.FieldTerm[0]) && s.term(f.FieldTerm) {
				return dst, true, null, false, true
			}
			if s.more {
				return
			}
			s.i-- // the enclosing byte was data
		} else if found == -2 && c == int(f.FieldTerm[0]) && s.term(f.FieldTerm) {
			return dst, false, null, false, true
		}
		if s.more {
			return
		}
		add(c)
	}
}

// nextLine skips to the next line (next_line): escaped bytes are data;
// end says the text ended.
func (s *scanner) nextLine(f *Format) (end bool) {
	for {
		c := s.get()
		if c < 0 {
			return true
		}
		if c == f.Escape {
			if s.get() < 0 {
				return true
			}
			continue
		}
		if c == int(f.LineTerm[0]) && s.term(f.LineTerm) {
			return false
		}
		if s.more {
			return true
		}
	}
}

func unescape(c int) int {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case 'b':
		return '\b'
	case '0':
		return 0
	case 'Z':
		return 032
	}
	return c
}
