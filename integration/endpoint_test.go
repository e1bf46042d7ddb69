//go:build integration

package integration

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

func TestAuthAndSchemaAccess(t *testing.T) {
	p := PassThrough(t, 4, 100)
	cases := []struct {
		name, user, pass, db string
		code                 uint16
	}{
		{"ok", "gotest", "gotest", "gotest", 0},
		{"no schema", "gotest", "gotest", "", 0},
		{"wrong password", "gotest", "nope", "gotest", 1045},
		{"unknown user", "ghost", "x", "", 1045},
		{"schema of another user", "other", "other", "gotest", 1044},
		{"unknown schema", "gotest", "gotest", "nosuchdb", 1049},
		{"empty password", "nopass", "", "itest", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := Open(t, DSN(c.user, c.pass, p.Addr, c.db))
			err := db.Ping()
			if got := ErrCode(err); got != c.code {
				t.Fatalf("error code %d, want %d (err %v)", got, c.code, err)
			}
		})
	}
	// USE follows the same rules, and the connection survives a refusal.
	db := Open(t, DSN("other", "other", p.Addr, "itest"))
	c := Conn(t, db)
	if _, err := c.ExecContext(context.Background(), "USE gotest"); ErrCode(err) != 1044 {
		t.Fatalf("USE forbidden schema: %v", err)
	}
	if _, err := c.ExecContext(context.Background(), "USE nosuch"); ErrCode(err) != 1049 {
		t.Fatalf("USE unknown schema: %v", err)
	}
	if got := QueryString(t, c, "SELECT DATABASE()"); got != "itest" {
		t.Fatalf("DATABASE() = %q after refused USE, want itest", got)
	}
	// SHOW DATABASES lists the user's schemas only.
	rows, err := c.QueryContext(context.Background(), "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if strings.Join(names, ",") != "information_schema,itest" {
		t.Fatalf("SHOW DATABASES = %v", names)
	}
	// The server's other databases (its own, another schema's physical
	// one) are not the client's to read with the proxy's account, as text
	// or as a prepared statement; gotest's database has its name, so
	// nothing is renamed on the way.
	g := Conn(t, Open(t, DSN("gotest", "gotest", p.Addr, "gotest")))
	for _, q := range []string{"SELECT COUNT(*) FROM mysql.user", "SELECT COUNT(*) FROM itest_phys.nosuch"} {
		rows, err := g.QueryContext(context.Background(), q)
		if err == nil {
			rows.Close()
		}
		var perr error
		if st, err := g.PrepareContext(context.Background(), q); err != nil {
			perr = err
		} else {
			if rows, perr = st.Query(); perr == nil {
				rows.Close()
			}
			st.Close()
		}
		for _, e := range []error{err, perr} {
			if ErrCode(e) != 1044 || !strings.Contains(e.Error(), "'gotest'@") {
				t.Errorf("%s: %v, want 1044 naming the user", q, e)
			}
		}
	}
}

func TestTooManyConnections(t *testing.T) {
	p := PassThrough(t, 4, 2)
	db := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	db.SetMaxIdleConns(5)
	c1, c2 := Conn(t, db), Conn(t, db)
	_ = c1.PingContext(context.Background())
	_ = c2.PingContext(context.Background())
	db2 := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	if err := db2.Ping(); ErrCode(err) != 1040 {
		t.Fatalf("third connection: %v, want 1040", err)
	}
	_ = c1.Raw(func(any) error { return driver.ErrBadConn }) // really disconnect
	c1.Close()
	// A slot frees up when a client leaves.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := db2.Ping()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot not freed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two clients with different session state, interleaved over a pool of one
// backend connection: each must only ever see its own state.
func TestNoStateLeaksOverSharedConnection(t *testing.T) {
	p := PassThrough(t, 1, 100)
	db := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	a, b := Conn(t, db), Conn(t, db)
	MustExec(t, a, "SET sql_mode='ANSI_QUOTES,STRICT_ALL_TABLES'", "SET time_zone='+05:00'",
		"SET @who='a'", "SET NAMES latin1", "SET SESSION wait_timeout=1234")
	MustExec(t, b, "SET sql_mode=''", "SET time_zone='-03:00'", "SET @who=42")
	tzA, tzB := "+05:00", "-03:00"
	for i := 0; i < 20; i++ {
		for _, c := range []struct {
			conn                         *sql.Conn
			mode, tz, who, charset, wait string
		}{
			{a, "ANSI_QUOTES,STRICT_ALL_TABLES", tzA, "a", "latin1", "1234"},
			{b, "", tzB, "42", "utf8mb4", "28800"},
		} {
			var mode, tz, who, charset, wait string
			err := c.conn.QueryRowContext(context.Background(),
				"SELECT @@sql_mode, @@time_zone, @who, @@character_set_client, @@wait_timeout").Scan(&mode, &tz, &who, &charset, &wait)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{mode, tz, who, charset}
			want := []string{c.mode, c.tz, c.who, c.charset}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("round %d: got %v, want %v", i, got, want)
			}
			if c.conn == a && wait != c.wait {
				t.Fatalf("wait_timeout %s, want %s", wait, c.wait)
			}
		}
		if i == 10 {
			// Changing back to defaults must reach the shared connection too.
			MustExec(t, a, "SET time_zone=DEFAULT")
			MustExec(t, b, "SET time_zone='+01:00'")
			tzA, tzB = "SYSTEM", "+01:00"
		}
	}
	// User variables keep their type on another connection.
	MustExec(t, a, "SET @i=7, @d=1.50, @f=0.5e0, @s='x\\'y', @n=NULL")
	MustExec(t, b, "SELECT 1")
	var types string
	if err := a.QueryRowContext(context.Background(),
		"SELECT CONCAT_WS(',', @i+0, @d, @f, @s, IFNULL(@n,'null'))").Scan(&types); err != nil {
		t.Fatal(err)
	}
	if types != "7,1.50,0.5,x'y,null" {
		t.Fatalf("user variables = %q", types)
	}
}

// A transaction holds its backend connection; other sessions wait for the
// pool and never see uncommitted rows.
func TestTransactionPinsConnection(t *testing.T) {
	p := PassThrough(t, 2, 100)
	db := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	MustExec(t, db, "DROP TABLE IF EXISTS it_tx", "CREATE TABLE it_tx (id INT PRIMARY KEY, v INT)")
	a, b := Conn(t, db), Conn(t, db)
	MustExec(t, a, "BEGIN", "INSERT INTO it_tx VALUES (1, 1)")
	if got := QueryString(t, b, "SELECT COUNT(*) FROM it_tx"); got != "0" {
		t.Fatalf("uncommitted row visible: %s", got)
	}
	if got := QueryString(t, a, "SELECT COUNT(*) FROM it_tx"); got != "1" {
		t.Fatalf("own row not visible in transaction: %s", got)
	}
	MustExec(t, a, "ROLLBACK")
	if got := QueryString(t, b, "SELECT COUNT(*) FROM it_tx"); got != "0" {
		t.Fatalf("rolled back row visible: %s", got)
	}
	MustExec(t, a, "SET autocommit=0", "INSERT INTO it_tx VALUES (2, 2)")
	if got := QueryString(t, b, "SELECT COUNT(*) FROM it_tx"); got != "0" {
		t.Fatalf("autocommit=0 row visible before COMMIT: %s", got)
	}
	MustExec(t, a, "COMMIT", "SET autocommit=1")
	if got := QueryString(t, b, "SELECT COUNT(*) FROM it_tx"); got != "1" {
		t.Fatalf("committed row not visible: %s", got)
	}
	// A client that goes away mid-transaction loses it: nothing leaks to the next.
	c := Conn(t, db)
	MustExec(t, c, "BEGIN", "INSERT INTO it_tx VALUES (3, 3)")
	// Returning ErrBadConn from Raw makes database/sql close the network connection.
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	c.Close()
	time.Sleep(200 * time.Millisecond)
	if got := QueryString(t, b, "SELECT COUNT(*) FROM it_tx WHERE id=3"); got != "0" {
		t.Fatalf("abandoned transaction committed: %s", got)
	}
}

// A prepared statement executed again binds the new parameters, also when
// the next execute runs on another backend connection.
func TestPreparedStatementsRebind(t *testing.T) {
	p := PassThrough(t, 3, 100)
	db := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	MustExec(t, db, "DROP TABLE IF EXISTS it_ps", "CREATE TABLE it_ps (id INT PRIMARY KEY, s VARCHAR(20), b LONGBLOB)")
	a, b := Conn(t, db), Conn(t, db)
	ins, err := a.PrepareContext(context.Background(), "INSERT INTO it_ps VALUES (?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	sel, err := a.PrepareContext(context.Background(), "SELECT s, LENGTH(b) FROM it_ps WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		if _, err := ins.Exec(i, fmt.Sprintf("row%d", i), strings.Repeat("x", i*100)); err != nil {
			t.Fatal(err)
		}
		// Keep the other session busy so executes move between connections.
		MustExec(t, b, "SELECT 1")
		var s string
		var n int
		if err := sel.QueryRow(i).Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		if s != fmt.Sprintf("row%d", i) || n != i*100 {
			t.Fatalf("execute %d returned %q,%d", i, s, n)
		}
	}
	ins.Close()
	sel.Close()
	// Long data (COM_STMT_SEND_LONG_DATA) through the driver's big packets.
	big := strings.Repeat("y", 3<<20)
	if _, err := db.Exec("INSERT INTO it_ps VALUES (?, ?, ?)", 1000, "big", big); err != nil {
		t.Fatal(err)
	}
	if got := QueryString(t, db, "SELECT LENGTH(b) FROM it_ps WHERE id = 1000"); got != fmt.Sprint(len(big)) {
		t.Fatalf("big blob length %s", got)
	}
}

func TestMultiStatementsAndErrors(t *testing.T) {
	p := PassThrough(t, 4, 100)
	single := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	if _, err := single.Exec("SELECT 1; SELECT 2"); ErrCode(err) != 1064 {
		t.Fatalf("multi-statement without the capability: %v, want 1064", err)
	}
	// The connection survives bad statements.
	c := Conn(t, single)
	for _, bad := range []string{"SELEC 1", "SELECT * FROM no_such_table", "SET @@session.session_track_schema=OFF", "SET GLOBAL max_connections=10"} {
		if _, err := c.ExecContext(context.Background(), bad); err == nil {
			t.Fatalf("%s: no error", bad)
		}
		if got := QueryString(t, c, "SELECT 1"); got != "1" {
			t.Fatal("connection broken after", bad)
		}
	}
	multi := Open(t, DSN("gotest", "gotest", p.Addr, "gotest", "multiStatements=true"))
	rows, err := multi.Query("SELECT 1; SELECT 2, 3; DO 1")
	if err != nil {
		t.Fatal(err)
	}
	var sets int
	for {
		for rows.Next() {
		}
		sets++
		if !rows.NextResultSet() {
			break
		}
	}
	rows.Close()
	if sets < 2 {
		t.Fatalf("got %d result sets", sets)
	}
	// A stored procedure body holds semicolons but is one statement.
	MustExec(t, single, "DROP PROCEDURE IF EXISTS it_proc",
		"CREATE PROCEDURE it_proc() BEGIN DECLARE x INT DEFAULT 1; IF x = 1 THEN SELECT 1; END IF; END")
}

func TestLoadDataLocal(t *testing.T) {
	p := PassThrough(t, 4, 100)
	db := Open(t, DSN("gotest", "gotest", p.Addr, "gotest", "allowAllFiles=true"))
	MustExec(t, db, "DROP TABLE IF EXISTS it_load", "CREATE TABLE it_load (id INT, s VARCHAR(10))")
	path := filepath.Join(t.TempDir(), "data.csv")
	var sb strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&sb, "%d\tv%d\n", i, i)
	}
	os.WriteFile(path, []byte(sb.String()), 0o600)
	res, err := db.Exec("LOAD DATA LOCAL INFILE '" + path + "' INTO TABLE it_load")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 5000 {
		t.Fatalf("loaded %d rows", n)
	}
	if got := QueryString(t, db, "SELECT SUM(id) FROM it_load"); got != "12497500" {
		t.Fatalf("sum %s", got)
	}
}

func TestKill(t *testing.T) {
	p := PassThrough(t, 4, 100)
	db := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	victim, killer := Conn(t, db), Conn(t, db)
	id := QueryString(t, victim, "SELECT CONNECTION_ID()")
	done := make(chan error, 1)
	go func() {
		_, err := victim.ExecContext(context.Background(), "SELECT SLEEP(20)")
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	MustExec(t, killer, "KILL QUERY "+id)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("KILL QUERY did not stop SLEEP(20)")
	}
	// The victim's connection survives KILL QUERY.
	if got := QueryString(t, victim, "SELECT 2"); got != "2" {
		t.Fatal("victim connection lost after KILL QUERY")
	}
	// KILL of an unknown id, then KILL CONNECTION.
	if _, err := killer.ExecContext(context.Background(), "KILL 999999"); ErrCode(err) != 1094 {
		t.Fatalf("KILL unknown: %v", err)
	}
	MustExec(t, killer, "KILL "+id)
	if _, err := victim.ExecContext(context.Background(), "SELECT 3"); err == nil {
		t.Fatal("killed connection still answers")
	}
	// Another user may not kill our sessions.
	other := Open(t, DSN("other", "other", p.Addr, "itest"))
	c := Conn(t, db)
	cid := QueryString(t, c, "SELECT CONNECTION_ID()")
	if _, err := other.Exec("KILL " + cid); ErrCode(err) != 1095 {
		t.Fatalf("kill by another user: %v", err)
	}
}

// The proxy shows logical names: DATABASE() and qualified names use the
// logical schema even though the physical database is itest_phys.
func TestLogicalSchemaNames(t *testing.T) {
	p := PassThrough(t, 4, 100)
	db := Open(t, DSN("gotest", "gotest", p.Addr, "itest"))
	MustExec(t, db, "DROP TABLE IF EXISTS itest.named", "CREATE TABLE itest.named (a INT)", "INSERT INTO itest.named VALUES (5)")
	if got := QueryString(t, db, "SELECT DATABASE()"); got != "itest" {
		t.Fatalf("DATABASE() = %q", got)
	}
	var user, account string
	if err := db.QueryRow("SELECT USER(), CURRENT_USER()").Scan(&user, &account); err != nil || user != "gotest@127.0.0.1" || account != "gotest@%" {
		t.Fatalf("USER(), CURRENT_USER() = %q, %q (%v); want the client's account, not the backend's", user, account, err)
	}
	if got := QueryString(t, db, "SELECT a FROM itest.named"); got != "5" {
		t.Fatalf("qualified select = %q", got)
	}
	if got := Root(t, "dh0-primary", "SELECT a FROM itest_phys.named"); got != "5" {
		t.Fatalf("physical table holds %q", got)
	}
}

func TestResultStreamingMemory(t *testing.T) {
	p := PassThrough(t, 4, 100)
	db := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	_, base := p.RSS()
	for _, slow := range []bool{false, true} {
		rows, err := db.Query("SELECT seq, REPEAT('x', 100) FROM seq_1_to_1000000")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		var id int64
		var s sql.RawBytes
		for rows.Next() {
			rows.Scan(&id, &s)
			n++
			if slow && n%20000 == 0 {
				time.Sleep(20 * time.Millisecond) // a slow reader
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if n != 1000000 {
			t.Fatalf("got %d rows", n)
		}
		_, peak := p.RSS()
		t.Logf("slow=%v: proxy peak RSS %d MiB (baseline %d MiB)", slow, peak>>20, base>>20)
		if peak-base > 64<<20 {
			t.Fatalf("proxy RSS grew by %d MiB relaying 1M rows", (peak-base)>>20)
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	p := PassThrough(t, 4, 100)
	db := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	idle := Conn(t, db)
	MustExec(t, idle, "SELECT 1")
	var wg sync.WaitGroup
	wg.Add(1)
	var got string
	var qerr error
	go func() {
		defer wg.Done()
		qerr = db.QueryRow("SELECT SLEEP(1.5), 'done'").Scan(new(string), &got)
	}()
	time.Sleep(300 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- p.Stop() }()
	wg.Wait()
	if qerr != nil || got != "done" {
		t.Fatalf("running statement did not finish: %v %q", qerr, got)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("exit: %v\n%s", err, p.Log())
	}
	if err := Open(t, DSN("gotest", "gotest", p.Addr, "gotest")).Ping(); err == nil {
		t.Fatal("new connection accepted after shutdown")
	}
}

func TestTLSAndCompression(t *testing.T) {
	p := PassThrough(t, 4, 100)
	for _, params := range [][]string{{"tls=skip-verify"}, {"compress=true"}, {"tls=skip-verify", "compress=true"}} {
		db := Open(t, DSN("gotest", "gotest", p.Addr, "gotest", params...))
		var cipher string
		if err := db.QueryRow("SHOW STATUS LIKE 'Ssl_cipher'").Scan(new(string), &cipher); err != nil {
			t.Fatal(params, err)
		}
		if strings.Contains(strings.Join(params, ","), "tls") == (cipher == "") {
			t.Fatalf("%v: Ssl_cipher %q", params, cipher)
		}
		// A 20 MB value crosses the 16 MB packet boundary both ways.
		var n int
		big := strings.Repeat("z", 20<<20)
		if err := db.QueryRow("SELECT LENGTH(?)", big).Scan(&n); err != nil || n != len(big) {
			t.Fatalf("%v: length %d err %v", params, n, err)
		}
		var back string
		if err := db.QueryRow("SELECT REPEAT('q', 17000000)").Scan(&back); err != nil || len(back) != 17000000 {
			t.Fatalf("%v: big result %d %v", params, len(back), err)
		}
	}
}

func TestFoundRowsCapability(t *testing.T) {
	p := PassThrough(t, 4, 100)
	plain := Open(t, DSN("gotest", "gotest", p.Addr, "gotest"))
	found := Open(t, DSN("gotest", "gotest", p.Addr, "gotest", "clientFoundRows=true"))
	MustExec(t, plain, "DROP TABLE IF EXISTS it_found", "CREATE TABLE it_found (id INT PRIMARY KEY, v INT)", "INSERT INTO it_found VALUES (1, 1), (2, 2)")
	for _, c := range []struct {
		db   *sql.DB
		want int64
	}{{plain, 1}, {found, 2}, {plain, 1}, {found, 2}} {
		res, err := c.db.Exec("UPDATE it_found SET v = 2 WHERE id IN (1, 2)")
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != c.want {
			t.Fatalf("affected %d, want %d", n, c.want)
		}
		MustExec(t, plain, "UPDATE it_found SET v = 1 WHERE id = 1")
	}
}

func TestCheckConfig(t *testing.T) {
	good := filepath.Join(repoRoot, "examples", "shardgate.yaml")
	if out, err := exec.Command(binary, "check-config", good).CombinedOutput(); err != nil {
		t.Fatalf("example config refused: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("listen: x\nusers: [{name: a, schemas: [nope]}]\ndata_hosts: []\nbogus: 1\n"), 0o600)
	out, err := exec.Command(binary, "check-config", bad).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("bad config: exit %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "bad.yaml:4") || !strings.Contains(string(out), "bogus") {
		t.Fatalf("error does not name file:line and key:\n%s", out)
	}
}

// TestPreparedSessionValues: DATABASE() in a prepared statement is the
// session's database when it runs, as in MariaDB, also after USE and in a
// schema whose database has another name on the server.
func TestPreparedSessionValues(t *testing.T) {
	p := PassThrough(t, 4, 100)
	c := Conn(t, Open(t, DSN("gotest", "gotest", p.Addr, "itest"))) // itest is itest_phys there
	for _, q := range []string{"SELECT DATABASE()", "SELECT DATABASE(), @@warning_count"} {
		st, err := c.PrepareContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		read := func() string {
			t.Helper()
			r := runQuery(stmtQuerier{st}, "")
			if r.Err != nil || len(r.Rows) != 1 {
				t.Fatalf("%s: %v, %d rows", q, r.Err, len(r.Rows))
			}
			return strings.Join(r.Rows[0], " ")
		}
		MustExec(t, c, "USE itest")
		first := read()
		MustExec(t, c, "USE gotest", "DO 1/0")
		second := read()
		st.Close()
		if want := map[bool][2]string{false: {"itest", "gotest"}, true: {"itest 0", "gotest 1"}}[strings.Contains(q, "warning")]; first != want[0] || second != want[1] {
			t.Errorf("%s in itest, then after USE gotest and a warning: %q, %q, want %q, %q", q, first, second, want[0], want[1])
		}
	}
}
