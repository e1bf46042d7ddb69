//go:build integration

package integration

// Distributed transactions: a transaction (or an autocommit statement)
// writing on both data hosts is all or nothing, also when the proxy is
// killed in the middle of its commit.

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bankConfig: accounts and legs split over both data hosts by id (even
// ids on dh0, odd on dh1); regions copied on both; no replicas, so that
// every check reads the primaries.
func bankConfig(mode string) string {
	return `
listen: {{LISTEN}}
users:
  - {name: app, password: app, schemas: [bank]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: ` + dh0Primary + `}
  - {name: dh1, user: sg, password: sg, primary: ` + dh1Primary + `}
data_nodes:
  - {name: b0, host: dh0, database: bank_0}
  - {name: b1, host: dh1, database: bank_1}
schemas:
  - name: bank
    transaction_mode: ` + mode + `
    tables:
      accounts: {column: id, algorithm: mod, shards: 2, nodes: [b0, b1]}
      legs:     {column: id, algorithm: mod, shards: 2, nodes: [b0, b1]}
      pairs:    {column: id, algorithm: mod, shards: 4, nodes: [b0, b1]}
      regions:  {global: true}
`
}

const bankAccounts = 10

// setupBank creates the tables through the proxy: accounts 0..9 with 1000 each.
func setupBank(t *testing.T, db *sql.DB) {
	t.Helper()
	MustExec(t, db,
		"DROP TABLE IF EXISTS accounts", "DROP TABLE IF EXISTS legs", "DROP TABLE IF EXISTS regions",
		"CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL, CHECK (balance >= 0))",
		"CREATE TABLE legs (id INT PRIMARY KEY, tx INT NOT NULL, amount INT NOT NULL)",
		"CREATE TABLE regions (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)")
	var vals []string
	for i := 0; i < bankAccounts; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 1000)", i))
	}
	MustExec(t, db, "INSERT INTO accounts VALUES "+strings.Join(vals, ", "))
}

// transfer moves amount from an even account (dh0) to an odd one (dh1)
// and records both legs (ids 2k on dh0, 2k+1 on dh1): each statement on
// one shard. Odd k run as prepared statements (server-side, through the
// binary protocol), even k as text.
func transfer(ctx context.Context, db *sql.DB, k, amount int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	from, to := 2*(k%(bankAccounts/2)), 2*(k%(bankAccounts/2))+1
	stmts := []struct {
		sql  string
		args []any
	}{
		{"UPDATE accounts SET balance = balance - ? WHERE id = ?", []any{amount, from}},
		{"UPDATE accounts SET balance = balance + ? WHERE id = ?", []any{amount, to}},
		{"INSERT INTO legs VALUES (?, ?, ?)", []any{2 * k, k, -amount}},
		{"INSERT INTO legs VALUES (?, ?, ?)", []any{2*k + 1, k, amount}},
	}
	for _, st := range stmts {
		q, args := st.sql, st.args
		if k%2 == 0 {
			for _, a := range args {
				q = strings.Replace(q, "?", fmt.Sprint(a), 1)
			}
			args = nil
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// checkBank verifies the invariants: the total is unchanged, every
// transfer has both legs or none, and the accounts match the legs. It
// returns how many transfers are present.
func checkBank(t *testing.T, db *sql.DB) int {
	t.Helper()
	total := QueryString(t, db, "SELECT SUM(balance) FROM accounts")
	if total != fmt.Sprint(1000*bankAccounts) {
		t.Errorf("total balance %s, want %d", total, 1000*bankAccounts)
	}
	rows, err := db.Query("SELECT tx, COUNT(*), SUM(amount) FROM legs GROUP BY tx")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var tx, legs, sum int
		if err := rows.Scan(&tx, &legs, &sum); err != nil {
			t.Fatal(err)
		}
		if legs != 2 || sum != 0 {
			t.Errorf("transfer %d is half there: %d legs summing to %d", tx, legs, sum)
		}
		n++
	}
	// The even accounts (debited) moved by exactly their legs.
	var even, debits int
	fmt.Sscan(QueryString(t, db, "SELECT SUM(balance) FROM accounts WHERE id % 2 = 0"), &even)
	fmt.Sscan(QueryString(t, db, "SELECT COALESCE(SUM(amount), 0) FROM legs WHERE id % 2 = 0"), &debits)
	if even != 1000*bankAccounts/2+debits {
		t.Errorf("even accounts hold %d after debits of %d", even, debits)
	}
	return n
}

// preparedBranches lists shardgate's XA branches left prepared on the primaries.
func preparedBranches(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, addr := range []string{dh0Primary, dh1Primary} {
		rows, err := Open(t, DSN("sg", "sg", addr, "")).Query("XA RECOVER")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var f, gl, bl int
			var data string
			if err := rows.Scan(&f, &gl, &bl, &data); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(data, "sg-") {
				out = append(out, addr+" "+data)
			}
		}
		rows.Close()
	}
	return out
}

func TestDistributedTransactions(t *testing.T) {
	p := StartProxy(t, bankConfig("xa"))
	db := Open(t, DSN("app", "app", p.Addr, "bank"))
	setupBank(t, db)

	// Committed: both hosts; rolled back: neither.
	if err := transfer(context.Background(), db, 1, 10); err != nil {
		t.Fatal(err)
	}
	tx, _ := db.Begin()
	MustExec(t, tx, "UPDATE accounts SET balance = balance - 5 WHERE id = 0", "UPDATE accounts SET balance = balance + 5 WHERE id = 1",
		"INSERT INTO legs VALUES (100, 50, -5), (101, 50, 5)")
	tx.Rollback()
	if n := checkBank(t, db); n != 1 {
		t.Errorf("%d transfers present, want 1", n)
	}

	// An autocommit statement over both hosts that fails on one writes nothing.
	_, err := db.Exec("INSERT INTO legs VALUES (200, 60, 0), (201, 60, 0), (3, 60, 0)") // 3 exists on dh1
	if ErrCode(err) != 1062 {
		t.Errorf("duplicate key on one host: got %v, want error 1062", err)
	}
	if got := QueryString(t, db, "SELECT COUNT(*) FROM legs WHERE tx = 60"); got != "0" {
		t.Errorf("a failed multi-host INSERT left %s rows", got)
	}
	// So does an INSERT ... SELECT the proxy copies (read, then written by
	// key on both hosts); one that succeeds writes every row.
	_, err = db.Exec("INSERT INTO legs SELECT id + 600, 61, balance FROM accounts UNION ALL SELECT 3, 61, 0")
	if ErrCode(err) != 1062 {
		t.Errorf("INSERT ... SELECT with a duplicate key on one host: got %v, want error 1062", err)
	}
	if got := QueryString(t, db, "SELECT COUNT(*) FROM legs WHERE tx = 61"); got != "0" {
		t.Errorf("a failed multi-host INSERT ... SELECT left %s rows", got)
	}
	MustExec(t, db, "INSERT INTO legs SELECT id + 700, 62, balance FROM accounts")
	for _, agg := range [][2]string{{"COUNT(*)", "COUNT(*)"}, {"SUM(amount)", "SUM(balance)"}, {"SUM(id - 700)", "SUM(id)"}} {
		got := QueryString(t, db, "SELECT "+agg[0]+" FROM legs WHERE tx = 62")
		if want := QueryString(t, db, "SELECT "+agg[1]+" FROM accounts"); got != want {
			t.Errorf("INSERT ... SELECT: %s of the copied rows is %s, want %s", agg[0], got, want)
		}
	}
	MustExec(t, db, "DELETE FROM legs WHERE tx = 62")
	// A scattered UPDATE that violates a CHECK on one host changes nothing.
	MustExec(t, db, "UPDATE accounts SET balance = 0 WHERE id = 4")
	_, err = db.Exec("UPDATE accounts SET balance = balance - 1") // account 4 would go negative
	if ErrCode(err) != 4025 {
		t.Errorf("CHECK violated on one host: got %v, want error 4025", err)
	}
	MustExec(t, db, "UPDATE accounts SET balance = 1000 WHERE id = 4")
	if got := QueryString(t, db, "SELECT SUM(balance) FROM accounts"); got != fmt.Sprint(1000*bankAccounts) {
		t.Errorf("a failed scattered UPDATE changed balances: total %s", got)
	}
	// A write to a global table whose copy on one host fails changes no copy.
	MustExec(t, Open(t, DSN("sg", "sg", dh1Primary, "bank_1")), "INSERT INTO regions VALUES (7, 'only on dh1')")
	if _, err := db.Exec("INSERT INTO regions VALUES (7, 'both')"); ErrCode(err) != 1062 {
		t.Errorf("global insert failing on one copy: got %v, want 1062", err)
	}
	if got := QueryString(t, Open(t, DSN("sg", "sg", dh0Primary, "bank_0")), "SELECT COUNT(*) FROM regions"); got != "0" {
		t.Errorf("the copy on dh0 kept %s rows of a failed global insert", got)
	}

	// autocommit = 0: COMMIT and ROLLBACK cover both hosts.
	c := Conn(t, db)
	MustExec(t, c, "SET autocommit = 0", "INSERT INTO legs VALUES (300, 70, -1), (301, 70, 1)", "ROLLBACK",
		"INSERT INTO legs VALUES (302, 71, -1), (303, 71, 1)", "COMMIT", "SET autocommit = 1")
	if got := QueryString(t, db, "SELECT COUNT(*) FROM legs WHERE tx = 70"); got != "0" {
		t.Errorf("autocommit=0: %s legs of the rolled back transaction", got)
	}
	if got := QueryString(t, db, "SELECT COUNT(*) FROM legs WHERE tx = 71"); got != "2" {
		t.Errorf("autocommit=0: %s legs of the committed transaction, want 2", got)
	}

	// A deadlock on one host rolls the victim's whole transaction back,
	// its part on the other host too.
	a, b := Conn(t, db), Conn(t, db)
	MustExec(t, a, "BEGIN", "INSERT INTO legs VALUES (401, 80, 0)", "UPDATE accounts SET balance = balance WHERE id = 0")
	MustExec(t, b, "BEGIN", "INSERT INTO legs VALUES (403, 81, 0)", "UPDATE accounts SET balance = balance WHERE id = 2")
	errc := make(chan error, 1)
	go func() {
		_, err := b.ExecContext(context.Background(), "UPDATE accounts SET balance = balance WHERE id = 0")
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	_, errA := a.ExecContext(context.Background(), "UPDATE accounts SET balance = balance WHERE id = 2")
	errB := <-errc
	winner, winnerLeg, victimLeg := a, "401", "403"
	switch {
	case ErrCode(errA) == 1213 && errB == nil:
		winner, winnerLeg, victimLeg = b, "403", "401"
	case ErrCode(errB) == 1213 && errA == nil:
	default:
		t.Fatalf("crossing locks: want one deadlock victim, got a=%v b=%v", errA, errB)
	}
	if got := QueryString(t, db, "SELECT COUNT(*) FROM legs WHERE id = "+victimLeg); got != "0" {
		t.Errorf("the deadlock victim's insert on the other host survived")
	}
	MustExec(t, winner, "COMMIT")
	if got := QueryString(t, db, "SELECT COUNT(*) FROM legs WHERE id = "+winnerLeg); got != "1" {
		t.Errorf("the deadlock winner's insert is missing after COMMIT")
	}
	MustExec(t, db, "DELETE FROM legs WHERE tx IN (80, 81)")
	if left := preparedBranches(t); len(left) > 0 {
		t.Errorf("XA branches left prepared: %v", left)
	}

	// Inside a transaction, a node's two shards are read on its one
	// connection, their statements sent together: an error on them leaves
	// the connection and the transaction usable.
	MustExec(t, db, "DROP TABLE IF EXISTS pairs", "CREATE TABLE pairs (id INT PRIMARY KEY)")
	p2 := Conn(t, db)
	MustExec(t, p2, "BEGIN", "INSERT INTO pairs VALUES (1), (2), (3), (4), (5), (6), (7), (8)")
	if _, err := p2.ExecContext(context.Background(), "SELECT nosuch FROM pairs"); ErrCode(err) != 1054 {
		t.Errorf("unknown column on every shard inside a transaction: got %v, want 1054", err)
	}
	if got := QueryString(t, p2, "SELECT COUNT(*) FROM pairs"); got != "8" {
		t.Errorf("after an error, the transaction sees %s rows, want its 8", got)
	}
	if got := QueryString(t, p2, "SELECT MAX(id) FROM pairs WHERE id < 8"); got != "7" {
		t.Errorf("after an error, MAX(id) %s, want 7", got)
	}
	MustExec(t, p2, "COMMIT")
	if got := QueryString(t, db, "SELECT COUNT(*) FROM pairs"); got != "8" {
		t.Errorf("%s rows committed, want 8", got)
	}

	// transaction_mode local: the same failing statement is not atomic
	// (documented): the host without the duplicate keeps its row.
	local := StartProxy(t, bankConfig("local"))
	ldb := Open(t, DSN("app", "app", local.Addr, "bank"))
	if _, err := ldb.Exec("INSERT INTO legs VALUES (500, 90, 0), (3, 90, 0)"); ErrCode(err) != 1062 {
		t.Errorf("local mode, duplicate on one host: got %v, want 1062", err)
	}
	if got := QueryString(t, ldb, "SELECT COUNT(*) FROM legs WHERE tx = 90"); got != "1" {
		t.Errorf("local mode: %s rows of the failed INSERT remain, want 1 (not atomic, as documented)", got)
	}
}

// TestXACrashRecovery kills the proxy (SIGKILL, by the fault hook) at each
// point of the commit, 20 times each, with transfers running from four
// clients, restarts it, and checks that every transfer is wholly present
// or wholly absent and that no branch stays prepared.
func TestXACrashRecovery(t *testing.T) {
	dir := t.TempDir()
	cfg := bankConfig("xa")
	setup := StartProxyIn(t, dir, cfg)
	setupBank(t, Open(t, DSN("app", "app", setup.Addr, "bank")))
	setup.Stop()

	// A transfer of prepared statements, each on one shard, commits in two
	// phases too: the fault after PREPARE fires, and recovery rolls it back.
	p := StartProxyEnv(t, dir, cfg, "SG_FAULT=xa-after-prepare:1")
	if err := transfer(context.Background(), Open(t, DSN("app", "app", p.Addr, "bank")), 1, 5); err == nil {
		t.Fatalf("a prepared-statement transfer committed without two-phase commit (the fault after PREPARE did not fire)")
	}
	if !p.Exited(10 * time.Second) {
		t.Fatalf("the fault hook did not fire for a prepared-statement transfer")
	}
	r := StartProxyIn(t, dir, cfg)
	eventually(t, 30*time.Second, "no branch left prepared", func() bool { return len(preparedBranches(t)) == 0 })
	if n := checkBank(t, Open(t, DSN("app", "app", r.Addr, "bank"))); n != 0 {
		t.Fatalf("%d transfers present after a crash before the decision, want 0", n)
	}
	r.Stop()

	type tally struct{ runs, present, committed, rolledBack int }
	recovered := regexp.MustCompile(`xa recovery.* committed=(\d+) rolled_back=(\d+)`)
	points := []string{"xa-after-prepare", "xa-after-decision", "xa-after-first-commit"}
	const runs = 20
	next := 1000
	rng := rand.New(rand.NewSource(1))
	for _, point := range points {
		var tl tally
		for run := 0; run < runs; run++ {
			nth := 1 + rng.Intn(6)
			p := StartProxyEnv(t, dir, cfg, fmt.Sprintf("SG_FAULT=%s:%d", point, nth))
			db := Open(t, DSN("app", "app", p.Addr, "bank"))
			db.SetMaxOpenConns(4)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var acked []int
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; ; i++ {
						mu.Lock()
						k := next
						next++
						mu.Unlock()
						if err := transfer(ctx, db, k, 1+k%7); err != nil {
							return // the proxy died (or the deadline)
						}
						mu.Lock()
						acked = append(acked, k)
						mu.Unlock()
					}
				}(w)
			}
			if !p.Exited(20 * time.Second) {
				t.Fatalf("%s: the fault hook did not fire", point)
			}
			cancel()
			wg.Wait()
			db.Close()

			// Restart: recovery runs before the proxy serves.
			r := StartProxyIn(t, dir, cfg)
			rdb := Open(t, DSN("app", "app", r.Addr, "bank"))
			deadline := time.Now().Add(30 * time.Second)
			for len(preparedBranches(t)) > 0 && time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond)
			}
			if left := preparedBranches(t); len(left) > 0 {
				t.Fatalf("%s run %d: branches still prepared after recovery: %v\n%s", point, run, left, r.Log())
			}
			tl.present = checkBank(t, rdb)
			for _, m := range recovered.FindAllStringSubmatch(r.Log(), -1) {
				c, _ := strconv.Atoi(m[1])
				rb, _ := strconv.Atoi(m[2])
				tl.committed += c
				tl.rolledBack += rb
			}
			for _, k := range acked {
				if QueryString(t, rdb, fmt.Sprintf("SELECT COUNT(*) FROM legs WHERE tx = %d", k)) != "2" {
					t.Errorf("%s run %d: transfer %d was acknowledged but is not there", point, run, k)
				}
			}
			r.Stop()
			rdb.Close()
			tl.runs++
			if t.Failed() {
				t.Fatalf("%s run %d failed; proxy log after restart:\n%s", point, run, r.Log())
			}
		}
		t.Logf("%s: %d crashes (kill -9) with 4 clients transferring, each followed by a restart: recovery committed %d and rolled back %d prepared branches; %d transfers present, every one whole, every acknowledged one there, no branch left prepared",
			point, tl.runs, tl.committed, tl.rolledBack, tl.present)
	}
}

// A session with no default database: statements naming no table run on
// the user's schema's node inside the transaction, without ending it (a
// reset, the only way back to "no database", ended the XA branch: COMMIT
// answered 1399 and the INSERT was lost).
func TestTransactionWithoutDatabase(t *testing.T) {
	p := StartProxy(t, copyConfig())
	setup := Open(t, DSN("app", "app", p.Addr, "cp"))
	MustExec(t, setup, "DROP TABLE IF EXISTS small", "CREATE TABLE small (id INT PRIMARY KEY, body VARCHAR(20) NOT NULL)")
	db := Open(t, DSN("app", "app", p.Addr, ""))
	c := Conn(t, db)
	// id 4 is shard 0, on dh0: the node the no-table statements use.
	MustExec(t, c, "START TRANSACTION", "INSERT INTO cp.small VALUES (4, 'x')", "DO 1", "UNLOCK TABLES")
	if got := QueryString(t, c, "SELECT 2 FROM DUAL"); got != "2" {
		t.Errorf("SELECT 2 in the transaction: %s", got)
	}
	if got := QueryString(t, c, "SELECT IFNULL(DATABASE(), 'none')"); got != "none" {
		t.Errorf("DATABASE() in the transaction: %s, want none", got)
	}
	MustExec(t, c, "COMMIT")
	if got := QueryString(t, setup, "SELECT COUNT(*) FROM small WHERE id = 4"); got != "1" {
		t.Errorf("the committed row: %s rows, want 1", got)
	}
	MustExec(t, c, "START TRANSACTION", "INSERT INTO cp.small VALUES (8, 'y')", "DO 1", "ROLLBACK")
	if got := QueryString(t, setup, "SELECT COUNT(*) FROM small WHERE id = 8"); got != "0" {
		t.Errorf("the rolled back row: %s rows, want 0", got)
	}
	// Outside a transaction the server sees no database again.
	if _, err := c.ExecContext(context.Background(), "SELECT * FROM small"); ErrCode(err) != 1046 {
		t.Errorf("an unqualified table without a database: %v, want 1046", err)
	}
}

// TestPreparedTransactionControl: BEGIN, COMMIT, ROLLBACK, SAVEPOINT and
// SET autocommit sent as prepared statements (as sysbench and some
// drivers do) control the proxy's transaction over both hosts, as the
// same statements sent as text do.
func TestPreparedTransactionControl(t *testing.T) {
	for _, mode := range []string{"xa", "local"} {
		t.Run(mode, func(t *testing.T) {
			p := StartProxy(t, bankConfig(mode))
			db := Open(t, DSN("app", "app", p.Addr, "bank"))
			setupBank(t, db)
			ctx := context.Background()
			c := Conn(t, db)
			run := func(q string, args ...any) {
				t.Helper()
				st, err := c.PrepareContext(ctx, q)
				if err != nil {
					t.Fatalf("prepare %s: %v", q, err)
				}
				defer st.Close()
				if _, err := st.ExecContext(ctx, args...); err != nil {
					t.Fatalf("execute %s: %v", q, err)
				}
			}
			leg := "INSERT INTO legs VALUES (?, ?, ?)"
			legs := func(tx int) string {
				return QueryString(t, db, fmt.Sprintf("SELECT COALESCE(GROUP_CONCAT(id ORDER BY id), '') FROM legs WHERE tx = %d", tx))
			}
			for _, c := range []struct {
				name  string
				steps []any // a statement, or the id of a leg to insert (even on dh0, odd on dh1)
				tx    int
				want  string // the transaction's legs at the end
			}{
				{"START TRANSACTION, ROLLBACK", []any{"START TRANSACTION", 900, 901, "ROLLBACK"}, 95, ""},
				{"BEGIN, COMMIT", []any{"BEGIN", 902, 903, "COMMIT"}, 96, "902,903"},
				{"SAVEPOINT, ROLLBACK TO", []any{"BEGIN", 904, "SAVEPOINT a", 905, "ROLLBACK TO SAVEPOINT a", "COMMIT"}, 97, "904"},
				{"SET autocommit = 0, ROLLBACK", []any{"SET autocommit = 0", 906, 907, "ROLLBACK", "SET autocommit = 1"}, 98, ""},
			} {
				for _, step := range c.steps {
					id, ok := step.(int)
					if !ok {
						run(step.(string))
						continue
					}
					run(leg, id, c.tx, 1)
					if got := legs(c.tx); got != "" {
						t.Errorf("%s: another connection sees legs %q of the open transaction", c.name, got)
					}
				}
				if got := legs(c.tx); got != c.want {
					t.Errorf("prepared %s: legs %q, want %q", c.name, got, c.want)
				}
			}
			if left := preparedBranches(t); len(left) > 0 {
				t.Errorf("XA branches left prepared: %v", left)
			}
			// BEGIN and COMMIT with words MariaDB does not know are its
			// syntax error, not an OK (the proxy answers them itself).
			for _, q := range []string{"BEGIN foo", "COMMIT AND", "START TRANSACTION READ"} {
				if _, err := c.ExecContext(ctx, q); ErrCode(err) != 1064 {
					t.Errorf("%s: %v, want 1064", q, err)
				}
			}
			// What the text protocol refuses, prepared, is refused too
			// (it would change one server of several).
			for q, code := range map[string]uint16{"SET GLOBAL max_connections = 100": 1235, "CREATE USER nobody": 1227} {
				st, err := c.PrepareContext(ctx, q)
				if err == nil {
					_, err = st.ExecContext(ctx)
					st.Close()
				}
				if ErrCode(err) != code {
					t.Errorf("prepared %s: %v, want error %d", q, err, code)
				}
			}
		})
	}
}
