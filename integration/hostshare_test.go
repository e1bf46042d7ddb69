//go:build integration

package integration

// Data nodes sharing a host: inside a transaction the host has one
// connection, and every statement a plan sends it (its nodes' shards, a
// UNION's parts, a Zip's passes, a write's routes) runs there in turn,
// each in its node's database.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

func hostShareConfig(mode string) string {
	return `
listen: {{LISTEN}}
users:
  - {name: app, password: app, schemas: [hs]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: ` + dh0Primary + `}
  - {name: dh1, user: sg, password: sg, primary: ` + dh1Primary + `}
data_nodes:
  - {name: h0, host: dh0, database: hs_0}
  - {name: h1, host: dh0, database: hs_1}
  - {name: h2, host: dh1, database: hs_2}
schemas:
  - name: hs
    transaction_mode: ` + mode + `
    tables:
      items: {column: id, algorithm: mod, shards: 6, nodes: [h0, h1, h2]}
      notes: {column: id, algorithm: mod, shards: 2, nodes: [h0, h1]}
      things: {column: id, algorithm: mod, shards: 4, nodes: [h0, h2]}
      seq_1_to_80000: {global: true}   # MariaDB's sequence engine: on every node
`
}

func TestNodesSharingAHost(t *testing.T) {
	const items = "CREATE TABLE items (id INT PRIMARY KEY, grp INT NOT NULL, v INT NOT NULL, tag VARCHAR(10) NOT NULL)"
	const notes = "CREATE TABLE notes (id INT PRIMARY KEY, v INT NOT NULL)"
	var itemRows, noteRows []string
	for i := 1; i <= 48; i++ {
		itemRows = append(itemRows, fmt.Sprintf("(%d, %d, %d, 't%d')", i, i%5, i*7%13, i%4))
	}
	for i := 1; i <= 20; i++ {
		noteRows = append(noteRows, fmt.Sprintf("(%d, %d)", i, i*3%7))
	}
	oracle := Open(t, DSN("sg", "sg", oracleAddr, ""))
	t.Cleanup(func() { MustExec(t, oracle, "DROP DATABASE IF EXISTS hs_oracle") })
	oracleDB := Open(t, DSN("sg", "sg", oracleAddr, "hs_oracle"))

	// Each step runs in one transaction through the proxy and on the
	// oracle; the first one is the transaction's first statement.
	steps := []string{
		"SELECT id, v FROM notes UNION ALL SELECT id, v FROM items WHERE id < 10",
		"SELECT id, grp, v FROM items ORDER BY v, id",
		"SELECT grp, COUNT(*), SUM(v) FROM items GROUP BY grp ORDER BY grp",
		"UPDATE items SET v = v + 100 WHERE id % 3 = 0",
		"SELECT COUNT(DISTINCT grp), COUNT(DISTINCT tag), SUM(v) FROM items",
		"SELECT id, v FROM items WHERE v > 100 UNION ALL SELECT id, v FROM notes WHERE v > 3",
		"DELETE FROM notes WHERE v = 0",
		"SELECT v FROM notes UNION SELECT grp FROM items ORDER BY 1",
		"SELECT id, v FROM items WHERE id BETWEEN 5 AND 40 ORDER BY id DESC LIMIT 7",
	}
	for _, mode := range []string{"xa", "local"} {
		t.Run(mode, func(t *testing.T) {
			p := StartProxy(t, hostShareConfig(mode))
			db := Open(t, DSN("app", "app", p.Addr, "hs"))
			MustExec(t, db, "DROP TABLE IF EXISTS items", "DROP TABLE IF EXISTS notes", items, notes,
				"INSERT INTO items VALUES "+strings.Join(itemRows, ","), "INSERT INTO notes VALUES "+strings.Join(noteRows, ","))
			MustExec(t, oracle, "DROP DATABASE IF EXISTS hs_oracle", "CREATE DATABASE hs_oracle")
			MustExec(t, oracleDB, items, notes,
				"INSERT INTO items VALUES "+strings.Join(itemRows, ","), "INSERT INTO notes VALUES "+strings.Join(noteRows, ","))

			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			otx, err := oracleDB.Begin()
			if err != nil {
				t.Fatal(err)
			}
			for _, sql := range steps {
				if strings.HasPrefix(sql, "SELECT") {
					if diff := compareResults(runQuery(tx, sql), runQuery(otx, sql), strings.Contains(sql, "ORDER BY")); diff != "" {
						t.Errorf("%s\n  %s", sql, diff)
					}
					continue
				}
				got, err := tx.Exec(sql)
				if err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
				want, err := otx.Exec(sql)
				if err != nil {
					t.Fatalf("oracle: %s: %v", sql, err)
				}
				g, _ := got.RowsAffected()
				w, _ := want.RowsAffected()
				if g != w {
					t.Errorf("%s: %d rows affected, the oracle %d", sql, g, w)
				}
			}
			// One transaction per host, not one per node or per route.
			for _, host := range []string{dh0Primary, dh1Primary} {
				n := QueryString(t, Open(t, DSN("sg", "sg", host, "")),
					"SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_rows_modified > 0 OR trx_rows_locked > 0")
				if n != "1" {
					t.Errorf("%s: %s transactions hold rows during the client's one, want 1", host, n)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatalf("commit: %v", err)
			}
			if err := otx.Commit(); err != nil {
				t.Fatal(err)
			}
			for _, sql := range []string{"SELECT id, grp, v, tag FROM items", "SELECT id, v FROM notes"} {
				if diff := compareResults(runQuery(db, sql), runQuery(oracleDB, sql), false); diff != "" {
					t.Errorf("after commit: %s\n  %s", sql, diff)
				}
			}
		})
	}
}

// A big result from several shards of one node, inside a transaction:
// read in turn, the shards' results stream from the node's one connection
// (none is held in memory); a merge that needs them all at once (ORDER BY)
// may hold up to 64 MiB, then fails with 1235, and the transaction goes on.
func TestBigResultInTransaction(t *testing.T) {
	p := StartProxy(t, hostShareConfig("xa"))
	db := Open(t, DSN("app", "app", p.Addr, "hs"))
	MustExec(t, db, "DROP TABLE IF EXISTS things", "CREATE TABLE things (id INT PRIMARY KEY)",
		"INSERT INTO things VALUES (1), (2), (3), (4)")
	_, base := p.RSS()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	// 4 shards x 80,000 rows of 1 KB: 80 MB from each shard, two shards a node.
	const big = "SELECT t.id, s.seq, REPEAT('x', 1000) FROM things t JOIN seq_1_to_80000 s"
	for run := 1; run <= 2; run++ {
		rows, err := tx.Query(big)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		var n, sum int64
		for rows.Next() {
			var id, seq int64
			var pad sql.RawBytes
			if err := rows.Scan(&id, &seq, &pad); err != nil {
				t.Fatal(err)
			}
			n++
			sum += id * seq
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		rows.Close()
		if want := int64(10 * 80000 * 80001 / 2); n != 320000 || sum != want {
			t.Errorf("run %d: %d rows, sum of id*seq %d; want 320000 and %d", run, n, sum, want)
		}
	}
	_, peak := p.RSS()
	t.Logf("320,000 rows (320 MB) in a transaction, twice: proxy peak RSS %d MiB (baseline %d MiB)", peak>>20, base>>20)
	if peak-base > 64<<20 {
		t.Errorf("proxy RSS grew by %d MiB: the shards' results were held, not streamed", (peak-base)>>20)
	}
	// Sorted across shards, each node's two results are needed at once.
	rows, err := tx.Query(big + " ORDER BY s.seq, t.id")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if code, msg := errInfo(err); code != 1235 {
		t.Errorf("sorted across shards past 64 MiB: got %v, want error 1235", err)
	} else {
		t.Logf("sorted across shards: %d %s", code, msg)
	}
	if got := QueryString(t, tx, "SELECT COUNT(*) FROM things WHERE id > 1"); got != "3" {
		t.Errorf("the transaction after the refusal: COUNT(*) = %s, want 3", got)
	}
	if err := tx.Commit(); err != nil {
		t.Errorf("commit after the refusal: %v", err)
	}
}

// killTransactions kills, on every primary, the connections whose
// transaction changed rows (the proxy's backend connections of a test's
// open transaction) and returns how many.
func killTransactions(t *testing.T) int {
	t.Helper()
	n := 0
	for _, host := range []string{dh0Primary, dh1Primary} {
		db := Open(t, DSN("sg", "sg", host, ""))
		rows, err := db.Query("SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX WHERE trx_rows_modified > 0")
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			// (A transaction killed before may still be rolling back:
			// its thread is gone, error 1094.)
			if _, err := db.Exec(fmt.Sprintf("KILL %d", id)); err == nil {
				n++
			} else if code, _ := errInfo(err); code != 1094 {
				t.Fatal(err)
			}
		}
	}
	return n
}

// A transaction whose backend connection dies is over: the client is told
// at its next statement (1213, as after a deadlock: restart it) or at
// COMMIT, and never goes on as if its earlier writes stood.
func TestTransactionLostConnection(t *testing.T) {
	for _, mode := range []string{"xa", "local"} {
		t.Run(mode, func(t *testing.T) {
			p := StartProxy(t, hostShareConfig(mode))
			db := Open(t, DSN("app", "app", p.Addr, "hs"))
			MustExec(t, db, "DROP TABLE IF EXISTS notes", "CREATE TABLE notes (id INT PRIMARY KEY, v INT NOT NULL)",
				"INSERT INTO notes VALUES (1, 0), (2, 0)")
			ctx := context.Background()
			for _, end := range []string{"statement", "commit"} {
				c, err := db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				// notes: 2 shards, on h0 and h1, both on dh0.
				MustExec(t, c, "BEGIN", "INSERT INTO notes VALUES (10, 1)", "INSERT INTO notes VALUES (11, 1)")
				// (INNODB_TRX is a cache refreshed at most every 0.1 s.)
				killed := 0
				for try := 0; killed == 0 && try < 30; try++ {
					time.Sleep(150 * time.Millisecond)
					killed = killTransactions(t)
				}
				if killed == 0 {
					t.Fatalf("%s: no backend transaction found to kill", end)
				}
				var code uint16
				var msg string
				if end == "statement" {
					_, err = c.ExecContext(ctx, "SELECT COUNT(*) FROM notes")
					code, msg = errInfo(err)
					if code != 1213 {
						t.Errorf("%s: the statement after the loss got %v, want error 1213", end, err)
					}
					// The transaction is over: what follows runs on its own.
					if got := QueryString(t, c, "SELECT COUNT(*) FROM notes"); got != "2" {
						t.Errorf("%s: %s rows after the loss, want 2 (the lost transaction's inserts gone)", end, got)
					}
					MustExec(t, c, "COMMIT")
				} else {
					_, err = c.ExecContext(ctx, "COMMIT")
					code, msg = errInfo(err)
					// (One branch: committed in one phase, whose outcome a
					// lost connection leaves unknown, as for any client.)
					if code != 1180 {
						t.Errorf("%s: COMMIT after the loss got %v, want error 1180", end, err)
					}
				}
				t.Logf("%s: %d %s", end, code, msg)
				c.Close()
				if got := QueryString(t, db, "SELECT COUNT(*) FROM notes"); got != "2" {
					t.Errorf("%s: %s rows, want 2: the lost transaction's inserts must not be there", end, got)
				}
			}
		})
	}
}
