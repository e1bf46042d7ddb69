package wire

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// rawSocket reads and writes a plain TCP socket with raw system calls. Go
// keeps the socket non-blocking and its poller still does the waiting, so
// each call returns at once. Made the usual way, a call tells the
// scheduler it may block; a loopback write that takes some tens of
// microseconds then lets the runtime's monitor hand the processor to
// another thread (a wake-up and two context switches), and keeps that
// monitor polling every 20 µs. Raw calls skip both.
type rawSocket struct {
	rc syscall.RawConn
	// The call in progress: its buffer, and what it got. Reads and writes
	// have their own, as one goroutine may read while another writes.
	rb, wb      []byte
	rn          int
	rerr, werr  syscall.Errno
	read, write func(fd uintptr) bool // made once: no allocation per call
	// A write that must wait for room arms nc's write deadline *timeout
	// ahead (the Conn's WriteTimeout; 0: none), once per call, and the
	// call disarms it: a write that does not wait costs nothing more.
	nc      net.Conn
	timeout *time.Duration
	armed   bool
	// quiet's look at the socket.
	peekBuf [1]byte
	peekErr syscall.Errno
	peek    func(fd uintptr)
}

// newRawSocket returns nc's raw socket, or nil when nc is not a plain TCP
// connection (TLS, a pipe in tests).
func newRawSocket(nc net.Conn, timeout *time.Duration) *rawSocket {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawSocket{rc: rc, nc: nc, timeout: timeout}
	r.read = r.readOnce
	r.write = r.writeAll
	r.peek = r.peekOnce
	return r
}

// quiet reports, without waiting, that the socket is open with nothing to
// read.
func (r *rawSocket) quiet() bool {
	if r.rc.Control(r.peek) != nil {
		return false
	}
	return r.peekErr == syscall.EAGAIN
}

func (r *rawSocket) peekOnce(fd uintptr) {
	for {
		_, _, r.peekErr = syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&r.peekBuf[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		if r.peekErr != syscall.EINTR {
			return
		}
	}
}

// readOnce reads what is there; false asks the poller to wait for more.
func (r *rawSocket) readOnce(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.rb[0])), uintptr(len(r.rb)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		case 0:
			r.rn = int(n)
		}
		r.rerr = e
		return true
	}
}

func (r *rawSocket) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	r.rb, r.rn, r.rerr = b, 0, 0
	err := r.rc.Read(r.read)
	r.rb = nil
	switch {
	case err != nil:
		return 0, err
	case r.rerr != 0:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", r.rerr)}
	case r.rn == 0:
		return 0, io.EOF
	}
	return r.rn, nil
}

// writeAll writes what is left; false asks the poller to wait for room.
func (r *rawSocket) writeAll(fd uintptr) bool {
	for len(r.wb) > 0 {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.wb[0])), uintptr(len(r.wb)))
		switch e {
		case 0:
			r.wb = r.wb[n:]
		case syscall.EINTR:
		case syscall.EAGAIN:
			if t := *r.timeout; t > 0 && !r.armed {
				r.armed = true
				_ = r.nc.SetWriteDeadline(time.Now().Add(t))
			}
			return false
		default:
			r.werr = e
			return true
		}
	}
	return true
}

func (r *rawSocket) Write(b []byte) (int, error) {
	r.wb, r.werr = b, 0
	err := r.rc.Write(r.write)
	n := len(b) - len(r.wb)
	r.wb = nil
	if r.armed {
		r.armed = false
		_ = r.nc.SetWriteDeadline(time.Time{})
	}
	if err == nil && r.werr != 0 {
		err = &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", r.werr)}
	}
	return n, err
}
