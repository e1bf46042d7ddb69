package wire

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"net"
	"sync"
)

// The compressed protocol wraps the packet stream in frames of at most
// MaxPayload uncompressed bytes: a 7-byte header (compressed length,
// sequence, uncompressed length, 0 meaning "stored as is") and a zlib body.

// minCompress is the payload size below which frames are sent uncompressed,
// as MySQL's own clients do.
const minCompress = 50

var zwPool = sync.Pool{New: func() any {
	w, _ := zlib.NewWriterLevel(nil, zlib.DefaultCompression)
	return w
}}

type compressor struct {
	br   *bufio.Reader
	seq  uint8
	in   bytes.Buffer // decompressed bytes not yet consumed
	zr   io.ReadCloser
	out  bytes.Buffer // one outgoing frame
	hdr  [7]byte
	body []byte
}

func newCompressor(nc net.Conn) *compressor {
	return &compressor{br: bufio.NewReaderSize(nc, 16<<10)}
}

// Read returns decompressed bytes, reading frames as needed.
func (z *compressor) Read(p []byte) (int, error) {
	for z.in.Len() == 0 {
		if err := z.readFrame(); err != nil {
			return 0, err
		}
	}
	return z.in.Read(p)
}

func (z *compressor) readFrame() error {
	if _, err := io.ReadFull(z.br, z.hdr[:]); err != nil {
		return err
	}
	clen := int(z.hdr[0]) | int(z.hdr[1])<<8 | int(z.hdr[2])<<16
	z.seq = z.hdr[3] + 1
	ulen := int(z.hdr[4]) | int(z.hdr[5])<<8 | int(z.hdr[6])<<16
	if cap(z.body) < clen {
		z.body = make([]byte, clen)
	}
	body := z.body[:clen]
	if _, err := io.ReadFull(z.br, body); err != nil {
		return err
	}
	if ulen == 0 {
		z.in.Write(body)
		return nil
	}
	var err error
	if z.zr == nil {
		z.zr, err = zlib.NewReader(bytes.NewReader(body))
	} else {
		err = z.zr.(zlib.Resetter).Reset(bytes.NewReader(body), nil)
	}
	if err != nil {
		return fmt.Errorf("wire: bad compressed frame: %w", err)
	}
	before := z.in.Len()
	z.in.Grow(ulen)
	// Inflate no more than the frame says (and a byte to tell it lied): a
	// frame of 16 MiB of zlib can inflate to 16 GiB.
	if _, err := z.in.ReadFrom(io.LimitReader(z.zr, int64(ulen)+1)); err != nil {
		return fmt.Errorf("wire: bad compressed frame: %w", err)
	}
	if got := z.in.Len() - before; got != ulen {
		if got > ulen {
			return fmt.Errorf("wire: compressed frame says %d bytes, holds more", ulen)
		}
		return fmt.Errorf("wire: compressed frame says %d bytes, holds %d", ulen, got)
	}
	return nil
}

// writeCompressed sends data as frames of at most MaxPayload bytes.
func (z *compressor) writeCompressed(w io.Writer, data []byte) error {
	for len(data) > 0 {
		chunk := data[:min(len(data), MaxPayload)]
		data = data[len(chunk):]
		z.out.Reset()
		z.out.Write(z.hdr[:]) // placeholder header
		ulen := len(chunk)
		if ulen < minCompress {
			z.out.Write(chunk)
			ulen = 0
		} else {
			zw := zwPool.Get().(*zlib.Writer)
			zw.Reset(&z.out)
			_, err := zw.Write(chunk)
			if err == nil {
				err = zw.Close()
			}
			zwPool.Put(zw)
			if err != nil || z.out.Len()-7 >= len(chunk) {
				// Incompressible: store it.
				z.out.Truncate(7)
				z.out.Write(chunk)
				ulen = 0
			}
		}
		frame := z.out.Bytes()
		clen := len(frame) - 7
		frame[0], frame[1], frame[2] = byte(clen), byte(clen>>8), byte(clen>>16)
		frame[3] = z.seq
		frame[4], frame[5], frame[6] = byte(ulen), byte(ulen>>8), byte(ulen>>16)
		z.seq++
		if _, err := w.Write(frame); err != nil {
			return err
		}
	}
	if z.out.Cap() > keepBuf {
		z.out = bytes.Buffer{}
	}
	return nil
}
