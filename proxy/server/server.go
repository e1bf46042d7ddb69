// Package server accepts client connections on the MySQL protocol: it does
// the handshake (mysql_native_password, caching_sha2_password, TLS,
// compression), checks the user against the configuration and reads
// commands for the session to answer.
package server

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/session"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
)

// Server serves clients on one listener.
type Server struct {
	log     *slog.Logger
	snap    *snapshot.Holder
	env     *session.Env
	tlsConf *tls.Config

	ln      net.Listener
	nextID  atomic.Uint32
	conns   atomic.Int64
	closing atomic.Bool
	wg      sync.WaitGroup
	keyOnce sync.Once
	sweep   sync.Once    // starts sweepIdle with the first Serve
	tick    atomic.Int64 // sweepIdle's, one a second, from 1 (Session.Idle)
	// breaking: session.BreakDeadlocks, which sweepIdle starts once a
	// second, is running.
	breaking atomic.Bool
	key      *rsa.PrivateKey
	keyErr   error
}

// New makes a server; tlsConf may be nil (no TLS offered).
func New(log *slog.Logger, snap *snapshot.Holder, reg *session.Registry, tlsConf *tls.Config) *Server {
	s := &Server{log: log, snap: snap, tlsConf: tlsConf}
	s.tick.Store(1)
	s.env = &session.Env{Snap: snap, Registry: reg, Auth: s, Log: log, Started: time.Now()}
	return s
}

// Env returns what the server's sessions share.
func (s *Server) Env() *session.Env { return s.env }

// Serve accepts connections until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.ln = ln
	s.sweep.Do(func() { go s.sweepIdle() })
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		s.wg.Add(1)
		go s.serveConn(nc)
	}
}

// Shutdown stops accepting, lets running statements finish, closes idle
// connections and waits for the rest (until ctx ends, then closes them).
func (s *Server) Shutdown(ctx context.Context) {
	s.closing.Store(true)
	if s.ln != nil {
		_ = s.ln.Close()
	}
	for _, ss := range s.env.Registry.All() {
		// Wake a session waiting for its next command; a running
		// statement finishes first, then the loop sees closing and ends.
		_ = ss.Conn().NetConn().SetReadDeadline(time.Now())
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, ss := range s.env.Registry.All() {
			_ = ss.Conn().Close()
		}
		<-done
	}
}

func (s *Server) serveConn(nc net.Conn) {
	defer s.wg.Done()
	defer nc.Close()
	defer func() {
		// A bug met outside the session's own guard (the handshake: TLS,
		// authentication) costs this connection, not every client's.
		if r := recover(); r != nil {
			s.log.Error("panic while serving a connection", "remote", nc.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
	}
	c := wire.NewConnSize(nc, wire.ClientReadBuf)
	snap := s.snap.Load()
	n := s.conns.Add(1)
	defer s.conns.Add(-1)
	if n > int64(snap.Conf.MaxConnections) {
		// MySQL sends this instead of the greeting.
		c.WritePacket(wire.AppendErr(nil, mysql.NewDefaultError(mysql.ER_CON_COUNT_ERROR)))
		_ = c.Flush()
		return
	}
	id := s.nextID.Add(1)
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	login, err := s.handshake(c, id, snap, nil)
	if err != nil {
		var me *mysql.MyError
		if errors.As(err, &me) {
			c.WritePacket(wire.AppendErr(nil, me))
			_ = c.Flush()
		}
		if !errors.Is(err, io.EOF) {
			s.log.Debug("handshake failed", "conn", id, "remote", nc.RemoteAddr().String(), "err", err)
		}
		return
	}
	_ = c.NetConn().SetDeadline(time.Time{})
	c.MaxPacket = snap.Conf.MaxAllowedPacket
	sess := session.New(s.env, id, c, login.Caps, login.User, hostOf(nc.RemoteAddr()), login.Schema, login.Collation)
	sess.SetScramble(login.Scramble)
	s.env.Registry.Add(sess)
	defer sess.Close()
	s.loop(c, sess)
}

// sweepIdle ends, once a second, the sessions whose clients stayed idle
// past their wait_timeout, as a server drops them: each one's read wakes
// and its loop ends, giving back its connections (a transaction's locks).
// It also breaks the deadlocks that span data hosts (BreakDeadlocks).
func (s *Server) sweepIdle() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for range t.C {
		if s.closing.Load() {
			return
		}
		tick := s.tick.Add(1)
		for _, ss := range s.env.Registry.All() {
			if ss.IdleTooLong(tick) {
				_ = ss.Conn().NetConn().SetReadDeadline(time.Now())
			}
		}
		if s.breaking.CompareAndSwap(false, true) {
			go func() {
				defer s.breaking.Store(false)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				session.BreakDeadlocks(ctx, s.env.Registry, tick, s.log)
			}()
		}
	}
}

// loop reads commands and lets the session answer them.
func (s *Server) loop(c *wire.Conn, sess *session.Session) {
	for {
		if s.closing.Load() {
			return
		}
		c.ResetSeq()
		sess.Idle(s.tick.Load())
		p, err := c.ReadPacket()
		if !sess.Busy(s.tick.Load()) {
			s.log.Debug("client idle past wait_timeout: connection closed", "conn", sess.ID)
			return
		}
		if err != nil {
			if errors.Is(err, wire.ErrPacketTooLarge) {
				c.WritePacket(wire.AppendErr(nil, mysql.NewDefaultError(mysql.ER_NET_PACKET_TOO_LARGE)))
				_ = c.Flush()
			}
			return
		}
		c.SyncSeqAfterRead()
		if err := sess.Dispatch(p); err != nil {
			if !errors.Is(err, session.ErrQuit) {
				s.log.Debug("session ends", "conn", sess.ID, "err", err)
			}
			return
		}
		c.ShrinkBuffers()
	}
}

// handshake greets the client, upgrades to TLS when asked, authenticates
// and checks the initial schema (or lets admit decide, see Handshake). On
// success the client has its OK.
func (s *Server) handshake(c *wire.Conn, id uint32, snap *snapshot.Snapshot, admit Admit) (*Login, error) {
	scramble := newScramble()
	s.writeGreeting(c, id, scramble, snap)
	if err := c.Flush(); err != nil {
		return nil, err
	}
	p, err := c.ReadPacket()
	if err != nil {
		return nil, err
	}
	if len(p) < 4 {
		return nil, mysql.NewDefaultError(mysql.ER_HANDSHAKE_ERROR)
	}
	caps := uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
	isTLS := false
	if caps&mysql.CLIENT_SSL != 0 && s.tlsConf != nil && len(p) == 32 {
		if err := s.upgradeTLS(c); err != nil {
			return nil, err
		}
		isTLS = true
		if p, err = c.ReadPacket(); err != nil {
			return nil, err
		}
	}
	r, err := parseResponse(p)
	if err != nil {
		return nil, mysql.NewDefaultError(mysql.ER_HANDSHAKE_ERROR)
	}
	if r.caps&mysql.CLIENT_PROTOCOL_41 == 0 {
		return nil, mysql.NewError(mysql.ER_NOT_SUPPORTED_AUTH_MODE, "shardgate needs a client speaking protocol 4.1 or newer")
	}
	if e := checkClientCharset(r.collation, snap); e != nil {
		return nil, e
	}
	host := hostOf(c.NetConn().RemoteAddr())
	u, err := s.authenticate(c, r, scramble, host, snap, isTLS)
	if err != nil {
		return nil, err
	}
	e := checkSchema
	if admit != nil {
		e = func(u *conf.User, db, _ string, _ *snapshot.Snapshot) *mysql.MyError { return admit(u, db) }
	}
	if e := e(u, r.db, host, snap); e != nil {
		return nil, e
	}
	caps = r.caps & (serverCaps | mysql.CLIENT_SSL)
	ok := wire.OK{Status: mysql.SERVER_STATUS_AUTOCOMMIT}
	c.WritePacket(wire.AppendOK(nil, wire.OKHeader, &ok, caps&mysql.CLIENT_SESSION_TRACK != 0))
	if err := c.Flush(); err != nil {
		return nil, err
	}
	if caps&mysql.CLIENT_COMPRESS != 0 {
		if err := c.EnableCompression(); err != nil {
			return nil, err
		}
	}
	return &Login{Caps: caps, User: u, Schema: r.db, Collation: r.collation, Scramble: scramble, Attrs: r.attrs, TLS: isTLS}, nil
}

// ChangeUser implements session.Authenticator for COM_CHANGE_USER.
func (s *Server) ChangeUser(sess *session.Session, p []byte) (*conf.User, string, uint16, error) {
	snap := s.snap.Load()
	r, err := parseChangeUser(p[1:], sess.Caps())
	if err != nil {
		return nil, "", 0, mysql.NewDefaultError(mysql.ER_HANDSHAKE_ERROR)
	}
	// Clients answer with the greeting's scramble (MariaDB's and MySQL's
	// libraries do); authenticate switches plugin when it must.
	scramble := sess.Scramble()
	c := sess.Conn()
	_, isTLS := c.NetConn().(*tls.Conn)
	u, err := s.authenticate(c, r, scramble, sess.Host(), snap, isTLS)
	if err != nil {
		return nil, "", 0, err
	}
	if e := checkSchema(u, r.db, sess.Host(), snap); e != nil {
		return nil, "", 0, e
	}
	if e := checkClientCharset(r.collation, snap); e != nil {
		return nil, "", 0, e
	}
	coll := r.collation
	return u, r.db, coll, nil
}

// rsaKey is the key for caching_sha2_password's RSA exchange, made on first use.
func (s *Server) rsaKey() (*rsa.PrivateKey, error) {
	s.keyOnce.Do(func() { s.key, s.keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	return s.key, s.keyErr
}

// Sessions counts connected clients.
func (s *Server) Sessions() int64 { return s.conns.Load() }
