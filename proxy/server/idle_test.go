package server

import (
	"errors"
	"os"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
)

// login logs a raw client in as u, saying caps besides the usual ones.
func login(t *testing.T, addr string, caps uint32) *rawClient {
	t.Helper()
	r := dialRaw(t, addr)
	r.caps = caps
	r.respond(false, "u", gomysql.CalcNativePassword(r.scramble, []byte("secret")), pluginNative)
	expectOK(t, r.read(), "login")
	return r
}

// ping sends COM_PING and expects its OK.
func (r *rawClient) ping(what string) {
	r.t.Helper()
	r.c.ResetSeq()
	r.send([]byte{gomysql.COM_PING})
	expectOK(r.t, r.read(), what)
}

// A client idle past wait_timeout loses its connection, as on a server
// (MariaDB closes it without a message); one that keeps sending commands
// does not, and an interactive client waits interactive_timeout instead.
func TestIdleClientClosedAfterWaitTimeout(t *testing.T) {
	addr, h := startServerHolder(t)
	snap := *h.Load()
	snap.Info = &backend.ServerInfo{WaitTimeout: 2, InteractiveTimeout: 3600}
	h.Store(&snap)

	idle := login(t, addr, 0)
	busy := login(t, addr, 0)
	interactive := login(t, addr, gomysql.CLIENT_INTERACTIVE)

	closed := make(chan error, 1)
	go func() {
		// Only a generous guard: the server must close first.
		_ = idle.nc.SetReadDeadline(time.Now().Add(60 * time.Second))
		_, err := idle.c.ReadPacket()
		closed <- err
	}()
	var err error
	for err == nil {
		select {
		case err = <-closed:
		case <-time.After(100 * time.Millisecond):
			busy.ping("a client sending commands")
		}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the idle client's connection was not closed")
	}
	busy.ping("a client that kept sending commands, past wait_timeout")
	interactive.ping("an interactive client, past wait_timeout")
}
