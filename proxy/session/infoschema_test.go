package session

import (
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
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
