//go:build integration

package integration

// Ids the proxy generates for sharded tables (auto_increment in the rule):
// what an INSERT without ids gets, LAST_INSERT_ID(), and uniqueness across
// a restart under concurrent inserts.

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

func idsConfig() string {
	return `
listen: {{LISTEN}}
snowflake: {worker_id: 7}
users:
  - {name: app, password: app, schemas: [ids]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: ` + dh0Primary + `}
  - {name: dh1, user: sg, password: sg, primary: ` + dh1Primary + `}
data_nodes:
  - {name: i0, host: dh0, database: ids_0}
  - {name: i1, host: dh1, database: ids_1}
schemas:
  - name: ids
    tables:
      items: {column: id, algorithm: mod, shards: 4, nodes: [i0, i1], auto_increment: {column: id, generator: segment, block: 500}}
      notes: {column: owner, algorithm: mod, shards: 2, nodes: [i0, i1], auto_increment: {column: id, generator: snowflake}}
`
}

func setupIDs(t *testing.T, db *sql.DB) {
	t.Helper()
	MustExec(t, db, "DROP TABLE IF EXISTS items", "DROP TABLE IF EXISTS notes",
		"CREATE TABLE items (id BIGINT PRIMARY KEY, client INT NOT NULL, n INT NOT NULL, KEY (client, n))",
		"CREATE TABLE notes (id BIGINT PRIMARY KEY, owner INT NOT NULL, body VARCHAR(20))")
	// A fresh sequence for each run: its row lives on the first node.
	MustExec(t, Open(t, DSN("sg", "sg", dh0Primary, "ids_0")), "DROP TABLE IF EXISTS shardgate_sequences")
}

func TestGeneratedIDs(t *testing.T) {
	dir := t.TempDir()
	p := StartProxyIn(t, dir, idsConfig())
	db := Open(t, DSN("app", "app", p.Addr, "ids"))
	setupIDs(t, db)
	c := Conn(t, db)
	ctx := context.Background()

	lastID := func() int64 {
		var v int64
		if err := c.QueryRowContext(ctx, "SELECT LAST_INSERT_ID()").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Without the column, with NULL, with 0, with DEFAULT, with SET.
	var ids []int64
	for _, q := range []string{
		"INSERT INTO items (client, n) VALUES (0, 1)",
		"INSERT INTO items (id, client, n) VALUES (NULL, 0, 2)",
		"INSERT INTO items (id, client, n) VALUES (0, 0, 3)",
		"INSERT INTO items (id, client, n) VALUES (DEFAULT, 0, 4)",
		"INSERT INTO items SET client = 0, n = 5",
		"INSERT INTO items VALUES (NULL, 0, 6)",
	} {
		res, err := c.ExecContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		id, _ := res.LastInsertId()
		if id == 0 || id != lastID() {
			t.Errorf("%s: OK packet says id %d, LAST_INSERT_ID() %d", q, id, lastID())
		}
		var n int
		if err := c.QueryRowContext(ctx, "SELECT n FROM items WHERE id = ?", id).Scan(&n); err != nil {
			t.Errorf("%s: the row with id %d: %v", q, id, err)
		}
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Errorf("ids not ascending: %v", ids)
		}
	}
	// A multi-row INSERT: LAST_INSERT_ID() is the first, the others follow.
	res, err := c.ExecContext(ctx, "INSERT INTO items (client, n) VALUES (0, 10), (0, 11), (0, 12), (0, 13)")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := res.LastInsertId()
	if lastID() != first {
		t.Errorf("multi-row: LAST_INSERT_ID() %d, OK packet %d", lastID(), first)
	}
	for k := int64(0); k < 4; k++ {
		if got := QueryString(t, c, "SELECT n FROM items WHERE id = ?", first+k); got != fmt.Sprint(10+k) {
			t.Errorf("multi-row: id %d holds n=%s, want %d", first+k, got, 10+k)
		}
	}
	// Explicit ids: kept, and LAST_INSERT_ID() unchanged, as MySQL does.
	before := lastID()
	MustExec(t, c, "INSERT INTO items (id, client, n) VALUES (900000001, 0, 20)")
	if lastID() != before {
		t.Errorf("an INSERT with its id changed LAST_INSERT_ID() from %d to %d", before, lastID())
	}
	// The same INSERT shape run again is planned from its template, which
	// keeps given ids; NULL or 0 in its id column must still get one
	// generated (the template serves them not). items is sharded by its
	// id, notes by owner with the id beside it; text and prepared.
	for _, shape := range []struct{ text, prepared string }{
		{"INSERT INTO items (id, client, n) VALUES (%s, 0, %d)", "INSERT INTO items (id, client, n) VALUES (?, 0, ?)"},
		{"INSERT INTO notes (id, owner, body) VALUES (%s, 3, '%d')", "INSERT INTO notes (id, owner, body) VALUES (?, 3, ?)"},
	} {
		table := strings.Fields(shape.text)[2]
		col := map[string]string{"items": "n", "notes": "body"}[table]
		for k, id := range []any{900000101, 900000102, nil, 0, 900000103, 0, nil, 900000104} {
			for _, prepared := range []bool{false, true} {
				n := 100 + 2*k
				var res sql.Result
				if prepared {
					n++
					res, err = c.ExecContext(ctx, shape.prepared, id, n)
				} else {
					lit := "NULL"
					if id != nil {
						lit = fmt.Sprint(id)
					}
					res, err = c.ExecContext(ctx, fmt.Sprintf(shape.text, lit, n))
				}
				if err != nil {
					t.Fatalf("%s, id %v, prepared %v: %v", table, id, prepared, err)
				}
				row := id
				if id == nil || id == 0 {
					got, _ := res.LastInsertId()
					if got == 0 || got != lastID() {
						t.Errorf("%s, id %v, prepared %v: OK packet says id %d, LAST_INSERT_ID() %d: an id must be generated", table, id, prepared, got, lastID())
					}
					row = got
				}
				if v := QueryString(t, c, "SELECT "+col+" FROM "+table+" WHERE id = ?", row); v != fmt.Sprint(n) {
					t.Errorf("%s, id %v, prepared %v: the row with id %v holds %q, want %d", table, id, prepared, row, v, n)
				}
				// Free the given id for the other protocol's turn.
				MustExec(t, c, fmt.Sprint("DELETE FROM ", table, " WHERE id = ", row))
			}
		}
	}
	// Prepared statements get ids too.
	res, err = c.ExecContext(ctx, "INSERT INTO items (client, n) VALUES (?, ?)", 0, 30)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id == 0 || QueryString(t, c, "SELECT n FROM items WHERE id = ?", id) != "30" {
		t.Errorf("prepared INSERT: id %d", id)
	}
	// Snowflake: ids carry the worker id (bits 12..21).
	res, err = c.ExecContext(ctx, "INSERT INTO notes (owner, body) VALUES (1, 'a'), (2, 'b')")
	if err != nil {
		t.Fatal(err)
	}
	sf, _ := res.LastInsertId()
	if worker := (sf >> 12) & 1023; worker != 7 {
		t.Errorf("snowflake id %d has worker %d, want 7", sf, worker)
	}
	if got := QueryString(t, c, "SELECT COUNT(*) FROM notes WHERE id >= ?", sf); got != "2" {
		t.Errorf("snowflake multi-row insert: %s rows from the first id on", got)
	}
	// INSERT ... SELECT across shards: rows whose id asks for one (NULL,
	// 0) get generated ids, placed by them; LAST_INSERT_ID() is the first.
	want := QueryString(t, c, "SELECT COUNT(*) FROM items WHERE n < 100")
	res, err = c.ExecContext(ctx, "INSERT INTO items (id, client, n) SELECT IF(n % 2 = 0, NULL, 0), client, n + 1000 FROM items WHERE n < 100")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); fmt.Sprint(n) != want {
		t.Errorf("INSERT ... SELECT with generated ids: %d rows affected, want %s", n, want)
	}
	if first, _ := res.LastInsertId(); first == 0 || first != lastID() {
		t.Errorf("INSERT ... SELECT with generated ids: OK packet says id %d, LAST_INSERT_ID() %d", first, lastID())
	}
	copied, err := c.QueryContext(ctx, "SELECT id, n FROM items WHERE n >= 1000")
	if err != nil {
		t.Fatal(err)
	}
	var copiedIDs [][2]int64
	for copied.Next() {
		var id, n int64
		if err := copied.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		copiedIDs = append(copiedIDs, [2]int64{id, n})
	}
	copied.Close()
	if fmt.Sprint(len(copiedIDs)) != want {
		t.Errorf("INSERT ... SELECT with generated ids: %d rows copied, want %s", len(copiedIDs), want)
	}
	for _, r := range copiedIDs {
		// A lookup by id reads the one shard the id places the row on.
		if got := QueryString(t, c, "SELECT n FROM items WHERE id = ?", r[0]); got != fmt.Sprint(r[1]) {
			t.Errorf("copied row id %d: found n=%q by its id, want %d (placed on the wrong shard?)", r[0], got, r[1])
		}
	}
	// INSERT ... SELECT without the ids cannot be given ids.
	if _, err := c.ExecContext(ctx, "INSERT INTO items (client, n) SELECT client, n FROM items WHERE n = 1"); ErrCode(err) != 1235 {
		t.Errorf("INSERT ... SELECT without ids: %v, want 1235", err)
	}
	// RETURNING tells the ids generated, row by row in the client's order
	// (the rows go to several shards).
	r := runQuery(c, "INSERT INTO items (client, n) VALUES (0, 30), (0, 31), (0, 32), (0, 33) RETURNING id, n")
	if r.Err != nil || len(r.Rows) != 4 {
		t.Fatalf("INSERT ... RETURNING: %q %v", r.Rows, r.Err)
	}
	prev := int64(0)
	for k, row := range r.Rows {
		id, _ := strconv.ParseInt(row[0], 10, 64)
		if row[1] != fmt.Sprint(30+k) || id <= prev {
			t.Errorf("INSERT ... RETURNING: %q, want n 30..33 in order with ascending ids", r.Rows)
			break
		}
		prev = id
		if got := QueryString(t, c, "SELECT n FROM items WHERE id = ?", row[0]); got != row[1] {
			t.Errorf("RETURNING said id %s for n=%s; that id holds n=%q", row[0], row[1], got)
		}
	}
}

// TestGeneratedIDsUnderLoad: 8 clients insert 100,000 rows without ids,
// the proxy is killed (kill -9) and restarted half-way; every id is
// unique and every acknowledged row has the id its client was told.
func TestGeneratedIDsUnderLoad(t *testing.T) {
	dir := t.TempDir()
	p := StartProxyIn(t, dir, idsConfig())
	setupIDs(t, Open(t, DSN("app", "app", p.Addr, "ids")))
	const clients, total = 8, 100000
	type row struct{ client, n int }
	var mu sync.Mutex
	acked := map[int64]row{} // id -> what the client inserted
	var errs, multi, checked, lastMismatch int
	var addr sync.Map
	addr.Store("a", p.Addr)
	var remaining sync.WaitGroup
	next := make(chan int, clients)
	go func() {
		for n := 0; n < total; {
			k := 1
			if n%50 == 0 && n+5 <= total {
				k = 5 // now and then a multi-row INSERT
			}
			next <- k
			n += k
		}
		close(next)
	}()
	var restarted sync.Once
	var insertedSoFar int
	for w := 0; w < clients; w++ {
		remaining.Add(1)
		go func(w int) {
			defer remaining.Done()
			var db *sql.DB
			var conn *sql.Conn
			open := func() {
				a, _ := addr.Load("a")
				db, _ = sql.Open("mysql", DSN("app", "app", a.(string), "ids"))
				conn, _ = db.Conn(context.Background())
			}
			open()
			n := 0
			for k := range next {
				for {
					vals := make([]string, k)
					for i := range vals {
						vals[i] = fmt.Sprintf("(%d, %d)", w, n+i)
					}
					var res sql.Result
					var err error
					if conn != nil {
						res, err = conn.ExecContext(context.Background(), "INSERT INTO items (client, n) VALUES "+strings.Join(vals, ", "))
					} else {
						err = fmt.Errorf("no connection")
					}
					if err != nil {
						mu.Lock()
						errs++
						mu.Unlock()
						// The proxy is restarting: reconnect and insert the rows
						// again under new numbers (the old ones may or may not be there).
						n += k
						for i := range vals {
							vals[i] = fmt.Sprintf("(%d, %d)", w, n+i)
						}
						if conn != nil {
							conn.Close()
						}
						db.Close()
						time.Sleep(100 * time.Millisecond)
						open()
						continue
					}
					first, _ := res.LastInsertId()
					mu.Lock()
					for i := 0; i < k; i++ {
						acked[first+int64(i)] = row{w, n + i}
					}
					if k > 1 {
						multi++
					}
					insertedSoFar += k
					due := insertedSoFar%97 == 0
					mu.Unlock()
					if due { // now and then, LAST_INSERT_ID() against the OK packet
						var v int64
						if err := conn.QueryRowContext(context.Background(), "SELECT LAST_INSERT_ID()").Scan(&v); err == nil {
							mu.Lock()
							checked++
							if v != first {
								lastMismatch++
							}
							mu.Unlock()
						}
					}
					n += k
					break
				}
				mu.Lock()
				half := insertedSoFar >= total/2
				mu.Unlock()
				if half {
					restarted.Do(func() {
						_ = p.cmd.Process.Kill()
						p.Exited(10 * time.Second)
						p = StartProxyIn(t, dir, idsConfig())
						addr.Store("a", p.Addr)
					})
				}
			}
			if conn != nil {
				conn.Close()
			}
			db.Close()
		}(w)
	}
	remaining.Wait()

	// Every row, by id: no id twice, every acknowledged row where its id says.
	db := Open(t, DSN("app", "app", p.Addr, "ids"))
	rows, err := db.Query("SELECT id, client, n FROM items")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]row{}
	dups := 0
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.client, &r.n); err != nil {
			t.Fatal(err)
		}
		if _, dup := seen[id]; dup {
			dups++
		}
		seen[id] = r
	}
	rows.Close()
	wrong, missing := 0, 0
	for id, want := range acked {
		got, ok := seen[id]
		switch {
		case !ok:
			missing++
		case got != want:
			wrong++
		}
	}
	t.Logf("%d clients, %d rows acknowledged (%d multi-row INSERTs), proxy killed and restarted half-way (%d client errors while it was down): %d rows in the table, %d duplicate ids, %d acknowledged rows missing, %d under another id; LAST_INSERT_ID() checked %d times, %d mismatches",
		clients, len(acked), multi, errs, len(seen), dups, missing, wrong, checked, lastMismatch)
	if dups > 0 || missing > 0 || wrong > 0 || lastMismatch > 0 {
		t.Errorf("generated ids are not sound (see above)")
	}
	if len(acked) < total {
		t.Errorf("only %d rows acknowledged, want %d", len(acked), total)
	}
}
