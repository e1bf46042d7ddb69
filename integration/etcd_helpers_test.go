//go:build integration

package integration

// Helpers for the cluster-mode tests: a three-member etcd cluster of the
// tests' own (scripts/etcd.sh with its own directory and ports, so that it
// never meets the demo's cluster) and HAProxy in front of shardgate nodes
// (examples/haproxy/shardgate.cfg).

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests' etcd cluster: client URLs http://127.0.0.1:13379, :13389, :13399.
const (
	etcdTestDir    = "/var/tmp/shardgate-etcd-test"
	etcdTestOffset = "1000"
)

// etcdCommand returns scripts/etcd.sh ARGS... aimed at the tests' cluster.
func etcdCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", "etcd.sh"), args...)
	cmd.Env = append(os.Environ(), "SG_ETCD_DIR="+etcdTestDir, "SG_ETCD_PORT_OFFSET="+etcdTestOffset)
	return cmd
}

// etcdScript runs scripts/etcd.sh ARGS... on the tests' cluster and returns
// its output; the test fails if the script does.
func etcdScript(t testing.TB, args ...string) string {
	t.Helper()
	// The script's etcd processes keep none of its descriptors, so waiting
	// for the end of its output does not wait for them.
	out, err := etcdCommand(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/etcd.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// StartEtcd brings the tests' etcd cluster up (starting whatever member is
// not running: a test that stopped or killed one leaves it to the next
// StartEtcd) and waits until all three members are healthy. It returns the
// client URLs. The cluster outlives the test: EtcdDestroy removes it.
func StartEtcd(t testing.TB) (endpoints []string) {
	t.Helper()
	etcdScript(t, "up")
	eps := strings.TrimSpace(etcdScript(t, "endpoints"))
	if eps == "" {
		t.Fatal("scripts/etcd.sh endpoints printed nothing")
	}
	return strings.Split(eps, ",")
}

func etcdMember(t testing.TB, n int) string {
	t.Helper()
	if n < 1 || n > 3 {
		t.Fatalf("etcd member %d: members are 1, 2 and 3", n)
	}
	return strconv.Itoa(n)
}

// EtcdStop stops member n (1..3) with SIGTERM; its data is kept.
func EtcdStop(t testing.TB, n int) {
	t.Helper()
	etcdScript(t, "stop", etcdMember(t, n))
}

// EtcdLeader returns the number (1..3) of the member that leads.
func EtcdLeader(t testing.TB) int {
	t.Helper()
	out, _ := etcdCommand("status").CombinedOutput() // exit 1 unless all are healthy
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasSuffix(line, " leader") && len(f[0]) == 2 && f[0][0] == 'e' {
			if n, err := strconv.Atoi(f[0][1:]); err == nil {
				return n
			}
		}
	}
	t.Fatalf("scripts/etcd.sh status names no leader:\n%s", out)
	return 0
}

// EtcdKill kills member n (1..3) with SIGKILL.
func EtcdKill(t testing.TB, n int) {
	t.Helper()
	etcdScript(t, "kill", etcdMember(t, n))
}

// EtcdStart starts member n (1..3) again and, if a second member runs (a
// quorum), waits until it is healthy.
func EtcdStart(t testing.TB, n int) {
	t.Helper()
	etcdScript(t, "start", etcdMember(t, n))
}

// EtcdDestroy stops the tests' etcd cluster and removes its data (for the
// end of TestMain).
func EtcdDestroy() error {
	out, err := etcdCommand("destroy").CombinedOutput()
	if err != nil {
		return fmt.Errorf("scripts/etcd.sh destroy: %v\n%s", err, out)
	}
	return nil
}

// haproxyFrontend is the frontend address of examples/haproxy/shardgate.cfg
// (its bind line), which StartHAProxy replaces with a free port.
const haproxyFrontend = "127.0.0.1:3390"

// haproxyConfig turns examples/haproxy/shardgate.cfg into a config for the
// given nodes (host:port each) with its frontend on listen: the line of
// server {{NODE1}} is repeated for every node, the line of {{NODE2}} dropped.
func haproxyConfig(template, listen string, nodes []string) (string, error) {
	if len(nodes) == 0 {
		return "", fmt.Errorf("no shardgate node")
	}
	bind := "bind " + haproxyFrontend
	if strings.Count(template, bind) != 1 {
		return "", fmt.Errorf("the config has not exactly one %q (the frontend)", bind)
	}
	template = strings.Replace(template, bind, "bind "+listen, 1)
	var out []string
	var seen1, seen2 bool
	for _, line := range strings.SplitAfter(template, "\n") {
		switch {
		case strings.Contains(line, "{{NODE1}}"):
			seen1 = true
			for i, node := range nodes {
				out = append(out, strings.NewReplacer("node1", fmt.Sprintf("node%d", i+1), "{{NODE1}}", node).Replace(line))
			}
		case strings.Contains(line, "{{NODE2}}"):
			seen2 = true
		default:
			out = append(out, line)
		}
	}
	if !seen1 || !seen2 {
		return "", fmt.Errorf("the config lacks the {{NODE1}} or {{NODE2}} server line")
	}
	return strings.Join(out, ""), nil
}

// StartHAProxy starts HAProxy with examples/haproxy/shardgate.cfg in front
// of the given shardgate nodes (host:port each) and returns its frontend
// address. HAProxy takes every node for up at start; a node that fails its
// checks is marked down within about a second. It is killed when the test
// ends; its log is printed if the test failed.
func StartHAProxy(t testing.TB, nodes ...string) (addr string) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		bin = "/usr/sbin/haproxy" // not in a non-root PATH
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("haproxy is not installed (Debian: apt-get install haproxy)")
		}
	}
	template, err := os.ReadFile(filepath.Join(repoRoot, "examples", "haproxy", "shardgate.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg, err := haproxyConfig(string(template), addr, nodes)
	if err != nil {
		t.Fatalf("examples/haproxy/shardgate.cfg: %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "haproxy.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }

	cmd := exec.Command(bin, "-f", path, "-db") // -db: foreground, no daemon
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("haproxy log:\n%s", readLog())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("haproxy exited: %v\n%s", err, readLog())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not listen on %s\n%s", addr, readLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
