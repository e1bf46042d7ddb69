package session

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
)

// evalKeyExprs gives the sharding values of an INSERT's rows that are
// expressions without columns (CURDATE(), UUID(), @user_id, 1 + 2,
// LAST_INSERT_ID()) the values a server computes for them, as literals:
// the router places rows by constants. MySQL computes such a value once
// a row too. One SELECT on the session's connection (its time zone,
// sql_mode, user variables) evaluates them all; LAST_INSERT_ID() is the
// session's (and CONNECTION_ID() the proxy's, as the router writes it).
// Expressions it cannot evaluate alike (columns, subqueries, assignments,
// side effects) stay, for the router to refuse.
func (s *Session) evalKeyExprs(stmt ast.StmtNode, snap *snapshot.Snapshot) error {
	ins, ok := stmt.(*ast.InsertStmt)
	if !ok || ins.Select != nil || len(ins.Lists) == 0 {
		return nil
	}
	schema, rules, rule := s.insertRule(stmt, snap)
	if rule == nil || rule.Column == "" || len(rules.Nodes) == 0 {
		return nil // placed without a value (global, single, default)
	}
	idx, err := s.valueIndex(ins, snap, schema, rule.Name, rule.Column)
	if err != nil || idx < 0 {
		return nil // the router says why
	}
	var rows []int // the rows whose value the server computes
	var texts []string
	for i, row := range ins.Lists {
		if idx >= len(row) || router.Constant(row[idx]) {
			continue
		}
		if f, ok := row[idx].(*ast.FuncCallExpr); ok && f.FnName.L == "last_insert_id" && len(f.Args) == 0 {
			row[idx] = ast.NewValueExpr(s.lastInsertID, "", "")
			continue
		}
		if text, ok := evaluable(row[idx]); ok {
			rows = append(rows, i)
			texts = append(texts, text)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	lits, err := s.evalOnServer(rules.Nodes[0], texts)
	if err != nil {
		return err
	}
	for k, i := range rows {
		ins.Lists[i][idx] = lits[k]
	}
	return nil
}

// evaluable returns e's text when one SELECT on any connection of the
// session computes it as the INSERT would: no columns, subqueries or
// DEFAULT, nothing that names the connection or changes anything.
func evaluable(e ast.ExprNode) (string, bool) {
	v := &columnFinder{}
	e.Accept(v)
	if v.found {
		return "", false
	}
	text := parser.RestoreExpr(e)
	var sum parser.Summary
	parser.Scan("SELECT "+text, &sum)
	const connectionBound = parser.FlagLastInsertID | parser.FlagPrevResult | parser.FlagPin | parser.FlagUserVarAssign |
		parser.FlagConnectionID | parser.FlagDatabase | parser.FlagSequence | parser.FlagSideEffect | parser.FlagUser |
		parser.FlagFile | parser.FlagDiagnostics | parser.FlagFrom
	return text, sum.Flags&connectionBound == 0 && sum.Next == 0
}

// columnFinder finds what a SELECT without FROM cannot compute.
type columnFinder struct{ found bool }

func (v *columnFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.ColumnNameExpr, *ast.SubqueryExpr, *ast.DefaultExpr, *ast.ValuesExpr,
		*ast.AggregateFuncExpr, *ast.WindowFuncExpr, *ast.ExistsSubqueryExpr:
		v.found = true
		return n, true
	}
	return n, false
}

func (v *columnFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// evalOnServer computes the expressions with the session's state on a
// connection to node, and returns them as literals of their values' types.
func (s *Session) evalOnServer(node string, texts []string) ([]ast.ExprNode, error) {
	c, err := s.Acquire(node)
	if err != nil {
		return nil, err
	}
	var lits []string
	err = c.Query("SELECT "+strings.Join(texts, ", "), func(cols []wire.ColumnRef, v [][]byte) error {
		for i := range cols {
			lit, err := s.keyLiteral(&cols[i], v[i])
			if err != nil {
				return err
			}
			lits = append(lits, lit)
		}
		return nil
	}, nil)
	s.Release(c, err != nil)
	if err != nil {
		return nil, err
	}
	if len(lits) != len(texts) {
		return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: the sharding values' SELECT gave no row")
	}
	stmts, err := parser.ParseMode("SELECT "+strings.Join(lits, ", "), s.mode())
	if err != nil {
		return nil, err
	}
	sel, ok := stmts[0].(*ast.SelectStmt)
	if !ok || len(sel.Fields.Fields) != len(texts) {
		return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: cannot read the sharding values back")
	}
	out := make([]ast.ExprNode, len(texts))
	for i, f := range sel.Fields.Fields {
		out[i] = f.Expr
	}
	return out, nil
}

// keyLiteral writes a computed value as a literal of its type: numbers as
// printed, binary strings in hex, other strings (dates too) quoted.
func (s *Session) keyLiteral(col *wire.ColumnRef, v []byte) (string, error) {
	if v == nil {
		return "NULL", nil
	}
	if lit, ok := router.NumberLiteral(col.Type, v); ok {
		return lit, nil
	}
	if col.Charset == 63 {
		return "X'" + hexOf(v) + "'", nil
	}
	return parser.LiteralText(string(v), s.mode())
}
