package backend

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shardgate/shardgate/conf"
)

func testHost(balance string) *DataHost {
	h := newDataHost(conf.DataHost{Name: "dh0", Primary: "p:1", Balance: balance,
		Replicas:      []conf.Replica{{Addr: "r1:1", Weight: 1}, {Addr: "r2:1", Weight: 3}, {Addr: "r3:1", Weight: 0}},
		MaxReplicaLag: 5 * time.Second, FailoverWait: 50 * time.Millisecond, Failover: "auto", Pool: conf.DefaultPool()})
	return h
}

func server(h *DataHost, addr string) *Server {
	for _, s := range h.servers {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

func TestGTIDSet(t *testing.T) {
	a := ParseGTIDSet("0-1-100,1-2-5")
	if a[0] != 100 || a[1] != 5 {
		t.Fatalf("parsed %v", a)
	}
	if !a.Contains(ParseGTIDSet("0-9-99")) || a.Contains(ParseGTIDSet("0-1-101")) || a.Contains(ParseGTIDSet("2-1-1")) {
		t.Fatal("Contains is wrong")
	}
	if !a.Contains(nil) || !a.Contains(ParseGTIDSet("")) {
		t.Fatal("every set contains the empty set")
	}
	m := a.Merge(ParseGTIDSet("0-1-50,2-3-7"))
	if m[0] != 100 || m[1] != 5 || m[2] != 7 {
		t.Fatalf("merged %v", m)
	}
}

func TestReadServerBalance(t *testing.T) {
	h := testHost("replicas")
	counts := map[string]int{}
	for i := 0; i < 4000; i++ {
		s, wait := h.ReadServer(nil, false)
		if wait {
			t.Fatal("no write to wait for")
		}
		counts[s.Addr]++
	}
	// Weight 1:3, the zero-weight replica and the primary get none.
	if counts["p:1"] != 0 || counts["r3:1"] != 0 || counts["r1:1"] < 800 || counts["r2:1"] < 2600 {
		t.Fatalf("reads by server: %v", counts)
	}

	// A replica over the lag limit, or with replication stopped, is out.
	server(h, "r2:1").lag.Store(6)
	server(h, "r1:1").lag.Store(-1)
	if s, _ := h.ReadServer(nil, false); s.Addr != "p:1" {
		t.Fatalf("no readable replica: read went to %s, want the primary", s.Addr)
	}
	server(h, "r1:1").lag.Store(0)
	server(h, "r1:1").markDown(context.DeadlineExceeded)
	if s, _ := h.ReadServer(nil, false); s.Addr != "p:1" {
		t.Fatalf("replica down: read went to %s, want the primary", s.Addr)
	}

	if s, _ := testHost("primary").ReadServer(nil, false); s.Addr != "p:1" {
		t.Fatalf("balance primary: read went to %s", s.Addr)
	}
	if s, _ := testHost("primary").ReadServer(nil, true); s.Role() != RoleReplica {
		t.Fatalf("replica hint with balance primary: read went to %s", s.Addr)
	}
	all := testHost("all")
	seen := map[Role]bool{}
	for i := 0; i < 200; i++ {
		s, _ := all.ReadServer(nil, false)
		seen[s.Role()] = true
	}
	if !seen[RolePrimary] || !seen[RoleReplica] {
		t.Fatalf("balance all: roles seen %v", seen)
	}
}

func TestReadServerReadYourWrites(t *testing.T) {
	h := testHost("replicas")
	need := ParseGTIDSet("0-1-10")
	server(h, "r1:1").NoteApplied(ParseGTIDSet("0-1-10"))
	server(h, "r2:1").NoteApplied(ParseGTIDSet("0-1-9"))
	for i := 0; i < 100; i++ {
		s, wait := h.ReadServer(need, false)
		if s.Addr != "r1:1" || wait {
			t.Fatalf("read went to %s (wait %v), want the replica that applied the write", s.Addr, wait)
		}
	}
	server(h, "r1:1").lag.Store(-1)
	s, wait := h.ReadServer(need, false)
	if s.Addr != "r2:1" || !wait {
		t.Fatalf("read went to %s (wait %v), want r2 with a wait", s.Addr, wait)
	}
}

func TestPrimaryWait(t *testing.T) {
	h := testHost("replicas")
	p, err := h.PrimaryWait(context.Background(), time.Now().Add(time.Second))
	if err != nil || p.Addr != "p:1" {
		t.Fatalf("healthy primary: %v, %v", p, err)
	}
	// Down with automatic failover: the statement waits, then fails clearly.
	h.Primary().markDown(context.DeadlineExceeded)
	if _, err := h.PrimaryWait(context.Background(), time.Now().Add(50*time.Millisecond)); err == nil {
		t.Fatal("a down primary with no successor: want an error after the wait")
	}
	// It comes back while a statement waits.
	go func() {
		time.Sleep(30 * time.Millisecond)
		h.Primary().up.Store(true)
	}()
	if p, err := h.PrimaryWait(context.Background(), time.Now().Add(5*time.Second)); err != nil || p.Addr != "p:1" {
		t.Fatalf("primary back: %v, %v", p, err)
	}
}

func TestTopologyStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	st, err := LoadTopologyState(path)
	if err != nil || len(st.Hosts) != 0 {
		t.Fatalf("missing file: %v %v", st, err)
	}
	st.Hosts["dh0"] = HostState{Primary: "r1:1", Fenced: []string{"p:1"}}
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadTopologyState(path)
	if err != nil || back.Hosts["dh0"].Primary != "r1:1" || back.Hosts["dh0"].Fenced[0] != "p:1" {
		t.Fatalf("read back %v %v", back, err)
	}
	h := testHost("replicas")
	if err := h.apply(back.Hosts["dh0"]); err != nil {
		t.Fatal(err)
	}
	if h.Primary().Addr != "r1:1" || server(h, "p:1").Role() != RoleFenced || server(h, "r2:1").Role() != RoleReplica {
		t.Fatalf("applied state: primary %s, old primary %s", h.Primary().Addr, server(h, "p:1").Role())
	}
	if err := h.apply(HostState{Primary: "elsewhere:1"}); err == nil {
		t.Fatal("a recorded primary that is not a server of the host must be refused")
	}
}

func TestReadServerPrimaryDown(t *testing.T) {
	h := testHost("primary")
	// The replicas lost their primary: replication stopped, lag unknown.
	for _, s := range h.Replicas() {
		s.lag.Store(-1)
	}
	if s, _ := h.ReadServer(nil, false); s.Role() != RolePrimary {
		t.Fatalf("primary up: read went to %s", s.Addr)
	}
	h.Primary().markDown(context.DeadlineExceeded)
	s, wait := h.ReadServer(nil, false)
	if s.Role() != RoleReplica || wait {
		t.Fatalf("primary down: read went to %s (wait %v), want a replica", s.Addr, wait)
	}
	if s, wait := h.ReadServer(ParseGTIDSet("0-1-5"), false); s.Role() != RoleReplica || !wait {
		t.Fatalf("primary down, write to see: %s wait %v, want a replica and a wait", s.Addr, wait)
	}
}
