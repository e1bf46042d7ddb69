package merge

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

var protocols = []struct {
	name string
	bin  bool
}{{"text", false}, {"binary", true}}

func fld(name string, typ byte, flags uint16, dec byte) Field {
	return Field{Name: name, Type: typ, Flags: flags, Decimals: dec, Charset: 63}
}

func fInt(name string) Field    { return fld(name, mysql.MYSQL_TYPE_LONG, 0, 0) }
func fBigint(name string) Field { return fld(name, mysql.MYSQL_TYPE_LONGLONG, 0, 0) }
func fUbig(name string) Field {
	return fld(name, mysql.MYSQL_TYPE_LONGLONG, mysql.UNSIGNED_FLAG, 0)
}
func fDec(name string, dec byte) Field { return fld(name, mysql.MYSQL_TYPE_NEWDECIMAL, 0, dec) }
func fDouble(name string) Field        { return fld(name, mysql.MYSQL_TYPE_DOUBLE, 0, 31) }
func fStr(name string) Field {
	f := fld(name, mysql.MYSQL_TYPE_VAR_STRING, 0, 0)
	f.Charset = 45
	return f
}
func fBin(name string) Field  { return fld(name, mysql.MYSQL_TYPE_VAR_STRING, mysql.BINARY_FLAG, 0) }
func fTime(name string) Field { return fld(name, mysql.MYSQL_TYPE_TIME, 0, 0) }
func fDate(name string) Field { return fld(name, mysql.MYSQL_TYPE_DATE, 0, 0) }
func fDatetime(name string, dec byte) Field {
	return fld(name, mysql.MYSQL_TYPE_DATETIME, 0, dec)
}

// mkRow builds a row: nil is NULL, strings are the column's text form,
// Go numbers are values.
func mkRow(t testing.TB, fields []Field, bin bool, vals ...any) Row {
	t.Helper()
	if len(vals) != len(fields) {
		t.Fatalf("mkRow: %d values for %d fields", len(vals), len(fields))
	}
	rb := NewRowBuilder(fields, bin)
	rb.Begin()
	for i, x := range vals {
		var v Value
		switch x := x.(type) {
		case nil:
			v = Null
		case int:
			v = Int(int64(x))
		case int64:
			v = Int(x)
		case uint64:
			v = Uint(x)
		case float64:
			v = Float(x)
		case string:
			var err error
			v, err = Value{Kind: KindText, B: []byte(x)}.As(&fields[i])
			if err != nil {
				t.Fatalf("mkRow: column %d %q: %v", i, x, err)
			}
		default:
			t.Fatalf("mkRow: %T", x)
		}
		if err := rb.AppendValue(v); err != nil {
			t.Fatalf("mkRow: column %d: %v", i, err)
		}
	}
	return append(Row(nil), rb.Row()...)
}

// rowText renders a row as "a|b|NULL".
func rowText(t testing.TB, fields []Field, bin bool, r Row) string {
	t.Helper()
	sp := make([]span, len(fields))
	if err := layout(fields, bin, r, sp); err != nil {
		t.Fatalf("rowText: %v (% x)", err, []byte(r))
	}
	parts := make([]string, len(fields))
	for i := range fields {
		v, err := decodeSpan(&fields[i], bin, r, sp[i])
		if err != nil {
			t.Fatalf("rowText: column %d: %v", i, err)
		}
		if v.Kind == KindNull {
			parts[i] = "NULL"
			continue
		}
		b, err := appendTextContent(nil, v, &fields[i])
		if err != nil {
			t.Fatalf("rowText: column %d: %v", i, err)
		}
		parts[i] = string(b)
	}
	return strings.Join(parts, "|")
}

// fakeStream serves rows through one reused buffer that it scribbles over
// before each Next, so a consumer that keeps a row without copying it sees
// garbage. It can fail after errAt rows.
type fakeStream struct {
	fields []Field
	bin    bool
	rows   []Row
	pos    int
	buf    []byte
	errAt  int // -1: never
	err    error
	closed int
	nexts  int
}

func newFake(fields []Field, bin bool, rows ...Row) *fakeStream {
	return &fakeStream{fields: fields, bin: bin, rows: rows, errAt: -1}
}

// fake builds a fakeStream from value tuples.
func fake(t testing.TB, fields []Field, bin bool, tuples ...[]any) *fakeStream {
	t.Helper()
	rows := make([]Row, len(tuples))
	for i, tu := range tuples {
		rows[i] = mkRow(t, fields, bin, tu...)
	}
	return newFake(fields, bin, rows...)
}

func (s *fakeStream) Fields() []Field { return s.fields }
func (s *fakeStream) Binary() bool    { return s.bin }
func (s *fakeStream) Close()          { s.closed++ }

func (s *fakeStream) Next() (Row, error) {
	s.nexts++
	for i := range s.buf {
		s.buf[i] = 0xee
	}
	if s.closed > 0 {
		return nil, fmt.Errorf("Next after Close")
	}
	if s.errAt >= 0 && s.pos == s.errAt {
		if s.err == nil {
			s.err = mysql.NewError(1053, "Server shutdown in progress")
		}
		return nil, s.err
	}
	if s.pos >= len(s.rows) {
		return nil, nil
	}
	s.buf = append(s.buf[:0], s.rows[s.pos]...)
	s.pos++
	return s.buf, nil
}

// drain reads a stream to the end and renders its rows.
func drain(t testing.TB, s Stream) ([]string, error) {
	t.Helper()
	var out []string
	for {
		r, err := s.Next()
		if err != nil {
			return out, err
		}
		if r == nil {
			return out, nil
		}
		out = append(out, rowText(t, s.Fields(), s.Binary(), r))
	}
}

func mustDrain(t testing.TB, s Stream) []string {
	t.Helper()
	out, err := drain(t, s)
	if err != nil {
		t.Fatalf("drain: %v", err)
	}
	s.Close()
	return out
}

func tuples(vals ...any) [][]any {
	out := make([][]any, len(vals))
	for i, v := range vals {
		out[i] = []any{v}
	}
	return out
}

func sameRows(t testing.TB, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n got %q\nwant %q", got, want)
	}
}
