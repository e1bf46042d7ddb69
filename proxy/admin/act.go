package admin

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
)

// changesResult shows what a swap did, ending with the version row.
func (c *Console) changesResult(a *applied) *result {
	r := &result{cols: cols("change", "target", "detail")}
	for _, ch := range a.changes {
		r.rows = append(r.rows, []any{ch.what, nilIf(ch.target), nilIf(ch.detail)})
	}
	if a.version != 0 {
		r.rows = append(r.rows, []any{"version", strconv.Itoa(a.version), c.mgr.vers.file(a.version)})
	}
	return r
}

func (c *Console) reload(cn *conn, sql string, force bool) (*result, error) {
	a, err := c.mgr.Reload(cn.user.Name, sql, force)
	if err != nil {
		return nil, errf("%s", errorLines(err))
	}
	return c.changesResult(a), nil
}

func (c *Console) rollback(cn *conn, n int, sql string, force bool) (*result, error) {
	a, err := c.mgr.Rollback(n, cn.user.Name, sql, force)
	if err != nil {
		return nil, errf("%s", errorLines(err))
	}
	return c.changesResult(a), nil
}

// switchPrimary: SWITCH PRIMARY dh TO 'addr', or Mycat's
// switch @@datasource dh:addr (dh:index, counting the configured primary 0).
func (c *Console) switchPrimary(t *tokens) (*result, error) {
	var dhName, target string
	switch {
	case t.accept("PRIMARY"):
		var err error
		if dhName, err = t.name("data host name"); err != nil {
			return nil, err
		}
		if !t.accept("TO") {
			return nil, t.errorf("TO expected")
		}
		if target, err = t.value("server address"); err != nil {
			return nil, err
		}
		// An unquoted host:port lexes as several tokens.
		for !t.done() {
			target += t.text(t.i)
			t.i++
		}
	case t.accept("@@DATASOURCE"):
		arg := strings.Trim(t.rest(), "'\"` ")
		t.i = len(t.list)
		var ok bool
		if dhName, target, ok = strings.Cut(arg, ":"); !ok {
			return nil, errf("switch @@datasource wants data_host:server (an address or an index)")
		}
	default:
		return nil, t.errorf("SWITCH PRIMARY dh TO 'addr' expected")
	}
	snap := c.holder.Load()
	h := snap.Cluster.Hosts[dhName]
	if h == nil {
		return nil, errf("no data host %q", dhName)
	}
	to := h.Server(target)
	if to == nil {
		if i, err := strconv.Atoi(target); err == nil {
			cfg := h.Config()
			switch {
			case i == 0:
				to = h.Server(cfg.Primary)
			case i > 0 && i <= len(cfg.Replicas):
				to = h.Server(cfg.Replicas[i-1].Addr)
			}
		}
	}
	if to == nil {
		var addrs []string
		for _, s := range h.Servers() {
			addrs = append(addrs, s.Addr)
		}
		return nil, errf("%s is not a server of data host %s (%s)", target, dhName, strings.Join(addrs, ", "))
	}
	old := h.Primary()
	switch {
	case to == old:
		return nil, errf("%s is already the primary of %s", to.Addr, h.Name)
	case to.Offline():
		return nil, errf("%s is offline: SET SERVER '%s' ONLINE first", to.Addr, to.Addr)
	case to.Role() == backend.RoleFenced:
		return nil, errf("%s is a fenced former primary: it cannot be promoted", to.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	if err := h.Failover(ctx, to, false, 0); err != nil {
		return nil, errf("switch of %s refused or failed: %v", h.Name, err)
	}
	c.log.Info("planned switch from the admin console", "data_host", h.Name, "from", old.Addr, "to", to.Addr)
	return okResult(fmt.Sprintf("%s: primary is now %s (was %s), took %v", h.Name, to.Addr, old.Addr, time.Since(start).Round(time.Millisecond))), nil
}

// setServer: SET SERVER 'addr' OFFLINE | ONLINE.
func (c *Console) setServer(t *tokens) (*result, error) {
	addr, err := t.value("server address")
	if err != nil {
		return nil, err
	}
	for !t.done() && t.peek() != "OFFLINE" && t.peek() != "ONLINE" {
		addr += t.text(t.i)
		t.i++
	}
	w, ok := t.acceptAny("OFFLINE", "ONLINE")
	if !ok {
		return nil, t.errorf("OFFLINE or ONLINE expected")
	}
	if err := t.end(); err != nil {
		return nil, err
	}
	snap := c.holder.Load()
	var srv *backend.Server
	for _, h := range hosts(snap) {
		if s := h.Server(addr); s != nil {
			srv = s
		}
	}
	if srv == nil {
		return nil, errf("no server %s in any data host", addr)
	}
	if err := srv.SetOffline(w == "OFFLINE"); err != nil {
		return nil, errf("%v", err)
	}
	c.log.Info("server state set from the admin console", "server", addr, "state", strings.ToLower(w))
	if w == "OFFLINE" {
		return okResult(fmt.Sprintf("%s is offline: no new statements, its pool is drained", addr)), nil
	}
	return okResult(fmt.Sprintf("%s is online: it serves reads again once its checks pass", addr)), nil
}

// kill: KILL SESSION n[, n...] or kill @@connection n[, n...].
func (c *Console) kill(t *tokens) (*result, error) {
	if !t.accept("SESSION") && !t.accept("@@CONNECTION") && !t.accept("CONNECTION") {
		return nil, t.errorf("KILL SESSION n expected")
	}
	var ids []uint32
	for {
		v, err := t.value("session id")
		if err != nil {
			return nil, err
		}
		id, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, t.errorf("session id expected")
		}
		ids = append(ids, uint32(id))
		if !t.accept(",") {
			break
		}
	}
	if err := t.end(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if c.registry.Get(id) == nil {
			return nil, mysql.NewDefaultError(mysql.ER_NO_SUCH_THREAD, id)
		}
	}
	for _, id := range ids {
		if s := c.registry.Get(id); s != nil {
			s.Kill(false)
			c.log.Info("session killed from the admin console", "session", id)
		}
	}
	return &result{affected: uint64(len(ids)), info: fmt.Sprintf("%d session(s) killed", len(ids))}, nil
}
