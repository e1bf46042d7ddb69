//go:build integration

package integration

// The admin console end to end: a real MySQL client (go-sql-driver) on the
// admin address drives every statement against the real topology and the
// tests check the rows it returns. Schema sgadm lives in databases
// sgadm_0 (dh0) and sgadm_1 (dh1), which no other test uses; the switch
// test runs on the read/write tests' HA topology and switches back.
//
//	SG_SKIP_TOPOLOGY=1 go test -tags integration ./integration -run Admin -count=1 -v

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// adminConfig: {{LISTEN}}, {{ADMIN}}, {{METRICS}} and {{EXTRA_TABLES}}
// (more lines under schema sgadm's tables) are filled in by startAdmin.
const adminConfig = `
listen: {{LISTEN}}
admin: {{ADMIN}}
metrics: {{METRICS}}
slow_query: 150ms
users:
  - {name: app, password: app, schemas: [sgadm]}
  - {name: ops, password: ops, admin: true}
  - {name: guarded, password: guarded, schemas: [sgadm], guard: true, deny: [{kind: truncate}, {fingerprint: "select * from regions where id = ?"}]}
data_hosts:
  - name: dh0
    user: sg
    password: sg
    primary: 127.0.0.1:13306
    replicas: [{addr: 127.0.0.1:13316, weight: 1}]
  - name: dh1
    user: sg
    password: sg
    primary: 127.0.0.1:13307
    replicas: [{addr: 127.0.0.1:13317, weight: 1}]
data_nodes:
  - {name: dn0, host: dh0, database: sgadm_0}
  - {name: dn1, host: dh1, database: sgadm_1}
schemas:
  - name: sgadm
    default_node: dn0
    tables:
      orders:  {column: user_id, algorithm: mod, shards: 4, nodes: [dn0, dn1], no_scatter: true}
      regions: {global: true}
{{EXTRA_TABLES}}`

// adminProxy is a proxy with its admin console and metrics addresses.
type adminProxy struct {
	*Proxy
	Admin, Metrics string
	dir            string
}

// startAdmin starts a proxy over adminConfig in dir (a new one when "").
func startAdmin(t *testing.T, dir, extraTables string) *adminProxy {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ap := &adminProxy{dir: dir, Admin: fmt.Sprintf("127.0.0.1:%d", freePort(t)), Metrics: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	cfg := strings.NewReplacer("{{ADMIN}}", ap.Admin, "{{METRICS}}", ap.Metrics, "{{EXTRA_TABLES}}", extraTables).Replace(adminConfig)
	ap.Proxy = StartProxyIn(t, dir, cfg)
	waitListen(t, ap.Admin)
	return ap
}

// waitListen waits until addr accepts connections.
func waitListen(t testing.TB, addr string) {
	t.Helper()
	eventually(t, 20*time.Second, addr+" listens", func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// resetAdminData drops the sgadm databases so each test starts empty.
func resetAdminData(t *testing.T) {
	t.Helper()
	for _, addr := range []string{dh0Primary, dh1Primary} {
		db := Open(t, DSN("sg", "sg", addr, ""))
		MustExec(t, db, "DROP DATABASE IF EXISTS sgadm_0", "DROP DATABASE IF EXISTS sgadm_1")
	}
}

// row is one result row: column name -> value ("NULL" for NULL).
type row map[string]string

// queryRows runs a query and returns every row.
func queryRows(t testing.TB, db querier, query string) []row {
	t.Helper()
	out, err := rowsOf(db, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// rowsOf runs a query and returns every row, or the error.
func rowsOf(db querier, query string) ([]row, error) {
	rs, err := db.QueryContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	names, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	var out []row
	for rs.Next() {
		vals := make([]sql.NullString, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return out, err
		}
		r := row{}
		for i, n := range names {
			r[n] = "NULL"
			if vals[i].Valid {
				r[n] = vals[i].String
			}
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// find returns the rows whose columns have the given values (pairs).
func find(rows []row, kv ...string) []row {
	var out []row
	for _, r := range rows {
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if r[kv[i]] != kv[i+1] {
				ok = false
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// one returns the single row matching, failing otherwise.
func one(t testing.TB, rows []row, kv ...string) row {
	t.Helper()
	got := find(rows, kv...)
	if len(got) != 1 {
		t.Fatalf("want one row with %v, got %d in %v", kv, len(got), rows)
	}
	return got[0]
}

// mustFail runs a statement that must fail with one of codes and a
// message containing each of words.
func mustFail(t testing.TB, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, codes []uint16, words ...string) string {
	t.Helper()
	_, err := db.ExecContext(context.Background(), query)
	if err == nil {
		t.Fatalf("%s: no error", query)
	}
	code := ErrCode(err)
	okCode := false
	for _, c := range codes {
		okCode = okCode || c == code
	}
	if !okCode {
		t.Fatalf("%s: error %d (%v), want one of %v", query, code, err, codes)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("%s: error %q does not mention %q", query, err, w)
		}
	}
	return err.Error()
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

func atof(t testing.TB, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return f
}

func TestAdminAccess(t *testing.T) {
	resetAdminData(t)
	p := startAdmin(t, "", "")
	// A user that is not admin is refused at the admin address.
	app := Open(t, DSN("app", "app", p.Admin, ""))
	if err := app.Ping(); err == nil || ErrCode(err) != 1227 || !strings.Contains(err.Error(), "admin: true") {
		t.Errorf("app on the admin address: %v", err)
	}
	if err := Open(t, DSN("ops", "wrong", p.Admin, "")).Ping(); ErrCode(err) != 1045 {
		t.Errorf("bad password: %v", err)
	}
	adm := Open(t, DSN("ops", "ops", p.Admin, ""))
	help := queryRows(t, adm, "HELP")
	for _, stmt := range []string{"SHOW SERVERS", "RELOAD CONFIG [FORCE]", "SHOW SQL STATS", "SWITCH PRIMARY dh TO 'addr'", "KILL SESSION n [, n...]"} {
		one(t, help, "statement", stmt)
	}
	if len(queryRows(t, adm, "show @@help")) != len(help) {
		t.Error("show @@help differs from HELP")
	}
	mustFail(t, adm, "SHOW NONSENSE", []uint16{1064}, "unknown SHOW statement")
	mustFail(t, adm, "DELETE FROM orders", []uint16{1064}, "unknown admin statement")
	// What the mariadb client asks at connect.
	if v := QueryString(t, adm, "SELECT @@version_comment LIMIT 1"); v != "shardgate admin console" {
		t.Errorf("version_comment %q", v)
	}

	// Admin statements never run on the client address.
	cli := Open(t, DSN("app", "app", p.Addr, "sgadm"))
	for _, q := range []string{"SHOW SERVERS", "show @@datasource", "RELOAD CONFIG", "KILL SESSION 1", "SWITCH PRIMARY dh0 TO '127.0.0.1:13316'",
		"CREATE SHARDING TABLE RULE x (COLUMN=id, ALGORITHM=mod, SHARDS=2, NODES=(dn0,dn1))"} {
		if _, err := cli.Exec(q); err == nil || ErrCode(err) != 1064 {
			t.Errorf("%s on the client address: %v (want a syntax error from the backend)", q, err)
		}
	}
	// Nor for an admin user there.
	opsCli := Open(t, DSN("ops", "ops", p.Addr, ""))
	if _, err := opsCli.Exec("RELOAD CONFIG"); err == nil {
		t.Error("RELOAD CONFIG ran on the client address")
	}
}

func TestAdminShow(t *testing.T) {
	resetAdminData(t)
	p := startAdmin(t, "", "")
	adm := Open(t, DSN("ops", "ops", p.Admin, ""))
	cli := Open(t, DSN("app", "app", p.Addr, "sgadm"))
	MustExec(t, cli,
		"CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, amount INT)",
		"CREATE TABLE regions (id INT PRIMARY KEY, name VARCHAR(20))",
		"INSERT INTO regions VALUES (1, 'north'), (2, 'south')")
	for i := 1; i <= 20; i++ {
		MustExec(t, cli, fmt.Sprintf("INSERT INTO orders VALUES (%d, %d, %d)", i, i%7, i*10))
	}
	for i := 0; i < 30; i++ {
		var n int
		if err := cli.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM orders WHERE user_id = %d", i%7)).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	var total int
	if err := cli.QueryRow("SELECT COUNT(*) FROM orders").Scan(&total); err != nil || total != 20 {
		t.Fatalf("count: %d %v", total, err)
	}
	if _, err := cli.Exec("SELECT * FROM nosuch"); ErrCode(err) != 1146 {
		t.Fatalf("nosuch: %v", err)
	}
	QueryString(t, cli, "SELECT SLEEP(0.2)")
	// Prepared statements are counted under their SQL.
	stmt, err := cli.Prepare("SELECT amount FROM orders WHERE user_id = ? AND id = ?")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		var a int
		if err := stmt.QueryRow(i%7, i).Scan(&a); err != nil || a != i*10 {
			t.Fatalf("prepared: %d %v", a, err)
		}
	}
	stmt.Close()

	t.Run("servers", func(t *testing.T) {
		for _, q := range []string{"SHOW SERVERS", "show @@datasource"} {
			rows := queryRows(t, adm, q)
			if len(rows) != 4 {
				t.Fatalf("%s: %v", q, rows)
			}
			for _, s := range []struct{ host, addr, role string }{
				{"dh0", dh0Primary, "primary"}, {"dh0", dh0Replica, "replica"}, {"dh1", dh1Primary, "primary"}, {"dh1", dh1Replica, "replica"},
			} {
				r := one(t, rows, "data_host", s.host, "server", s.addr)
				if r["role"] != s.role || r["state"] != "up" || r["pool_max"] != "64" {
					t.Errorf("%s: %v", s.addr, r)
				}
				if s.role == "primary" && (r["lag_seconds"] != "NULL" || atoi(t, r["statements"]) == 0 || atoi(t, r["pool_open"]) == 0) {
					t.Errorf("primary %s: %v", s.addr, r)
				}
				if s.role == "replica" && r["lag_seconds"] == "NULL" {
					t.Errorf("replica %s shows no lag: %v", s.addr, r)
				}
			}
			one(t, rows, "server", dh1Primary)
		}
		hosts := queryRows(t, adm, "SHOW DATA HOSTS")
		if r := one(t, hosts, "data_host", "dh0"); r["primary"] != dh0Primary || r["replicas"] != "1" || r["servers_up"] != "2" || r["failover"] != "manual" {
			t.Errorf("dh0: %v", r)
		}
		for _, q := range []string{"SHOW DATA NODES", "show @@datanode"} {
			nodes := queryRows(t, adm, q)
			if r := one(t, nodes, "data_node", "dn1"); r["data_host"] != "dh1" || r["database"] != "sgadm_1" || r["primary"] != dh1Primary || r["schemas"] != "sgadm" || r["physical_tables"] != "3" {
				t.Errorf("%s dn1: %v", q, r)
			}
		}
		for _, q := range []string{"SHOW HEARTBEATS", "show @@heartbeat"} {
			beats := queryRows(t, adm, q)
			if len(beats) != 4 {
				t.Fatalf("%s: %v", q, beats)
			}
			for _, r := range beats {
				if r["last_check"] == "NULL" || atoi(t, r["ms_since_check"]) > 5000 || r["last_error"] != "NULL" || r["gtid"] == "NULL" {
					t.Errorf("%s: %v", q, r)
				}
			}
		}
	})

	t.Run("sql stats", func(t *testing.T) {
		for _, q := range []string{"SHOW SQL STATS", "show @@sql"} {
			rows := queryRows(t, adm, q)
			sel := one(t, rows, "fingerprint", "select count(*) from orders where user_id = ?")
			// A read may take a second connection (a replica that has not
			// applied the session's write sends it to the primary).
			if sel["kind"] != "select" || sel["count"] != "30" || sel["errors"] != "0" || sel["rows"] != "30" || atof(t, sel["avg_shards"]) < 1 || atof(t, sel["avg_shards"]) > 1.5 {
				t.Errorf("point select: %v", sel)
			}
			if atof(t, sel["p99_ms"]) <= 0 || atof(t, sel["p99_ms"]) > atof(t, sel["max_ms"]) || atof(t, sel["avg_ms"]) > atof(t, sel["max_ms"]) {
				t.Errorf("times: %v", sel)
			}
			all := one(t, rows, "fingerprint", "select count(*) from orders")
			if atof(t, all["avg_shards"]) < 2 || all["rows"] != "1" {
				t.Errorf("scatter: %v", all)
			}
			ins := one(t, rows, "fingerprint", "insert into orders values(?+)")
			if ins["count"] != "20" || ins["rows"] != "20" {
				t.Errorf("insert: %v", ins)
			}
			if r := one(t, rows, "fingerprint", "select * from nosuch"); r["errors"] != "1" {
				t.Errorf("error: %v", r)
			}
			if r := one(t, rows, "fingerprint", "select amount from orders where user_id = ? and id = ?"); r["count"] != "5" || r["rows"] != "5" {
				t.Errorf("prepared: %v", r)
			}
		}
	})

	t.Run("slow queries", func(t *testing.T) {
		for _, q := range []string{"SHOW SLOW QUERIES", "show @@sql.slow"} {
			rows := queryRows(t, adm, q)
			r := one(t, rows, "statement", "SELECT SLEEP(0.2)")
			if atof(t, r["duration_ms"]) < 150 || r["user"] != "app" || r["schema"] != "sgadm" {
				t.Errorf("%s: %v", q, r)
			}
		}
		if !strings.Contains(p.Log(), `msg="slow query"`) || !strings.Contains(p.Log(), "SLEEP(0.2)") {
			t.Errorf("the slow query is not logged:\n%s", p.Log())
		}
	})

	t.Run("rules and layout", func(t *testing.T) {
		rules := queryRows(t, adm, "SHOW RULES")
		if r := one(t, rules, "table", "orders"); r["kind"] != "sharded" || r["column"] != "user_id" || r["algorithm"] != "mod" || r["shards"] != "4" || r["nodes"] != "dn0,dn1" || r["no_scatter"] != "yes" {
			t.Errorf("orders: %v", r)
		}
		if r := one(t, rules, "table", "regions"); r["kind"] != "global" || r["nodes"] != "dn0,dn1" {
			t.Errorf("regions: %v", r)
		}
		if r := one(t, rules, "table", "(other tables)"); r["nodes"] != "dn0" {
			t.Errorf("default: %v", r)
		}
		if len(queryRows(t, adm, "SHOW RULES IN sgadm")) != len(rules) {
			t.Error("SHOW RULES IN")
		}
		layout := queryRows(t, adm, "SHOW TABLE LAYOUT orders")
		if len(layout) != 4 {
			t.Fatalf("layout: %v", layout)
		}
		for i, r := range layout {
			node, db := "dn0", "sgadm_0"
			if i%2 == 1 {
				node, db = "dn1", "sgadm_1"
			}
			if r["shard"] != strconv.Itoa(i) || r["data_node"] != node || r["database"] != db || r["physical_table"] != fmt.Sprintf("orders_%d", i) || r["exists"] != "yes" {
				t.Errorf("shard %d: %v", i, r)
			}
		}
		if l := queryRows(t, adm, "SHOW TABLE LAYOUT sgadm.regions"); len(l) != 2 || l[1]["database"] != "sgadm_1" || l[1]["exists"] != "yes" {
			t.Errorf("regions layout: %v", l)
		}
		if l := queryRows(t, adm, "SHOW TABLE LAYOUT nothere IN sgadm"); len(l) != 1 || l[0]["kind"] != "default" || l[0]["exists"] != "no" {
			t.Errorf("unlisted table: %v", l)
		}
	})

	t.Run("version and status", func(t *testing.T) {
		for _, q := range []string{"SHOW VERSION", "show @@version"} {
			r := queryRows(t, adm, q)
			if len(r) != 1 || !strings.HasPrefix(r[0]["shardgate"], "shardgate ") || !strings.Contains(r[0]["backend"], "MariaDB") || r[0]["config"] != p.Config {
				t.Errorf("%s: %v", q, r)
			}
		}
		st := queryRows(t, adm, "SHOW STATUS")
		if atoi(t, one(t, st, "name", "statements")["value"]) < 60 || atoi(t, one(t, st, "name", "slow_queries")["value"]) < 1 ||
			one(t, st, "name", "slow_query_threshold")["value"] != "150ms" {
			t.Errorf("status: %v", st)
		}
	})

	// sleeper starts SELECT SLEEP(20) in a new session: its id, and its end.
	// In a transaction, the session holds its connection before.
	sleeper := func(t *testing.T, tx bool) (string, chan error) {
		c := Conn(t, cli)
		id := QueryString(t, c, "SELECT CONNECTION_ID()")
		if tx {
			MustExec(t, c, "START TRANSACTION", "SELECT 1")
		}
		done := make(chan error, 1)
		go func() {
			_, err := c.ExecContext(context.Background(), "SELECT SLEEP(20)")
			done <- err
		}()
		return id, done
	}

	t.Run("sessions and kill", func(t *testing.T) {
		id, done := sleeper(t, false)
		var sess row
		eventually(t, 5*time.Second, "the sleeping session shows", func() bool {
			for _, q := range []string{"SHOW SESSIONS", "show @@connection"} {
				rows := find(queryRows(t, adm, q), "id", id)
				if len(rows) != 1 || rows[0]["statement"] != "SELECT SLEEP(20)" {
					return false
				}
				sess = rows[0]
			}
			return true
		})
		if sess["user"] != "app" || sess["schema"] != "sgadm" || sess["state"] != "Query" {
			t.Errorf("session: %v", sess)
		}
		backends := queryRows(t, adm, "SHOW BACKENDS")
		if r := one(t, backends, "session", id); r["state"] != "running" || r["data_host"] != "dh0" {
			t.Errorf("backend of the sleeping session: %v", r)
		}
		if r := one(t, queryRows(t, adm, "show @@backend"), "session", id); r["state"] != "running" {
			t.Errorf("show @@backend: %v", r)
		}
		if len(find(backends, "state", "idle")) == 0 {
			t.Errorf("no idle backend connection listed: %v", backends)
		}
		start := time.Now()
		MustExec(t, adm, "KILL SESSION "+id)
		select {
		case err := <-done:
			if err == nil {
				t.Error("the killed session's statement succeeded")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("KILL SESSION did not stop the statement")
		}
		if time.Since(start) > 5*time.Second {
			t.Error("kill took too long")
		}
		eventually(t, 3*time.Second, "the killed session is gone", func() bool {
			return len(find(queryRows(t, adm, "SHOW SESSIONS"), "id", id)) == 0
		})
		mustFail(t, adm, "kill @@connection 999999", []uint16{1094})

		// Killed the moment its statement shows, before the server may have
		// read it: a KILL QUERY would be lost there and the session would
		// wait the whole SLEEP (CI saw it).
		for i := 0; i < 6; i++ {
			id, done := sleeper(t, i%2 == 1)
			for shown := false; !shown; {
				rows := find(queryRows(t, adm, "SHOW SESSIONS"), "id", id)
				shown = len(rows) == 1 && rows[0]["statement"] == "SELECT SLEEP(20)"
			}
			MustExec(t, adm, "KILL SESSION "+id)
			if err := <-done; err == nil {
				t.Error("the killed session's statement succeeded")
			}
			eventually(t, 5*time.Second, "a session killed as its statement starts is gone", func() bool {
				return len(find(queryRows(t, adm, "SHOW SESSIONS"), "id", id)) == 0
			})
		}
	})

	t.Run("checks", func(t *testing.T) {
		g := queryRows(t, adm, "CHECK GLOBAL TABLE regions")
		if len(g) != 2 || g[0]["status"] != "ok" || g[1]["status"] != "ok" || g[0]["checksum"] != g[1]["checksum"] || g[0]["rows"] != "2" {
			t.Fatalf("global check: %v", g)
		}
		MustExec(t, Open(t, DSN("sg", "sg", dh1Primary, "")), "INSERT INTO sgadm_1.regions VALUES (3, 'rogue')")
		g = queryRows(t, adm, "CHECK GLOBAL TABLE regions IN sgadm")
		if !strings.HasPrefix(one(t, g, "data_node", "dn1")["status"], "differs") || one(t, g, "data_node", "dn1")["rows"] != "3" || g[0]["checksum"] == g[1]["checksum"] {
			t.Errorf("a copy differs: %v", g)
		}
		mustFail(t, adm, "CHECK GLOBAL TABLE orders", []uint16{1105}, "not a global one")

		s := queryRows(t, adm, "CHECK TABLE STRUCTURE orders")
		if len(s) != 4 || len(find(s, "status", "ok")) != 4 {
			t.Fatalf("structure: %v", s)
		}
		MustExec(t, Open(t, DSN("sg", "sg", dh1Primary, "")), "ALTER TABLE sgadm_1.orders_3 ADD COLUMN extra INT")
		s = queryRows(t, adm, "CHECK TABLE STRUCTURE orders")
		r := one(t, s, "physical_table", "orders_3")
		if r["status"] != "differs" || !strings.Contains(r["difference"], "+ `extra` int(11)") || len(find(s, "status", "ok")) != 3 {
			t.Errorf("a shard differs: %v", s)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		resp, err := http.Get("http://" + p.Metrics + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text := string(body)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("content type %q", ct)
		}
		for _, want := range []string{
			"# TYPE shardgate_statements_total counter",
			`shardgate_statement_duration_seconds_bucket{kind="select",le="+Inf"} `,
			`shardgate_server_up{data_host="dh1",server="` + dh1Replica + `"} 1`,
			`shardgate_server_role{data_host="dh0",server="` + dh0Primary + `",role="primary"} 1`,
			`shardgate_server_replica_lag_seconds{data_host="dh0",server="` + dh0Replica + `"} `,
			`shardgate_pool_connections{data_host="dh0",server="` + dh0Primary + `",state="open"} `,
			`shardgate_failovers_total{data_host="dh0"} 0`,
			"shardgate_slow_statements_total ",
			`shardgate_statement_errors_total{kind="select"} `,
			"shardgate_sessions ",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
		m := regexp.MustCompile(`shardgate_statements_total\{kind="insert"\} (\d+)`).FindStringSubmatch(text)
		defer func() {
			// RESET SQL STATS forgets fingerprints and slow queries, not the counters.
			MustExec(t, adm, "RESET SQL STATS")
			if n := len(queryRows(t, adm, "SHOW SQL STATS")); n != 0 {
				t.Errorf("%d fingerprints after RESET SQL STATS", n)
			}
			if n := len(queryRows(t, adm, "SHOW SLOW QUERIES")); n != 0 {
				t.Errorf("%d slow queries after RESET SQL STATS", n)
			}
		}()
		if m == nil || m[1] != "21" {
			t.Errorf("insert count: %v", m)
		}
		// Every line is a comment or name{labels} value.
		line := regexp.MustCompile(`^(#.*|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.eE]+|[a-z_]+\{[^}]*\} \+?Inf)$`)
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			if !line.MatchString(l) {
				t.Errorf("bad exposition line %q", l)
			}
		}
	})
}

func TestAdminFirewall(t *testing.T) {
	resetAdminData(t)
	p := startAdmin(t, "", "")
	app := Open(t, DSN("app", "app", p.Addr, "sgadm"))
	MustExec(t, app,
		"CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, amount INT)",
		"CREATE TABLE regions (id INT PRIMARY KEY, name VARCHAR(20))",
		"INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20), (3, 3, 30)",
		"INSERT INTO regions VALUES (1, 'north')")
	g := Open(t, DSN("guarded", "guarded", p.Addr, "sgadm"))
	mustFail(t, g, "TRUNCATE TABLE regions", []uint16{1105}, "shardgate firewall", "deny rule 1 (kind: truncate)")
	mustFail(t, g, "SELECT * FROM regions WHERE id = 7", []uint16{1105}, `deny rule 2 (fingerprint: "select * from regions where id = ?")`)
	mustFail(t, g, "DELETE FROM regions", []uint16{1105}, "guard refuses DELETE without WHERE")
	mustFail(t, g, "UPDATE orders SET amount = 0", []uint16{1105}, "guard refuses UPDATE without WHERE")
	mustFail(t, g, "SELECT COUNT(*) FROM orders", []uint16{1105}, "guard refuses reading all 4 shards of orders (no_scatter: true)")
	mustFail(t, g, "SELECT 1; DELETE FROM regions", []uint16{1105, 1064}, "")
	// Prepared statements meet the same rules when they run.
	ps, err := g.Prepare("SELECT * FROM regions WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	var id int
	var name string
	if err := ps.QueryRow(1).Scan(&id, &name); ErrCode(err) != 1105 || !strings.Contains(err.Error(), "deny rule 2") {
		t.Errorf("prepared: %v", err)
	}
	ps.Close()
	// What the rules allow goes through.
	// (From the primaries: app's writes may not have reached the replicas.)
	if n := QueryString(t, g, "SELECT /* shardgate:primary */ COUNT(*) FROM orders WHERE user_id = 2"); n != "1" {
		t.Errorf("a one-shard read: %s", n)
	}
	if v := QueryString(t, g, "SELECT /* shardgate:primary */ name FROM regions WHERE id = 1 AND name IS NOT NULL"); v != "north" {
		t.Errorf("another fingerprint: %s", v)
	}
	MustExec(t, g, "UPDATE orders SET amount = 11 WHERE user_id = 1", "DELETE FROM regions WHERE id = 99")
	// Other users are not guarded.
	if n := QueryString(t, app, "SELECT COUNT(*) FROM orders"); n != "3" {
		t.Errorf("app: %s", n)
	}
	MustExec(t, app, "DELETE FROM regions")
	adm := Open(t, DSN("ops", "ops", p.Admin, ""))
	if n := atoi(t, one(t, queryRows(t, adm, "SHOW STATUS"), "name", "firewall_denied")["value"]); n < 6 {
		t.Errorf("firewall_denied %d", n)
	}
}

// rewriteConfig replaces text in the proxy's config file.
func rewriteConfig(t *testing.T, p *adminProxy, old, new string) {
	t.Helper()
	data, err := os.ReadFile(p.Config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("config has no %q:\n%s", old, data)
	}
	if err := os.WriteFile(p.Config, []byte(strings.Replace(string(data), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAdminReloadUnderLoad(t *testing.T) {
	resetAdminData(t)
	p := startAdmin(t, "", "")
	adm := Open(t, DSN("ops", "ops", p.Admin, ""))
	setup := Open(t, DSN("app", "app", p.Addr, "sgadm"))
	MustExec(t, setup, "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, amount INT)")

	// 8 clients write and read while the config changes under them.
	var stop atomic.Bool
	var ops, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			db := Open(t, DSN("app", "app", p.Addr, "sgadm"))
			db.SetMaxOpenConns(1)
			for i := 0; !stop.Load(); i++ {
				id := w*1_000_000 + i
				_, err := db.Exec("INSERT INTO orders VALUES (?, ?, ?)", id, id%13, i)
				if err == nil {
					var n int
					err = db.QueryRow("SELECT COUNT(*) FROM orders WHERE user_id = ? AND id = ?", id%13, id).Scan(&n)
					if err == nil && n != 1 {
						err = fmt.Errorf("row %d: count %d", id, n)
					}
				}
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
				ops.Add(1)
			}
		}(w)
	}
	eventually(t, 5*time.Second, "load runs", func() bool { return ops.Load() > 200 })

	// The pools of unchanged data hosts survive: the same backend threads.
	threads := func(host string) map[string]bool {
		out := map[string]bool{}
		for _, r := range queryRows(t, adm, "SHOW BACKENDS") {
			if r["data_host"] == host && r["thread_id"] != "NULL" {
				out[r["thread_id"]] = true
			}
		}
		return out
	}
	before := threads("dh0")
	if len(before) == 0 {
		t.Fatal("no backend connections to dh0")
	}

	// Add a sharded table and change dh1's pool while the load runs.
	rewriteConfig(t, p, "      regions: {global: true}\n", "      regions: {global: true}\n      events: {column: id, algorithm: hash, shards: 4, nodes: [dn0, dn1]}\n")
	rewriteConfig(t, p, "    primary: 127.0.0.1:13307\n", "    primary: 127.0.0.1:13307\n    pool: {max: 40}\n")
	start := time.Now()
	changes := queryRows(t, adm, "RELOAD CONFIG")
	took := time.Since(start)
	one(t, changes, "change", "table rule added", "target", "sgadm.events")
	one(t, changes, "change", "data host changed", "target", "dh1")
	if len(find(changes, "target", "dh0")) != 0 {
		t.Errorf("dh0 did not change: %v", changes)
	}
	version := one(t, changes, "change", "version")["target"]
	// Mycat's spelling; the file is what runs.
	one(t, queryRows(t, adm, "reload @@config"), "change", "unchanged")

	// The new table is usable at once.
	app := Open(t, DSN("app", "app", p.Addr, "sgadm"))
	MustExec(t, app, "CREATE TABLE events (id BIGINT PRIMARY KEY, what VARCHAR(20))",
		"INSERT INTO events VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')")
	if n := QueryString(t, app, "SELECT COUNT(*) FROM events"); n != "5" {
		t.Errorf("events: %s", n)
	}
	layout := queryRows(t, adm, "SHOW TABLE LAYOUT events")
	if len(layout) != 4 || len(find(layout, "exists", "yes")) != 4 {
		t.Errorf("events layout: %v", layout)
	}
	time.Sleep(500 * time.Millisecond) // more load on the new configuration
	after := threads("dh0")
	kept := 0
	for id := range before {
		if after[id] {
			kept++
		}
	}
	if kept == 0 {
		t.Errorf("dh0's connections were replaced by the reload: before %v, after %v", before, after)
	}
	servers := queryRows(t, adm, "SHOW SERVERS")
	if one(t, servers, "server", dh1Primary)["pool_max"] != "40" || one(t, servers, "server", dh0Primary)["pool_max"] != "64" {
		t.Errorf("pools: %v", servers)
	}

	// A file that would orphan rows is refused unless FORCE.
	rewriteConfig(t, p, "orders:  {column: user_id, algorithm: mod, shards: 4,", "orders:  {column: user_id, algorithm: mod, shards: 2,")
	mustFail(t, adm, "RELOAD CONFIG", []uint16{1105}, "reload refused, nothing changed", "sgadm.orders has rows", "RELOAD CONFIG FORCE")
	rewriteConfig(t, p, "orders:  {column: user_id, algorithm: mod, shards: 2,", "orders:  {column: user_id, algorithm: mod, shards: 4,")

	// A broken file changes nothing and says where it is broken.
	rulesBefore := queryRows(t, adm, "SHOW RULES")
	versionsBefore := queryRows(t, adm, "SHOW CONFIG VERSIONS")
	rewriteConfig(t, p, "      events: {column: id, algorithm: hash, shards: 4, nodes: [dn0, dn1]}\n",
		"      events: {column: id, algorithm: hash, shards: 4, nodes: [dn0, dn9]}\n      broken: {colum: x}\n")
	data, _ := os.ReadFile(p.Config)
	line := 0
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "broken:") {
			line = i + 1
		}
	}
	msg := mustFail(t, adm, "RELOAD CONFIG", []uint16{1105}, "nothing changed", fmt.Sprintf("%s:%d: schemas[0].tables.broken.colum: unknown key", p.Config, line),
		`data node "dn9" is not defined`)
	t.Logf("broken reload: %s", msg)
	if got := queryRows(t, adm, "SHOW RULES"); fmt.Sprint(got) != fmt.Sprint(rulesBefore) {
		t.Errorf("rules changed by a broken reload:\n%v\n%v", rulesBefore, got)
	}
	if got := queryRows(t, adm, "SHOW CONFIG VERSIONS"); len(got) != len(versionsBefore) {
		t.Errorf("versions changed by a broken reload: %v", got)
	}
	if n := QueryString(t, app, "SELECT COUNT(*) FROM events"); n != "5" {
		t.Errorf("events after a broken reload: %s", n)
	}
	stop.Store(true)
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Errorf("%d of %d client operations failed; first: %v", f, ops.Load(), firstErr.Load())
	}
	vs := queryRows(t, adm, "SHOW CONFIG VERSIONS")
	if one(t, vs, "current", "yes")["version"] != version || one(t, vs, "version", "1")["statement"] != "(the file as loaded at start-up)" {
		t.Errorf("versions: %v", vs)
	}
	t.Logf("%d client operations, 0 errors; RELOAD CONFIG took %v", ops.Load(), took)
}

func TestAdminRuleEdit(t *testing.T) {
	resetAdminData(t)
	dir := t.TempDir()
	p := startAdmin(t, dir, "")
	adm := Open(t, DSN("ops", "ops", p.Admin, ""))
	app := Open(t, DSN("app", "app", p.Addr, "sgadm"))
	MustExec(t, app, "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, amount INT)",
		"INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20), (3, 3, 30)",
		// On the default node, no rule yet, no rows.
		"CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(20))")

	// DRY RUN shows the diff and changes nothing.
	dry := queryRows(t, adm, "DRY RUN CREATE SHARDING TABLE RULE payments (COLUMN=user_id, ALGORITHM=mod, SHARDS=4, NODES=(dn0,dn1)) IN sgadm")
	one(t, dry, "action", "rule", "detail", "+ payments: {column: user_id, algorithm: mod, shards: 4, nodes: [dn0, dn1]}")
	one(t, dry, "action", "no physical tables")
	one(t, dry, "action", "dry run", "detail", "nothing changed")
	if len(find(queryRows(t, adm, "SHOW RULES"), "table", "payments")) != 0 {
		t.Fatal("DRY RUN changed the rules")
	}
	dry = queryRows(t, adm, "DRY RUN CREATE SHARDING TABLE RULE payments (COLUMN=user_id, ALGORITHM=mod, SHARDS=2, NODES=(dn0,dn1)) IN sgadm AS CREATE TABLE payments (id BIGINT PRIMARY KEY, user_id BIGINT)")
	one(t, dry, "action", "create table", "target", "dn0.sgadm_0.payments_0")
	one(t, dry, "action", "create table", "target", "dn1.sgadm_1.payments_1")

	// A new table: the rule now, the physical tables with the client's CREATE TABLE.
	res := queryRows(t, adm, "CREATE SHARDING TABLE RULE payments (COLUMN=user_id, ALGORITHM=mod, SHARDS=4, NODES=(dn0,dn1)) IN sgadm")
	one(t, res, "action", "table rule added", "target", "sgadm.payments")
	MustExec(t, app, "CREATE TABLE payments (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL)",
		"INSERT INTO payments VALUES (1, 1), (2, 2), (3, 3), (4, 4)")
	layout := queryRows(t, adm, "SHOW TABLE LAYOUT payments")
	if len(layout) != 4 || len(find(layout, "exists", "yes")) != 4 {
		t.Fatalf("payments: %v", layout)
	}
	mustFail(t, adm, "CREATE SHARDING TABLE RULE payments (COLUMN=id, ALGORITHM=mod, SHARDS=2, NODES=(dn0,dn1))", []uint16{1105}, "already has a sharded rule", "ALTER SHARDING TABLE RULE")

	// A change that would orphan rows is refused, saying why, unless FORCE.
	dry = queryRows(t, adm, "DRY RUN ALTER SHARDING TABLE RULE orders (SHARDS=2) IN sgadm")
	one(t, dry, "action", "would be refused")
	mustFail(t, adm, "ALTER SHARDING TABLE RULE orders (SHARDS=2) IN sgadm", []uint16{1105}, "refused, nothing changed", "has rows in", "orders_1", "FORCE")
	mustFail(t, adm, "ALTER SHARDING TABLE RULE orders (COLUMN=id) IN sgadm", []uint16{1105}, "has rows")
	mustFail(t, adm, "ALTER SHARDING TABLE RULE orders (ALGORITHM=hash) IN sgadm", []uint16{1105}, "has rows")
	mustFail(t, adm, "DROP TABLE RULE orders IN sgadm", []uint16{1105}, "has rows")
	// Validation as for a file.
	mustFail(t, adm, "ALTER SHARDING TABLE RULE orders (NODES=(dn0,dn7)) IN sgadm", []uint16{1105}, `data node "dn7" is not defined`)
	mustFail(t, adm, "ALTER SHARDING TABLE RULE orders (ALGORITHM=nope) IN sgadm", []uint16{1105}, `unknown algorithm "nope"`)
	mustFail(t, adm, "CREATE GLOBAL TABLE RULE g (COLUMN=x) IN sgadm", []uint16{1105}, "COLUMN is not a key of a global table rule")
	mustFail(t, adm, "CREATE SHARDING TABLE RULE x (COLUMN=id, ALGORITHM=range, SHARDS=2, NODES=(dn0,dn1), OPTIONS=(boundaries=(10, 5))) IN sgadm", []uint16{1105}, "boundaries")
	mustFail(t, adm, "CREATE SHARDING TABLE RULE x (COLUMN=id, BOGUS=1)", []uint16{1064}, "unknown property")
	// NO_SCATTER may change on a table with rows: placement does not.
	MustExec(t, adm, "ALTER SHARDING TABLE RULE orders (NO_SCATTER=false) IN sgadm")

	// A rule for a table that exists elsewhere creates its physical tables
	// from the existing definition.
	res = queryRows(t, adm, "CREATE GLOBAL TABLE RULE products IN sgadm")
	one(t, res, "action", "create table", "target", "dn1.sgadm_1.products", "detail", "like dn0.sgadm_0.products")
	if l := queryRows(t, adm, "SHOW TABLE LAYOUT products"); len(find(l, "exists", "yes")) != 2 {
		t.Errorf("products: %v", l)
	}
	MustExec(t, app, "INSERT INTO products VALUES (1, 'pen')")
	if v := QueryString(t, Open(t, DSN("sg", "sg", dh1Primary, "")), "SELECT name FROM sgadm_1.products WHERE id = 1"); v != "pen" {
		t.Errorf("global copy on dn1: %s", v)
	}

	// A rule with a definition creates the physical tables.
	res = queryRows(t, adm, "CREATE CHILD TABLE RULE payment_items (PARENT=payments, COLUMN=payment_user, PARENT_COLUMN=user_id) IN sgadm AS CREATE TABLE payment_items (id BIGINT PRIMARY KEY, payment_user BIGINT NOT NULL)")
	if len(find(res, "action", "create table")) != 4 {
		t.Errorf("child tables: %v", res)
	}
	MustExec(t, app, "INSERT INTO payment_items VALUES (10, 1), (11, 2)")
	if n := QueryString(t, app, "SELECT COUNT(*) FROM payments p JOIN payment_items i ON i.payment_user = p.user_id"); n != "2" {
		t.Errorf("ER join: %s", n)
	}
	res = queryRows(t, adm, "CREATE SINGLE TABLE RULE notes (NODE=dn1) AS CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)")
	one(t, res, "action", "create table", "target", "dn1.sgadm_1.notes")
	MustExec(t, app, "INSERT INTO notes VALUES (1, 'x')")
	if v := QueryString(t, Open(t, DSN("sg", "sg", dh1Primary, "")), "SELECT body FROM sgadm_1.notes"); v != "x" {
		t.Errorf("single on dn1: %s", v)
	}
	MustExec(t, app, "DELETE FROM notes")
	// Dropping an empty single table's rule: it falls back to the default
	// node, where the table is created like the old one.
	res = queryRows(t, adm, "DROP SINGLE TABLE RULE notes IN sgadm")
	one(t, res, "action", "table rule removed", "target", "sgadm.notes")
	one(t, res, "action", "create table", "target", "dn0.sgadm_0.notes")
	MustExec(t, adm, "DROP TABLE RULE IF EXISTS notes IN sgadm")

	// Versions, rollback, and the file.
	vs := queryRows(t, adm, "SHOW CONFIG VERSIONS")
	cur := one(t, vs, "current", "yes")
	if one(t, vs, "version", "1")["statement"] != "(the file as loaded at start-up)" || !strings.HasPrefix(cur["statement"], "DROP SINGLE TABLE RULE notes") || cur["user"] != "ops" {
		t.Fatalf("versions: %v", vs)
	}
	withNotes := ""
	for _, v := range vs {
		if strings.HasPrefix(v["statement"], "CREATE SINGLE TABLE RULE notes") {
			withNotes = v["version"]
		}
	}
	res = queryRows(t, adm, "ROLLBACK CONFIG TO "+withNotes)
	one(t, res, "change", "table rule added", "target", "sgadm.notes")
	if r := one(t, queryRows(t, adm, "SHOW RULES"), "table", "notes"); r["kind"] != "single" || r["nodes"] != "dn1" {
		t.Errorf("after rollback: %v", r)
	}
	res = queryRows(t, adm, "ROLLBACK CONFIG")
	one(t, res, "change", "table rule removed", "target", "sgadm.notes")
	// Back before payment_items: its rows would be orphaned.
	mustFail(t, adm, "ROLLBACK CONFIG", []uint16{1105}, "rollback refused, nothing changed", "payment_items has rows", "FORCE")
	res = queryRows(t, adm, "ROLLBACK CONFIG FORCE")
	one(t, res, "change", "table rule removed", "target", "sgadm.payment_items")
	one(t, res, "change", "orphaned (FORCE)", "target", "sgadm.payment_items")
	one(t, res, "change", "create table", "target", "dn0.sgadm_0.payment_items")
	MustExec(t, adm, "ROLLBACK CONFIG TO "+cur["version"])
	if _, err := os.Stat(filepath.Join(dir, "shardgate.yaml.versions", "0001.yaml")); err != nil {
		t.Error(err)
	}
	data, err := os.ReadFile(p.Config)
	if err != nil || !strings.Contains(string(data), "payments: {column: user_id, algorithm: mod, shards: 4, nodes: [dn0, dn1]}") {
		t.Fatalf("the file lacks the rule: %v\n%s", err, data)
	}

	// A restart keeps what was edited.
	rulesBefore := queryRows(t, adm, "SHOW RULES")
	stopStart := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped in %v", time.Since(stopStart))
	p2 := &adminProxy{Admin: p.Admin, Metrics: p.Metrics, dir: dir}
	p2.Proxy = restartProxy(t, dir)
	waitListen(t, p2.Admin)
	adm2 := Open(t, DSN("ops", "ops", p2.Admin, ""))
	if got := queryRows(t, adm2, "SHOW RULES"); fmt.Sprint(got) != fmt.Sprint(rulesBefore) {
		t.Errorf("rules after restart:\n%v\nwant\n%v", got, rulesBefore)
	}
	if n := QueryString(t, Open(t, DSN("app", "app", p2.Addr, "sgadm")), "SELECT COUNT(*) FROM payments p JOIN payment_items i ON i.payment_user = p.user_id"); n != "2" {
		t.Errorf("after restart: %s", n)
	}
	// The file is the last version: the restarted proxy knows it.
	if v := one(t, queryRows(t, adm2, "SHOW CONFIG VERSIONS"), "current", "yes"); v["statement"] != "ROLLBACK CONFIG TO "+cur["version"] {
		t.Errorf("current version after restart: %v", v)
	}
	// FORCE does what it is told, and says what it leaves behind.
	res = queryRows(t, adm2, "ALTER SHARDING TABLE RULE orders (SHARDS=2) IN sgadm FORCE")
	if r := one(t, res, "action", "orphaned (FORCE)", "target", "sgadm.orders"); !strings.Contains(r["detail"], "orders_3") {
		t.Errorf("orphaned: %v", r)
	}
	if r := one(t, queryRows(t, adm2, "SHOW RULES"), "table", "orders"); r["shards"] != "2" {
		t.Errorf("forced: %v", r)
	}
}

// restartProxy starts the proxy again on the config file in dir as it
// is (StartProxyIn would write it with a new listen address).
func restartProxy(t *testing.T, dir string) *Proxy {
	t.Helper()
	path := filepath.Join(dir, "shardgate.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^listen: (\S+)$`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatalf("no listen in\n%s", data)
	}
	p := &Proxy{t: t, Addr: m[1], log: &bytes.Buffer{}, waitCh: make(chan error, 1), Config: path}
	p.cmd = exec.Command(binary, "--config", path)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitCh <- p.cmd.Wait() }()
	t.Cleanup(func() { p.Stop() })
	waitListen(t, p.Addr)
	return p
}

func TestAdminSwitchPrimary(t *testing.T) {
	t0 := time.Now()
	// Asynchronous replication for this test: the topology's semi-sync
	// is one-way (the primary waits, the replica acks), which a switch
	// does not turn around. haUp turns it back on for the next test.
	haTopo(t, "up", "--no-semisync", "--durable", "dh0-primary", "dh0-replica")
	t.Cleanup(func() { haUp(t) })
	t.Logf("HA topology up after %v", time.Since(t0).Round(time.Millisecond))
	cfg := `
listen: {{LISTEN}}
admin: {{ADMIN}}
users:
  - {name: app, password: app, schemas: [ha]}
  - {name: ops, password: ops, admin: true}
data_hosts:
  - name: dh0
    user: sg
    password: sg
    primary: ` + haPrimary + `
    replicas: [{addr: ` + haReplica + `, weight: 1}]
    replication_user: repl
    replication_password: repl
    heartbeat: 200ms
data_nodes:
  - {name: n0, host: dh0, database: ha}
schemas:
  - {name: ha, default_node: n0}
`
	adminAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := StartProxy(t, strings.Replace(cfg, "{{ADMIN}}", adminAddr, 1))
	waitListen(t, adminAddr)
	adm := Open(t, DSN("ops", "ops", adminAddr, ""))
	app := Open(t, DSN("app", "app", p.Addr, "ha"))
	pid, rid := serverIDs(t)
	role := func(addr string) (string, string) {
		r := one(t, queryRows(t, adm, "SHOW SERVERS"), "server", addr)
		return r["role"], r["state"]
	}
	// Leave the topology as found, whatever happens.
	t.Cleanup(func() {
		if r, _ := role(haPrimary); r != "primary" {
			_, _ = adm.Exec("SWITCH PRIMARY dh0 TO '" + haPrimary + "'")
		}
	})
	MustExec(t, app, "DROP TABLE IF EXISTS sw", "CREATE TABLE sw (id INT PRIMARY KEY, v INT)", "INSERT INTO sw VALUES (1, 1)")

	// Offline: no reads on the replica, its pool drained; online again.
	for i := 0; i < 20; i++ {
		QueryString(t, app, "SELECT @@server_id")
	}
	MustExec(t, adm, "SET SERVER '"+haReplica+"' OFFLINE")
	if r, s := role(haReplica); r != "replica" || s != "offline" {
		t.Errorf("offline: %s %s", r, s)
	}
	if open := one(t, queryRows(t, adm, "SHOW SERVERS"), "server", haReplica)["pool_idle"]; open != "0" {
		t.Errorf("the offline replica keeps idle connections: %s", open)
	}
	for i := 0; i < 20; i++ {
		if id := QueryString(t, app, "SELECT @@server_id"); id != pid {
			t.Fatalf("a read went to the offline replica (%s)", id)
		}
	}
	mustFail(t, adm, "SET SERVER '"+haPrimary+"' OFFLINE", []uint16{1105}, "SWITCH PRIMARY")
	mustFail(t, adm, "SWITCH PRIMARY dh0 TO '"+haReplica+"'", []uint16{1105}, "is offline")
	MustExec(t, adm, "SET SERVER '"+haReplica+"' ONLINE")
	eventually(t, 5*time.Second, "reads reach the replica again", func() bool {
		return QueryString(t, app, "SELECT @@server_id") == rid
	})

	// A planned switch to the replica, and back (Mycat's spelling).
	haCatchUp(t)
	start := time.Now()
	MustExec(t, adm, "SWITCH PRIMARY dh0 TO '"+haReplica+"'")
	t.Logf("switch took %v", time.Since(start))
	if r, _ := role(haReplica); r != "primary" {
		t.Fatalf("after the switch: %s", r)
	}
	if r, _ := role(haPrimary); r != "replica" {
		t.Fatalf("the old primary: %s", r)
	}
	if h := one(t, queryRows(t, adm, "SHOW DATA HOSTS"), "data_host", "dh0"); h["primary"] != haReplica || h["failovers"] != "1" {
		t.Errorf("data host: %v", h)
	}
	MustExec(t, app, "INSERT INTO sw VALUES (2, 2)")
	if id := QueryString(t, app, "SELECT /*+ shardgate:primary */ @@server_id"); id != rid {
		t.Errorf("writes go to %s, want the new primary %s", id, rid)
	}
	mustFail(t, adm, "SWITCH PRIMARY dh0 TO '"+haReplica+"'", []uint16{1105}, "already the primary")
	mustFail(t, adm, "SWITCH PRIMARY dh0 TO '127.0.0.1:1'", []uint16{1105}, "not a server of data host dh0")
	eventually(t, 10*time.Second, "the old primary replicates from the new one", func() bool {
		r := one(t, queryRows(t, adm, "SHOW SERVERS"), "server", haPrimary)
		return r["state"] == "up" && r["lag_seconds"] == "0"
	})
	MustExec(t, adm, "switch @@datasource dh0:"+haPrimary)
	if r, _ := role(haPrimary); r != "primary" {
		t.Fatalf("after switching back: %s", r)
	}
	if n := QueryString(t, app, "SELECT COUNT(*) FROM sw"); n != "2" {
		t.Errorf("rows after two switches: %s", n)
	}
	eventually(t, 10*time.Second, "the replica replicates again", func() bool {
		r := one(t, queryRows(t, adm, "SHOW SERVERS"), "server", haReplica)
		return r["state"] == "up" && r["lag_seconds"] == "0"
	})
	MustExec(t, app, "DROP TABLE sw")
}
