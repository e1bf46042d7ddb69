//go:build integration

package integration

// More of cluster mode: nodes riding out an etcd outage (one member, then
// all three), generated ids from several nodes at once (leased snowflake
// worker ids, a shared segment sequence), and HAProxy in front of two
// nodes when one of them is killed.

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// clusterSharedWith is clusterShared with more table rules in schema bank
// (each line "name: {...}", indented by the caller's convention).
func clusterSharedWith(tables ...string) string {
	s := clusterShared()
	const anchor = "      regions:  {global: true}\n"
	if !strings.Contains(s, anchor) {
		panic("bankConfig changed: no regions rule to add tables after")
	}
	var add strings.Builder
	for _, tb := range tables {
		add.WriteString("      " + tb + "\n")
	}
	return strings.Replace(s, anchor, anchor+add.String(), 1)
}

// selfID is the node id of the node whose console this is.
func selfID(t testing.TB, console *sql.DB) string {
	t.Helper()
	for id, n := range clusterNodes(t, console) {
		if n["self"] == "yes" {
			return id
		}
	}
	t.Fatal("SHOW CLUSTER NODES lists no row for the node asked")
	return ""
}

// bankQueries runs what an application does through a node: a
// single-shard read, a multi-row read over both shards and a single-shard
// write. It returns the first error.
func bankQueries(db *sql.DB) error {
	var bal int
	if err := db.QueryRow("SELECT balance FROM accounts WHERE id = 3").Scan(&bal); err != nil {
		return fmt.Errorf("single-shard read: %w", err)
	}
	rows, err := db.Query("SELECT id, balance FROM accounts ORDER BY id")
	if err != nil {
		return fmt.Errorf("multi-row read: %w", err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("multi-row read: %w", err)
	}
	if n != bankAccounts {
		return fmt.Errorf("multi-row read: %d rows, want %d", n, bankAccounts)
	}
	if _, err := db.Exec("UPDATE accounts SET balance = balance WHERE id = 4"); err != nil {
		return fmt.Errorf("single-shard write: %w", err)
	}
	return nil
}

// ruleSQL is a rule edit adding table name to schema bank.
func ruleSQL(name string) string {
	return "CREATE SHARDING TABLE RULE " + name + " (COLUMN=id, ALGORITHM=mod, SHARDS=2, NODES=(b0,b1)) IN bank"
}

// hasRule reports whether SHOW RULES FROM bank lists table name.
func hasRule(db *sql.DB, name string) bool {
	for _, f := range strings.Fields(consoleText(db, "SHOW RULES FROM bank")) {
		if f == name {
			return true
		}
	}
	return false
}

// TestClusterEtcdOutage: with one etcd member of three away, the cluster
// works as usual (edits, their propagation, queries, distributed commits);
// with all three away the nodes keep serving queries on the config they
// run, refuse config edits (saying etcd cannot be reached) and refuse
// two-phase commits (their decision goes to etcd) with 1402, all rolled
// back; once etcd is back, edits work and propagate again and both nodes
// are listed again.
func TestClusterEtcdOutage(t *testing.T) {
	eps := StartEtcd(t)
	// Whatever happens, leave the three members running for later tests
	// (registered first: runs after the nodes are stopped).
	t.Cleanup(func() { etcdScript(t, "up") })
	name := clusterName(t)
	a := startClusterNode(t, eps, name, clusterShared())
	b := startClusterNode(t, eps, name, clusterShared())
	appA, appB := a.app(t), b.app(t)
	conA, conB := a.console(t), b.console(t)
	setupBank(t, appA)
	eventually(t, 10*time.Second, "both nodes listed", func() bool { return len(clusterNodes(t, conA)) == 2 })
	idA := selfID(t, conA)

	// (a) One member of three stopped, the leader (the others' watches end
	// with "no leader" and must be resumed): business as usual.
	leader := EtcdLeader(t)
	EtcdStop(t, leader)
	stopped1 := time.Now()
	start := time.Now()
	_, err := conA.Exec(ruleSQL("outage_a"))
	firstTry := time.Since(start)
	if err != nil {
		t.Logf("(a) etcd member %d (the leader) stopped: the first edit through A failed after %v: %v; retrying", leader, firstTry.Round(time.Millisecond), err)
		attempts := 1
		eventually(t, 30*time.Second, "an edit through A works with one etcd member stopped", func() bool {
			attempts++
			_, err = conA.Exec(ruleSQL("outage_a"))
			if err != nil && strings.Contains(err.Error(), "exists") && hasRule(conA, "outage_a") {
				t.Logf("(a) attempt %d: %v (an earlier attempt that reported failure was applied)", attempts, err)
				return true
			}
			return err == nil
		})
		t.Errorf("(a) with 2 of 3 etcd members up, an edit through A needed %d attempts (%v after the stop); the first failed: see above",
			attempts, time.Since(stopped1).Round(time.Millisecond))
	}
	edited := time.Now()
	eventually(t, 20*time.Second, "(a) the edit through A reaches B", func() bool { return hasRule(conB, "outage_a") })
	t.Logf("(a) etcd member %d (the leader) stopped: an edit through A took %v and was live on B %v later", leader, firstTry.Round(time.Millisecond), time.Since(edited).Round(time.Millisecond))
	for i, db := range []*sql.DB{appA, appB} {
		if err := bankQueries(db); err != nil {
			t.Errorf("(a) node %c with one etcd member stopped: %v", 'A'+i, err)
		}
	}
	start = time.Now()
	if err := transfer(context.Background(), appA, 800001, 7); err != nil {
		t.Errorf("(a) a two-phase transfer through A with one etcd member stopped: %v", err)
	} else {
		t.Logf("(a) a two-phase transfer through A committed in %v (decision written to 2 of 3 etcd members)", time.Since(start).Round(time.Millisecond))
	}
	EtcdStart(t, leader)
	// Each other member stopped in turn: B's watch is on one of them; it
	// must go on through another member.
	for m := 1; m <= 3; m++ {
		if m == leader {
			continue
		}
		EtcdStop(t, m)
		rule := fmt.Sprintf("outage_a%d", m)
		eventually(t, 20*time.Second, "an edit through A with one etcd member stopped", func() bool {
			_, err := conA.Exec(ruleSQL(rule))
			return err == nil || hasRule(conA, rule)
		})
		edited := time.Now()
		eventually(t, 20*time.Second, fmt.Sprintf("(a) with member %d stopped, the edit through A reaches B", m), func() bool { return hasRule(conB, rule) })
		t.Logf("(a) etcd member %d stopped: an edit through A was live on B %v later", m, time.Since(edited).Round(time.Millisecond))
		EtcdStart(t, m)
	}

	// (b) All three members stopped.
	rulesA, rulesB := consoleText(conA, "SHOW RULES FROM bank"), consoleText(conB, "SHOW RULES FROM bank")
	if rulesA == "" || rulesA != rulesB {
		t.Fatalf("before the outage the nodes' rules differ:\nA: %s\nB: %s", rulesA, rulesB)
	}
	transfersBefore := checkBank(t, appB)
	for m := 1; m <= 3; m++ {
		EtcdStop(t, m)
	}
	down := time.Now()
	// At once (the leases may still look alive)...
	for i, db := range []*sql.DB{appA, appB} {
		if err := bankQueries(db); err != nil {
			t.Errorf("(b) node %c right after etcd stopped: %v", 'A'+i, err)
		}
	}
	// ...and once both nodes know their session is lost.
	for i, n := range []*clusterNode{a, b} {
		eventually(t, 30*time.Second, fmt.Sprintf("node %c logs its lost etcd session", 'A'+i), func() bool {
			return strings.Contains(n.Log(), "cluster session lost")
		})
	}
	t.Logf("(b) all etcd members stopped; both nodes logged their session lost within %v", time.Since(down).Round(100*time.Millisecond))
	for i, db := range []*sql.DB{appA, appB} {
		if err := bankQueries(db); err != nil {
			t.Errorf("(b) node %c with etcd down: %v", 'A'+i, err)
		}
	}
	start = time.Now()
	_, err = conA.Exec(ruleSQL("outage_b"))
	refusal := time.Since(start)
	switch {
	case err == nil:
		t.Errorf("(b) an edit through A was accepted with etcd down")
	case !strings.Contains(err.Error(), "etcd") || !strings.Contains(err.Error(), "unreachable"):
		t.Errorf("(b) an edit through A with etcd down was refused, but the error does not say the cluster store (etcd) is unreachable: %v", err)
	default:
		t.Logf("(b) an edit through A with etcd down was refused after %v: %v", refusal.Round(time.Millisecond), err)
	}
	if _, err := clusterNodesErr(conA); err != nil {
		t.Logf("(b) SHOW CLUSTER NODES with etcd down: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	if got := consoleText(conA, "SHOW RULES FROM bank"); got != rulesA {
		t.Errorf("(b) A's rules changed by a refused edit:\nbefore: %s\nafter:  %s", rulesA, got)
	}
	if got := consoleText(conB, "SHOW RULES FROM bank"); got != rulesB {
		t.Errorf("(b) B's rules changed by a refused edit on A:\nbefore: %s\nafter:  %s", rulesB, got)
	}
	// A distributed transaction: its commit decision cannot be written.
	start = time.Now()
	err = transfer(context.Background(), appA, 800002, 9)
	took := time.Since(start)
	if ErrCode(err) != 1402 {
		t.Errorf("(b) a two-phase transfer through A with etcd down: %v (after %v), want error 1402 (rolled back)", err, took.Round(time.Millisecond))
	} else {
		t.Logf("(b) a two-phase transfer through A with etcd down was refused after %v: %v", took.Round(time.Millisecond), err)
	}
	if got := QueryString(t, appB, "SELECT COUNT(*) FROM legs WHERE tx = 800002"); got != "0" {
		t.Errorf("(b) the refused transfer left %s legs", got)
	}
	if n := checkBank(t, appB); n != transfersBefore {
		t.Errorf("(b) %d transfers after the refused one, want %d", n, transfersBefore)
	}
	for _, br := range preparedBranches(t) {
		if strings.Contains(br, idA) {
			t.Errorf("(b) node A left a branch prepared: %s", br)
		}
	}
	// A single-shard transaction commits in one phase: no decision needed.
	tx, err := appA.Begin()
	if err == nil {
		_, err = tx.Exec("UPDATE accounts SET balance = balance WHERE id = 6")
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
	}
	if err != nil {
		t.Errorf("(b) a single-shard transaction through A with etcd down: %v", err)
	}
	checkBank(t, appB)
	outage := time.Since(down)

	// (c) etcd back (times from the first member's start).
	back := time.Now()
	for m := 1; m <= 3; m++ {
		EtcdStart(t, m)
	}
	healthy := time.Since(back)
	attempts := 0
	var lastErr error
	eventually(t, 60*time.Second, "an edit through A succeeds once etcd is back", func() bool {
		attempts++
		_, lastErr = conA.Exec(ruleSQL("outage_c"))
		if lastErr != nil && strings.Contains(lastErr.Error(), "exists") && hasRule(conA, "outage_c") {
			t.Logf("(c) attempt %d: %v (an earlier attempt that reported failure was applied)", attempts, lastErr)
			return true
		}
		if lastErr != nil && attempts <= 3 {
			t.Logf("(c) attempt %d after etcd came back: %v", attempts, lastErr)
		}
		if lastErr != nil {
			time.Sleep(400 * time.Millisecond)
		}
		return lastErr == nil
	})
	editOK := time.Since(back)
	eventually(t, 30*time.Second, "(c) the edit through A reaches B", func() bool { return hasRule(conB, "outage_c") })
	seenB := time.Since(back)
	if hasRule(conA, "outage_b") || hasRule(conB, "outage_b") {
		t.Errorf("(c) the edit refused during the outage is there after it")
	}
	eventually(t, 30*time.Second, "(c) SHOW CLUSTER NODES lists both nodes again", func() bool {
		ns, err := clusterNodesErr(conA)
		if err != nil || len(ns) != 2 {
			return false
		}
		addrs := map[string]bool{}
		for _, n := range ns {
			addrs[n["addr"]] = true
		}
		return addrs[a.Addr] && addrs[b.Addr]
	})
	listed := time.Since(back)
	eventually(t, 30*time.Second, "(c) a two-phase transfer through B commits", func() bool {
		return transfer(context.Background(), appB, 800004, 3) == nil
	})
	checkBank(t, appB)
	rejoined := strings.Count(a.Log(), "in the cluster") >= 2 && strings.Count(b.Log(), "in the cluster") >= 2
	t.Logf("(c) etcd down for %v; from the restart of its first member: all three healthy after %v, an edit through A succeeded after %v (%d attempts), was live on B after %v; both nodes listed after %v (both logged a new session: %v); two-phase transfers commit again",
		outage.Round(100*time.Millisecond), healthy.Round(time.Millisecond), editOK.Round(time.Millisecond), attempts, seenB.Round(time.Millisecond), listed.Round(time.Millisecond), rejoined)
}

// clusterNodesErr is clusterNodes that returns the error instead of failing.
func clusterNodesErr(console *sql.DB) (map[string]map[string]string, error) {
	rows, err := rowsOf(console, "SHOW CLUSTER NODES")
	out := map[string]map[string]string{}
	for _, row := range rows {
		out[row["node"]] = row
	}
	return out, err
}

// TestClusterIDs: four clients insert through two nodes of a cluster into
// a snowflake table (worker ids leased from etcd: no snowflake section)
// and a segment table (one sequence row on a data node): no id twice, and
// every LAST_INSERT_ID() a client got is a row of that client.
func TestClusterIDs(t *testing.T) {
	eps := StartEtcd(t)
	name := clusterName(t)
	shared := clusterSharedWith(
		"cl_sf:  {column: id, algorithm: mod, shards: 2, nodes: [b0, b1], auto_increment: {column: id, generator: snowflake}}",
		"cl_seg: {column: id, algorithm: mod, shards: 2, nodes: [b0, b1], auto_increment: {column: id, generator: segment, block: 200}}",
	)
	if strings.Contains(shared, "snowflake: {") || strings.Contains(shared, "worker_id") {
		t.Fatal("the shared document must not give a snowflake worker id")
	}
	a := startClusterNode(t, eps, name, shared)
	b := startClusterNode(t, eps, name, shared)
	conA := a.console(t)
	MustExec(t, a.app(t), "DROP TABLE IF EXISTS cl_sf", "DROP TABLE IF EXISTS cl_seg",
		"CREATE TABLE cl_sf (id BIGINT PRIMARY KEY, client INT NOT NULL, n INT NOT NULL)",
		"CREATE TABLE cl_seg (id BIGINT PRIMARY KEY, client INT NOT NULL, n INT NOT NULL)")

	var nodes map[string]map[string]string
	eventually(t, 10*time.Second, "both nodes listed with a worker id", func() bool {
		nodes = clusterNodes(t, conA)
		if len(nodes) != 2 {
			return false
		}
		for _, n := range nodes {
			if n["worker_id"] == "" || n["worker_id"] == "-1" {
				return false
			}
		}
		return true
	})
	worker := map[string]int64{} // node addr -> worker id
	for _, n := range nodes {
		var w int64
		fmt.Sscan(n["worker_id"], &w)
		worker[n["addr"]] = w
	}
	if worker[a.Addr] == worker[b.Addr] {
		t.Fatalf("SHOW CLUSTER NODES: A and B hold the same worker id %d: %v", worker[a.Addr], nodes)
	}
	t.Logf("worker ids leased from etcd: A %d, B %d", worker[a.Addr], worker[b.Addr])

	const clients, single, multiRows, multiEvery = 4, 2000, 5, 100 // a 5-row INSERT after every 100 single ones
	type clientRes struct {
		node      string
		inserted  map[string]int     // table -> rows inserted
		lastIDs   map[string][]int64 // table -> LAST_INSERT_ID() after each single-row INSERT
		mismatch  map[string]int     // table -> OK packet's id != LAST_INSERT_ID()
		multiFrst map[string][]int64
		err       error
	}
	results := make([]*clientRes, clients)
	var wg sync.WaitGroup
	began := time.Now()
	for c := 0; c < clients; c++ {
		n := a
		if c >= 2 {
			n = b
		}
		r := &clientRes{node: n.Addr, inserted: map[string]int{}, lastIDs: map[string][]int64{}, mismatch: map[string]int{}, multiFrst: map[string][]int64{}}
		results[c] = r
		db := n.app(t)
		wg.Add(1)
		go func(c int, db *sql.DB) {
			defer wg.Done()
			ctx := context.Background()
			conn, err := db.Conn(ctx)
			if err != nil {
				r.err = err
				return
			}
			defer conn.Close()
			for i := 0; i < single; i++ {
				for _, tb := range []string{"cl_sf", "cl_seg"} {
					res, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (client, n) VALUES (%d, %d)", tb, c, i))
					if err != nil {
						r.err = fmt.Errorf("%s: %w", tb, err)
						return
					}
					r.inserted[tb]++
					var last int64
					if err := conn.QueryRowContext(ctx, "SELECT LAST_INSERT_ID()").Scan(&last); err != nil {
						r.err = err
						return
					}
					if ok, _ := res.LastInsertId(); ok != last {
						r.mismatch[tb]++
					}
					r.lastIDs[tb] = append(r.lastIDs[tb], last)
					if i%multiEvery == multiEvery-1 {
						vals := make([]string, multiRows)
						for k := range vals {
							vals[k] = fmt.Sprintf("(%d, %d)", c, 1000000+i*10+k)
						}
						res, err := conn.ExecContext(ctx, "INSERT INTO "+tb+" (client, n) VALUES "+strings.Join(vals, ", "))
						if err != nil {
							r.err = fmt.Errorf("%s multi-row: %w", tb, err)
							return
						}
						first, _ := res.LastInsertId()
						r.multiFrst[tb] = append(r.multiFrst[tb], first)
						r.inserted[tb] += multiRows
					}
				}
			}
		}(c, db)
	}
	wg.Wait()
	elapsed := time.Since(began)
	for c, r := range results {
		if r.err != nil {
			t.Fatalf("client %d (through %s): %v", c, r.node, r.err)
		}
	}

	appB := b.app(t)
	for _, tb := range []string{"cl_sf", "cl_seg"} {
		want := 0
		for _, r := range results {
			want += r.inserted[tb]
		}
		var count, distinct int
		if err := appB.QueryRow("SELECT COUNT(*), COUNT(DISTINCT id) FROM "+tb).Scan(&count, &distinct); err != nil {
			t.Fatal(err)
		}
		// COUNT(DISTINCT) over shards is only as good as the proxy's merge:
		// count the ids here too.
		rows, err := appB.Query("SELECT id, client FROM " + tb)
		if err != nil {
			t.Fatal(err)
		}
		owner := map[int64]int{}
		dups := 0
		byWorker := map[int64]int{}
		wrongWorker := 0
		for rows.Next() {
			var id int64
			var client int
			if err := rows.Scan(&id, &client); err != nil {
				t.Fatal(err)
			}
			if _, dup := owner[id]; dup {
				dups++
			}
			owner[id] = client
			if tb == "cl_sf" {
				w := (id >> 12) & 1023
				byWorker[w]++
				if w != worker[results[client].node] {
					wrongWorker++
				}
			}
		}
		rows.Close()
		badLast, lastChecked := 0, 0
		for c, r := range results {
			for _, id := range r.lastIDs[tb] {
				lastChecked++
				if got, ok := owner[id]; !ok || got != c {
					badLast++
					if badLast <= 5 {
						t.Errorf("%s: client %d got LAST_INSERT_ID() %d, which is the id of no row of its own (row of client %d, present %v)", tb, c, id, got, ok)
					}
				}
			}
			for _, id := range r.multiFrst[tb] {
				if got, ok := owner[id]; !ok || got != c {
					badLast++
					t.Errorf("%s: client %d's multi-row INSERT reported first id %d, not a row of its own", tb, c, id)
				}
			}
		}
		mism := 0
		for _, r := range results {
			mism += r.mismatch[tb]
		}
		extra := ""
		if tb == "cl_sf" {
			extra = fmt.Sprintf("; ids by worker id %v, %d ids with another node's worker id", byWorker, wrongWorker)
		}
		t.Logf("%s: %d rows inserted by %d clients (2 through A, 2 through B; %d single-row INSERTs each, a %d-row INSERT after every %d): COUNT(*) %d, COUNT(DISTINCT id) %d, %d distinct ids read back, %d duplicates; %d LAST_INSERT_ID() values checked, %d not the client's row, %d differing from the OK packet's id%s",
			tb, want, clients, single, multiRows, multiEvery, count, distinct, len(owner), dups, lastChecked, badLast, mism, extra)
		if count != want || distinct != want || len(owner) != want || dups != 0 {
			t.Errorf("%s: %d rows inserted, COUNT(*) %d, COUNT(DISTINCT id) %d, %d distinct ids read back (%d duplicates)", tb, want, count, distinct, len(owner), dups)
		}
		if wrongWorker > 0 {
			t.Errorf("%s: %d snowflake ids carry a worker id other than their node's", tb, wrongWorker)
		}
		if mism > 0 {
			t.Errorf("%s: %d times the OK packet's id differed from LAST_INSERT_ID()", tb, mism)
		}
	}
	t.Logf("%d clients inserted concurrently in %v", clients, elapsed.Round(100*time.Millisecond))
}

// TestClusterHAProxy: four clients work through HAProxy in front of two
// nodes; one node is killed (SIGKILL). Every client gets through again
// (HAProxy sends new connections to the node left), and every write a
// client saw acknowledged is there.
func TestClusterHAProxy(t *testing.T) {
	eps := StartEtcd(t)
	name := clusterName(t)
	shared := clusterSharedWith("hap:    {column: id, algorithm: mod, shards: 2, nodes: [b0, b1]}")
	a := startClusterNode(t, eps, name, shared)
	b := startClusterNode(t, eps, name, shared)
	appB := b.app(t)
	MustExec(t, appB, "DROP TABLE IF EXISTS hap", "CREATE TABLE hap (id BIGINT PRIMARY KEY, client INT NOT NULL, n INT NOT NULL)")
	front := StartHAProxy(t, a.Addr, b.Addr)

	const clients = 4
	type op struct {
		at time.Time
		ok bool
	}
	type clientRes struct {
		ops   []op
		errs  []string
		errN  int
		acked []int64
		tried int
		first time.Time // first success after the kill
	}
	results := make([]*clientRes, clients)
	stop := make(chan struct{})
	var killAt time.Time
	var mu sync.Mutex // guards killAt and each clientRes.first
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		r := &clientRes{}
		results[c] = r
		db := Open(t, DSN("app", "app", front, "bank", "timeout=2s", "readTimeout=5s", "writeTimeout=5s"))
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(time.Minute)
		wg.Add(1)
		go func(c int, db *sql.DB) {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := int64(c)*10000000 + int64(n)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				wrote, err := hapWork(ctx, db, id, c, n)
				cancel()
				now := time.Now()
				mu.Lock()
				r.tried++
				r.ops = append(r.ops, op{now, err == nil})
				if err != nil {
					r.errN++
					if len(r.errs) < 3 {
						r.errs = append(r.errs, fmt.Sprintf("%s: %v", now.Format("15:04:05.000"), err))
					}
				} else {
					if !killAt.IsZero() && r.first.IsZero() {
						r.first = now
					}
				}
				if wrote {
					r.acked = append(r.acked, id)
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(c, db)
	}
	time.Sleep(2 * time.Second)
	sessA, sessB := "?", "?"
	if ns, err := clusterNodesErr(b.console(t)); err == nil {
		for _, n := range ns {
			switch n["addr"] {
			case a.Addr:
				sessA = n["sessions"]
			case b.Addr:
				sessB = n["sessions"]
			}
		}
	}
	mu.Lock()
	killAt = time.Now()
	mu.Unlock()
	if err := syscall.Kill(a.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !a.Exited(10 * time.Second) {
		t.Fatal("node A did not die on SIGKILL")
	}
	// Keep going 5s, and longer (up to 30s) until every client got through.
	deadline := killAt.Add(30 * time.Second)
	for {
		time.Sleep(100 * time.Millisecond)
		all := true
		mu.Lock()
		for _, r := range results {
			if r.first.IsZero() {
				all = false
			}
		}
		mu.Unlock()
		if (all && time.Since(killAt) >= 5*time.Second) || time.Now().After(deadline) {
			break
		}
	}
	close(stop)
	wg.Wait()

	// Figures.
	var worst time.Duration
	totalErr := 0
	var firstErrs []string
	buckets := []time.Duration{-time.Hour, 0, 500 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second}
	dist := make([]int, len(buckets))
	for c, r := range results {
		totalErr += r.errN
		for _, e := range r.errs {
			if len(firstErrs) < 6 {
				firstErrs = append(firstErrs, fmt.Sprintf("client %d %s", c, e))
			}
		}
		before, after := 0, 0
		var lastBefore time.Time
		for _, o := range r.ops {
			if !o.ok {
				continue
			}
			d := o.at.Sub(killAt)
			if d < 0 {
				before++
				lastBefore = o.at
			} else {
				after++
			}
			i := sort.Search(len(buckets), func(i int) bool { return buckets[i] > d }) - 1
			if i >= 0 {
				dist[i]++
			}
		}
		if r.first.IsZero() {
			t.Errorf("client %d had no success after node A was killed (%d errors: %v)", c, r.errN, r.errs)
			continue
		}
		back := r.first.Sub(killAt)
		if back > worst {
			worst = back
		}
		gap := time.Duration(0)
		if !lastBefore.IsZero() {
			gap = r.first.Sub(lastBefore)
		}
		t.Logf("client %d: %d operations, %d successes before the kill, %d after, %d errors; first success %v after the kill (gap between successes %v)",
			c, r.tried, before, after, r.errN, back.Round(time.Millisecond), gap.Round(time.Millisecond))
	}
	t.Logf("sessions before the kill (SHOW CLUSTER NODES, may lag): A %s, B %s", sessA, sessB)
	t.Logf("node A killed: %d client errors in all; every client had a success again %v after the kill (max over clients)", totalErr, worst.Round(time.Millisecond))
	for _, e := range firstErrs {
		t.Logf("  error seen: %s", e)
	}
	var db strings.Builder
	for i, from := range buckets {
		to := "…"
		if i+1 < len(buckets) {
			to = buckets[i+1].String()
		}
		if i == 0 {
			fmt.Fprintf(&db, " before: %d;", dist[i])
			continue
		}
		fmt.Fprintf(&db, " [%v, %s): %d;", from, to, dist[i])
	}
	t.Logf("successes (all clients) by time from the kill:%s", db.String())

	// Every acknowledged write is there (read through node B).
	rows, err := appB.Query("SELECT id FROM hap")
	if err != nil {
		t.Fatal(err)
	}
	present := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		present[id] = true
	}
	rows.Close()
	acked, missing := 0, 0
	for c, r := range results {
		for _, id := range r.acked {
			acked++
			if !present[id] {
				missing++
				if missing <= 5 {
					t.Errorf("client %d: row %d was acknowledged but is not there", c, id)
				}
			}
		}
	}
	t.Logf("%d writes acknowledged, %d missing; %d rows in the table (%d written without an acknowledgement)", acked, missing, len(present), len(present)-(acked-missing))
	if missing > 0 {
		t.Errorf("%d acknowledged writes are missing", missing)
	}
}

// hapWork is one client operation: every other time a small transaction
// (insert a row, read it back, commit), else an autocommit insert and a
// read. wrote: the write was acknowledged (committed); err == nil: it was
// also read back.
func hapWork(ctx context.Context, db *sql.DB, id int64, client, n int) (wrote bool, err error) {
	ins := fmt.Sprintf("INSERT INTO hap VALUES (%d, %d, %d)", id, client, n)
	sel := fmt.Sprintf("SELECT n FROM hap WHERE id = %d", id)
	var got int
	if n%2 == 0 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, ins); err != nil {
			tx.Rollback()
			return false, err
		}
		if err := tx.QueryRowContext(ctx, sel).Scan(&got); err != nil {
			tx.Rollback()
			return false, err
		}
		if err := tx.Commit(); err != nil {
			return false, err
		}
	} else {
		if _, err := db.ExecContext(ctx, ins); err != nil {
			return false, err
		}
		if err := db.QueryRowContext(ctx, sel).Scan(&got); err != nil {
			return true, fmt.Errorf("read after an acknowledged write: %w", err)
		}
	}
	if got != n {
		return true, fmt.Errorf("row %d reads n=%d, want %d", id, got, n)
	}
	return true, nil
}
