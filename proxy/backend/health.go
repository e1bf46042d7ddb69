package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardgate/shardgate/proxy/wire"
)

// Every server is checked every heartbeat on a connection of its own: the
// primary must answer; a replica must answer and replicate, and its lag
// and applied GTIDs decide whether it serves reads. A primary down for
// failover_after is replaced by its most advanced replica when failover
// is auto; the switch is recorded in the state file so a restart keeps it.

// Start applies the recorded state and starts the health checks.
func (cl *Cluster) Start(log *slog.Logger, statePath string) error {
	st, err := LoadTopologyState(statePath)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	for _, h := range cl.Hosts {
		h.log = func(msg string, args ...any) { log.Info(msg, append([]any{"data_host", h.Name}, args...)...) }
		if hs, ok := st.Hosts[h.Name]; ok {
			if err := h.apply(hs); err != nil {
				log.Warn("ignoring recorded state", "data_host", h.Name, "err", err)
			}
		}
		h.onSwitch = func(host, primary string, fenced []string) {
			mu.Lock()
			defer mu.Unlock()
			st.Hosts[host] = HostState{Primary: primary, Fenced: fenced}
			if err := st.Save(statePath); err != nil {
				log.Error("cannot record the new primary", "data_host", host, "err", err)
			}
		}
		go h.monitor()
	}
	return nil
}

// apply makes a recorded primary current.
func (h *DataHost) apply(hs HostState) error {
	var next *Server
	for _, s := range h.servers {
		if s.Addr == hs.Primary {
			next = s
		}
	}
	if next == nil {
		return fmt.Errorf("recorded primary %s is not a server of this data host", hs.Primary)
	}
	for _, s := range h.servers {
		switch {
		case s == next:
			s.setRole(RolePrimary)
		case contains(hs.Fenced, s.Addr):
			s.setRole(RoleFenced)
		default:
			s.setRole(RoleReplica)
		}
	}
	h.primary.Store(next)
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// monitor checks the servers every heartbeat and starts failovers.
func (h *DataHost) monitor() {
	conns := map[*Server]*Conn{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	t := time.NewTicker(h.cfg.Heartbeat)
	defer t.Stop()
	for {
		for _, s := range h.servers {
			if s.Role() == RoleFenced {
				continue
			}
			if err := h.check(s, conns); err != nil {
				if s.Up() || s.LastError() != err.Error() {
					h.log("server check failed", "server", s.Addr, "role", s.Role(), "err", err)
				}
				s.markDown(err)
			} else if !s.Up() {
				h.log("server is back", "server", s.Addr, "role", s.Role())
				s.up.Store(true)
			}
		}
		h.considerFailover()
		select {
		case <-h.quit:
			return
		case <-t.C:
		}
	}
}

// check runs one server's health check.
func (h *DataHost) check(s *Server, conns map[*Server]*Conn) error {
	limit := max(h.cfg.Heartbeat, time.Second)
	c := conns[s]
	if c == nil {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		var err error
		c, err = dial(ctx, s, Plain)
		cancel()
		if err != nil {
			return err
		}
		conns[s] = c
	}
	_ = c.NetConn().SetDeadline(time.Now().Add(limit))
	err := h.probe(s, c)
	_ = c.NetConn().SetDeadline(time.Time{})
	if err != nil || c.Broken() {
		c.Close()
		delete(conns, s)
	}
	if err == nil {
		s.checkedAt.Store(time.Now().UnixNano())
	}
	return err
}

// probe reads a server's replication state.
func (h *DataHost) probe(s *Server, c *Conn) error {
	if s.Role() == RolePrimary {
		var pos string
		err := c.Query("SELECT @@gtid_binlog_pos", func(_ []wire.ColumnRef, v [][]byte) error {
			pos = string(v[0])
			return nil
		}, nil)
		if err == nil {
			s.NoteApplied(ParseGTIDSet(pos))
			s.lag.Store(0)
		}
		return err
	}
	st, err := slaveStatus(c)
	if err != nil {
		return err
	}
	var pos string
	if err := c.Query("SELECT @@gtid_slave_pos", func(_ []wire.ColumnRef, v [][]byte) error {
		pos = string(v[0])
		return nil
	}, nil); err != nil {
		return err
	}
	s.NoteApplied(ParseGTIDSet(pos))
	lag := int64(-1)
	if st.ioRunning && st.sqlRunning && st.behind >= 0 {
		lag = st.behind
	}
	s.lag.Store(lag)
	return nil
}

type replStatus struct {
	ioRunning, sqlRunning bool
	behind                int64 // -1: NULL
	ioPos                 string
	configured            bool
}

// slaveStatus reads SHOW SLAVE STATUS.
func slaveStatus(c *Conn) (replStatus, error) {
	st := replStatus{behind: -1}
	var defs [][]byte
	err := c.QueryRaw("SHOW SLAVE STATUS", func(d [][]byte) { defs = d }, func(v [][]byte) {
		st.configured = true
		for i, d := range defs {
			col, err := wire.ParseColumnDef(d)
			if err != nil {
				continue
			}
			switch string(col.Name) {
			case "Slave_IO_Running":
				st.ioRunning = string(v[i]) == "Yes"
			case "Slave_SQL_Running":
				st.sqlRunning = string(v[i]) == "Yes"
			case "Seconds_Behind_Master":
				if v[i] != nil {
					n := 0
					fmt.Sscan(string(v[i]), &n)
					st.behind = int64(n)
				}
			case "Gtid_IO_Pos":
				st.ioPos = string(v[i])
			}
		}
	})
	return st, err
}

// considerFailover starts an automatic failover when the primary has
// failed its checks for failover_after.
func (h *DataHost) considerFailover() {
	p := h.Primary()
	h.mu.Lock()
	if p.Up() {
		h.downSince = time.Time{}
		h.mu.Unlock()
		return
	}
	if h.downSince.IsZero() {
		h.downSince = time.Now()
	}
	down := time.Since(h.downSince)
	due := h.cfg.Failover == "auto" && down >= h.cfg.FailoverAfter && h.switching == nil && !h.deciding
	if due {
		h.deciding = true
	}
	h.mu.Unlock()
	if due {
		go func() {
			defer func() {
				h.mu.Lock()
				h.deciding = false
				h.mu.Unlock()
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := h.Failover(ctx, nil, true, down); err != nil {
				h.log("failover failed", "err", err)
			}
		}()
	}
}

// Decider decides a switch of primary for the whole cluster of proxies
// (cluster mode): it is called instead of Switch. down is how long the
// primary has been failing its checks (0 for a planned switch).
type Decider func(ctx context.Context, h *DataHost, to *Server, failed bool, down time.Duration) error

type deciderHolder struct{ fn atomic.Pointer[Decider] }

// SetDecider makes d decide every switch of the cluster's data hosts
// (those of later reloads too).
func (cl *Cluster) SetDecider(d Decider) { cl.decider.fn.Store(&d) }

// Failover switches the primary (to nil: the best replica), or has the
// cluster's decider do it.
func (h *DataHost) Failover(ctx context.Context, to *Server, failed bool, down time.Duration) error {
	if h.decider != nil {
		if d := h.decider.fn.Load(); d != nil {
			return (*d)(ctx, h, to, failed, down)
		}
	}
	if failed {
		h.log("primary down, failing over", "primary", h.Primary().Addr, "down_for", down.Round(time.Millisecond))
	}
	return h.Switch(ctx, to, failed)
}

// Switch makes another server the primary. to nil picks the most
// advanced healthy replica. With failed (the primary is gone) the old
// primary is fenced; otherwise (a planned switch) it is made read-only
// first, the new primary catches up with it, and it becomes a replica.
func (h *DataHost) Switch(ctx context.Context, to *Server, failed bool) error {
	h.mu.Lock()
	if h.switching != nil {
		h.mu.Unlock()
		return fmt.Errorf("data host %s is already switching its primary", h.Name)
	}
	done := make(chan struct{})
	h.switching = done
	h.inSwitch.Store(true)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.switching = nil
		h.inSwitch.Store(false)
		h.downSince = time.Time{}
		h.mu.Unlock()
		close(done)
	}()
	start := time.Now()
	old := h.Primary()
	var catchUp string
	if !failed {
		oc, err := dial(ctx, old, Plain)
		if err != nil {
			return fmt.Errorf("planned switch: the current primary %s does not answer: %w", old.Addr, err)
		}
		defer oc.Close()
		if _, err := oc.Exec("SET GLOBAL read_only = 1"); err != nil {
			return fmt.Errorf("planned switch: cannot make %s read-only: %w", old.Addr, err)
		}
		if err := oc.Query("SELECT @@gtid_binlog_pos", func(_ []wire.ColumnRef, v [][]byte) error {
			catchUp = string(v[0])
			return nil
		}, nil); err != nil {
			return err
		}
	}
	cands := h.Replicas()
	if to != nil {
		cands = []*Server{to}
	}
	best, err := mostAdvanced(ctx, cands)
	if err != nil {
		return fmt.Errorf("no replica of %s answers: cannot promote", h.Name)
	}
	defer best.c.Close()
	// Apply everything received (or, planned, everything the old primary has).
	wait := best.pos
	if catchUp != "" {
		wait = catchUp
	}
	if wait != "" {
		var res string
		if err := best.c.Query("SELECT MASTER_GTID_WAIT("+QuoteString(wait)+", 30)", func(_ []wire.ColumnRef, v [][]byte) error {
			res = string(v[0])
			return nil
		}, nil); err != nil {
			return err
		}
		if res != "0" {
			return fmt.Errorf("replica %s did not apply %s in 30s", best.s.Addr, wait)
		}
	}
	for _, q := range []string{"STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = 0"} {
		if _, err := best.c.Exec(q); err != nil {
			return fmt.Errorf("promoting %s: %s: %w", best.s.Addr, q, err)
		}
	}
	// Point the others at the new primary.
	host, port, _ := net.SplitHostPort(best.s.Addr)
	user, password := h.cfg.Replication()
	change := fmt.Sprintf("CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER=%s, MASTER_PASSWORD=%s, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
		QuoteString(host), port, QuoteString(user), QuoteString(password))
	followers := h.Replicas()
	if !failed {
		followers = append(followers, old)
	}
	for _, s := range followers {
		if s == best.s {
			continue
		}
		c, err := dial(ctx, s, Plain)
		if err == nil {
			for _, q := range []string{"STOP SLAVE", change, "START SLAVE"} {
				if _, err = c.Exec(q); err != nil {
					break
				}
			}
			c.Close()
		}
		if err != nil {
			h.log("cannot repoint replica; it serves no reads until it is fixed", "server", s.Addr, "err", err)
			s.markDown(err)
		}
		s.setRole(RoleReplica)
	}
	best.s.setRole(RolePrimary)
	best.s.up.Store(true)
	if failed {
		old.setRole(RoleFenced)
	}
	h.primary.Store(best.s)
	old.Pool.Drain()
	if h.onSwitch != nil {
		h.onSwitch(h.Name, best.s.Addr, h.Fenced())
	}
	h.failovers.Add(1)
	h.log("new primary", "primary", best.s.Addr, "old", old.Addr, "took", time.Since(start).Round(time.Millisecond), "planned", !failed)
	return nil
}

// candidate is a replica that answered, with its received GTIDs.
type candidate struct {
	s   *Server
	c   *Conn
	pos string
}

// mostAdvanced dials the candidates and returns the one that has received
// the most, with its connection open.
func mostAdvanced(ctx context.Context, cands []*Server) (*candidate, error) {
	var best *candidate
	for _, s := range cands {
		c, err := dial(ctx, s, Plain)
		if err != nil {
			continue
		}
		st, err := slaveStatus(c)
		if err != nil {
			c.Close()
			continue
		}
		cd := &candidate{s, c, st.ioPos}
		if best == nil || ParseGTIDSet(cd.pos).total() > ParseGTIDSet(best.pos).total() {
			if best != nil {
				best.c.Close()
			}
			best = cd
		} else {
			c.Close()
		}
	}
	if best == nil {
		return nil, errors.New("no replica answers")
	}
	return best, nil
}

// BestReplica returns the replica a failover would promote: the most
// advanced one that answers.
func (h *DataHost) BestReplica(ctx context.Context) (*Server, error) {
	best, err := mostAdvanced(ctx, h.Replicas())
	if err != nil {
		return nil, fmt.Errorf("no replica of %s answers: cannot promote", h.Name)
	}
	best.c.Close()
	return best.s, nil
}

// Follow makes primary the data host's primary and fences those listed,
// as another proxy decided (cluster mode): no server is touched, only
// this proxy's view.
func (h *DataHost) Follow(primary string, fenced []string) error {
	old := h.Primary()
	changedFence := false
	for _, s := range h.servers {
		if (s.Role() == RoleFenced) != contains(fenced, s.Addr) {
			changedFence = true
		}
	}
	if old.Addr == primary && !changedFence {
		return nil
	}
	if err := h.apply(HostState{Primary: primary, Fenced: fenced}); err != nil {
		return err
	}
	if old.Addr != primary {
		h.Primary().up.Store(true)
		old.Pool.Drain()
		h.failovers.Add(1)
		h.log("new primary (decided by the cluster)", "primary", primary, "old", old.Addr)
	}
	if h.onSwitch != nil {
		h.onSwitch(h.Name, primary, fenced)
	}
	return nil
}

// Fenced lists the addresses of the fenced former primaries.
func (h *DataHost) Fenced() []string {
	var out []string
	for _, s := range h.servers {
		if s.Role() == RoleFenced {
			out = append(out, s.Addr)
		}
	}
	sort.Strings(out)
	return out
}

// TopologyState is what must survive a restart: each data host's primary after a
// switch, and the former primaries kept out.
type TopologyState struct {
	Hosts map[string]HostState `json:"hosts"`
}

// HostState records one data host.
type HostState struct {
	Primary string   `json:"primary"`
	Fenced  []string `json:"fenced,omitempty"`
}

// LoadTopologyState reads the state file; a missing file is an empty state.
func LoadTopologyState(path string) (*TopologyState, error) {
	st := &TopologyState{Hosts: map[string]HostState{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Hosts == nil {
		st.Hosts = map[string]HostState{}
	}
	return st, nil
}

// Save writes the state durably: a temporary file, fsync, rename, fsync
// of the directory.
func (st *TopologyState) Save(path string) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileDurably(path, data)
}

// WriteFileDurably replaces a file so that after a crash it holds either
// the old or the new content, and the new one once this returns.
func WriteFileDurably(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// hostPort is used in messages.
func hostPort(addr string) string { return strings.TrimSpace(addr) }
