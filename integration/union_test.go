//go:build integration

package integration

// In a transaction, a SELECT over several shards of one node runs there,
// from its second execution on, as one UNION ALL of the shards' statements. The client must
// not see the difference: the same rows and the same column definitions,
// also after the table changed behind the proxy's back.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
)

func unionConfig() string {
	return `
listen: {{LISTEN}}
users:
  - {name: app, password: app, schemas: [un]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: ` + dh0Primary + `}
  - {name: dh1, user: sg, password: sg, primary: ` + dh1Primary + `}
data_nodes:
  - {name: u0, host: dh0, database: un_0}
  - {name: u1, host: dh1, database: un_1}
schemas:
  - name: un
    tables:
      things: {column: id, algorithm: mod, shards: 4, nodes: [u0, u1]}
`
}

func TestUnionPerNode(t *testing.T) {
	p := StartProxy(t, unionConfig())
	db := Open(t, DSN("app", "app", p.Addr, "un"))
	MustExec(t, db, "DROP TABLE IF EXISTS things",
		"CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, v INT, KEY (name))")
	// Mixed case: the merge must follow the collation (apple < Banana),
	// not the bytes (Banana < apple).
	words := []string{"apple", "Banana", "cherry", "Date", "elder", "Fig", "grape", "Honeydew"}
	var rows []string
	for i := 1; i <= 40; i++ {
		rows = append(rows, fmt.Sprintf("(%d, '%s', %d)", i, words[i*5%8], i*7%11))
	}
	MustExec(t, db, "INSERT INTO things VALUES "+strings.Join(rows, ","))
	oracle := Open(t, DSN("sg", "sg", oracleAddr, ""))
	MustExec(t, oracle, "CREATE DATABASE IF NOT EXISTS un_oracle", "DROP TABLE IF EXISTS un_oracle.things",
		"CREATE TABLE un_oracle.things (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, v INT, KEY (name))",
		"INSERT INTO un_oracle.things VALUES "+strings.Join(rows, ","))
	t.Cleanup(func() { MustExec(t, oracle, "DROP DATABASE IF EXISTS un_oracle") })
	oracleDB := Open(t, DSN("sg", "sg", oracleAddr, "un_oracle"))

	c, err := client.Connect(p.Addr, "app", "app", "un")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	queries := []string{
		"SELECT id, name FROM things WHERE id BETWEEN %d AND %d ORDER BY name, id",
		"SELECT DISTINCT name FROM things WHERE id BETWEEN %d AND %d ORDER BY name DESC",
		"SELECT name, COUNT(*), SUM(v) FROM things WHERE id BETWEEN %d AND %d GROUP BY name ORDER BY name",
		"SELECT COUNT(*), MAX(v), MIN(name) FROM things WHERE id BETWEEN %d AND %d",
		"SELECT id, v FROM things WHERE id BETWEEN %d AND %d ORDER BY v DESC, id LIMIT 5",
		"SELECT * FROM things WHERE id BETWEEN %d AND %d",
	}
	// Each query runs from lo = 1..4 to hi (both bounds markers when
	// prepared, so that the statement has a template).
	const hi = 33
	// check runs each query with several values in a transaction (where a
	// node's shards run one after another on its connection, as a union):
	// through database/sql against the oracle, and through the raw client
	// for its column definitions, which must stay as the first ones (want).
	check := func(stage string, want map[string]string) {
		q, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Execute("BEGIN"); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := q.Commit(); err != nil {
				t.Errorf("%s: COMMIT: %v", stage, err)
			}
			if _, err := c.Execute("COMMIT"); err != nil {
				t.Errorf("%s: COMMIT: %v", stage, err)
			}
		}()
		for _, query := range queries {
			for lo := 1; lo <= 4; lo++ {
				text := fmt.Sprintf(query, lo, hi)
				ordered := strings.Contains(text, "ORDER BY")
				expect := runQuery(oracleDB, text)
				if diff := compareResults(runQuery(q, text), expect, ordered); diff != "" {
					t.Errorf("%s: %s\n  %s", stage, text, diff)
				}
				// Prepared: planned as text from the same template.
				marked := strings.ReplaceAll(query, "%d", "?")
				if diff := compareResults(runPrepared(q, marked, []any{lo, hi}), expect, ordered); diff != "" {
					t.Errorf("%s: prepared %s with %d, %d\n  %s", stage, marked, lo, hi, diff)
				}
				r, err := c.Execute(text)
				if err != nil {
					t.Fatalf("%s: %s: %v", stage, text, err)
				}
				defs := fieldsText(r.Fields)
				r.Close()
				if w, seen := want[query]; !seen {
					want[query] = defs
				} else if defs != w {
					t.Errorf("%s: %s shows the columns\n  %s\nits first execution showed\n  %s", stage, text, defs, w)
				}
			}
		}
	}
	first := map[string]string{}
	check("before", first)
	for q, defs := range first {
		if !strings.HasPrefix(q, "SELECT COUNT") && !strings.Contains(defs, "[un.things.") {
			t.Errorf("%s: the columns do not name un.things: %s", q, defs)
		}
	}
	// v changes type on every shard, behind the proxy: the unions' columns
	// no longer agree with what was recorded; each union's next execution
	// drops its rows and runs the shards' own statements on the same
	// connection, in the transaction, whose columns are recorded anew.
	alter := func(typ string) {
		for _, h := range []struct{ addr, db string }{{dh0Primary, "un_0"}, {dh1Primary, "un_1"}} {
			node := Open(t, DSN("sg", "sg", h.addr, h.db))
			for s := 0; s < 4; s++ {
				if (s%2 == 0) == (h.db == "un_0") {
					MustExec(t, node, fmt.Sprintf("ALTER TABLE things_%d MODIFY v %s", s, typ))
				}
			}
		}
		MustExec(t, oracle, "ALTER TABLE un_oracle.things MODIFY v "+typ)
	}
	before := first
	for _, typ := range []string{"BIGINT", "SMALLINT"} {
		alter(typ)
		after := map[string]string{}
		check("after ALTER to "+typ, after)
		for q, defs := range after {
			if (strings.Contains(q, "id, v") || strings.Contains(q, "*")) && defs == before[q] {
				t.Errorf("%s: the columns did not change with the table: %s", q, defs)
			}
			if !strings.HasPrefix(q, "SELECT COUNT") && !strings.Contains(defs, "[un.things.") {
				t.Errorf("after ALTER to %s: %s: the columns do not name un.things: %s", typ, q, defs)
			}
		}
		before = after
	}
}
