package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func tcpPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan net.Conn)
	go func() {
		c, _ := ln.Accept()
		done <- c
	}()
	a, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b = <-done
	if b == nil {
		t.Fatal("accept failed")
	}
	return a, b
}

// The raw socket must behave as the net package's: a write larger than the
// socket buffers waits for the reader, deadlines time out, a closed peer
// reads as EOF.
func TestRawSocket(t *testing.T) {
	a, b := tcpPair(t)
	defer a.Close()
	defer b.Close()
	var none time.Duration
	ra, rb := newRawSocket(a, &none), newRawSocket(b, &none)
	if ra == nil || rb == nil {
		t.Fatal("no raw socket for a TCP connection")
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	errc := make(chan error, 1)
	go func() {
		n, err := ra.Write(big)
		if err == nil && n != len(big) {
			err = io.ErrShortWrite
		}
		errc <- err
	}()
	got := make([]byte, 0, len(big))
	buf := make([]byte, 4096)
	for len(got) < len(big) {
		n, err := rb.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
		if len(got) < 1<<20 {
			time.Sleep(time.Millisecond) // a slow reader: the writer must wait for room
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("bytes differ")
	}

	_ = b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var ne net.Error
	if _, err := rb.Read(buf); !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	_ = b.SetReadDeadline(time.Time{})

	a.Close()
	if _, err := rb.Read(buf); err != io.EOF {
		t.Fatalf("read after the peer closed: %v, want EOF", err)
	}
	// Writing to a peer that closed fails (EPIPE or ECONNRESET), it does not kill the process.
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		_, werr = rb.Write([]byte("x"))
		time.Sleep(time.Millisecond)
	}
	if werr == nil {
		t.Fatal("writes to a closed peer kept succeeding")
	}
	b.Close()
	if _, err := rb.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v, want net.ErrClosed", err)
	}
}

// A wire.Conn over TCP uses the raw socket; over TLS or a pipe, the net.Conn.
func TestConnUsesRawSocket(t *testing.T) {
	a, b := tcpPair(t)
	defer a.Close()
	defer b.Close()
	if _, ok := NewConn(a).src.(*rawSocket); !ok {
		t.Fatal("TCP connection without its raw socket")
	}
	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	if _, ok := NewConn(p).src.(*rawSocket); ok {
		t.Fatal("raw socket for a pipe")
	}
}

// Quiet tells an open idle connection from one whose peer said something
// or went away, without waiting.
func TestQuiet(t *testing.T) {
	a, b := tcpPair(t)
	defer a.Close()
	c := NewConn(b)
	defer c.Close()
	if !c.Quiet() {
		t.Fatal("an idle open connection is not quiet")
	}
	if _, err := a.Write([]byte{0xff}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return !c.Quiet() }, "a byte sent")
	a2, b2 := tcpPair(t)
	c2 := NewConn(b2)
	defer c2.Close()
	a2.Close()
	waitFor(t, func() bool { return !c2.Quiet() }, "the peer closed")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i == 500 {
			t.Fatalf("not seen after 5s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WriteTimeout: a write the peer never reads fails once it has waited that
// long; a write that waited and then went through leaves no deadline
// behind for the next one, which may come long after.
func TestWriteTimeout(t *testing.T) {
	a, b := tcpPair(t)
	defer a.Close()
	defer b.Close()
	c := NewConn(a)
	c.WriteTimeout = 200 * time.Millisecond
	big := make([]byte, MaxPayload-1)

	// The peer reads everything: the writes wait for room now and then.
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, b); close(done) }()
	for i := 0; i < 4; i++ {
		c.WritePacket(big)
		if err := c.Flush(); err != nil {
			t.Fatalf("write with a reading peer: %v", err)
		}
	}
	time.Sleep(2 * c.WriteTimeout) // past any deadline the writes armed
	c.WritePacket([]byte("small"))
	if err := c.Flush(); err != nil {
		t.Fatalf("a write after the timeout's length: %v", err)
	}

	// A peer that stops reading.
	x, y := tcpPair(t)
	defer x.Close()
	defer y.Close()
	c = NewConn(x)
	c.WriteTimeout = 200 * time.Millisecond
	var err error
	for i := 0; i < 64 && err == nil; i++ { // far more than the sockets' buffers hold
		c.WritePacket(big)
		err = c.Flush()
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that does not read: %v, want the deadline exceeded", err)
	}
	a.Close()
	<-done
}
