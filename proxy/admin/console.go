package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/server"
	"github.com/shardgate/shardgate/proxy/session"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/stats"
	"github.com/shardgate/shardgate/proxy/wire"
)

// Console serves the admin console on its own listener. Its clients log in
// exactly as on the client listener (the server's handshake), but only
// users with admin: true; others get 1227. Statements are the console's
// own (HELP lists them); nothing reaches a backend as SQL from a client.
type Console struct {
	log      *slog.Logger
	holder   *snapshot.Holder
	registry *session.Registry
	stats    *stats.Stats
	mgr      *Manager
	auth     *server.Server
	started  time.Time

	ln      net.Listener
	nextID  atomic.Uint32
	closing atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[uint32]*wire.Conn
}

// New makes a console. auth is the client server, whose handshake the
// console uses; registry holds the client sessions it shows and kills.
func New(log *slog.Logger, holder *snapshot.Holder, registry *session.Registry, st *stats.Stats, mgr *Manager, auth *server.Server) *Console {
	return &Console{log: log, holder: holder, registry: registry, stats: st, mgr: mgr, auth: auth, started: time.Now(),
		conns: map[uint32]*wire.Conn{}}
}

// Serve accepts admin connections until Shutdown.
func (c *Console) Serve(ln net.Listener) error {
	c.ln = ln
	for {
		nc, err := ln.Accept()
		if err != nil {
			if c.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		c.wg.Add(1)
		go c.serveConn(nc)
	}
}

// Shutdown stops accepting and closes the admin connections.
func (c *Console) Shutdown() {
	c.closing.Store(true)
	if c.ln != nil {
		_ = c.ln.Close()
	}
	c.mu.Lock()
	for _, wc := range c.conns {
		_ = wc.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// admit lets admin users in, whatever schema they name.
func admit(u *conf.User, _ string) *mysql.MyError {
	if !u.Admin {
		return mysql.NewError(mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR,
			fmt.Sprintf("Access denied for user '%s': the admin console is for users with admin: true", u.Name))
	}
	return nil
}

// conn is one admin client.
type conn struct {
	id   uint32
	wc   *wire.Conn
	cli  exec.Client
	user *conf.User
}

func (c *Console) serveConn(nc net.Conn) {
	defer c.wg.Done()
	defer nc.Close()
	id := c.nextID.Add(1)
	wc, login, err := c.auth.Handshake(nc, id, admit)
	if err != nil {
		c.log.Debug("admin handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		return
	}
	c.mu.Lock()
	c.conns[id] = wc
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.conns, id)
		c.mu.Unlock()
	}()
	cn := &conn{id: id, wc: wc, user: login.User, cli: exec.Client{Conn: wc,
		DeprecateEOF: login.Caps&mysql.CLIENT_DEPRECATE_EOF != 0, SessionTrack: login.Caps&mysql.CLIENT_SESSION_TRACK != 0}}
	c.log.Info("admin session", "user", login.User.Name, "remote", nc.RemoteAddr().String())
	for !c.closing.Load() {
		wc.ResetSeq()
		p, err := wc.ReadPacket()
		if err != nil {
			return
		}
		wc.SyncSeqAfterRead()
		if len(p) == 0 {
			continue
		}
		switch p[0] {
		case mysql.COM_QUIT:
			return
		case mysql.COM_PING, mysql.COM_INIT_DB, mysql.COM_RESET_CONNECTION:
			cn.ok(0, "")
		case mysql.COM_QUERY:
			c.query(cn, string(p[1:]))
		default:
			cn.err(mysql.NewError(mysql.ER_UNKNOWN_COM_ERROR, "shardgate admin console: unsupported command; send SQL text (HELP lists the statements)"))
		}
		if err := wc.Flush(); err != nil {
			return
		}
		wc.ShrinkBuffers()
	}
}

// query runs one admin statement; a panic is a bug, answered as an error.
func (c *Console) query(cn *conn, sql string) {
	mark := cn.wc.Mark()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in the admin console", "statement", sql, "panic", r, "stack", string(debug.Stack()))
			cn.wc.Rewind(mark)
			cn.err(mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf("shardgate internal error: %v", r)))
		}
	}()
	res, err := c.execute(cn, strings.TrimSpace(sql))
	if err != nil {
		var me *mysql.MyError
		if !errors.As(err, &me) {
			me = mysql.NewError(mysql.ER_UNKNOWN_ERROR, err.Error())
		}
		cn.err(me)
		return
	}
	if res.cols == nil {
		cn.ok(res.affected, res.info)
		return
	}
	cols := make([]wire.Column, len(res.cols))
	for i, col := range res.cols {
		if col.num {
			cols[i] = exec.IntColumn(col.name)
		} else {
			cols[i] = exec.TextColumn(col.name)
		}
	}
	exec.WriteResult(&cn.cli, cols, res.rows, mysql.SERVER_STATUS_AUTOCOMMIT)
}

func (cn *conn) ok(affected uint64, info string) {
	ok := wire.OK{AffectedRows: affected, Status: mysql.SERVER_STATUS_AUTOCOMMIT, Info: []byte(info)}
	cn.wc.WritePacket(wire.AppendOK(nil, wire.OKHeader, &ok, cn.cli.SessionTrack))
}

func (cn *conn) err(e *mysql.MyError) {
	cn.wc.WritePacket(wire.AppendErr(nil, e))
}

// col is a result column; num columns are BIGINT, the rest text.
type col struct {
	name string
	num  bool
}

// result is a statement's answer: rows under cols, or an OK.
type result struct {
	cols     []col
	rows     [][]any
	affected uint64
	info     string
}

func cols(names ...string) []col {
	out := make([]col, len(names))
	for i, n := range names {
		num := strings.HasPrefix(n, "#")
		out[i] = col{name: strings.TrimPrefix(n, "#"), num: num}
	}
	return out
}

func okResult(info string) *result { return &result{info: info} }
