//go:build integration

// Package integration runs shardgate end to end against real MariaDB
// servers started by scripts/topology.sh, and compares what clients get
// through the proxy with what they get from MariaDB directly.
//
//	go test -tags integration ./integration/
package integration

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Addresses of the topology (scripts/topology.sh).
const (
	dh0Primary = "127.0.0.1:13306"
	dh0Replica = "127.0.0.1:13316"
	dh1Primary = "127.0.0.1:13307"
	dh1Replica = "127.0.0.1:13317"
	oracleAddr = "127.0.0.1:13310"
)

var (
	repoRoot string
	binary   string // the shardgate binary under test
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, _ := os.Getwd()
	repoRoot = filepath.Dir(wd)
	if os.Getenv("SG_SKIP_TOPOLOGY") == "" {
		cmd := exec.Command(filepath.Join(repoRoot, "scripts", "topology.sh"), "up")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "topology.sh up failed:", err)
			return 1
		}
	}
	dir, err := os.MkdirTemp("", "shardgate-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "shardgate")
	build := exec.Command("go", "build", "-o", binary, "./cmd/shardgate")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build failed:", err)
		return 1
	}
	code := m.Run()
	// The read/write tests' topology is theirs alone: do not leave it running.
	destroy := exec.Command(filepath.Join(repoRoot, "scripts", "topology.sh"), "destroy")
	destroy.Env = append(os.Environ(), "SG_TOPO_DIR="+haDir, "SG_TOPO_PORT_OFFSET="+haOffset)
	_ = destroy.Run()
	if err := EtcdDestroy(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

// Proxy is a shardgate process started for a test.
type Proxy struct {
	t      testing.TB
	Addr   string
	cmd    *exec.Cmd
	log    *bytes.Buffer
	waitCh chan error
	Config string
}

// freePort returns a loopback port nobody listens on.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartProxy writes the config (with {{LISTEN}} replaced by a free address)
// and starts shardgate; it is stopped when the test ends.
func StartProxy(t testing.TB, config string) *Proxy {
	t.Helper()
	return StartProxyIn(t, t.TempDir(), config)
}

// StartProxyIn is StartProxy with the config file (and so the state file)
// in dir: a proxy started again in the same dir finds what the first one
// recorded.
func StartProxyIn(t testing.TB, dir, config string) *Proxy {
	t.Helper()
	return StartProxyEnv(t, dir, config)
}

// StartProxyEnv is StartProxyIn with more environment variables for the
// proxy (e.g. SG_FAULT).
func StartProxyEnv(t testing.TB, dir, config string, env ...string) *Proxy {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	config = strings.ReplaceAll(config, "{{LISTEN}}", addr)
	path := filepath.Join(dir, "shardgate.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, Addr: addr, log: &bytes.Buffer{}, waitCh: make(chan error, 1), Config: path}
	p.cmd = exec.Command(binary, "--config", path)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	// A test binary killed (go test's -timeout, ^C) leaves no proxy behind
	// holding the servers' connections and locks.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitCh <- p.cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-p.waitCh:
			t.Fatalf("shardgate exited: %v\n%s", err, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("shardgate did not listen on %s\n%s", addr, p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			// The proxy's last words, for a failure that did not print them.
			lines := strings.Split(strings.TrimSpace(p.log.String()), "\n")
			t.Logf("shardgate on %s, the end of its log:\n%s", addr, strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
	})
	return p
}

// Stop sends SIGTERM and waits for the process to exit.
func (p *Proxy) Stop() error {
	if p.cmd.ProcessState != nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.waitCh:
		p.waitCh <- err
		return err
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("shardgate did not stop on SIGTERM")
	}
}

// Exited waits up to timeout for the process to end by itself.
func (p *Proxy) Exited(timeout time.Duration) bool {
	select {
	case err := <-p.waitCh:
		p.waitCh <- err
		return true
	case <-time.After(timeout):
		return false
	}
}

// Pid returns the proxy's process id.
func (p *Proxy) Pid() int { return p.cmd.Process.Pid }

// Log returns what the proxy printed so far.
func (p *Proxy) Log() string { return p.log.String() }

// RSS returns the proxy's resident set size and its peak (VmHWM), in bytes.
func (p *Proxy) RSS() (rss, peak int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		p.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return rss, peak
}

// DSN builds a go-sql-driver DSN.
func DSN(user, pass, addr, db string, params ...string) string {
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s", user, pass, addr, db)
	if len(params) > 0 {
		dsn += "?" + strings.Join(params, "&")
	}
	return dsn
}

// Open opens a database handle that is closed when the test ends.
func Open(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Conn returns one dedicated connection.
func Conn(t testing.TB, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// MustExec runs statements and fails the test on error.
func MustExec(t testing.TB, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := q.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// QueryString returns the first column of the first row as a string ("NULL" for NULL).
func QueryString(t testing.TB, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, query string, args ...any) string {
	t.Helper()
	var v sql.NullString
	if err := q.QueryRowContext(context.Background(), query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if !v.Valid {
		return "NULL"
	}
	return v.String
}

// QueryColumn returns the first column of every row as strings.
func QueryColumn(t testing.TB, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) []string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// ErrCode returns the MySQL error number of err, or 0.
func ErrCode(err error) uint16 {
	if me, ok := err.(*mysql.MySQLError); ok {
		return me.Number
	}
	return 0
}

// Root runs SQL on a topology instance as root through its socket.
func Root(t testing.TB, instance, query string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot, "scripts", "topology.sh"), "sql", instance, "-N", query).CombinedOutput()
	if err != nil {
		t.Fatalf("topology.sh sql %s %q: %v\n%s", instance, query, err, out)
	}
	return strings.TrimSpace(string(out))
}

// passThroughConfig serves schema gotest (and friends) from dh0's primary.
const passThroughConfig = `
listen: {{LISTEN}}
log: {level: debug}
max_connections: {{MAXCONN}}
users:
  - {name: gotest, password: gotest, schemas: [gotest, itest]}
  - {name: other, password: other, schemas: [itest]}
  - {name: nopass, schemas: [itest]}
data_hosts:
  - name: dh0
    user: sg
    password: sg
    primary: 127.0.0.1:13306
    pool: {max: {{POOLMAX}}, max_idle: {{POOLMAX}}, wait_timeout: {{POOLWAIT}}}
data_nodes:
  - {name: gt0, host: dh0, database: gotest}
  - {name: it0, host: dh0, database: itest_phys}
schemas:
  - {name: gotest, default_node: gt0}
  - {name: itest, default_node: it0}
`

// PassThrough starts a proxy serving the pass-through schemas with the
// given pool size and client limit.
func PassThrough(t testing.TB, poolMax, maxConn int) *Proxy {
	c := strings.NewReplacer("{{MAXCONN}}", strconv.Itoa(maxConn), "{{POOLMAX}}", strconv.Itoa(poolMax),
		"{{POOLWAIT}}", "10s").Replace(passThroughConfig)
	return StartProxy(t, c)
}
