package wire

import (
	"bytes"
	"compress/zlib"
	"math/rand"
	"net"
	"strings"
	"testing"
)

// pipe returns two connected Conns.
func pipe(t *testing.T) (*Conn, *Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() { c, _ := ln.Accept(); ch <- c }()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-ch
	t.Cleanup(func() { a.Close(); b.Close() })
	return NewConn(a), NewConn(b)
}

func payload(n int) []byte {
	p := make([]byte, n)
	r := rand.New(rand.NewSource(int64(n)))
	r.Read(p)
	return p
}

// writePackets writes packets of the sizes to a, in the background.
func writePackets(t *testing.T, a *Conn, sizes []int) {
	go func() {
		for _, n := range sizes {
			a.WritePacket(payload(n))
			if err := a.Flush(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
}

func TestPacketsRoundTrip(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		a, b := pipe(t)
		if compressed {
			a.EnableCompression()
			b.EnableCompression()
		}
		// Sizes around the 16 MB split, and a run of small ones.
		sizes := []int{0, 1, 250, 251, 65535, MaxPayload - 1, MaxPayload, MaxPayload + 1, 2 * MaxPayload, 40 << 20}
		writePackets(t, a, sizes)
		for _, n := range sizes {
			got, err := b.ReadPacket()
			if err != nil {
				t.Fatalf("compressed=%v size %d: %v", compressed, n, err)
			}
			if !bytes.Equal(got, payload(n)) {
				t.Fatalf("compressed=%v size %d: payload differs (got %d bytes)", compressed, n, len(got))
			}
		}
	}
}

func TestSequenceNumbers(t *testing.T) {
	a, b := pipe(t)
	a.ResetSeq()
	a.WritePacket([]byte("one"))
	a.WritePacket(make([]byte, MaxPayload)) // two physical packets: 1 and 2
	a.WritePacket([]byte("three"))
	go a.Flush()
	for i, want := range []uint8{1, 3, 4} {
		if _, err := b.ReadPacket(); err != nil {
			t.Fatal(err)
		}
		if b.Seq != want {
			t.Fatalf("packet %d: next seq %d, want %d", i, b.Seq, want)
		}
	}
}

func TestMaxPacket(t *testing.T) {
	a, b := pipe(t)
	b.MaxPacket = 1 << 20
	go func() {
		a.WritePacket(make([]byte, MaxPayload+10))
		a.Flush()
	}()
	if _, err := b.ReadPacket(); err != ErrPacketTooLarge {
		t.Fatalf("got %v, want ErrPacketTooLarge", err)
	}
}

func TestOKRoundTrip(t *testing.T) {
	for _, track := range []bool{false, true} {
		in := OK{AffectedRows: 300, LastInsertID: 1 << 40, Status: 2, Warnings: 1, Info: []byte("Rows matched: 1")}
		p := AppendOK(nil, OKHeader, &in, track)
		out, err := ParseOK(p, track)
		if err != nil {
			t.Fatal(err)
		}
		if out.AffectedRows != in.AffectedRows || out.LastInsertID != in.LastInsertID || out.Status != in.Status ||
			out.Warnings != in.Warnings || string(out.Info) != string(in.Info) {
			t.Fatalf("track=%v: %+v != %+v", track, out, in)
		}
	}
}

func TestLenEnc(t *testing.T) {
	for _, v := range []uint64{0, 250, 251, 1<<16 - 1, 1 << 16, 1<<24 - 1, 1 << 24, 1<<64 - 1} {
		b := AppendLenEnc(nil, v)
		got, null, n := ReadLenEnc(b)
		if null || n != len(b) || got != v {
			t.Fatalf("%d: got %d null=%v n=%d/%d", v, got, null, n, len(b))
		}
	}
	if _, _, n := ReadLenEnc([]byte{0xfc, 1}); n != 0 {
		t.Fatal("short input accepted")
	}
}

func BenchmarkRelayPacket(b *testing.B) {
	src, dst := &Conn{rbuf: make([]byte, readBufSize)}, &Conn{}
	row := payload(100)
	var stream []byte
	for i := 0; i < 100; i++ {
		stream = append(stream, byte(len(row)), 0, 0, byte(i))
		stream = append(stream, row...)
	}
	rd := bytes.NewReader(stream)
	src.src = rd
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for i := 0; i < b.N; i++ {
		rd.Reset(stream) // reused: the benchmark itself allocates nothing
		src.rpos, src.rend = 0, 0
		for j := 0; j < 100; j++ {
			p, _, err := src.ReadFragment()
			if err != nil {
				b.Fatal(err)
			}
			dst.WriteFragment(p)
		}
		dst.DiscardOutput()
	}
}

func TestMarkRewind(t *testing.T) {
	a, b := pipe(t)
	a.WritePacket([]byte("first"))
	m := a.Mark()
	a.WritePacket([]byte("dropped"))
	a.WritePacket([]byte("dropped too"))
	if !a.Rewind(m) {
		t.Fatal("rewind refused before any flush")
	}
	a.WritePacket([]byte("second"))
	m = a.Mark()
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	if a.Rewind(m) {
		t.Fatal("rewind allowed after a flush")
	}
	for i, want := range []string{"first", "second"} {
		p, err := b.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if string(p) != want || b.Seq != uint8(i+1) {
			t.Fatalf("packet %d: %q seq %d", i, p, b.Seq)
		}
	}
}

// A client connection's small read buffer grows for a bigger packet, and
// goes back to its size after one past keepBuf.
func TestClientReadBufGrows(t *testing.T) {
	a, b := pipe(t)
	b = NewConnSize(b.NetConn(), ClientReadBuf)
	sizes := []int{10, ClientReadBuf - 4, ClientReadBuf + 1, 3 * ClientReadBuf, keepBuf + 1, 20}
	writePackets(t, a, sizes)
	for _, n := range sizes {
		got, err := b.ReadPacket()
		if err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		if !bytes.Equal(got, payload(n)) {
			t.Fatalf("size %d: payload differs (got %d bytes)", n, len(got))
		}
		b.ShrinkBuffers()
		if n > keepBuf && len(b.rbuf) != ClientReadBuf {
			t.Errorf("after %d bytes: read buffer of %d, want %d again", n, len(b.rbuf), ClientReadBuf)
		}
	}
}

// A compressed frame that inflates to more than its header says is refused
// after inflating one byte more, not all of it (a zlib bomb: 8 KiB here
// inflate to 8 MiB; 16 MiB, a frame's most, to 16 GiB).
func TestCompressedFrameInflatesNoMoreThanItSays(t *testing.T) {
	a, b := pipe(t)
	if err := b.EnableCompression(); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	zw := zlib.NewWriter(&body)
	zw.Write(make([]byte, 8<<20))
	zw.Close()
	const says = 100
	frame := []byte{byte(body.Len()), byte(body.Len() >> 8), byte(body.Len() >> 16), 0, says, 0, 0}
	go a.NetConn().Write(append(frame, body.Bytes()...))
	if _, err := b.ReadPacket(); err == nil || !strings.Contains(err.Error(), "holds more") {
		t.Fatalf("read: %v", err)
	}
	if n := b.comp.in.Len(); n > says+1 {
		t.Fatalf("inflated %d bytes for a frame of %d", n, says)
	}
}
