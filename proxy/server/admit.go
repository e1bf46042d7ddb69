package server

import (
	"errors"
	"net"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/wire"
)

// Admit decides whether an authenticated user may log in on a listener
// other than the client one, with the schema it asked for; nil: welcome.
type Admit func(u *conf.User, schema string) *mysql.MyError

// Handshake greets a client accepted on another listener (the admin
// console) and authenticates it against the configuration exactly as the
// client listener does (plugins, TLS, compression); admit replaces the
// schema check. On failure the client has been sent its error and the
// caller closes the connection.
func (s *Server) Handshake(nc net.Conn, id uint32, admit Admit) (*wire.Conn, *Login, error) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
	}
	c := wire.NewConnSize(nc, wire.ClientReadBuf)
	snap := s.snap.Load()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	login, err := s.handshake(c, id, snap, admit)
	if err != nil {
		var me *mysql.MyError
		if errors.As(err, &me) {
			c.WritePacket(wire.AppendErr(nil, me))
			_ = c.Flush()
		}
		return nil, nil, err
	}
	_ = c.NetConn().SetDeadline(time.Time{})
	c.MaxPacket = snap.Conf.MaxAllowedPacket
	return c, login, nil
}
