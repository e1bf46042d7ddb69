package parser

import (
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	// The parser needs a value-expression implementation; this is the
	// small one it ships for tools like this.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

var parserPool = sync.Pool{New: func() any {
	p := parser.New()
	p.SetMariaDB(true)
	return p
}}

// Parse parses one or more statements with the TiDB parser (MariaDB mode).
func Parse(sql string) ([]ast.StmtNode, error) {
	p := parserPool.Get().(*parser.Parser)
	defer parserPool.Put(p)
	stmts, _, err := p.Parse(sql, "", "")
	return stmts, err
}

// RestoreFlags is how shardgate prints an AST back to SQL: keywords upper
// case, names back-quoted, strings single-quoted.
const RestoreFlags = format.RestoreStringSingleQuotes | format.RestoreKeyWordUppercase |
	format.RestoreNameBackQuotes | format.RestoreSpacesAroundBinaryOperation |
	format.RestoreStringWithoutDefaultCharset

// Restore prints statements back to SQL, separated by semicolons.
func Restore(stmts []ast.StmtNode) (string, error) {
	var b strings.Builder
	ctx := format.NewRestoreCtx(RestoreFlags, &b)
	for i, s := range stmts {
		if i > 0 {
			b.WriteString("; ")
		}
		if err := s.Restore(ctx); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// SessionValues are what a pass-through statement must see as one MySQL
// would show them, not as the backend would.
type SessionValues struct {
	ConnectionID uint64
	// Database is the logical schema; empty means none (NULL).
	Database string
	// Schemas maps logical schema names to physical database names.
	Schemas map[string]string
}

// RewriteSession rewrites a statement for a pass-through backend: logical
// schema names become physical ones, DATABASE()/SCHEMA() and
// CONNECTION_ID() become the values the client must see (keeping the
// column name the client would get).
func RewriteSession(sql string, v *SessionValues) (string, error) {
	stmts, err := Parse(sql)
	if err != nil {
		return "", err
	}
	for _, s := range stmts {
		s.Accept(&sessionRewriter{v: v})
	}
	return Restore(stmts)
}

type sessionRewriter struct{ v *SessionValues }

func (r *sessionRewriter) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SelectField:
		// A rewritten function keeps its original text as column name.
		if f, ok := x.Expr.(*ast.FuncCallExpr); ok && x.AsName.O == "" && r.replaces(f) {
			x.AsName = ast.NewCIStr(fieldText(x))
		}
	case *ast.TableName:
		if phys, ok := r.v.Schemas[x.Schema.O]; ok {
			x.Schema = ast.NewCIStr(phys)
		}
	}
	return n, false
}

func (r *sessionRewriter) replaces(f *ast.FuncCallExpr) bool {
	switch f.FnName.L {
	case "database", "schema", "connection_id":
		return true
	}
	return false
}

func (r *sessionRewriter) Leave(n ast.Node) (ast.Node, bool) {
	f, ok := n.(*ast.FuncCallExpr)
	if !ok || len(f.Args) != 0 {
		return n, true
	}
	switch f.FnName.L {
	case "database", "schema":
		if r.v.Database == "" {
			return ast.NewValueExpr(nil, "", ""), true
		}
		return ast.NewValueExpr(r.v.Database, "utf8mb4", "utf8mb4_general_ci"), true
	case "connection_id":
		return ast.NewValueExpr(r.v.ConnectionID, "", ""), true
	}
	return n, true
}

// fieldText is the text a client sees as the column name of a select field.
func fieldText(f *ast.SelectField) string {
	if t := strings.TrimSpace(f.Text()); t != "" {
		return t
	}
	var b strings.Builder
	_ = f.Expr.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &b))
	return b.String()
}
