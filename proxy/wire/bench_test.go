package wire

import (
	"net"
	"testing"
	"time"
)

// memConn is an in-memory net.Conn: reads replay in (from the start once
// used up), writes are counted and dropped. It allocates nothing.
type memConn struct {
	in      []byte
	pos     int
	written int
}

func (m *memConn) Read(p []byte) (int, error) {
	if m.pos == len(m.in) {
		m.pos = 0
	}
	n := copy(p, m.in[m.pos:])
	m.pos += n
	return n, nil
}

func (m *memConn) Write(p []byte) (int, error) { m.written += len(p); return len(p), nil }

func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return nil }
func (m *memConn) RemoteAddr() net.Addr             { return nil }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkReadPacket reads 100-byte packets (a typical row) through Conn's
// read buffer from an in-memory connection.
func BenchmarkReadPacket(b *testing.B) {
	for _, size := range []int{100, 4 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			row := payload(size)
			var stream []byte
			for i := 0; i < 64; i++ {
				stream = append(stream, byte(len(row)), byte(len(row)>>8), 0, byte(i))
				stream = append(stream, row...)
			}
			c := NewConn(&memConn{in: stream})
			b.ReportAllocs()
			b.SetBytes(int64(size + 4))
			for b.Loop() {
				p, err := c.ReadPacket()
				if err != nil || len(p) != size {
					b.Fatal(len(p), err)
				}
			}
		})
	}
}

// BenchmarkWritePacket writes one packet and flushes it (a small answer),
// or writes 64 packets per flush (rows of a result).
func BenchmarkWritePacket(b *testing.B) {
	for _, per := range []int{1, 64} {
		b.Run("perFlush="+itoa(per), func(b *testing.B) {
			row := payload(100)
			m := &memConn{}
			c := NewConn(m)
			b.ReportAllocs()
			b.SetBytes(int64(len(row) + 4))
			n := 0
			for b.Loop() {
				c.WritePacket(row)
				if n++; n == per {
					n = 0
					if err := c.Flush(); err != nil {
						b.Fatal(err)
					}
					c.ShrinkBuffers() // as the command loop does
				}
			}
		})
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// WriteCommandPacket writes what WritePacket writes for the same payload.
func TestWriteCommandPacket(t *testing.T) {
	for _, n := range []int{0, 10, MaxPayload - 2, MaxPayload - 1, MaxPayload + 5} {
		arg := string(payload(n))
		a, b := &Conn{Seq: 3}, &Conn{Seq: 3}
		a.WriteCommandPacket(0x03, arg)
		b.WritePacket(append([]byte{0x03}, arg...))
		if string(a.wbuf) != string(b.wbuf) || a.Seq != b.Seq || a.Packets != b.Packets || a.ans != b.ans {
			t.Fatalf("arg of %d bytes: WriteCommandPacket differs from WritePacket", n)
		}
	}
}

func TestAppendColumnRef(t *testing.T) {
	c := Column{Schema: "s", Table: "t", OrgTable: "ot", Name: "n", OrgName: "on", Charset: 300, Length: 1 << 20, Type: 253, Flags: 0x1234, Decimals: 31}
	want := AppendColumnDef(nil, &c)
	ref, err := ParseColumnDef(want)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendColumnRef(nil, &ref); string(got) != string(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
