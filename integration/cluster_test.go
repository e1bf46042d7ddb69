//go:build integration

package integration

// Cluster mode: several shardgate nodes sharing their config, failover
// decisions, XA decisions and snowflake worker ids through a three-member
// etcd cluster (scripts/etcd.sh).

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clusterNode is one shardgate node of a test cluster.
type clusterNode struct {
	*Proxy
	Admin string
	dir   string
}

// clusterName is a fresh cluster name: each test starts with an empty
// cluster in the shared etcd.
func clusterName(t testing.TB) string {
	return strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// clusterShared is the cluster's document of the tests: the bank schema
// (bankConfig's) over the two main data hosts, and an admin user.
func clusterShared() string {
	b := bankConfig("xa")
	b = strings.Replace(b, "listen: {{LISTEN}}\n", "", 1)
	return strings.Replace(b, "users:\n", "users:\n  - {name: ops, password: ops, admin: true}\n", 1)
}

// startClusterNode starts a node of cluster name with the given shared
// document (what seeds an empty cluster) and environment.
func startClusterNode(t testing.TB, endpoints []string, name, shared string, env ...string) *clusterNode {
	t.Helper()
	n := &clusterNode{Admin: fmt.Sprintf("127.0.0.1:%d", freePort(t)), dir: t.TempDir()}
	cfg := "listen: {{LISTEN}}\nadmin: " + n.Admin + "\n" +
		"cluster: {endpoints: [" + strings.Join(endpoints, ", ") + "], name: " + name + ", lease_ttl: 2s}\n" + shared
	n.Proxy = StartProxyEnv(t, n.dir, cfg, env...)
	waitListen(t, n.Admin)
	return n
}

func (n *clusterNode) console(t testing.TB) *sql.DB {
	return Open(t, DSN("ops", "ops", n.Admin, ""))
}

func (n *clusterNode) app(t testing.TB) *sql.DB {
	return Open(t, DSN("app", "app", n.Addr, "bank"))
}

// clusterNodes lists SHOW CLUSTER NODES: node id → row.
func clusterNodes(t testing.TB, console *sql.DB) map[string]map[string]string {
	t.Helper()
	nodes, err := clusterNodesErr(console)
	if err != nil {
		t.Fatal(err)
	}
	return nodes
}

// TestClusterConfig: a table rule made through one node's console is used
// through the two others; two edits at once: one wins, the other is told;
// ROLLBACK CONFIG on one node rolls every node back; the nodes are listed
// with their addresses, and a stopped node leaves the list.
func TestClusterConfig(t *testing.T) {
	eps := StartEtcd(t)
	name := clusterName(t)
	a := startClusterNode(t, eps, name, clusterShared())
	b := startClusterNode(t, eps, name, clusterShared())
	c := startClusterNode(t, eps, name, clusterShared())
	setupBank(t, a.app(t))

	// Membership: three nodes, one leader, distinct worker ids.
	var nodes map[string]map[string]string
	eventually(t, 10*time.Second, "three nodes listed, one leading", func() bool {
		nodes = clusterNodes(t, a.console(t))
		leaders := 0
		for _, n := range nodes {
			if n["leader"] == "yes" {
				leaders++
			}
		}
		return len(nodes) == 3 && leaders == 1
	})
	addrs, workers := map[string]bool{}, map[string]bool{}
	for _, n := range nodes {
		addrs[n["addr"]], workers[n["worker_id"]] = true, true
	}
	if !addrs[a.Addr] || !addrs[b.Addr] || !addrs[c.Addr] || len(workers) != 3 {
		t.Errorf("SHOW CLUSTER NODES: %v; want the three nodes' addresses and three worker ids", nodes)
	}

	// A rule created through A serves through B and C.
	MustExec(t, a.console(t), "CREATE SHARDING TABLE RULE notes (COLUMN=id, ALGORITHM=mod, SHARDS=2, NODES=(b0,b1)) IN bank")
	edited := time.Now()
	var seen [2]time.Duration
	var wg sync.WaitGroup
	for i, n := range []*clusterNode{b, c} {
		wg.Add(1)
		go func(i int, n *clusterNode) {
			defer wg.Done()
			db := n.console(t)
			for time.Since(edited) < 20*time.Second {
				s := consoleText(db, "SHOW RULES FROM bank")
				if strings.Contains(s, "notes") {
					seen[i] = time.Since(edited)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}(i, n)
	}
	wg.Wait()
	if seen[0] == 0 || seen[1] == 0 {
		t.Fatalf("the rule made through node A did not reach B (%v) and C (%v) within 20s", seen[0], seen[1])
	}
	t.Logf("a rule made through A's console was live on B after %v and on C after %v", seen[0].Round(time.Millisecond), seen[1].Round(time.Millisecond))
	MustExec(t, c.app(t), "DROP TABLE IF EXISTS notes", "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(20))")
	MustExec(t, b.app(t), "INSERT INTO notes VALUES (1, 'one'), (2, 'two'), (3, 'three')")
	if got := consoleText(a.app(t), "SELECT body FROM notes ORDER BY id"); got != "one two three " {
		t.Errorf("notes through A: %q", got)
	}
	for db, want := range map[string]string{"bank_0.notes_0": "1", "bank_1.notes_1": "2"} { // id 2 | ids 1, 3
		addr := dh0Primary
		if db == "bank_1.notes_1" {
			addr = dh1Primary
		}
		if got := QueryString(t, Open(t, DSN("sg", "sg", addr, "")), "SELECT COUNT(*) FROM "+db); got != want {
			t.Errorf("%s holds %s rows, want %s (placed by the rule made on A)", db, got, want)
		}
	}

	// Two DBAs at once, on two nodes: exactly one wins each round.
	conflicts := 0
	for round := 0; round < 10 && conflicts == 0; round++ {
		var errs [2]error
		start := make(chan struct{})
		var w sync.WaitGroup
		for i, n := range []*clusterNode{a, b} {
			w.Add(1)
			go func(i int, db *sql.DB) {
				defer w.Done()
				<-start
				_, errs[i] = db.Exec(fmt.Sprintf("CREATE SHARDING TABLE RULE race%d_%d (COLUMN=id, ALGORITHM=mod, SHARDS=2, NODES=(b0,b1)) IN bank", round, i))
			}(i, n.console(t))
		}
		close(start)
		w.Wait()
		switch {
		case errs[0] == nil && errs[1] == nil:
			// One after the other: both applied, in turn.
		case (errs[0] == nil) != (errs[1] == nil):
			e := errs[0]
			if e == nil {
				e = errs[1]
			}
			if !strings.Contains(e.Error(), "changed since this change began") {
				t.Fatalf("round %d: the losing edit's error does not say why: %v", round, e)
			}
			conflicts++
			t.Logf("round %d: one edit won, the other was refused: %v", round, e)
			win, lose := 0, 1
			if errs[0] != nil {
				win, lose = 1, 0
			}
			eventually(t, 10*time.Second, "every node has the winner's rule and not the loser's", func() bool {
				for _, n := range []*clusterNode{a, b, c} {
					rules := consoleText(n.console(t), "SHOW RULES FROM bank")
					if !strings.Contains(rules, fmt.Sprintf("race%d_%d", round, win)) || strings.Contains(rules, fmt.Sprintf("race%d_%d", round, lose)) {
						return false
					}
				}
				return true
			})
		default:
			t.Fatalf("round %d: both edits failed: %v / %v", round, errs[0], errs[1])
		}
	}
	if conflicts == 0 {
		t.Errorf("10 rounds of two simultaneous edits never conflicted")
	}
	// Every node runs the same version.
	eventually(t, 10*time.Second, "every node runs the cluster's version", func() bool {
		vs := map[string]bool{}
		for _, n := range clusterNodes(t, c.console(t)) {
			vs[n["config_version"]] = true
		}
		return len(vs) == 1
	})

	// ROLLBACK CONFIG through C: the notes rule goes away everywhere
	// (rolled back step by step to the version before it).
	versions := showVersions(t, c.console(t))
	target := 0
	for _, v := range versions {
		if strings.Contains(v.statement, "CREATE SHARDING TABLE RULE notes") {
			target = v.n - 1
		}
	}
	MustExec(t, c.console(t), fmt.Sprintf("ROLLBACK CONFIG TO %d FORCE", target))
	for _, n := range []*clusterNode{a, b} {
		eventually(t, 10*time.Second, "the rollback reaches "+n.Addr, func() bool {
			_, err := n.app(t).Exec("INSERT INTO notes VALUES (4, 'four')")
			return err != nil && strings.Contains(err.Error(), "notes")
		})
	}

	// A node that stops leaves the list once its lease is gone.
	b.Stop()
	eventually(t, 10*time.Second, "the stopped node leaves SHOW CLUSTER NODES", func() bool {
		for _, n := range clusterNodes(t, a.console(t)) {
			if n["addr"] == b.Addr {
				return false
			}
		}
		return true
	})
}

// consoleText is every cell of a statement's answer, row by row, each
// followed by a space ("" on error).
func consoleText(db *sql.DB, query string) string {
	rs, err := db.Query(query)
	if err != nil {
		return ""
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var b strings.Builder
	for rs.Next() {
		_ = rs.Scan(ptrs...)
		for _, v := range vals {
			b.WriteString(v.String + " ")
		}
	}
	return b.String()
}

type versionRow struct {
	n         int
	statement string
}

func showVersions(t testing.TB, console *sql.DB) []versionRow {
	t.Helper()
	rows, err := console.Query("SHOW CONFIG VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []versionRow
	for rows.Next() {
		var v versionRow
		var at, user, cur, file sql.NullString
		if err := rows.Scan(&v.n, &at, &user, &v.statement, &cur, &file); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestClusterXARecovery kills a node (SIGKILL, by the fault hook) in the
// middle of its commits, with transfers running through it; another node
// resolves what it left prepared once its lease has expired.
func TestClusterXARecovery(t *testing.T) {
	eps := StartEtcd(t)
	name := clusterName(t)
	b := startClusterNode(t, eps, name, clusterShared())
	setupBank(t, b.app(t))
	recovered := 0
	next := 100000
	for _, point := range []string{"xa-after-prepare", "xa-after-decision", "xa-after-first-commit"} {
		for run := 0; run < 2; run++ {
			a := startClusterNode(t, eps, name, clusterShared(), fmt.Sprintf("SG_FAULT=%s:%d", point, 5+5*run))
			db := a.app(t)
			db.SetMaxOpenConns(4)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			var mu sync.Mutex
			var acked []int
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						mu.Lock()
						k := next
						next++
						mu.Unlock()
						if transfer(ctx, db, k, 1+k%7) != nil {
							return
						}
						mu.Lock()
						acked = append(acked, k)
						mu.Unlock()
					}
				}()
			}
			if !a.Exited(20 * time.Second) {
				t.Fatalf("%s: the fault hook did not fire", point)
			}
			cancel()
			wg.Wait()
			killed := time.Now()
			left := len(preparedBranches(t))
			// Node B (alive) resolves node A's branches: A's lease expires
			// (2s), then B's next recovery pass (every lease TTL).
			eventually(t, 40*time.Second, "node B resolves the dead node's prepared branches", func() bool {
				return len(preparedBranches(t)) == 0
			})
			recovered += left
			checkBank(t, b.app(t))
			for _, k := range acked {
				if QueryString(t, b.app(t), fmt.Sprintf("SELECT COUNT(*) FROM legs WHERE tx = %d", k)) != "2" {
					t.Errorf("%s: transfer %d was acknowledged but is not there", point, k)
				}
			}
			t.Logf("%s run %d: node A killed with %d branches prepared; node B resolved them %v later; %d acknowledged transfers all present",
				point, run, left, time.Since(killed).Round(100*time.Millisecond), len(acked))
			if t.Failed() {
				t.Fatalf("node B's log:\n%s", tail(b.Log(), 40))
			}
		}
	}
	if recovered == 0 {
		t.Errorf("no crash left a branch prepared: the test did not test recovery by another node")
	}
}

// TestClusterFailover kills a primary with three nodes running: exactly one
// node promotes, and every node sends writes to the new primary.
func TestClusterFailover(t *testing.T) {
	haUp(t)
	_, rid := serverIDs(t)
	t.Cleanup(func() { haTopo(t, "destroy") })
	eps := StartEtcd(t)
	name := clusterName(t)
	shared := strings.Replace(haConfig("failover: auto", "failover_after: 2s"), "listen: {{LISTEN}}\n", "", 1)
	shared = strings.Replace(shared, "users:\n", "users:\n  - {name: ops, password: ops, admin: true}\n", 1)
	var nodes []*clusterNode
	for i := 0; i < 3; i++ {
		nodes = append(nodes, startClusterNode(t, eps, name, shared))
	}
	MustExec(t, Open(t, DSN("app", "app", nodes[0].Addr, "ha")), "CREATE TABLE IF NOT EXISTS cw (id INT AUTO_INCREMENT PRIMARY KEY, node INT)")
	haCatchUp(t)
	haTopo(t, "kill", "dh0-primary")
	killed := time.Now()
	for i, n := range nodes {
		db := Open(t, DSN("app", "app", n.Addr, "ha"))
		eventually(t, 60*time.Second, fmt.Sprintf("node %d writes to the new primary", i), func() bool {
			_, err := db.Exec("INSERT INTO cw (node) VALUES (?)", i)
			return err == nil
		})
		if got := serverOf(t, db, "/* shardgate:primary */ SELECT @@server_id"); got != rid {
			t.Errorf("node %d: the primary is server %s, want the promoted replica %s", i, got, rid)
		}
	}
	t.Logf("every node wrote to the new primary %v after the kill", time.Since(killed).Round(100*time.Millisecond))
	promotions := 0
	for i, n := range nodes {
		c := strings.Count(n.Log(), "failing over (cluster leader)")
		promotions += c
		if c > 0 {
			t.Logf("node %d (the leader) promoted the replica", i)
		}
	}
	if promotions != 1 {
		t.Errorf("%d promotions, want exactly 1", promotions)
	}
	if got := QueryString(t, Open(t, DSN("sg", "sg", haReplica, "ha")), "SELECT COUNT(DISTINCT node) FROM cw"); got != "3" {
		t.Errorf("writes of %s nodes on the new primary, want 3", got)
	}
}
