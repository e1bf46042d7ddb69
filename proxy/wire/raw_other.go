//go:build !linux

package wire

import (
	"net"
	"time"
)

// rawSocket is Linux-only (raw_linux.go); elsewhere the net package's
// reads and writes serve.
type rawSocket struct{ net.Conn }

func newRawSocket(net.Conn, *time.Duration) *rawSocket { return nil }

func (r *rawSocket) quiet() bool { return true }
