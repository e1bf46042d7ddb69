//go:build integration

package integration

// Read/write split and high availability run on a topology of their own
// (scripts/topology.sh with SG_TOPO_DIR and SG_TOPO_PORT_OFFSET): one
// primary and one replica with semi-synchronous replication and durable
// commits. Fault tests kill servers; each leaves the topology as it found
// it (the failover test, which cannot, destroys it; the next test makes a
// new one).

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	haDir       = "/var/tmp/shardgate-ha-topology"
	haOffset    = "300"
	haPrimary   = "127.0.0.1:13606"
	haReplica   = "127.0.0.1:13616"
	haHeartbeat = "200ms"
)

// haTopo runs scripts/topology.sh on the HA topology.
func haTopo(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", "topology.sh"), args...)
	cmd.Env = append(os.Environ(), "SG_TOPO_DIR="+haDir, "SG_TOPO_PORT_OFFSET="+haOffset)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("topology.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// haUp starts (or checks) the HA topology.
func haUp(t testing.TB) {
	t.Helper()
	haTopo(t, "up", "--semisync", "--durable", "dh0-primary", "dh0-replica")
}

// haSQL runs SQL as root on an HA instance.
func haSQL(t testing.TB, instance, query string) string {
	t.Helper()
	return strings.TrimSpace(haTopo(t, "sql", instance, "-N", "-e", query))
}

// haConfig is a proxy over the HA topology: schema ha unsharded, schema
// hash with one table in two shards, both on dh0. extra are more keys of
// data host dh0, one per line.
func haConfig(extra ...string) string {
	keys := ""
	for _, k := range extra {
		keys += "    " + k + "\n"
	}
	return `
listen: {{LISTEN}}
log: {level: debug}
users:
  - {name: app, password: app, schemas: [ha, hash]}
data_hosts:
  - name: dh0
    user: sg
    password: sg
    primary: ` + haPrimary + `
    replicas: [{addr: ` + haReplica + `, weight: 1}]
    replication_user: repl
    replication_password: repl
    heartbeat: ` + haHeartbeat + `
` + keys + `data_nodes:
  - {name: n0, host: dh0, database: ha}
  - {name: s0, host: dh0, database: ha_s0}
  - {name: s1, host: dh0, database: ha_s1}
schemas:
  - {name: ha, default_node: n0}
  - name: hash
    tables:
      kv: {column: id, algorithm: mod, shards: 2, nodes: [s0, s1]}
`
}

// serverIDs returns the primary's and the replica's @@server_id.
func serverIDs(t testing.TB) (primary, replica string) {
	t.Helper()
	return QueryString(t, Open(t, DSN("sg", "sg", haPrimary, "")), "SELECT @@server_id"),
		QueryString(t, Open(t, DSN("sg", "sg", haReplica, "")), "SELECT @@server_id")
}

// haCatchUp waits until the replica has applied everything the primary has.
func haCatchUp(t testing.TB) {
	t.Helper()
	pos := QueryString(t, Open(t, DSN("sg", "sg", haPrimary, "")), "SELECT @@gtid_binlog_pos")
	if got := QueryString(t, Open(t, DSN("sg", "sg", haReplica, "")), "SELECT MASTER_GTID_WAIT(?, 60)", pos); got != "0" {
		t.Fatalf("replica did not reach %s within 60s", pos)
	}
}

// setDelay sets the replica's MASTER_DELAY (seconds).
func setDelay(t testing.TB, seconds int) {
	t.Helper()
	haSQL(t, "dh0-replica", fmt.Sprintf("STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=%d; START SLAVE", seconds))
}

// serverOf runs a query whose first column is @@server_id.
func serverOf(t testing.TB, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, query string, args ...any) string {
	t.Helper()
	return QueryString(t, q, query, args...)
}

// eventually polls cond until it holds or the time is up.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReadWriteRouting(t *testing.T) {
	haUp(t)
	pid, rid := serverIDs(t)
	p := StartProxy(t, haConfig())
	db := Open(t, DSN("app", "app", p.Addr, "ha"))
	c := Conn(t, db)
	MustExec(t, c, "CREATE TABLE IF NOT EXISTS rw (id INT PRIMARY KEY, sid INT)", "DELETE FROM rw",
		"CREATE SEQUENCE IF NOT EXISTS rw_seq")
	haCatchUp(t)

	// A write lands on the primary: the row records where it ran.
	MustExec(t, c, "INSERT INTO rw VALUES (1, @@server_id)")
	if got := QueryString(t, Open(t, DSN("sg", "sg", haPrimary, "ha")), "SELECT sid FROM rw WHERE id = 1"); got != pid {
		t.Errorf("INSERT ran on server %s, want the primary (%s)", got, pid)
	}
	haCatchUp(t)

	fresh := func() *sql.Conn { return Conn(t, db) }
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"plain read", "SELECT @@server_id", rid},
		{"read of a table", "SELECT @@server_id FROM rw WHERE id = 1", rid},
		{"FOR UPDATE", "SELECT @@server_id FROM rw WHERE id = 1 FOR UPDATE", pid},
		{"LOCK IN SHARE MODE", "SELECT @@server_id FROM rw WHERE id = 1 LOCK IN SHARE MODE", pid},
		{"LAST_INSERT_ID()", "SELECT @@server_id + 0 * LAST_INSERT_ID()", pid},
		{"sequence", "SELECT @@server_id + 0 * NEXTVAL(rw_seq)", pid},
		{"shardgate hint", "/* shardgate:primary */ SELECT @@server_id", pid},
		{"shardgate hint after SELECT", "SELECT /*+ shardgate:primary */ @@server_id", pid},
		{"Mycat hint", "/*#mycat:db_type=master*/ SELECT @@server_id", pid},
		{"kingshard hint", "/*master*/ SELECT @@server_id", pid},
		{"ordinary comment", "/* report */ SELECT @@server_id", rid},
	} {
		// A fresh session each time: no earlier write of its own to see.
		if got := serverOf(t, fresh(), tc.sql); got != tc.want {
			t.Errorf("%s: %q ran on server %s, want %s (primary %s, replica %s)", tc.name, tc.sql, got, tc.want, pid, rid)
		}
	}

	// Prepared statements go the same way.
	pc := fresh()
	if got := serverOf(t, pc, "SELECT @@server_id FROM rw WHERE id = ?", 1); got != rid {
		t.Errorf("prepared read ran on %s, want the replica %s", got, rid)
	}
	if got := serverOf(t, pc, "SELECT @@server_id FROM rw WHERE id = ? FOR UPDATE", 1); got != pid {
		t.Errorf("prepared locking read ran on %s, want the primary %s", got, pid)
	}

	// In a transaction, and with autocommit off, everything goes to the primary.
	tc := fresh()
	MustExec(t, tc, "BEGIN")
	if got := serverOf(t, tc, "SELECT @@server_id"); got != pid {
		t.Errorf("read in a transaction ran on %s, want the primary %s", got, pid)
	}
	if got := serverOf(t, tc, "SELECT @@server_id FROM rw WHERE id = ?", 1); got != pid {
		t.Errorf("prepared read in a transaction ran on %s, want the primary %s", got, pid)
	}
	MustExec(t, tc, "COMMIT")
	if got := serverOf(t, tc, "SELECT @@server_id"); got != rid {
		t.Errorf("read after COMMIT ran on %s, want the replica %s", got, rid)
	}
	MustExec(t, tc, "SET autocommit = 0")
	if got := serverOf(t, tc, "SELECT @@server_id"); got != pid {
		t.Errorf("read with autocommit off ran on %s, want the primary %s", got, pid)
	}
	MustExec(t, tc, "COMMIT", "SET autocommit = 1")
	if got := serverOf(t, tc, "SELECT @@server_id"); got != rid {
		t.Errorf("read with autocommit back on ran on %s, want the replica %s", got, rid)
	}
	// GET_LOCK has side effects (and pins the session to its connection).
	if got := serverOf(t, fresh(), "SELECT @@server_id + 0 * GET_LOCK('sg_rw', 0)"); got != pid {
		t.Errorf("GET_LOCK ran on %s, want the primary %s", got, pid)
	}

	// A sharded schema: reads of a shard go to that node's replica.
	sc := Conn(t, Open(t, DSN("app", "app", p.Addr, "hash")))
	MustExec(t, sc, "DROP TABLE IF EXISTS kv", "CREATE TABLE kv (id INT PRIMARY KEY, v INT)", "INSERT INTO kv VALUES (1, 1), (2, 2)")
	haCatchUp(t)
	sr := Conn(t, Open(t, DSN("app", "app", p.Addr, "hash")))
	if got := serverOf(t, sr, "SELECT @@server_id FROM kv WHERE id = 1"); got != rid {
		t.Errorf("sharded point read ran on %s, want the replica %s", got, rid)
	}
	if got := serverOf(t, sr, "SELECT MIN(@@server_id) FROM kv"); got != rid {
		t.Errorf("sharded scatter read ran on %s, want the replica %s", got, rid)
	}
	if got := serverOf(t, sr, "SELECT @@server_id FROM kv WHERE id = 2 FOR UPDATE"); got != pid {
		t.Errorf("sharded locking read ran on %s, want the primary %s", got, pid)
	}

	t.Run("balance", func(t *testing.T) {
		only := StartProxy(t, haConfig("balance: primary"))
		odb := Open(t, DSN("app", "app", only.Addr, "ha"))
		for i := 0; i < 20; i++ {
			if got := serverOf(t, odb, "SELECT @@server_id"); got != pid {
				t.Fatalf("balance primary: read ran on %s, want the primary %s", got, pid)
			}
		}
		if got := serverOf(t, odb, "/* shardgate:replica */ SELECT @@server_id"); got != rid {
			t.Errorf("balance primary, replica hint: read ran on %s, want the replica %s", got, rid)
		}
		all := StartProxy(t, haConfig("balance: all"))
		adb := Open(t, DSN("app", "app", all.Addr, "ha"))
		seen := map[string]int{}
		for i := 0; i < 100; i++ {
			seen[serverOf(t, adb, "SELECT @@server_id")]++
		}
		if seen[pid] == 0 || seen[rid] == 0 {
			t.Errorf("balance all: reads by server %v, want both %s and %s", seen, pid, rid)
		}
		t.Logf("balance all: reads by server id %v", seen)
	})
}

func TestReadYourWrites(t *testing.T) {
	haUp(t)
	pid, rid := serverIDs(t)
	p := StartProxy(t, haConfig())
	db := Open(t, DSN("app", "app", p.Addr, "ha"))
	MustExec(t, db, "DROP TABLE IF EXISTS ryw", "CREATE TABLE ryw (id INT PRIMARY KEY, v INT)")
	haCatchUp(t)
	setDelay(t, 3)
	t.Cleanup(func() { setDelay(t, 0) })

	c := Conn(t, db)
	seen, fromReplica := 0, 0
	for i := 1; i <= 100; i++ {
		MustExec(t, c, fmt.Sprintf("INSERT INTO ryw VALUES (%d, %d)", i, i))
		var v int
		var sid string
		var err error
		if i%2 == 0 { // text and prepared alike
			err = c.QueryRowContext(context.Background(), fmt.Sprintf("SELECT v, @@server_id FROM ryw WHERE id = %d", i)).Scan(&v, &sid)
		} else {
			err = c.QueryRowContext(context.Background(), "SELECT v, @@server_id FROM ryw WHERE id = ?", i).Scan(&v, &sid)
		}
		if err == nil && v == i {
			seen++
		}
		if sid == rid {
			fromReplica++
		}
	}
	if seen != 100 {
		t.Errorf("a session read its own insert %d times out of 100", seen)
	}
	t.Logf("read-your-writes with MASTER_DELAY=3: %d/100 reads saw the write (%d served by the replica, %d by the primary %s)", seen, fromReplica, 100-fromReplica, pid)

	// The replica really lags: a session that wrote nothing reads there
	// and misses the latest rows.
	var sid string
	var n int
	if err := Conn(t, db).QueryRowContext(context.Background(), "SELECT @@server_id, COUNT(*) FROM ryw").Scan(&sid, &n); err != nil {
		t.Fatal(err)
	}
	if sid != rid || n >= 100 {
		t.Errorf("a fresh session read %d rows on server %s; want the lagging replica %s with fewer than 100", n, sid, rid)
	}

	// Caught up, the replica serves such reads once it has the write.
	setDelay(t, 0)
	haCatchUp(t)
	seen, fromReplica = 0, 0
	for i := 201; i <= 300; i++ {
		MustExec(t, c, fmt.Sprintf("INSERT INTO ryw VALUES (%d, %d)", i, i))
		var v int
		var sid string
		if err := c.QueryRowContext(context.Background(), "SELECT v, @@server_id FROM ryw WHERE id = ?", i).Scan(&v, &sid); err == nil && v == i {
			seen++
		}
		if sid == rid {
			fromReplica++
		}
	}
	if seen != 100 {
		t.Errorf("no delay: a session read its own insert %d times out of 100", seen)
	}
	t.Logf("read-your-writes, replica not delayed: %d/100 reads saw the write (%d served by the replica after it applied the write)", seen, fromReplica)
	setDelay(t, 3)

	// Control: with read_your_writes off, the same sequence misses.
	off := StartProxy(t, haConfig("read_your_writes: false"))
	oc := Conn(t, Open(t, DSN("app", "app", off.Addr, "ha")))
	missed := 0
	for i := 101; i <= 110; i++ {
		MustExec(t, oc, fmt.Sprintf("INSERT INTO ryw VALUES (%d, %d)", i, i))
		var cnt int
		if err := oc.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM ryw WHERE id = ?", i).Scan(&cnt); err != nil {
			t.Fatal(err)
		}
		if cnt == 0 {
			missed++
		}
	}
	if missed == 0 {
		t.Errorf("read_your_writes off: no read missed its write, so the test above proves nothing")
	}
	t.Logf("control, read_your_writes off: %d/10 reads missed the session's own write", missed)
}

func TestReplicaLagLimit(t *testing.T) {
	haUp(t)
	pid, rid := serverIDs(t)
	p := StartProxy(t, haConfig("max_replica_lag: 1s"))
	db := Open(t, DSN("app", "app", p.Addr, "ha"))
	MustExec(t, db, "DROP TABLE IF EXISTS lag", "CREATE TABLE lag (id INT AUTO_INCREMENT PRIMARY KEY, at TIMESTAMP(6))")
	haCatchUp(t)
	read := func() string { return serverOf(t, db, "SELECT @@server_id") }
	eventually(t, 10*time.Second, "reads never went to the replica", func() bool { return read() == rid })

	// Delay the replica and keep writing: it falls behind, and stops getting reads.
	setDelay(t, 4)
	t.Cleanup(func() { setDelay(t, 0) })
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		direct := Open(t, DSN("sg", "sg", haPrimary, "ha"))
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			_, _ = direct.Exec("INSERT INTO lag (at) VALUES (NOW(6))")
		}
	}()
	eventually(t, 15*time.Second, "a replica over max_replica_lag still gets reads", func() bool { return read() == pid })
	for i := 0; i < 20; i++ {
		if got := read(); got != pid {
			t.Fatalf("read %d went to %s while the replica lags", i, got)
		}
	}
	close(stop)
	wg.Wait()
	setDelay(t, 0)
	eventually(t, 20*time.Second, "the replica did not get reads back after catching up", func() bool { return read() == rid })

	// Replication stopped: no reads until it runs again.
	haSQL(t, "dh0-replica", "STOP SLAVE SQL_THREAD")
	t.Cleanup(func() { haSQL(t, "dh0-replica", "START SLAVE") })
	eventually(t, 10*time.Second, "a replica with replication stopped still gets reads", func() bool { return read() == pid })
	haSQL(t, "dh0-replica", "START SLAVE")
	eventually(t, 10*time.Second, "the replica did not get reads back after START SLAVE", func() bool { return read() == rid })
}

// load runs readers (and writers) against the proxy until stopped,
// counting what clients see.
type load struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	reads    atomic.Int64
	readErrs atomic.Int64
	byServer sync.Map // server id -> *atomic.Int64

	mu       sync.Mutex
	errs     []string
	acked    map[int][]int // writer -> acknowledged sequence numbers
	writeErr atomic.Int64
	lastOK   []atomic.Int64 // per writer: unix nanos of the last acknowledged write
}

func newLoad(writers int) *load {
	return &load{stop: make(chan struct{}), acked: map[int][]int{}, lastOK: make([]atomic.Int64, writers)}
}

func (l *load) noteErr(what string, err error) {
	l.mu.Lock()
	if len(l.errs) < 20 {
		l.errs = append(l.errs, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), what, err))
	}
	l.mu.Unlock()
}

// reader reads in a loop: text, prepared or sharded by kind.
func (l *load) reader(t *testing.T, db, sharded *sql.DB, kind int) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-l.stop:
				return
			default:
			}
			var sid string
			var n int
			var err error
			switch kind % 3 {
			case 0:
				err = db.QueryRow("SELECT @@server_id, COUNT(*) FROM ha_load").Scan(&sid, &n)
			case 1:
				err = db.QueryRow("SELECT @@server_id, COUNT(*) FROM ha_load WHERE id > ?", i%10).Scan(&sid, &n)
			case 2:
				err = sharded.QueryRow("SELECT MIN(@@server_id), COUNT(*) FROM kv").Scan(&sid, &n)
			}
			l.reads.Add(1)
			if err != nil {
				l.readErrs.Add(1)
				l.noteErr("read", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			v, _ := l.byServer.LoadOrStore(sid, new(atomic.Int64))
			v.(*atomic.Int64).Add(1)
		}
	}()
}

// writer inserts (w, seq) rows, recording each acknowledged one.
func (l *load) writer(t *testing.T, db *sql.DB, w int) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for seq := 1; ; {
			select {
			case <-l.stop:
				return
			default:
			}
			if _, err := db.Exec("INSERT INTO acked (w, seq) VALUES (?, ?)", w, seq); err != nil {
				l.writeErr.Add(1)
				l.noteErr(fmt.Sprintf("write %d/%d", w, seq), err)
				time.Sleep(10 * time.Millisecond)
				seq++ // its fate is unknown: never reuse the key
				continue
			}
			l.mu.Lock()
			l.acked[w] = append(l.acked[w], seq)
			l.mu.Unlock()
			l.lastOK[w].Store(time.Now().UnixNano())
			seq++
		}
	}()
}

func (l *load) end() {
	close(l.stop)
	l.wg.Wait()
}

func (l *load) servers() map[string]int64 {
	out := map[string]int64{}
	l.byServer.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// prepareLoad creates the tables the load uses.
func prepareLoad(t *testing.T, p *Proxy) (db, sharded *sql.DB) {
	db = Open(t, DSN("app", "app", p.Addr, "ha"))
	db.SetMaxOpenConns(16)
	sharded = Open(t, DSN("app", "app", p.Addr, "hash"))
	sharded.SetMaxOpenConns(16)
	MustExec(t, db, "DROP TABLE IF EXISTS ha_load", "CREATE TABLE ha_load (id INT PRIMARY KEY)",
		"INSERT INTO ha_load VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12)",
		"DROP TABLE IF EXISTS acked", "CREATE TABLE acked (w INT, seq INT, PRIMARY KEY (w, seq))")
	MustExec(t, sharded, "DROP TABLE IF EXISTS kv", "CREATE TABLE kv (id INT PRIMARY KEY, v INT)", "INSERT INTO kv VALUES (1, 1), (2, 2), (3, 3)")
	haCatchUp(t)
	return db, sharded
}

func TestReplicaKilledUnderReads(t *testing.T) {
	haUp(t)
	pid, rid := serverIDs(t)
	p := StartProxy(t, haConfig())
	db, sharded := prepareLoad(t, p)
	t.Cleanup(func() { haUp(t) })

	l := newLoad(0)
	for i := 0; i < 8; i++ {
		l.reader(t, db, sharded, i)
	}
	time.Sleep(1500 * time.Millisecond)
	before := l.servers()
	haTopo(t, "kill", "dh0-replica")
	killed := time.Now()
	time.Sleep(3 * time.Second)
	l.end()
	after := l.servers()
	t.Logf("8 readers, replica killed (kill -9) after 1.5s, 3s more: %d reads, %d failed; by server before the kill %v, at the end %v (primary %s, replica %s)",
		l.reads.Load(), l.readErrs.Load(), before, after, pid, rid)
	if before[rid] == 0 {
		t.Errorf("no read went to the replica before the kill")
	}
	if after[pid] == before[pid] {
		t.Errorf("no read went to the primary after the kill")
	}
	if n := l.readErrs.Load(); n != 0 {
		t.Errorf("%d client reads failed when the replica died (want 0): %v", n, l.errs)
	}
	if d := time.Since(killed); d < 2*time.Second {
		t.Fatalf("the load ran only %v after the kill", d)
	}

	// It comes back by itself once it runs again.
	haUp(t)
	eventually(t, 15*time.Second, "the restarted replica did not get reads back", func() bool {
		return serverOf(t, db, "SELECT @@server_id") == rid
	})
}

func TestPrimaryFailover(t *testing.T) {
	haUp(t)
	pid, rid := serverIDs(t)
	if on := haSQL(t, "dh0-primary", "SELECT @@rpl_semi_sync_master_enabled"); on != "1" {
		t.Fatalf("semi-sync is not on (rpl_semi_sync_master_enabled=%s)", on)
	}
	// The promoted replica cannot be turned back: a fresh topology for the next test.
	t.Cleanup(func() { haTopo(t, "destroy") })
	dir := t.TempDir()
	cfg := haConfig("failover: auto")
	p := StartProxyIn(t, dir, cfg)
	db, sharded := prepareLoad(t, p)

	const writers = 4
	l := newLoad(writers)
	for w := 0; w < writers; w++ {
		l.writer(t, db, w)
	}
	for i := 0; i < 4; i++ {
		l.reader(t, db, sharded, i)
	}
	time.Sleep(2 * time.Second)
	ackedBefore := 0
	l.mu.Lock()
	for _, s := range l.acked {
		ackedBefore += len(s)
	}
	l.mu.Unlock()
	haTopo(t, "kill", "dh0-primary")
	killed := time.Now()

	// Wait until every writer got a write through after the kill.
	resumed := time.Duration(0)
	deadline := killed.Add(40 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for w := 0; w < writers; w++ {
			if !time.Unix(0, l.lastOK[w].Load()).After(killed) {
				all = false
			}
		}
		if all {
			resumed = time.Since(killed)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // some writes on the new primary
	l.end()
	if resumed == 0 {
		t.Fatalf("writes did not resume within 40s of the primary's kill; errors: %v\nproxy log:\n%s", l.errs, tail(p.Log(), 40))
	}

	acked := 0
	l.mu.Lock()
	for _, s := range l.acked {
		acked += len(s)
	}
	l.mu.Unlock()
	t.Logf("failover: primary killed after %d acknowledged writes; every writer resumed %v after the kill; "+
		"%d writes acknowledged in all, %d write errors and %d read errors seen by clients (of %d reads); first errors: %v",
		ackedBefore, resumed.Round(10*time.Millisecond), acked, l.writeErr.Load(), l.readErrs.Load(), l.reads.Load(), l.errs)
	if l.readErrs.Load() > 0 {
		t.Logf("proxy log:\n%s", tail(p.Log(), 60))
	}
	if resumed > 15*time.Second {
		t.Errorf("writes resumed %v after the kill, want within 15s", resumed)
	}

	// Every acknowledged write is on the promoted replica.
	direct := Open(t, DSN("sg", "sg", haReplica, "ha"))
	missing := 0
	for w, seqs := range l.acked {
		for _, seq := range seqs {
			var n int
			if err := direct.QueryRow("SELECT COUNT(*) FROM acked WHERE w = ? AND seq = ?", w, seq).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged writes are missing on the new primary", missing, acked)
	}
	if got := QueryString(t, direct, "SELECT @@read_only"); got != "0" {
		t.Errorf("the promoted replica is still read_only")
	}
	if got := serverOf(t, db, "/* shardgate:primary */ SELECT @@server_id"); got != rid {
		t.Errorf("after the failover the primary is server %s, want the former replica %s", got, rid)
	}

	// The switch is recorded; a restarted proxy keeps it, even with the
	// old primary running again.
	data, err := os.ReadFile(filepath.Join(dir, "shardgate.state.json"))
	if err != nil {
		t.Fatalf("state file: %v", err)
	}
	var st struct {
		Hosts map[string]struct {
			Primary string
			Fenced  []string
		}
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Hosts["dh0"].Primary != haReplica {
		t.Fatalf("state file records %s (%v), want primary %s", data, err, haReplica)
	}
	p.Stop()
	haTopo(t, "up", "--no-replication", "dh0-primary")
	p2 := StartProxyIn(t, dir, cfg)
	c2 := Open(t, DSN("app", "app", p2.Addr, "ha"))
	MustExec(t, c2, "INSERT INTO acked (w, seq) VALUES (99, 1)")
	if got := serverOf(t, c2, "/* shardgate:primary */ SELECT @@server_id"); got != rid {
		t.Errorf("after a restart the primary is server %s, want %s (the old primary %s is fenced)", got, rid, pid)
	}
	if got := QueryString(t, Open(t, DSN("sg", "sg", haPrimary, "ha")), "SELECT COUNT(*) FROM acked WHERE w = 99"); got != "0" {
		t.Errorf("a write after the restart reached the old primary")
	}
	if got := serverOf(t, c2, "SELECT @@server_id"); got != rid {
		t.Errorf("after a restart reads go to %s, want %s (the fenced old primary serves nothing)", got, rid)
	}
}
