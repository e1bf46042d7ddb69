//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// Tests of go-sql-driver/mysql's own suite allowed to fail through the
// proxy: they inspect the backend connection itself.
var driverSuiteExceptions = map[string]bool{
	"TestConnectionAttributes": true, // reads performance_schema for its own connection
	"TestUnixSocketAuthFail":   true, // needs the server's unix socket
}

// runDriverSuite runs the go-sql-driver/mysql test suite (from the module
// cache) against addr and returns each test's outcome (pass, fail, skip).
func runDriverSuite(t *testing.T, addr string) map[string]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/go-sql-driver/mysql").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	cmd := exec.Command("go", "test", "-json", "-count=1", "-skip", "^TestConnectorReturnsTimeout$", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MYSQL_TEST_USER=gotest", "MYSQL_TEST_PASS=gotest",
		"MYSQL_TEST_ADDR="+addr, "MYSQL_TEST_DBNAME=gotest", "GOFLAGS=-mod=mod")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	_ = cmd.Run() // failures are in the JSON
	results := map[string]string{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct{ Action, Test string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Test == "" {
			continue
		}
		switch ev.Action {
		case "pass", "fail", "skip":
			results[ev.Test] = ev.Action
		}
	}
	if len(results) < 50 {
		t.Fatalf("driver suite against %s ran only %d tests:\n%s", addr, len(results), stdout.String())
	}
	return results
}

func count(r map[string]string, action string) int {
	n := 0
	for _, a := range r {
		if a == action {
			n++
		}
	}
	return n
}

// The go-sql-driver/mysql suite passes through the proxy wherever it
// passes against MariaDB directly.
func TestGoSQLDriverSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	p := PassThrough(t, 64, 1000)
	direct := runDriverSuite(t, dh0Primary)
	proxied := runDriverSuite(t, p.Addr)
	var regressions []string
	for name, res := range direct {
		top := strings.SplitN(name, "/", 2)[0]
		if res == "pass" && proxied[name] != "pass" && proxied[name] != "skip" && !driverSuiteExceptions[top] {
			regressions = append(regressions, name+": "+proxied[name])
		}
	}
	sort.Strings(regressions)
	t.Logf("go-sql-driver suite (tests and subtests): direct %d pass / %d fail / %d skip; through shardgate %d pass / %d fail / %d skip",
		count(direct, "pass"), count(direct, "fail"), count(direct, "skip"),
		count(proxied, "pass"), count(proxied, "fail"), count(proxied, "skip"))
	for name, res := range proxied {
		if res == "fail" {
			t.Logf("fails through shardgate: %s (direct: %s)", name, direct[name])
		}
	}
	if len(regressions) > 0 {
		t.Fatalf("pass directly but not through shardgate:\n%s\n%s", strings.Join(regressions, "\n"), p.Log())
	}
}
