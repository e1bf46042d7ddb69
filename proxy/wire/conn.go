// Package wire is shardgate's MySQL packet layer: a buffered connection that
// reads packets into a reused buffer and writes responses with one flush
// each. Both sides of the proxy use it: the client-facing server and the
// backend connections.
package wire

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// MaxPayload is the largest payload of one physical packet; a logical packet
// of this size or more continues in the next physical packet.
const MaxPayload = 1<<24 - 1

const (
	// readBufSize is a backend connection's read buffer: results stream
	// through it.
	readBufSize = 16 << 10
	// ClientReadBuf is a client connection's: its commands are small (a
	// bigger one grows it), and thousands of idle clients each keep one.
	ClientReadBuf = 4 << 10
	// flushAt bounds the write buffer while relaying a large result: once
	// this much is pending it goes to the socket, so rows stream with
	// back-pressure instead of piling up in memory.
	flushAt = 64 << 10
	// writeBufSize leaves room for one more row past flushAt.
	writeBufSize = flushAt + 16<<10
	// keepBuf is the largest buffer kept after a command; bigger ones (a
	// 16 MB packet) are dropped so idle connections stay small.
	keepBuf = 256 << 10
)

// ErrPacketTooLarge is returned when a peer sends a packet larger than the
// connection's limit.
var ErrPacketTooLarge = errors.New("packet larger than max_allowed_packet")

var writeBufPool = sync.Pool{New: func() any { b := make([]byte, 0, writeBufSize); return &b }}

// Conn is a buffered MySQL packet connection. It is not safe for concurrent
// use, except Close.
type Conn struct {
	nc  net.Conn
	src io.Reader // nc (or its raw socket), or the decompressing reader
	dst io.Writer // nc, or its raw socket

	rbuf       []byte
	rpos, rend int
	rsize      int // rbuf's size to start with, and after a big packet

	wbuf   []byte  // pending output, borrowed from writeBufPool while non-empty
	wboxed *[]byte // the pool's box for wbuf

	big []byte // reassembly buffer for split packets

	// Seq is the next sequence number to read or write.
	Seq uint8

	comp *compressor

	// MaxPacket is the largest logical packet accepted by ReadPacket
	// (0 = no limit).
	MaxPacket int

	// WriteTimeout fails a write that waits longer for the peer to read
	// (MariaDB's net_write_timeout; 0 = wait as long as it takes).
	WriteTimeout time.Duration

	// BytesIn and BytesOut count the bytes moved, for statistics.
	BytesIn, BytesOut uint64

	// Packets counts the logical packets written; ans describes the
	// answer being written (see answer.go), for statistics.
	Packets uint64
	ans     answer
}

// NewConn wraps a network connection.
func NewConn(nc net.Conn) *Conn { return NewConnSize(nc, readBufSize) }

// NewConnSize wraps a network connection with a read buffer of size bytes
// to start with.
func NewConnSize(nc net.Conn, size int) *Conn {
	c := &Conn{rbuf: make([]byte, size), rsize: size}
	c.SetNetConn(nc)
	return c
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// SetNetConn replaces the underlying connection (after a TLS upgrade). The
// read buffer must be empty.
func (c *Conn) SetNetConn(nc net.Conn) {
	c.nc, c.src, c.dst = nc, nc, nc
	if r := newRawSocket(nc, &c.WriteTimeout); r != nil {
		c.src, c.dst = r, r
	}
}

// Buffered reports how many bytes are read but not yet consumed.
func (c *Conn) Buffered() int { return c.rend - c.rpos }

// TakeBuffered returns and forgets the bytes read but not consumed.
func (c *Conn) TakeBuffered() []byte {
	b := append([]byte(nil), c.rbuf[c.rpos:c.rend]...)
	c.rpos, c.rend = 0, 0
	return b
}

// Quiet reports whether a connection nobody is talking on is still open
// with nothing to read: a server that closes one (a restart, wait_timeout,
// KILL) leaves an error packet or the end of the stream. It cannot tell
// through TLS or compression, and then says true.
func (c *Conn) Quiet() bool {
	if c.Buffered() > 0 {
		return false
	}
	if r, ok := c.src.(*rawSocket); ok {
		return r.quiet()
	}
	return true
}

// Close closes the underlying connection.
func (c *Conn) Close() error { return c.nc.Close() }

// fill makes at least n bytes available in rbuf[rpos:rend].
func (c *Conn) fill(n int) error {
	if c.rend-c.rpos >= n {
		return nil
	}
	if c.rpos+n > len(c.rbuf) {
		// Not enough room after rpos: compact, or grow for a big packet.
		if n > len(c.rbuf) {
			nb := make([]byte, max(n, 2*len(c.rbuf)))
			copy(nb, c.rbuf[c.rpos:c.rend])
			c.rbuf = nb
		} else {
			copy(c.rbuf, c.rbuf[c.rpos:c.rend])
		}
		c.rend -= c.rpos
		c.rpos = 0
	}
	for c.rend-c.rpos < n {
		m, err := c.src.Read(c.rbuf[c.rend:])
		c.rend += m
		c.BytesIn += uint64(m)
		if err != nil {
			if c.rend-c.rpos >= n {
				return nil
			}
			if err == io.EOF && c.rend != c.rpos {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// ShrinkBuffers drops buffers grown by big packets, and returns the write
// buffer to its pool. Call it when a command is finished.
func (c *Conn) ShrinkBuffers() {
	if len(c.rbuf) > keepBuf && c.rpos == c.rend {
		c.rbuf = make([]byte, max(c.rsize, 4))
		c.rpos, c.rend = 0, 0
	}
	if cap(c.big) > keepBuf {
		c.big = nil
	}
	c.releaseWriteBuf()
}

// ReadFragment reads one physical packet and returns its payload, which is
// valid until the next read. more reports that the logical packet continues
// in the next fragment.
func (c *Conn) ReadFragment() (payload []byte, more bool, err error) {
	if err = c.fill(4); err != nil {
		return nil, false, err
	}
	h := c.rbuf[c.rpos : c.rpos+4]
	n := int(uint32(h[0]) | uint32(h[1])<<8 | uint32(h[2])<<16)
	c.Seq = h[3] + 1
	if err = c.fill(4 + n); err != nil {
		return nil, false, err
	}
	payload = c.rbuf[c.rpos+4 : c.rpos+4+n : c.rpos+4+n]
	c.rpos += 4 + n
	return payload, n == MaxPayload, nil
}

// ReadPacket reads one logical packet, joining split packets. The payload is
// valid until the next read.
func (c *Conn) ReadPacket() ([]byte, error) {
	p, more, err := c.ReadFragment()
	if err != nil || !more {
		return p, err
	}
	c.big = append(c.big[:0], p...)
	for more {
		if c.MaxPacket > 0 && len(c.big) > c.MaxPacket {
			return nil, ErrPacketTooLarge
		}
		if p, more, err = c.ReadFragment(); err != nil {
			return nil, err
		}
		c.big = append(c.big, p...)
	}
	if c.MaxPacket > 0 && len(c.big) > c.MaxPacket {
		return nil, ErrPacketTooLarge
	}
	return c.big, nil
}

// SkipPacket reads and discards one logical packet.
func (c *Conn) SkipPacket() error {
	for {
		_, more, err := c.ReadFragment()
		if err != nil || !more {
			return err
		}
	}
}

func (c *Conn) growWrite(n int) {
	if c.wboxed == nil {
		c.wboxed = writeBufPool.Get().(*[]byte)
		c.wbuf = (*c.wboxed)[:0]
	}
	if cap(c.wbuf)-len(c.wbuf) < n {
		nb := make([]byte, len(c.wbuf), 2*cap(c.wbuf)+n)
		copy(nb, c.wbuf)
		c.wbuf = nb
	}
}

func (c *Conn) releaseWriteBuf() {
	if c.wboxed == nil || len(c.wbuf) != 0 {
		return
	}
	if cap(c.wbuf) <= keepBuf {
		*c.wboxed = c.wbuf[:0]
		writeBufPool.Put(c.wboxed)
	}
	c.wboxed, c.wbuf = nil, nil
}

// WritePacket appends one logical packet (split if needed) to the output
// buffer, numbering it with Seq.
func (c *Conn) WritePacket(payload []byte) {
	c.note(payload)
	for {
		n := min(len(payload), MaxPayload)
		c.growWrite(4 + n)
		c.wbuf = append(c.wbuf, byte(n), byte(n>>8), byte(n>>16), c.Seq)
		c.wbuf = append(c.wbuf, payload[:n]...)
		c.Seq++
		payload = payload[n:]
		if n < MaxPayload {
			return
		}
	}
}

// WriteCommandPacket appends one logical packet whose payload is the
// command byte cmd followed by arg, without building the payload first.
func (c *Conn) WriteCommandPacket(cmd byte, arg string) {
	WriteCommandAfter(c, cmd, "", arg)
}

// WriteCommandAfter appends one logical packet whose payload is cmd, head
// and arg: statements queued before a query go out in its packet, as one
// multi-statement, without a copy.
func WriteCommandAfter[T string | []byte](c *Conn, cmd byte, head string, arg T) {
	n := 1 + len(head) + len(arg)
	if n >= MaxPayload {
		// Split packets: rare enough to pay for a copy.
		p := make([]byte, 0, n)
		p = append(append(append(p, cmd), head...), arg...)
		c.WritePacket(p)
		return
	}
	c.growWrite(4 + n)
	c.wbuf = append(c.wbuf, byte(n), byte(n>>8), byte(n>>16), c.Seq, cmd)
	c.wbuf = append(c.wbuf, head...)
	c.wbuf = append(c.wbuf, arg...)
	c.note(c.wbuf[len(c.wbuf)-n:])
	c.Seq++
}

// WriteFragment appends one physical packet as it is (a relayed fragment of
// a split packet keeps its size), numbered with Seq.
func (c *Conn) WriteFragment(payload []byte) {
	c.note(payload)
	n := len(payload)
	c.growWrite(4 + n)
	c.wbuf = append(c.wbuf, byte(n), byte(n>>8), byte(n>>16), c.Seq)
	c.wbuf = append(c.wbuf, payload...)
	c.Seq++
}

// Pending reports how many bytes wait to be flushed.
func (c *Conn) Pending() int { return len(c.wbuf) }

// FlushIfFull flushes when enough output is pending; relays call it after
// each row so a big result streams.
func (c *Conn) FlushIfFull() error {
	if len(c.wbuf) >= flushAt {
		return c.Flush()
	}
	return nil
}

// Flush writes the pending output.
func (c *Conn) Flush() error {
	if len(c.wbuf) == 0 {
		return nil
	}
	var err error
	if c.WriteTimeout > 0 && (c.dst == c.nc || c.comp != nil) {
		// (A raw socket arms the deadline only when a write waits.)
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.WriteTimeout))
	}
	if c.comp != nil {
		// The inner sequence goes on across flushes; only the frames
		// have their own numbering.
		err = c.comp.writeCompressed(c.nc, c.wbuf)
	} else {
		_, err = c.dst.Write(c.wbuf)
	}
	c.BytesOut += uint64(len(c.wbuf))
	c.wbuf = c.wbuf[:0]
	if cap(c.wbuf) > keepBuf {
		c.wboxed, c.wbuf = nil, nil
	}
	return err
}

// DiscardOutput drops pending output (after a write error).
func (c *Conn) DiscardOutput() { c.wbuf = c.wbuf[:0] }

// Mark is a point in the output a statement can go back to: its answer
// is dropped and written again (a retry elsewhere, or an error instead).
type Mark struct {
	n   int
	seq uint8
	out uint64
}

// Mark returns the current point in the output.
func (c *Conn) Mark() Mark { return Mark{len(c.wbuf), c.Seq, c.BytesOut} }

// Rewind drops the output written since m. It reports false, and drops
// nothing, when some of it has been sent already.
func (c *Conn) Rewind(m Mark) bool {
	if c.BytesOut != m.out || len(c.wbuf) < m.n {
		return false
	}
	c.wbuf = c.wbuf[:m.n]
	c.Seq = m.seq
	return true
}

// ResetSeq starts a new command exchange.
func (c *Conn) ResetSeq() {
	c.Seq = 0
	if c.comp != nil {
		c.comp.seq = 0
	}
}

// EnableCompression switches the connection to the zlib compressed protocol.
func (c *Conn) EnableCompression() error {
	if c.rend != c.rpos {
		return fmt.Errorf("wire: %d unread bytes when enabling compression", c.rend-c.rpos)
	}
	c.comp = newCompressor(c.nc)
	c.src = c.comp
	return nil
}

// Compressed reports whether the compressed protocol is on.
func (c *Conn) Compressed() bool { return c.comp != nil }

// SyncSeqAfterRead aligns the packet sequence with the compressed sequence
// after a command was read, as MySQL's net layer does; with compression
// clients do not check the inner numbers but servers and clients agree on it.
func (c *Conn) SyncSeqAfterRead() {
	if c.comp != nil {
		c.Seq = c.comp.seq
	}
}
