package session

import (
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/wire"
)

// A join over information_schema is answered node by node only when its
// conditions pair rows of one table; then an outer join's inner side is
// restricted in its ON clause.
func TestInfoSchemaJoins(t *testing.T) {
	for _, c := range []struct {
		sql    string
		joined bool
	}{
		{"SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'", true},
		{"SELECT * FROM information_schema.TABLES t, information_schema.COLUMNS c WHERE c.TABLE_NAME = t.TABLE_NAME", true},
		{"SELECT * FROM information_schema.TABLES t JOIN information_schema.COLUMNS c ON (t.table_schema = c.table_schema AND t.table_name = c.table_name)", true},
		{"SELECT * FROM information_schema.TABLES t LEFT JOIN information_schema.STATISTICS s ON s.TABLE_NAME = t.TABLE_NAME JOIN information_schema.COLUMNS c ON c.TABLE_NAME = s.TABLE_NAME", true},
		{"SELECT * FROM information_schema.KEY_COLUMN_USAGE kc, information_schema.TABLE_CONSTRAINTS c WHERE c.CONSTRAINT_NAME = kc.CONSTRAINT_NAME", false},
		{"SELECT * FROM information_schema.TABLES t, information_schema.COLUMNS c WHERE c.TABLE_NAME = t.TABLE_NAME OR c.TABLE_NAME = 'x'", false},
		{"SELECT * FROM information_schema.TABLES t JOIN information_schema.COLUMNS c ON c.TABLE_NAME = t.TABLE_SCHEMA", false},
		{"SELECT * FROM information_schema.TABLES t, information_schema.COLUMNS c, information_schema.STATISTICS s WHERE c.TABLE_NAME = t.TABLE_NAME", false},
	} {
		sel, names, ok := parseInfo(t, c.sql)
		if !ok {
			t.Fatalf("%s: not a SELECT over information_schema", c.sql)
		}
		if got := joinedByTable(sel, infoRefs(names)); got != c.joined {
			t.Errorf("%s: joined by table %v, want %v", c.sql, got, c.joined)
		}
	}
}

func TestInfoSchemaOuterJoinRestriction(t *testing.T) {
	sel, _, _ := parseInfo(t, "SELECT t.TABLE_NAME, k.CONSTRAINT_NAME FROM information_schema.TABLES t LEFT JOIN information_schema.KEY_COLUMN_USAGE k ON k.TABLE_NAME = t.TABLE_NAME WHERE t.TABLE_SCHEMA = 'shop'")
	cond, err := parseCondition("k.TABLE_SCHEMA = 'shop_0'")
	if err != nil {
		t.Fatal(err)
	}
	if !restrictJoin(sel.From.TableRefs, "k", cond) {
		t.Fatal("the inner side k not found")
	}
	got, err := parser.Restore([]ast.StmtNode{sel})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "ON (`k`.`TABLE_NAME` = `t`.`TABLE_NAME`) AND `k`.`TABLE_SCHEMA` = 'shop_0' WHERE") {
		t.Errorf("the restriction is not in the ON clause: %s", got)
	}
	if restrictJoin(sel.From.TableRefs, "t", cond) {
		t.Error("the preserved side t was taken for an inner one")
	}
}

func parseInfo(t *testing.T, sql string) (*ast.SelectStmt, *parser.Names, bool) {
	t.Helper()
	stmts, err := parser.Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	return infoSchemaSelect(stmts[0])
}

// A statement answered over gathered tables reads them under the names
// information_schema gives them, in the connection's database, keeps the
// client's qualifiers and column names, and reads DATABASE() as its
// logical schema.
func TestGatheredQuery(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{"SELECT table_schema, COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() GROUP BY table_schema",
			"SELECT `table_schema`,COUNT(1) AS `COUNT(*)` FROM `__sg_gathered_TABLES` AS `tables` WHERE `table_schema` = BINARY 'shop' GROUP BY `table_schema`"},
		// A name = 'literal' (or IN of one) the server looks up: exact.
		// Others compare under the column's collation.
		{"SELECT COUNT(*) FROM information_schema.TABLES t WHERE 'SHOP ' = t.TABLE_SCHEMA AND (t.table_name IN ('x') AND t.engine = 'InnoDB') AND t.TABLE_NAME IN ('a', 'b')",
			"SELECT COUNT(1) AS `COUNT(*)` FROM `__sg_gathered_TABLES` AS `t` WHERE BINARY 'SHOP ' = `t`.`TABLE_SCHEMA` AND (`t`.`table_name` IN (BINARY 'x') AND `t`.`engine` = 'InnoDB') AND `t`.`TABLE_NAME` IN ('a','b')"},
		{"SELECT table_name FROM information_schema.tables WHERE table_schema = 'a' AND table_name IN (SELECT table_name FROM information_schema.columns c WHERE table_schema = 'A' AND c.table_name = 'b' AND tables.table_name = 'c')",
			"SELECT `table_name` FROM `__sg_gathered_TABLES` AS `tables` WHERE `table_schema` = BINARY 'a' AND `table_name` IN (SELECT `table_name` FROM `__sg_gathered_COLUMNS` AS `c` WHERE `table_schema` = BINARY 'A' AND `c`.`table_name` = BINARY 'b' AND `tables`.`table_name` = 'c')"},
		{"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'a' OR TABLE_SCHEMA = 'b'",
			"SELECT COUNT(1) AS `COUNT(*)` FROM `__sg_gathered_TABLES` AS `TABLES` WHERE `TABLE_SCHEMA` = 'a' OR `TABLE_SCHEMA` = 'b'"},
		{"SELECT k.column_name FROM information_schema.KEY_COLUMN_USAGE k, information_schema.REFERENTIAL_CONSTRAINTS r WHERE k.constraint_schema = 'a' AND r.constraint_schema = 'a' AND table_name = 'b'",
			"SELECT `k`.`column_name` FROM (`__sg_gathered_KEY_COLUMN_USAGE` AS `k`) JOIN `__sg_gathered_REFERENTIAL_CONSTRAINTS` AS `r` WHERE `k`.`constraint_schema` = 'a' AND `r`.`constraint_schema` = BINARY 'a' AND `table_name` = 'b'"},
		{"SELECT information_schema.tables.table_name FROM information_schema.tables t2, information_schema.tables WHERE t2.table_name = tables.table_name",
			"SELECT `tables`.`table_name` FROM (`__sg_gathered_TABLES` AS `t2`) JOIN `__sg_gathered_TABLES` AS `tables` WHERE `t2`.`table_name` = `tables`.`table_name`"},
		{"SELECT DISTINCT c.data_type FROM information_schema.COLUMNS c WHERE c.table_name IN (SELECT table_name FROM information_schema.TABLES) AND c.collation_name IN (SELECT collation_name FROM information_schema.COLLATIONS)",
			"SELECT DISTINCT `c`.`data_type` FROM `__sg_gathered_COLUMNS` AS `c` WHERE `c`.`table_name` IN (SELECT `table_name` FROM `__sg_gathered_TABLES` AS `TABLES`) AND `c`.`collation_name` IN (SELECT `collation_name` FROM `information_schema`.`COLLATIONS`)"},
	} {
		sel, names, ok := parseInfo(t, c.sql)
		if !ok {
			t.Fatalf("%s: not a SELECT over information_schema", c.sql)
		}
		var tables []string
		for _, r := range names.Refs {
			if _, about := infoTables[strings.ToUpper(r.Name)]; about {
				tables = append(tables, strings.ToUpper(r.Name))
			}
		}
		got, err := gatheredQuery(sel, tables, "shop", 0)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.sql, got, c.want)
		}
	}
}

// A gathered table is information_schema's for its columns, then the
// rows, each value typed as its column: a number or time would otherwise
// turn the column into a string (and a bare NULL into a DECIMAL).
func TestGatheredRows(t *testing.T) {
	col := func(name string, typ byte, flags uint16) []byte {
		return wire.AppendColumnDef(nil, &wire.Column{Name: name, Type: typ, Flags: flags})
	}
	rows := &nodeResult{
		defs: [][]byte{col("TABLE_NAME", mysql.MYSQL_TYPE_VAR_STRING, 0), col("TABLE_ROWS", mysql.MYSQL_TYPE_LONGLONG, mysql.UNSIGNED_FLAG),
			col("CREATE_TIME", mysql.MYSQL_TYPE_DATETIME, 0), col("COLUMN_DEFAULT", mysql.MYSQL_TYPE_BLOB, 0)},
		rows: [][][]byte{{[]byte("orders"), []byte("2147"), []byte("2026-11-29 11:47:06"), []byte(`'it''s\x'`)}, {[]byte("users"), nil, nil, nil}},
	}
	got, err := gatheredRows("TABLES", rows, 0)
	want := "SELECT * FROM information_schema.`TABLES` WHERE FALSE UNION ALL VALUES " +
		`('orders', CAST('2147' AS UNSIGNED), CAST('2026-11-29 11:47:06' AS DATETIME), '''it''''s\\x'''), ` +
		"('users', CAST(NULL AS UNSIGNED), CAST(NULL AS DATETIME), NULL)"
	if err != nil || got != want {
		t.Errorf("got  %s (%v)\nwant %s", got, err, want)
	}
	got, _ = gatheredRows("TABLES", rows, parser.ModeNoBackslashEscapes)
	if !strings.Contains(got, `'''it''''s\x'''`) {
		t.Errorf("NO_BACKSLASH_ESCAPES: %s", got)
	}
	if got, _ := gatheredRows("COLUMNS", &nodeResult{defs: rows.defs}, 0); got != "SELECT * FROM information_schema.`COLUMNS` WHERE FALSE" {
		t.Errorf("no rows: %s", got)
	}
}

// A statement whose own text names a gathered table's stand-in is refused:
// the rows would take that place too.
func TestGatheredQueryOwnPlaceholder(t *testing.T) {
	sel, _, _ := parseInfo(t, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_COMMENT = '`__sg_gathered_TABLES`' GROUP BY ENGINE")
	if got, err := gatheredQuery(sel, []string{"TABLES"}, "shop", 0); err == nil {
		t.Errorf("answered as %s", got)
	}
}

// Rows a server would read as literals are bounded: past maxRowsText the
// statement is refused, before a server refuses the packet and closes
// the connection.
func TestGatheredRowsBound(t *testing.T) {
	big := []byte(strings.Repeat("x", 1<<20))
	rows := &nodeResult{defs: [][]byte{wire.AppendColumnDef(nil, &wire.Column{Name: "TABLE_COMMENT", Type: mysql.MYSQL_TYPE_VAR_STRING})}}
	for range maxRowsText>>20 + 1 {
		rows.rows = append(rows.rows, [][]byte{big})
	}
	if _, err := gatheredRows("TABLES", rows, 0); err != errRowsTooBig {
		t.Errorf("%d MiB of rows: %v, want the refusal", len(rows.rows), err)
	}
}
