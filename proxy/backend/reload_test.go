package backend

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/conf"
)

const reloadBase = `users: [{name: u, schemas: [s]}]
data_hosts:
  - {name: dh0, primary: "127.0.0.1:1", replicas: [{addr: "127.0.0.1:2"}], heartbeat: 1h}
  - {name: dh1, primary: "127.0.0.1:3", heartbeat: 1h}
data_nodes: [{name: n0, host: dh0, database: d0}, {name: n1, host: dh1, database: d1}]
schemas: [{name: s, default_node: n0}]
`

func TestRebuildKeepsUnchangedHosts(t *testing.T) {
	c1, err := conf.Parse("a.yaml", []byte(reloadBase))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(reloadBase, `primary: "127.0.0.1:3", heartbeat: 1h}`, `primary: "127.0.0.1:3", heartbeat: 1h, pool: {max: 3}}
  - {name: dh2, primary: "127.0.0.1:4", heartbeat: 1h}`, 1)
	text = strings.Replace(text, "n1, host: dh1, database: d1}", "n1, host: dh1, database: d1}, {name: n2, host: dh2, database: d2}", 1)
	c2, err := conf.Parse("a.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cl := NewCluster(c1)
	defer cl.Close()
	r := cl.Hosts["dh0"].Server("127.0.0.1:2")
	if err := r.SetOffline(true); err != nil || r.Role() != RoleOffline {
		t.Fatalf("offline: %v %v", err, r.Role())
	}
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	next, retired, err := cl.Rebuild(c2, log, filepath.Join(t.TempDir(), "state.json"), &mu)
	if err != nil {
		t.Fatal(err)
	}
	if next.Hosts["dh0"] != cl.Hosts["dh0"] || next.Hosts["dh0"].Server("127.0.0.1:2").Role() != RoleOffline {
		t.Error("dh0 did not change: it must be carried over with its state")
	}
	if next.Hosts["dh1"] == cl.Hosts["dh1"] || next.Hosts["dh1"].Primary().Pool.Max() != 3 || next.Hosts["dh2"] == nil {
		t.Error("dh1 changed and dh2 is new: both must be made new")
	}
	if len(retired) != 1 || retired[0] != cl.Hosts["dh1"] {
		t.Errorf("retired: %v", retired)
	}
	if next.Nodes["n2"].Host != next.Hosts["dh2"] || next.Nodes["n0"].Host != cl.Hosts["dh0"] {
		t.Error("nodes point at the new cluster's hosts")
	}
	Retire(retired, time.Millisecond)
	next.Discard(cl)
	time.Sleep(10 * time.Millisecond)
	if _, err := retired[0].Primary().Pool.Get(t.Context(), Plain, nil, 0); err == nil || !strings.Contains(err.Error(), "shut down") {
		t.Errorf("a retired pool is closed after the grace period: %v", err)
	}
}

func TestOfflineRules(t *testing.T) {
	c, err := conf.Parse("a.yaml", []byte(reloadBase))
	if err != nil {
		t.Fatal(err)
	}
	cl := NewCluster(c)
	defer cl.Close()
	h := cl.Hosts["dh0"]
	if err := h.Primary().SetOffline(true); err == nil || !strings.Contains(err.Error(), "SWITCH PRIMARY") {
		t.Errorf("primary offline: %v", err)
	}
	r := h.Server("127.0.0.1:2")
	_ = r.SetOffline(true)
	if s, _ := h.ReadServer(nil, true); s != h.Primary() {
		t.Error("an offline replica serves no reads")
	}
	if len(h.Replicas()) != 0 {
		t.Error("an offline replica is no switch candidate")
	}
	if err := r.SetOffline(false); err != nil || r.Role() != RoleReplica {
		t.Errorf("online: %v %v", err, r.Role())
	}
}
